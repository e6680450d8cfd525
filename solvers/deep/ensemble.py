"""K trials of Algorithm 2 trained as one batched computation (PAPER.md §4; docs/DEEP.md).

A Fig. 3 or nudging run is many independent trials of the same computation: K networks of the
same shape on instances of the same shape, differing in their seeds, their instances (trees)
or their margins ξ. :class:`EnsembleTrainer` trains them together:

* **stacked weights** — the K principal networks (and the K agent networks) are held as one
  set of stacked tensors: the state table ``(K·S, H₁)`` (the one-hot first layer as a lookup,
  :mod:`solvers.deep.networks`), and per hidden layer a ``(K, H_in, H_out)`` weight and a
  ``(K, 1, H_out)`` bias; a forward pass on ``(K, B)`` states is one lookup and one batched
  matmul (``torch.baddbmm``) per layer;
* **one loss, one optimiser step** — the K trials' losses are summed; their parameters are
  disjoint, so the gradient of the sum is every trial's own gradient, and one fused Adam call
  (``torch._fused_adam_``, the kernel of the single trainer) updates all K parameter sets, each
  with its own learning rate (trials are grouped by the value of their schedule at this step);
* **everything else per trial** — each trial is a :class:`~solvers.deep.trainer.DeepTrainer`
  "shell" that keeps its own seed, numpy generator, environment copies, replay buffer,
  schedules, target tables, contracts (its own ξ) and validator: the ensemble calls the
  shell's own interaction (``_act``), target (``_principal_targets``, ``_agent_targets``),
  target-copy (``_sync_targets``) and validation code with the batched network outputs. At
  every target copy and validation the stacked weights are written back into the shell's
  networks, so the shells' tables and records are computed by the single trainer's code.

What is and is not the same as K sequential runs (tests/test_deep_ensemble.py):

* **exactly the same**: the initial networks (each shell draws them from its own seed, the
  ensemble stacks them), the iteration-0 validation, every random number (each trial draws
  from its own generator in the single trainer's order), and hence everything up to the first
  gradient step (the buffers after the warm-up iterations are identical);
* **the same mathematics, not the same bits**: like the single trainer, the ensemble evaluates
  the networks once per *distinct* state of each trial's batch (padded to the widest trial,
  :func:`_distinct_padded`), but as one batched matmul instead of K matmuls of their own
  shapes; a matmul's rounding depends on its shapes, so losses and gradients agree to float32
  rounding (< 1e-6 after one step, tested) and trajectories drift apart afterwards like runs
  with different thread counts would. Batched trials therefore match sequential ones
  statistically (tested: the same seeds, the same final metrics within a stated tolerance).

A batched run is deterministic on the CPU (same K trials, same thread count → same bits).
There is no checkpoint/resume for ensembles: an interrupted ensemble is rerun (the experiment
scripts write each finished ensemble's trials at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from solvers.deep.config import DeepConfig
from solvers.deep.networks import QNetwork
from solvers.deep.trainer import DeepTrainer, TrialResult
from solvers.deep.validation import ValidationRecord, Validator
from solvers.rl.seeding import FlushDenormals
from theory.model import PrincipalAgentMDP

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: configuration fields that may differ between the trials of one ensemble (everything else
#: fixes the shape or the timing of the shared computation and must be equal)
PER_TRIAL_FIELDS: tuple[str, ...] = (
    "nudge",
    "gamma",
    "learning_rate_start",
    "learning_rate_end",
    "epsilon_start",
    "epsilon_end",
    "epsilon_fraction",
    "buffer_size",
    "episode_length",
    "checkpoint_every",
)


class StackedQ(nn.Module):
    """K :class:`~solvers.deep.networks.QNetwork` s of one shape as stacked tensors.

    ``table`` is ``(K·S, H₁)`` (trial ``k``'s state table in rows ``k·S … k·S + S − 1``),
    ``first_bias`` ``(K, 1, H₁)``, ``weights[l]`` ``(K, H_in, H_out)`` (the transposed
    ``nn.Linear`` weight) and ``biases[l]`` ``(K, 1, H_out)``.
    """

    def __init__(self, networks: Sequence[QNetwork], device: torch.device) -> None:
        super().__init__()
        first = networks[0]
        self.k = len(networks)
        self.n_states = first.n_states
        layers = [[cast(nn.Linear, layer) for layer in n.layers] for n in networks]
        with torch.no_grad():
            self.table = nn.Parameter(torch.cat([n.embedding for n in networks]).to(device))
            self.first_bias = nn.Parameter(
                torch.stack([n.first_bias for n in networks])[:, None, :].to(device)
            )
            self.weights = nn.ParameterList(
                nn.Parameter(
                    torch.stack([ls[i].weight.t() for ls in layers]).contiguous().to(device)
                )
                for i in range(len(first.layers))
            )
            self.biases = nn.ParameterList(
                nn.Parameter(torch.stack([ls[i].bias for ls in layers])[:, None, :].to(device))
                for i in range(len(first.layers))
            )
        self.offsets = torch.arange(self.k, device=device)[:, None] * self.n_states
        for parameter in self.parameters():  # kept allocated, zeroed in place
            parameter.grad = torch.zeros_like(parameter)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """``(K, B)`` states (trial-local indices) → ``(K, B, A)`` values."""
        k, b = states.shape
        rows = (states + self.offsets).reshape(-1)
        hidden = F.embedding(rows, self.table, sparse=True).reshape(k, b, -1) + self.first_bias
        hidden = F.relu(hidden)
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            hidden = torch.baddbmm(bias, hidden, weight)
            if index < last:
                hidden = F.relu(hidden)
        return hidden

    def per_trial(self, k: int) -> list[torch.Tensor]:
        """Trial ``k``'s parameters as views (the table's rows, the k-th slices)."""
        s = self.n_states
        views = [self.table[k * s : (k + 1) * s], self.first_bias[k]]
        for weight, bias in zip(self.weights, self.biases, strict=True):
            views += [weight[k], bias[k]]
        return views

    def per_trial_grads(self, k: int) -> list[torch.Tensor]:
        s = self.n_states
        grads = [p.grad for p in self.parameters()]
        assert all(g is not None for g in grads)
        table_grad, first_grad = grads[0], grads[1]
        assert table_grad is not None and first_grad is not None
        views = [table_grad[k * s : (k + 1) * s], first_grad[k]]
        for weight, bias in zip(self.weights, self.biases, strict=True):
            assert weight.grad is not None and bias.grad is not None
            views += [weight.grad[k], bias.grad[k]]
        return views

    def write_back(self, k: int, network: QNetwork) -> None:
        """Copy trial ``k``'s parameters into its own :class:`QNetwork`."""
        s = self.n_states
        with torch.no_grad():
            network.embedding.copy_(self.table[k * s : (k + 1) * s])
            network.first_bias.copy_(self.first_bias[k, 0])
            for layer, weight, bias in zip(network.layers, self.weights, self.biases, strict=True):
                assert isinstance(layer, nn.Linear)
                layer.weight.copy_(weight[k].t())
                layer.bias.copy_(bias[k, 0])


