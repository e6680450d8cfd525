"""Tests of solvers/equilibria.py and solvers/equilibria_search.py (exact equilibria, issue 13).

Every expected value is derived by hand in the docstring or by an independent method (the
observed-action first best, the meta-algorithm, the recursion's iterates).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from solvers.equilibria import (
    EquilibriaTooLarge,
    agent_value_map,
    equilibria,
    implementable_actions,
    profile_fixed_point,
    pure_stationary,
)
from solvers.equilibria_search import mixed_stationary, recursion_step, time_dependent
from solvers.solve import solve
from theory.exact_evaluation import ExactPolicyData, evaluate_policy_exact
from theory.format import load_instance
from theory.generators import random_instance, three_state_example
from theory.spe import minimal_contract
from theory.ties import EXACT_TIES
from theory.transforms import first_best_values, no_contract_agent_values

ROOT = Path(__file__).resolve().parents[1]
NO_PURE = ROOT / "examples" / "no_pure_stationary_spe.json"
TWO_SPE = ROOT / "tests" / "regressions" / "two-spe-pareto-ranked.json"
NO_STATIONARY = ROOT / "tests" / "regressions" / "meta-cycle-no-pure-spe.json"
F = Fraction


def _random_values(rng: np.random.Generator, n: int, scale: int = 20) -> list[Fraction]:
    return [F(int(rng.integers(-5 * scale, 5 * scale + 1)), scale) for _ in range(n)]


# ------------------------------------------------------------------------ the fixed point
@pytest.mark.parametrize("seed", range(12))
def test_phi_is_monotone_and_translation_equivariant_with_modulus_gamma(seed):
    """The module docstring's two properties of Φ, on random values: Φ(V + c) = Φ(V) + γc
    exactly, and V ≤ V' (componentwise) implies Φ(V) ≤ Φ(V'); implementability does not
    depend on V. Together they make Φ a γ-contraction (Blackwell), hence the uniqueness."""
    model = random_instance(3, 3, 3, seed=seed, episodic=False)
    data = ExactPolicyData(model)
    rng = np.random.default_rng(seed)
    allowed = implementable_actions(data)
    for profile in itertools.islice(itertools.product(*allowed), 6):
        v = _random_values(rng, 3)
        c = F(int(rng.integers(-40, 41)), 7)
        shifted = agent_value_map(data, profile, [x + c for x in v])
        assert shifted == [x + data.gamma * c for x in agent_value_map(data, profile, v)]
        bigger = [x + F(int(rng.integers(0, 30)), 10) for x in v]
        assert all(
            lo <= hi
            for lo, hi in zip(
                agent_value_map(data, profile, v),
                agent_value_map(data, profile, bigger),
                strict=True,
            )
        )
        q = [[data.agent_reward[s][a] + sum(v) for a in range(3)] for s in range(3)]
        for s in range(3):
            for a in range(3):
                assert minimal_contract(q[s], data.probs[s], a).implementable == (a in allowed[s])


@pytest.mark.parametrize("seed", range(12))
def test_fixed_point_is_unique_and_self_consistent(seed):
    """From any starting regime the same fixed point; and independently of the regime
    iteration, the exact agent (policy iteration in theory.exact_evaluation) facing those
    contracts follows every recommendation and earns exactly the fixed point's values."""
    model = random_instance(3, 2, 3, seed=seed, episodic=False)
    data = ExactPolicyData(model)
    rng = np.random.default_rng(100 + seed)
    for profile in itertools.product(*implementable_actions(data)):
        base = profile_fixed_point(model, profile, data=data)
        for _ in range(3):
            other = profile_fixed_point(model, profile, data=data, start=_random_values(rng, 3))
            assert other.agent_values == base.agent_values and other.contracts == base.contracts
        assert agent_value_map(data, profile, base.agent_values) == list(base.agent_values)
        exact = evaluate_policy_exact(model, list(profile), [list(c) for c in base.contracts])
        assert exact.agent_actions.tolist() == list(profile)
        assert exact.agent_values.tolist() == list(base.agent_values)


def test_unimplementable_recommendations_are_refused():
    """examples/no_pure_stationary_spe.json, s0: a1 and a2 have the same outcome distribution
    and a1 pays the agent 1/10 less, so no contract implements a1 there."""
    model = load_instance(NO_PURE)
    assert implementable_actions(ExactPolicyData(model)) == [[1], [0, 1]]
    with pytest.raises(ValueError, match="cannot be implemented"):
        profile_fixed_point(model, [0, 0])


