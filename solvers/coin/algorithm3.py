"""Algorithm 3 of Ivanov et al. (2024): a principal orchestrating several agents (PAPER.md §5).

**Training phase** (:class:`TrainingPhase`). At the start of every episode each agent draws a
follow bit ``f_i ~ Bernoulli(follow_prob)`` [U]. The principal recommends ``a^p_i`` to every
agent (ε-greedy on its VDN value); agents with ``f_i = 1`` play it and are paid, agents with
``f_i = 0`` play their selfish ε-greedy move.

* The **agents** share one network ``Q̄_φ((o_i, f_i, f_{−i}), a)`` (truncated Q: own reward only,
  current payment excluded), conditioned on their own and the others' bits [U: PAPER.md §5 reads
  "(s, 1)" as the own bit and conditions on ``f_{−i}``; we give both]. Targets (Algorithm 2's
  ``y^a`` with the multi-agent contract):

      f_i = 1:  y = r_i + γ [ b*_i(s', a'^p_i) + Q̄_φ'((s', f), a'^p_i) ],  a'^p = greedy q_θ(s')
      f_i = 0:  y = r_i + γ max_a Q̄_φ'((s', f), a)

* The **contract** for agent ``i`` is the observed-action minimal implementation on the agent
  network with every bit 1 (the equilibrium path), nudged by ξ:
  ``b*_i(s, a_i) = max(0, max_{a ≠ a_i} Q̄_φ((s, 1), a) − Q̄_φ((s, 1), a_i) + ξ)``
  (:func:`~solvers.coin.networks.minimal_payment`; ξ = 0 gives the paper's formula).

* The **principal** is VDN: ``q_θ(s, a) = Σ_i q_θ(o_i, a_i)`` with one shared network over the
  agents' egocentric observations. Its reward is ``(1/α) Σ_i r_i − Σ_i b*_i(s, a_i)``; we train on
  ``α`` times it, ``Σ_i (r_i − α b*_i(s, a_i))``, which has the same greedy policy and keeps the
  Q-values in welfare units. The payment is priced for the action each agent actually played
  (for a follower exactly what was paid; for a selfish agent what implementing its move would
  have cost) [U], so every transition is a valid sample of "implement this joint move":

      y^p = Σ_i (r_i − α b*_i(s, a_i)) + γ Σ_i max_a q_θ'(o'_i, a)

Each learner samples its own prioritized batch; both losses are summed into one Adam step.

**Validation phase** (:func:`validation_phase`): the principal and the agent network are frozen;
two fresh selfish DQN agents are trained from scratch, see their recommendation and are paid
the nudged minimal contract iff they follow (:class:`~solvers.coin.baselines.IndependentDQN`).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch

from solvers.coin.baselines import IndependentDQN
from solvers.coin.common import (
    EvalPolicy,
    RatioEvaluator,
    bits_input,
    epsilon,
    evaluate,
    learning_rate,
    load_trainer_state,
    make_net,
    recommend,
    seeds,
    trainer_state,
)
from solvers.coin.config import Config
from solvers.coin.env import NUM_ACTIONS, BatchedCoinGame, CoinGameRules
from solvers.coin.networks import Member, QNet, encode, minimal_payment
from solvers.coin.replay import PrioritizedReplay


class TrainingPhase:
    """Algorithm 3's training phase (module docstring) over a batch of games.

    The principal and the shared agent network are members 0 and 1 of one stacked
    :class:`~solvers.coin.networks.QNet` (:attr:`net`; the principal's two bit inputs are fed
    zeros), so acting is one forward pass and a gradient step is one forward pass of the online
    networks, one of the targets and one backward pass. :attr:`principal` and :attr:`agent` are
    the two members as callables.

    Parameters
    ----------
    cfg
        Hyperparameters.
    rules
        The game.
    """

    name = "train"

    def __init__(self, cfg: Config, rules: CoinGameRules) -> None:
        self.cfg, self.rules = cfg, rules
        self.total = cfg.iterations
        ss = seeds(cfg, self.name).spawn(4)
        self.rng = np.random.default_rng(ss[0])
        self.env = BatchedCoinGame(cfg.num_games, rules, np.random.default_rng(ss[1]))
        self.net = make_net(cfg, rules, 2, 2, int(ss[2].generate_state(1)[0]))
        self.eval_seed = int(ss[3].generate_state(1)[0])
        self.target = copy.deepcopy(self.net)
        self.principal, self.agent = Member(self.net, 0), Member(self.net, 1)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.learning_rate_start)
        self.replay = PrioritizedReplay(
            cfg.buffer_size,
            {
                "state": ((4,), np.int64),
                "next_state": ((4,), np.int64),
                "action": ((2,), np.int64),
                "follow": ((2,), np.int64),
                "reward": ((2,), np.float32),
                "done": ((), np.float32),
            },
            ("principal", "agent"),
            alpha=cfg.per_alpha,
            eps=cfg.per_eps,
        )
        self.follow = self.draw_bits()
        self.it = 0
        self.curve: list[dict[str, Any]] = []
        self.elapsed = 0.0
        self._ratios: RatioEvaluator | None = None

    def draw_bits(self) -> np.ndarray:
        """New follow bits of every game (``f_i ~ Bernoulli(follow_prob)``), from :attr:`rng`."""
        return (self.rng.random((self.cfg.num_games, 2)) < self.cfg.follow_prob).astype(np.int64)

    @staticmethod
    def _rows(obs: torch.Tensor) -> torch.Tensor:
        """``(M, 2, 4, N, N)`` → ``(2M, 4, N, N)``: one row per (game, agent)."""
        return obs.reshape(-1, *obs.shape[2:])

    def _joint(
        self,
        net: QNet,
        principal_obs: torch.Tensor,
        agent_obs: torch.Tensor,
        agent_bits: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Principal q on ``principal_obs`` and agent Q̄ on ``(agent_obs, bits)``, one pass.

        Inputs are per-(game, agent) rows of equal count; outputs ``(R, A)`` each.
        """
        x = torch.stack([principal_obs, agent_obs])
        extra = torch.stack([torch.zeros_like(agent_bits), agent_bits])
        q = net(x, extra)
        return q[0], q[1]

    # -- acting ---------------------------------------------------------------------------
    def step(self) -> None:
        """One iteration: every game steps once, then one gradient step."""
        cfg = self.cfg
        t0 = time.perf_counter()
        b = cfg.num_games
        state = self.env.state
        st = torch.from_numpy(state).to(cfg.device)
        follow_t = torch.from_numpy(self.follow).to(cfg.device)
        with torch.no_grad():
            rows = self._rows(encode(st, self.rules.grid_size))
            bits = bits_input(follow_t).reshape(-1, 2)
            q_p, q_a = self._joint(self.net, rows, rows, bits)
            rec = q_p.view(b, 2, -1).argmax(-1).cpu().numpy()
            selfish = q_a.view(b, 2, -1).argmax(-1).cpu().numpy()
        eps = epsilon(cfg, self.it, self.total)
        u = self.rng.random((b, 4))
        random_actions = self.rng.integers(NUM_ACTIONS, size=(b, 4))
        rec = np.where(u[:, :2] < eps, random_actions[:, :2], rec)
        selfish = np.where(u[:, 2:] < eps, random_actions[:, 2:], selfish)
        actions = np.where(self.follow == 1, rec, selfish)
        res = self.env.step(actions)
        self.replay.add(
            {
                "state": state,
                "next_state": self.env.state,
                "action": actions,
                "follow": self.follow,
                "reward": res.rewards,
                "done": np.full(b, float(res.done)),
            }
        )
        if res.done:
            self.env.reset()
            self.follow = self.draw_bits()
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    # -- learning -------------------------------------------------------------------------
    def _update(self) -> tuple[float, float]:
        """One gradient step; returns the principal's and the agents' mean squared TD errors."""
        cfg, n, m, dev = self.cfg, self.rules.grid_size, self.cfg.batch_size, self.cfg.device
        idx_p, bp = self.replay.sample("principal", m, self.rng)
        idx_a, ba = self.replay.sample("agent", m, self.rng)
        s = torch.from_numpy(np.concatenate([bp["state"], ba["state"]])).to(dev)
        s2 = torch.from_numpy(np.concatenate([bp["next_state"], ba["next_state"]])).to(dev)
        obs, obs2 = self._rows(encode(s, n)), self._rows(encode(s2, n))  # (4m, ...)
        act = torch.from_numpy(np.concatenate([bp["action"], ba["action"]])).to(dev)
        rew = torch.from_numpy(np.concatenate([bp["reward"], ba["reward"]])).to(dev)
        done = torch.from_numpy(np.concatenate([bp["done"], ba["done"]])).to(dev)
        follow = torch.from_numpy(ba["follow"]).to(dev)
        bits_f = bits_input(follow).reshape(-1, 2)
        bits_1 = torch.ones_like(bits_f)
        nonterm = torch.ones_like(done) if cfg.time_limit_bootstrap else 1.0 - done
        a_p, a_a = act[:m], act[m:]
        k = 2 * m  # rows of one batch (game, agent)
        p_rows, a_rows = slice(0, k), slice(k, 2 * k)
        # online pass: principal on [s_p, s'_a], agent on [(s_a, f), (s_p, 1)]
        q_p_all, q_a_all = self._joint(
            self.net,
            torch.cat([obs[p_rows], obs2[a_rows]]),
            torch.cat([obs[a_rows], obs[p_rows]]),
            torch.cat([bits_f, bits_1]),
        )
        with torch.no_grad():
            # target pass: principal on [s'_p, s'_p], agent on [(s'_a, 1), (s'_a, f)]
            qt_p, qt_a = self._joint(
                self.target,
                torch.cat([obs2[p_rows], obs2[p_rows]]),
                torch.cat([obs2[a_rows], obs2[a_rows]]),
                torch.cat([bits_1, bits_f]),
            )
            # principal: payments priced on Q̄((s, 1), ·) for the moves played; VDN target
            pay = minimal_payment(q_a_all[k:].detach().view(m, 2, -1), a_p, cfg.nudge)
            r_p = (rew[:m] - cfg.principal_alpha * pay).sum(-1)
            q_next = qt_p[:k].view(m, 2, -1).max(-1).values.sum(-1)
            y_p = r_p + cfg.gamma * nonterm[:m] * q_next
            # agents: follower / selfish continuation at s'
            rec2 = q_p_all[k:].detach().view(m, 2, -1).argmax(-1)
            b2 = minimal_payment(qt_a[:k].view(m, 2, -1), rec2, cfg.nudge)
            q_tf = qt_a[k:].view(m, 2, -1)
            follow_cont = b2 + q_tf.gather(-1, rec2.unsqueeze(-1)).squeeze(-1)
            cont = torch.where(follow == 1, follow_cont, q_tf.max(-1).values)
            y_a = rew[m:] + cfg.gamma * nonterm[m:, None] * cont
        q_p = q_p_all[:k].view(m, 2, -1).gather(-1, a_p.unsqueeze(-1)).squeeze(-1).sum(-1)
        q_a = q_a_all[:k].view(m, 2, -1).gather(-1, a_a.unsqueeze(-1)).squeeze(-1)
        d_p, d_a = y_p - q_p, y_a - q_a
        loss = (d_p**2).mean() + (d_a**2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.replay.update_priorities("principal", idx_p, d_p.detach().abs().cpu().double().numpy())
        self.replay.update_priorities(
            "agent", idx_a, d_a.detach().abs().max(-1).values.cpu().double().numpy()
        )
        return float((d_p.detach() ** 2).mean()), float((d_a.detach() ** 2).mean())

    # -- evaluation -----------------------------------------------------------------------
    def policy(self) -> EvalPolicy:
        """Greedy principal, every agent following (the principal's intended outcome)."""

        @torch.no_grad()
        def act(states: torch.Tensor) -> tuple[Any, Any, Any]:
            obs = encode(states, self.rules.grid_size)
            rec, pay = recommend(self.net, obs, self.cfg.nudge)
            r = rec.cpu().numpy()
            return r, r, pay.cpu().double().numpy()

        return act

    def evaluate(self) -> dict[str, Any]:
        """Metrics with all agents following, plus the exact SPE / IC ratios."""
        cfg = self.cfg
        ev = evaluate(self.rules, cfg.eval_episodes, self.eval_seed, self.policy(), cfg.device)
        row: dict[str, Any] = {"iteration": float(self.it), **ev.as_dict()}
        if cfg.exact_ratios:
            if self._ratios is None:
                self._ratios = RatioEvaluator(self.rules, cfg.device)
            spe, ic = self._ratios(self.net, cfg.nudge)
            row["spe_ratio"], row["ic_ratio"] = spe, ic
        self.curve.append(row)
        return row

    # -- checkpointing --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly."""
        return {**trainer_state(self), "follow": self.follow.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        load_trainer_state(self, state)
        self.follow = np.array(state["follow"])


def validation_phase(cfg: Config, rules: CoinGameRules, trained: TrainingPhase) -> IndependentDQN:
    """Algorithm 3's validation phase: fresh selfish DQN agents paid iff they follow."""
    joint = copy.deepcopy(trained.net).eval()
    for p in joint.parameters():
        p.requires_grad_(False)
    return IndependentDQN(
        cfg, rules, "validate", cfg.validation_iterations, "validation", principal=joint
    )
