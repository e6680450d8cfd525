"""Batched tree ensemble vs the same trials one after another (issue 15, item 3).

15 trials of Fig. 3's setting (3 trees of depth 10 × 5 training seeds, the paper's
configuration) over a window of ``--iterations`` iterations: once as one
:class:`solvers.deep.ensemble.EnsembleTrainer` (one batched computation), once as 15
:class:`solvers.deep.trainer.DeepTrainer` runs one after another, in the same process. Prints
the single-trial it/s (sequential), the ensemble's trial-iterations per second and their
ratio, plus the load average (the machine is shared: the ratio is only meaningful when both
halves ran under the same load). Construction (networks, SPE references) is not timed; both
halves include the validation at the end of the window.

Usage::

    .venv/bin/python benchmarks/bench_ensemble.py --iterations 300 --threads 2 [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from pamdp.train import trial_seed  # noqa: E402
from solvers.deep.config import DeepConfig  # noqa: E402
from solvers.deep.ensemble import EnsembleTrainer  # noqa: E402
from solvers.deep.trainer import DeepTrainer  # noqa: E402
from solvers.deep.validation import Validator  # noqa: E402
from theory.generators import paper_tree  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--trees", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", default=None, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    plan = [(t, k) for t in range(args.trees) for k in range(args.seeds)]
    trees = {t: paper_tree(args.depth, t) for t in range(args.trees)}
    validators = {t: Validator(m) for t, m in trees.items()}
    # the paper's configuration over a window; validation only at the window's ends
    config = DeepConfig(iterations=args.iterations, validate_every=args.iterations)
    load_before = os.getloadavg()[0]

    sequential = []
    for t, k in plan:
        trainer = DeepTrainer(
            trees[t], config, seed=trial_seed(t, k), device=args.device, validator=validators[t]
        )
        started = time.perf_counter()
        trainer.train()
        sequential.append(time.perf_counter() - started)
    ensemble = EnsembleTrainer(
        [trees[t] for t, _ in plan],
        [config] * len(plan),
        [trial_seed(t, k) for t, k in plan],
        device=args.device,
        validators=[validators[t] for t, _ in plan],
    )
    started = time.perf_counter()
    ensemble.train()
    batched = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    total = len(plan) * args.iterations
    single = args.iterations / (sum(sequential) / len(sequential))
    numbers = {
        "trials": len(plan),
        "iterations": args.iterations,
        "depth": args.depth,
        "threads": args.threads,
        "device": args.device,
        "sequential_seconds": sum(sequential),
        "single_trial_iterations_per_second": single,
        "batched_seconds": batched,
        "batched_trial_iterations_per_second": total / batched,
        "ratio": sum(sequential) / batched,
        "load_average_before_after": [load_before, load_after],
    }
    print(
        f"{len(plan)} trials × {args.iterations} iterations (depth {args.depth}, "
        f"{args.threads} threads, {args.device}):\n"
        f"  sequential: {sum(sequential):.1f} s, single-trial {single:.1f} it/s\n"
        f"  batched:    {batched:.1f} s, {total / batched:.1f} trial-it/s\n"
        f"  ratio:      {numbers['ratio']:.2f}×   (load average {load_before:.1f} → "
        f"{load_after:.1f})"
    )
    if args.output:
        Path(args.output).write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
