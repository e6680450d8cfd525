"""PettingZoo wrapper of the Coin Game (solvers.coin.pettingzoo_env): PettingZoo's own
conformance test, seeding, and agreement with the batched game."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from solvers.coin.env import PRESETS, BatchedCoinGame
from solvers.coin.pettingzoo_env import CoinGameParallelEnv


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parallel_api_test_passes(name):
    parallel_api_test(CoinGameParallelEnv(name), num_cycles=200)


def test_parallel_seed_test_passes():
    parallel_seed_test(lambda: CoinGameParallelEnv("paper-3x3"))


def test_episode_truncates_at_the_time_limit_and_matches_the_batched_game():
    env = CoinGameParallelEnv("paper-3x3")
    obs, _ = env.reset(seed=7)
    ref = BatchedCoinGame(1, "paper-3x3", 7)
    rng = np.random.default_rng(0)
    for t in range(20):
        assert env.agents == ["red", "blue"]
        np.testing.assert_array_equal(obs["red"], ref.observations()[0, 0])
        a = rng.integers(4, size=2)
        obs, rew, term, trunc, info = env.step({"red": int(a[0]), "blue": int(a[1])})
        res = ref.step(a[None])
        assert [rew["red"], rew["blue"]] == res.rewards[0].tolist()
        assert not any(term.values())
        assert all(trunc.values()) == (t == 19)
        assert info["red"]["collected"] == bool(res.picked[0, 0])
    assert env.agents == []
    assert env.render().count("\n") == 2


def test_spaces():
    env = CoinGameParallelEnv("paper-7x7")
    assert env.observation_space("red").shape == (4, 7, 7)
    assert env.action_space("blue").n == 4
    env.reset(seed=0)
    assert env.state().shape == (4, 7, 7)
    with pytest.raises(ValueError, match="missing"):
        env.step({"red": 0})
