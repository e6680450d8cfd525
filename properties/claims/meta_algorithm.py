"""Claim family *meta-algorithm*: Theorem 3.3 and convergence / uniqueness for γ < 1 (PAPER.md §3).

Episodic instances: Algorithm 1 reaches the SPE in at most ``T + 1`` rounds
(:func:`check_theorem_3_3`). Discounted instances: it converges, to an SPE
(:func:`check_meta_convergence`), and to the same values from every start
(:func:`check_meta_uniqueness`); values of a run are compared at its precision
:func:`meta_tolerance`.
"""

from __future__ import annotations

import numpy as np

from properties import strategies as pst
from properties.claims.common import (
    _EPISODIC,
    _SMALL,
    DEFAULT_TOL,
    META_LEVERAGE,
    META_MAX_ITERATIONS,
    META_TOL,
    Claim,
    MetaSolver,
    SPESolver,
    _model_only,
    _with_seed,
)
from properties.claims.equilibrium import spe_violations
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import solve_backward_induction
from solvers.meta_algorithm import MetaAlgorithmResult, PrincipalPolicy, meta_algorithm
from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP, to_fraction


def horizon(model: PrincipalAgentMDP) -> int:
    """The horizon ``T`` of an episodic instance: the number of decision levels
    (``1 + max height``; a state that ends the episode after acting has height 0)."""
    heights = model.heights
    if heights is None:
        raise ValueError("the horizon is defined for episodic instances only")
    return int(heights.max()) + 1


