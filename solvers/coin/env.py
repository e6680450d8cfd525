"""The Coin Game, batched (PAPER.md §6 "Coin Game"; Ivanov et al. 2024, §5 and Fig. 2/4).

Two agents, red (index 0) and blue (index 1), move on an ``N × N`` grid. One coin is on the
board at any time; its colour is red (0) or blue (1). Each step both agents move at once
(4 moves: up, down, left, right). An agent that lands on the coin collects it:

* ``own_reward`` (paper: +1) if the coin has the agent's colour,
* ``other_reward`` (paper: +0.2) otherwise,
* the coin's owner receives ``owner_penalty`` when the *other* agent collects its coin
  (paper: 0, the usual −2 of Lerer & Peysakhovich / Foerster et al. is removed).

A collected coin respawns at once at a uniformly random *free* cell (a cell not occupied by an
agent) with a colour drawn by ``respawn_colour``. Episodes last ``episode_length`` steps
(paper: 20 on 3×3, 50 on 7×7). The rules that differ between published variants are
parameters of :class:`CoinGameRules` and the named :data:`PRESETS` fix them (docs/COIN.md):

``edges``
    ``"wrap"`` (torus, as in the LOLA implementation) or ``"walls"`` (a move off the board
    leaves the agent in place).
``simultaneous``
    ``"both"``: both agents landing on the coin both collect it (LOLA); ``"random"``: a fair
    coin decides the single collector.
``respawn_colour``
    ``"random"`` (paper: "a coin of a random colour") or ``"alternate"`` (LOLA: the colour
    flips at each respawn).

Cells are flat indices ``row * N + col``. A game's state is four integers: red cell, blue cell,
coin cell, coin colour (the step counter is shared by all games of a batch because they start
and end together). Agents may share a cell; the coin is never on an agent at decision time.

Observations (PAPER.md §6: 4 channels) are from each agent's own perspective, so one
shared-parameter network serves both agents: channel 0 = own position, 1 = other agent's
position, 2 = coin of the agent's colour, 3 = coin of the other colour. The red agent's view is
the paper's channel order (red position, blue position, red coin, blue coin).

:class:`BatchedCoinGame` steps many games at once with numpy; :class:`CoinGame` is the plain
single-game reference (pure Python) used by the exact tests and as the benchmark baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Moves as (row, column) offsets: 0 up, 1 down, 2 left, 3 right.
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
NUM_ACTIONS = 4
NUM_AGENTS = 2
RED, BLUE = 0, 1


@dataclass(frozen=True)
class CoinGameRules:
    """Rules of one Coin Game variant.

    Attributes
    ----------
    grid_size
        ``N`` of the ``N × N`` board (paper: 3 for Fig. 4, 7 for Fig. 2).
    episode_length
        Steps per episode (paper: 20 on 3×3, 50 on 7×7).
    own_reward
        Reward for collecting a coin of one's own colour (paper: 1).
    other_reward
        Reward for collecting a coin of the other colour (paper: 0.2).
    owner_penalty
        Added to the owner's reward when the other agent collects its coin (paper: 0; LOLA: −2).
    edges
        ``"wrap"`` (torus) or ``"walls"`` (moves off the board are no-ops).
    simultaneous
        ``"both"`` (both collect) or ``"random"`` (one collector, chosen uniformly).
    respawn_colour
        ``"random"`` (uniform colour) or ``"alternate"`` (colour flips at each respawn).
    """

    grid_size: int = 3
    episode_length: int = 20
    own_reward: float = 1.0
    other_reward: float = 0.2
    owner_penalty: float = 0.0
    edges: Literal["wrap", "walls"] = "wrap"
    simultaneous: Literal["both", "random"] = "random"
    respawn_colour: Literal["random", "alternate"] = "random"

    def __post_init__(self) -> None:
        if self.grid_size < 2:
            raise ValueError(f"grid_size must be at least 2, got {self.grid_size}")
        if self.episode_length < 1:
            raise ValueError(f"episode_length must be positive, got {self.episode_length}")
        if self.edges not in ("wrap", "walls"):
            raise ValueError(f"edges must be 'wrap' or 'walls', got {self.edges!r}")
        if self.simultaneous not in ("both", "random"):
            raise ValueError(f"simultaneous must be 'both' or 'random', got {self.simultaneous!r}")
        if self.respawn_colour not in ("random", "alternate"):
            raise ValueError(
                f"respawn_colour must be 'random' or 'alternate', got {self.respawn_colour!r}"
            )

    @property
    def num_cells(self) -> int:
        """``N²``."""
        return self.grid_size * self.grid_size

    def with_size(self, grid_size: int, episode_length: int) -> CoinGameRules:
        """The same rules on another board."""
        return replace(self, grid_size=grid_size, episode_length=episode_length)


#: Named variants (docs/COIN.md explains each difference and why ``paper-*`` resolve
#: simultaneous arrival with a single random collector).
PRESETS: dict[str, CoinGameRules] = {
    # The paper's game (PAPER.md §6): +1 own, +0.2 other, no penalty; wrap-around board; one
    # collector on simultaneous arrival [U] (under "both" greedy coin-chasing already reaches
    # 98% of the welfare optimum on 3×3, so there is no dilemma to resolve).
    "paper-3x3": CoinGameRules(grid_size=3, episode_length=20, simultaneous="random"),
    "paper-7x7": CoinGameRules(grid_size=7, episode_length=50, simultaneous="random"),
    # Paper rewards with the LOLA rule that both agents collect a coin they reach together.
    "both-3x3": CoinGameRules(grid_size=3, episode_length=20, simultaneous="both"),
    "both-7x7": CoinGameRules(grid_size=7, episode_length=50, simultaneous="both"),
    # Paper rewards on a bounded board (moves off the board are no-ops).
    "walls-3x3": CoinGameRules(
        grid_size=3, episode_length=20, edges="walls", simultaneous="random"
    ),
    # Lerer & Peysakhovich (2017) / Foerster et al. (LOLA, 2018): any coin +1, owner −2, both
    # collect, colours alternate.
    "lola-3x3": CoinGameRules(
        grid_size=3,
        episode_length=20,
        own_reward=1.0,
        other_reward=1.0,
        owner_penalty=-2.0,
        simultaneous="both",
        respawn_colour="alternate",
    ),
}


def preset(name: str) -> CoinGameRules:
    """Rules of a named preset (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        choices = sorted(PRESETS)
        raise ValueError(f"unknown Coin Game preset {name!r}; choose from {choices}") from None


def move_table(rules: CoinGameRules) -> IntArray:
    """``(N², 4)`` destination cell of each move from each cell."""
    n = rules.grid_size
    table = np.empty((n * n, NUM_ACTIONS), dtype=np.int64)
    for cell in range(n * n):
        row, col = divmod(cell, n)
        for a, (dr, dc) in enumerate(MOVES):
            r2, c2 = row + dr, col + dc
            if rules.edges == "wrap":
                r2, c2 = r2 % n, c2 % n
            else:
                r2, c2 = min(max(r2, 0), n - 1), min(max(c2, 0), n - 1)
            table[cell, a] = r2 * n + c2
    return table


def pickup_rewards(
    rules: CoinGameRules, red_picks: BoolArray, blue_picks: BoolArray, colour: IntArray
) -> FloatArray:
    """``(..., 2)`` rewards given who collects (after simultaneous-arrival resolution).

    Agent ``i`` collecting a coin of colour ``c`` earns ``own_reward`` if ``c == i`` else
    ``other_reward``; the owner ``c`` additionally gets ``owner_penalty`` when agent ``1 − c``
    collects it.
    """
    rp = red_picks.astype(np.float64)
    bp = blue_picks.astype(np.float64)
    red_coin = colour == RED
    red = np.where(red_coin, rules.own_reward, rules.other_reward) * rp
    blue = np.where(red_coin, rules.other_reward, rules.own_reward) * bp
    red = red + np.where(red_coin, rules.owner_penalty * bp, 0.0)
    blue = blue + np.where(red_coin, 0.0, rules.owner_penalty * rp)
    return np.stack([red, blue], axis=-1)


def kth_free_cell(k: IntArray, red: IntArray, blue: IntArray) -> IntArray:
    """The ``k``-th cell (in index order) not occupied by ``red`` or ``blue``.

    With ``lo ≤ hi`` the occupied cells, shifting ``k`` past ``lo`` and then past ``hi``
    enumerates the free cells in order; when both agents share a cell only one is skipped.
    """
    lo = np.minimum(red, blue)
    hi = np.maximum(red, blue)
    cell = k + (k >= lo)
    cell = cell + ((cell >= hi) & (hi != lo))
    return cell


@dataclass(frozen=True)
class StepResult:
    """What one batched step returns.

    Attributes
    ----------
    rewards
        ``(B, 2)`` rewards of red and blue.
    picked
        ``(B, 2)`` whether each agent collected the coin.
    own_colour
        ``(B, 2)`` whether the collected coin had the collector's colour.
    done
        Whether the episode ended with this step (all games end together).
    """

    rewards: FloatArray
    picked: BoolArray
    own_colour: BoolArray
    done: bool


class BatchedCoinGame:
    """``num_games`` Coin Games stepped at once (vectorised numpy).

    Parameters
    ----------
    num_games
        Batch size ``B``.
    rules
        The variant (:class:`CoinGameRules` or a preset name).
    seed
        Seed or ``numpy.random.Generator``; every random draw of the batch comes from it.

    Attributes
    ----------
    red, blue, coin, colour
        ``(B,)`` current cells and coin colours.
    t
        Steps taken in the current episode.
    """

    def __init__(
        self,
        num_games: int,
        rules: CoinGameRules | str = "paper-3x3",
        seed: int | np.random.Generator = 0,
    ) -> None:
        if num_games < 1:
            raise ValueError(f"num_games must be positive, got {num_games}")
        self.rules = preset(rules) if isinstance(rules, str) else rules
        self.num_games = num_games
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.moves = move_table(self.rules)
        self.red = np.zeros(num_games, dtype=np.int64)
        self.blue = np.zeros(num_games, dtype=np.int64)
        self.coin = np.zeros(num_games, dtype=np.int64)
        self.colour = np.zeros(num_games, dtype=np.int64)
        self.t = 0
        self.reset()

    @property
    def state(self) -> IntArray:
        """``(B, 4)`` compact states ``(red, blue, coin, colour)`` (a copy)."""
        return np.stack([self.red, self.blue, self.coin, self.colour], axis=1)

    def set_state(self, state: IntArray, t: int = 0) -> None:
        """Put every game in the given ``(B, 4)`` state (coin must be off both agents)."""
        state = np.asarray(state, dtype=np.int64)
        if np.any((state[:, 2] == state[:, 0]) | (state[:, 2] == state[:, 1])):
            raise ValueError("the coin cannot share a cell with an agent")
        self.red, self.blue, self.coin, self.colour = (state[:, i].copy() for i in range(4))
        self.t = t

    def reset(self) -> IntArray:
        """Start new episodes: agents uniform (independently), coin uniform on a free cell."""
        b, cells = self.num_games, self.rules.num_cells
        self.red = self.rng.integers(cells, size=b)
        self.blue = self.rng.integers(cells, size=b)
        nfree = cells - 1 - (self.red != self.blue)
        self.coin = kth_free_cell(self.rng.integers(nfree), self.red, self.blue)
        self.colour = self.rng.integers(2, size=b)
        self.t = 0
        return self.state

    def step(self, actions: IntArray) -> StepResult:
        """Move both agents of every game, resolve pickups, respawn collected coins.

        Parameters
        ----------
        actions
            ``(B, 2)`` moves of red and blue in ``{0, 1, 2, 3}``.
        """
        rules = self.rules
        actions = np.asarray(actions)
        self.red = self.moves[self.red, actions[:, 0]]
        self.blue = self.moves[self.blue, actions[:, 1]]
        red_on = self.red == self.coin
        blue_on = self.blue == self.coin
        if rules.simultaneous == "random":
            both = red_on & blue_on
            red_wins = self.rng.integers(2, size=self.num_games) == 0
            red_on = red_on & ~(both & ~red_wins)
            blue_on = blue_on & ~(both & red_wins)
        rewards = pickup_rewards(rules, red_on, blue_on, self.colour)
        picked = np.stack([red_on, blue_on], axis=1)
        own = picked & (self.colour[:, None] == np.arange(NUM_AGENTS)[None, :])
        taken = red_on | blue_on
        # Respawn: uniform free cell (given the new positions); draws for every game keep the
        # random stream independent of which games collected.
        nfree = rules.num_cells - 1 - (self.red != self.blue)
        u = self.rng.random(self.num_games)
        new_cell = kth_free_cell((u * nfree).astype(np.int64), self.red, self.blue)
        if rules.respawn_colour == "random":
            new_colour = self.rng.integers(2, size=self.num_games)
        else:
            new_colour = 1 - self.colour
        self.coin = np.where(taken, new_cell, self.coin)
        self.colour = np.where(taken, new_colour, self.colour)
        self.t += 1
        return StepResult(rewards, picked, own, self.t >= rules.episode_length)

    def observations(self) -> npt.NDArray[np.float32]:
        """``(B, 2, 4, N, N)`` egocentric-channel observations (see module docstring)."""
        return observe(self.state, self.rules.grid_size)


def observe(state: IntArray, grid_size: int) -> npt.NDArray[np.float32]:
    """``(B, 2, 4, N, N)`` observations of compact states ``(B, 4)``.

    For agent ``i``: own cell, other's cell, coin if its colour is ``i``, coin otherwise.
    """
    b = state.shape[0]
    cells = grid_size * grid_size
    obs = np.zeros((b, NUM_AGENTS, 4, cells), dtype=np.float32)
    rows = np.arange(b)
    pos = state[:, :2]
    coin, colour = state[:, 2], state[:, 3]
    for i in range(NUM_AGENTS):
        obs[rows, i, 0, pos[:, i]] = 1.0
        obs[rows, i, 1, pos[:, 1 - i]] = 1.0
        obs[rows, i, 2 + (colour != i).astype(np.int64), coin] = 1.0
    return obs.reshape(b, NUM_AGENTS, 4, grid_size, grid_size)


class CoinGame:
    """One Coin Game in plain Python: the readable reference for :class:`BatchedCoinGame`.

    ``step`` accepts an explicit respawn ``(cell, colour)`` and simultaneous-arrival winner so
    that exact tests can enumerate every chance outcome.
    """

    def __init__(self, rules: CoinGameRules | str = "paper-3x3", seed: int = 0) -> None:
        self.rules = preset(rules) if isinstance(rules, str) else rules
        self.rng = np.random.default_rng(seed)
        self.red = self.blue = self.coin = self.colour = 0
        self.t = 0
        self.reset()

    def reset(self) -> tuple[int, int, int, int]:
        """Random initial state (same distribution as :meth:`BatchedCoinGame.reset`)."""
        cells = self.rules.num_cells
        self.red = int(self.rng.integers(cells))
        self.blue = int(self.rng.integers(cells))
        self.coin = int(self.rng.choice(self.free_cells(self.red, self.blue)))
        self.colour = int(self.rng.integers(2))
        self.t = 0
        return self.state

    @property
    def state(self) -> tuple[int, int, int, int]:
        """``(red, blue, coin, colour)``."""
        return (self.red, self.blue, self.coin, self.colour)

    def free_cells(self, red: int, blue: int) -> list[int]:
        """Cells occupied by neither agent."""
        return [c for c in range(self.rules.num_cells) if c not in (red, blue)]

    def move(self, cell: int, action: int) -> int:
        """Destination of one move (wrap or walls)."""
        n = self.rules.grid_size
        row, col = divmod(cell, n)
        dr, dc = MOVES[action]
        row, col = row + dr, col + dc
        if self.rules.edges == "wrap":
            row, col = row % n, col % n
        else:
            row, col = min(max(row, 0), n - 1), min(max(col, 0), n - 1)
        return row * n + col

    def outcomes(
        self, red_action: int, blue_action: int
    ) -> list[tuple[float, tuple[int, int, int, int], tuple[float, float]]]:
        """Every chance outcome of a joint move: ``(probability, next state, rewards)``."""
        red, blue = self.move(self.red, red_action), self.move(self.blue, blue_action)
        red_on, blue_on = red == self.coin, blue == self.coin
        winners: list[tuple[float, bool, bool]]
        if red_on and blue_on and self.rules.simultaneous == "random":
            winners = [(0.5, True, False), (0.5, False, True)]
        else:
            winners = [(1.0, red_on, blue_on)]
        out = []
        for p_win, r_pick, b_pick in winners:
            rewards = self._rewards(r_pick, b_pick)
            if not (r_pick or b_pick):
                out.append((p_win, (red, blue, self.coin, self.colour), rewards))
                continue
            free = self.free_cells(red, blue)
            if self.rules.respawn_colour == "random":
                colours = [(0.5, 0), (0.5, 1)]
            else:
                colours = [(1.0, 1 - self.colour)]
            for cell in free:
                for p_col, col in colours:
                    out.append((p_win * p_col / len(free), (red, blue, cell, col), rewards))
        return out

    def _rewards(self, red_picks: bool, blue_picks: bool) -> tuple[float, float]:
        r = self.rules
        red = blue = 0.0
        if red_picks:
            red += r.own_reward if self.colour == RED else r.other_reward
            if self.colour == BLUE:
                blue += r.owner_penalty
        if blue_picks:
            blue += r.own_reward if self.colour == BLUE else r.other_reward
            if self.colour == RED:
                red += r.owner_penalty
        return (red, blue)

    def step(self, red_action: int, blue_action: int) -> tuple[tuple[float, float], bool]:
        """One step with sampled chance; returns ``(rewards, done)``."""
        red, blue = self.move(self.red, red_action), self.move(self.blue, blue_action)
        red_on, blue_on = red == self.coin, blue == self.coin
        if red_on and blue_on and self.rules.simultaneous == "random":
            red_on = bool(self.rng.integers(2) == 0)
            blue_on = not red_on
        rewards = self._rewards(red_on, blue_on)
        self.red, self.blue = red, blue
        if red_on or blue_on:
            free = self.free_cells(red, blue)
            self.coin = free[int(self.rng.integers(len(free)))]
            if self.rules.respawn_colour == "random":
                self.colour = int(self.rng.integers(2))
            else:
                self.colour = 1 - self.colour
        self.t += 1
        return rewards, self.t >= self.rules.episode_length


class StackedCoinGame:
    """``K`` :class:`BatchedCoinGame`\\ s of one size and rules stepped as one ``(K, B)`` batch.

    Game ``k`` keeps its own generator (the ``k``-th environment's, shared with it) and draws
    from it exactly what :meth:`BatchedCoinGame.step` / :meth:`~BatchedCoinGame.reset` draw, in
    the same order, so its states and rewards are the ones the ``k``-th environment would
    produce (tested); only the arithmetic is done for all ``K·B`` games at once. :meth:`store`
    writes the states back into the environments.
    """

    def __init__(self, envs: list[BatchedCoinGame]) -> None:
        self.envs = envs
        self.rules = envs[0].rules
        self.num_games = envs[0].num_games
        self.rngs = [e.rng for e in envs]
        self.moves = move_table(self.rules)
        st = np.stack([e.state for e in envs])  # (K, B, 4)
        self.red, self.blue, self.coin, self.colour = (st[..., i].copy() for i in range(4))
        self.t = envs[0].t

    @property
    def state(self) -> IntArray:
        """``(K, B, 4)`` compact states (a copy)."""
        return np.stack([self.red, self.blue, self.coin, self.colour], axis=-1)

    def store(self) -> None:
        """Write every game's state and clock into its :class:`BatchedCoinGame`."""
        for k, env in enumerate(self.envs):
            env.red, env.blue = self.red[k].copy(), self.blue[k].copy()
            env.coin, env.colour = self.coin[k].copy(), self.colour[k].copy()
            env.t = self.t

    def _draw(self, integers: int | None, size: int) -> np.ndarray:
        """Each generator's ``integers(integers, size)`` (or ``random(size)``), stacked."""
        if integers is None:
            return np.stack([rng.random(size) for rng in self.rngs])
        return np.stack([rng.integers(integers, size=size) for rng in self.rngs])

    def reset(self) -> None:
        """:meth:`BatchedCoinGame.reset` of every game."""
        b, cells = self.num_games, self.rules.num_cells
        red, blue, coin, colour = [], [], [], []
        for rng in self.rngs:
            r = rng.integers(cells, size=b)
            bl = rng.integers(cells, size=b)
            nfree = cells - 1 - (r != bl)
            coin.append(kth_free_cell(rng.integers(nfree), r, bl))
            colour.append(rng.integers(2, size=b))
            red.append(r)
            blue.append(bl)
        self.red, self.blue = np.stack(red), np.stack(blue)
        self.coin, self.colour = np.stack(coin), np.stack(colour)
        self.t = 0

    def step(self, actions: IntArray) -> tuple[FloatArray, bool]:
        """:meth:`BatchedCoinGame.step` of every game: ``(K, B, 2)`` moves → ``(K, B, 2)``
        rewards and whether the episode ended."""
        rules, b = self.rules, self.num_games
        self.red = self.moves[self.red, actions[..., 0]]
        self.blue = self.moves[self.blue, actions[..., 1]]
        red_on = self.red == self.coin
        blue_on = self.blue == self.coin
        wins = self._draw(2, b) if rules.simultaneous == "random" else None
        u = self._draw(None, b)
        new_colour = self._draw(2, b) if rules.respawn_colour == "random" else 1 - self.colour
        if wins is not None:
            both = red_on & blue_on
            red_wins = wins == 0
            red_on = red_on & ~(both & ~red_wins)
            blue_on = blue_on & ~(both & red_wins)
        rewards = pickup_rewards(rules, red_on, blue_on, self.colour)
        taken = red_on | blue_on
        nfree = rules.num_cells - 1 - (self.red != self.blue)
        new_cell = kth_free_cell((u * nfree).astype(np.int64), self.red, self.blue)
        self.coin = np.where(taken, new_cell, self.coin)
        self.colour = np.where(taken, new_colour, self.colour)
        self.t += 1
        return rewards, self.t >= rules.episode_length
