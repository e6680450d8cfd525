"""Rules of the Coin Game (solvers.coin.env; PAPER.md §6): moves, pickups, colours, respawn,
rewards per preset, observations, episode length, seeding. Unit tests and Hypothesis properties;
the batched game is checked against the plain single-game reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.coin.env import (
    PRESETS,
    BatchedCoinGame,
    CoinGame,
    CoinGameRules,
    kth_free_cell,
    move_table,
    observe,
    preset,
)

PRESET_NAMES = sorted(PRESETS)


@st.composite
def game_states(draw: st.DrawFn, n: int) -> tuple[int, int, int, int]:
    """A reachable state: agents anywhere, coin on a free cell."""
    cells = n * n
    red = draw(st.integers(0, cells - 1))
    blue = draw(st.integers(0, cells - 1))
    coin = draw(st.sampled_from([c for c in range(cells) if c not in (red, blue)]))
    return red, blue, coin, draw(st.integers(0, 1))


def one_game(rules: CoinGameRules | str, state: tuple[int, int, int, int], seed: int = 0):
    env = BatchedCoinGame(1, rules, seed)
    env.set_state(np.array([state]))
    return env


# -- moves ---------------------------------------------------------------------------------


def test_moves_wrap_and_walls_on_3x3():
    wrap = move_table(CoinGameRules(edges="wrap"))
    walls = move_table(CoinGameRules(edges="walls"))
    # cell 0 is the top-left corner; actions: up, down, left, right
    assert list(wrap[0]) == [6, 3, 2, 1]
    assert list(walls[0]) == [0, 3, 0, 1]
    assert list(wrap[4]) == list(walls[4]) == [1, 7, 3, 5]


@given(n=st.integers(2, 7), edges=st.sampled_from(["wrap", "walls"]))
def test_moves_change_one_coordinate_by_at_most_one(n, edges):
    table = move_table(CoinGameRules(grid_size=n, edges=edges))
    for cell in range(n * n):
        r, c = divmod(cell, n)
        for a in range(4):
            r2, c2 = divmod(int(table[cell, a]), n)
            dr = min((r2 - r) % n, (r - r2) % n)
            dc = min((c2 - c) % n, (c - c2) % n)
            assert dr + dc <= 1
            if edges == "wrap":
                assert dr + dc == 1  # a torus move always moves (n ≥ 2)


# -- pickups, colours, rewards ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper-3x3", "both-3x3", "walls-3x3"])
def test_paper_rewards_own_and_other_colour(name):
    # red at 0, coin at 1 (red coin): red moves right and collects +1
    env = one_game(name, (0, 8, 1, 0))
    res = env.step(np.array([[3, 0]]))
    assert res.rewards.tolist() == [[1.0, 0.0]]
    assert res.picked.tolist() == [[True, False]] and res.own_colour.tolist() == [[True, False]]
    # blue coin collected by red: +0.2 to red, no penalty to blue (paper)
    env = one_game(name, (0, 8, 1, 1))
    res = env.step(np.array([[3, 0]]))
    assert res.rewards[0].tolist() == pytest.approx([0.2, 0.0])
    assert res.own_colour.tolist() == [[False, False]]


def test_lola_penalty_goes_to_the_owner():
    env = one_game("lola-3x3", (0, 8, 1, 1))  # blue coin, red collects
    res = env.step(np.array([[3, 0]]))
    assert res.rewards[0].tolist() == [1.0, -2.0]


def test_simultaneous_pickup_both_collect():
    # red at 0, blue at 2, coin at 1 (blue coin): both step onto it
    env = one_game("both-3x3", (0, 2, 1, 1))
    res = env.step(np.array([[3, 2]]))
    assert res.rewards[0].tolist() == pytest.approx([0.2, 1.0])
    assert res.picked.tolist() == [[True, True]]


def test_simultaneous_pickup_random_single_collector_fair():
    b = 4000
    env = BatchedCoinGame(b, "paper-3x3", 1)
    env.set_state(np.tile([0, 2, 1, 1], (b, 1)))
    res = env.step(np.tile([3, 2], (b, 1)))
    assert np.all(res.picked.sum(axis=1) == 1)
    red_share = res.picked[:, 0].mean()
    assert abs(red_share - 0.5) < 4 * 0.5 / np.sqrt(b)
    expected = np.where(res.picked[:, :1], [0.2, 0.0], [0.0, 1.0])
    np.testing.assert_allclose(res.rewards, expected)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(PRESET_NAMES))
def test_step_agrees_with_single_game_reference(data, name):
    """Batched step = one of the reference's chance outcomes, with its rewards."""
    rules = preset(name)
    state = data.draw(game_states(rules.grid_size))
    actions = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
    env = one_game(rules, state, seed=data.draw(st.integers(0, 2**16)))
    res = env.step(np.array([actions]))
    ref = CoinGame(rules)
    ref.red, ref.blue, ref.coin, ref.colour = state
    outcomes = ref.outcomes(*actions)
    assert sum(p for p, _, _ in outcomes) == pytest.approx(1.0)
    got = (tuple(int(v) for v in env.state[0]), tuple(res.rewards[0].tolist()))
    support = {(s, tuple(round(x, 12) for x in r)) for p, s, r in outcomes if p > 0}
    assert (got[0], tuple(round(x, 12) for x in got[1])) in support


