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
* **one optimiser step for all**: one Adam over the stacked parameters
  (:class:`~solvers.coin.passes.FlatAdam`: ``torch.optim.Adam``'s operations on one flat
  buffer), minimising the *sum* of the seeds' losses. Adam is elementwise and the seeds'
  parameters are disjoint, so this is each seed's own Adam step; all seeds share the schedule
  (same phase length, same iteration);
* **replay**: one :class:`~solvers.coin.replay.StackedPrioritizedReplay`, a separate buffer
  and priority tree per seed and learner, each seed sampling with its own generator; both
  learners' batches are drawn in one descent of the stacked trees and reprioritised together;
* **environments**: one :class:`~solvers.coin.env.StackedCoinGame` steps all seeds' games as
  one ``(K, B)`` batch, each seed drawing from its own environment generator exactly what its
  :class:`~solvers.coin.env.BatchedCoinGame` would; exploration moves and follow bits come
  from each seed's own generator, drawn per seed in the single trainer's order, so every
  seed sees the random numbers of a single run. Observations are looked up in a table of
  :func:`~solvers.coin.networks.encode`
  (:class:`~solvers.coin.ensemble_training.Observations`);
* **evaluation**: at every ``eval_every`` iterations each seed's weights are copied back into
  its own trainer, whose ``evaluate`` (the same code as a single run) records the metrics.

Speed without changing a number (each measured bit for bit against the previous code):

* **gradients by hand** (:mod:`solvers.coin.passes`): a gradient step runs no autograd;
  :func:`~solvers.coin.passes.fast_backward` runs the operations autograd would (the same
  backward formulas, in the same order, into the flat gradient buffer of
  :class:`~solvers.coin.passes.FlatAdam`), and the loss's own gradient is formed as autograd
  forms it, so the weights are the same bits;
* **one lookup per step** for all the observations a gradient step needs
  (:meth:`~solvers.coin.ensemble_training.Observations.select`), in the layout of its passes;
* **lookup tables of frozen networks** (3×3 and other boards with an observation table, on
  the CPU): a row of a pass is a function of that row alone on the CPU — every output is the
  same sum of products whatever the other rows of the batch and their number (measured with
  this machine's MKL for every pass shape, 32 to 11,664 rows, and checked end to end: a phase
  with tables equals one without, bit for bit) — so the target networks (frozen for
  ``target_update_every`` iterations) are evaluated once per target period on every row they
  can be asked for and then looked up
  (:meth:`~solvers.coin.ensemble_training.EnsembleTraining._target_tables`,
  :meth:`EnsembleDQN._target_max`), and the validation phase's principals and agent
  networks (frozen for the whole phase) give every state's recommendations and payments once
  (:meth:`EnsembleDQN._recommend_tables`). Tables are used only where they cost fewer rows
  than the passes they replace (``memo=None``); ``memo=True`` / ``False`` forces them on or off
  (the same numbers either way).