class EnsembleTrainer:
    """K trials of Algorithm 2 in one batched computation (module docstring).

    Parameters
    ----------
    models : one instance per trial, all with the same numbers of states, actions, outcomes.
    configs : one configuration per trial; they may differ only in :data:`PER_TRIAL_FIELDS`.
    seeds : one seed per trial (as :class:`DeepTrainer`'s ``seed``).
    device : a torch device.
    validators : optional, one per trial (reuse an instance's SPE across ensembles).
    """

    def __init__(
        self,
        models: Sequence[PrincipalAgentMDP],
        configs: Sequence[DeepConfig],
        seeds: Sequence[int],
        *,
        device: str | torch.device = "cpu",
        validators: Sequence[Validator | None] | None = None,
    ) -> None:
        if not (len(models) == len(configs) == len(seeds)) or not models:
            raise ValueError("models, configs and seeds must be equally long and not empty")
        shape = {(m.n_states, m.n_actions, m.n_outcomes) for m in models}
        if len(shape) != 1:
            raise ValueError(f"the trials' instances differ in shape (S, A, O): {sorted(shape)}")
        for name in (f.name for f in fields(DeepConfig)):
            if name in PER_TRIAL_FIELDS:
                continue
            values = {repr(getattr(c, name)) for c in configs}
            if len(values) != 1:
                raise ValueError(f"the trials' configs differ in {name} ({sorted(values)})")
        self.device = torch.device(device)
        validators = list(validators) if validators is not None else [None] * len(models)
        self.shells = [
            DeepTrainer(m, c, seed=int(s), device=self.device, validator=v)
            for m, c, s, v in zip(models, configs, seeds, validators, strict=True)
        ]
        self.config = configs[0]
        self.k = len(self.shells)
        with FlushDenormals():
            self.principal = StackedQ([sh.principal for sh in self.shells], self.device)
            self.agent: StackedQ | None = None
            if self.config.agent == "network":
                agents = [sh.agent for sh in self.shells]
                assert all(a is not None for a in agents)
                self.agent = StackedQ([a for a in agents if a is not None], self.device)
            self._params: list[list[torch.Tensor]] = []
            self._grads: list[list[torch.Tensor]] = []
            for k in range(self.k):
                params = self.principal.per_trial(k)
                grads = self.principal.per_trial_grads(k)
                if self.agent is not None:
                    params += self.agent.per_trial(k)
                    grads += self.agent.per_trial_grads(k)
                self._params.append(params)
                self._grads.append(grads)
            self._exp_avg = [[torch.zeros_like(p) for p in ps] for ps in self._params]
            self._exp_avg_sq = [[torch.zeros_like(p) for p in ps] for ps in self._params]
            self._steps = [
                [torch.zeros((), dtype=torch.float32) for _ in ps] for ps in self._params
            ]
        stacked = [self.principal] + ([self.agent] if self.agent is not None else [])
        self._dense_grads: list[torch.Tensor] = [
            p.grad
            for net in stacked
            for p in net.parameters()
            if p is not net.table and p.grad is not None
        ]
        self._table_grads: list[torch.Tensor] = [
            net.table.grad for net in stacked if net.table.grad is not None
        ]
        self._touched = torch.zeros(0, dtype=torch.long, device=self.device)
        self.iteration = 0

    # ------------------------------------------------------------------ helpers
    def _write_back(self) -> None:
        for k, shell in enumerate(self.shells):
            self.principal.write_back(k, shell.principal)
            if self.agent is not None and shell.agent is not None:
                self.agent.write_back(k, shell.agent)

    def _states(self, arrays: Sequence[IntArray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(arrays)).to(self.device)

    def _adam(self, iteration: int) -> None:
        """One fused Adam step for all trials (``torch._fused_adam_``, as the single trainer),
        one kernel call per distinct learning rate."""
        groups: dict[float, list[int]] = {}
        for k, shell in enumerate(self.shells):
            groups.setdefault(shell.config.learning_rate(iteration), []).append(k)
        for lr, members in groups.items():
            steps = [t for k in members for t in self._steps[k]]
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                [p for k in members for p in self._params[k]],
                [g for k in members for g in self._grads[k]],
                [m for k in members for m in self._exp_avg[k]],
                [v for k in members for v in self._exp_avg_sq[k]],
                [],
                steps,
                amsgrad=False,
                lr=lr,
                beta1=0.9,
                beta2=0.999,
                weight_decay=0.0,
                eps=1e-8,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )

    def _interact(self, iteration: int) -> None:
        states = self._states([sh.env.states for sh in self.shells])
        with torch.no_grad():
            q = self.principal(states).to(torch.float64).cpu().numpy()
            q_bar = (
                self.agent(states).to(torch.float64).cpu().numpy()
                if self.agent is not None
                else None
            )
        for k, shell in enumerate(self.shells):
            rows = q_bar[k] if q_bar is not None else shell._exact_q_bar[shell.env.states]
            shell._act(iteration, q[k], rows)

    def _gradient_step(self, iteration: int) -> None:
        batch_size = self.config.batch_size
        batches = [sh.buffer.sample(batch_size, sh.rng) for sh in self.shells]
        states, expand = _distinct_padded([b.states for b in batches])
        states_t = self._states(list(states))
        expand_t = torch.from_numpy(expand).to(self.device)
        q = _rows(self.principal(states_t), expand_t)
        q_bar_t = _rows(self.agent(states_t), expand_t) if self.agent is not None else None
        q_bar = q_bar_t.detach().to(torch.float64).cpu().numpy() if q_bar_t is not None else None
        y_p = np.stack(
            [
                shell._principal_targets(
                    batch,
                    q_bar[k] if q_bar is not None else shell._exact_q_bar[batch.states],
                    table=False,
                )
                for k, (shell, batch) in enumerate(zip(self.shells, batches, strict=True))
            ]
        )
        rec = self._states([b.recommended for b in batches])
        picked = q.gather(2, rec[:, :, None])[:, :, 0]
        target = torch.from_numpy(y_p).to(self.device, q.dtype)
        loss = (picked - target).pow(2).mean(dim=1).sum()
        if q_bar_t is not None:
            next_states, next_expand = _distinct_padded([b.next_states for b in batches])
            with torch.no_grad():
                q_next = (
                    _rows(
                        self.principal(self._states(list(next_states))),
                        torch.from_numpy(next_expand).to(self.device),
                    )
                    .to(torch.float64)
                    .cpu()
                    .numpy()
                )
            y_a = np.stack(
                [
                    shell._agent_targets(batch, q_next[k])
                    for k, (shell, batch) in enumerate(zip(self.shells, batches, strict=True))
                ]
            )
            acts = self._states([b.actions for b in batches])
            picked_a = q_bar_t.gather(2, acts[:, :, None])[:, :, 0]
            loss = (
                loss
                + (picked_a - torch.from_numpy(y_a).to(self.device, q.dtype))
                .pow(2)
                .mean(dim=1)
                .sum()
            )
        torch._foreach_zero_(self._dense_grads)
        for grad in self._table_grads:
            assert grad is not None
            grad.index_fill_(0, self._touched, 0.0)
        loss.backward()
        self._touched = (states_t + self.principal.offsets).reshape(-1)
        self._adam(iteration)

    # ------------------------------------------------------------------ main loop
    def train(
        self,
        *,
        progress: bool = False,
        callback: Callable[[EnsembleTrainer, int], None] | None = None,
    ) -> list[TrialResult]:
        """Train every trial to ``config.iterations``; one :class:`TrialResult` per trial
        (``wall_seconds`` and ``iterations_per_second`` are the ensemble's: every trial ran
        all iterations in that time)."""
        with FlushDenormals():
            return self._train(progress, callback)

    def _train(
        self, progress: bool, callback: Callable[[EnsembleTrainer, int], None] | None
    ) -> list[TrialResult]:
        config = self.config
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=config.iterations, initial=self.iteration, unit="it")
        started = time.perf_counter()
        start_iteration = self.iteration
        try:
            for t in range(self.iteration, config.iterations):
                if t % config.target_update_every == 0:
                    self._write_back()
                    for shell in self.shells:
                        shell._sync_targets()
                self._interact(t)
                if len(self.shells[0].buffer) >= max(config.learning_starts, 1):
                    self._gradient_step(t)
                self.iteration = t + 1
                for shell in self.shells:
                    shell.iteration = t + 1
                if (
                    self.iteration % config.validate_every == 0
                    or self.iteration == config.iterations
                ):
                    self._write_back()
                    for shell in self.shells:
                        shell.history.append(shell.validate())
                    if callback is not None:
                        callback(self, self.iteration)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        self._write_back()
        wall = time.perf_counter() - started
        ran = self.iteration - start_iteration
        return [
            TrialResult(
                seed=shell.seed,
                config=shell.config,
                history=tuple(shell.history),
                spe_principal=shell.validator.spe_principal,
                spe_agent=shell.validator.spe_agent,
                wall_seconds=wall,
                iterations_run=ran,
                iterations_per_second=ran / wall if wall > 0 else float("nan"),
                weights_sha256=shell.weights_sha256(),
                extra={"ensemble": {"size": self.k, "index": k}},
            )
            for k, shell in enumerate(self.shells)
        ]

    @property
    def histories(self) -> list[list[ValidationRecord]]:
        """Every trial's validation records so far."""
        return [shell.history for shell in self.shells]


