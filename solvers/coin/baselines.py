"""Independent DQN agents: Algorithm 3's validation agents and the baselines (PAPER.md §5).

Both agents are separate DQN learners (two stacked parameter sets of one :class:`QNet`), each
with its own prioritized-replay tree over a shared storage. What differs is the reward each
agent maximises and what it observes:

``validation``
    Algorithm 3's validation phase: fresh selfish agents that see their recommendation
    ``a^p_i`` (one-hot, next to the board) and receive ``r_i + b_i·1[a_i = a^p_i]``, with the
    frozen principal's greedy recommendation and nudged minimal contract.
``selfish``
    ``r_i`` (no principal).
``cooperative``
    ``r_red + r_blue`` for both (agents maximise welfare).
``constant``
    ``(1 − p) r_i + p · mean_j r_j`` [U], with ``p`` matched to the share of welfare the learned
    principal pays (each agent then receives ``p/2`` of welfare, ``p`` in total).
"""

from __future__ import annotations

import copy
import time
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from solvers.coin.common import (
    EvalPolicy,
    epsilon,
    evaluate,
    learning_rate,
    load_trainer_state,
    make_net,
    principal_greedy,
    recommend,
    seeds,
    trainer_state,
)
from solvers.coin.config import Config
from solvers.coin.env import NUM_ACTIONS, BatchedCoinGame, CoinGameRules
from solvers.coin.networks import Member, QNet, encode
from solvers.coin.replay import PrioritizedReplay

RewardMode = Literal["validation", "selfish", "cooperative", "constant"]


def shape_rewards(
    mode: RewardMode,
    rewards: np.ndarray,
    actions: np.ndarray,
    recommended: np.ndarray | None,
    payments: np.ndarray | None,
    proportion: float,
) -> np.ndarray:
    """``(B, 2)`` rewards the learners maximise (module docstring)."""
    if mode == "validation":
        assert recommended is not None and payments is not None
        return rewards + payments * (actions == recommended)
    if mode == "selfish":
        return rewards
    if mode == "cooperative":
        return np.repeat(rewards.sum(axis=1, keepdims=True), 2, axis=1)
    if mode == "constant":
        return (1.0 - proportion) * rewards + proportion * rewards.mean(axis=1, keepdims=True)
    raise ValueError(f"unknown reward mode {mode!r}")


