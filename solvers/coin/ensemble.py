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
* **one optimiser step for all**: one Adam over the stacked parameters, minimising the *sum*
  of the seeds' losses. Adam is elementwise and the seeds' parameters are disjoint, so this is
  each seed's own Adam step; all seeds share the schedule (same phase length, same iteration);
* **replay**: one :class:`~solvers.coin.replay.StackedPrioritizedReplay`, a separate buffer
  and priority tree per seed and learner, each seed sampling with its own generator;
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
which halves the backward pass. The weight gradients then sum the same products over fewer
rows, which changes their last bits, so a batched training phase follows an unbatched one
only statistically (same seeds, metrics within the tolerance stated in the test).

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
from solvers.coin.env import NUM_ACTIONS, CoinGameRules, preset
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

__all__ = ["EnsembleDQN", "EnsembleTraining", "run_seeds", "seed_configs"]


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


def _encode(states: np.ndarray, grid: int, device: str) -> torch.Tensor:
    """``(K, M, 2, 4, N, N)`` observations of ``(K, M, 4)`` compact states."""
    k, m = states.shape[:2]
    st = torch.from_numpy(np.ascontiguousarray(states).reshape(k * m, 4)).to(device)
    return encode(st, grid).view(k, m, 2, 4, grid, grid)


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
        self.opt = torch.optim.Adam(
            self.net.parameters(), lr=self.cfg.learning_rate_start, foreach=True
        )
        self.replay = StackedPrioritizedReplay(
            self.k,
            self.cfg.buffer_size,
            {
                "state": ((4,), np.int64),
                "next_state": ((4,), np.int64),
                "action": ((2,), np.int64),
                "follow": ((2,), np.int64),
                "reward": ((2,), np.float32),
                "done": ((), np.float32),
            },
            ("principal", "agent"),
            alpha=self.cfg.per_alpha,
            eps=self.cfg.per_eps,
        )
        for s in self.seeds:
            del s.replay  # the stacked buffer replaces it (this phase never uses the seed's)
        self.it = 0
        self.elapsed = 0.0

    def step(self) -> None:
        """One iteration of every seed: its games step once, then one gradient step for all."""
        cfg, k = self.cfg, self.k
        t0 = time.perf_counter()
        b = cfg.num_games
        state = np.stack([s.env.state for s in self.seeds])  # (K, b, 4)
        follow = np.stack([s.follow for s in self.seeds])
        with torch.no_grad():
            rows = _rows(_encode(state, self.rules.grid_size, cfg.device))
            bits = bits_input(torch.from_numpy(follow).to(cfg.device)).reshape(k, 2 * b, 2)
            q = self.net(torch.cat([rows, rows]), torch.cat([torch.zeros_like(bits), bits]))
            rec_all = q[:k].view(k, b, 2, -1).argmax(-1).cpu().numpy()
            selfish_all = q[k:].view(k, b, 2, -1).argmax(-1).cpu().numpy()
        eps = epsilon(cfg, self.it, self.total)
        actions, rewards, next_state = [], [], []
        done = False
        for j, s in enumerate(self.seeds):  # each seed's draws, in TrainingPhase.step's order
            u = s.rng.random((b, 4))
            random_actions = s.rng.integers(NUM_ACTIONS, size=(b, 4))
            rec = np.where(u[:, :2] < eps, random_actions[:, :2], rec_all[j])
            selfish = np.where(u[:, 2:] < eps, random_actions[:, 2:], selfish_all[j])
            act = np.where(s.follow == 1, rec, selfish)
            res = s.env.step(act)
            actions.append(act)
            rewards.append(res.rewards)
            next_state.append(s.env.state)
            done = res.done
            if res.done:
                s.env.reset()
                s.follow = s.draw_bits()
        self.replay.add(
            {
                "state": state,
                "next_state": np.stack(next_state),
                "action": np.stack(actions),
                "follow": follow,
                "reward": np.stack(rewards),
                "done": np.full((k, b), float(done)),
            }
        )
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    def _update(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One gradient step of every seed; returns ``(K,)`` mean squared TD errors of the
        principals and of the agents (TrainingPhase._update's targets, see module docstring)."""
        cfg, n, m, dev, k = (
            self.cfg,
            self.rules.grid_size,
            self.cfg.batch_size,
            self.cfg.device,
            self.k,
        )
        rngs = [s.rng for s in self.seeds]
        idx_p, bp = self.replay.sample("principal", m, rngs)
        idx_a, ba = self.replay.sample("agent", m, rngs)
        states = np.concatenate([bp["state"], bp["next_state"], ba["state"], ba["next_state"]], 1)
        obs_p, obs2_p, obs_a, obs2_a = _rows(_encode(states, n, dev)).chunk(4, dim=1)
        a_p = torch.from_numpy(bp["action"]).to(dev)  # (K, m, 2)
        a_a = torch.from_numpy(ba["action"]).to(dev)
        r_env_p = torch.from_numpy(bp["reward"]).to(dev)
        r_env_a = torch.from_numpy(ba["reward"]).to(dev)
        done_p = torch.from_numpy(bp["done"]).to(dev)
        done_a = torch.from_numpy(ba["done"]).to(dev)
        follow = torch.from_numpy(ba["follow"]).to(dev)
        bits_f = bits_input(follow).reshape(k, 2 * m, 2)
        bits_1 = torch.ones_like(bits_f)
        zeros = torch.zeros_like(bits_f)
        nonterm_p = torch.ones_like(done_p) if cfg.time_limit_bootstrap else 1.0 - done_p
        nonterm_a = torch.ones_like(done_a) if cfg.time_limit_bootstrap else 1.0 - done_a
        # differentiated pass: principal on s_p, agent on (s_a, f)
        q_on = self.net(torch.cat([obs_p, obs_a]), torch.cat([zeros, bits_f]))
        with torch.no_grad():
            # online, no gradient: principal on s'_a (its recommendation), agent on (s_p, 1)
            q_nd = self.net(torch.cat([obs2_a, obs_p]), torch.cat([zeros, bits_1]))
            # targets: principals on s'_p; agents on (s'_a, 1) and (s'_a, f)
            qt_p = self.target(obs2_p, None, member=slice(0, k))
            qt_a = self.target(
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
        self.replay.update_priorities("principal", idx_p, d_p.detach().abs().cpu().double().numpy())
        self.replay.update_priorities(
            "agent", idx_a, d_a.detach().abs().max(-1).values.cpu().double().numpy()
        )
        return loss_p.detach(), loss_a.detach()

    def sync(self) -> None:
        """Copy each seed's current weights (and the ensemble's clock) into its trainer."""
        k = self.k
        for j, s in enumerate(self.seeds):
            copy_members([(self.net, j), (self.net, k + j)], s.net)
            copy_members([(self.target, j), (self.target, k + j)], s.target)
            s.it, s.elapsed = self.it, self.elapsed

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
        self.opt = torch.optim.Adam(
            self.net.parameters(), lr=self.cfg.learning_rate_start, foreach=True
        )
        self.replay = StackedPrioritizedReplay(
            self.k,
            self.cfg.buffer_size,
            {
                "state": ((4,), np.int64),
                "next_state": ((4,), np.int64),
                "action": ((2,), np.int64),
                "rec": ((2,), np.int64),
                "reward": ((2,), np.float32),
                "done": ((), np.float32),
            },
            ("red", "blue"),
            alpha=self.cfg.per_alpha,
            eps=self.cfg.per_eps,
        )
        for s in self.seeds:
            del s.replay
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

    def step(self) -> None:
        """One iteration of every seed (IndependentDQN.step's draws, per seed)."""
        cfg, k = self.cfg, self.k
        t0 = time.perf_counter()
        b = cfg.num_games
        state = np.stack([s.env.state for s in self.seeds])
        greedy, rec, pay = self._greedy(_encode(state, self.rules.grid_size, cfg.device))
        rec_np = rec.cpu().numpy() if rec is not None else np.zeros((k, b, 2), dtype=np.int64)
        pay_np = pay.cpu().double().numpy() if pay is not None else None
        eps = epsilon(cfg, self.it, self.total)
        actions, shaped, next_state = [], [], []
        done = False
        for j, s in enumerate(self.seeds):
            explore = s.rng.random((b, 2)) < eps
            random_actions = s.rng.integers(NUM_ACTIONS, size=(b, 2))
            act = np.where(explore, random_actions, greedy[j])
            res = s.env.step(act)
            shaped.append(
                shape_rewards(
                    self.mode,
                    res.rewards,
                    act,
                    rec_np[j] if rec is not None else None,
                    pay_np[j] if pay_np is not None else None,
                    s.proportion,
                )
            )
            actions.append(act)
            next_state.append(s.env.state)
            done = res.done
            if res.done:
                s.env.reset()
        self.replay.add(
            {
                "state": state,
                "next_state": np.stack(next_state),
                "action": np.stack(actions),
                "rec": rec_np,
                "reward": np.stack(shaped),
                "done": np.full((k, b), float(done)),
            }
        )
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
        self.elapsed += time.perf_counter() - t0

    def _update(self) -> None:
        cfg, n, m, dev, k = (
            self.cfg,
            self.rules.grid_size,
            self.cfg.batch_size,
            self.cfg.device,
            self.k,
        )
        rngs = [s.rng for s in self.seeds]
        idx_r, br = self.replay.sample("red", m, rngs)
        idx_b, bb = self.replay.sample("blue", m, rngs)
        obs = _encode(np.concatenate([br["state"], bb["state"]], 1), n, dev)  # (K, 2m, 2, …)
        obs2 = _encode(np.concatenate([br["next_state"], bb["next_state"]], 1), n, dev)
        x = self._members(torch.stack([obs[:, :m, 0], obs[:, m:, 1]], 1))
        x2 = self._members(torch.stack([obs2[:, :m, 0], obs2[:, m:, 1]], 1))

        def own(field: str) -> torch.Tensor:
            """``(2K, m)``: red's column of red's batch, blue's of blue's, per seed."""
            v = np.stack([br[field][:, :, 0], bb[field][:, :, 1]], 1)
            return torch.from_numpy(v.reshape(2 * k, m)).to(dev)

        a, r = own("action"), own("reward")
        done = torch.from_numpy(np.stack([br["done"], bb["done"]], 1).reshape(2 * k, m)).to(dev)
        extra = extra2 = None
        if self.joint is not None:
            extra = F.one_hot(own("rec"), NUM_ACTIONS).float()
            with torch.no_grad():
                q2 = self.joint(_rows(obs2), None, member=slice(0, k))  # principals on s'
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
        self.replay.update_priorities("red", idx_r, td[:, 0])
        self.replay.update_priorities("blue", idx_b, td[:, 1])

    def sync(self) -> None:
        """Copy each seed's current weights (and the ensemble's clock) into its trainer."""
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
