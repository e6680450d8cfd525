"""Tests of solvers.evaluation: the exact best-responding agent against a fixed policy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from solvers.backward_induction import solve_backward_induction
from solvers.evaluation import evaluate_policy, state_action_transitions
from theory.generators import paper_tree, random_instance, three_state_example


def test_spe_policy_evaluates_to_spe_values():
    """Evaluating the SPE's own policy reproduces its values (the agent follows everywhere)."""
    tree = paper_tree(7, 2)
    spe = solve_backward_induction(tree)
    evaluation = evaluate_policy(tree, spe.recommended, spe.contracts)
    assert evaluation.followed.all()
    assert np.allclose(evaluation.principal_values, spe.principal_values, atol=1e-12)
    assert np.allclose(evaluation.agent_values, spe.agent_values, atol=1e-12)
    assert np.allclose(evaluation.q_bar, spe.q_bar, atol=1e-12)


def test_zero_contracts_three_state():
    """No payments: at a leaf the agent prefers aR (0 > −4/5), so the principal gets
    9/10·0 + 1/10·14/9 = 7/45 there; at s0 the agent again takes aR (its continuation is 0
    either way), principal 7/45 + 1/10·7/45 + 9/10·7/45 = 14/45."""
    model = three_state_example()
    evaluation = evaluate_policy(model, [-1, -1, -1], np.zeros((3, 2)))
    assert evaluation.agent_actions.tolist() == [1, 1, 1]
    assert np.allclose(evaluation.principal_values, [14 / 45, 7 / 45, 7 / 45], atol=1e-12)
    assert np.allclose(evaluation.agent_values, 0.0, atol=1e-12)


def test_contract_one_percent_short_is_not_followed():
    """Lower sL's contract to b(L) = 0.99. At sL: aL gives −0.8 + 0.891 = 0.091 < aR's
    0.1·0.99 = 0.099, so the agent deviates and earns 0.099. Upstream at s0 this changes the
    continuation: Q̄(aL) − Q̄(aR) = (−0.8 + 0.9·0.099 + 0.1·0.1) − (0.1·0.099 + 0.9·0.1)
    = −0.8008, so the unchanged b(L) = 1 at s0 (worth 0.8 in the IC constraint) no longer
    suffices and the agent deviates at s0 too. sR is untouched."""
    model = three_state_example()
    spe = solve_backward_induction(model)
    contracts = np.array(spe.contracts, dtype=float)
    contracts[1] *= 0.99
    evaluation = evaluate_policy(model, spe.recommended, contracts)
    assert evaluation.followed.tolist() == [False, False, True]


def test_ties_go_to_the_recommendation():
    """With b(L) = 1 the agent is exactly indifferent everywhere: at a leaf aL gives
    −4/5 + 9/10 = 1/10 and aR gives 1/10; at s0 both give 1/10 + 1/10 = 1/5. So whichever action
    is recommended is followed (ties to the recommendation, PAPER.md §1)."""
    model = three_state_example()
    for action in (0, 1):
        evaluation = evaluate_policy(model, [action] * 3, [[1.0, 0.0]] * 3)
        assert evaluation.followed.all()
        assert np.allclose(evaluation.agent_values, [0.2, 0.1, 0.1], atol=1e-12)


def test_discounted_evaluation_is_bellman_consistent():
    """V^a(s) = max_a Q(s, a) and Q̄ = r + γ P V^a with P(s'|s,a) = Σ_o 𝒪(s,a)(o) T(s,o)(s');
    the principal's values solve V^p = R^p_π + γ P_π V^p."""
    model = random_instance(6, 3, 2, seed=1, episodic=False)
    rng = np.random.default_rng(0)
    contracts = rng.uniform(0, 1, size=(6, 2))
    evaluation = evaluate_policy(model, rng.integers(0, 3, 6), contracts)
    p_sa = state_action_transitions(model).toarray().reshape(6, 3, 6)
    q_bar = model.agent_reward + model.discount * p_sa @ evaluation.agent_values
    assert np.allclose(q_bar, evaluation.q_bar, atol=1e-9)
    assert np.allclose(evaluation.agent_values, evaluation.agent_q.max(axis=1), atol=1e-9)
    states = np.arange(6)
    taken = evaluation.agent_actions
    reward = np.einsum(
        "so,so->s", model.outcome_probs[states, taken], model.principal_reward - contracts
    )
    expected = reward + model.discount * p_sa[states, taken] @ evaluation.principal_values
    assert np.allclose(evaluation.principal_values, expected, atol=1e-9)


@pytest.mark.parametrize(
    "model",
    [
        random_instance(7, 3, 4, seed=2, episodic=False),
        random_instance(9, 2, 2, seed=3),
        random_instance(5, 3, 3, seed=4, observed_action=True),
        three_state_example(),
    ],
)
def test_state_action_transitions_is_the_definition(model):
    """Entry (s·A + a, s') is Σ_o 𝒪(s,a)(o) T(s,o)(s'), summed here by loops over the CSR
    storage; and the matrix (structure and values) is the product of scipy's block_diag of the
    per-state outcome matrices with T, the construction it replaces."""
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    expected = np.zeros((n_s * n_a, n_s))
    for s in range(n_s):
        for a in range(n_a):
            for o in range(n_o):
                for t, q in model.successors(s, o):
                    expected[s * n_a + a, t] += model.outcome_probs[s, a, o] * q
    got = state_action_transitions(model)
    assert np.allclose(got.toarray(), expected, rtol=0, atol=1e-15)
    blocks = sp.block_diag([sp.csr_matrix(model.outcome_probs[s]) for s in range(n_s)])
    old = (blocks.tocsr() @ model.transition_matrix).tocsr()
    got.sort_indices()
    old.sort_indices()
    assert got.indptr.tolist() == old.indptr.tolist()
    assert got.indices.tolist() == old.indices.tolist()
    assert got.data.tolist() == old.data.tolist()


def test_policy_shape_errors():
    model = three_state_example()
    with pytest.raises(ValueError, match="recommended"):
        evaluate_policy(model, [0, 0], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="contracts"):
        evaluate_policy(model, [0, 0, 0], np.zeros((3, 3)))


def test_negative_or_nan_payments_are_rejected():
    model = three_state_example()
    with pytest.raises(ValueError, match=r"contracts\[0\]\[0\]: payments must be"):
        evaluate_policy(model, [0, 0, 0], [[-5, 0]] * 3)
    with pytest.raises(ValueError, match=r"contracts\[1\]\[1\]"):
        evaluate_policy(model, [0, 0, 0], [[0, 0], [0, float("nan")], [0, 0]])
