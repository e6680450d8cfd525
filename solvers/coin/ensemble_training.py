"""Algorithm 3's training phase for ``K`` seeds at once, and the stacked building blocks that
the batched ensembles share (issue 15; moved out of :mod:`solvers.coin.ensemble`).

Contents
--------
* :class:`EnsembleTraining` — :class:`~solvers.coin.algorithm3.TrainingPhase` for the seeds
  of a list of configurations as one batched computation: stacked ``QNet`` members, one
  :class:`~solvers.coin.passes.FlatAdam` step for all, one
  :class:`~solvers.coin.replay.StackedPrioritizedReplay`, one
  :class:`~solvers.coin.env.StackedCoinGame`, gradients by hand and lookup tables of the
  frozen target networks. What is and is not bit for bit the same as a single run is stated
  in the :mod:`solvers.coin.ensemble` docstring.
* :class:`Observations` and :data:`TABLE_STATES` — :func:`~solvers.coin.networks.encode` of
  compact states as one table lookup (any arrangement of rows in one lookup).
* :func:`_draw_uniform_and_moves` — each seed's exploration draws from its own generator, in
  a single trainer's order.

Used by :mod:`solvers.coin.ensemble` (its :class:`~solvers.coin.ensemble.EnsembleDQN` and
phase runner :func:`~solvers.coin.ensemble.run_seeds`, which also re-exports
``EnsembleTraining``, ``Observations`` and ``TABLE_STATES``) and by
``tests/test_coin_ensemble.py`` and ``benchmarks/bench_coin_ensemble.py`` through those
re-exports.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch

from solvers.coin.algorithm3 import TrainingPhase
from solvers.coin.common import bits_input, epsilon, learning_rate
from solvers.coin.config import Config
from solvers.coin.env import NUM_ACTIONS, CoinGameRules, StackedCoinGame
from solvers.coin.networks import copy_members, encode, gather_members, minimal_payment
from solvers.coin.passes import FlatAdam, chunked_forward, fast_backward, fast_forward
from solvers.coin.replay import StackedPrioritizedReplay

__all__ = ["TABLE_STATES", "EnsembleTraining", "Observations"]


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

    def row_ids(self, states: np.ndarray) -> np.ndarray:
        """``2·code`` of ``(..., 4)`` states: the row of agent 0's observation in the table
        viewed as one row per (state, agent) (agent 1's is the next)."""
        return states @ (2 * self.weights)

    def select(self, states: np.ndarray, which: np.ndarray, agent: np.ndarray) -> torch.Tensor:
        """``(R, 4·N·N)`` flat rows: row ``r`` is agent ``agent[r]``'s observation of the
        state ``which[r]`` of ``states`` (``(..., 4)``, flattened): any arrangement of
        observations in one lookup."""
        flat, n = np.ascontiguousarray(states).reshape(-1, 4), self.grid
        if self.table is None:
            table = encode(torch.from_numpy(flat).to(self.device), n)
            idx = which * 2 + agent
        else:
            table = self.table
            idx = (flat @ (2 * self.weights)).take(which) + agent
        rows = table.view(-1, 4 * n * n)
        return rows.index_select(0, torch.from_numpy(idx).to(self.device))


def _draw_uniform_and_moves(
    rngs: list[np.random.Generator], u: np.ndarray, moves: np.ndarray
) -> None:
    """Fill ``u[k]`` with ``rngs[k].random(u[k].shape)`` and ``moves[k]`` with
    ``rngs[k].integers(NUM_ACTIONS, size=moves[k].shape)``: a trainer's exploration draws."""
    for k, rng in enumerate(rngs):
        rng.random(out=u[k])
        moves[k] = rng.integers(NUM_ACTIONS, size=moves.shape[1:])


class StackedSeeds:
    """What :class:`EnsembleTraining` and :class:`solvers.coin.ensemble.EnsembleDQN` share: the
    seeds' networks stacked into one ``QNet`` with a frozen target copy and one
    :class:`FlatAdam`, one stacked prioritized replay in place of the seeds' own, the seeds'
    games as one batch, their generators, and the step's tail (store the transitions, learn
    once the buffer holds ``learning_starts``, copy the target every ``target_update_every``).
    Subclasses set ``cfg``, ``k``, ``total``, ``it``, ``elapsed`` and ``_memo`` and define
    ``_update``."""

    cfg: Config
    k: int
    it: int
    total: int
    elapsed: float
    _memo: torch.Tensor | None

    def _stack(
        self, seeds: list[Any], parts: list[tuple[Any, int]], learners: tuple[str, str]
    ) -> None:
        """Stack ``parts`` (``(network, member)`` pairs, in member order) and the seeds' replay
        buffers (``learners``: the two learners' names), games and generators."""
        self.net = gather_members(parts)
        self.target = copy.deepcopy(self.net)
        self.opt = FlatAdam(self.net, self.cfg.learning_rate_start)
        self.replay = StackedPrioritizedReplay(
            self.k,
            self.cfg.buffer_size,
            # state, next state, action, recommendation / follow bits | reward, done: the
            # fields of the seeds' own buffers
            {"ints": ((12,), np.int64), "floats": ((3,), np.float32)},
            learners,
            alpha=self.cfg.per_alpha,
            eps=self.cfg.per_eps,
        )
        for s in seeds:
            del s.replay  # the stacked buffer replaces it (the phase never uses the seed's)
        self.games = StackedCoinGame([s.env for s in seeds])
        self.rngs = [s.rng for s in seeds]

    def _update(self) -> Any:
        """One gradient step on the stacked replay (the subclass's)."""
        raise NotImplementedError

    def _store_and_learn(self, ints: np.ndarray, floats: np.ndarray, started: float) -> None:
        """The end of a step: store the transitions, a gradient step once the buffer holds
        ``learning_starts`` (learning rate of this iteration), advance the iteration, copy the
        target (and drop its tables) every ``target_update_every``, add the step's time."""
        cfg = self.cfg
        self.replay.add({"ints": ints, "floats": floats})
        if self.replay.size >= cfg.learning_starts:
            for g in self.opt.param_groups:
                g["lr"] = learning_rate(cfg, self.it, self.total)
            self._update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.target.load_state_dict(self.net.state_dict())
            self._memo = None
        self.elapsed += time.perf_counter() - started


class EnsembleTraining(StackedSeeds):
    """Algorithm 3's training phase (:class:`~solvers.coin.algorithm3.TrainingPhase`) for the
    seeds of ``cfgs`` at once (the :mod:`solvers.coin.ensemble` docstring).

    The stacked network's members are ``[principal_0 … principal_{K−1}, agent_0 …
    agent_{K−1}]``.
    """

    name = "train"

    def __init__(
        self, cfgs: list[Config], rules: CoinGameRules, *, memo: bool | None = None
    ) -> None:
        self.cfg, self.rules = cfgs[0], rules
        self.seeds = [TrainingPhase(c, rules) for c in cfgs]
        self.k = len(cfgs)
        self.total = self.cfg.iterations
        parts = [(s.net, 0) for s in self.seeds] + [(s.net, 1) for s in self.seeds]
        self._stack(self.seeds, parts, ("principal", "agent"))
        self.follow = np.stack([s.follow for s in self.seeds])  # (K, B, 2)
        self.obs = Observations(rules.grid_size, self.cfg.device)
        b = self.cfg.num_games
        self._u = np.empty((self.k, b, 4))
        self._moves = np.empty((self.k, b, 4), dtype=np.int64)
        self._zeros = torch.zeros(self.k, 2 * b, 2, device=self.cfg.device)
        _, j, t, i = np.meshgrid(*(np.arange(n) for n in (2, self.k, b, 2)), indexing="ij")
        self._act_rows = ((j * b + t).ravel(), i.ravel())
        self._act_follow: np.ndarray | None = None
        self._act_extra = self._zeros
        self._update_layout(self.cfg.batch_size, memo)
        self.it = 0
        self.elapsed = 0.0

    def _update_layout(self, m: int, memo: bool | None) -> None:
        """The rows of a gradient step's passes as picks of the sampled states ``(2 learners,
        K, m, 2 [s, s'], 4)``: ``[s_p, s_a]`` (members principal…, agent…), ``[s'_a, s_p]``,
        ``s'_p`` (target principals), ``[s'_a, s'_a]`` per seed (target agents), each state
        giving both agents' rows; and the extra inputs (zeros for the principals, the bits
        ``(1, 1)`` or the sampled follow bits for the agent network)."""
        k, dev = self.k, self.cfg.device
        at = np.arange(2 * k * m * 2).reshape(2, k, m, 2)  # (learner, seed, transition, s|s')
        picks = np.concatenate(
            [
                np.stack([at[0, ..., 0], at[1, ..., 0]]).ravel(),
                np.stack([at[1, ..., 1], at[0, ..., 0]]).ravel(),
                at[0, ..., 1].ravel(),
                np.stack([at[1, ..., 1], at[1, ..., 1]], 1).ravel(),
            ]
        )
        #: whether the target passes are looked up in tables (:meth:`_target_tables`): where
        #: a target period's passes would cost more rows than the tables
        table = self.obs.table
        self._memo_rows = 0 if table is None else 10 * table.shape[0] * k
        if memo is None:
            memo = (
                dev == "cpu"
                and table is not None
                and 2 * self._memo_rows < self.cfg.target_update_every * 6 * m * k
            )
        if memo and table is None:
            raise ValueError(
                f"target tables need an observation table (boards with 2·cells³ ≤ "
                f"{TABLE_STATES:,} states: up to 5×5)"
            )
        self.memo = memo
        self._memo: torch.Tensor | None = None
        if self.memo:
            picks = picks[: 4 * k * m]  # the online passes' states only
        self._update_rows = (np.repeat(picks, 2), np.tile(np.arange(2), len(picks)))
        self._update_split = [4 * k * m, 4 * k * m, 2 * k * m, 4 * k * m][: 2 if self.memo else 4]
        zeros = torch.zeros(k, 2 * m, 2, device=dev)
        ones = torch.ones(k, 2 * m, 2, device=dev)
        self._extra_on = torch.cat([zeros, zeros])
        self._extra_nd = torch.cat([zeros, ones])
        self._extra_tp = zeros
        self._extra_ta = torch.cat([ones, zeros], 1)

    def step(self) -> None:
        """One iteration of every seed: its games step once, then one gradient step for all
        (each seed's draws are TrainingPhase.step's, from its own generators)."""
        cfg, k = self.cfg, self.k
        t0 = time.perf_counter()
        b = cfg.num_games
        state = self.games.state  # (K, b, 4)
        follow = self.follow
        with torch.no_grad():
            # principals and agent networks on every (game, agent) row, one lookup
            rows = self.obs.select(state, *self._act_rows).view(2 * k, 2 * b, *self.obs_shape)
            if self._act_follow is not follow:  # the bits change with the episode only
                bits = bits_input(torch.from_numpy(follow).to(cfg.device)).reshape(k, 2 * b, 2)
                self._act_extra = torch.cat([self._zeros, bits])
                self._act_follow = follow
            q = self.net(rows, self._act_extra)
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
        self._store_and_learn(ints, floats, t0)

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        """``(4, N, N)``: one agent's observation."""
        n = self.rules.grid_size
        return (4, n, n)

    def _update(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One gradient step of every seed; returns ``(K,)`` mean squared TD errors of the
        principals and of the agents (TrainingPhase._update's targets, see the
        :mod:`solvers.coin.ensemble` docstring)."""
        d_p, d_a = self._gradient_step()
        return (d_p**2).mean(1), (d_a**2).mean((1, 2))

    @torch.no_grad()
    def _gradient_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The gradient step of :meth:`_update`; returns the TD errors ``(K, m)`` of the
        principals and ``(K, m, 2)`` of the agents. The loss is ``Σ_k (mean δ_p² + mean δ_a²)``
        and its gradient is computed by hand: the operations autograd runs for it (the loss's
        tail here, the network's in :func:`~solvers.coin.passes.fast_backward`), so the same
        numbers."""
        cfg, m, dev, k = self.cfg, self.cfg.batch_size, self.cfg.device, self.k
        idx, batch = self.replay.sample_all(m, self.rngs)  # principal's, then agent's draws
        ints, floats = batch["ints"], batch["floats"]  # (2, K, m, 12), (2, K, m, 3)
        # every pass's rows in one lookup (see _update_rows)
        rows = self.obs.select(ints[..., :8], *self._update_rows)
        x_on, x_nd, *x_target = rows.split(self._update_split)
        f = ints[1, ..., 10:12]  # (K, m, 2) the agents' follow bits
        bits = torch.from_numpy(np.stack([f, f[..., ::-1]], -1).astype(np.float32))
        bits = bits.view(k, 2 * m, 2).to(dev)
        self._extra_on[k:] = bits
        self._extra_ta[:, 2 * m :] = bits
        acts = torch.from_numpy(np.ascontiguousarray(ints[..., 8:10])).to(dev)  # (2, K, m, 2)
        a_p, a_a = acts[0], acts[1]
        follow = torch.from_numpy(np.ascontiguousarray(f)).to(dev)
        fl = torch.from_numpy(floats).to(dev)
        r_env_p, r_env_a = fl[0, ..., :2], fl[1, ..., :2]
        done_p, done_a = fl[0, ..., 2], fl[1, ..., 2]
        nonterm_p = torch.ones_like(done_p) if cfg.time_limit_bootstrap else 1.0 - done_p
        nonterm_a = torch.ones_like(done_a) if cfg.time_limit_bootstrap else 1.0 - done_a
        # online, no gradient: principal on s'_a (its recommendation), agent on (s_p, 1)
        q_nd, _ = fast_forward(self.net, x_nd.view(2 * k, 2 * m, -1), self._extra_nd)
        # targets: principals on s'_p; agents on (s'_a, 1) and (s'_a, f)
        if self.memo:
            qt_p, qt_a = self._target_lookup(ints, f)
        else:
            x_tp, x_ta = x_target
            qt_p, _ = fast_forward(
                self.target, x_tp.view(k, 2 * m, -1), self._extra_tp, slice(0, k)
            )
            qt_a, _ = fast_forward(
                self.target, x_ta.view(k, 4 * m, -1), self._extra_ta, slice(k, 2 * k)
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
        # online pass with the gradient (last: its activations are still in the cache for the
        # backward pass): principal on s_p, agent on (s_a, f)
        q_on, saved = fast_forward(self.net, x_on.view(2 * k, 2 * m, -1), self._extra_on)
        q_p = q_on[:k].view(k, m, 2, -1).gather(-1, a_p.unsqueeze(-1)).squeeze(-1).sum(-1)
        q_a = q_on[k:].view(k, m, 2, -1).gather(-1, a_a.unsqueeze(-1)).squeeze(-1)
        d_p, d_a = y_p - q_p, y_a - q_a
        # d loss / d q_on as autograd forms it: mean's 1/n, pow's 2δ, the sign of −q, the
        # agents' sum (principal) expanded, scattered into zeros at the played moves
        g = torch.zeros_like(q_on)
        g_p = -((2.0 * d_p) * (1.0 / m))
        g_a = -((2.0 * d_a) * (1.0 / (2 * m)))
        g[:k].view(k, m, 2, -1).scatter_add_(
            -1, a_p.unsqueeze(-1), g_p[..., None, None].expand(k, m, 2, 1)
        )
        g[k:].view(k, m, 2, -1).scatter_add_(-1, a_a.unsqueeze(-1), g_a.unsqueeze(-1))
        fast_backward(self.net, saved, g, self.opt.grads)
        self.opt.grad.add_(0.0)  # autograd adds into the zeroed buffer: 0 + g (so −0 → +0)
        self.opt.step()
        td = torch.stack([d_p.abs(), d_a.abs().max(-1).values])  # (2, K, m)
        self.replay.update_all(idx, td.cpu().double().numpy())
        return d_p, d_a

    def _target_tables(self) -> torch.Tensor:
        """The target networks' Q-values on every row they can be asked for (observation
        tables only, :class:`Observations`): the principals on every (state, agent) row, then
        the agent networks on every (state, agent, bits ``(f_i, f_{−i})``) row, ``(R, A)``.

        A row of :func:`~solvers.coin.passes.fast_forward` is a function of that row alone
        (each output is the same sum of products, whatever the other rows and their number;
        measured bit for bit on this machine's CPU for the passes' shapes, the
        :mod:`solvers.coin.passes` docstring), so looking a row up equals computing it in the
        batch: the target passes are computed once per target period instead of at every
        step."""
        assert self.obs.table is not None
        k, dev = self.k, self.cfg.device
        rows = self.obs.table.view(-1, self.obs.table.shape[1] // 2)  # row 2·code + agent
        r = rows.shape[0]
        x_p = rows.expand(k, r, -1).contiguous()
        q_p = chunked_forward(self.target, x_p, torch.zeros(k, r, 2, device=dev), slice(0, k))
        combos = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=dev)
        extra = combos[:, None, :].expand(4, r, 2).reshape(1, 4 * r, 2).expand(k, -1, -1)
        x_a = rows.repeat(4, 1).expand(k, 4 * r, -1).contiguous()
        q_a = chunked_forward(self.target, x_a, extra.contiguous(), slice(k, 2 * k))
        return torch.cat([q_p.reshape(-1, q_p.shape[-1]), q_a.reshape(-1, q_a.shape[-1])])

    def _target_lookup(self, ints: np.ndarray, f: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The target passes of a gradient step from :meth:`_target_tables`: ``(K, 2m, A)``
        (principals on ``s'_p``) and ``(K, 4m, A)`` (agents on ``(s'_a, 1)``, ``(s'_a, f)``)."""
        if self._memo is None:
            self._memo = self._target_tables()
        assert self.obs.table is not None
        k, m = self.k, self.cfg.batch_size
        r = self.obs.table.shape[0] * 2
        seed = np.arange(k)[:, None, None]
        ids = self.obs.row_ids(ints[..., 4:8])  # (2, K, m): 2·code of s'
        row_p = ids[0][..., None] + np.arange(2) + seed * r  # (K, m, 2)
        row_a = ids[1][..., None] + np.arange(2) + (k * r + seed * 4 * r)
        combo = 2 * f + f[..., ::-1]  # bits (f_i, f_{−i}) as a number
        idx = np.concatenate(
            [row_p.ravel(), np.stack([row_a + 3 * r, row_a + combo * r], 1).ravel()]
        )
        q = self._memo.index_select(0, torch.from_numpy(idx).to(self.cfg.device))
        return q[: 2 * k * m].view(k, 2 * m, -1), q[2 * k * m :].view(k, 4 * m, -1)

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
