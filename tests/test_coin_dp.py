"""Exact DP on the Coin Game (solvers.coin.dp): the welfare optimum checked against brute-force
expectimax over the single-game reference simulator on tiny boards, against Monte Carlo rollouts
of the batched game, and the best-response DP behind the SPE / IC ratios."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.coin.dp import TabularCoinGame, welfare_optimum
from solvers.coin.env import PRESETS, BatchedCoinGame, CoinGame, CoinGameRules, preset


def brute_force_value(rules: CoinGameRules, state: tuple[int, int, int, int]) -> float:
    """Expectimax over every joint move and every chance outcome of the reference simulator."""
    game = CoinGame(rules)

    @cache
    def value(s: tuple[int, int, int, int], steps_left: int) -> float:
        if steps_left == 0:
            return 0.0
        best = -np.inf
        for ar in range(4):
            for ab in range(4):
                game.red, game.blue, game.coin, game.colour = s
                total = 0.0
                for p, nxt, rew in game.outcomes(ar, ab):
                    total += p * (sum(rew) + value(nxt, steps_left - 1))
                best = max(best, total)
        return best

    return value(state, rules.episode_length)


TINY = [
    replace(PRESETS[name], grid_size=2, episode_length=4)
    for name in ("paper-3x3", "both-3x3", "walls-3x3", "lola-3x3")
]


@pytest.mark.parametrize("rules", TINY, ids=["paper", "both", "walls", "lola"])
def test_dp_equals_brute_force_on_2x2(rules):
    model = TabularCoinGame(rules)
    dp = model.welfare_optimum()
    for s in np.flatnonzero(model.valid):
        state = tuple(int(v) for v in model.states()[s])
        assert dp.values[0, s] == pytest.approx(brute_force_value(rules, state), abs=1e-9)


def test_dp_equals_brute_force_on_3x3_short_horizon():
    rules = replace(preset("paper-3x3"), episode_length=2)
    model = TabularCoinGame(rules)
    dp = model.welfare_optimum()
    rng = np.random.default_rng(0)
    for s in rng.choice(np.flatnonzero(model.valid), size=25, replace=False):
        state = tuple(int(v) for v in model.states()[s])
        assert dp.values[0, s] == pytest.approx(brute_force_value(rules, state), abs=1e-9)


@pytest.mark.parametrize("name", ["paper-3x3", "both-3x3", "lola-3x3"])
def test_dp_value_matches_rollouts_of_the_batched_game(name):
    """Playing the DP's time-dependent policy in the batched game reaches the DP value."""
    rules = preset(name)
    model = TabularCoinGame(rules)
    dp = model.welfare_optimum()
    b = 4000
    env = BatchedCoinGame(b, rules, 11)
    totals = np.zeros(b)
    for t in range(rules.episode_length):
        s = model.index(env.red, env.blue, env.coin, env.colour)
        res = env.step(dp.policy[t, s])
        totals += res.rewards.sum(axis=1)
    se = totals.std() / np.sqrt(b)
    assert abs(totals.mean() - dp.value) < 4 * se + 1e-9


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(["paper-3x3", "walls-3x3"]))
def test_optimum_bounds_every_stationary_policy(seed, name):
    model = TabularCoinGame(name)
    opt = model.welfare_optimum().value
    policy = np.random.default_rng(seed).integers(4, size=(model.num_states, 2))
    assert sum(model.evaluate(policy)) <= opt + 1e-9


def test_optimum_numbers_3x3():
    """Recorded optimum per episode of the 3×3 presets (also in docs/COIN.md)."""
    assert welfare_optimum("paper-3x3") == pytest.approx(13.9, abs=1e-6)
    assert welfare_optimum("both-3x3") == pytest.approx(15.815873160647, abs=1e-6)
    # more coins can never be collected than steps × 1.2
    assert welfare_optimum("both-3x3") <= 20 * 1.2


def test_optimal_stationary_policy_is_optimal_from_time_zero():
    model = TabularCoinGame("paper-3x3")
    dp = model.welfare_optimum()
    assert sum(model.evaluate(dp.policy[0])) <= dp.value + 1e-9
    assert sum(model.evaluate(dp.policy[0])) >= 0.99 * dp.value


# -- best responses (SPE / IC ratios) ---------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_best_response_at_least_following(seed):
    model = TabularCoinGame("paper-3x3")
    rng = np.random.default_rng(seed)
    s = model.num_states
    other, rec = rng.integers(4, size=s), rng.integers(4, size=s)
    pay = rng.random(s)
    br, follow = model.agent_values(1, other, rec, pay)
    assert br.value >= follow - 1e-9
    assert model.best_response_ratio(1, other, rec, pay) >= 1 - 1e-12


def test_large_payments_make_following_the_best_response():
    model = TabularCoinGame("paper-3x3")
    rng = np.random.default_rng(0)
    s = model.num_states
    other, rec = rng.integers(4, size=s), rng.integers(4, size=s)
    assert model.best_response_ratio(0, other, rec, np.full(s, 100.0)) == pytest.approx(1.0)


def test_best_response_without_payments_is_single_agent_optimum():
    """With no payments the best response ignores the recommendation."""
    model = TabularCoinGame("paper-3x3")
    rng = np.random.default_rng(1)
    s = model.num_states
    other = rng.integers(4, size=s)
    a, _ = model.agent_values(1, other, rng.integers(4, size=s), np.zeros(s))
    b, _ = model.agent_values(1, other, rng.integers(4, size=s), np.zeros(s))
    assert a.value == pytest.approx(b.value)
    # and the follow value of the best-response's own moves equals it (time 0 policy is a lower
    # bound, being stationary)
    joint = np.stack([a.policy[0, :, 0], other], axis=1)[:, ::-1]
    assert model.evaluate(joint)[1] <= a.value + 1e-9
