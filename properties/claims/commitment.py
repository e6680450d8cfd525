"""Claim family *commitment*: the SPE value never exceeds the commitment optimum (PAPER.md §2).

The optimum itself is computed in the solvers layer (:func:`solvers.commitment.commitment_optimum`,
and :func:`solvers.commitment.tree_commitment` on tree-shaped instances beyond the LP's size
limit); :func:`check_commitment` re-checks its policy exactly and compares it with the SPE on
the generated small instances, :func:`check_commitment_tree` on the paper's trees (PAPER.md §6),
where it also measures the mechanism of the gap (:func:`tree_mechanism`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import _EPISODIC, DEFAULT_TOL, Claim, Draw, SPESolver, _model_only
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import solve_backward_induction
from solvers.commitment import (
    MAX_COMMITMENT_PROFILES,
    MAX_TREE_PROFILES,
    CommitmentOptimum,
    TreeCommitment,
    commitment_optimum,
    commitment_profiles,
    tree_commitment,
    tree_shape_problem,
)
from theory.exact_evaluation import evaluate_policy_exact
from theory.generators import paper_tree
from theory.model import PrincipalAgentMDP, to_fraction
from theory.spe import PRINCIPAL_DEVIATION, check_spe, minimal_contract
from theory.ties import EXACT_TIES


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

# ============================================================================ paper trees
#: Profiles confirmed by the joint LP on a tree above the LP's size limit (the best by value).
TREE_LP_CANDIDATES = 8


@dataclass(frozen=True)
class NonCredible:
    """A state where the committed recommendation is not the principal's choice in its subgame.

    Attributes
    ----------
    state, name, level : the state, its name and its depth in the tree (root 0).
    committed : the committed recommendation ``g(s)``.
    preferred : the principal's best action at ``s`` given the committed downstream values
        (each action priced by its minimal contract; :func:`theory.spe.check_spe`).
    spe_action : the SPE's action at ``s`` (given the SPE's own downstream values).
    gain : what the principal would gain at ``s`` by switching to ``preferred`` (> 0).
    rent_saved : ``V^a(s)`` under ``preferred`` minus under ``committed`` (both minimal, same
        downstream): positive when the committed recommendation leaves the agent less rent.
    """

    state: int
    name: str
    level: int
    committed: int
    preferred: int
    spe_action: int
    gain: Fraction
    rent_saved: Fraction


def tree_mechanism(
    model: PrincipalAgentMDP, optimum: TreeCommitment, spe_recommended: Any
) -> tuple[list[str], list[NonCredible]]:
    """Check the committed policy exactly and find its non-credible recommendations.

    The committed policy (``optimum``'s profile with its self-consistent minimal contracts) is
    judged by :func:`theory.spe.check_spe` with exact ties: any kind of violation other than a
    principal deviation (not followed, negative pay, overpayment against the minimal contract,
    value) is returned as a problem; each principal deviation marks a non-credible state.
    """
    rec = optimum.recommended
    contracts = np.array(optimum.contracts, dtype=object)
    check = check_spe(model, rec, contracts, ties=EXACT_TIES)
    reachable = np.asarray(model.reachable, dtype=bool)
    problems = [
        f"committed policy at {v.state_name}: {v.message}"
        for v in check.violations
        if v.kind != PRINCIPAL_DEVIATION and (v.state is None or reachable[v.state])
    ]
    if check.states[model.initial_state].principal_value != optimum.value:
        problems.append(
            f"committed policy earns {check.states[model.initial_state].principal_value}, "
            f"not the optimum {optimum.value}"
        )
    q_bar = check.evaluation.q_bar
    data = model.exact_data()
    found = []
    for v in check.violations:
        if v.kind != PRINCIPAL_DEVIATION or v.state is None or not reachable[v.state]:
            continue
        state = check.states[v.state]
        q = [Fraction(x) for x in q_bar[v.state]]
        probs = data.outcome_probs[v.state].tolist()
        alternative = minimal_contract(q, probs, state.best_action, Fraction(0))
        alt_value = q[state.best_action] + (alternative.expected_payment or Fraction(0))
        found.append(
            NonCredible(
                v.state,
                state.name,
                int(np.log2(v.state + 1)),
                int(rec[v.state]),
                int(state.best_action),
                int(spe_recommended[v.state]),
                v.amount,
                alt_value - state.agent_value,
            )
        )
    return problems, found


def check_commitment_tree(
    model: PrincipalAgentMDP,
    *,
    commitment: Callable[[PrincipalAgentMDP], TreeCommitment] = tree_commitment,
    lp: Callable[..., CommitmentOptimum] = commitment_optimum,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Commitment vs SPE on the paper's trees, with the mechanism (PAPER.md §2 note [D], §6).

    Claim: on a tree-shaped instance with two actions (the random binary trees of the paper's
    Fig. 3, :func:`theory.generators.paper_tree`), (1) every recommendation profile's
    commitment-LP optimum equals its value under its own self-consistent minimal contracts (the
    lemma of :mod:`solvers.commitment`, proved there), so the commitment optimum ``C`` is the
    best such value over all profiles; (2) ``V^p_SPE(s0) ≤ C``; (3) the committed policy is
    genuine: with its minimal contracts the exact agent follows it everywhere and it earns ``C``
    exactly; (4) a strictly positive gap comes with at least one *non-credible*
    recommendation, a state whose committed action is not the principal's best given the
    committed downstream values (otherwise the committed policy would pass the one-shot
    deviation check, i.e. be an SPE; on generic trees there are no principal ties, so the SPE
    value is unique).

    Definition: ``C`` from :func:`solvers.commitment.tree_commitment` (all profiles bottom-up in
    floats, exact among those within 1e-9 of the best). (1) With at most
    :data:`~solvers.commitment.MAX_COMMITMENT_PROFILES` profiles (depth 3) the joint LP of
    :func:`solvers.commitment.commitment_optimum` is solved for *every* profile and each LP
    value must match the profile's minimal-contract value within ``tol``; above it (depth 4:
    32,768 profiles) it is solved for the :data:`TREE_LP_CANDIDATES` best, which must match too
    (the lemma is the upper bound for the others: an LP value never exceeds the profile's
    minimal-contract value, which is below the best). (2) exact backward induction. (3) and
    (4) :func:`theory.spe.check_spe` with exact ties on the committed policy.

    Measurements: ``gap`` (exact ``C − V^p_SPE(s0)``), ``relative_gap`` (``gap / V^p_SPE``),
    ``beats_depth{d}`` (1 when the gap exceeds ``tol``), ``non_credible`` (count),
    ``non_credible_less_rent`` (those where the committed action leaves the agent less
    ``V^a(s)`` than the preferred one), ``non_credible_spe_action`` (those where the
    preferred action is also the SPE's action there), ``lp_max_difference`` (largest
    ``|LP − minimal-contract|`` over the profiles solved), ``lp_contract_difference`` (largest
    ``|b_LP − b_minimal|`` of the LP's own optimal contracts on the optimal profile: whether
    HiGHS happens to return the minimal contracts, which the lemma does not require).
    """
    claim = "commitment-paper-trees"
    problem = tree_shape_problem(model)
    if problem is not None:
        return _not_applicable(claim, problem)
    if commitment_profiles(model) > MAX_TREE_PROFILES:
        return _not_applicable(claim, f"more than {MAX_TREE_PROFILES} profiles")
    optimum = commitment(model)
    s0 = model.initial_state
    spe = solve_backward_induction(model, exact=True)
    spe_value = Fraction(spe.principal_values[s0])
    out: list[str] = []
    gap = optimum.value - spe_value
    if gap < 0:
        out.append(f"SPE value {_f(spe_value)} exceeds the commitment optimum {_f(optimum.value)}")
    profiles = optimum.profiles
    values = profiles.principal_values
    if commitment_profiles(model) <= MAX_COMMITMENT_PROFILES:
        chosen = np.arange(len(values))
    else:
        chosen = np.argsort(-values, kind="stable")[:TREE_LP_CANDIDATES]
    solved = lp(model, profiles=[tuple(int(a) for a in profiles.actions[k]) for k in chosen])
    finite = np.isfinite(values[chosen])
    if not np.array_equal(finite, np.isfinite(solved.values)):
        out.append("the LP and the bottom-up evaluation disagree on which profiles are feasible")
    difference = float(np.max(np.abs(solved.values[finite] - values[chosen][finite]), initial=0))
    if difference > tol:
        out.append(
            f"a profile's LP optimum differs from its minimal-contract value by {difference:.3g}"
        )
    if abs(solved.value - float(optimum.value)) > tol:
        out.append(
            f"LP optimum {_f(solved.value)} among the solved profiles, not C = {_f(optimum.value)}"
        )
    lp_contracts = solved.contracts[np.flatnonzero(model.reachable)]
    minimal = np.array(optimum.contracts, dtype=float)[np.flatnonzero(model.reachable)]
    same_profile = np.array_equal(solved.recommended, optimum.recommended)
    problems, non_credible = tree_mechanism(model, optimum, spe.recommended)
    out += problems
    if gap > tol and not non_credible:
        out.append(f"gap {_f(gap)} > tol without a non-credible recommendation")
    depth = int(np.log2(model.n_states + 1))
    measurements: dict[str, Any] = {
        "gap": float(gap),
        "relative_gap": float(gap / spe_value) if spe_value > 0 else float("nan"),
        f"beats_depth{depth}": float(gap > tol),
        "non_credible": len(non_credible),
        "non_credible_less_rent": sum(1 for n in non_credible if n.rent_saved > 0),
        "non_credible_spe_action": sum(1 for n in non_credible if n.preferred == n.spe_action),
        "lp_max_difference": difference,
        "lp_profiles": len(chosen),
    }
    if same_profile:
        measurements["lp_contract_difference"] = float(np.max(np.abs(lp_contracts - minimal)))
    for n in non_credible:
        key = f"non_credible_level{n.level}"
        measurements[key] = measurements.get(key, 0) + 1
    return _result(claim, out, **measurements)


@st.composite
def _paper_trees(draw: Draw) -> dict[str, Any]:
    depth = draw(st.sampled_from((3, 4)))
    return {"model": paper_tree(depth, draw(st.integers(0, 2**32 - 1)))}


COMMITMENT_PAPER_TREES = Claim(
    "commitment-paper-trees",
    "on the paper's trees the commitment optimum is the best minimal-contract profile; a "
    "positive gap over the SPE comes from non-credible recommendations",
    "§2 note [D], §6",
    "every profile's joint LP = its self-consistent minimal-contract value (all profiles at "
    "depth 3, the 8 best at depth 4); C ≥ V^p_SPE(s0) exactly; committed policy exact; "
    "gap > 0 ⇒ a principal deviation at some state",
    _paper_trees(),
    check_commitment_tree,
    witness="gap",
)


def _given(optimum: TreeCommitment) -> Callable[[PrincipalAgentMDP], TreeCommitment]:
    def given(_model: PrincipalAgentMDP) -> TreeCommitment:
        return optimum

    return given


def survey_paper_trees(depths: Iterable[int], seeds: Iterable[int]) -> Iterable[dict[str, Any]]:
    """:func:`check_commitment_tree` on ``paper_tree(depth, seed)`` for every pair, one record
    each: depth, seed, verdict, measurements, and the non-credible states (name, level,
    committed / preferred / SPE action, gain, rent saved) — the fixed-seed table of the report
    (``experiments/tree/commitment_gap.py``)."""
    seed_list = list(seeds)
    for depth in depths:
        for seed in seed_list:
            model = paper_tree(depth, seed)
            optimum = tree_commitment(model)
            spe = solve_backward_induction(model, exact=True)
            result = check_commitment_tree(model, commitment=_given(optimum))
            _, states = tree_mechanism(model, optimum, spe.recommended)
            yield {
                "depth": depth,
                "seed": seed,
                "holds": result.holds,
                "violations": list(result.violations),
                "measurements": dict(result.measurements),
                "spe_value": str(Fraction(spe.principal_values[model.initial_state])),
                "commitment_value": str(optimum.value),
                "profile": optimum.recommended.tolist(),
                "spe_profile": [int(a) for a in spe.recommended],
                "non_credible": [
                    {
                        "state": n.name,
                        "level": n.level,
                        "committed": model.actions[n.committed],
                        "preferred": model.actions[n.preferred],
                        "spe_action": model.actions[n.spe_action],
                        "gain": float(n.gain),
                        "rent_saved": float(n.rent_saved),
                    }
                    for n in states
                ],
            }


__all__ = [
    "COMMITMENT_PAPER_TREES",
    "COMMITMENT_VS_SPE",
    "TREE_LP_CANDIDATES",
    "NonCredible",
    "check_commitment",
    "check_commitment_tree",
    "survey_paper_trees",
    "tree_mechanism",
]
