"""Coin Game benchmarks, printed side by side (issue 6; PAPER.md §6).

1. **Environment**: agent-steps per second (2 per game step, observations built) of the
   batched numpy game (:class:`solvers.coin.env.BatchedCoinGame`, 4,096 games) next to a loop
   over one plain-Python game (:class:`solvers.coin.env.CoinGame` + per-step observation).
2. **Algorithm 3 training**: iterations per second of the batched trainer
   (:class:`solvers.coin.algorithm3.TrainingPhase`: ``num_games`` games stepped per iteration,
   one fused forward for acting, vectorised prioritized replay, one gradient step on a batch of
   128 with principal and agent stacked in one network) next to a straightforward single-game
   implementation of the same algorithm defined below (one environment, batch-1 forward passes
   per agent, separate ``nn.Module`` networks and optimisers, a per-item Python sum tree). Both
   do one gradient step of the same losses on a batch of 128 per iteration; the batched one
   also collects ``num_games`` transitions per iteration instead of one, which the environment
   transitions per second show.

Run: ``python benchmarks/bench_coin.py`` (single thread; ``--quick`` for a short check).
"""

from __future__ import annotations

import argparse
import copy
import random
import time

import numpy as np
import torch
from torch import nn

from solvers.coin.algorithm3 import TrainingPhase
from solvers.coin.config import Config
from solvers.coin.env import BatchedCoinGame, CoinGame, CoinGameRules, observe, preset

# ---------------------------------------------------------------------------------------------
# environment


def bench_batched_env(rules: CoinGameRules, games: int, steps: int) -> float:
    """Agent-steps per second of the batched game (step + observations)."""
    env = BatchedCoinGame(games, rules, 0)
    actions = np.random.default_rng(0).integers(4, size=(steps, games, 2))
    t0 = time.perf_counter()
    for k in range(steps):
        res = env.step(actions[k])
        env.observations()
        if res.done:
            env.reset()
    return 2 * games * steps / (time.perf_counter() - t0)


