"""Tests of solvers.backward_induction against hand-derived values (PAPER.md §7)."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from solvers.backward_induction import solve_backward_induction
from solvers.contracts import best_response
from theory.generators import paper_tree, random_instance, three_state_example
from theory.ties import Ties


def _expected_three_state():
    """PAPER.md §7, derived by hand.

    Leaves sL, sR (no continuation): Q̄(aL) = −4/5, Q̄(aR) = 0. Implementing aL needs
    (9/10 − 1/10)·(b(L) − b(R)) ≥ 4/5, so the minimal contract pays b(L) = 1 and costs
    9/10·1 = 9/10. Principal: 9/10·14/9 − 9/10 = 1/2; agent: −4/5 + 9/10 = 1/10. Implementing aR
    pays 0 and yields the principal 1/10·14/9 = 7/45 < 1/2, so aL is recommended.

    Root s0 with γ: both outcomes lead to a leaf worth 1/10 to the agent, so
    Q̄(aL) = −4/5 + γ/10 and Q̄(aR) = γ/10: the difference is 4/5 again, b(L) = 1, cost 9/10.
    V^p(s0) = 9/10·(14/9 − 1) + γ(9/10·1/2 + 1/10·1/2) = 1/2 + γ/2 → 1 (γ = 1), 19/20 (γ = 9/10).
    V^a(s0) = −4/5 + γ/10 + 9/10 = 1/10 + γ/10 → 1/5 (γ = 1), 19/100 (γ = 9/10).

    Observed action (outcomes are actions; aL reaches sL w.p. 9/10, principal reward 14/9·9/10
    = 7/5 for aL and 7/45 for aR): at a leaf pay exactly Q̄(aR) − Q̄(aL) = 4/5 on aL, principal
    7/5 − 4/5 = 3/5, agent 0; at s0 the agent's continuation is 0 either way, so again pay 4/5,
    V^p(s0) = 3/5 + 3/5 = 6/5, V^a(s0) = 0.
    """
    return [
        ({"discount": 1}, F(1), F(1, 5), F(1, 2), F(1, 10), [1, 0]),
        ({"discount": F(9, 10)}, F(19, 20), F(19, 100), F(1, 2), F(1, 10), [1, 0]),
        ({"observed_action": True, "discount": 1}, F(6, 5), F(0), F(3, 5), F(0), [F(4, 5), 0]),
    ]


@pytest.mark.parametrize(
    ("kwargs", "vp0", "va0", "vp_leaf", "va_leaf", "contract"), _expected_three_state()
)
def test_three_state_example_exact(kwargs, vp0, va0, vp_leaf, va_leaf, contract):
    """Exact rational values of PAPER.md §7 (derivation in ``_expected_three_state``)."""
    solution = solve_backward_induction(three_state_example(**kwargs), exact=True)
    assert solution.exact
    assert solution.principal_values.tolist() == [vp0, vp_leaf, vp_leaf]
    assert solution.agent_values.tolist() == [va0, va_leaf, va_leaf]
    assert solution.recommended.tolist() == [0, 0, 0]
    assert [list(row) for row in solution.contracts] == [contract] * 3
    # the unrecommended aR at a leaf: pays nothing, principal gets 7/45 (hidden action)
    if not kwargs.get("observed_action"):
        assert solution.principal_q[1, 1] == F(7, 45)


@pytest.mark.parametrize(
    ("kwargs", "vp0", "va0", "vp_leaf", "va_leaf", "contract"), _expected_three_state()
)
def test_three_state_example_float(kwargs, vp0, va0, vp_leaf, va_leaf, contract):
    """The same values in float mode to 1e-12 (derivation in ``_expected_three_state``)."""
    solution = solve_backward_induction(three_state_example(**kwargs))
    expected_p = [float(vp0), float(vp_leaf), float(vp_leaf)]
    expected_a = [float(va0), float(va_leaf), float(va_leaf)]
    assert np.allclose(solution.principal_values, expected_p, atol=1e-12, rtol=0)
    assert np.allclose(solution.agent_values, expected_a, atol=1e-12, rtol=0)
    assert np.allclose(solution.contracts, [[float(x) for x in contract]] * 3, atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_exact_and_float_agree_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    model = random_instance(
        int(rng.integers(2, 9)),
        int(rng.integers(2, 5)),
        int(rng.integers(2, 5)),
        seed=seed,
        observed_action=bool(seed % 4 == 3),
    )
    exact = solve_backward_induction(model, exact=True)
    approx = solve_backward_induction(model)
    assert np.allclose(approx.principal_values, exact.principal_values.astype(float), atol=1e-9)
    assert np.allclose(approx.agent_values, exact.agent_values.astype(float), atol=1e-9)
    assert np.array_equal(approx.implementable, exact.implementable)


def test_exact_tree_matches_float_tree():
    tree = paper_tree(6, 5)
    exact = solve_backward_induction(tree, exact=True)
    approx = solve_backward_induction(tree)
    assert np.array_equal(exact.recommended, approx.recommended)
    assert abs(float(exact.principal_values[0]) - approx.principal_values[0]) < 1e-12


def test_spe_agent_best_responds_to_every_offered_contract():
    """At every state the agent's best response to the SPE contract is the recommendation."""
    model = random_instance(10, 3, 3, seed=3)
    solution = solve_backward_induction(model)
    response = best_response(
        solution.q_bar, model.outcome_probs, solution.contracts, solution.recommended
    )
    assert np.array_equal(response, solution.recommended)


def test_costly_action_share_on_paper_trees():
    """PAPER.md §6: the costly action is induced in about 60% of states; on 20 depth-10 trees
    the average share must lie in 50–70%."""
    shares = [
        np.mean(solve_backward_induction(paper_tree(10, seed)).recommended == 1)
        for seed in range(20)
    ]
    assert 0.5 <= float(np.mean(shares)) <= 0.7


def test_closed_form_and_lp_paths_agree_on_a_tree():
    tree = paper_tree(7, 1)
    closed = solve_backward_induction(tree, contract_method="closed_form")
    lp = solve_backward_induction(tree, contract_method="lp")
    assert np.allclose(closed.principal_values, lp.principal_values, atol=1e-9)
    assert np.array_equal(closed.recommended, lp.recommended)


def test_cyclic_instance_is_refused():
    model = random_instance(6, 2, 2, seed=4, episodic=False)
    with pytest.raises(ValueError, match="meta-algorithm"):
        solve_backward_induction(model)


def test_margin_with_inseparable_actions_falls_back_to_no_contract():
    """Two actions with identical outcome distributions can never be separated by a strict
    margin ξ > 0: no action is implementable. The principal then offers nothing and the agent
    plays its no-contract best response (argmax Q̄), in float and exact mode alike."""
    model = random_instance(2, 2, 1, seed=0)
    for exact in (False, True):
        solution = solve_backward_induction(model, ties=Ties(margin=5), exact=exact)
        q_bar = np.array(solution.q_bar, dtype=float)
        assert solution.recommended.tolist() == np.argmax(q_bar, axis=1).tolist()
        assert np.all(np.array(solution.contracts, dtype=float) == 0)
        assert np.all(np.isfinite(np.array(solution.principal_values, dtype=float)))


def test_observed_action_tree_keeps_expectations_and_helps_the_principal():
    """The observed-action tree keeps every expectation of the hidden-action tree, so seeing
    the action can only help the principal: V^p observed ≥ V^p hidden at every state."""
    hidden = solve_backward_induction(paper_tree(6, 4))
    observed = solve_backward_induction(paper_tree(6, 4, observed_action=True))
    assert np.all(observed.principal_values >= hidden.principal_values - 1e-12)
