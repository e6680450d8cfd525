"""Claim family *commitment*: the SPE value never exceeds the commitment optimum (PAPER.md §2).

The optimum itself is computed in the solvers layer (:func:`solvers.commitment.commitment_optimum`);
:func:`check_commitment` re-checks its policy exactly and compares it with the SPE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from properties import strategies as pst
from properties.claims.common import _EPISODIC, DEFAULT_TOL, Claim, SPESolver, _model_only
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import solve_backward_induction
from solvers.commitment import CommitmentOptimum, commitment_optimum
from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP, to_fraction


def check_commitment(
    model: PrincipalAgentMDP,
    *,
    spe_solver: SPESolver = solve_backward_induction,
    commitment: Callable[[PrincipalAgentMDP], CommitmentOptimum] = commitment_optimum,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Commitment vs SPE: the SPE value never exceeds the commitment optimum (PAPER.md §2).

    Claim (PAPER.md §2, note [D]): a principal who can commit can do at least as well as in the
    SPE (the SPE policy is one policy it could commit to), and sometimes strictly better.

    Definition (episodic instances, states reachable from ``s0``): ``V^p_SPE(s0) ≤ C + tol``
    where ``C`` is :func:`commitment_optimum`; and ``C`` is genuine: its policy, evaluated
    exactly against the best-responding agent (tie tolerance ``tol``), is followed at every
    reachable state, pays nothing negative and earns ``C`` within ``tol``. Measurement: the gap
    ``C − V^p_SPE(s0)``.
    """
    claim = "commitment-vs-spe"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    spe = spe_solver(model)
    best = commitment(model)
    s0 = model.initial_state
    out: list[str] = []
    spe_value = float(spe.principal_values[s0])
    if spe_value > best.value + tol:
        out.append(f"SPE value {_f(spe_value)} exceeds the commitment optimum {_f(best.value)}")
    reachable = np.flatnonzero(model.reachable)
    rec = np.where(best.recommended >= 0, best.recommended, 0)
    if np.any(best.contracts < 0):
        out.append(f"the commitment policy pays negative amounts: {best.contracts.tolist()}")
    evaluation = evaluate_policy_exact(model, rec, best.contracts, tie_tolerance=to_fraction(tol))
    for s in reachable:
        if not evaluation.followed[s]:
            out.append(f"commitment policy: the agent does not follow at {model.states[s]}")
    earned = float(evaluation.principal_values[s0])
    if abs(earned - best.value) > tol:
        out.append(f"commitment policy earns {_f(earned)}, not the claimed {_f(best.value)}")
    return _result(
        claim,
        out,
        gap=best.value - spe_value,
        profiles=best.profiles,
        feasible_profiles=best.feasible,
    )


COMMITMENT_VS_SPE = Claim(
    "commitment-vs-spe",
    "SPE value ≤ commitment optimum (the gap can be positive)",
    "§2 note [D]",
    "enumerate profiles on reachable states, one stacked HiGHS LP each; optimum's "
    "policy re-checked exactly; V^p_SPE(s0) ≤ C + tol",
    _model_only(pst.episodic_instances(**{**_EPISODIC, "max_states": 4, "max_actions": 2})),
    check_commitment,
    witness="gap",
)

__all__ = ["COMMITMENT_VS_SPE", "check_commitment"]
