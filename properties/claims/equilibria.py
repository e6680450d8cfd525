"""Claim family *equilibria*: which classes of equilibria exist, and Proposition 4.1 (issue 13).

* ``pure-stationary-spe`` — for γ < 1, some pure stationary profile with its self-consistent
  minimal contracts is an SPE (:func:`solvers.equilibria.pure_stationary`); open (PAPER.md §3
  expects it can fail).
* ``stationary-spe`` — for γ < 1, some stationary SPE exists *within the searched supports*:
  pure, or mixed at one state over two minimal contracts
  (:func:`solvers.equilibria_search.mixed_stationary`); open.
* ``meta-limit-among-spes`` — where the meta-algorithm converges, its limit profile is one of
  the enumerated pure stationary SPEs, with the same values.
* ``proposition-4.1`` — nudging with ξ ≥ 2E makes an approximate agent model safe
  (:func:`check_proposition_4_1`).

Every verdict on a policy comes from :func:`theory.spe.check_spe` or the exact agent of
:mod:`theory.exact_evaluation`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import (
    _EPISODIC,
    _SMALL,
    META_MAX_ITERATIONS,
    META_TOL,
    Claim,
    Draw,
    _model_only,
)
from properties.results import PropertyResult
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import solve_backward_induction
from solvers.equilibria import EquilibriaTooLarge, pure_stationary
from solvers.equilibria_search import mixed_stationary
from solvers.solve import solve
from theory.exact_contracts import minimal_contract_exact
from theory.exact_evaluation import ExactPolicyData, evaluate_policy_exact
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import ZERO, dot, format_rational
from theory.ties import EXACT_TIES

#: Candidate profiles above which the existence claims skip an instance.
_MAX_PROFILES = 512


def check_pure_stationary_spe(model: PrincipalAgentMDP) -> PropertyResult:
    """A pure stationary SPE exists (discounted instances; PAPER.md §2–3).

    Definition: among the profiles whose recommendations are all implementable, at least one,
    with its unique self-consistent minimal contracts, passes :func:`theory.spe.check_spe` with
    tolerance 0. Violation: none does (each candidate's largest one-shot gain is listed).
    Measurements: ``candidates``, ``pure_spes``.
    """
    claim = "pure-stationary-spe"
    if model.is_episodic:
        return _not_applicable(claim, "episodic (backward induction gives a pure SPE)")
    try:
        results, searched = pure_stationary(model, max_profiles=_MAX_PROFILES)
    except EquilibriaTooLarge:
        return _not_applicable(claim, f"more than {_MAX_PROFILES} candidate profiles")
    spes = [r for r in results if r.is_spe]
    out = []
    if not spes:
        gains = ", ".join(
            f"{r.fixed_point.recommended}: {format_rational(r.check.largest_principal_gain)}"
            for r in results
        )
        out.append(f"no pure stationary SPE among {len(results)} candidates (gains {gains})")
    return _result(claim, out, candidates=searched["candidates"], pure_spes=len(spes))


def check_stationary_spe(model: PrincipalAgentMDP) -> PropertyResult:
    """A stationary SPE exists within the searched supports (discounted instances).

    Definition: a pure stationary SPE exists (:func:`check_pure_stationary_spe`), or a mixed
    one with one mixing state and a support of two minimal contracts
    (:func:`solvers.equilibria_search.mixed_stationary`, every root checked by the shared
    checker). A violation says that none exists *in these classes*; mixing at several states
    or over three contracts was not searched. Measurements: ``pure_spes``, ``mixed_spes``
    (searched only when there is no pure one).
    """
    claim = "stationary-spe"
    if model.is_episodic:
        return _not_applicable(claim, "episodic")
    try:
        results, _ = pure_stationary(model, max_profiles=_MAX_PROFILES)
        pure = sum(1 for r in results if r.is_spe)
        if pure:
            return _result(claim, [], pure_spes=pure, mixed_spes=None)
        mixed, _ = mixed_stationary(model, max_profiles=_MAX_PROFILES)
    except EquilibriaTooLarge:
        return _not_applicable(claim, f"more than {_MAX_PROFILES} candidates")
    out = (
        []
        if mixed
        else ["no pure stationary SPE and no mixed one with one mixing state and support 2"]
    )
    return _result(claim, out, pure_spes=0, mixed_spes=len(mixed))


def check_meta_limit_among_spes(model: PrincipalAgentMDP) -> PropertyResult:
    """Where the meta-algorithm converges, its limit is one of the enumerated pure SPEs.

    Definition: :func:`solvers.solve.solve` (cap :data:`META_MAX_ITERATIONS`, stopping tolerance
    :data:`META_TOL`, polished) converges → its recommendation profile is among the profiles
    :func:`solvers.equilibria.pure_stationary` certifies as SPEs, with V^p and V^a within 1e-9
    of the exact ones at every state. Not applicable where it does not converge.
    """
    claim = "meta-limit-among-spes"
    if model.is_episodic:
        return _not_applicable(claim, "episodic")
    result = solve(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    if not result.converged:
        return _not_applicable(claim, "the meta-algorithm did not converge")
    try:
        results, _ = pure_stationary(model, max_profiles=_MAX_PROFILES)
    except EquilibriaTooLarge:
        return _not_applicable(claim, f"more than {_MAX_PROFILES} candidate profiles")
    spes = {r.fixed_point.recommended: r for r in results if r.is_spe}
    limit = tuple(int(a) for a in result.solution.recommended)
    out = []
    if limit not in spes:
        out.append(f"the limit profile {limit} is not among the pure SPEs {sorted(spes)}")
    else:
        exact = spes[limit]
        for label, got, want in (
            ("V^p", result.solution.principal_values, exact.principal_values),
            ("V^a", result.solution.agent_values, exact.agent_values),
        ):
            gap = float(np.max(np.abs(np.asarray(got, float) - [float(x) for x in want])))
            if gap > 1e-9:
                out.append(f"the limit's {label} differs from the exact SPE's by {gap:.3g}")
    return _result(claim, out, pure_spes=len(spes), iterations=result.iterations)


# ------------------------------------------------------------------------ Proposition 4.1
def nudged_policy(
    model: PrincipalAgentMDP,
    error: Fraction,
    margin: Fraction,
    perturbation: list[int],
    steps: int = 8,
) -> dict[str, Any]:
    """The principal policy of an approximate agent model, built bottom-up (episodic).

    At each state, from the episode ends upwards: the agent's *true* truncated Q under the
    policy built so far, ``Q̄(s, ·)``, is perturbed to ``Q̂(s, a) = Q̄(s, a) + ε(s, a)`` with
    ``ε(s, a) = error · k / steps`` (``k = perturbation[s·A + a] ∈ [−steps, steps]``; ±steps
    are the extremes ±E); the principal recommends the action maximising its contractual q
    under Q̂ with margin ξ (its own continuation values are exact) and offers the ξ-nudged
    minimal contract for Q̂. Where no action is ξ-implementable under Q̂ (identical outcome
    distributions, say) it offers nothing and recommends Q̂'s favourite, as backward
    induction does (``fallback`` states). Returns the profile, the contracts, Q̄, Q̂ and the
    fallback states.
    """
    d = ExactPolicyData(model)
    heights = model.heights
    assert heights is not None
    n_s, n_a = d.n_states, d.n_actions
    v_a, v_p = [ZERO] * n_s, [ZERO] * n_s
    rec, pay = [0] * n_s, [[ZERO] * d.n_outcomes for _ in range(n_s)]
    q_true: list[list[Fraction]] = [[] for _ in range(n_s)]
    q_hat: list[list[Fraction]] = [[] for _ in range(n_s)]
    fallback: list[int] = []
    for s in np.argsort(heights, kind="stable").tolist():
        w_a = [sum((q * v_a[t] for t, q in d.successors[s][o]), ZERO) for o in range(d.n_outcomes)]
        w_p = [
            d.principal_reward[s][o]
            + d.gamma * sum((q * v_p[t] for t, q in d.successors[s][o]), ZERO)
            for o in range(d.n_outcomes)
        ]
        q_true[s] = [d.agent_reward[s][a] + d.gamma * dot(d.probs[s][a], w_a) for a in range(n_a)]
        q_hat[s] = [
            q_true[s][a] + error * Fraction(perturbation[s * n_a + a], steps) for a in range(n_a)
        ]
        best, best_q, best_b = -1, None, None
        for a in range(n_a):
            lp = minimal_contract_exact(q_hat[s], d.probs[s], a, margin=margin)
            if lp.implementable:
                q = dot(d.probs[s][a], w_p) - (lp.expected_payment or ZERO)
                if best_q is None or q > best_q:
                    best, best_q, best_b = a, q, lp.contract
        if best < 0:  # no action separable by ξ under Q̂: zero contract, agent's own choice
            best = q_hat[s].index(max(q_hat[s]))
            best_b = tuple(ZERO for _ in range(d.n_outcomes))
            fallback.append(s)
        assert best_b is not None
        rec[s], pay[s] = best, list(best_b)
        # the agent's true response to this contract (ties to the recommendation)
        utility = [q_true[s][a] + dot(d.probs[s][a], pay[s]) for a in range(n_a)]
        act = best if utility[best] == max(utility) else utility.index(max(utility))
        v_a[s] = utility[act]
        v_p[s] = dot(d.probs[s][act], [w - b for w, b in zip(w_p, pay[s], strict=True)])
    return {
        "recommended": rec,
        "contracts": pay,
        "q_true": q_true,
        "q_hat": q_hat,
        "fallback": sorted(fallback),
    }


def check_proposition_4_1(
    model: PrincipalAgentMDP,
    *,
    error: Fraction | str = Fraction(1, 10),
    perturbation: list[int] | None = None,
    steps: int = 8,
    margin: Fraction | str | None = None,
) -> PropertyResult:
    """Proposition 4.1 (PAPER.md §3): nudging with ξ = 2E protects against an agent-model error E.

    Reading (episodic instances): the principal's policy ρ̂ (:func:`nudged_policy`) offers in
    every state the ξ-nudged minimal contract for an estimate Q̂ with
    ``‖Q̂(s, ·) − Q̄_ρ̂(s, ·)‖∞ ≤ E`` of the agent's *true* truncated Q under ρ̂ itself, with
    ξ = 2E. Claims, each derived from the incentive constraints of the LP (PAPER.md §1):

    1. **the exact agent follows every recommendation**: ``E_g[b] + Q̂(g) ≥ E_a[b] + Q̂(a) + ξ``
       and ``|Q̂ − Q̄| ≤ E`` give ``E_g[b] + Q̄(g) ≥ E_a[b] + Q̄(a) + ξ − 2E ≥ E_a[b] + Q̄(a)``;
    2. **the extra payment is small**: the ξ-nudged minimal contract for Q̄ with margin ξ + 2E,
       ``b⁺``, satisfies Q̂'s constraints with margin ξ (same chain), so
       ``E_g[b] ≤ c_{ξ+2E}(Q̄) ≤ c_ξ(Q̄) + 2E·Λ(s)`` where ``c_m`` is the LP's cost at margin m
       and ``Λ(s) = Σ_a λ_a`` for an optimal dual λ at margin ξ + 2E (λ stays dual feasible at
       margin ξ, so weak duality gives the second inequality). Summed along the agent's path,
       ``V^p_ρ̂(s0) ≥ U(s0) − 2E · E[Σ_t γ^t Λ(s_t)]``, U the value of the same behaviour paying
       only ``c_ξ(Q̄)`` in every state.

    States where no action is ξ-implementable under Q̂ get no nudged contract (``fallback``,
    counted in the measurement ``fallback_states``): the claim says nothing there.

    A comparison with the ξ-nudged SPE's value is *not* bounded by E alone (the agent's rents
    propagate upstream with likelihood-ratio leverage); it is reported as the measurement
    ``gap_to_nudged_spe``. ``margin`` overrides ξ (default 2E): with ξ < 2E claim 1 fails
    (pinned: tests/regressions/proposition-4.1-margin-below-2E.json). ``perturbation`` default:
    +E on action 0 and −E on every other action.
    """
    claim = "proposition-4.1"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    n_s, n_a = model.n_states, model.n_actions
    if perturbation is None:
        perturbation = [steps if a == 0 else -steps for _ in range(n_s) for a in range(n_a)]
    error = to_fraction(error)
    margin = 2 * error if margin is None else to_fraction(margin)
    built = nudged_policy(model, error, margin, perturbation, steps)
    evaluation = evaluate_policy_exact(model, built["recommended"], built["contracts"])
    out: list[str] = []
    d = ExactPolicyData(model)
    q_bar = evaluation.q_bar.tolist()
    if q_bar != built["q_true"]:  # the construction's own bookkeeping (not the claim)
        out.append("internal: the bottom-up Q̄ differs from the exact agent's")
    for s in range(n_s):
        if not evaluation.followed[s] and s not in built["fallback"]:
            out.append(
                f"state {model.states[s]}: the exact agent does not follow (E = "
                f"{format_rational(error)}, ξ = {format_rational(margin)})"
            )
    extra = [ZERO] * n_s
    for s in range(n_s):
        g = built["recommended"][s]
        paid = dot(d.probs[s][g], built["contracts"][s])
        plain = minimal_contract_exact(q_bar[s], d.probs[s], g, margin=margin)
        wide = minimal_contract_exact(q_bar[s], d.probs[s], g, margin=margin + 2 * error)
        if plain.expected_payment is None or wide.expected_payment is None:
            continue
        leverage = sum(wide.certificate, ZERO)
        bound = plain.expected_payment + 2 * error * leverage
        if paid > bound:
            out.append(
                f"state {model.states[s]}: pays {format_rational(paid)} > c_ξ(Q̄) + 2EΛ = "
                f"{format_rational(bound)}"
            )
        extra[s] = paid - plain.expected_payment
    nudged = solve_backward_induction(model, exact=True, ties=EXACT_TIES.with_(margin=margin))
    s0 = model.initial_state
    gap = nudged.principal_values[s0] - evaluation.principal_values[s0]
    return _result(
        claim,
        out,
        error=float(error),
        fallback_states=len(built["fallback"]),
        largest_extra_payment=float(max(extra)),
        gap_to_nudged_spe=float(gap),
    )


@st.composite
def _perturbed(draw: Draw) -> dict[str, Any]:
    """An episodic instance, an error E and an adversarial perturbation: Hypothesis draws each
    ``k(s, a) ∈ [−8, 8]`` (ε = E·k/8), preferring the extremes ±E (half the draws are ±8)."""
    model = draw(pst.episodic_instances(**_EPISODIC, exact=True))
    error = draw(
        st.sampled_from([Fraction(1, 100), Fraction(1, 20), Fraction(1, 10), Fraction(1, 4)])
    )
    size = model.n_states * model.n_actions
    extreme = st.sampled_from([-8, 8])
    entry = st.one_of(extreme, st.integers(-8, 8))
    return {
        "model": model,
        "error": error,
        "perturbation": draw(st.lists(entry, min_size=size, max_size=size)),
    }


PURE_STATIONARY_SPE = Claim(
    "pure-stationary-spe",
    "discounted: a pure stationary SPE exists",
    "§2–3 SPE in Markov policies; open",
    "some profile of implementable recommendations with its self-consistent minimal "
    "contracts passes the exact SPE check (tolerance 0)",
    _model_only(pst.discounted_instances(**_SMALL)),
    check_pure_stationary_spe,
    expected="open",
)
STATIONARY_SPE = Claim(
    "stationary-spe",
    "discounted: a stationary SPE exists (pure, or mixed at one state over two contracts)",
    "§2–3; open",
    "a pure stationary SPE, or a mixed one with one mixing state and support 2 (exact "
    "mixing probability, split instance passes the exact SPE check); no other supports",
    _model_only(pst.discounted_instances(**_SMALL)),
    check_stationary_spe,
    expected="open",
)
META_LIMIT_AMONG_SPES = Claim(
    "meta-limit-among-spes",
    "discounted: where the meta-algorithm converges, its limit is an enumerated pure SPE",
    "§3 Theorem 3.4",
    f"solve() with tol {META_TOL:g}, ≤ {META_MAX_ITERATIONS} rounds; limit profile among the "
    "exact pure stationary SPEs, values within 1e-9",
    _model_only(pst.discounted_instances(**_SMALL)),
    check_meta_limit_among_spes,
)
PROPOSITION_4_1 = Claim(
    "proposition-4.1",
    "approximate agent model (error E) with nudging ξ = 2E: the agent follows, extra pay ≤ 2EΛ",
    "§3 Proposition 4.1",
    "episodic; contracts ξ-minimal for Q̂ within E of the true Q̄ under the same policy "
    "(adversarial ε); exact agent follows everywhere; E_g[b] ≤ c_ξ(Q̄) + 2E·Σλ",
    _perturbed(),
    check_proposition_4_1,
)

__all__ = [
    "META_LIMIT_AMONG_SPES",
    "PROPOSITION_4_1",
    "PURE_STATIONARY_SPE",
    "STATIONARY_SPE",
    "check_meta_limit_among_spes",
    "check_proposition_4_1",
    "check_pure_stationary_spe",
    "check_stationary_spe",
    "nudged_policy",
]
