"""Tests of the instance transforms (theory/transforms.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from claims_helpers import THREE

from properties.claims.metamorphic import check_observed_action
from theory.generators import random_instance, three_state_example
from theory.transforms import (
    first_best_values,
    no_contract_agent_values,
    observed_counterpart,
    relabel,
    scale_rewards,
)


def test_observed_counterpart_adds_an_end_state_when_needed():
    model = random_instance(4, 2, 2, seed=3)
    counterpart = observed_counterpart(model)
    assert counterpart.observed_action and counterpart.n_states in (4, 5)
    assert check_observed_action(model).holds


def test_relabel_round_trip():
    other = relabel(THREE, [1, 2, 0], [1, 0], [1, 0])
    back = relabel(other, [2, 0, 1], [1, 0], [1, 0])
    assert back.states == THREE.states and np.array_equal(back.agent_reward, THREE.agent_reward)


def test_first_best_and_no_contract_values_of_the_three_state_example():
    """By hand (γ = 1): at a leaf the planner's stage welfare is r(aL) + E_{aL}[r^p] =
    −4/5 + 9/10 · 14/9 = 3/5 against r(aR) + E_{aR}[r^p] = 1/10 · 14/9 = 7/45, so W* = 3/5;
    at s0, aL gives −4/5 + 9/10 · 14/9 + 3/5 = 6/5 (both children are worth 3/5) against
    7/45 + 3/5 = 34/45, so W*(s0) = 6/5. Unpaid, the agent takes aR (0 > −4/5) everywhere:
    V^a_0 = 0."""
    assert first_best_values(THREE) == [Fraction(6, 5), Fraction(3, 5), Fraction(3, 5)]
    assert no_contract_agent_values(THREE) == [0, 0, 0]


def test_scale_rewards_multiplies_every_reward_exactly():
    scaled = scale_rewards(THREE, Fraction(3))
    data, base = scaled.exact_data(), THREE.exact_data()
    assert (data.agent_reward == base.agent_reward * 3).all()
    assert (data.principal_reward == base.principal_reward * 3).all()
    assert first_best_values(scaled) == [Fraction(18, 5), Fraction(9, 5), Fraction(9, 5)]


def test_observed_counterpart_of_the_three_state_example_is_its_observed_variant():
    """PAPER.md §7 builds the observed variant with the same expectations; so does
    three_state_example(observed_action=True), independently."""
    got = observed_counterpart(THREE)
    want = three_state_example(observed_action=True)
    assert got.observed_action and got.n_states == 3
    a, b = got.exact_data(), want.exact_data()
    for field in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
        assert (getattr(a, field) == getattr(b, field)).all(), field
    assert got.transition_next.tolist() == want.transition_next.tolist()
    assert got.transition_offsets.tolist() == want.transition_offsets.tolist()


def test_relabel_moves_every_entry_with_its_labels():
    states, actions, outcomes = [2, 0, 1], [1, 0], [1, 0]
    other = relabel(THREE, states, actions, outcomes)
    assert list(other.states) == [THREE.states[s] for s in states]
    assert other.initial_state == states.index(THREE.initial_state)
    for i, s in enumerate(states):
        for j, a in enumerate(actions):
            assert other.agent_reward[i, j] == THREE.agent_reward[s, a]
            for k, o in enumerate(outcomes):
                assert other.outcome_probs[i, j, k] == THREE.outcome_probs[s, a, o]