# ------------------------------------------------------------------------- must-shows
def test_no_pure_stationary_spe_but_a_mixed_and_a_periodic_one():
    """examples/no_pure_stationary_spe.json, γ = 9/10, derived by hand. s0 is absorbing and the
    agent takes a2 there unpaid: V^a(s0) = (1/10)/(1/10) = 1, V^p(s0) = 0. At s2 (o0 → s0,
    o1 → s2; a1 = (1/2, 1/2) with r = 0, a2 = (1, 0) with r = −1/10; r^p(o1) = −1/10), with
    V = V^a(s2): Q̄(a1) = 9/20 (1 + V), Q̄(a2) = 4/5.

    * s2 → a1: unpaid while Q̄(a1) ≥ Q̄(a2); V = 9/20 (1 + V) gives V = 9/11 (≥ 7/9: ok), and
      V^p = 1/2 (−1/10 + 9/10 V^p) = −1/11. Recommending a2 needs b(o0) = 2(Q̄(a1) − 4/5) =
      2/55, so q(a2) = −2/55: gain 3/55.
    * s2 → a2: b(o0) = 2(Q̄(a1) − 4/5), V = 2 Q̄(a1) − 4/5 gives V = 1, b(o0) = 1/5,
      V^p = −1/5. Recommending a1 is free (Q̄(a1) = 9/10 > 4/5): q(a1) = 1/2(−1/10 − 9/50) =
      −7/50: gain 3/50.
    * Mixed at s2 (a1's zero contract w.p. p, a2's minimal contract otherwise): indifference
      q(a1) = q(a2) = V^p gives V^p = −1/11, then b(o0) = 1/11, Q̄(a1) = 4/5 + 1/22, V =
      29/33, and V = p Q̄(a1) + (1 − p)(2 Q̄(a1) − 4/5) = 49/55 − p/22 gives p = 4/15: a2's
      contract with probability 11/15.
    """
    report = equilibria(load_instance(NO_PURE))
    assert report.pure_spes == ()
    gains = {r.fixed_point.recommended: r.check.largest_principal_gain for r in report.pure}
    assert gains == {(1, 0): F(3, 55), (1, 1): F(3, 50)}
    (deviation,) = report.pure[0].deviations
    assert (deviation.state_name, deviation.action, deviation.gain) == ("s2", "a2", F(3, 55))
    (mixed,) = report.mixed or ()
    assert (mixed.state, mixed.support, mixed.probability) == (1, (0, 1), F(4, 15))
    assert mixed.exact and mixed.complement_text == "11/15"
    assert mixed.agent_values == (1, F(29, 33)) and mixed.principal_values == (0, F(-1, 11))
    assert mixed.contracts[1] == ((0, 0), (F(1, 11), 0))
    # both contracts are worth exactly −1/11 to the principal (the two copies of s2)
    split = mixed.check.states
    assert split[1].principal_value == split[2].principal_value == F(-1, 11)
    orbit = report.time_dependent
    assert orbit is not None and orbit.found and orbit.period == 3 and orbit.strict
    at_s2 = [actions[1] for actions in orbit.actions]
    assert sorted(at_s2) == [0, 1, 1]  # a1 once and a2 twice per period (a1, a2, a2, ...)


def test_the_periodic_orbit_is_the_limit_of_the_recursion():
    """Independent of the unrolled linear solve: ~300 exact steps of the finite-horizon
    recursion from zero (a whole number of periods after the step where the period was
    detected, so that the phases line up) come within 1e-12 of the orbit's values."""
    model = load_instance(NO_PURE)
    data = ExactPolicyData(model)
    orbit = time_dependent(model)
    assert orbit.period == 3
    v_a = v_p = [F(0)] * 2
    history = []
    for _ in range(orbit.steps + 3 * 96):
        _, v_a, v_p, _ = recursion_step(data, v_a, v_p, EXACT_TIES)
        history.append((v_a, v_p))
    # the last iterate is time 0 of the orbit; one step earlier is time 1, and so on
    for t in range(3):
        va, vp = history[-1 - t]
        for s in range(2):
            assert abs(va[s] - orbit.agent_values[t][s]) < F(1, 10**12)
            assert abs(vp[s] - orbit.principal_values[t][s]) < F(1, 10**12)


