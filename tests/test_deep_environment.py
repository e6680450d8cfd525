"""Tests of solvers.deep.environment: sampling follows 𝒪 and T, episodes restart at s0."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.deep.environment import VectorEnv
from theory.generators import paper_tree, random_instance


def test_tree_children_follow_the_outcome() -> None:
    model = paper_tree(3, 0)
    env = VectorEnv(model, 4000)
    rng = np.random.default_rng(0)
    actions = np.ones(4000, dtype=np.int64)  # costly action: o1 (right child) w.p. 0.9
    step = env.step(actions, rng)
    assert abs(np.mean(step.outcomes) - 0.9) < 0.02
    np.testing.assert_array_equal(step.next_states, np.where(step.outcomes == 1, 2, 1))
    assert not step.done.any()
    np.testing.assert_array_equal(env.states, step.next_states)


def test_leaves_end_the_episode_and_restart() -> None:
    model = paper_tree(2, 0)
    env = VectorEnv(model, 5)
    rng = np.random.default_rng(1)
    env.step(np.zeros(5, dtype=np.int64), rng)
    assert set(env.states.tolist()) <= {1, 2}
    leaves = env.states.copy()
    step = env.step(np.zeros(5, dtype=np.int64), rng)
    assert step.done.all()
    np.testing.assert_array_equal(step.next_states, leaves)  # placeholder where done
    np.testing.assert_array_equal(env.states, np.zeros(5))


def test_multi_successor_transitions_match_their_probabilities() -> None:
    model = random_instance(8, 2, 3, seed=4, branching=3, terminal_share=0.0)
    n = 60_000
    env = VectorEnv(model, n)
    rng = np.random.default_rng(2)
    state, action = 0, 1
    outcomes = env.sample_outcomes(np.full(n, state), np.full(n, action), rng.random(n))
    expected = model.outcome_probs[state, action]
    observed = np.bincount(outcomes, minlength=model.n_outcomes) / n
    np.testing.assert_allclose(observed, expected, atol=0.01)
    for o in range(model.n_outcomes):
        succ = model.successors(state, o)
        nxt, done = env.sample_next(np.full(n, state), np.full(n, o), rng.random(n))
        assert not done.any()
        for target, prob in succ:
            assert abs(np.mean(nxt == target) - prob) < 0.01
        assert set(nxt.tolist()) <= {t for t, _ in succ}


def test_same_generator_state_same_trajectory() -> None:
    model = paper_tree(4, 3)
    runs = []
    for _ in range(2):
        env = VectorEnv(model, 8)
        rng = np.random.default_rng(7)
        trace = []
        for _ in range(12):
            step = env.step(rng.integers(0, 2, 8), rng)
            trace.append((step.outcomes.copy(), step.next_states.copy(), env.states.copy()))
        runs.append(trace)
    for a, b in zip(*runs, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_rejects_cyclic_instances() -> None:
    model = random_instance(4, 2, 2, seed=0, episodic=False)
    with pytest.raises(ValueError, match="episodic"):
        VectorEnv(model, 2)


def test_cyclic_instances_are_truncated_after_the_episode_length() -> None:
    """A cyclic instance with ``episode_length = 3``: every copy is back at s0 after exactly 3
    steps; the third step reports its real next state and ``done = False`` (a truncation: the
    game goes on, so the targets still bootstrap)."""
    model = random_instance(4, 2, 2, seed=0, episodic=False)
    env = VectorEnv(model, 50, episode_length=3)
    rng = np.random.default_rng(0)
    for step_number in range(1, 7):
        before = env.states.copy()
        step = env.step(np.zeros(50, dtype=np.int64), rng)
        assert not step.done.any()
        for s, o, s2 in zip(before, step.outcomes, step.next_states, strict=True):
            assert s2 in {t for t, _ in model.successors(int(s), int(o))}
        if step_number % 3 == 0:
            np.testing.assert_array_equal(env.states, model.initial_state)
        else:
            np.testing.assert_array_equal(env.states, step.next_states)


def test_episode_length_must_be_a_positive_integer() -> None:
    model = random_instance(4, 2, 2, seed=0, episodic=False)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="episode_length"):
            VectorEnv(model, 2, episode_length=bad)  # type: ignore[arg-type]
