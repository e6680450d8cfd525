"""Exact dynamic programming on the Coin Game's whole state space (PAPER.md §6).

A state is ``s = (r, b, c, κ)``: red cell, blue cell, coin cell, coin colour, stored at the flat
index ``((r·C + b)·C + c)·2 + κ`` with ``C = N²`` (states with the coin on an agent are never
reached and carry value 0). For a joint move ``(a_r, a_b)`` the agents land on
``r' = m(r, a_r)``, ``b' = m(b, a_b)``; if nobody lands on ``c`` the next state is
``(r', b', c, κ)``, otherwise the coin respawns uniformly on the ``C − |{r', b'}|`` free cells
with the colour rule of the preset. Finite horizon ``T`` (the episode length), undiscounted.

**Welfare optimum** (the cooperative reference line of Fig. 4). Backward induction over joint
moves,

    V_T(s) = 0,
    V_t(s) = max_{a_r, a_b}  E[ r_red + r_blue + V_{t+1}(s') | s, a_r, a_b ],

and the optimum per episode is ``E_{s ~ μ0}[V_0(s)]`` with ``μ0`` the reset distribution
(agents uniform and independent, coin uniform on a free cell, colour uniform). This is the most
any pair of policies — even centralised, time-dependent ones — can reach in expectation.

**Incentive ratios** (PAPER.md §6, SPE ratio and IC ratio). Given a fixed principal (a
recommended move ``a^p_j(s)`` and a payment ``b_j(s)``, paid iff agent ``j`` follows, Algorithm 3)
and a stationary deterministic policy of the other agent, agent ``j`` faces a finite-horizon MDP
with reward ``r_j(s, a) + b_j(s)·1[a = a^p_j(s)]``. :func:`best_response_ratio` returns
``E_{μ0}[V^{BR}_0] / E_{μ0}[V^{follow}_0]`` (≥ 1 whenever the follow value is positive; 1 means
following is a best response).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solvers.coin.env import NUM_ACTIONS, CoinGameRules, move_table, pickup_rewards, preset

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DPResult:
    """Result of backward induction.

    Attributes
    ----------
    value
        Expected value per episode from the reset distribution, ``E_{μ0}[V_0]``.
    values
        ``(T + 1, S)`` state values by time step.
    policy
        ``(T, S, 2)`` an optimal joint move per time step and state (welfare DP), or
        ``(T, S, 1)`` the agent's best response (ratio DP).
    """

    value: float
    values: FloatArray
    policy: IntArray


class TabularCoinGame:
    """The Coin Game as explicit tables over all ``S = 2·C³`` state indices.

    Parameters
    ----------
    rules
        The variant or a preset name.
    """

    def __init__(self, rules: CoinGameRules | str) -> None:
        self.rules = preset(rules) if isinstance(rules, str) else rules
        c = self.rules.num_cells
        self.num_cells = c
        self.num_states = 2 * c**3
        idx = np.arange(self.num_states)
        self.colour = idx % 2
        rest = idx // 2
        self.coin = rest % c
        rest = rest // c
        self.blue = rest % c
        self.red = rest // c
        self.valid = (self.coin != self.red) & (self.coin != self.blue)
        self.moves = move_table(self.rules)

    def index(self, red: IntArray, blue: IntArray, coin: IntArray, colour: IntArray) -> IntArray:
        """Flat state indices."""
        c = self.num_cells
        return ((np.asarray(red) * c + blue) * c + coin) * 2 + colour

    def states(self) -> IntArray:
        """``(S, 4)`` compact states of every index (invalid ones included)."""
        return np.stack([self.red, self.blue, self.coin, self.colour], axis=1)

    def initial_distribution(self) -> FloatArray:
        """``μ0``: the reset distribution of :class:`~solvers.coin.env.BatchedCoinGame`."""
        c = self.num_cells
        nfree = c - 1 - (self.red != self.blue)
        mu = np.where(self.valid, 1.0 / (c * c) / nfree / 2.0, 0.0)
        return mu

    def expect(
        self, values_next: FloatArray, red_action: IntArray, blue_action: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """Expected rewards ``(S, 2)`` and expected next value ``(S,)`` of a joint move.

        ``red_action`` / ``blue_action`` are ``(S,)`` moves (a constant or a policy).
        """
        rules, c = self.rules, self.num_cells
        r2 = self.moves[self.red, red_action]
        b2 = self.moves[self.blue, blue_action]
        red_on = r2 == self.coin
        blue_on = b2 == self.coin
        if rules.simultaneous == "random":
            both = red_on & blue_on
            only_red = pickup_rewards(rules, red_on, blue_on & ~both, self.colour)
            only_blue = pickup_rewards(rules, red_on & ~both, blue_on, self.colour)
            rewards = 0.5 * (only_red + only_blue)
        else:
            rewards = pickup_rewards(rules, red_on, blue_on, self.colour)
        taken = red_on | blue_on
        v = np.where(self.valid, values_next, 0.0).reshape(c, c, c, 2)
        nfree = c - 1 - (np.arange(c)[:, None] != np.arange(c)[None, :])
        after_spawn = v.sum(axis=2) / nfree[:, :, None]  # (C, C, colour): mean over free cells
        if rules.respawn_colour == "random":
            spawn_value = after_spawn[r2, b2].mean(axis=-1)
        else:
            spawn_value = after_spawn[r2, b2, 1 - self.colour]
        stay_value = values_next[self.index(r2, b2, self.coin, self.colour)]
        return rewards, np.where(taken, spawn_value, stay_value)

    def welfare_optimum(self) -> DPResult:
        """Backward induction for the maximum expected welfare per episode (module docstring)."""
        t_max, s = self.rules.episode_length, self.num_states
        values = np.zeros((t_max + 1, s))
        policy = np.zeros((t_max, s, 2), dtype=np.int64)
        joint = [(ar, ab) for ar in range(NUM_ACTIONS) for ab in range(NUM_ACTIONS)]
        for t in range(t_max - 1, -1, -1):
            q = np.empty((len(joint), s))
            for k, (ar, ab) in enumerate(joint):
                rew, ev = self.expect(
                    values[t + 1], np.full(s, ar, dtype=np.int64), np.full(s, ab, dtype=np.int64)
                )
                q[k] = rew.sum(axis=1) + ev
            best = np.argmax(q, axis=0)
            values[t] = np.where(self.valid, q[best, np.arange(s)], 0.0)
            policy[t, :, 0] = np.array(joint)[best, 0]
            policy[t, :, 1] = np.array(joint)[best, 1]
        value = float(self.initial_distribution() @ values[0])
        return DPResult(value, values, policy)

    def evaluate(self, joint_policy: IntArray) -> tuple[float, float]:
        """Expected per-episode returns ``(red, blue)`` of a stationary joint policy ``(S, 2)``."""
        t_max, s = self.rules.episode_length, self.num_states
        v = np.zeros((s, 2))
        for _ in range(t_max):
            new = np.empty_like(v)
            for i in range(2):
                rew, ev = self.expect(v[:, i], joint_policy[:, 0], joint_policy[:, 1])
                new[:, i] = rew[:, i] + ev
            v = np.where(self.valid[:, None], new, 0.0)
        mu = self.initial_distribution()
        return float(mu @ v[:, 0]), float(mu @ v[:, 1])

    def agent_values(
        self,
        agent: int,
        other_policy: IntArray,
        recommended: IntArray,
        payment: FloatArray,
    ) -> tuple[DPResult, float]:
        """Agent ``agent``'s best-response DP and its value when it always follows.

        Parameters
        ----------
        agent
            0 (red) or 1 (blue).
        other_policy
            ``(S,)`` the other agent's stationary deterministic moves.
        recommended
            ``(S,)`` the principal's recommendation to ``agent``.
        payment
            ``(S,)`` the payment to ``agent``, made iff it plays ``recommended``.

        Returns
        -------
        (best response, follow value)
        """
        t_max, s = self.rules.episode_length, self.num_states
        values = np.zeros((t_max + 1, s))
        follow = np.zeros(s)
        policy = np.zeros((t_max, s, 1), dtype=np.int64)

        def joint(a: IntArray) -> tuple[IntArray, IntArray]:
            return (a, other_policy) if agent == 0 else (other_policy, a)

        for t in range(t_max - 1, -1, -1):
            q = np.empty((NUM_ACTIONS, s))
            for a in range(NUM_ACTIONS):
                act = np.full(s, a, dtype=np.int64)
                rew, ev = self.expect(values[t + 1], *joint(act))
                q[a] = rew[:, agent] + payment * (recommended == a) + ev
            best = np.argmax(q, axis=0)
            values[t] = np.where(self.valid, q[best, np.arange(s)], 0.0)
            policy[t, :, 0] = best
            rew, ev = self.expect(follow, *joint(recommended))
            follow = np.where(self.valid, rew[:, agent] + payment + ev, 0.0)
        mu = self.initial_distribution()
        return DPResult(float(mu @ values[0]), values, policy), float(mu @ follow)

    def best_response_ratio(
        self,
        agent: int,
        other_policy: IntArray,
        recommended: IntArray,
        payment: FloatArray,
    ) -> float:
        """``E[V^{BR}] / E[V^{follow}]`` of :meth:`agent_values` (PAPER.md §6 SPE / IC ratio)."""
        br, follow = self.agent_values(agent, other_policy, recommended, payment)
        return br.value / follow if follow > 0 else float("inf")


def welfare_optimum(rules: CoinGameRules | str) -> float:
    """Maximum expected social welfare per episode (exact; see module docstring)."""
    return TabularCoinGame(rules).welfare_optimum().value
