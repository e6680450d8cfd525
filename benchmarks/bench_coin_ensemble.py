"""Batched Coin Game ensembles: K seeds in one computation vs the same seeds one after another
(issue 15; :mod:`solvers.coin.ensemble`).

For each kind of phase — Algorithm 3's training phase, its validation phase and a baseline
(selfish DQN agents) — ``K`` seeds (default 5) on the 3×3 preset are stepped

* **sequentially**: the single-trial trainers of a plain run
  (:class:`solvers.coin.algorithm3.TrainingPhase`, :class:`solvers.coin.baselines.IndependentDQN`),
  one seed after another, ``iterations`` each;
* **batched**: one :class:`~solvers.coin.ensemble.EnsembleTraining` /
  :class:`~solvers.coin.ensemble.EnsembleDQN` advancing all ``K`` seeds per iteration.

Both sides run the same iterations (one environment step of every game and one gradient step
of batch 128 per seed, after the replay warm-up) in interleaved rounds; the medians are
printed. The ratio is (seconds of the ``K`` sequential seeds) / (seconds of the batched
ensemble) for the same work. The machine may be shared, so the CPU time of this process
(``time.process_time``) is printed next to the wall-clock time; the ratio of each is shown.
Then an end-to-end check: a whole small run (every phase, evaluations included) of the ``K``
seeds by :func:`solvers.coin.train.run_seeds` vs :func:`solvers.coin.ensemble.run_seeds`.

Run: ``python benchmarks/bench_coin_ensemble.py`` (one torch thread; ``--quick`` for a short
check, ``--seeds K``).
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from solvers.coin import ensemble, train
from solvers.coin.algorithm3 import TrainingPhase, validation_phase
from solvers.coin.baselines import IndependentDQN
from solvers.coin.config import Config
from solvers.coin.ensemble import EnsembleDQN, EnsembleTraining, seed_configs
from solvers.coin.env import preset
from solvers.coin.networks import QNet

Step = Callable[[], None]


def clocks(steps: list[Step], iterations: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds to call every step of ``steps`` ``iterations`` times, one
    step after the other (the sequential seeds) or once (the ensemble)."""
    w0, c0 = time.perf_counter(), time.process_time()
    for step in steps:
        for _ in range(iterations):
            step()
    return time.perf_counter() - w0, time.process_time() - c0


def compare(
    label: str,
    singles: list[Step],
    batched: Step,
    iterations: int,
    rounds: int,
    warmup: int,
) -> dict[str, float]:
    """Interleaved rounds of the ``K`` single trainers and the ensemble; medians."""
    clocks(singles, warmup)
    clocks([batched], warmup)
    seq_w, seq_c, bat_w, bat_c = [], [], [], []
    for _ in range(rounds):
        w, c = clocks(singles, iterations)
        seq_w.append(w)
        seq_c.append(c)
        w, c = clocks([batched], iterations)
        bat_w.append(w)
        bat_c.append(c)
    k = len(singles)
    sw, sc = float(np.median(seq_w)), float(np.median(seq_c))
    bw, bc = float(np.median(bat_w)), float(np.median(bat_c))
    row = {
        "single_trial_its": k * iterations / sw,  # one seed's iterations per second
        "single_trial_its_cpu": k * iterations / sc,
        "sequential_its": iterations / sw,  # iterations of all K seeds per second, in turn
        "batched_its": iterations / bw,  # iterations of all K seeds per second, batched
        "batched_its_cpu": iterations / bc,
        "ratio": sw / bw,
        "ratio_cpu": sc / bc,
    }
    print(
        f"  {label:<10}{row['single_trial_its']:>9.1f}{row['single_trial_its_cpu']:>9.1f}"
        f"{row['sequential_its']:>14.1f}{row['batched_its']:>10.1f}{row['batched_its_cpu']:>9.1f}"
        f"{row['ratio']:>9.2f}x{row['ratio_cpu']:>8.2f}x"
    )
    return row


def network_floor(net: QNet, shapes: list[tuple[int, int, int, bool]], rounds: int) -> float:
    """CPU milliseconds of the network passes of one iteration alone: for each
    ``(members, rows, extra, grad)`` a forward pass of a copy of ``net`` on inputs of that
    shape (with a backward pass and an Adam step when ``grad``), no replay, no environment."""
    net = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, foreach=True)
    n = net.grid_size
    inputs = [
        (torch.rand(e, m, 4, n, n), torch.rand(e, m, x) if x else None, g) for e, m, x, g in shapes
    ]

    def passes() -> None:
        for obs, extra, grad in inputs:
            sl = slice(0, obs.shape[0])
            if grad:
                opt.zero_grad()
                net(obs, extra, member=sl).square().mean().backward()
                opt.step()
            else:
                with torch.no_grad():
                    net(obs, extra, member=sl)

    for _ in range(5):
        passes()
    c0 = time.process_time()
    for _ in range(rounds):
        passes()
    return (time.process_time() - c0) / rounds * 1e3


