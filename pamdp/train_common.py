"""Pieces shared by the trainers' command lines (:mod:`pamdp.train`, :mod:`pamdp.train_coin`,
:mod:`pamdp.train_instance`): integer flags, the run-folder and engine flags, the sweep's shard
journal and Ray engine (:mod:`solvers.distributed`), the resume command, device checks, and the
refusal to start over an earlier run. Re-exported by :mod:`pamdp.train`.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pamdp.common import EXIT_INTERRUPTED, InvalidInput, engine_of

#: The sweep's shard journal in the output folder (:class:`solvers.distributed.Journal`).
SHARD_JOURNAL = "shards.jsonl"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _add_trainer_flags(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """The Algorithm 2 options shared by ``pamdp train tree`` and ``pamdp train instance``
    (defaults from a :class:`solvers.deep.config.DeepConfig`)."""
    from solvers.deep.config import AGENT_MODES

    parser.add_argument("--trials", type=_positive, default=1, help="independent training runs")
    parser.add_argument(
        "--iterations",
        type=_positive,
        default=defaults.iterations,
        help="training iterations (8 interactions + 1 gradient step each)",
    )
    parser.add_argument(
        "--nudge", type=float, default=defaults.nudge, help="nudging margin ξ ≥ 0 (PAPER.md §3)"
    )
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    parser.add_argument(
        "--validate-every",
        type=_positive,
        default=defaults.validate_every,
        help="iterations between validations with the exact agent",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_non_negative,
        default=defaults.checkpoint_every,
        help="iterations between checkpoints (0 = only on Ctrl-C)",
    )
    parser.add_argument(
        "--agent",
        choices=AGENT_MODES,
        default=defaults.agent,
        help="'network' (Algorithm 2) or 'exact' (exact agent Q̄, cross-check)",
    )


def _add_run_folder_flags(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "-o", "--output", default=default, metavar="DIR", help="run folder (results, checkpoints)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume", action="store_true", help="continue the run in --output from its checkpoints"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an --output that already holds a run (its results and "
        "checkpoints are replaced)",
    )
    parser.add_argument("--threads", type=_positive, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _add_engine_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """``--workers`` / ``--address``: where the sweep's shards run (docs/DISTRIBUTED.md)."""
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help=f"train the {what} on N local Ray workers (a Ray instance started for the run, "
        "one CPU each); 1: one after the other in this process",
    )
    engine.add_argument(
        "--address",
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help=f"train the {what} on the existing Ray cluster there (ray start --head; the "
        "output folder must be on a file system every node sees); default: no cluster",
    )


def _engine(args: argparse.Namespace) -> Any:
    """The :class:`solvers.distributed.Engine` of ``--workers`` / ``--address`` (exit 2 when
    Ray is needed and missing)."""
    return engine_of(args.workers, getattr(args, "address", None))


def _open_journal(
    output: Path, run: Mapping[str, Any], shards: Sequence[Any], args: argparse.Namespace
) -> Any:
    """The sweep's shard journal ``<output>/shards.jsonl`` (continued with --resume)."""
    from solvers.distributed import DistributedError, Journal

    try:
        return Journal.open(output / SHARD_JOURNAL, run, shards, resume=args.resume)
    except DistributedError as error:
        raise InvalidInput(str(error)) from None


def _run_sweep(
    function: Callable[..., Any], shards: Sequence[Any], engine: Any, journal: Any, report: Any
) -> list[Any]:
    """:func:`solvers.distributed.run_shards` with errors of the engine as exit 2."""
    from solvers.distributed import DistributedError, run_shards

    try:
        return run_shards(function, shards, engine=engine, journal=journal, on_result=report)
    except DistributedError as error:
        raise InvalidInput(str(error)) from None


def resume_command(
    prog: str, add_arguments: Callable[[argparse.ArgumentParser], None], args: argparse.Namespace
) -> str:
    """The shell command that continues the run of ``args``: every option that differs from
    its default, then ``--resume`` (``--overwrite`` dropped)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    words = prog.split()
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "resume", "overwrite"):
            continue
        if not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if value == action.default:
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return shlex.join([*words, "--resume"])


def _check_device(name: str) -> Any:
    """The torch device ``name``, or :class:`InvalidInput` saying why it cannot be used."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise InvalidInput(f"--device {name}: not a torch device ({error})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        build = "is built without CUDA" if torch.version.cuda is None else "finds no CUDA GPU"
        raise InvalidInput(
            f"--device {name}: this torch ({torch.__version__}) {build}; use --device cpu"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInput(f"--device {name}: MPS is not available here; use --device cpu")
    return device


def _prepare_folder(path: Path) -> None:
    """Create the run folder, or :class:`InvalidInput` if it cannot be written."""
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"-o/--output {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"-o/--output {path}: cannot create it ({error.strerror})") from None
    from theory.atomic import OutputPathError, check_output_path

    try:
        check_output_path(path / "summary.json")
    except OutputPathError as error:
        raise InvalidInput(f"-o/--output {path}: {error}") from None


def _refuse_existing(
    prog: str, output: Path, files: Sequence[Path], args: argparse.Namespace
) -> None:
    """Refuse to start over ``files`` of a previous run unless --resume or --overwrite; with
    --overwrite, remove them (only these files: the folder may hold others)."""
    existing = [f for f in files if f.exists()]
    if not existing or args.resume:
        return
    if not args.overwrite:
        raise InvalidInput(
            f"{output} already holds a run ({existing[0].relative_to(output)}); pass "
            "--resume to continue it or --overwrite to start again, or choose another "
            "-o/--output"
        )
    for file in existing:
        if file.is_dir():
            shutil.rmtree(file)
        else:
            file.unlink()


def _add_batched_flag(parser: argparse.ArgumentParser, what: str, module: str) -> None:
    """``--batched`` (alias ``--ensemble``): the one flag, on every trainer, that trains the
    trials / seeds as one batched ensemble in this process (no checkpoints, no Ray)."""
    parser.add_argument(
        "--batched",
        "--ensemble",
        dest="batched",
        action="store_true",
        help=f"train the {what} as one batched ensemble in this process ({module}; no checkpoints)",
    )


def _check_batched(args: argparse.Namespace) -> None:
    """``--batched`` excludes Ray (``--workers``/``--address``) and checkpoint-only options."""
    if not getattr(args, "batched", False):
        return
    if getattr(args, "workers", 1) != 1 or hasattr(args, "address"):
        raise InvalidInput("--batched trains everything in this process: leave out --workers")


def _interrupted_batched(prog: str) -> int:
    """Report a Ctrl-C of a batched run (it keeps no checkpoints); exit code 130."""
    print(
        f"\n{prog}: interrupted; a batched run keeps no checkpoints: run the same command again "
        "to start it over",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_INTERRUPTED


def _interrupted(prog: str, error: BaseException, command: str, what: str) -> int:
    """Report a Ctrl-C (after the trainer's checkpoint, if it wrote one); exit code 130."""
    from solvers.rl.checkpoint import TrainingInterrupted

    if isinstance(error, TrainingInterrupted) and error.checkpoint is not None:
        print(f"\n{prog}: {error}; checkpoint written to {error.checkpoint}", file=sys.stderr)
    else:
        print(f"\n{prog}: interrupted; {what}", file=sys.stderr)
    print(f"resume with: {command}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


__all__ = [
    "SHARD_JOURNAL",
    "resume_command",
]
