"""Tests of theory.exact_evaluation: exact policy evaluation against the best-responding agent.

Hand-derived values are from PAPER.md §7 (three-state example): states s0 → {sL, sR}, leaves end
the episode; 𝒪(aL) = (9/10, 1/10), 𝒪(aR) = (1/10, 9/10) over outcomes (L, R); r(aL) = −4/5,
r(aR) = 0; r^p(L) = 14/9, r^p(R) = 0; L leads to sL, R to sR.

Every test runs under both exact backends (:mod:`theory.exact_backend`: python-flint and the
pure-Python reference), selected through ``$PAMDP_EXACT_BACKEND``.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from properties.strategies import instances
from solvers.backward_induction import solve_backward_induction
from solvers.evaluation import evaluate_policy
from theory.exact_backend import BACKENDS, ENV_VAR, flint_available
from theory.exact_evaluation import evaluate_policy_exact, solve_linear_exact
from theory.generators import paper_tree, random_instance, three_state_example
from theory.model import build_model


@pytest.fixture(
    autouse=True,
    params=[b for b in BACKENDS if b == "python" or flint_available()],
)
def exact_backend(request, monkeypatch):
    """Run the test under each installed exact backend."""
    monkeypatch.setenv(ENV_VAR, request.param)
    return request.param


def test_three_state_spe_policy_gamma_one():
    """b(L) = 1 in every state. Leaves: aL gives the agent −4/5 + 9/10 = 1/10, aR gives
    1/10 · 1 = 1/10: a tie, resolved for the recommended aL; the principal gets
    9/10 · (14/9 − 1) = 1/2. At s0 the agent's continuation is 1/10 after either outcome, so
    Q̄(s0, aL) = −4/5 + 1/10 = −7/10, Q̄(s0, aR) = 1/10, again a tie under b(L) = 1 (agent value
    1/5), and V^p(s0) = 9/10 · (14/9 − 1 + 1/2) + 1/10 · 1/2 = 1 (PAPER.md §7 table)."""
    ev = evaluate_policy_exact(three_state_example(), [0, 0, 0], [[1, 0]] * 3)
    assert ev.exact and ev.followed.all()
    assert ev.principal_values.tolist() == [F(1), F(1, 2), F(1, 2)]
    assert ev.agent_values.tolist() == [F(1, 5), F(1, 10), F(1, 10)]
    assert ev.q_bar.tolist() == [[F(-7, 10), F(1, 10)], [F(-4, 5), F(0)], [F(-4, 5), F(0)]]
    assert ev.agent_q[0].tolist() == [F(1, 5), F(1, 5)]


def test_three_state_spe_policy_gamma_nine_tenths():
    """γ = 9/10: leaves are as for γ = 1 (no continuation). At s0 the agent's continuation is
    9/10 · 1/10 = 9/100 after either outcome, so V^a(s0) = 1/10 + 9/100 = 19/100 and
    V^p(s0) = 9/10 · (14/9 − 1 + 9/10 · 1/2) + 1/10 · 9/10 · 1/2 = 19/20 (PAPER.md §7)."""
    ev = evaluate_policy_exact(three_state_example(discount=F(9, 10)), [0, 0, 0], [[1, 0]] * 3)
    assert ev.followed.all()
    assert ev.principal_values[0] == F(19, 20)
    assert ev.agent_values[0] == F(19, 100)


def test_three_state_observed_action():
    """Observed action, pay 4/5 on aL: the agent is exactly compensated for the cost and earns
    0; the principal gets 14/9 · 9/10 − 4/5 = 3/5 at a leaf and 3/5 + 3/5 = 6/5 at s0."""
    ev = evaluate_policy_exact(
        three_state_example(observed_action=True), [0, 0, 0], [[F(4, 5), 0]] * 3
    )
    assert ev.followed.all()
    assert ev.principal_values.tolist() == [F(6, 5), F(3, 5), F(3, 5)]
    assert ev.agent_values.tolist() == [0, 0, 0]


def test_zero_contracts_agent_prefers_the_free_action():
    """No payments and no recommendation: the agent takes aR (0 > −4/5) everywhere; the
    principal gets 1/10 · 14/9 = 7/45 at a leaf and 7/45 + 7/45 = 14/45 at s0."""
    ev = evaluate_policy_exact(three_state_example(), [-1, -1, -1], [[0, 0]] * 3)
    assert ev.agent_actions.tolist() == [1, 1, 1]
    assert ev.principal_values.tolist() == [F(14, 45), F(7, 45), F(7, 45)]
    assert ev.agent_values.tolist() == [0, 0, 0]


def test_ties_go_to_the_recommendation_exactly_and_nowhere_else():
    """b(L) = 1 leaves the agent exactly indifferent at the leaves, so recommending either
    action is followed; b(L) = 1 − 10⁻¹² is not followed for aL (it prefers aR by
    8·10⁻¹³), unless the tie tolerance allows it."""
    model = three_state_example()
    for action in (0, 1):
        assert evaluate_policy_exact(model, [action] * 3, [[1, 0]] * 3).followed.all()
    short = [[1, 0], [1 - F(1, 10**12), 0], [1, 0]]
    ev = evaluate_policy_exact(model, [0, 0, 0], short)
    assert ev.agent_actions[1] == 1
    assert ev.agent_q[1, 1] - ev.agent_q[1, 0] == F(8, 10**13)
    tolerant = evaluate_policy_exact(model, [0, 0, 0], short, tie_tolerance=F(1, 10**9))
    assert tolerant.followed.all()
    # the tolerant agent earns what it actually gets by following: 1/10 − 9·10⁻¹³
    assert tolerant.agent_values[1] == F(1, 10) - F(9, 10**13)


def test_exact_matches_float_evaluation_on_random_policies():
    """Random policies on random episodic and discounted instances: the same actions, and the
    float values agree with the exact ones to rounding."""
    for seed in range(12):
        model = random_instance(5, 3, 3, seed=seed, episodic=seed % 2 == 0)
        rng = np.random.default_rng(seed)
        rec = rng.integers(-1, 3, 5)
        pay = rng.integers(0, 5, (5, 3)) / 4
        exact = evaluate_policy_exact(model, rec, pay)
        approx = evaluate_policy(model, rec, pay)
        assert exact.agent_actions.tolist() == approx.agent_actions.tolist()
        np.testing.assert_allclose(
            exact.principal_values.astype(float), approx.principal_values, atol=1e-9
        )
        np.testing.assert_allclose(exact.agent_values.astype(float), approx.agent_values, atol=1e-9)
        np.testing.assert_allclose(exact.q_bar.astype(float), approx.q_bar, atol=1e-9)


def test_float_module_delegates_to_exact():
    model = three_state_example(discount=F(9, 10))
    ev = evaluate_policy(model, [0, 0, 0], [[1, 0]] * 3, exact=True)
    assert ev.exact and ev.principal_values[0] == F(19, 20)


def test_discounted_values_satisfy_bellman_optimality_exactly():
    """Policy iteration's answer is certified exactly: V^a(s) = max_a Q((s, b_s), a) with
    Q = r + E[b] + γ P V^a (Bellman optimality, whose solution is unique for γ < 1), and V^p
    solves the principal's linear equation under the agent's actions."""
    model = random_instance(6, 3, 2, seed=3, episodic=False)
    data = model.exact_data()
    rng = np.random.default_rng(0)
    pay = [[F(int(k), 4) for k in row] for row in rng.integers(0, 6, (6, 2))]
    ev = evaluate_policy_exact(model, [0, 1, 2, 0, 1, 2], pay)
    gamma = data.discount

    def successors(s: int, o: int) -> list[tuple[int, F]]:
        row = s * model.n_outcomes + o
        lo, hi = model.transition_offsets[row], model.transition_offsets[row + 1]
        return [(int(model.transition_next[k]), data.transition_prob[k]) for k in range(lo, hi)]

    def expect(values, s: int, o: int) -> F:
        return gamma * sum((p * values[t] for t, p in successors(s, o)), F(0))

    for s in range(6):
        probs = data.outcome_probs[s]
        q = [
            data.agent_reward[s, a]
            + sum(
                (probs[a, o] * (pay[s][o] + expect(ev.agent_values, s, o)) for o in range(2)), F(0)
            )
            for a in range(3)
        ]
        assert ev.agent_values[s] == max(q)
        act = ev.agent_actions[s]
        assert q[act] == max(q)
        principal = sum(
            (
                probs[act, o]
                * (data.principal_reward[s, o] - pay[s][o] + expect(ev.principal_values, s, o))
                for o in range(2)
            ),
            F(0),
        )
        assert ev.principal_values[s] == principal


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(instances(family="episodic", exact=True, max_states=4))
def test_exact_spe_evaluates_to_itself(model):
    """The exact SPE's own policy is followed everywhere and reproduces its values exactly."""
    spe = solve_backward_induction(model, exact=True)
    ev = evaluate_policy_exact(model, spe.recommended, spe.contracts)
    assert ev.followed.all()
    assert ev.principal_values.tolist() == spe.principal_values.tolist()
    assert ev.agent_values.tolist() == spe.agent_values.tolist()


