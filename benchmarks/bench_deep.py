"""Benchmark of the deep backend (Algorithm 2, PAPER.md §4) on the depth-10 tree (§6).

Prints iterations per second of the library trainer (``solvers.deep.trainer.DeepTrainer``) next
to a straightforward implementation of the same algorithm written here — the state one-hot
encoded through a dense first layer, target networks evaluated on every batch, one contract LP
per sample (``minimal_contracts`` called row by row), per-sample Python loops, default Adam —
both measured on the same iteration window from a fresh start in this process, and then times
one full 20,000-iteration trial of the library trainer (validation included).

Before timing, one gradient step of both implementations is run from identical parameters on
the same batch and their losses are compared, so the two compute the same algorithm.

Usage::

    .venv/bin/python benchmarks/bench_deep.py                 # window 300, full trial, 2 threads
    .venv/bin/python benchmarks/bench_deep.py --skip-full --window 200
    .venv/bin/python benchmarks/bench_deep.py --json runs/bench_deep.json

Goals (issue 5): ≥ 4× the straightforward implementation; a full trial < 60 s on the 2-core
CPU of the project machines. The machine is shared, so the load average and CPU time are
printed with every timing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from solvers.contracts import best_response, minimal_contracts
from solvers.deep.config import DeepConfig
from solvers.deep.environment import VectorEnv
from solvers.deep.networks import OneHotQNetwork, QNetwork
from solvers.deep.replay import Batch, ReplayBuffer
from solvers.deep.trainer import DeepTrainer
from solvers.rl.seeding import seed_everything
from theory.generators import paper_tree
from theory.model import PrincipalAgentMDP
from theory.ties import Ties


class StraightforwardTrainer:
    """Algorithm 2 written the obvious way (same targets as ``DeepTrainer``, network agent).

    One-hot inputs through ``nn.Linear``; the target networks are separate modules evaluated on
    each batch; every contract is one ``minimal_contracts`` call for one state; the interaction
    loops over the environment copies; two default ``torch.optim.Adam`` optimizers.
    """

    def __init__(self, model: PrincipalAgentMDP, config: DeepConfig, seed: int) -> None:
        self.model, self.config = model, config
        self.rng = seed_everything(seed)
        torch.set_flush_denormal(True)  # as the library trainer computes (solvers.rl.seeding)
        n_s, n_a = model.n_states, model.n_actions
        self.principal = OneHotQNetwork(n_s, n_a, config.hidden_sizes)
        self.agent = OneHotQNetwork(n_s, n_a, config.hidden_sizes)
        self.principal_target = copy.deepcopy(self.principal)
        self.agent_target = copy.deepcopy(self.agent)
        self.opt_principal = torch.optim.Adam(
            self.principal.parameters(), lr=config.learning_rate_start
        )
        self.opt_agent = torch.optim.Adam(self.agent.parameters(), lr=config.learning_rate_start)
        self.env = VectorEnv(model, config.interactions_per_iteration)
        self.buffer = ReplayBuffer(config.buffer_size)
        self.gamma = model.discount
        self.iteration = 0

    def _q(self, net: torch.nn.Module, state: int) -> np.ndarray:
        with torch.no_grad():
            return net(torch.tensor([state]))[0].double().numpy()

    def _contract(self, q_bar: np.ndarray, state: int, action: int) -> Any:
        return minimal_contracts(
            q_bar, self.model.outcome_probs[state], action, ties=Ties(margin=self.config.nudge)
        )

    def interact(self, t: int) -> None:
        probs = self.model.outcome_probs
        recs, acts = [], []
        for state in self.env.states:
            q, q_bar = self._q(self.principal, int(state)), self._q(self.agent, int(state))
            solutions = [self._contract(q_bar, int(state), a) for a in range(len(q))]
            feasible = [a for a, sol in enumerate(solutions) if sol.implementable]
            rec = max(feasible, key=lambda a: q[a])
            explore_draw = self.rng.random()
            random_pick = feasible[int(np.argmax(self.rng.random(len(q))[feasible]))]
            if explore_draw < self.config.epsilon(t):
                rec = random_pick
            act = int(
                best_response(
                    q_bar[None], probs[state][None], solutions[rec].contracts[None], np.array([rec])
                )[0]
            )
            recs.append(rec)
            acts.append(act)
        states = self.env.states.copy()
        step = self.env.step(np.array(acts), self.rng)
        self.buffer.add(
            states, np.array(recs), np.array(acts), step.outcomes, step.next_states, step.done
        )

    def losses(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        model, n = self.model, len(batch.states)
        s_t = torch.from_numpy(batch.states)
        s2_t = torch.from_numpy(batch.next_states)
        q = self.principal(s_t)
        q_bar = self.agent(s_t)
        with torch.no_grad():
            q_target = self.principal_target(s2_t).double().numpy()
            q_next = self.principal(s2_t).double().numpy()
            q_bar_target = self.agent_target(s2_t).double().numpy()
        q_bar_np = q_bar.detach().double().numpy()
        y_p = np.zeros(n)
        y_a = np.zeros(n)
        for i in range(n):  # one contract per sample
            s, s2, o = int(batch.states[i]), int(batch.next_states[i]), int(batch.outcomes[i])
            paid = self._contract(q_bar_np[i], s, int(batch.recommended[i])).contracts[o]
            cont = 0.0 if batch.done[i] else self.gamma
            target_solutions = [
                self._contract(q_bar_target[i], s2, a) for a in range(model.n_actions)
            ]
            feasible = [a for a, sol in enumerate(target_solutions) if sol.implementable]
            best_target = max(q_target[i][a] for a in feasible)
            a2 = max(feasible, key=lambda a: q_next[i][a])
            agent_value = q_bar_target[i][a2] + target_solutions[a2].expected_payment
            y_p[i] = model.principal_reward[s, o] - paid + cont * best_target
            y_a[i] = model.agent_reward[s, int(batch.actions[i])] + cont * agent_value
        rec = torch.from_numpy(batch.recommended)[:, None]
        act = torch.from_numpy(batch.actions)[:, None]
        loss_p = F.mse_loss(q.gather(1, rec).squeeze(1), torch.from_numpy(y_p).float())
        loss_a = F.mse_loss(q_bar.gather(1, act).squeeze(1), torch.from_numpy(y_a).float())
        return loss_p, loss_a

    def train_step(self, t: int) -> None:
        config = self.config
        if t % config.target_update_every == 0:
            self.principal_target.load_state_dict(self.principal.state_dict())
            self.agent_target.load_state_dict(self.agent.state_dict())
        self.interact(t)
        if len(self.buffer) >= max(config.learning_starts, 1):
            for opt in (self.opt_principal, self.opt_agent):
                for group in opt.param_groups:
                    group["lr"] = config.learning_rate(t)
            batch = self.buffer.sample(config.batch_size, self.rng)
            loss_p, loss_a = self.losses(batch)
            self.opt_principal.zero_grad()
            self.opt_agent.zero_grad()
            (loss_p + loss_a).backward()
            self.opt_principal.step()
            self.opt_agent.step()
        self.iteration = t + 1


def check_same_algorithm(model: PrincipalAgentMDP, config: DeepConfig) -> float:
    """Losses of both implementations on one batch from identical parameters (max |Δ|)."""
    fast = DeepTrainer(model, config, seed=1)
    fast.train(stop_at=40)
    slow = StraightforwardTrainer(model, config, seed=1)
    for mine, theirs in (
        (fast.principal, slow.principal),
        (fast.agent, slow.agent),
        (fast.principal_target, slow.principal_target),
        (fast.agent_target, slow.agent_target),
    ):
        assert isinstance(mine, QNetwork)
        with torch.no_grad():
            theirs.first.weight.copy_(mine.embedding.t())
            theirs.first.bias.copy_(mine.first_bias)
            for a, b in zip(theirs.layers, mine.layers, strict=True):
                a.load_state_dict(b.state_dict())
    batch = fast.buffer.sample(config.batch_size, np.random.default_rng(5))
    slow_losses = slow.losses(batch)
    fast.buffer.sample = lambda *_: batch  # type: ignore[method-assign]
    fast._gradient_step(40)
    assert fast._losses is not None
    return max(
        abs(float(a) - float(b.detach())) for a, b in zip(fast._losses, slow_losses, strict=True)
    )


def _window(step: Any, iterations: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for t in range(iterations):
        step(t)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--window",
        type=int,
        default=300,
        help="iterations timed for each implementation (from a fresh start)",
    )
    parser.add_argument("--skip-full", action="store_true", help="skip the full trial")
    parser.add_argument(
        "--threads",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="torch CPU threads for both implementations (default: 2 where the "
        "machine has two cores; results are the same for 1 and 2)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = paper_tree(args.depth, args.seed)
    config = DeepConfig()
    out: dict[str, Any] = {
        "depth": args.depth,
        "tree_seed": args.seed,
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    difference = check_same_algorithm(model, config)
    print(f"same algorithm: max |loss difference| on one batch = {difference:.2e}")
    out["loss_difference"] = difference

    fast = DeepTrainer(model, config, seed=0)
    slow = StraightforwardTrainer(model, config, seed=0)

    def fast_step(t: int) -> None:
        fast.train(stop_at=t + 1)

    load = os.getloadavg()[0]
    fast_wall, fast_cpu = _window(fast_step, args.window)
    slow_wall, slow_cpu = _window(slow.train_step, args.window)
    fast_rate, slow_rate = args.window / fast_wall, args.window / slow_wall
    print(f"window of {args.window} iterations (load average {load:.2f}):")
    print(
        f"  straightforward: {slow_rate:8.1f} it/s  (CPU {slow_cpu / args.window * 1e3:.2f} ms/it)"
    )
    print(
        f"  library trainer: {fast_rate:8.1f} it/s  (CPU {fast_cpu / args.window * 1e3:.2f} ms/it)"
    )
    print(f"  speed-up: {fast_rate / slow_rate:.1f}× wall, {slow_cpu / fast_cpu:.1f}× CPU")
    out["window"] = {
        "iterations": args.window,
        "load_average": load,
        "straightforward_it_per_s": slow_rate,
        "library_it_per_s": fast_rate,
        "straightforward_cpu_ms_per_it": slow_cpu / args.window * 1e3,
        "library_cpu_ms_per_it": fast_cpu / args.window * 1e3,
        "speedup_wall": fast_rate / slow_rate,
        "speedup_cpu": slow_cpu / fast_cpu,
    }
    if not args.skip_full:
        load = os.getloadavg()[0]
        trainer = DeepTrainer(model, config, seed=0)
        wall, cpu = time.perf_counter(), time.process_time()
        result = trainer.train()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        final = result.final
        print(
            f"full trial, {config.iterations} iterations (load average at start {load:.2f}, "
            f"at end {os.getloadavg()[0]:.2f}): {wall:.1f} s wall, {cpu:.1f} s CPU, "
            f"{config.iterations / wall:.0f} it/s; principal {final.principal_ratio:.4f} × "
            f"SPE, accuracy {final.accuracy:.4f}"
        )
        out["full_trial"] = {
            "iterations": config.iterations,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "it_per_s": config.iterations / wall,
            "load_average_start": load,
            "load_average_end": os.getloadavg()[0],
            "final": final.to_dict(),
        }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
