"""Baselines of the Coin Game (solvers.coin.baselines; PAPER.md §5): the reward each learner
maximises, and the metrics' accounting of payments and accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from solvers.coin.baselines import shape_rewards
from solvers.coin.common import evaluate
from solvers.coin.env import preset

rewards = arrays(np.float64, (5, 2), elements=st.sampled_from([0.0, 0.2, 1.0, -2.0]))


@given(r=rewards, p=st.floats(0, 1))
def test_constant_proportion_preserves_welfare_and_pays_p(r, p):
    shaped = shape_rewards("constant", r, np.zeros((5, 2)), None, None, p)
    np.testing.assert_allclose(shaped.sum(axis=1), r.sum(axis=1), atol=1e-12)
    # each agent receives p · mean welfare: p of the welfare in total
    np.testing.assert_allclose(shaped, (1 - p) * r + p * r.mean(axis=1, keepdims=True))


@given(r=rewards)
def test_selfish_and_cooperative(r):
    a = np.zeros((5, 2))
    np.testing.assert_array_equal(shape_rewards("selfish", r, a, None, None, 0.0), r)
    coop = shape_rewards("cooperative", r, a, None, None, 0.0)
    np.testing.assert_array_equal(coop[:, 0], r.sum(axis=1))
    np.testing.assert_array_equal(coop[:, 1], r.sum(axis=1))


@given(
    r=rewards,
    acts=arrays(np.int64, (5, 2), elements=st.integers(0, 3)),
    recs=arrays(np.int64, (5, 2), elements=st.integers(0, 3)),
    pay=arrays(np.float64, (5, 2), elements=st.floats(0, 3)),
)
def test_validation_agents_are_paid_iff_they_follow(r, acts, recs, pay):
    shaped = shape_rewards("validation", r, acts, recs, pay, 0.0)
    np.testing.assert_allclose(shaped, r + np.where(acts == recs, pay, 0.0))


def test_evaluate_counts_payments_only_when_followed():
    rules = preset("paper-3x3")

    def never_follow(states):
        acts = np.zeros((states.shape[0], 2), dtype=np.int64)
        return acts, acts + 1, np.ones((states.shape[0], 2))

    def always_follow(states):
        acts = np.zeros((states.shape[0], 2), dtype=np.int64)
        return acts, acts, np.ones((states.shape[0], 2))

    e0 = evaluate(rules, 10, 0, never_follow, "cpu")
    e1 = evaluate(rules, 10, 0, always_follow, "cpu")
    assert e0.payments == 0 and e0.accuracy == 0
    assert e1.accuracy == 1 and e1.payments == pytest.approx(2 * 20)
    assert e0.welfare == e1.welfare  # same moves, same seed
    assert e1.proportion_paid == pytest.approx(40 / e1.welfare)


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown reward mode"):
        shape_rewards("nope", np.zeros((1, 2)), np.zeros((1, 2)), None, None, 0.0)  # type: ignore[arg-type]