Exactness (``tests/test_coin_ensemble.py``). Members of a stacked ``QNet`` do not interact, so
a seed's numbers do not depend on which other seeds share its ensemble: seed ``s`` trained in
an ensemble of ``K`` seeds equals seed ``s`` trained alone in an ensemble of one, bit for bit
on the CPU. The validation phase and the baselines (:class:`EnsembleDQN`) run exactly the
operations of :class:`~solvers.coin.baselines.IndependentDQN`, so from the same trained
principal they reproduce a single run bit for bit.
:class:`~solvers.coin.ensemble_training.EnsembleTraining` (in its own module, with the
stacked :class:`~solvers.coin.ensemble_training.Observations`) computes the same losses as
:class:`~solvers.coin.algorithm3.TrainingPhase` (tested to 1e-5 after a gradient step) but
arranges the forward passes differently: the rows that need no gradient (the
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
from solvers.coin.common import epsilon
from solvers.coin.config import Config
from solvers.coin.dp import TabularCoinGame
from solvers.coin.ensemble_training import TABLE_STATES as TABLE_STATES
from solvers.coin.ensemble_training import EnsembleTraining as EnsembleTraining
from solvers.coin.ensemble_training import Observations as Observations
from solvers.coin.ensemble_training import StackedSeeds, _draw_uniform_and_moves
from solvers.coin.env import NUM_ACTIONS, CoinGameRules, preset
from solvers.coin.networks import QNet, copy_members, minimal_payment
from solvers.coin.passes import chunked_forward, fast_backward, fast_forward
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


class EnsembleDQN(StackedSeeds):
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
        memo: bool | None = None,
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
        self._stack(self.seeds, [(s.net, i) for s in self.seeds for i in (0, 1)], ("red", "blue"))
        self.obs = Observations(rules.grid_size, self.cfg.device)
        b = self.cfg.num_games
        self._u = np.empty((self.k, b, 2))
        self._moves = np.empty((self.k, b, 2), dtype=np.int64)
        self._no_rec = np.zeros((self.k, b, 2), dtype=np.int64)
        self.it = 0
        self.elapsed = 0.0
        # lookup tables of frozen networks (observation tables on the CPU only; see
        # EnsembleTraining._target_tables for why a looked-up row is the computed one), used
        # where they cost fewer rows than the passes they replace
        states = 0 if self.obs.table is None else self.obs.table.shape[0]
        if memo and not states:
            raise ValueError(
                f"lookup tables need an observation table (boards with 2·cells³ ≤ "
                f"{TABLE_STATES:,} states: up to 5×5)"
            )
        auto = memo is None and self.cfg.device == "cpu" and states > 0
        self._recommend: tuple[torch.Tensor, torch.Tensor] | None = None
        if self.joint is not None and (memo or (auto and 4 * states < self.total * 2 * b)):
            self._recommend = self._recommend_tables()
        m = self.cfg.batch_size
        self.memo = bool(memo or (auto and 2 * states < self.cfg.target_update_every * m)) and (
            self.joint is None or self._recommend is not None
        )
        self._memo: torch.Tensor | None = None
        self._states = states
        self._seed_rows = np.arange(self.k)[:, None, None] * 2 * states + np.arange(2)
        self._member_rows = np.arange(2 * self.k).reshape(self.k, 2, 1) * states
        # rows of member (seed j, learner i): agent i's view of seed j's games / samples
        j, i, t = np.meshgrid(np.arange(self.k), np.arange(2), np.arange(b), indexing="ij")
        self._act_rows = ((j * b + t).ravel(), i.ravel())
        j, i, t = np.meshgrid(np.arange(self.k), np.arange(2), np.arange(m), indexing="ij")
        self._own_rows = (((i * self.k + j) * m + t).ravel(), i.ravel())

    @torch.no_grad()
    def _recommend_tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`recommend_all` of every state: recommendations (long) and payments, each
        ``(K·2·S,)`` at ``(seed, 2·code + agent)``."""
        assert self.joint is not None and self.obs.table is not None
        n = self.rules.grid_size
        rows = self.obs.table.view(1, -1, 2, 4, n, n).expand(self.k, -1, -1, -1, -1, -1)
        rec, pay = recommend_all(self.joint, rows.contiguous(), self.cfg.nudge)
        return rec.reshape(-1), pay.reshape(-1)

    @torch.no_grad()
    def _target_max(self) -> torch.Tensor:
        """``max_a`` of the target networks on every state, ``(2K·S,)`` at ``(member, code)``:
        member ``(seed, learner i)`` on agent ``i``'s observation, with (validation) the
        one-hot recommendation of its seed's principal there."""
        assert self.obs.table is not None
        k, n = self.k, self.rules.grid_size
        states = self.obs.table.shape[0]
        own = self.obs.table.view(states, 2, 4, n, n).transpose(0, 1)  # (2, S, …)
        x = own.unsqueeze(0).expand(k, -1, -1, -1, -1, -1).reshape(2 * k, states, 4, n, n)
        extra = None
        if self._recommend is not None:
            rec = self._recommend[0].view(k, states, 2).transpose(1, 2).reshape(2 * k, states)
            extra = F.one_hot(rec, NUM_ACTIONS).float()
        elif self.joint is not None:
            raise AssertionError("target tables of the validation agents need recommendations")
        flat = x.reshape(2 * k, states, -1).contiguous()
        q = chunked_forward(self.target, flat, extra, slice(None), transposed=False)
        return q.max(-1).values.reshape(-1)

    def _members(self, x: torch.Tensor) -> torch.Tensor:
        """``(K, 2, M, …)`` → ``(2K, M, …)`` in member order."""
        return x.reshape(2 * self.k, *x.shape[2:])

    @torch.no_grad()
    def _greedy(
        self, state: np.ndarray
    ) -> tuple[np.ndarray, torch.Tensor | None, torch.Tensor | None]:
        """Greedy moves ``(K, B, 2)`` (and each seed's recommendations and payments) in the
        games' states ``(K, B, 4)``."""
        k, n = self.k, self.rules.grid_size
        rec = pay = extra = None
        if self._recommend is not None:
            idx = self.obs.row_ids(state)[..., None] + self._seed_rows
            at = torch.from_numpy(idx.reshape(-1)).to(self.cfg.device)
            b = idx.shape[1]
            rec = self._recommend[0].index_select(0, at).view(k, b, 2)
            pay = self._recommend[1].index_select(0, at).view(k, b, 2)
            extra = self._members(F.one_hot(rec, NUM_ACTIONS).float().transpose(1, 2))
        elif self.joint is not None:
            rec, pay = recommend_all(self.joint, self.obs(state), self.cfg.nudge)
            extra = self._members(F.one_hot(rec, NUM_ACTIONS).float().transpose(1, 2))
        rows = self.obs.select(state, *self._act_rows).view(2 * k, -1, 4, n, n)
        q = self.net(rows, extra)  # (2K, B, A)
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
        greedy, rec, pay = self._greedy(state)
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
        self._store_and_learn(ints, floats, t0)

    def _update(self) -> None:
        cfg, m, dev, k = self.cfg, self.cfg.batch_size, self.cfg.device, self.k
        n = self.rules.grid_size
        idx, batch = self.replay.sample_all(m, self.rngs)  # red's, then blue's draws
        ints, floats = batch["ints"], batch["floats"]  # (2, K, m, 12), (2, K, m, 3)
        if self.memo:
            self._update_from_tables(idx, ints, floats)
            return
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
            self._descend(idx, x.view(2 * k, m, -1), extra, a, y)

    def _descend(
        self,
        idx: np.ndarray,
        x: torch.Tensor,
        extra: torch.Tensor | None,
        a: torch.Tensor,
        y: torch.Tensor,
    ) -> None:
        """The gradient step on the loss ``Σ_k mean δ²`` (``δ = y − Q(x, a)``, ``(2K, m)``),
        its gradient by hand (as :meth:`EnsembleTraining._gradient_step`), and the new
        priorities."""
        k, m = self.k, self.cfg.batch_size
        q_all, saved = fast_forward(self.net, x, extra, transposed=False)
        q = q_all.gather(-1, a.unsqueeze(-1)).squeeze(-1)
        delta = y - q  # (2K, m)
        g = torch.zeros_like(q_all)
        g.scatter_add_(-1, a.unsqueeze(-1), (-((2.0 * delta) * (1.0 / (2 * m)))).unsqueeze(-1))
        fast_backward(self.net, saved, g, self.opt.grads, transposed=False)
        self.opt.grad.add_(0.0)  # autograd adds into the zeroed buffer: 0 + g (so −0 → +0)
        self.opt.step()
        td = delta.abs().cpu().double().numpy().reshape(k, 2, m)
        self.replay.update_all(idx, td.transpose(1, 0, 2))

    @torch.no_grad()
    def _update_from_tables(self, idx: np.ndarray, ints: np.ndarray, floats: np.ndarray) -> None:
        """:meth:`_update` with the targets' maxima looked up (:meth:`_target_max`): the same
        numbers without the next states' passes."""
        cfg, m, dev, k = self.cfg, self.cfg.batch_size, self.cfg.device, self.k
        n = self.rules.grid_size
        if self._memo is None:
            self._memo = self._target_max()
        x = self.obs.select(ints[..., :4], *self._own_rows).view(2 * k, m, 4, n, n)

        def mine(v: np.ndarray) -> torch.Tensor:
            """``(2K, m)`` of ``(2, K, m, 2)``: learner ``i``'s column ``i`` of its batch."""
            both = np.stack([v[0, :, :, 0], v[1, :, :, 1]], 1)
            return torch.from_numpy(both.reshape(2 * k, m)).to(dev)

        a, r = mine(ints[..., 8:10]), mine(floats[..., :2])
        done = torch.from_numpy(floats[..., 2].transpose(1, 0, 2).reshape(2 * k, m)).to(dev)
        extra = None
        if self.joint is not None:
            extra = F.one_hot(mine(ints[..., 10:12]), NUM_ACTIONS).float()
        at = (ints[..., 4:8] @ self.obs.weights).transpose(1, 0, 2) + self._member_rows
        target = self._memo.index_select(0, torch.from_numpy(at.reshape(-1)).to(dev))
        nonterm = 1.0 if cfg.time_limit_bootstrap else 1.0 - done
        y = r + cfg.gamma * nonterm * target.view(2 * k, m)
        self._descend(idx, x.view(2 * k, m, -1), extra, a, y)

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
