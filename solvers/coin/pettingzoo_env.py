"""PettingZoo ``ParallelEnv`` view of one Coin Game (PAPER.md §6).

Agents ``"red"`` and ``"blue"`` act simultaneously; each observes its egocentric 4-channel board
(:func:`solvers.coin.env.observe`) as a ``float32`` array ``(4, N, N)`` and has 4 moves. The game
is a :class:`~solvers.coin.env.BatchedCoinGame` of one game, so the rules (and the random
stream for a given seed) are the batched ones. Episodes end by the time limit only: at the last
step every agent is *truncated*, never terminated. ``infos`` carry who collected the coin and
whether it was the collector's colour.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from solvers.coin.env import NUM_ACTIONS, BatchedCoinGame, CoinGameRules, preset

AGENTS = ("red", "blue")


class CoinGameParallelEnv(ParallelEnv[str, np.ndarray, int]):
    """The Coin Game as a PettingZoo parallel environment.

    Parameters
    ----------
    rules
        The variant or a preset name (default the paper's 3×3 game).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "coin_game_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }

    def __init__(self, rules: CoinGameRules | str = "paper-3x3", render_mode: str | None = None):
        self.rules = preset(rules) if isinstance(rules, str) else rules
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []
        n = self.rules.grid_size
        self._obs_space = spaces.Box(0.0, 1.0, shape=(4, n, n), dtype=np.float32)
        self._act_space = spaces.Discrete(NUM_ACTIONS)
        self._game = BatchedCoinGame(1, self.rules, 0)

    def observation_space(self, agent: str) -> spaces.Box:
        """4-channel board, values in {0, 1}."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        """Up, down, left, right."""
        return self._act_space

    def _observations(self) -> dict[str, np.ndarray]:
        obs = self._game.observations()[0]
        return {a: obs[i] for i, a in enumerate(AGENTS)}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; ``seed`` reseeds the game's generator."""
        if seed is not None:
            self._game.rng = np.random.default_rng(seed)
        self._game.reset()
        self.agents = list(AGENTS)
        return self._observations(), {a: {} for a in self.agents}

    def step(
        self, actions: dict[str, int]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Both agents move at once (a missing agent's action is an error)."""
        missing = set(self.agents) - set(actions)
        if missing:
            raise ValueError(f"actions missing for {sorted(missing)}")
        joint = np.array([[int(actions[a]) for a in AGENTS]], dtype=np.int64)
        res = self._game.step(joint)
        obs = self._observations()
        rewards = {a: float(res.rewards[0, i]) for i, a in enumerate(AGENTS)}
        terminations = dict.fromkeys(AGENTS, False)
        truncations = dict.fromkeys(AGENTS, bool(res.done))
        infos = {
            a: {"collected": bool(res.picked[0, i]), "own_colour": bool(res.own_colour[0, i])}
            for i, a in enumerate(AGENTS)
        }
        if res.done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The global board (red's view: red, blue, red coin, blue coin)."""
        return self._game.observations()[0, 0]

    def render(self) -> str | None:
        """ASCII board: R, B, X (both), r / b for the coin's colour."""
        n = self.rules.grid_size
        red, blue, coin, colour = (int(v) for v in self._game.state[0])
        cells = ["."] * (n * n)
        cells[coin] = "rb"[colour]
        cells[red] = "R"
        cells[blue] = "X" if blue == red else "B"
        return "\n".join("".join(cells[r * n : (r + 1) * n]) for r in range(n))

    def close(self) -> None:
        """Nothing to release."""