def check_theorem_3_3(
    model: PrincipalAgentMDP,
    *,
    meta: MetaSolver = meta_algorithm,
    reference: SPESolver = solve_backward_induction,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Theorem 3.3: on episodic instances the meta-algorithm reaches the SPE in ≤ T + 1 rounds.

    Claim (PAPER.md §3, Theorem 3.3 [P number, U wording]): with finite horizon ``T`` the
    meta-algorithm reaches an SPE in a number of iterations linear in ``T``; read as *at most
    T + 1* (T rounds to fix the T levels, one more to observe that ρ stopped changing).

    Definition: ``T`` = :func:`horizon`; run Algorithm 1 from its default start (zero
    contracts, no recommendation). It must (i) stop with ``converged``; (ii) after at most
    ``T + 1`` rounds; (iii) with the reference SPE's values (``V^p``, ``V^a`` at every state
    within ``tol``) and recommendations. The mechanism is checked as well: (iv) after ``k``
    rounds, every state of height ``< k`` has the reference's recommendation and contract
    (within ``tol``). Measurements: ``depth`` (= T) and ``iterations``.
    """
    claim = "theorem-3.3"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    depth = horizon(model)
    heights = model.heights
    assert heights is not None
    result = meta(model)
    ref = reference(model)
    out: list[str] = []
    if not result.converged:
        out.append(f"did not converge in {result.iterations} rounds (T = {depth})")
    if result.iterations > depth + 1:
        out.append(f"needed {result.iterations} rounds > T + 1 = {depth + 1}")
    final = result.solution
    for s in range(model.n_states):
        for label, got, want in (
            ("V^p", final.principal_values[s], ref.principal_values[s]),
            ("V^a", final.agent_values[s], ref.agent_values[s]),
        ):
            if abs(float(got) - float(want)) > tol:
                out.append(
                    f"{model.states[s]}: meta-algorithm {label} = {_f(got)}, SPE "
                    f"{label} = {_f(want)}"
                )
    ref_contracts = np.asarray(ref.contracts, dtype=np.float64)
    for k, policy in enumerate(result.policies[1:], start=1):
        for s in np.flatnonzero(heights < k).tolist():
            if (
                policy.recommended[s] != ref.recommended[s]
                or np.max(np.abs(policy.contracts[s] - ref_contracts[s])) > tol
            ):
                out.append(
                    f"mechanism: after {k} rounds state {model.states[s]} (height "
                    f"{heights[s]}) has not reached the SPE"
                )
                break
    return _result(claim, out, depth=depth, iterations=result.iterations)


def meta_tolerance(model: PrincipalAgentMDP, tol: float = DEFAULT_TOL) -> float:
    """The precision of values and incentives derived from a meta-algorithm run.

    Algorithm 1 stops when contracts move by at most :data:`META_TOL`; such a contract error
    reaches values through the effective horizon ``1/(1 − γ)`` and minimal contracts through the
    likelihood-ratio leverage (bounded by :data:`META_LEVERAGE`). Comparisons of meta-algorithm
    outputs use ``(tol + META_LEVERAGE · META_TOL) / (1 − γ)`` — e.g. 1.0e-5 at γ = 9/10,
    1.0e-3 at γ = 999/1000; the findings of the report differ by 0.1 or more.
    """
    return (tol + META_LEVERAGE * META_TOL) / (1.0 - model.discount)


def _followed_values(
    model: PrincipalAgentMDP, policy: PrincipalPolicy, precision: float
) -> tuple[list[float], list[float]]:
    """``(V^p, V^a)`` of a meta-algorithm policy with the recommendation followed wherever the
    agent loses at most ``precision`` by following (exact evaluation).

    The library reports values at its tie tolerance 1e-9; a run stopped at :data:`META_TOL`
    leaves contracts minimal for the *previous* round's Q̄, a few 1e-9 short, so its agent can
    deviate by a hair and the reported values jump (values are discontinuous in the contract at
    the agent's indifference). Comparisons use these values instead.
    """
    exact = evaluate_policy_exact(
        model, policy.recommended, policy.contracts, tie_tolerance=to_fraction(precision)
    )
    return ([float(x) for x in exact.principal_values], [float(x) for x in exact.agent_values])


def check_meta_convergence(
    model: PrincipalAgentMDP,
    *,
    meta: MetaSolver = meta_algorithm,
    max_iterations: int = META_MAX_ITERATIONS,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """The meta-algorithm converges on discounted instances, to an SPE (PAPER.md §3).

    Claim (PAPER.md §3, Theorem 3.4 and "Also open for γ < 1"): Algorithm 1 converges (ρ
    stops changing) and its limit is an SPE.

    Definition: run Algorithm 1 from its default start for at most ``max_iterations`` rounds,
    contracts within :data:`META_TOL` counting as unchanged. Violations: not converged (a cycle
    is reported with its start and length); the final policy fails :func:`spe_violations` at
    some state, at the run's precision :func:`meta_tolerance`. Measurements: ``iterations`` and
    ``reported_value_jump``, the largest gap between the library's reported V^p (agent at tie
    tolerance 1e-9) and V^p with the recommendation followed (:func:`_followed_values`).
    """
    claim = "meta-convergence"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    result = meta(model, max_iterations=max_iterations, tol=META_TOL)
    out: list[str] = []
    if not result.converged:
        if result.cycle_start is not None:
            out.append(
                f"cycles: policy {result.iterations} repeats policy "
                f"{result.cycle_start} (period {result.iterations - result.cycle_start})"
            )
        else:
            out.append(f"no convergence within {result.iterations} rounds")
        return _result(claim, out, iterations=result.iterations)
    final = result.policies[-1]
    precision = meta_tolerance(model, tol)
    violations, _ = spe_violations(model, final.recommended, final.contracts, tol=precision)
    out += [f"limit is not an SPE: {v}" for v in violations]
    followed_p, _ = _followed_values(model, final, precision)
    jump = max(
        abs(float(x) - y) for x, y in zip(result.solution.principal_values, followed_p, strict=True)
    )
    return _result(claim, out, iterations=result.iterations, reported_value_jump=jump)


def starting_policies(
    model: PrincipalAgentMDP, seed: int = 0, n_random: int = 1
) -> list[tuple[str, PrincipalPolicy | None]]:
    """Starting policies for Algorithm 1: its default (zero pay, no recommendation), the last
    action recommended everywhere with zero pay, a generous flat contract (2 on every outcome,
    recommending action 0), and ``n_random`` random policies (seeded)."""
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    rng = np.random.default_rng(seed)
    starts: list[tuple[str, PrincipalPolicy | None]] = [("default", None)]
    starts.append(
        (
            f"recommend a{n_a - 1}",
            PrincipalPolicy(np.full(n_s, n_a - 1, dtype=np.int64), np.zeros((n_s, n_o))),
        )
    )
    starts.append(
        ("flat pay 2", PrincipalPolicy(np.zeros(n_s, dtype=np.int64), np.full((n_s, n_o), 2.0)))
    )
    for i in range(n_random):
        starts.append(
            (
                f"random {seed}/{i}",
                PrincipalPolicy(
                    rng.integers(0, n_a, n_s).astype(np.int64), rng.integers(0, 21, (n_s, n_o)) / 10
                ),
            )
        )
    return starts


def check_meta_uniqueness(
    model: PrincipalAgentMDP,
    *,
    start_seed: int = 0,
    meta: MetaSolver = meta_algorithm,
    max_iterations: int = META_MAX_ITERATIONS,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """The meta-algorithm reaches the same values from every starting policy (PAPER.md §3).

    Claim (PAPER.md §3, Theorem 3.4: convergence of a contraction implies a unique limit;
    PAPER.md notes the SPE need not be unique for γ < 1): Algorithm 1 started from different
    principal policies ends at the same values.

    Definition: run Algorithm 1 (tolerance :data:`META_TOL`) from every policy of
    :func:`starting_policies`; among the runs
    that converge, ``V^p`` and ``V^a`` (of each limit policy with its recommendation followed
    up to the runs' precision :func:`meta_tolerance`) must agree at every state. Runs that do
    not converge are counted (measurement ``not_converged``), not judged here (see
    :func:`check_meta_convergence`).
    """
    claim = "meta-uniqueness"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    outcomes: list[tuple[str, MetaAlgorithmResult, tuple[list[float], list[float]]]] = []
    not_converged = 0
    precision = meta_tolerance(model, tol)
    for label, start in starting_policies(model, start_seed):
        result = meta(model, initial_policy=start, max_iterations=max_iterations, tol=META_TOL)
        if result.converged:
            outcomes.append(
                (label, result, _followed_values(model, result.policies[-1], precision))
            )
        else:
            not_converged += 1
    out: list[str] = []
    if outcomes:
        base_label, base, (base_p, base_a) = outcomes[0]
        for label, other, (other_p, other_a) in outcomes[1:]:
            for s in range(model.n_states):
                for name, x, y in (("V^p", base_p[s], other_p[s]), ("V^a", base_a[s], other_a[s])):
                    if abs(x - y) > precision:
                        out.append(
                            f"{model.states[s]}: start '{base_label}' gives {name} = "
                            f"{_f(x)} (recommending {base.solution.recommended.tolist()})"
                            f", start '{label}' gives {_f(y)} (recommending "
                            f"{other.solution.recommended.tolist()})"
                        )
    return _result(claim, out, not_converged=not_converged, starts=len(outcomes))


THEOREM_3_3 = Claim(
    "theorem-3.3",
    "episodic: the meta-algorithm reaches the SPE in ≤ T + 1 rounds",
    "§3 Theorem 3.3",
    "T = 1 + max height; default start; converged, rounds ≤ T + 1, V^p/V^a equal to "
    "backward induction; after k rounds levels < k are SPE",
    _model_only(pst.episodic_instances(**{**_EPISODIC, "max_states": 6})),
    check_theorem_3_3,
)
META_CONVERGENCE = Claim(
    "meta-convergence",
    "discounted: the meta-algorithm converges, to an SPE",
    "§3 Theorem 3.4; open",
    f"default start, ≤ {META_MAX_ITERATIONS} rounds, contracts stable within "
    f"{META_TOL:g}; no cycle; limit passes the SPE check",
    _model_only(pst.discounted_instances(**_SMALL)),
    check_meta_convergence,
    expected="open",
)
META_UNIQUENESS = Claim(
    "meta-uniqueness",
    "discounted: the meta-algorithm reaches the same values from every start",
    "§3 Theorem 3.4; open",
    "starts: default, last action with zero pay, flat pay 2, one random policy; "
    "converged runs agree on V^p, V^a at every state",
    _with_seed(pst.discounted_instances(**_SMALL), "start_seed"),
    check_meta_uniqueness,
    expected="open",
)

__all__ = [
    "META_CONVERGENCE",
    "META_UNIQUENESS",
    "THEOREM_3_3",
    "check_meta_convergence",
    "check_meta_uniqueness",
    "check_theorem_3_3",
    "horizon",
    "meta_tolerance",
    "starting_policies",
]
