"""``pamdp train tree`` and ``pamdp train coin``: the command line of the two trainers.

``pamdp train tree`` (:func:`add_tree_arguments`, :func:`run_tree`)
    Algorithm 2 (:mod:`solvers.deep`) on ``paper_tree(--depth, --seed)``, ``--trials``
    independent runs. Writes, under ``-o/--output``::

        summary.json             instance, configuration, every trial's final validation and
                                 the mean / min / max / std over trials
        trial_XX/results.json    one trial: seed, configuration, validation history, final
                                 network hash (``deterministic``), timing and it/s (``timing``)
        trial_XX/checkpoint.pt   the latest checkpoint (every --checkpoint-every iterations
                                 and on Ctrl-C); removed when the trial completes unless
                                 --keep-checkpoints

    Trial ``t`` trains with the seed ``SeedSequence([seed, t]).generate_state(1)[0]``
    (:func:`trial_seed`), so trials and trees are independent and any trial can be rerun alone.

``pamdp train coin`` (:func:`add_coin_arguments`, :func:`run_coin`; in :mod:`pamdp.train_coin`)
    Algorithm 3 and the baselines (:mod:`solvers.coin`). Without options: the 3×3 preset at a
    budget of a few minutes on a laptop CPU (:data:`solvers.coin.config.QUICK_3X3`);
    ``--paper-budget`` gives the paper's 1,000,000 iterations per phase, ``--config FILE`` any
    :class:`~solvers.coin.config.Config`; single flags override single fields. Writes
    ``seed_<k>/{results.json, checkpoint.pt}`` per seed and ``summary.json`` and figures.

**Sweeps** (``--trials K``, ``--seeds A B ...``): every trial / seed is a shard
(:mod:`solvers.distributed`) with its own folder (``trial_XX/``, ``seed_<k>/``); ``--workers N``
trains N at once on local Ray workers, ``--address HOST:PORT`` on a Ray cluster
(docs/DISTRIBUTED.md). A trial's result depends only on its settings and seed, so a sweep on
workers writes the same ``results.json`` ``deterministic`` sections and summary finals as the
serial sweep. Each finished trial / seed is journalled in ``shards.jsonl``; ``--resume``
skips the journalled ones and continues the others from their checkpoints. ``--batched``
(alias ``--ensemble``; the same flag on all three trainers) trains the trials / seeds instead
as one batched ensemble in this process (:mod:`solvers.deep.ensemble`,
:mod:`solvers.coin.ensemble`): no checkpoints and no Ray; the same ``results.json`` layout,
marked with ``"ensemble": {"size", "index"}``.

Both trainers refuse an output folder that already holds a run unless ``--resume`` (continue
it: finished trials / seeds are read back, an interrupted one continues from its checkpoint,
exactly as if never stopped) or ``--overwrite`` (start again). Ctrl-C finishes the iteration in
progress, writes a checkpoint there, prints the command that resumes the run and exits 130.
Exit codes as every ``pamdp`` command: 0 done, 2 invalid arguments or files, 130 interrupted.

This module imports torch only inside the ``run_*`` functions, so building the parser is cheap.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from pamdp.common import EXIT_INVALID, EXIT_OK, Formatter, InvalidInput

# the shared pieces and the Coin Game command live in pamdp/train_common.py and
# pamdp/train_coin.py; re-exported here (pamdp/cli.py and pamdp/train_instance.py import them)
from pamdp.train_coin import add_coin_arguments, coin_config, coin_seed, run_coin
from pamdp.train_common import (
    SHARD_JOURNAL,
    _add_batched_flag,
    _add_engine_flags,
    _add_run_folder_flags,
    _add_trainer_flags,
    _check_batched,
    _check_device,
    _engine,
    _interrupted,
    _interrupted_batched,
    _open_journal,
    _prepare_folder,
    _refuse_existing,
    _run_sweep,
    resume_command,
)
from solvers.deep.config import DeepConfig
from solvers.rl.config import ConfigError

__all__ = [
    "SHARD_JOURNAL",
    "SUMMARY_METRICS",
    "add_coin_arguments",
    "add_tree_arguments",
    "coin_config",
    "coin_seed",
    "resume_command",
    "run_coin",
    "run_tree",
    "tree_trial",
    "trial_seed",
]

SUMMARY_SCHEMA = "pamdp.deep.tree-summary/1"
TRIAL_SCHEMA = "pamdp.deep.tree-trial/1"
#: final-record metrics aggregated over trials in summary.json
SUMMARY_METRICS: tuple[str, ...] = (
    "principal_ratio",
    "agent_ratio",
    "accuracy",
    "accuracy_weighted",
    "follow_rate",
    "agent_q_error",
    "expected_payment",
    "exact_contract_principal_ratio",
    "exact_contract_agent_ratio",
)


# ====================================================================== pamdp train tree
def trial_seed(seed: int, trial: int) -> int:
    """The training seed of trial ``trial`` on tree ``seed`` (a 32-bit integer)."""
    return int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])


def add_tree_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train tree`` (defaults: the paper's Fig. 3 setting, one trial)."""
    parser.formatter_class = Formatter
    defaults = DeepConfig()
    parser.add_argument(
        "--depth", type=int, default=10, help="depth of the complete binary tree (10: 1023 states)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="tree seed (paper_tree(depth, seed)); trial seeds derive from it",
    )
    _add_trainer_flags(parser, defaults)
    parser.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each trial's last checkpoint after it completes",
    )
    _add_batched_flag(parser, "trials", "solvers.deep.ensemble")
    _add_run_folder_flags(parser, "runs/tree")
    _add_engine_flags(parser, "trials")