@settings(max_examples=40, deadline=None)
@given(data=st.data(), name=st.sampled_from(PRESET_NAMES))
def test_no_pickup_leaves_the_coin(data, name):
    rules = preset(name)
    state = data.draw(game_states(rules.grid_size))
    actions = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
    env = one_game(rules, state)
    res = env.step(np.array([actions]))
    if not res.picked.any():
        assert env.state[0, 2:].tolist() == list(state[2:])
        assert res.rewards.tolist() == [[0.0, 0.0]]
    else:
        assert res.rewards.any()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(PRESET_NAMES))
def test_coin_never_on_an_agent_and_colours_valid(seed, name):
    rules = preset(name)
    env = BatchedCoinGame(64, rules, seed)
    rng = np.random.default_rng(seed)
    for _ in range(rules.episode_length):
        colour_before = env.colour.copy()
        res = env.step(rng.integers(4, size=(64, 2)))
        s = env.state
        assert np.all((s[:, 2] != s[:, 0]) & (s[:, 2] != s[:, 1]))
        assert set(np.unique(s[:, 3])) <= {0, 1}
        taken = res.picked.any(axis=1)
        if rules.respawn_colour == "alternate":
            assert np.all(s[taken, 3] == 1 - colour_before[taken])
        assert np.all(s[~taken, 3] == colour_before[~taken])


def test_respawn_uniform_over_free_cells_and_colours():
    b = 9000
    env = BatchedCoinGame(b, "paper-3x3", 3)
    env.set_state(np.tile([0, 4, 1, 0], (b, 1)))
    env.step(np.tile([3, 0], (b, 1)))  # red right and blue up: both land on the coin at 1
    # exactly one collects; both agents now share cell 1, so the 8 other cells are free
    cells = env.coin
    counts = np.bincount(cells, minlength=9)
    assert counts[1] == 0
    free = [c for c in range(9) if c != 1]
    expected = b / len(free)
    chi2 = float((((counts[free] - expected) ** 2) / expected).sum())
    assert chi2 < 30.0  # 7 degrees of freedom: P(χ² > 30) < 1e-4
    assert abs(env.colour.mean() - 0.5) < 4 * 0.5 / np.sqrt(b)


@given(
    red=st.integers(0, 48),
    blue=st.integers(0, 48),
)
def test_kth_free_cell_enumerates_free_cells_in_order(red, blue):
    free = [c for c in range(49) if c not in (red, blue)]
    k = np.arange(len(free))
    got = kth_free_cell(k, np.full_like(k, red), np.full_like(k, blue))
    assert got.tolist() == free


