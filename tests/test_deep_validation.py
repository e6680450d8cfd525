"""Tests of solvers.deep.validation against the exact solvers (independent code paths)."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.backward_induction import solve_backward_induction
from solvers.contracts import minimal_contracts
from solvers.deep.validation import Validator
from solvers.evaluation import evaluate_policy
from solvers.meta_algorithm import agent_q_bar_minimal
from theory.generators import paper_tree
from theory.ties import Ties


@pytest.fixture(scope="module")
def tree() -> Validator:
    return Validator(paper_tree(6, 1))


def test_the_spe_policy_scores_one_everywhere(tree: Validator) -> None:
    spe = tree.reference
    record, evaluation = tree.evaluate(spe.recommended, spe.contracts, spe.q_bar, iteration=7)
    assert record.iteration == 7
    assert record.principal_ratio == pytest.approx(1.0, abs=1e-12)
    assert record.agent_ratio == pytest.approx(1.0, abs=1e-12)
    assert record.exact_contract_principal_ratio == pytest.approx(1.0, abs=1e-12)
    assert record.accuracy == record.accuracy_weighted == record.follow_rate == 1.0
    assert record.agent_q_error == pytest.approx(0.0, abs=1e-12)
    assert evaluation.followed.all()


def test_minimal_implementation_values_match_the_meta_algorithm_agent_step(tree: Validator) -> None:
    model = tree.model
    rng = np.random.default_rng(0)
    for _ in range(3):
        rec = rng.integers(0, 2, model.n_states)
        q_bar, _ = agent_q_bar_minimal(model, rec)
        contracts = minimal_contracts(q_bar, model.outcome_probs, rec).contracts
        evaluation = evaluate_policy(model, rec, contracts)
        v_p, v_a = tree.minimal_implementation_values(rec)
        assert v_p == pytest.approx(float(evaluation.principal_values[0]), abs=1e-12)
        assert v_a == pytest.approx(float(evaluation.agent_values[0]), abs=1e-12)


def test_visit_probabilities_sum_to_the_episode_length(tree: Validator) -> None:
    model = tree.model
    actions = np.random.default_rng(1).integers(0, 2, model.n_states)
    visits = tree.visit_probabilities(actions)
    assert visits[0] == 1.0
    assert visits.sum() == pytest.approx(6.0)  # one state per level
    # child visit = parent visit × probability of the outcome leading there
    p_right = model.outcome_probs[np.arange(model.n_states), actions, 1]
    internal = np.arange(2**5 - 1)
    np.testing.assert_allclose(visits[2 * internal + 2], visits[internal] * p_right[internal])


def test_an_underpaid_contract_is_a_discontinuity(tree: Validator) -> None:
    """PAPER.md §3: paying the minimal contract minus a hair flips the exact agent's action."""
    spe = tree.reference
    costly = spe.recommended == 1
    assert costly.any()
    short = spe.contracts.copy()
    short[costly, 1] -= 1e-6
    record, evaluation = tree.evaluate(spe.recommended, np.maximum(short, 0.0))
    assert not evaluation.followed[costly & (spe.contracts[:, 1] > 1e-6)].any()
    assert record.principal_ratio < 0.9
    assert np.isnan(record.agent_q_error)
    nudged = solve_backward_induction(tree.model, ties=Ties(margin=0.01))
    nudged_record, _ = tree.evaluate(nudged.recommended, nudged.contracts)
    assert nudged_record.follow_rate == 1.0
    assert 0.9 < nudged_record.principal_ratio < 1.0  # the margin's price


def test_cyclic_instances_validate_against_the_exact_fixed_point() -> None:
    """A discounted instance (γ = 1/2): the exact-contract value of a profile equals the exact
    rational fixed point of that profile (``solvers.equilibria.profile_fixed_point`` via
    ``pure_stationary``, an independent exact method), and the discounted visits of a play
    without terminal transitions sum to 1/(1 − γ) = 2."""
    from solvers.equilibria import pure_stationary
    from theory.generators import random_instance as generate

    model = generate(3, 2, 2, seed=5, episodic=False, discount="1/2")
    validator = Validator(model)
    results, _ = pure_stationary(model)
    s0 = model.initial_state
    for r in results:
        profile = np.array(r.fixed_point.recommended, dtype=np.int64)
        value, _ = validator.minimal_implementation_values(profile)
        assert value == pytest.approx(float(r.principal_values[s0]), abs=1e-9)
    visits = validator.visit_probabilities(np.zeros(model.n_states, dtype=np.int64))
    has_terminal = bool(np.any(np.diff(model.transition_offsets) == 0))
    if not has_terminal:
        assert visits.sum() == pytest.approx(2.0, abs=1e-9)
    assert visits[s0] >= 1.0
