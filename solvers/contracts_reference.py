"""Minimal-implementation contract, readable cvxpy reference (PAPER.md §1).

One state at a time, written to read like the LP of PAPER.md §1::

    b*(s, a^p) = argmin_{b ≥ 0}  E_{o ~ 𝒪(s, a^p)}[b(o)]
                 s.t.  E_{𝒪(s, a^p)}[b] + Q̄(s, a^p)  ≥  E_{𝒪(s, a)}[b] + Q̄(s, a) + ξ
                       for every a ≠ a^p,

with the nudging margin ``ξ ≥ 0`` (PAPER.md §3, Proposition 4.1). The constraints are weak
inequalities because at indifference the agent takes the recommended action (PAPER.md §1,
"Ties"). An infeasible LP means ``a^p`` is unimplementable, and that is reported, not dropped.

This module is deliberately slow and plain: it is the independent reference against which the
fast vectorised path (:mod:`solvers.contracts`) and the exact rational solver
(:mod:`theory.exact_contracts`) are tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cvxpy as cp
import numpy as np
import numpy.typing as npt

from solvers.contracts import ContractSolution

#: HiGHS tolerances used by default: tight enough that contracts meet the incentive
#: constraints to ~1e-10, loose enough that exact ties (violations ~1e-17 from float rounding)
#: count as feasible.
DEFAULT_HIGHS_OPTIONS: Mapping[str, Any] = {
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
}

_OPTIMAL = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
_INFEASIBLE = (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE)


def minimal_contract_cvxpy(
    q_bar: npt.ArrayLike,
    outcome_probs: npt.ArrayLike,
    recommended: int,
    *,
    margin: float = 0.0,
    solver: str = "HIGHS",
    solver_options: Mapping[str, Any] | None = None,
) -> ContractSolution:
    """Minimal implementation of ``recommended`` in one state, by cvxpy (PAPER.md §1).

    Parameters
    ----------
    q_bar : (A,) the agent's truncated Q-values Q̄(s, ·).
    outcome_probs : (A, O) outcome distributions 𝒪(s, a)(o).
    recommended : the action a^p to implement.
    margin : nudging ξ ≥ 0: the agent must prefer a^p by at least ξ.
    solver : a cvxpy LP solver name (default HiGHS).
    solver_options : passed to the solver; default :data:`DEFAULT_HIGHS_OPTIONS` for HiGHS and
        the solver's own defaults otherwise. The feasibility tolerance decides float ties.

    Returns
    -------
    ContractSolution
        With 0-d ``implementable`` and ``expected_payment`` and a ``(O,)`` contract (zeros and
        ``nan`` when unimplementable), as :func:`solvers.contracts.minimal_contracts` returns
        for a single state.
    """
    q = np.asarray(q_bar, dtype=np.float64)
    probs = np.asarray(outcome_probs, dtype=np.float64)
    if q.ndim != 1 or probs.ndim != 2 or probs.shape[0] != q.shape[0]:
        raise ValueError(f"shapes do not match: q_bar {q.shape}, outcome_probs {probs.shape}")
    n_actions, n_outcomes = probs.shape
    if not 0 <= recommended < n_actions:
        raise ValueError(f"recommended action {recommended} out of range [0, {n_actions})")
    if margin < 0:
        raise ValueError(f"margin must be non-negative, got {margin}")
    if solver_options is None:
        solver_options = DEFAULT_HIGHS_OPTIONS if solver == "HIGHS" else {}

    a_p = recommended
    b = cp.Variable(n_outcomes, nonneg=True)  # limited liability: b(o) ≥ 0
    expected_pay = probs @ b  # E_{𝒪(s, a)}[b] for every action a
    incentive_compatible = [
        expected_pay[a_p] + q[a_p] >= expected_pay[a] + q[a] + margin
        for a in range(n_actions)
        if a != a_p
    ]
    problem = cp.Problem(cp.Minimize(expected_pay[a_p]), incentive_compatible)
    problem.solve(solver=solver, **solver_options)

    if problem.status in _INFEASIBLE:
        return ContractSolution(np.zeros(n_outcomes), np.array(False), np.array(np.nan))
    if problem.status not in _OPTIMAL or b.value is None:
        raise RuntimeError(f"cvxpy/{solver} returned status {problem.status!r}")
    contract = np.maximum(np.asarray(b.value, dtype=np.float64), 0.0)
    return ContractSolution(contract, np.array(True), np.array(float(probs[a_p] @ contract)))