# -- episodes, resets, observations ------------------------------------------------------------


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_episode_length_and_reset(name):
    rules = preset(name)
    env = BatchedCoinGame(8, rules, 0)
    dones = [env.step(np.zeros((8, 2), dtype=np.int64)).done for _ in range(rules.episode_length)]
    assert dones == [False] * (rules.episode_length - 1) + [True]
    s = env.reset()
    assert env.t == 0
    assert np.all((s[:, 2] != s[:, 0]) & (s[:, 2] != s[:, 1]))


def test_reset_distribution_covers_all_cells():
    env = BatchedCoinGame(20000, "paper-3x3", 5)
    s = env.state
    for col in range(3):
        counts = np.bincount(s[:, col], minlength=9)
        assert counts.min() > 0.8 * 20000 / 9
    assert np.all((s[:, 2] != s[:, 0]) & (s[:, 2] != s[:, 1]))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(2, 7))
def test_observation_channels(data, n):
    state = data.draw(game_states(n))
    obs = observe(np.array([state]), n)[0].reshape(2, 4, n * n)
    red, blue, coin, colour = state
    for i, (own, other) in enumerate(((red, blue), (blue, red))):
        assert obs[i, 0].sum() == 1 and obs[i, 0, own] == 1
        assert obs[i, 1].sum() == 1 and obs[i, 1, other] == 1
        own_coin = 2 if colour == i else 3
        assert obs[i, own_coin, coin] == 1 and obs[i, 2:].sum() == 1
    # red's view is the paper's order: red, blue, red coin, blue coin
    assert obs[0, 2, coin] == (colour == 0)


def test_same_seed_same_trajectory_and_different_seed_differs():
    def trajectory(seed):
        env = BatchedCoinGame(32, "paper-3x3", seed)
        rng = np.random.default_rng(99)
        out = [env.state]
        for _ in range(20):
            env.step(rng.integers(4, size=(32, 2)))
            out.append(env.state)
        return np.stack(out)

    assert np.array_equal(trajectory(1), trajectory(1))
    assert not np.array_equal(trajectory(1), trajectory(2))


def test_single_game_reference_runs_an_episode():
    g = CoinGame("paper-3x3", seed=0)
    total = 0.0
    done = False
    steps = 0
    while not done:
        r, done = g.step(steps % 4, (steps + 1) % 4)
        total += sum(r)
        steps += 1
        assert g.coin not in (g.red, g.blue)
    assert steps == 20 and total >= 0


def test_rules_validate_arguments():
    with pytest.raises(ValueError, match="grid_size"):
        CoinGameRules(grid_size=1)
    with pytest.raises(ValueError, match="edges"):
        CoinGameRules(edges="mirror")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown Coin Game preset"):
        preset("nope")


@pytest.mark.parametrize("name", ["paper-3x3", "lola-3x3", "walls-3x3"])
def test_stacked_game_is_each_of_its_batched_games(name):
    """StackedCoinGame over K BatchedCoinGames produces, game by game, exactly the states,
    rewards and episode ends of K separate BatchedCoinGames with equal generators (through
    episode resets), and store() hands the states back."""
    from solvers.coin.env import StackedCoinGame

    k, b = 3, 5
    envs = [BatchedCoinGame(b, name, np.random.default_rng([7, j])) for j in range(k)]
    refs = [BatchedCoinGame(b, name, np.random.default_rng([7, j])) for j in range(k)]
    stacked = StackedCoinGame(envs)
    moves = np.random.default_rng(3)
    length = preset(name).episode_length
    for _ in range(2 * length + 3):
        actions = moves.integers(4, size=(k, b, 2))
        rewards, done = stacked.step(actions)
        for j, ref in enumerate(refs):
            res = ref.step(actions[j])
            np.testing.assert_array_equal(rewards[j], res.rewards)
            np.testing.assert_array_equal(stacked.state[j], ref.state)
            assert done == res.done
        if done:
            stacked.reset()
            for ref in refs:
                ref.reset()
            np.testing.assert_array_equal(stacked.state, np.stack([r.state for r in refs]))
    stacked.store()
    for env, ref in zip(envs, refs, strict=True):
        np.testing.assert_array_equal(env.state, ref.state)
        assert env.t == ref.t
