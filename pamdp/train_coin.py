"""``pamdp train coin``: the command line of Algorithm 3 and the baselines (:mod:`solvers.coin`).

Without options: the 3×3 preset at a budget of a few minutes on a laptop CPU
(:data:`solvers.coin.config.QUICK_3X3`); ``--paper-budget`` gives the paper's 1,000,000
iterations per phase, ``--config FILE`` any :class:`~solvers.coin.config.Config`; single flags
override single fields. Writes ``seed_<k>/{results.json, checkpoint.pt}`` per seed and
``summary.json`` and figures; ``--seeds A B ...`` with ``--workers N`` / ``--address`` trains
the seeds as shards (:func:`coin_seed`) on Ray. The entry points are re-exported by
:mod:`pamdp.train` (where ``pamdp train`` finds them); :mod:`pamdp.train` describes the
folder rules, resume and exit codes shared with ``pamdp train tree``.

This module imports torch only inside :func:`run_coin`, so building the parser is cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from pamdp.common import EXIT_OK, Formatter, InvalidInput
from pamdp.train_common import (
    SHARD_JOURNAL,
    _add_batched_flag,
    _add_engine_flags,
    _check_batched,
    _check_device,
    _engine,
    _interrupted,
    _interrupted_batched,
    _non_negative,
    _open_journal,
    _positive,
    _prepare_folder,
    _refuse_existing,
    _run_sweep,
    resume_command,
)
from solvers.coin.config import QUICK_3X3, Config
from solvers.coin.env import PRESETS
from solvers.rl.config import ConfigError

__all__ = ["add_coin_arguments", "coin_config", "coin_seed", "run_coin"]


#: flag (argparse dest) -> Config field, for the flags that override one field
_COIN_OVERRIDES: dict[str, str] = {
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


def add_coin_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train coin``; the field flags default to the chosen base
    configuration (:data:`~solvers.coin.config.QUICK_3X3` unless --paper-budget / --config)."""
    parser.formatter_class = Formatter
    quick = QUICK_3X3
    base = parser.add_mutually_exclusive_group()
    base.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="JSON file of Config fields as the base (e.g. experiments/coin/configs/*.json); "
        "default: the quick 3×3 budget",
    )
    base.add_argument(
        "--paper-budget",
        action="store_true",
        help="the paper's budget as the base: 1,000,000 iterations per phase, one game per "
        "iteration (hours on a CPU)",
    )

    def field(flag: str, kind: Any, text: str, value: Any) -> None:
        parser.add_argument(
            flag, type=kind, default=argparse.SUPPRESS, help=f"{text} (default: {value})"
        )

    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=argparse.SUPPRESS,
        help=f"environment preset (default: {quick.preset})",
    )
    parser.add_argument(
        "--seed",
        "--seeds",
        dest="seeds",
        type=int,
        nargs="+",
        default=argparse.SUPPRESS,
        metavar="SEED",
        help="seeds to run, one after the other, or at once with --workers "
        "(default: the config's, 0)",
    )
    field("--iterations", _non_negative, "training-phase iterations", quick.iterations)
    field(
        "--validation-iterations",
        _non_negative,
        "validation iterations",
        quick.validation_iterations,
    )
    field(
        "--baseline-iterations",
        _non_negative,
        "iterations of each baseline",
        quick.baseline_iterations,
    )
    field("--num-games", _positive, "games stepped in parallel per iteration", quick.num_games)
    field("--nudge", float, "nudging margin ξ ≥ 0", quick.nudge)
    field("--device", str, "torch device, e.g. cpu or cuda", quick.device)
    field(
        "--checkpoint-every",
        _non_negative,
        "iterations between checkpoints",
        quick.checkpoint_every,
    )
    field("--eval-every", _positive, "iterations between evaluations", quick.eval_every)
    field("--eval-episodes", _positive, "episodes per evaluation", quick.eval_episodes)
    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"run folder: seed_<k>/ per seed, summary.json, figures (default: {quick.output})",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume", action="store_true", help="continue the run in --output from its checkpoints"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an --output that already holds a run",
    )
    parser.add_argument("--threads", type=_positive, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument(
        "--stop-after",
        type=_positive,
        default=argparse.SUPPRESS,
        help="stop after this many iterations (one seed; then --resume continues; "
        "default: run to the end)",
    )
    _add_batched_flag(parser, "seeds", "solvers.coin.ensemble")
    _add_engine_flags(parser, "seeds")


def coin_config(args: argparse.Namespace) -> Config:
    """The :class:`Config` described by ``args`` (base, then single-field overrides)."""
    if getattr(args, "config", None):
        cfg = Config.from_json(args.config)
    elif getattr(args, "paper_budget", False):
        cfg = replace(Config(), preset=QUICK_3X3.preset, extra={})
    else:
        cfg = QUICK_3X3
    changes = {
        name: getattr(args, flag) for flag, name in _COIN_OVERRIDES.items() if hasattr(args, flag)
    }
    try:
        return replace(cfg, **changes)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error)) from None


def _coin_plan(cfg: Config, seeds: list[int], base: str) -> str:
    from solvers.coin.env import preset

    rules = preset(cfg.preset)
    phases = ", ".join(f"{name} {total:,}" for name, total in cfg.phases())
    return (
        f"pamdp train coin: {base}; preset {cfg.preset} ({rules.grid_size}×{rules.grid_size}, "
        f"{rules.episode_length} steps per episode), seeds {seeds}, {cfg.num_games} games per "
        f"iteration, device {cfg.device}, output {cfg.output}\n"
        f"  iterations per phase: {phases}\n"
        f"  checkpoint every {cfg.checkpoint_every:,} iterations and on Ctrl-C"
    )