def test_paper_tree_float_solution_needs_a_tolerance():
    """A float SPE misses the agent's indifference point by rounding: exactly, the agent
    deviates in some states; with τ = 10⁻⁹ it follows everywhere and the values are the float
    solver's to 1e-12."""
    tree = paper_tree(6, 1)
    spe = solve_backward_induction(tree)
    assert not evaluate_policy_exact(tree, spe.recommended, spe.contracts).followed.all()
    ev = evaluate_policy_exact(tree, spe.recommended, spe.contracts, tie_tolerance=F(1, 10**9))
    assert ev.followed.all()
    np.testing.assert_allclose(ev.principal_values.astype(float), spe.principal_values, atol=1e-12)


def test_solve_linear_exact():
    rng = np.random.default_rng(1)
    for n in (1, 3, 7):
        matrix = rng.integers(-3, 4, (n, n)) + np.eye(n, dtype=int) * 10
        rhs = rng.integers(-5, 6, n)
        rows = [{j: F(int(matrix[i, j])) for j in range(n)} for i in range(n)]
        x = solve_linear_exact(rows, [F(int(v)) for v in rhs])
        for i in range(n):
            assert sum((rows[i][j] * x[j] for j in range(n)), F(0)) == rhs[i]
    # a zero diagonal needs a row exchange
    assert solve_linear_exact([{1: F(1)}, {0: F(2)}], [F(3), F(4)]) == [F(2), F(3)]
    with pytest.raises(ValueError, match="singular system: column 1"):
        solve_linear_exact([{0: F(1), 1: F(1)}, {0: F(2), 1: F(2)}], [F(0), F(0)])


