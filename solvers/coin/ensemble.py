"""Batched ensembles: ``K`` seeds of a Coin Game run trained as one computation (issue 15).

:func:`run_seeds` runs every phase of :func:`solvers.coin.train.run` (Algorithm 3's training
and validation phases, then the baselines) for ``K`` seeds at once. Each phase is one
ensemble object that holds the ``K`` per-seed trainers of :mod:`solvers.coin.algorithm3` /
:mod:`solvers.coin.baselines` — built by their own constructors, so each seed keeps its own
generators, environments, initial weights, follow bits, evaluation seed and curve — and
replaces their networks, optimisers and replay buffers by stacked ones:

* **networks**: the seeds' :class:`~solvers.coin.networks.QNet` members stacked into one
  ``QNet`` (:func:`~solvers.coin.networks.gather_members`), so acting and every gradient step
  are batched matrix products over all seeds' members;
* **one optimiser step for all**: one Adam over the stacked parameters (:class:`FlatAdam`:
  ``torch.optim.Adam``'s operations on one flat buffer), minimising the *sum* of the seeds'
  losses. Adam is elementwise and the seeds' parameters are disjoint, so this is each seed's
  own Adam step; all seeds share the schedule (same phase length, same iteration);
* **replay**: one :class:`~solvers.coin.replay.StackedPrioritizedReplay`, a separate buffer
  and priority tree per seed and learner, each seed sampling with its own generator; both
  learners' batches are drawn in one descent of the stacked trees and reprioritised together;
* **environments**: one :class:`~solvers.coin.env.StackedCoinGame` steps all seeds' games as
  one ``(K, B)`` batch, each seed drawing from its own environment generator exactly what its
  :class:`~solvers.coin.env.BatchedCoinGame` would; exploration moves and follow bits come
  from each seed's own generator, drawn per seed in the single trainer's order, so every
  seed sees the random numbers of a single run. Observations are looked up in a table of
  :func:`~solvers.coin.networks.encode` (:class:`Observations`);
* **evaluation**: at every ``eval_every`` iterations each seed's weights are copied back into
  its own trainer, whose ``evaluate`` (the same code as a single run) records the metrics.

Exactness (``tests/test_coin_ensemble.py``). Members of a stacked ``QNet`` do not interact, so
a seed's numbers do not depend on which other seeds share its ensemble: seed ``s`` trained in
an ensemble of ``K`` seeds equals seed ``s`` trained alone in an ensemble of one, bit for bit
on the CPU. The validation phase and the baselines (:class:`EnsembleDQN`) run exactly the
operations of :class:`~solvers.coin.baselines.IndependentDQN`, so from the same trained
principal they reproduce a single run bit for bit. :class:`EnsembleTraining` computes the same
losses as :class:`~solvers.coin.algorithm3.TrainingPhase` (tested to 1e-5 after a gradient
step) but arranges the forward passes differently: the rows that need no gradient (the
principal on ``s'`` for the agents' continuation, the agent network on ``(s, 1)`` for the
principal's payments) go through a pass without autograd instead of the differentiated one,
which halves the backward pass, and those update passes use :meth:`QNet.fast
<solvers.coin.networks.QNet.fast>` (the narrow output layer multiplied in the transposed
layout). The weight gradients then sum the same products over fewer rows and in another
order, which changes their last bits, so a batched training phase follows an unbatched one
only statistically (same seeds, metrics within the tolerance stated in the test). Acting uses
the plain forward pass, so before the first gradient step a batched training phase is a
single one's bit for bit.

Layout of ``output`` as :func:`solvers.coin.train.run_seeds`: ``seed_<k>/results.json`` per
seed (each with ``"ensemble": {"seeds": [...]}``; its ``iterations_per_second`` are the
ensemble's, every iteration advancing all seeds), ``summary.json`` and ``fig_*.png``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from solvers.coin.algorithm3 import TrainingPhase, validation_phase
from solvers.coin.baselines import IndependentDQN, RewardMode, shape_rewards
from solvers.coin.common import bits_input, epsilon, learning_rate
from solvers.coin.config import Config
from solvers.coin.dp import TabularCoinGame
from solvers.coin.env import NUM_ACTIONS, CoinGameRules, StackedCoinGame, preset
from solvers.coin.networks import QNet, copy_members, encode, gather_members, minimal_payment
from solvers.coin.replay import StackedPrioritizedReplay
from solvers.coin.train import (
    ETA_AFTER,
    MAX_DP_GRID,
    aggregate,
    constant_proportion,
    phase_summary,
    summarize,
)
from solvers.rl.checkpoint import DeferredInterrupt, TrainingInterrupted
from solvers.rl.metrics import Throughput, format_duration, write_json
from solvers.rl.seeding import FlushDenormals, seed_everything

__all__ = [
    "EnsembleDQN",
    "EnsembleTraining",
    "FlatAdam",
    "Observations",
    "run_seeds",
    "seed_configs",
]


def seed_configs(cfg: Config, seeds: list[int]) -> list[Config]:
    """Each seed's configuration, as :func:`solvers.coin.train.run_seeds` derives it."""
    if not seeds:
        raise ValueError("an ensemble needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return [replace(cfg, seed=s, output=str(Path(cfg.output) / f"seed_{s}")) for s in seeds]


def _rows(obs: torch.Tensor) -> torch.Tensor:
    """``(K, M, 2, 4, N, N)`` → ``(K, 2M, 4, N, N)``: one row per (game, agent) per seed."""
    return obs.reshape(obs.shape[0], -1, *obs.shape[3:])


#: largest number of compact states for which observations are looked up in a table
TABLE_STATES = 50_000


class Observations:
    """:func:`~solvers.coin.networks.encode` of ``(..., 4)`` compact states as one table
    lookup: the table holds ``encode`` of every ``(red, blue, coin, colour)`` (boards with at
    most :data:`TABLE_STATES` of them; ``encode`` itself on larger ones), so the observations
    are the same numbers."""

    def __init__(self, grid: int, device: str) -> None:
        cells = grid * grid
        self.grid, self.device = grid, device
        self.table: torch.Tensor | None = None
        self.weights = np.array([2 * cells * cells, 2 * cells, 2, 1])
        if 2 * cells**3 <= TABLE_STATES:
            states = np.stack(
                np.meshgrid(*(np.arange(n) for n in (cells, cells, cells, 2)), indexing="ij"), -1
            ).reshape(-1, 4)
            self.table = encode(torch.from_numpy(states).to(device), grid).reshape(len(states), -1)

    def __call__(self, states: np.ndarray) -> torch.Tensor:
        """``(*lead, 2, 4, N, N)`` observations of ``(*lead, 4)`` states."""
        lead, n = states.shape[:-1], self.grid
        if self.table is None:
            st = torch.from_numpy(np.ascontiguousarray(states).reshape(-1, 4)).to(self.device)
            return encode(st, n).view(*lead, 2, 4, n, n)
        idx = torch.from_numpy((states @ self.weights).reshape(-1)).to(self.device)
        return self.table.index_select(0, idx).view(*lead, 2, 4, n, n)


def _draw_uniform_and_moves(
    rngs: list[np.random.Generator], u: np.ndarray, moves: np.ndarray
) -> None:
    """Fill ``u[k]`` with ``rngs[k].random(u[k].shape)`` and ``moves[k]`` with
    ``rngs[k].integers(NUM_ACTIONS, size=moves[k].shape)``: a trainer's exploration draws."""
    for k, rng in enumerate(rngs):
        rng.random(out=u[k])
        moves[k] = rng.integers(NUM_ACTIONS, size=moves.shape[1:])


def recommend_all(
    joint: QNet, obs: torch.Tensor, nudge: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every seed's greedy recommendations and nudged minimal payments ``(K, M, 2)``.

    ``joint`` stacks the ``K`` principals (members ``0..K−1``) and the ``K`` agent networks
    (members ``K..2K−1``); ``obs`` is ``(K, M, 2, 4, N, N)``. Seed ``k``'s values are those of
    :func:`solvers.coin.common.recommend` on its own two networks.
    """
    k, m = obs.shape[:2]
    rows = _rows(obs)
    extra = torch.zeros(2 * k, 2 * m, 2, device=obs.device)
    extra[k:] = 1.0
    q = joint(torch.cat([rows, rows]), extra).view(2, k, m, 2, NUM_ACTIONS)
    rec = q[0].argmax(-1)
    return rec, minimal_payment(q[1], rec, nudge)


class FlatAdam:
    """:class:`torch.optim.Adam` with its defaults (β = (0.9, 0.999), ε = 1e-8, no weight
    decay) over a module whose parameters and gradients are moved into one flat buffer each:
    the single-tensor update's operations in its order (``lerp_``, ``mul_``/``addcmul_``,
    ``sqrt``/``div``/``add_``, ``addcdiv_``), elementwise, so every parameter gets the numbers
    ``Adam`` gives it, in 7 operations instead of 7 per parameter tensor. Gradients accumulate
    into the flat buffer (:meth:`zero_grad` zeroes it; a zero gradient's sign may differ).
    ``param_groups[0]["lr"]`` is the learning rate, as for ``Adam``."""

    def __init__(self, module: torch.nn.Module, lr: float) -> None:
        params = list(module.parameters())
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in params])
        self.grad = torch.zeros_like(self.flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.data = self.flat[offset : offset + n].view_as(p)
            p.grad = self.grad[offset : offset + n].view_as(p)
            offset += n
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.param_groups: list[dict[str, float]] = [{"lr": lr}]
        self.steps = 0

    def zero_grad(self) -> None:
        """Zero the gradients (in place: autograd adds into the flat buffer)."""
        self.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step (torch.optim.adam._single_tensor_adam, non-capturable branch)."""
        beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, self.param_groups[0]["lr"]
        self.steps += 1
        step = float(self.steps)
        self.exp_avg.lerp_(self.grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        denom = (self.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-step_size)


class EnsembleTraining:
    """Algorithm 3's training phase (:class:`~solvers.coin.algorithm3.TrainingPhase`) for the
    seeds of ``cfgs`` at once (module docstring).

    The stacked network's members are ``[principal_0 … principal_{K−1}, agent_0 …
    agent_{K−1}]``.
    """

    name = "train"

    def __init__(self, cfgs: list[Config], rules: CoinGameRules) -> None:
        self.cfg, self.rules = cfgs[0], rules
        self.seeds = [TrainingPhase(c, rules) for c in cfgs]
        self.k = len(cfgs)
        self.total = self.cfg.iterations
        parts = [(s.net, 0) for s in self.seeds] + [(s.net, 1) for s in self.seeds]
        self.net = gather_members(parts)
        self.target = copy.deepcopy(self.net)
        self.opt = FlatAdam(self.net, self.cfg.learning_rate_start)
        self.replay = StackedPrioritizedReplay(
            self.k,
            self.cfg.buffer_size,
            # state, next state, action, follow bits | reward, done: TrainingPhase's fields
            {"ints": ((12,), np.int64), "floats": ((3,), np.float32)},
            ("principal", "agent"),
            alpha=self.cfg.per_alpha,
            eps=self.cfg.per_eps,
        )
        for s in self.seeds:
            del s.replay  # the stacked buffer replaces it (this phase never uses the seed's)
        self.games = StackedCoinGame([s.env for s in self.seeds])
        self.rngs = [s.rng for s in self.seeds]
        self.follow = np.stack([s.follow for s in self.seeds])  # (K, B, 2)
        self.obs = Observations(rules.grid_size, self.cfg.device)
        b = self.cfg.num_games
        self._u = np.empty((self.k, b, 4))
        self._moves = np.empty((self.k, b, 4), dtype=np.int64)
        self._zeros = torch.zeros(self.k, 2 * b, 2, device=self.cfg.device)
        self.it = 0
        self.elapsed = 0.0

    def step(self) -> None:
        """One iteration of every seed: its games step once, then one gradient step for all
        (each seed's draws are TrainingPhase.step's, from its own generators)."""
        cfg, k = self.cfg, self.k
        t0 = time.perf_counter()
        b = cfg.num_games
        state = self.games.state  # (K, b, 4)
        follow = self.follow
        with torch.no_grad():
            rows = self.obs(state).view(k, 2 * b, *self.obs_shape)
            bits = bits_input(torch.from_numpy(follow).to(cfg.device)).reshape(k, 2 * b, 2)
            q = self.net(torch.cat([rows, rows]), torch.cat([self._zeros, bits]))
            greedy = q.view(2, k, b, 2, -1).argmax(-1).cpu().numpy()
        eps = epsilon(cfg, self.it, self.total)
        u, moves = self._u, self._moves
        _draw_uniform_and_moves(self.rngs, u, moves)
        rec = np.where(u[..., :2] < eps, moves[..., :2], greedy[0])
        selfish = np.where(u[..., 2:] < eps, moves[..., 2:], greedy[1])
        act = np.where(follow == 1, rec, selfish)
        rewards, done = self.games.step(act)
        ints = np.concatenate([state, self.games.state, act, follow], -1)
        floats = np.empty((k, b, 3), dtype=np.float32)
        floats[..., :2] = rewards
        floats[..., 2] = float(done)
        if done:
            self.games.reset()
            self.follow = np.stack([s.draw_bits() for s in self.seeds])
        self.replay.add({"ints": ints, "floats": floats})
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        """``(4, N, N)``: one agent's observation."""
        n = self.rules.grid_size
        return (4, n, n)

    def _update(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One gradient step of every seed; returns ``(K,)`` mean squared TD errors of the
        principals and of the agents (TrainingPhase._update's targets, see module docstring)."""
        cfg, m, dev, k = self.cfg, self.cfg.batch_size, self.cfg.device, self.k
        idx, batch = self.replay.sample_all(m, self.rngs)  # principal's, then agent's draws
        ints, floats = batch["ints"], batch["floats"]  # (2, K, m, 12), (2, K, m, 3)
        # (K, 4m, 4): principal's s, s', agent's s, s'
        states = ints[..., :8].reshape(2, k, m, 2, 4).transpose(1, 0, 3, 2, 4).reshape(k, 4 * m, 4)
        obs = self.obs(states).view(k, 8 * m, *self.obs_shape)
        obs_p, obs2_p, obs_a, obs2_a = obs.chunk(4, dim=1)
        acts = torch.from_numpy(ints[..., 8:10]).to(dev)  # (2, K, m, 2)
        a_p, a_a = acts[0], acts[1]
        fl = torch.from_numpy(floats).to(dev)
        r_env_p, r_env_a = fl[0, ..., :2], fl[1, ..., :2]
        done_p, done_a = fl[0, ..., 2], fl[1, ..., 2]
        follow = torch.from_numpy(ints[1, ..., 10:12]).to(dev)
        bits_f = bits_input(follow).reshape(k, 2 * m, 2)
        bits_1 = torch.ones_like(bits_f)
        zeros = torch.zeros_like(bits_f)
        nonterm_p = torch.ones_like(done_p) if cfg.time_limit_bootstrap else 1.0 - done_p
        nonterm_a = torch.ones_like(done_a) if cfg.time_limit_bootstrap else 1.0 - done_a
        # differentiated pass: principal on s_p, agent on (s_a, f)
        q_on = self.net.fast(torch.cat([obs_p, obs_a]), torch.cat([zeros, bits_f]))
        with torch.no_grad():
            # online, no gradient: principal on s'_a (its recommendation), agent on (s_p, 1)
            q_nd = self.net.fast(torch.cat([obs2_a, obs_p]), torch.cat([zeros, bits_1]))
            # targets: principals on s'_p; agents on (s'_a, 1) and (s'_a, f)
            qt_p = self.target.fast(obs2_p, None, member=slice(0, k))
            qt_a = self.target.fast(
                torch.cat([obs2_a, obs2_a], 1),
                torch.cat([bits_1, bits_f], 1),
                member=slice(k, 2 * k),
            )
            pay = minimal_payment(q_nd[k:].view(k, m, 2, -1), a_p, cfg.nudge)
            r_p = (r_env_p - cfg.principal_alpha * pay).sum(-1)
            q_next = qt_p.view(k, m, 2, -1).max(-1).values.sum(-1)
            y_p = r_p + cfg.gamma * nonterm_p * q_next
            rec2 = q_nd[:k].view(k, m, 2, -1).argmax(-1)
            b2 = minimal_payment(qt_a[:, : 2 * m].view(k, m, 2, -1), rec2, cfg.nudge)
            q_tf = qt_a[:, 2 * m :].view(k, m, 2, -1)
            follow_cont = b2 + q_tf.gather(-1, rec2.unsqueeze(-1)).squeeze(-1)
            cont = torch.where(follow == 1, follow_cont, q_tf.max(-1).values)
            y_a = r_env_a + cfg.gamma * nonterm_a[..., None] * cont
        q_p = q_on[:k].view(k, m, 2, -1).gather(-1, a_p.unsqueeze(-1)).squeeze(-1).sum(-1)
        q_a = q_on[k:].view(k, m, 2, -1).gather(-1, a_a.unsqueeze(-1)).squeeze(-1)
        d_p, d_a = y_p - q_p, y_a - q_a
        loss_p, loss_a = (d_p**2).mean(1), (d_a**2).mean((1, 2))
        self.opt.zero_grad()
        (loss_p + loss_a).sum().backward()
        self.opt.step()
        with torch.no_grad():
            td = torch.stack([d_p.abs(), d_a.abs().max(-1).values])  # (2, K, m)
        self.replay.update_all(idx, td.cpu().double().numpy())
        return loss_p.detach(), loss_a.detach()

    def sync(self) -> None:
        """Copy each seed's current weights (and the ensemble's clock) into its trainer."""
        k = self.k
        self.games.store()
        for j, s in enumerate(self.seeds):
            copy_members([(self.net, j), (self.net, k + j)], s.net)
            copy_members([(self.target, j), (self.target, k + j)], s.target)
            s.it, s.elapsed = self.it, self.elapsed
            s.follow = self.follow[j].copy()

    def evaluate(self) -> list[dict[str, Any]]:
        """Every seed's metrics (:meth:`TrainingPhase.evaluate`), appended to its curve."""
        self.sync()
        return [s.evaluate() for s in self.seeds]


class EnsembleDQN:
    """:class:`~solvers.coin.baselines.IndependentDQN` (validation agents or a baseline) for
    the seeds of ``cfgs`` at once; bit for bit each seed's single run (module docstring).

    The stacked network's members are ``[red_0, blue_0, red_1, blue_1, …]``.

    Parameters
    ----------
    cfgs, rules, name, total, mode
        As :class:`IndependentDQN`, one configuration per seed.
    proportions
        Each seed's ``p`` (``constant`` mode).
    trained
        The finished training ensemble (``validation`` mode): its principals and agent
        networks are frozen and each seed's validation agents follow its own principal.
    """

    def __init__(
        self,
        cfgs: list[Config],
        rules: CoinGameRules,
        name: str,
        total: int,
        mode: RewardMode,
        *,
        proportions: list[float] | None = None,
        trained: EnsembleTraining | None = None,
    ) -> None:
        self.cfg, self.rules, self.name, self.total, self.mode = cfgs[0], rules, name, total, mode
        self.k = len(cfgs)
        self.joint: QNet | None = None
        if mode == "validation":
            if trained is None:
                raise ValueError("validation mode needs the trained ensemble")
            trained.sync()
            self.seeds = [
                validation_phase(c, rules, s) for c, s in zip(cfgs, trained.seeds, strict=True)
            ]
            self.joint = copy.deepcopy(trained.net).eval()
            for p in self.joint.parameters():
                p.requires_grad_(False)
        else:
            props = proportions or [0.0] * self.k
            self.seeds = [
                IndependentDQN(c, rules, name, total, mode, proportion=p)
                for c, p in zip(cfgs, props, strict=True)
            ]
        self.net = gather_members([(s.net, i) for s in self.seeds for i in (0, 1)])
        self.target = copy.deepcopy(self.net)
        self.opt = FlatAdam(self.net, self.cfg.learning_rate_start)
        self.replay = StackedPrioritizedReplay(
            self.k,
            self.cfg.buffer_size,
            # state, next state, action, recommendation | reward, done: IndependentDQN's fields
            {"ints": ((12,), np.int64), "floats": ((3,), np.float32)},
            ("red", "blue"),
            alpha=self.cfg.per_alpha,
            eps=self.cfg.per_eps,
        )
        for s in self.seeds:
            del s.replay
        self.games = StackedCoinGame([s.env for s in self.seeds])
        self.rngs = [s.rng for s in self.seeds]
        self.obs = Observations(rules.grid_size, self.cfg.device)
        b = self.cfg.num_games
        self._u = np.empty((self.k, b, 2))
        self._moves = np.empty((self.k, b, 2), dtype=np.int64)
        self._no_rec = np.zeros((self.k, b, 2), dtype=np.int64)
        self.it = 0
        self.elapsed = 0.0

    def _members(self, x: torch.Tensor) -> torch.Tensor:
        """``(K, 2, M, …)`` → ``(2K, M, …)`` in member order."""
        return x.reshape(2 * self.k, *x.shape[2:])

    @torch.no_grad()
    def _greedy(
        self, obs: torch.Tensor
    ) -> tuple[np.ndarray, torch.Tensor | None, torch.Tensor | None]:
        """Greedy moves ``(K, B, 2)`` (and each seed's recommendations and payments)."""
        k = self.k
        rec = pay = extra = None
        if self.joint is not None:
            rec, pay = recommend_all(self.joint, obs, self.cfg.nudge)
            extra = self._members(F.one_hot(rec, NUM_ACTIONS).float().transpose(1, 2))
        q = self.net(self._members(obs.transpose(1, 2)), extra)  # (2K, B, A)
        return q.argmax(-1).view(k, 2, -1).transpose(1, 2).cpu().numpy(), rec, pay

    def _shape(
        self,
        rewards: np.ndarray,
        act: np.ndarray,
        rec: np.ndarray | None,
        pay: np.ndarray | None,
    ) -> np.ndarray:
        """Every seed's :func:`~solvers.coin.baselines.shape_rewards` ``(K, B, 2)``."""
        if self.mode in ("validation", "selfish"):  # elementwise: all seeds at once
            return shape_rewards(self.mode, rewards, act, rec, pay, 0.0)
        return np.stack(
            [
                shape_rewards(self.mode, rewards[j], act[j], None, None, s.proportion)
                for j, s in enumerate(self.seeds)
            ]
        )

    def step(self) -> None:
        """One iteration of every seed (IndependentDQN.step's draws, per seed)."""
        cfg, k = self.cfg, self.k
        t0 = time.perf_counter()
        b = cfg.num_games
        state = self.games.state
        greedy, rec, pay = self._greedy(self.obs(state))
        rec_np = rec.cpu().numpy() if rec is not None else self._no_rec
        pay_np = pay.cpu().double().numpy() if pay is not None else None
        eps = epsilon(cfg, self.it, self.total)
        u, moves = self._u, self._moves
        _draw_uniform_and_moves(self.rngs, u, moves)
        act = np.where(u < eps, moves, greedy)
        rewards, done = self.games.step(act)
        shaped = self._shape(rewards, act, rec_np if rec is not None else None, pay_np)
        ints = np.concatenate([state, self.games.state, act, rec_np], -1)
        floats = np.empty((k, b, 3), dtype=np.float32)
        floats[..., :2] = shaped
        floats[..., 2] = float(done)
        if done:
            self.games.reset()
        self.replay.add({"ints": ints, "floats": floats})
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    def _update(self) -> None:
        cfg, m, dev, k = self.cfg, self.cfg.batch_size, self.cfg.device, self.k
        n = self.rules.grid_size
        idx, batch = self.replay.sample_all(m, self.rngs)  # red's, then blue's draws
        ints, floats = batch["ints"], batch["floats"]  # (2, K, m, 12), (2, K, m, 3)
        # (K, 2m, 2, 4): red's batch then blue's, state and next state
        states = ints[..., :8].reshape(2, k, m, 2, 4).transpose(1, 3, 0, 2, 4)
        obs = self.obs(states.reshape(k, 2, 2 * m, 4))  # (K, 2, 2m, 2, 4, N, N)
        # each learner's own view of its own batch: red's column of red's rows, blue's of blue's
        own = torch.stack([obs[:, :, :m, 0], obs[:, :, m:, 1]], 2)  # (K, 2[s, s'], 2, m, …)
        x = self._members(own[:, 0])
        x2 = self._members(own[:, 1])

        def mine(v: np.ndarray) -> torch.Tensor:
            """``(2K, m)`` of ``(2, K, m, 2)``: learner ``i``'s column ``i`` of its batch."""
            both = np.stack([v[0, :, :, 0], v[1, :, :, 1]], 1)
            return torch.from_numpy(both.reshape(2 * k, m)).to(dev)

        a, r = mine(ints[..., 8:10]), mine(floats[..., :2])
        done = torch.from_numpy(floats[..., 2].transpose(1, 0, 2).reshape(2 * k, m)).to(dev)
        extra = extra2 = None
        if self.joint is not None:
            extra = F.one_hot(mine(ints[..., 10:12]), NUM_ACTIONS).float()
            with torch.no_grad():
                rows2 = obs[:, 1].reshape(k, 4 * m, 4, n, n)
                q2 = self.joint(rows2, None, member=slice(0, k))  # principals on s'
                rec2 = q2.view(k, 2 * m, 2, NUM_ACTIONS).argmax(-1)
            rec2_own = torch.stack([rec2[:, :m, 0], rec2[:, m:, 1]], 1).reshape(2 * k, m)
            extra2 = F.one_hot(rec2_own, NUM_ACTIONS).float()
        with torch.no_grad():
            nonterm = 1.0 if cfg.time_limit_bootstrap else 1.0 - done
            y = r + cfg.gamma * nonterm * self.target(x2, extra2).max(-1).values
        q = self.net(x, extra).gather(-1, a.unsqueeze(-1)).squeeze(-1)
        delta = y - q  # (2K, m)
        loss = (delta.view(k, 2 * m) ** 2).mean(1).sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        td = delta.detach().abs().cpu().double().numpy().reshape(k, 2, m)
        self.replay.update_all(idx, td.transpose(1, 0, 2))

    def sync(self) -> None:
        """Copy each seed's current weights (and the ensemble's clock) into its trainer."""
        self.games.store()
        for j, s in enumerate(self.seeds):
            copy_members([(self.net, 2 * j), (self.net, 2 * j + 1)], s.net)
            copy_members([(self.target, 2 * j), (self.target, 2 * j + 1)], s.target)
            s.it, s.elapsed = self.it, self.elapsed

    def evaluate(self) -> list[dict[str, Any]]:
        """Every seed's metrics (:meth:`IndependentDQN.evaluate`), appended to its curve."""
        self.sync()
        return [s.evaluate() for s in self.seeds]


EnsemblePhase = EnsembleTraining | EnsembleDQN


def _build(
    name: str,
    cfgs: list[Config],
    rules: CoinGameRules,
    trained: EnsembleTraining | None,
    results: list[dict[str, Any]],
) -> EnsemblePhase:
    cfg = cfgs[0]
    if name == "train":
        return EnsembleTraining(cfgs, rules)
    if name == "validate":
        return EnsembleDQN(
            cfgs, rules, name, cfg.validation_iterations, "validation", trained=trained
        )
    if name == "constant":
        props = [constant_proportion(r) for r in results]
        return EnsembleDQN(
            cfgs, rules, name, cfg.baseline_iterations, "constant", proportions=props
        )
    if name in ("selfish", "cooperative"):
        return EnsembleDQN(cfgs, rules, name, cfg.baseline_iterations, name)  # type: ignore[arg-type]
    raise ValueError(f"unknown phase {name!r}")


def run_seeds(
    cfg: Config,
    seeds: list[int],
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run ``seeds`` as one batched ensemble into ``cfg.output`` (module docstring).

    Writes ``<output>/seed_<k>/results.json`` per seed (the layout and fields of
    :func:`solvers.coin.train.run`, plus ``"ensemble"``), then ``summary.json`` and the figures
    (:func:`solvers.coin.plots.plot_runs`); returns the summary. Every file is written
    atomically. No checkpoints are written: an interrupted ensemble starts again.

    Parameters
    ----------
    cfg
        The shared configuration (``cfg.seed`` is ignored; ``cfg.output`` is the run folder).
    seeds
        Distinct seeds.
    progress
        Show tqdm progress bars.
    log
        Receives one line with the iterations per second and the estimated remaining time
        after the first :data:`~solvers.coin.train.ETA_AFTER` iterations.

    Raises
    ------
    TrainingInterrupted
        On Ctrl-C, after the iteration in progress (nothing of the unfinished run is kept).
    """
    with FlushDenormals(False), DeferredInterrupt() as interrupt:
        runs = _run(cfg, seeds, progress, log, interrupt)
    from solvers.coin.plots import plot_runs

    summary = aggregate(runs)
    out = Path(cfg.output)
    write_json(out / "summary.json", summary)
    plot_runs(runs, out)
    return summary


def _run(
    cfg: Config,
    seeds: list[int],
    progress: bool,
    log: Callable[[str], None] | None,
    interrupt: DeferredInterrupt,
) -> list[dict[str, Any]]:
    cfgs = seed_configs(cfg, seeds)
    seed_everything(seeds[0], device=cfg.device, deterministic_cuda=True)
    rules = preset(cfg.preset)
    t0 = time.perf_counter()
    optimum = (
        TabularCoinGame(rules).welfare_optimum().value
        if cfg.exact_optimum and rules.grid_size <= MAX_DP_GRID
        else None
    )
    dp_seconds = time.perf_counter() - t0
    results: list[dict[str, Any]] = [
        {
            "config": c.to_dict(),
            "ensemble": {"seeds": list(seeds), "batched": True},
            "phases": {},
            "complete": False,
            "throughput": [],
            "dp_optimum": optimum,
            "dp_seconds": dp_seconds,
        }
        for c in cfgs
    ]
    trained: EnsembleTraining | None = None
    throughput = Throughput(0)
    remaining = sum(total for _, total in cfg.phases())
    done_now = 0
    for name, _ in cfg.phases():
        phase = _build(name, cfgs, rules, trained, results)
        bar = tqdm(
            total=phase.total,
            desc=f"seeds {seeds} {name}",
            disable=not progress,
            unit="it",
            smoothing=0.05,
        )
        phase.evaluate()
        while phase.it < phase.total:
            phase.step()
            bar.update(1)
            done_now += 1
            if done_now == ETA_AFTER and log is not None:
                left = throughput.remaining_seconds(done_now, remaining - done_now)
                log(
                    f"after {done_now} iterations of {len(seeds)} seeds at once: "
                    f"{throughput.rate(done_now):.0f} it/s, "
                    f"estimated remaining time {format_duration(left)}"
                )
            if phase.it % cfg.eval_every == 0 or phase.it == phase.total:
                rows = phase.evaluate()
                rate = phase.it / max(phase.elapsed, 1e-9)
                for res in results:
                    res["throughput"].append(
                        {"phase": name, "iteration": phase.it, "iterations_per_second": rate}
                    )
                welfare = np.mean([row["welfare"] for row in rows])
                bar.set_postfix(welfare=f"{welfare:.2f}", its=f"{rate:.0f}/s")
            if interrupt.requested and phase.it < phase.total:
                bar.close()
                raise TrainingInterrupted(phase.it, None, f"phase {name!r} of the ensemble")
        bar.close()
        phase.sync()
        members: list[TrainingPhase | IndependentDQN] = list(phase.seeds)
        for res, member in zip(results, members, strict=True):
            res["phases"][name] = phase_summary(member)
        if isinstance(phase, EnsembleTraining):
            trained = phase
    for res, c in zip(results, cfgs, strict=True):
        res["complete"] = True
        res["summary"] = summarize(res)
        Path(c.output).mkdir(parents=True, exist_ok=True)
        write_json(Path(c.output) / "results.json", res)
    return results