def uptime() -> str:
    """``uptime``'s line (the machine's load average: the benchmark may share its cores)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def end_to_end(cfg: Config, seeds: list[int]) -> tuple[float, float]:
    """Wall-clock seconds of a whole run of ``seeds``: sequential, then batched."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train.run_seeds(replace(cfg, output=str(Path(tmp) / "seq")), seeds, progress=False)
        t1 = time.perf_counter()
        ensemble.run_seeds(replace(cfg, output=str(Path(tmp) / "ens")), seeds, progress=False)
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="paper-3x3")
    parser.add_argument("--seeds", type=int, default=5, help="K, the seeds of the ensemble")
    parser.add_argument("--num-games", type=int, default=16)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    q = args.quick
    rules = preset(args.preset)
    seeds = list(range(args.seeds))
    big = 10**9
    cfg = Config(
        preset=args.preset,
        num_games=args.num_games,
        iterations=big,
        validation_iterations=big,
        baseline_iterations=big,
        exact_ratios=False,
    )
    cfgs = seed_configs(cfg, seeds)
    warmup = cfg.learning_starts // args.num_games + 20  # past the replay warm-up
    iterations, rounds = (30, 3) if q else (100, 5)
    k = len(seeds)
    print(
        f"Coin Game ensembles — preset {args.preset}, {k} seeds, {args.num_games} games per "
        f"iteration, batch {cfg.batch_size}, 1 torch thread; medians of {rounds} interleaved "
        f"rounds of {iterations} iterations"
    )
    print(f"load before: {uptime()}")
    print()
    print(f"  {'':<10}{'single trial':>18}{'sequential':>14}{'batched':>19}{'ratio':>18}")
    print(
        f"  {'phase':<10}{'it/s':>9}{'(cpu)':>9}{f'{k} seeds it/s':>14}{'it/s':>10}{'(cpu)':>9}"
        f"{'wall':>10}{'(cpu)':>9}"
    )
    rows = {}
    trained = EnsembleTraining(cfgs, rules)
    singles_t = [TrainingPhase(c, rules) for c in cfgs]
    rows["train"] = compare(
        "train", [s.step for s in singles_t], trained.step, iterations, rounds, warmup
    )
    singles_v = [validation_phase(c, rules, s) for c, s in zip(cfgs, trained.seeds, strict=True)]
    val = EnsembleDQN(cfgs, rules, "validate", big, "validation", trained=trained)
    rows["validate"] = compare(
        "validate", [s.step for s in singles_v], val.step, iterations, rounds, warmup
    )
    singles_s = [IndependentDQN(c, rules, "selfish", big, "selfish") for c in cfgs]
    selfish = EnsembleDQN(cfgs, rules, "selfish", big, "selfish")
    rows["selfish"] = compare(
        "selfish", [s.step for s in singles_s], selfish.step, iterations, rounds, warmup
    )
    print()
    print(
        f"  an iteration of the {k} seeds = one iteration of each seed; sequential it/s = single "
        f"trial it/s / {k}; ratio = batched it/s / sequential it/s (wall clock; cpu: this "
        "process's CPU time)"
    )
    # the compute floor: the same network passes with nothing else (Amdahl's bound)
    m, b = cfg.batch_size, args.num_games
    x = 2  # the agent network's bit input (the principal's is fed zeros)
    floors = {
        "train": (
            network_floor(
                singles_t[0].net,
                [(2, 2 * b, x, False), (2, 4 * m, x, True), (2, 4 * m, x, False)],
                40,
            ),
            network_floor(
                trained.net,
                [
                    (2 * k, 2 * b, x, False),
                    (2 * k, 2 * m, x, True),
                    (2 * k, 2 * m, x, False),
                    # the target passes, unless the ensemble looks them up in tables
                    *([] if trained.memo else [(k, 2 * m, x, False), (k, 4 * m, x, False)]),
                ],
                40,
            ),
        ),
        "selfish": (
            network_floor(
                singles_s[0].net, [(2, b, 0, False), (2, m, 0, True), (2, m, 0, False)], 40
            ),
            network_floor(
                selfish.net,
                [(2 * k, b, 0, False), (2 * k, m, 0, True)]
                + ([] if selfish.memo else [(2 * k, m, 0, False)]),
                40,
            ),
        ),
    }
    print()
    print("network passes alone (CPU ms per iteration; forward, backward, Adam; nothing else):")
    if trained.memo or selfish.memo:
        print(
            "  (batched: the passes it runs; its frozen target networks are looked up in tables "
            "built once per target period, solvers.coin.ensemble)"
        )
    for name, (one, many) in floors.items():
        bound = k * 1e3 / rows[name]["single_trial_its_cpu"] / many
        print(
            f"  {name:<10} single trial {one:.2f} ms, {k} seeds batched {many:.2f} ms "
            f"(single trial's whole iteration: {1e3 / rows[name]['single_trial_its_cpu']:.2f} ms); "
            f"ratio bound if the rest took no time: {bound:.2f}x"
        )
    small = replace(
        cfg,
        iterations=300 if q else 1_000,
        validation_iterations=300 if q else 1_000,
        baseline_iterations=300 if q else 1_000,
        eval_every=500,
        eval_episodes=80,
        exact_ratios=True,
        checkpoint_every=0,
    )
    seq, bat = end_to_end(small, seeds)
    print()
    print(
        f"end to end ({small.iterations:,} iterations per phase, 5 phases, evaluations every "
        f"{small.eval_every} with exact ratios): sequential {seq:.1f} s, batched {bat:.1f} s, "
        f"ratio {seq / bat:.2f}x"
    )
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