def _tree_config(args: argparse.Namespace) -> DeepConfig:
    return DeepConfig(
        iterations=args.iterations,
        nudge=args.nudge,
        validate_every=args.validate_every,
        checkpoint_every=args.checkpoint_every,
        agent=args.agent,
    )


def _aggregate(finals: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in SUMMARY_METRICS:
        values = np.array([f[name] for f in finals], dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            out[name] = {"mean": math.nan, "min": math.nan, "max": math.nan, "std": math.nan}
            continue
        out[name] = {
            "mean": float(values.mean()),
            "min": float(values.min()),
            "max": float(values.max()),
            "std": float(values.std()),
        }
    return out


def run_tree(args: argparse.Namespace) -> int:
    """Train the trials of ``args`` (:func:`add_tree_arguments`); returns the exit code."""
    prog = "pamdp train tree"
    command = resume_command(prog, add_tree_arguments, args)
    try:
        return _run_tree(args, prog)
    except KeyboardInterrupt as error:  # TrainingInterrupted, or Ctrl-C outside the loop
        if args.batched:
            return _interrupted_batched(prog)
        return _interrupted(
            prog, error, command, "finished trials and the last checkpoint are kept"
        )


def _run_tree(args: argparse.Namespace, prog: str) -> int:
    import torch

    from solvers.distributed import Shard
    from solvers.rl.metrics import write_json

    _check_batched(args)
    engine = _engine(args)
    try:
        config = _tree_config(args)
        model, validator = _tree_setup(args.depth, args.seed)
    except ValueError as error:
        raise InvalidInput(f"{error}") from None
    device = _check_device(args.device)
    output = Path(args.output)
    trial_dirs = [output / f"trial_{t:02d}" for t in range(args.trials)]
    files = [output / "summary.json", output / SHARD_JOURNAL]
    for folder in trial_dirs:
        files += [folder / "results.json", folder / "checkpoint.pt"]
    _prepare_folder(output)
    _refuse_existing(prog, output, files, args)
    instance = {
        "generator": "paper_tree",
        "depth": args.depth,
        "seed": args.seed,
        "n_states": model.n_states,
        "name": model.name,
        "spe_principal_utility": validator.spe_principal,
        "spe_agent_utility": validator.spe_agent,
        "spe_costly_share": float(np.mean(validator.spe_recommended == 1)),
    }
    environment = {
        "device": str(device),
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    shards = [
        Shard(
            f"trial_{t:02d}",
            {
                "trial": t,
                "seed": trial_seed(args.seed, t),
                "depth": args.depth,
                "tree_seed": args.seed,
                "config": config.to_dict(),
                "device": args.device,
                "threads": args.threads,
                "folder": str(trial_dirs[t]),
                "instance": instance,
                "environment": environment,
            },
        )
        for t in range(args.trials)
    ]

    def report(shard: Shard, data: Any, resumed: bool) -> None:
        final = data["deterministic"]["final"]
        print(
            f"trial {shard.arguments['trial']}: "
            + ("journalled: " if resumed else "")
            + f"principal {final['principal_ratio']:.4f} × SPE, agent "
            f"{final['agent_ratio']:.4f} × SPE, accuracy {final['accuracy']:.4f}, "
            f"{data['timing']['iterations_per_second']:.0f} it/s",
            file=sys.stderr,
        )

    if args.batched:
        results = _batched_trials(shards, device, not args.no_progress, args.resume, report)
    else:
        trial = partial(
            tree_trial,
            resume=args.resume,
            progress=not args.no_progress and not engine.uses_ray,
            keep_checkpoints=args.keep_checkpoints,
        )
        journal = _open_journal(output, {"command": prog, "trials": args.trials}, shards, args)
        print(f"{prog}: {len(shards)} trial(s), {engine.describe()}", file=sys.stderr, flush=True)
        results = _run_sweep(trial, shards, engine, journal, report)
    finals = [data["deterministic"]["final"] for data in results]
    summary = {
        "schema": SUMMARY_SCHEMA,
        "instance": instance,
        "environment": environment,
        "config": config.to_dict(),
        "trial_seeds": [trial_seed(args.seed, t) for t in range(args.trials)],
        "finals": finals,
        "aggregate": _aggregate(finals),
    }
    write_json(output / "summary.json", summary)
    return EXIT_OK


def _batched_trials(
    shards: Sequence[Any],
    device: Any,
    progress: bool,
    resume: bool,
    report: Callable[[Any, Any, bool], None],
) -> list[dict[str, Any]]:
    """``--batched``: the trials of ``shards`` (those without a complete ``results.json``
    under ``resume``) trained as one :class:`solvers.deep.ensemble.EnsembleTrainer` in this
    process; each trial's ``results.json`` is written as :func:`tree_trial` writes it (its
    ``environment`` marks the ensemble; the timing is the ensemble's)."""
    import torch

    from solvers.deep.ensemble import EnsembleTrainer
    from solvers.rl.metrics import write_json

    first = shards[0].arguments
    model, validator = _tree_setup(int(first["depth"]), int(first["tree_seed"]))
    config = DeepConfig.from_dict(first["config"])
    torch.set_num_threads(int(first["threads"]))
    done: dict[int, dict[str, Any]] = {}
    for shard in shards:
        path = Path(str(shard.arguments["folder"])) / "results.json"
        if resume and path.exists():
            stored = _finished_trial(path, config, int(shard.arguments["seed"]))
            done[int(shard.arguments["trial"])] = stored
            report(shard, stored, True)
    pending = [s for s in shards if int(s.arguments["trial"]) not in done]
    if pending:
        print(
            f"pamdp train tree: {len(pending)} trial(s) as one batched ensemble, "
            f"{config.iterations} iterations",
            file=sys.stderr,
            flush=True,
        )
        ensemble = EnsembleTrainer(
            [model] * len(pending),
            [config] * len(pending),
            [int(s.arguments["seed"]) for s in pending],
            device=device,
            validators=[validator] * len(pending),
        )
        for shard, result in zip(pending, ensemble.train(progress=progress), strict=True):
            arguments = shard.arguments
            data = {
                "schema": TRIAL_SCHEMA,
                "trial": int(arguments["trial"]),
                "instance": arguments["instance"],
                "environment": {**arguments["environment"], "ensemble": len(pending)},
                **result.to_dict(),  # with "ensemble": {"size", "index"} (EnsembleTrainer)
            }
            write_json(Path(str(arguments["folder"])) / "results.json", data)
            done[int(arguments["trial"])] = data
            report(shard, data, False)
    return [done[int(s.arguments["trial"])] for s in shards]


@lru_cache(maxsize=4)
def _tree_setup(depth: int, seed: int) -> tuple[Any, Any]:
    """The paper tree and its exact validator (built once per process and tree)."""
    from solvers.deep.validation import Validator
    from theory.generators import paper_tree

    model = paper_tree(depth, seed)
    return model, Validator(model)


def tree_trial(
    arguments: Mapping[str, Any],
    *,
    resume: bool = False,
    progress: bool = False,
    keep_checkpoints: bool = False,
) -> dict[str, Any]:
    """One trial of ``pamdp train tree`` (a shard of the sweep; what a Ray worker runs):
    train, write ``<folder>/results.json`` and return its contents.

    ``arguments`` (JSON-ready) fix the result: trial number and seed, tree depth and seed,
    :class:`DeepConfig` fields, device and threads, and the ``instance`` / ``environment``
    records copied into results.json. With ``resume``, a complete ``results.json`` there is
    read back (after checking it was made with these settings) and a checkpoint continued.
    """
    import torch

    from solvers.deep.trainer import DeepTrainer
    from solvers.rl.checkpoint import CheckpointError
    from solvers.rl.metrics import write_json

    trial, seed = int(arguments["trial"]), int(arguments["seed"])
    config = DeepConfig.from_dict(arguments["config"])
    model, validator = _tree_setup(int(arguments["depth"]), int(arguments["tree_seed"]))
    device = torch.device(str(arguments["device"]))
    torch.set_num_threads(int(arguments["threads"]))
    folder = Path(str(arguments["folder"]))
    results_path, checkpoint = folder / "results.json", folder / "checkpoint.pt"
    if resume and results_path.exists():
        stored = _finished_trial(results_path, config, seed)
        print(f"trial {trial}: already complete", file=sys.stderr)
        return stored
    if resume and checkpoint.exists():
        try:
            trainer = DeepTrainer.from_checkpoint(
                checkpoint, model, device=device, validator=validator
            )
        except (CheckpointError, ConfigError) as error:
            raise InvalidInput(f"cannot resume from {checkpoint}: {error}") from None
        if trainer.config != config or trainer.seed != seed:
            raise InvalidInput(f"{checkpoint} was written with other settings")
        print(f"trial {trial}: resuming at iteration {trainer.iteration}", file=sys.stderr)
    else:
        trainer = DeepTrainer(model, config, seed=seed, device=device, validator=validator)
    print(
        f"trial {trial}: {config.iterations} iterations on a depth-{arguments['depth']} tree "
        f"({model.n_states} states), seed {seed}",
        file=sys.stderr,
        flush=True,
    )
    result = trainer.train(checkpoint_path=checkpoint, progress=progress)
    data = {
        "schema": TRIAL_SCHEMA,
        "trial": trial,
        "instance": arguments["instance"],
        "environment": arguments["environment"],
        **result.to_dict(),
    }
    write_json(results_path, data)
    if checkpoint.exists() and not keep_checkpoints:
        checkpoint.unlink()
    return data


def _read_trial(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["deterministic"]["config"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise InvalidInput(f"cannot read {path} ({error})") from None
    return data


def _finished_trial(path: Path, config: DeepConfig, seed: int) -> dict[str, Any]:
    """The complete ``results.json`` at ``path`` that ``--resume`` reads back instead of
    training again, after checking it was made with ``config`` and ``seed`` (exit 2 if not)."""
    stored = _read_trial(path)
    deterministic = stored["deterministic"]
    if DeepConfig.from_dict(deterministic["config"]) != config or deterministic["seed"] != seed:
        raise InvalidInput(f"{path} was produced with other settings")
    return stored


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pamdp.train tree|coin ...`` (the same options as ``pamdp train``)."""
    parser = argparse.ArgumentParser(prog="pamdp train", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="trainer", required=True)
    add_tree_arguments(sub.add_parser("tree", help="Algorithm 2 on the paper's tree"))
    add_coin_arguments(sub.add_parser("coin", help="Algorithm 3 on the Coin Game"))
    args = parser.parse_args(argv)
    try:
        return run_tree(args) if args.trainer == "tree" else run_coin(args)
    except InvalidInput as error:
        print(f"pamdp: {error}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