class IndependentDQN:
    """Two independent DQN learners in a batch of Coin Games (one phase of a run).

    Parameters
    ----------
    cfg
        Hyperparameters.
    rules
        The game.
    name
        Phase name (seeds are derived from it).
    total
        Iterations of this phase.
    mode
        Reward mode (module docstring).
    proportion
        ``p`` of the ``constant`` mode.
    principal
        The frozen trained principal (member 0) and agent network (member 1) as one stacked
        :class:`~solvers.coin.networks.QNet` (``validation`` mode only).
    """

    def __init__(
        self,
        cfg: Config,
        rules: CoinGameRules,
        name: str,
        total: int,
        mode: RewardMode,
        *,
        proportion: float = 0.0,
        principal: QNet | None = None,
    ) -> None:
        if mode == "validation" and principal is None:
            raise ValueError("validation mode needs the trained principal and agent networks")
        self.cfg, self.rules, self.name, self.total, self.mode = cfg, rules, name, total, mode
        self.proportion = proportion
        self.principal = principal
        ss = seeds(cfg, name).spawn(4)
        self.rng = np.random.default_rng(ss[0])
        self.env = BatchedCoinGame(cfg.num_games, rules, np.random.default_rng(ss[1]))
        init_seed = int(ss[2].generate_state(1)[0])
        self.eval_seed = int(ss[3].generate_state(1)[0])
        extra = NUM_ACTIONS if mode == "validation" else 0
        self.net = make_net(cfg, rules, extra, 2, init_seed)
        self.target = copy.deepcopy(self.net)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.learning_rate_start)
        self.replay = PrioritizedReplay(
            cfg.buffer_size,
            {
                "state": ((4,), np.int64),
                "next_state": ((4,), np.int64),
                "action": ((2,), np.int64),
                "rec": ((2,), np.int64),
                "reward": ((2,), np.float32),
                "done": ((), np.float32),
            },
            ("red", "blue"),
            alpha=cfg.per_alpha,
            eps=cfg.per_eps,
        )
        self.it = 0
        self.curve: list[dict[str, Any]] = []
        self.elapsed = 0.0
        self.losses: list[float] = []

    # -- acting ---------------------------------------------------------------------------
    @torch.no_grad()
    def _recommend(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.principal is not None
        return recommend(self.principal, obs, self.cfg.nudge)

    def _extra(self, rec: torch.Tensor | None) -> torch.Tensor | None:
        if self.mode != "validation" or rec is None:
            return None
        return F.one_hot(rec, NUM_ACTIONS).float().transpose(0, 1)  # (2, M, 4)

    @torch.no_grad()
    def _greedy(
        self, states: torch.Tensor
    ) -> tuple[np.ndarray, torch.Tensor | None, torch.Tensor | None]:
        obs = encode(states, self.rules.grid_size)
        rec = pay = None
        if self.mode == "validation":
            rec, pay = self._recommend(obs)
        q = self.net(obs.transpose(0, 1), self._extra(rec))  # (2, B, A)
        return q.argmax(-1).T.cpu().numpy(), rec, pay

    def step(self) -> None:
        """One iteration: every game steps once, then one gradient step per learner."""
        cfg = self.cfg
        t0 = time.perf_counter()
        b = cfg.num_games
        state = self.env.state
        st = torch.from_numpy(state).to(cfg.device)
        greedy, rec, pay = self._greedy(st)
        eps = epsilon(cfg, self.it, self.total)
        explore = self.rng.random((b, 2)) < eps
        random_actions = self.rng.integers(NUM_ACTIONS, size=(b, 2))
        actions = np.where(explore, random_actions, greedy)
        res = self.env.step(actions)
        rec_np = rec.cpu().numpy() if rec is not None else np.zeros((b, 2), dtype=np.int64)
        pay_np = pay.cpu().double().numpy() if pay is not None else None
        shaped = shape_rewards(
            self.mode,
            res.rewards,
            actions,
            rec_np if rec is not None else None,
            pay_np,
            self.proportion,
        )
        self.replay.add(
            {
                "state": state,
                "next_state": self.env.state,
                "action": actions,
                "rec": rec_np,
                "reward": shaped,
                "done": np.full(b, float(res.done)),
            }
        )
        if res.done:
            self.env.reset()
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    def _update(self) -> None:
        cfg, n = self.cfg, self.rules.grid_size
        m = cfg.batch_size
        idx_r, br = self.replay.sample("red", m, self.rng)
        idx_b, bb = self.replay.sample("blue", m, self.rng)
        dev = cfg.device
        s = torch.from_numpy(np.concatenate([br["state"], bb["state"]])).to(dev)
        s2 = torch.from_numpy(np.concatenate([br["next_state"], bb["next_state"]])).to(dev)
        obs, obs2 = encode(s, n), encode(s2, n)
        x = torch.stack([obs[:m, 0], obs[m:, 1]])
        x2 = torch.stack([obs2[:m, 0], obs2[m:, 1]])
        a = torch.from_numpy(np.stack([br["action"][:, 0], bb["action"][:, 1]])).to(dev)
        r = torch.from_numpy(np.stack([br["reward"][:, 0], bb["reward"][:, 1]])).to(dev)
        done = torch.from_numpy(np.stack([br["done"], bb["done"]])).to(dev)
        extra = extra2 = None
        if self.mode == "validation":
            rec = torch.from_numpy(np.stack([br["rec"][:, 0], bb["rec"][:, 1]])).to(dev)
            extra = F.one_hot(rec, NUM_ACTIONS).float()
            with torch.no_grad():
                assert self.principal is not None
                rec2 = principal_greedy(Member(self.principal, 0), obs2)  # (2M, 2)
            extra2 = F.one_hot(torch.stack([rec2[:m, 0], rec2[m:, 1]]), NUM_ACTIONS).float()
        with torch.no_grad():
            nonterm = 1.0 if cfg.time_limit_bootstrap else 1.0 - done
            y = r + cfg.gamma * nonterm * self.target(x2, extra2).max(-1).values
        q = self.net(x, extra).gather(-1, a.unsqueeze(-1)).squeeze(-1)
        delta = y - q
        loss = (delta**2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        td = delta.detach().abs().cpu().double().numpy()
        self.replay.update_priorities("red", idx_r, td[0])
        self.replay.update_priorities("blue", idx_b, td[1])

    # -- evaluation -----------------------------------------------------------------------
    def policy(self) -> EvalPolicy:
        """Greedy joint policy for :func:`~solvers.coin.common.evaluate`."""

        def act(states: torch.Tensor) -> tuple[Any, Any, Any]:
            actions, rec, pay = self._greedy(states)
            if rec is None:
                return actions, None, None
            assert pay is not None
            return actions, rec.cpu().numpy(), pay.cpu().double().numpy()

        return act

    def evaluate(self) -> dict[str, Any]:
        """Metrics at the current iteration (appended to :attr:`curve`)."""
        cfg = self.cfg
        ev = evaluate(self.rules, cfg.eval_episodes, self.eval_seed, self.policy(), cfg.device)
        row: dict[str, Any] = {"iteration": float(self.it), **ev.as_dict()}
        if self.mode == "constant":
            row["proportion_paid"] = self.proportion
        self.curve.append(row)
        return row

    # -- checkpointing --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly."""
        return {**trainer_state(self), "proportion": self.proportion}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        load_trainer_state(self, state)
        self.proportion = float(state["proportion"])