def run_coin(args: argparse.Namespace) -> int:
    """Run the Coin Game experiment of ``args`` (:func:`add_coin_arguments`); exit code."""
    prog = "pamdp train coin"
    command = resume_command(prog, add_coin_arguments, args)
    try:
        return _run_coin(args, prog)
    except KeyboardInterrupt as error:
        if getattr(args, "batched", False):
            return _interrupted_batched(prog)
        return _interrupted(prog, error, command, "finished seeds and the last checkpoint are kept")


def _run_coin(args: argparse.Namespace, prog: str) -> int:
    import json

    import torch

    from solvers.coin.train import run as run_one
    from solvers.coin.train import run_seeds
    from solvers.rl.checkpoint import CheckpointError

    try:
        cfg = coin_config(args)
    except ConfigError as error:
        raise InvalidInput(f"{error}") from None
    seeds = list(args.seeds) if hasattr(args, "seeds") else [cfg.seed]
    _check_device(cfg.device)
    stop_after = getattr(args, "stop_after", None)
    batched = getattr(args, "batched", False)
    if len(set(seeds)) != len(seeds):
        raise InvalidInput(f"--seeds must be distinct, got {seeds}")
    _check_batched(args)
    if batched and (stop_after is not None or args.resume):
        raise InvalidInput("--batched keeps no checkpoints: it cannot --stop-after or --resume")
    if stop_after is not None and len(seeds) != 1:
        raise InvalidInput("--stop-after needs exactly one seed")
    output = Path(cfg.output)
    files = [output / "summary.json", output / SHARD_JOURNAL]
    for seed in seeds:
        files += [
            output / f"seed_{seed}" / "results.json",
            output / f"seed_{seed}" / "checkpoint.pt",
        ]
    _prepare_folder(output)
    _refuse_existing(prog, output, files, args)
    torch.set_num_threads(args.threads)
    base = (
        f"config {args.config}"
        if getattr(args, "config", None)
        else "the paper's budget"
        if args.paper_budget
        else "quick 3×3 budget (--paper-budget for the paper's)"
    )
    print(_coin_plan(cfg, seeds, base), file=sys.stderr, flush=True)

    def log(line: str) -> None:
        print(f"{prog}: {line}", file=sys.stderr, flush=True)

    engine = _engine(args)
    if stop_after is not None and engine.uses_ray:
        raise InvalidInput("--stop-after runs one seed in this process: leave out --workers")
    progress = not args.no_progress
    try:
        if stop_after is not None:
            result = run_one(
                replace(cfg, seed=seeds[0], output=str(output / f"seed_{seeds[0]}")),
                resume=args.resume,
                progress=progress,
                stop_after=stop_after,
                log=log,
            )
            print(json.dumps(result.get("summary", {"complete": False}), indent=1))
            return EXIT_OK
        if batched:
            from solvers.coin.ensemble import run_seeds as run_batched

            summary = run_batched(cfg, seeds, progress=progress, log=log)
        elif engine.uses_ray:
            summary = _coin_sweep(prog, cfg, seeds, engine, args)
        else:
            summary = run_seeds(cfg, seeds, resume=args.resume, progress=progress, log=log)
    except (CheckpointError, ConfigError) as error:
        raise InvalidInput(f"{error}") from None
    print(json.dumps({k: v for k, v in summary.items() if k != "per_seed"}, indent=1))
    return EXIT_OK


def _coin_sweep(
    prog: str, cfg: Config, seeds: list[int], engine: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """The seeds of ``pamdp train coin`` as shards on Ray (``--workers`` / ``--address``):
    each seed trains into ``<output>/seed_<k>`` exactly as :func:`solvers.coin.train.
    run_seeds` trains it serially, is journalled in ``<output>/shards.jsonl``, and the
    summary and figures are then made from the seeds' results in seed order, as there."""
    from solvers.coin.plots import plot_runs
    from solvers.coin.train import aggregate
    from solvers.distributed import Shard
    from solvers.rl.metrics import write_json

    output = Path(cfg.output)
    shards = [
        Shard(
            f"seed_{seed}",
            {"config": replace(cfg, seed=seed, output=str(output / f"seed_{seed}")).to_dict()},
        )
        for seed in seeds
    ]

    def report(shard: Shard, data: Any, resumed: bool) -> None:
        state = "journalled" if resumed else "done"
        print(f"{prog}: {shard.key} {state}", file=sys.stderr, flush=True)

    journal = _open_journal(output, {"command": prog, "seeds": seeds}, shards, args)
    print(f"{prog}: {len(shards)} seed(s), {engine.describe()}", file=sys.stderr, flush=True)
    runs = _run_sweep(partial(coin_seed, resume=args.resume), shards, engine, journal, report)
    summary = aggregate(runs)
    write_json(output / "summary.json", summary)
    plot_runs(runs, output)
    return summary


def coin_seed(arguments: Mapping[str, Any], *, resume: bool = False) -> dict[str, Any]:
    """One seed of ``pamdp train coin`` (a shard of the sweep; what a Ray worker runs):
    :func:`solvers.coin.train.run` on the :class:`Config` in ``arguments["config"]``
    (resuming its checkpoint with ``resume``); returns what it writes to results.json."""
    from solvers.coin.train import run as run_one

    result: dict[str, Any] = run_one(
        Config.from_dict(arguments["config"]), resume=resume, progress=False
    )
    return result