def _distinct_padded(rows: Sequence[IntArray]) -> tuple[IntArray, IntArray]:
    """Each trial's distinct states, padded to one width with the trial's first distinct state
    (``(K, U)``), and the index that expands them back to the batch rows (``(K, B)``, into
    the flattened ``(K·U)`` rows). Networks then run once per distinct state of each trial,
    as in the single trainer; padded rows get no gradient (nothing selects them)."""
    uniques = [np.unique(r, return_inverse=True) for r in rows]
    width = max(len(u) for u, _ in uniques)
    states = np.stack([np.concatenate([u, np.full(width - len(u), u[0])]) for u, _ in uniques])
    expand = np.stack([inverse + k * width for k, (_, inverse) in enumerate(uniques)])
    return states.astype(np.int64), expand.astype(np.int64)


def _rows(values: torch.Tensor, expand: torch.Tensor) -> torch.Tensor:
    """``(K, U, A)`` values of distinct states → ``(K, B, A)`` values of the batch rows."""
    k, _, n_a = values.shape
    return values.reshape(-1, n_a).index_select(0, expand.reshape(-1)).reshape(k, -1, n_a)


def ensemble_throughput(results: Sequence[TrialResult]) -> dict[str, Any]:
    """Trial-iterations per second of an ensemble run (K × iterations / wall)."""
    wall = results[0].wall_seconds
    total = sum(r.iterations_run for r in results)
    return {
        "trials": len(results),
        "wall_seconds": wall,
        "trial_iterations_per_second": total / wall,
    }
