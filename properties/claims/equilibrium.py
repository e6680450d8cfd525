"""Claim family *equilibrium*: backward induction returns an SPE (PAPER.md §2).

:func:`spe_violations` is the theorem properties' view of the one exact SPE checker,
:func:`theory.spe.check_spe`; :func:`check_spe` (the ``spe`` claim) applies it to a solver's
output with sampled off-path contracts. :func:`default_spe_solver` is the reference SPE the
other families compare against, from the one solve entry point :func:`solvers.solve.solve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from properties import strategies as pst
from properties.claims.common import (
    _EPISODIC,
    DEFAULT_TOL,
    META_MAX_ITERATIONS,
    META_TOL,
    Claim,
    IntArray,
    SPESolver,
    _with_seed,
)
from properties.results import PropertyResult
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.solve import solve
from theory.model import PrincipalAgentMDP
from theory.spe import check_spe as check_one
from theory.ties import Ties


def spe_violations(
    model: PrincipalAgentMDP,
    recommended: Sequence[int] | IntArray,
    contracts: Any,
    *,
    claimed_principal_values: Any = None,
    claimed_agent_values: Any = None,
    claimed_q_bar: Any = None,
    offpath: Sequence[tuple[int, Sequence[Any]]] = (),
    states: Sequence[int] | None = None,
    tol: float = DEFAULT_TOL,
) -> tuple[list[str], dict[str, Any]]:
    """Every way the principal policy ``(recommended, contracts)`` fails to be an SPE.

    The theorem properties' view of the one SPE checker, :func:`theory.spe.check_spe` (its
    docstring defines every violation and proves *no violation ⇔ SPE*), with both tolerances
    at ``tol`` (default :data:`~properties.claims.common.DEFAULT_TOL` = 1e-7: the properties
    judge the library's float solvers on generated instances whose values reach O(10) through
    likelihood-ratio leverage up to ~10). The claimed values and ``Q̄`` are checked too, and
    each sampled off-path contract in ``offpath`` is checked for the solver's own agent
    response and for a principal gain.

    Returns
    -------
    (violations, measurements)
        One line per violation; ``principal_value`` (V^p at the initial state) and
        ``largest_principal_gain`` (the best one-shot deviation's gain, ≥ 0).
    """
    ties = Ties(agent_tol=tol, principal_tol=tol)
    check = check_one(
        model,
        recommended,
        contracts,
        ties=ties,
        principal_values=claimed_principal_values,
        agent_values=claimed_agent_values,
        claimed_q_bar=claimed_q_bar,
        offpath=offpath,
        states=states,
    )
    return [v.message for v in check.violations], {
        "principal_value": float(check.evaluation.principal_values[model.initial_state]),
        "largest_principal_gain": float(check.largest_principal_gain),
    }


def _offpath_contracts(
    model: PrincipalAgentMDP,
    recommended: Sequence[int],
    contracts: Any,
    contracts_all: Any,
    seed: int,
    n_random: int,
) -> list[tuple[int, list[float]]]:
    """Off-path contracts per state: zero pay, the on-path contract 1% short and 1% over,
    every other action's minimal contract, and ``n_random`` random grid contracts."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, list[float]]] = []
    on_path = np.asarray(contracts, dtype=np.float64)
    every = np.asarray(contracts_all, dtype=np.float64) if contracts_all is not None else None
    for s in range(model.n_states):
        candidates = [np.zeros(model.n_outcomes), on_path[s] * 0.99, on_path[s] * 1.01]
        if every is not None:
            candidates += [every[s, a] for a in range(model.n_actions) if a != recommended[s]]
        candidates += [rng.integers(0, 41, model.n_outcomes) / 10 for _ in range(n_random)]
        out += [(s, [float(x) for x in c]) for c in candidates]
    return out


def check_spe(
    model: PrincipalAgentMDP,
    *,
    solver: SPESolver = solve_backward_induction,
    offpath_seed: int = 0,
    n_offpath: int = 2,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Backward induction returns a subgame-perfect equilibrium (PAPER.md §2).

    Claim (PAPER.md §2): the solver's policy and agent strategy form an SPE: the agent
    best-responds at every ``(s, b)``, on and off the path, and the principal's contract
    maximises its value at every state given the agent's strategy.

    Definition: :func:`spe_violations` at every state, with the solver's claimed ``V^p``,
    ``V^a`` and ``Q̄``, and off-path contracts per state: zero pay, the on-path contract 1%
    short and 1% over, every other action's minimal contract, and ``n_offpath`` random grid
    contracts (seeded by ``offpath_seed``). Episodic instances only.
    """
    claim = "spe"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance (backward induction needs a DAG)")
    solution = solver(model)
    offpath = _offpath_contracts(
        model,
        solution.recommended.tolist(),
        solution.contracts,
        solution.contracts_all,
        offpath_seed,
        n_offpath,
    )
    out, measured = spe_violations(
        model,
        solution.recommended,
        solution.contracts,
        claimed_principal_values=solution.principal_values,
        claimed_agent_values=solution.agent_values,
        claimed_q_bar=solution.q_bar,
        offpath=offpath,
        tol=tol,
    )
    return _result(claim, out, offpath_contracts=len(offpath), **measured)


def default_spe_solver(model: PrincipalAgentMDP) -> SPESolution | None:
    """The reference SPE of the other families, from :func:`solvers.solve.solve`: backward
    induction on episodic instances, the meta-algorithm (cap :data:`META_MAX_ITERATIONS`,
    stopping tolerance :data:`META_TOL`) otherwise; ``None`` when it does not converge."""
    result = solve(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    return result.solution if result.converged else None


SPE = Claim(
    "spe",
    "backward induction returns an SPE",
    "§2 Solution concept",
    "exact best-responding agent; no agent gain > tol at the offered and at sampled "
    "off-path contracts; no principal gain from any action's exact minimal contract "
    "or a sampled contract; claimed V^p, V^a, Q̄ exact",
    _with_seed(pst.episodic_instances(**_EPISODIC), "offpath_seed"),
    check_spe,
)

__all__ = ["SPE", "check_spe", "default_spe_solver", "spe_violations"]