def test_malformed_policies_are_named():
    model = three_state_example()
    with pytest.raises(ValueError, match=r"recommended\[1\]: not an action index .*value: 5"):
        evaluate_policy_exact(model, [0, 5, 0], [[0, 0]] * 3)
    with pytest.raises(ValueError, match=r"contracts: expected shape \(3, 2\)"):
        evaluate_policy_exact(model, [0, 0, 0], [[0, 0, 0]] * 3)
    with pytest.raises(ValueError, match=r"contracts\[2\]\[1\]: not a finite number"):
        evaluate_policy_exact(model, [0, 0, 0], [[0, 0], [0, 0], [0, "x"]])
    with pytest.raises(ValueError, match="tie_tolerance must be non-negative"):
        evaluate_policy_exact(model, [0, 0, 0], [[0, 0]] * 3, tie_tolerance=-1)


def test_gamma_one_with_an_unreachable_cycle_is_refused():
    """FORMAT.md allows γ = 1 when no cycle is *reachable*; values on an unreachable cycle are
    undefined, and the evaluation says so instead of returning garbage."""
    model = build_model(
        states=["s0", "s1", "s2"],
        actions=["a"],
        outcomes=["o"],
        initial_state="s0",
        discount=1,
        outcome_probs=[[[1]]] * 3,
        agent_reward=[[0]] * 3,
        principal_reward=[[1]] * 3,
        transitions=[[[]], [[[2, 1]]], [[[1, 1]]]],
        exact=True,
    )
    with pytest.raises(ValueError, match="γ = 1 but the state graph has a cycle"):
        evaluate_policy_exact(model, [0, 0, 0], [[0]] * 3)


def test_discounted_tolerance_evaluates_the_behaviour_actually_taken():
    """γ < 1, the float policy of the meta-algorithm: with τ = 10⁻⁹ the agent follows in
    every state, and its values are those of that behaviour (an exact linear solve), equal to
    the float ones up to rounding."""
    from solvers.meta_algorithm import meta_algorithm

    model = random_instance(5, 2, 2, seed=1, episodic=False)
    result = meta_algorithm(model)
    assert result.converged
    sol = result.solution
    ev = evaluate_policy_exact(model, sol.recommended, sol.contracts, tie_tolerance=F(1, 10**9))
    assert ev.followed.all()
    np.testing.assert_allclose(ev.agent_values.astype(float), sol.agent_values, atol=1e-9)
    np.testing.assert_allclose(ev.principal_values.astype(float), sol.principal_values, atol=1e-9)