def test_two_pure_spes_differ_only_off_the_reachable_set():
    """tests/regressions/two-spe-pareto-ranked.json (derived by hand in
    tests/test_claims_meta_algorithm.py::test_two_subgame_perfect_equilibria_pareto_ranked):
    s0 is absorbing, so s1 is unreachable from s0; at s1, recommending a0 with b(o1) = 1781/2000
    gives V^p(s1) = (0.50625 + 3/4 (1.70625 − 0.8905)) / (1 − 3/4 · 0.675) and recommending a2
    unpaid (0.50625 + 1/8 · 1.70625 + 1.265625) / (1 − 1/8 · 0.675); at s0 both give
    V^a = 3, V^p = 9/4."""
    expected_a0 = (F("0.50625") + F(3, 4) * (F("1.70625") - F(1781, 2000))) / (
        1 - F(3, 4) * F("0.675")
    )
    expected_a2 = (F("0.50625") + F(1, 8) * F("1.70625") + F("1.265625")) / (
        1 - F(1, 8) * F("0.675")
    )
    assert (expected_a0, expected_a2) == (F(17889, 7900), F(2541, 1172))
    report = equilibria(load_instance(TWO_SPE))
    spes = report.pure_spes
    assert [r.fixed_point.recommended for r in spes] == [(0, 0), (0, 2)]
    assert [r.principal_values[1] for r in spes] == [expected_a0, expected_a2]
    assert all(r.reachable == (True, False) for r in spes)
    assert all(r.principal_values[0] == F(9, 4) and r.agent_values[0] == 3 for r in spes)
    (pair,) = report.pareto()
    assert pair["at_initial_state"] == pair["over_reachable_states"] == "equal"
    assert pair["over_all_states"] == "first" and pair["differ_only_off_the_reachable_set"]
    assert report.searched["pure_stationary"]["candidates"] == 9
    # the recursion from zero settles on the second SPE (a stationary point: period 1)
    orbit = report.time_dependent
    assert orbit is not None and orbit.period == 1 and orbit.actions == ((0, 2),)


def test_mixed_stationary_spe_of_the_no_stationary_regression():
    """tests/regressions/meta-cycle-no-pure-spe.json: both pure candidates fail; the principal
    mixing at s1 with a1 w.p. ≈ 0.72615 is an SPE (issue 13). Its exactness: the split
    instance at that rational p passes the checker with tolerance 0."""
    model = load_instance(NO_STATIONARY)
    pure, _ = pure_stationary(model)
    assert not any(r.is_spe for r in pure)
    found, searched = mixed_stationary(model)
    (mixed,) = found
    assert mixed.state == 1 and mixed.support == (0, 1) and mixed.exact
    assert mixed.probability is not None
    assert abs(float(1 - mixed.probability) - 0.72615) < 1e-5
    assert mixed.check.ok and mixed.check.ties == EXACT_TIES
    assert searched["support_size"] == 2


# ------------------------------------------------------------- 200 random instances each
@pytest.mark.parametrize("chunk", range(4))
def test_observed_action_pure_spes_are_the_first_best_profiles(chunk):
    """Observed action (PAPER.md §1, [D]): the agent earns its no-contract value V0 under every
    profile, so V^p = welfare − V0 and the principal's problem is the planner's. Hence the pure
    stationary SPEs are exactly the profiles choosing a planner-optimal action in every state
    (computed here from the first-best values W*, theory.transforms), each with
    V^p = W* − V0 — 200 random discounted instances (4 × 50)."""
    for seed in range(50 * chunk, 50 * chunk + 50):
        rng = np.random.default_rng(seed)
        n_s, n_a = int(rng.integers(1, 4)), int(rng.integers(2, 4))
        model = random_instance(n_s, n_a, 1, seed=seed, episodic=False, observed_action=True)
        data = ExactPolicyData(model)
        w_star, v0 = first_best_values(model), no_contract_agent_values(model)
        welfare_q = [
            [
                data.agent_reward[s][a]
                + sum(
                    (
                        p
                        * (
                            data.principal_reward[s][o]
                            + data.gamma
                            * sum((q * w_star[t] for t, q in data.successors[s][o]), F(0))
                        )
                        for o, p in enumerate(data.probs[s][a])
                    ),
                    F(0),
                )
                for a in range(n_a)
            ]
            for s in range(n_s)
        ]
        optimal = [
            [a for a in range(n_a) if welfare_q[s][a] == max(welfare_q[s])] for s in range(n_s)
        ]
        expected = set(itertools.product(*optimal))
        results, _ = pure_stationary(model)
        spes = [r for r in results if r.is_spe]
        assert {r.fixed_point.recommended for r in spes} == expected, seed
        for r in spes:
            assert list(r.principal_values) == [w - v for w, v in zip(w_star, v0, strict=True)]
            assert list(r.agent_values) == v0


