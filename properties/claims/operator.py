"""Claim family *operator*: Theorem 3.4, the principal-Q operator J (PAPER.md §3).

J is a γ-contraction (:func:`check_contraction`, readings R1 and R2) and its fixed point gives
the meta-algorithm's SPE (:func:`check_operator_fixed_point`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import (
    _SMALL,
    DEFAULT_TOL,
    FIXED_POINT_ITERATIONS,
    META_MAX_ITERATIONS,
    META_TOL,
    R1_DISCOUNTS,
    Claim,
    Draw,
    FloatArray,
    IntArray,
    MetaSolver,
    Operator,
    _model_only,
)
from properties.claims.equilibrium import spe_violations
from properties.claims.meta_algorithm import _followed_values, meta_tolerance
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.contracts import minimal_contracts
from solvers.evaluation import evaluate_policy
from solvers.meta_algorithm import (
    agent_q_bar_minimal,
    greedy,
    meta_algorithm,
    principal_q_operator,
    principal_step,
    sup_norm_distance,
)
from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP, to_fraction


def _zero_contract_q_bar(model: PrincipalAgentMDP) -> FloatArray:
    """Q̄ of the agent facing zero contracts (the meta-algorithm's first agent step)."""
    evaluation = evaluate_policy(
        model, np.full(model.n_states, -1), np.zeros((model.n_states, model.n_outcomes))
    )
    return np.asarray(evaluation.q_bar, dtype=np.float64)


def check_contraction(
    model: PrincipalAgentMDP,
    q1: FloatArray,
    q2: FloatArray,
    *,
    reading: str = "R2",
    operator: Operator = principal_q_operator,
    agent_q_bar: FloatArray | None = None,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Theorem 3.4, part 1: the principal-Q operator is a γ-contraction in the sup-norm.

    Claim (PAPER.md §3, Theorem 3.4 [P in substance, U operator and modulus]): for γ < 1,
    ``‖J q1 − J q2‖∞ ≤ γ ‖q1 − q2‖∞``.

    Definition: ``J`` is :func:`solvers.meta_algorithm.principal_q_operator` with the given
    reading. R1: the agent's ``Q̄`` is re-solved for ``greedy(q)`` implemented minimally
    everywhere; R2: ``Q̄`` is held fixed (default: the agent's ``Q̄`` facing zero contracts,
    the meta-algorithm's first agent step). The norm is the sup-norm over implementable
    pairs; if the unimplementable (−∞) patterns of ``J q1`` and ``J q2`` differ the distance
    is ∞. Holds when ``‖J q1 − J q2‖∞ ≤ γ ‖q1 − q2‖∞ + tol``. When R1 fails, the report
    also says whether the inner fixed point ``Q̄_q`` was found (J well defined at q).
    """
    claim = f"theorem-3.4-contraction-{reading}"
    gamma = model.discount
    if gamma >= 1:
        return _not_applicable(claim, "γ = 1")
    fixed = None
    out: list[str] = []
    if reading == "R2":
        fixed = agent_q_bar if agent_q_bar is not None else _zero_contract_q_bar(model)
    j1 = operator(model, q1, reading=reading, agent_q_bar=fixed)
    j2 = operator(model, q2, reading=reading, agent_q_bar=fixed)
    lhs = sup_norm_distance(j1, j2)
    distance = float(np.max(np.abs(q1 - q2)))
    rhs = gamma * distance
    ratio = lhs / distance if distance > 0 else (0.0 if lhs == 0 else float("inf"))
    if not lhs <= rhs + tol:
        what = (
            "the unimplementable patterns of J q1 and J q2 differ"
            if lhs == float("inf")
            else f"‖J q1 − J q2‖∞ = {_f(lhs)}"
        )
        out.append(
            f"{what} > γ‖q1 − q2‖∞ = {_f(gamma)}·{_f(distance)} = {_f(rhs)} "
            f"(greedy q1 {greedy(q1).tolist()}, greedy q2 {greedy(q2).tolist()})"
        )
        if reading == "R1":  # say whether J was well defined (the inner fixed point found)
            for label, q in (("q1", q1), ("q2", q2)):
                if not agent_q_bar_minimal(model, greedy(q))[1]:
                    out.append(
                        f"J undefined at {label}: no fixed point found for the agent's "
                        f"Q̄ when greedy({label}) is implemented minimally"
                    )
    return _result(claim, out, ratio=ratio, gamma=gamma)


def _policy_of(
    model: PrincipalAgentMDP, recommended: IntArray, q_bar: FloatArray
) -> tuple[IntArray, FloatArray]:
    """``recommended`` with its minimal contracts for ``q_bar`` (zero where unimplementable)."""
    solution = minimal_contracts(q_bar, model.outcome_probs, recommended)
    return recommended, np.asarray(solution.contracts, dtype=np.float64)


def check_operator_fixed_point(
    model: PrincipalAgentMDP,
    *,
    reading: str = "R2",
    operator: Operator = principal_q_operator,
    meta: MetaSolver = meta_algorithm,
    tol: float = DEFAULT_TOL,
    fixed_point_iterations: int = FIXED_POINT_ITERATIONS,
) -> PropertyResult:
    """Theorem 3.4, part 2: J's fixed point gives an SPE, the meta-algorithm's.

    Claim (PAPER.md §3, Theorem 3.4): for γ < 1 the meta-algorithm is equivalent to iterating
    a contraction on the principal's Q-function and converges to an SPE.

    Definition. Run Algorithm 1 (default start, ``META_MAX_ITERATIONS`` rounds, tolerance
    :data:`META_TOL`); let ``Q̄*``
    be its last agent step and ``ρ*`` its final policy.

    * R2 (``Q̄`` fixed at ``Q̄*``): ``q*`` = the principal's optimal contractual Q for
      ``Q̄*`` (policy iteration, :func:`solvers.meta_algorithm.principal_step`). Checked:
      ``‖J q* − q*‖∞ ≤ tol`` (``q*`` is J's fixed point);
    * R1: starting from the meta-algorithm's ``q``, iterate ``q ← J q`` (at most
      ``fixed_point_iterations`` times) until ``‖J q − q‖∞ ≤ tol``; failing to reach a fixed
      point is a violation.

    Then, at the meta-algorithm's precision :func:`meta_tolerance`, the fixed point's greedy
    policy with its minimal contracts (for ``Q̄*`` under R2, for
    ``Q̄_q`` under R1) must be an SPE (:func:`spe_violations`, all states) and agree with the
    meta-algorithm: the same ``V^p`` and ``V^a`` at every state within ``tol``. A
    meta-algorithm that does not converge is a violation (no fixed point to agree with).
    """
    claim = f"theorem-3.4-fixed-point-{reading}"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    result = meta(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    out: list[str] = []
    if not result.converged:
        return _result(
            claim,
            [
                f"the meta-algorithm did not converge ({result.iterations} "
                f"rounds, cycle start {result.cycle_start})"
            ],
            iterations=0,
        )
    q_bar_star = np.asarray(result.q_bars[-1], dtype=np.float64)
    iterations = 0
    if reading == "R2":
        _, q, _, _ = principal_step(model, q_bar_star)
        residual = sup_norm_distance(operator(model, q, reading="R2", agent_q_bar=q_bar_star), q)
        if not residual <= tol:
            out.append(
                f"the principal's optimal q for the fixed Q̄ is not a fixed point of "
                f"J: ‖J q − q‖∞ = {_f(residual)}"
            )
        q_bar_used = q_bar_star
    else:
        q = np.asarray(result.solution.principal_q, dtype=np.float64)
        residual = float("inf")
        while iterations < fixed_point_iterations:
            new_q = operator(model, np.where(np.isfinite(q), q, -1e300), reading="R1")
            residual = sup_norm_distance(new_q, q)
            q = new_q
            iterations += 1
            if residual <= tol:
                break
        if not residual <= tol:
            out.append(
                f"iterating J (R1) from the meta-algorithm's q reached no fixed point "
                f"in {iterations} steps (last ‖J q − q‖∞ = {_f(residual)})"
            )
            return _result(claim, out, iterations=iterations)
        q_bar_used, _ = agent_q_bar_minimal(model, greedy(q))
    rec, pay = _policy_of(model, greedy(q), q_bar_used)
    precision = meta_tolerance(model, tol)
    violations, _ = spe_violations(model, rec, pay, tol=precision)
    out += [f"greedy policy of the fixed point: {v}" for v in violations]
    exact = evaluate_policy_exact(model, rec, pay, tie_tolerance=to_fraction(precision))
    meta_p, meta_a = _followed_values(model, result.policies[-1], precision)
    for s in range(model.n_states):
        for label, got, want in (
            ("V^p", exact.principal_values[s], meta_p[s]),
            ("V^a", exact.agent_values[s], meta_a[s]),
        ):
            if abs(float(got) - float(want)) > precision:
                out.append(
                    f"{model.states[s]}: fixed point {label} = {_f(got)}, "
                    f"meta-algorithm {label} = {_f(want)}"
                )
    return _result(claim, out, iterations=iterations)


def _r1_instances() -> Any:
    """Discounted instances of the reading-R1 claims (2 outcomes, hidden action, γ in
    :data:`R1_DISCOUNTS`: R1's inner fixed point is found by successive approximation)."""
    return pst.discounted_instances(
        **_SMALL, max_outcomes=2, observed_action=False, discounts=R1_DISCOUNTS
    )


@st.composite
def _contraction_cases(draw: Draw, reading: str) -> dict[str, Any]:
    if reading == "R1":  # cost: Q̄_q is found by successive approximation (≈ 1/(1−γ) steps)
        model = draw(_r1_instances())
    else:
        model = draw(pst.discounted_instances(**_SMALL))
    q1, q2 = draw(pst.q_pairs(model.n_states, model.n_actions))
    return {"model": model, "q1": q1, "q2": q2, "reading": reading}


CONTRACTION_R1 = Claim(
    "theorem-3.4-contraction-R1",
    "J is a γ-contraction (reading R1: Q̄ re-solved for greedy(q))",
    "§3 Theorem 3.4",
    "‖Jq1 − Jq2‖∞ ≤ γ‖q1 − q2‖∞ + tol over implementable pairs; 2 outcomes",
    _contraction_cases("R1"),
    check_contraction,
    expected="fails",
)
CONTRACTION_R2 = Claim(
    "theorem-3.4-contraction-R2",
    "J is a γ-contraction (reading R2: Q̄ fixed)",
    "§3 Theorem 3.4",
    "‖Jq1 − Jq2‖∞ ≤ γ‖q1 − q2‖∞ + tol, Q̄ = agent's Q̄ facing zero pay",
    _contraction_cases("R2"),
    check_contraction,
)
FIXED_POINT_R1 = Claim(
    "theorem-3.4-fixed-point-R1",
    "J's fixed point (R1) is an SPE and agrees with the meta-algorithm",
    "§3 Theorem 3.4",
    "iterate J from the meta-algorithm's q to ‖Jq − q‖∞ ≤ tol; greedy policy passes "
    "the SPE check; V^p, V^a equal the meta-algorithm's",
    _model_only(_r1_instances()).map(lambda c: {**c, "reading": "R1"}),
    check_operator_fixed_point,
    expected="open",
)
FIXED_POINT_R2 = Claim(
    "theorem-3.4-fixed-point-R2",
    "J's fixed point (R2) is an SPE and agrees with the meta-algorithm",
    "§3 Theorem 3.4",
    "q* = principal's optimal q for the meta-algorithm's final Q̄; Jq* = q*; greedy "
    "policy passes the SPE check; V^p, V^a equal the meta-algorithm's",
    _model_only(pst.discounted_instances(**_SMALL)).map(lambda c: {**c, "reading": "R2"}),
    check_operator_fixed_point,
    expected="open",
)

__all__ = [
    "CONTRACTION_R1",
    "CONTRACTION_R2",
    "FIXED_POINT_R1",
    "FIXED_POINT_R2",
    "check_contraction",
    "check_operator_fixed_point",
]
