"""``pamdp train coin``: Algorithm 3 and the baselines on the Coin Game (PAPER.md §5–6).

Exposes :func:`add_arguments` and :func:`run` for the ``pamdp`` command line; also runnable as
``python -m solvers.coin.cli``. A JSON ``--config`` gives the base :class:`Config` (the paper's
hyperparameters when omitted); the other flags override single fields.

Examples
--------
The 3×3 experiment of experiments/coin/ (5 seeds, CPU)::

    python -m solvers.coin.cli --config experiments/coin/configs/paper_3x3.json \\
        --seeds 0 1 2 3 4 --output experiments/coin/results/paper_3x3
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from solvers.coin.config import Config
from solvers.coin.env import PRESETS

#: flag name -> Config field, for the flags that override one field
_OVERRIDES = {
    "preset": "preset",
    "iterations": "iterations",
    "validation_iterations": "validation_iterations",
    "baseline_iterations": "baseline_iterations",
    "num_games": "num_games",
    "nudge": "nudge",
    "device": "device",
    "output": "output",
    "checkpoint_every": "checkpoint_every",
    "eval_every": "eval_every",
    "eval_episodes": "eval_episodes",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train coin`` options to ``parser``."""
    parser.add_argument("--config", help="JSON file with Config fields (default: paper's)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="environment preset")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds to run")
    parser.add_argument("--iterations", type=int, help="training-phase iterations")
    parser.add_argument("--validation-iterations", type=int, help="validation-phase iterations")
    parser.add_argument("--baseline-iterations", type=int, help="iterations of each baseline")
    parser.add_argument("--num-games", type=int, help="games stepped in parallel")
    parser.add_argument("--nudge", type=float, help="nudging margin ξ ≥ 0")
    parser.add_argument("--device", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--output", help="output folder")
    parser.add_argument("--checkpoint-every", type=int, help="iterations between checkpoints")
    parser.add_argument("--eval-every", type=int, help="iterations between evaluations")
    parser.add_argument("--eval-episodes", type=int, help="episodes per evaluation")
    parser.add_argument("--resume", action="store_true", help="continue from checkpoints")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many iterations (single seed; then --resume continues)",
    )


def _build_config(args: argparse.Namespace) -> Config:
    """The :class:`Config` described by ``args``."""
    cfg = Config.from_json(args.config) if args.config else Config()
    changes: dict[str, Any] = {}
    for flag, fieldname in _OVERRIDES.items():
        value = getattr(args, flag, None)
        if value is not None:
            changes[fieldname] = value
    return replace(cfg, **changes)


def run(args: argparse.Namespace) -> int:
    """Run the experiment described by ``args``; returns the exit status."""
    import torch

    from solvers.coin.train import run as run_one
    from solvers.coin.train import run_seeds

    torch.set_num_threads(args.threads)
    try:
        cfg = _build_config(args)
    except (ValueError, TypeError) as exc:
        print(f"pamdp train coin: {exc}", file=sys.stderr)
        return 2
    seeds = args.seeds if args.seeds is not None else [cfg.seed]
    progress = not args.no_progress
    if args.stop_after is not None:
        if len(seeds) != 1:
            print("pamdp train coin: --stop-after needs exactly one seed", file=sys.stderr)
            return 2
        result = run_one(
            replace(cfg, seed=seeds[0]),
            resume=args.resume,
            progress=progress,
            stop_after=args.stop_after,
        )
        print(json.dumps(result.get("summary", {"complete": False}), indent=1))
        return 0
    summary = run_seeds(cfg, seeds, resume=args.resume, progress=progress)
    print(json.dumps({k: v for k, v in summary.items() if k != "per_seed"}, indent=1))
    return 0


def _main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m solvers.coin.cli``)."""
    parser = argparse.ArgumentParser(prog="pamdp train coin", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(_main())
