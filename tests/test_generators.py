"""Tests of theory.generators."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theory.generators import exactify, paper_tree, random_instance, three_state_example


def test_paper_tree_matches_the_paper_description():
    """PAPER.md §6: 2^depth − 1 states, P(o1|a0) = 0.1, P(o1|a1) = 0.9, reward ranges."""
    tree = paper_tree(10, 7)
    assert tree.n_states == 1023 and tree.discount == 1.0
    assert np.all(tree.outcome_probs[:, 0] == (0.9, 0.1))
    assert np.all(tree.outcome_probs[:, 1] == (0.1, 0.9))
    assert np.all(tree.agent_reward[:, 0] == 0) and np.all(tree.principal_reward[:, 0] == 0)
    cost = -tree.agent_reward[:, 1]
    assert np.all((0 <= cost) & (cost <= 1))
    assert np.all((0 <= tree.principal_reward[:, 1]) & (tree.principal_reward[:, 1] <= 2))
    # o0 → left child, o1 → right child, leaves end the episode
    assert tree.successors(0, 0) == [(1, 1.0)] and tree.successors(0, 1) == [(2, 1.0)]
    assert tree.successors(1022, 0) == []
    assert tree.heights[0] == 9


def test_paper_tree_is_seeded_and_repeatable():
    a, b, c = paper_tree(6, 1), paper_tree(6, 1), paper_tree(6, 2)
    assert np.array_equal(a.agent_reward, b.agent_reward)
    assert not np.array_equal(a.agent_reward, c.agent_reward)
    rng_tree = paper_tree(6, np.random.default_rng(1))
    assert np.array_equal(rng_tree.principal_reward, a.principal_reward)


def test_paper_tree_rejects_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        paper_tree(0)


def test_three_state_example_numbers():
    model = three_state_example(discount=Fraction(9, 10))
    assert model.exact is not None
    assert model.exact.discount == Fraction(9, 10)
    assert model.exact.principal_reward[0, 0] == Fraction(14, 9)
    observed = three_state_example(observed_action=True)
    assert observed.observed_action and observed.outcomes == observed.actions


@pytest.mark.parametrize("episodic", [True, False])
def test_random_instances_are_exact_and_seeded(episodic):
    a = random_instance(7, 3, 4, seed=11, episodic=episodic)
    b = random_instance(7, 3, 4, seed=11, episodic=episodic)
    assert a.exact is not None
    assert np.array_equal(a.exact.agent_reward, b.exact.agent_reward)
    assert a.is_episodic or not episodic
    assert a.discount == (1.0 if episodic else 0.9)
    grid = a.exact.outcome_probs * 20
    assert all(x.denominator == 1 for x in grid.ravel())


def test_random_instance_validates_sizes():
    with pytest.raises(ValueError, match="n_actions"):
        random_instance(3, 0, 2)
    with pytest.raises(ValueError, match="discount"):
        random_instance(3, 2, 2, episodic=False, discount=1)


def test_exactify_keeps_numbers():
    tree = paper_tree(3, 0)
    exact = exactify(tree)
    assert exact.exact is not None
    assert np.array_equal(exact.agent_reward, tree.agent_reward)