def bench_single_env(rules: CoinGameRules, steps: int) -> float:
    """Agent-steps per second of one plain-Python game (step + observation)."""
    game = CoinGame(rules, seed=0)
    rng = random.Random(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        _, done = game.step(rng.randrange(4), rng.randrange(4))
        observe(np.array([game.state]), rules.grid_size)
        if done:
            game.reset()
    return 2 * steps / (time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# straightforward single-game Algorithm 3 (the reference point of the speed-up)


class PySumTree:
    """Textbook sum tree with per-item Python updates and descents."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tree = [0.0] * (2 * capacity)
        self.max_p = 1.0

    def update(self, i: int, p: float) -> None:
        j = i + self.capacity
        delta = p - self.tree[j]
        while j >= 1:
            self.tree[j] += delta
            j //= 2

    def find(self, mass: float) -> int:
        j = 1
        while j < self.capacity:
            if mass < self.tree[2 * j]:
                j = 2 * j
            else:
                mass -= self.tree[2 * j]
                j = 2 * j + 1
        return j - self.capacity


def mlp_qnet(n: int, extra: int) -> nn.Module:
    """Conv (k = min(4, N)) → 64 → 64 → 4 as ordinary modules."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            k = min(4, n)
            self.conv = nn.Conv2d(4, 32, k)
            feat = 32 * (n - k + 1) ** 2 + extra
            self.fc = nn.Sequential(
                nn.Linear(feat, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4)
            )

        def forward(self, x: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
            h = torch.relu(self.conv(x)).flatten(1)
            if e is not None:
                h = torch.cat([h, e], 1)
            return self.fc(h)

    return Net()


class NaiveAlgorithm3:
    """Algorithm 3's training phase, one game, batch-1 acting, Python replay."""

    def __init__(self, cfg: Config, rules: CoinGameRules) -> None:
        torch.manual_seed(0)
        self.cfg, self.rules = cfg, rules
        self.n = rules.grid_size
        self.game = CoinGame(rules, seed=0)
        self.principal = mlp_qnet(self.n, 0)
        self.agent = mlp_qnet(self.n, 2)
        self.principal_t = copy.deepcopy(self.principal)
        self.agent_t = copy.deepcopy(self.agent)
        self.opt_p = torch.optim.Adam(self.principal.parameters(), lr=cfg.learning_rate_start)
        self.opt_a = torch.optim.Adam(self.agent.parameters(), lr=cfg.learning_rate_start)
        self.buffer: list[tuple] = []
        self.trees = {"p": PySumTree(cfg.buffer_size), "a": PySumTree(cfg.buffer_size)}
        self.pos = 0
        self.rng = random.Random(0)
        self.follow = [1, 1]
        self.it = 0

    def obs(self, state: tuple[int, int, int, int]) -> np.ndarray:
        return observe(np.array([state]), self.n)[0]

    def step(self) -> None:
        cfg = self.cfg
        state = self.game.state
        o = self.obs(state)
        actions = []
        with torch.no_grad():
            for i in range(2):
                x = torch.from_numpy(o[i]).unsqueeze(0)
                rec = int(self.principal(x).argmax())
                bits = torch.tensor([[self.follow[i], self.follow[1 - i]]], dtype=torch.float32)
                own = int(self.agent(x, bits).argmax())
                if self.rng.random() < 0.1:
                    rec = self.rng.randrange(4)
                if self.rng.random() < 0.1:
                    own = self.rng.randrange(4)
                actions.append(rec if self.follow[i] else own)
        rewards, done = self.game.step(actions[0], actions[1])
        item = (state, self.game.state, tuple(actions), tuple(self.follow), rewards)
        if len(self.buffer) < cfg.buffer_size:
            self.buffer.append(item)
        else:
            self.buffer[self.pos] = item
        for t in self.trees.values():
            t.update(self.pos, t.max_p)
        self.pos = (self.pos + 1) % cfg.buffer_size
        if done:
            self.game.reset()
            self.follow = [int(self.rng.random() < 0.5) for _ in range(2)]
        if len(self.buffer) >= cfg.learning_starts:
            self.update()
        self.it += 1
        if self.it % cfg.target_update_every == 0:
            self.principal_t.load_state_dict(self.principal.state_dict())
            self.agent_t.load_state_dict(self.agent.state_dict())

    def sample(self, name: str) -> tuple[list[int], list[tuple]]:
        t = self.trees[name]
        idx = [min(t.find(self.rng.random() * t.tree[1]), len(self.buffer) - 1) for _ in range(128)]
        return idx, [self.buffer[i] for i in idx]

    def tensors(self, batch: list[tuple]) -> tuple[torch.Tensor, ...]:
        s = torch.from_numpy(np.stack([self.obs(b[0]) for b in batch]))
        s2 = torch.from_numpy(np.stack([self.obs(b[1]) for b in batch]))
        a = torch.tensor([b[2] for b in batch])
        f = torch.tensor([b[3] for b in batch])
        r = torch.tensor([b[4] for b in batch], dtype=torch.float32)
        return s, s2, a, f, r

    @staticmethod
    def pay(q: torch.Tensor, a: torch.Tensor, nudge: float) -> torch.Tensor:
        qa = q.gather(1, a[:, None]).squeeze(1)
        other = q.masked_fill(nn.functional.one_hot(a, 4).bool(), -1e9).max(1).values
        return torch.clamp(other - qa + nudge, min=0)

    def update(self) -> None:
        cfg = self.cfg
        ones = torch.ones(128, 2)
        # principal (VDN over the two agents)
        idx, batch = self.sample("p")
        s, s2, a, _, r = self.tensors(batch)
        with torch.no_grad():
            y = r.sum(1).clone()
            for i in range(2):
                pay = self.pay(self.agent(s[:, i], ones), a[:, i], cfg.nudge)
                y += -cfg.principal_alpha * pay + cfg.gamma * self.principal_t(s2[:, i]).max(1)[0]
        q = sum(self.principal(s[:, i]).gather(1, a[:, i : i + 1]).squeeze(1) for i in range(2))
        d = y - q
        self.opt_p.zero_grad()
        (d**2).mean().backward()
        self.opt_p.step()
        for j, dj in zip(idx, d.detach().abs().tolist(), strict=True):
            self.trees["p"].update(j, (dj + cfg.per_eps) ** cfg.per_alpha)
        # agents (shared parameters)
        idx, batch = self.sample("a")
        s, s2, a, f, r = self.tensors(batch)
        loss = torch.zeros(())
        td = torch.zeros(128)
        for i in range(2):
            bits = torch.stack([f[:, i], f[:, 1 - i]], 1).float()
            with torch.no_grad():
                rec2 = self.principal(s2[:, i]).argmax(1)
                b2 = self.pay(self.agent_t(s2[:, i], ones), rec2, cfg.nudge)
                qf = self.agent_t(s2[:, i], bits)
                cont = torch.where(
                    f[:, i] == 1, b2 + qf.gather(1, rec2[:, None]).squeeze(1), qf.max(1).values
                )
                y = r[:, i] + cfg.gamma * cont
            q = self.agent(s[:, i], bits).gather(1, a[:, i : i + 1]).squeeze(1)
            loss = loss + ((y - q) ** 2).mean()
            td = torch.maximum(td, (y - q).detach().abs())
        self.opt_a.zero_grad()
        loss.backward()
        self.opt_a.step()
        for j, dj in zip(idx, td.tolist(), strict=True):
            self.trees["a"].update(j, (dj + cfg.per_eps) ** cfg.per_alpha)


def time_iterations(step: object, warmup: int, iterations: int) -> float:
    """Iterations per second of ``step()`` after ``warmup`` calls."""
    assert callable(step)
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        step()
    return iterations / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="paper-3x3")
    parser.add_argument("--num-games", type=int, default=16, help="games of the batched trainer")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rules = preset(args.preset)
    q = args.quick
    print(f"Coin Game benchmarks — preset {args.preset}, 1 torch thread")
    print()
    batched = bench_batched_env(rules, 4096, 50 if q else 400)
    single = bench_single_env(rules, 2_000 if q else 20_000)
    print("environment (agent-steps/s, observations included)")
    print(f"  {'batched, 4096 games':<34}{batched:>14,.0f}")
    print(f"  {'single-game loop':<34}{single:>14,.0f}")
    print(f"  {'ratio':<34}{batched / single:>14.1f}x   (target: batched >= 1,000,000/s)")
    print()
    cfg = Config(
        preset=args.preset,
        num_games=args.num_games,
        learning_starts=1_000,
        iterations=10**9,
        exact_ratios=False,
    )
    warm = 1_000 // args.num_games + 20
    iters = 60 if q else 200
    rounds = 1 if q else 5
    fast = TrainingPhase(cfg, rules)
    naive = NaiveAlgorithm3(cfg, rules)
    time_iterations(fast.step, warm, 1)
    time_iterations(naive.step, 1_020, 1)
    # interleaved rounds, medians: the machine's load changes while we measure
    fast_runs, naive_runs = [], []
    for _ in range(rounds):
        fast_runs.append(time_iterations(fast.step, 0, iters))
        naive_runs.append(time_iterations(naive.step, 0, iters // 4))
    fast_ips, naive_ips = float(np.median(fast_runs)), float(np.median(naive_runs))
    print(f"Algorithm 3 training (1 gradient step of batch 128 per iteration; median of {rounds})")
    print(f"  {'':<34}{'iterations/s':>14}{'transitions/s':>16}")
    print(
        f"  {f'batched ({args.num_games} games)':<34}{fast_ips:>14,.1f}"
        f"{fast_ips * args.num_games:>16,.0f}"
    )
    print(f"  {'straightforward single game':<34}{naive_ips:>14,.1f}{naive_ips:>16,.0f}")
    ratio_it = fast_ips / naive_ips
    ratio_tr = fast_ips * args.num_games / naive_ips
    print(f"  {'ratio':<34}{ratio_it:>13.1f}x{ratio_tr:>15.1f}x   (target: iterations/s >= 3x)")


if __name__ == "__main__":
    main()