@pytest.mark.parametrize("chunk", range(4))
def test_the_meta_algorithm_limit_is_among_the_enumerated_spes(chunk):
    """200 random hidden-action discounted instances (4 × 50): wherever Algorithm 1 converges,
    its limit profile (from :func:`solvers.solve.solve`, independent float code) is one of the
    enumerated pure stationary SPEs, with the same values to 1e-9; and every enumerated SPE's
    values are those of the exact agent facing its contracts (theory.exact_evaluation)."""
    converged = 0
    for seed in range(50 * chunk, 50 * chunk + 50):
        rng = np.random.default_rng(seed)
        n_s, n_a, n_o = int(rng.integers(1, 4)), 2, int(rng.integers(2, 4))
        model = random_instance(n_s, n_a, n_o, seed=seed, episodic=False)
        results, _ = pure_stationary(model)
        spes = {r.fixed_point.recommended: r for r in results if r.is_spe}
        for r in spes.values():
            exact = evaluate_policy_exact(
                model, list(r.fixed_point.recommended), [list(c) for c in r.fixed_point.contracts]
            )
            assert tuple(exact.principal_values.tolist()) == r.principal_values
        result = solve(model, max_iterations=300, tol=1e-7)
        if not result.converged:
            continue
        converged += 1
        limit = tuple(int(a) for a in result.solution.recommended)
        assert limit in spes, (seed, limit, sorted(spes))
        values = np.array([float(x) for x in spes[limit].principal_values])
        assert np.allclose(result.solution.principal_values, values, atol=1e-9), seed
    assert converged >= 40


# --------------------------------------------------------------------- other behaviour
def test_episodic_instance_contains_backward_induction():
    """PAPER.md §7 three-state example (γ = 1): backward induction's SPE (aL everywhere,
    V^p(s0) = 1, V^a(s0) = 1/5) is among the pure stationary SPEs, and the recursion from zero
    reaches it as a stationary point."""
    model = three_state_example()
    report = equilibria(model, mixed=False)
    by_profile = {r.fixed_point.recommended: r for r in report.pure_spes}
    assert by_profile[(0, 0, 0)].principal_values[0] == 1
    assert by_profile[(0, 0, 0)].agent_values[0] == F(1, 5)
    orbit = report.time_dependent
    assert orbit is not None and orbit.period == 1 and orbit.actions == ((0, 0, 0),)


def test_size_limit_is_refused_clearly():
    model = random_instance(3, 3, 2, seed=0, episodic=False)
    with pytest.raises(EquilibriaTooLarge, match="exceed the limit of 5"):
        equilibria(model, max_profiles=5)
    chain = random_instance(65, 2, 2, seed=0, episodic=False)
    with pytest.raises(EquilibriaTooLarge, match="65 states exceed the limit of 64"):
        equilibria(chain)


def test_document_names_every_class_and_what_was_searched():
    document = equilibria(load_instance(NO_PURE)).to_document()
    assert document["format"] == "pamdp/equilibria@1"
    assert document["pure_stationary"] == []
    assert {r["largest_deviation_gain"] for r in document["pure_stationary_rejected"]} == {
        "3/55",
        "3/50",
    }
    (mixed,) = document["mixed_stationary"]
    assert mixed["probabilities"] == {"a1": "4/15", "a2": "11/15"}
    assert mixed["values"]["s2"] == {"principal": "-1/11", "agent": "29/33"}
    assert document["time_dependent"]["period"] == 3
    assert set(document["searched"]) == {"pure_stationary", "mixed_stationary", "time_dependent"}
    assert document["searched"]["mixed_stationary"]["support_size"] == 2


def test_two_pure_spes_that_differ_at_the_initial_state():
    """tests/regressions/two-spe-differ-at-initial-state.json (random_instance(2, 2, 3,
    seed=326, episodic=False), found by searching 5,748 random small discounted instances: 75
    had two or more pure stationary SPEs, 60 of them differing at s0). Exactly two pure SPEs,
    both states reachable in each, and the second is better for *both* players at s0. The
    values are recomputed independently by the exact agent facing each SPE's contracts."""
    model = load_instance(ROOT / "tests" / "regressions" / "two-spe-differ-at-initial-state.json")
    report = equilibria(model, mixed=False, periodic=False)
    first, second = report.pure_spes
    assert (first.fixed_point.recommended, second.fixed_point.recommended) == ((0, 0), (0, 1))
    for spe in (first, second):
        exact = evaluate_policy_exact(
            model, list(spe.fixed_point.recommended), [list(c) for c in spe.fixed_point.contracts]
        )
        assert tuple(exact.principal_values.tolist()) == spe.principal_values
        assert tuple(exact.agent_values.tolist()) == spe.agent_values
        assert spe.reachable == (True, True)
    assert first.principal_values[0] == F(32571, 3442) < second.principal_values[0]
    assert first.agent_values[0] == -1 < second.agent_values[0] == F(-3487, 4342)
    (pair,) = report.pareto()
    assert pair["at_initial_state"] == "second" and not pair["differ_only_off_the_reachable_set"]
