"""``pamdp fuzz --command "CMD {instance} {solution}"``: differential fuzzing (issues 4, 12).

Runs a solver on Hypothesis-generated instances, verifies every answer exactly
(:mod:`properties.verify`), groups the failures into classes (crash, timeout, invalid output,
each SPE violation kind) and shrinks each class to a minimal instance saved with the wrong and
the right solution side by side (:mod:`properties.fuzz`). The solver is a command (one process
per instance), ``--worker "CMD"`` (one long-lived process, JSON lines in and out) or
``--function module:function``. Answers "unsupported" are counted, not failures.

Exit codes: **0** no instance failed; **1** some did; **2** invalid arguments; **3** an
internal error of pamdp (never a verdict on the solver).

**Shards** (issue 14; docs/DISTRIBUTED.md). ``--chunk N`` cuts the search into seed ranges of
N instances (:func:`properties.fuzz.fuzz_shards`; shard ``i`` searches with seed
``shard_seed(--seed, i)`` and shrinks its own failures), computed serially, on ``--workers N``
local Ray workers or on the Ray cluster at ``--address``; each finished shard is journalled in
``--output-dir``/shards.jsonl, ``--resume`` runs only the missing ones, and the merged report
(:meth:`properties.fuzz.FuzzReport.merge`), saved once by this process, is the same on every
engine. ``--time-budget`` and ``--stop-at-first`` then apply to each shard. A worker builds its
own solver: the ``--command`` / ``--worker`` program must run there and the ``--function``
module must be importable there. Without these flags the run is the one unsharded search.

Imports are deferred to :func:`run` so that building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pamdp.common import (
    InvalidInput,
    add_shard_arguments,
    add_ties_arguments,
    check_output,
    number_arg,
    shard_engine,
    ties_from_args,
)

if TYPE_CHECKING:
    from properties.fuzz import Solver
    from theory.ties import Ties

DEFAULT_MAX_EXAMPLES = 500
#: The shard journal's file name inside ``--output-dir`` (:class:`solvers.distributed.Journal`).
SHARD_JOURNAL = "shards.jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pamdp fuzz`` arguments to ``parser``."""
    parser.description = (
        "Differentially fuzz a solver: generate instances, run the solver, "
        "verify every answer exactly, shrink the first failure to a minimal "
        "instance per failure class. Exit 0: no failure; 1: failures; 2: invalid arguments."
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--command",
        metavar="CMD",
        help="shell command with the placeholders {instance} and (optional; "
        "else standard output is read) {solution}, e.g. "
        '"python my_solver.py {instance} {solution}"',
    )
    target.add_argument(
        "--worker",
        metavar="CMD",
        help="a long-lived program reading one instance document per line on standard input "
        "and writing one solution per line (docs/VALIDATING.md, 'Persistent workers')",
    )
    target.add_argument(
        "--function",
        metavar="MODULE:FUNCTION",
        help="a Python function taking the instance document (a dict) and "
        "returning a solution document",
    )
    parser.add_argument(
        "--family",
        choices=["episodic", "discounted", "all"],
        default="all",
        help="instance family (default: %(default)s)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help="instances to try (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--stop-at-first",
        action="store_true",
        help="end the search at the first failure (default: search on and report every class)",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop searching after this long (default: no limit)",
    )
    parser.add_argument(
        "--shrink-budget",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds for shrinking, shared by the failure classes (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per-instance timeout of --command / --worker; longer counts as a hang "
        "(default: %(default)s)",
    )
    parser.add_argument("--min-states", type=int, default=1, metavar="N", help="fewest states")
    parser.add_argument("--max-states", type=int, default=4, metavar="N", help="most states")
    parser.add_argument("--min-actions", type=int, default=2, metavar="N", help="fewest actions")
    parser.add_argument("--max-actions", type=int, default=3, metavar="N", help="most actions")
    parser.add_argument(
        "--min-outcomes",
        type=int,
        default=2,
        metavar="N",
        help="fewest outcomes (hidden action only: observed action has O = A)",
    )
    parser.add_argument("--max-outcomes", type=int, default=3, metavar="N", help="most outcomes")
    parser.add_argument(
        "--two-by-two",
        action="store_true",
        help="only instances with 2 actions and 2 outcomes (overrides the action/outcome sizes)",
    )
    observed = parser.add_mutually_exclusive_group()
    observed.add_argument(
        "--observed-action",
        dest="observed_action",
        action="store_true",
        default=None,
        help="only observed-action instances (default: both kinds%(default).0s)",
    )
    observed.add_argument(
        "--hidden-action",
        dest="observed_action",
        action="store_false",
        help="only hidden-action instances (default: both kinds%(default).0s)",
    )
    parser.add_argument(
        "--tolerance",
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=None,
        metavar="TAU",
        help="verification tolerance: sets --tie-tol and --principal-tol (see pamdp verify; "
        "default: those flags%(default).0s)",
    )
    add_ties_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        "--output-dir",
        dest="output_dir",
        default="pamdp-fuzz",
        metavar="DIR",
        help="a run with failures is saved in a fresh folder DIR/run-DATE-TIME-seedN "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (pamdp/fuzz-report@1) instead of text",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    shards = parser.add_argument_group(
        "shards (docs/DISTRIBUTED.md)",
        "With any of these the search is cut into shards (seed ranges), each journalled in "
        f"DIR/{SHARD_JOURNAL} as it finishes; the merged report is the same on every engine.",
    )
    add_shard_arguments(
        shards,
        chunk_help="cut the search into shards of N instances, shard i searching with its own "
        "derived seed and shrinking its own failures; None: one shard, the unsharded search",
        resume_help=f"continue the run journalled in DIR/{SHARD_JOURNAL}: run only the missing "
        "shards (the same command line)",
        overwrite_help=f"start afresh where DIR/{SHARD_JOURNAL} holds another run",
        address_note="the solver command or module must run on every node",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``pamdp fuzz``; return the exit code (0 no failure, 1 failures, 2 bad arguments)."""
    import json

    from hypothesis.errors import InvalidArgument

    from properties.fuzz import CommandSolver, FunctionSolver, WorkerSolver, fuzz, load_function

    ties = ties_from_args(args)
    if args.tolerance is not None:
        ties = ties.with_tolerance(args.tolerance)
    solver: CommandSolver | WorkerSolver | FunctionSolver
    try:
        if args.command is not None:
            solver = CommandSolver(args.command, timeout=args.timeout)
        elif args.worker is not None:
            solver = WorkerSolver(args.worker, timeout=args.timeout)
        else:
            solver = FunctionSolver(load_function(args.function))
    except (ValueError, TypeError, ImportError, AttributeError) as error:
        print(f"pamdp fuzz: {error}", file=sys.stderr)
        return 2

    def progress(line: str) -> None:
        print(f"  … {line}", file=sys.stderr, flush=True)

    if _sharded(args):
        try:
            return _run_sharded(args, solver, ties, None if args.quiet else progress)
        except (ValueError, InvalidArgument) as error:  # e.g. a bad size, found by a shard
            print(f"pamdp fuzz: {error}", file=sys.stderr)
            return 2
    try:
        report = fuzz(
            solver,
            family=args.family,
            min_states=args.min_states,
            max_states=args.max_states,
            min_actions=args.min_actions,
            max_actions=args.max_actions,
            min_outcomes=args.min_outcomes,
            max_outcomes=args.max_outcomes,
            observed_action=args.observed_action,
            two_by_two=args.two_by_two,
            max_examples=args.max_examples,
            seed=args.seed,
            time_budget=args.time_budget,
            shrink_budget=args.shrink_budget,
            stop_at_first=args.stop_at_first,
            ties=ties,
            output_dir=args.output_dir,
            progress=None if args.quiet else progress,
        )
    except (ValueError, InvalidArgument) as error:
        print(f"pamdp fuzz: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.summary())
    return 0 if report.ok else 1


def _sharded(args: argparse.Namespace) -> bool:
    """Whether the run goes through shards (any of --chunk, --workers, --address, --resume,
    --overwrite); without them ``pamdp fuzz`` is the one unsharded search, as before."""
    return (
        args.chunk is not None
        or args.workers != 1
        or args.address is not None
        or args.resume
        or args.overwrite
    )


def _run_sharded(
    args: argparse.Namespace,
    solver: Solver,
    ties: Ties,
    progress: Callable[[str], None] | None,
) -> int:
    """``pamdp fuzz`` cut into shards (:func:`properties.fuzz.fuzz_shards`), computed by
    :func:`solvers.distributed.run_shards` serially or on Ray, journalled, merged
    (:meth:`properties.fuzz.FuzzReport.merge`) and saved once, here."""
    import json
    import time
    from dataclasses import replace
    from pathlib import Path

    from properties.fuzz import FuzzReport, describe, fuzz_shards, run_fuzz_shard, save_run
    from solvers.distributed import DistributedError, Journal, Shard, run_shards

    engine = shard_engine(args)
    if args.max_examples < 1:
        raise InvalidInput(f"--max-examples: must be at least 1 (value: {args.max_examples})")
    spec: dict[str, object] = (
        {"command": args.command, "timeout": args.timeout}
        if args.command is not None
        else {"worker": args.worker, "timeout": args.timeout}
        if args.worker is not None
        else {"function": args.function}
    )
    options = {
        "family": args.family,
        "min_states": args.min_states,
        "max_states": args.max_states,
        "min_actions": args.min_actions,
        "max_actions": args.max_actions,
        "min_outcomes": args.min_outcomes,
        "max_outcomes": args.max_outcomes,
        "observed_action": args.observed_action,
        "two_by_two": args.two_by_two,
        "time_budget": args.time_budget,
        "shrink_budget": args.shrink_budget,
        "stop_at_first": args.stop_at_first,
    }
    try:
        shards = fuzz_shards(
            spec,
            max_examples=args.max_examples,
            seed=args.seed,
            chunk=args.chunk,
            ties=ties,
            **options,
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    folder = Path(args.output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"--output-dir {folder}: cannot create the folder ({error})") from None
    path = folder / SHARD_JOURNAL
    check_output(str(path))
    if path.exists() and path.stat().st_size and not (args.resume or args.overwrite):
        raise InvalidInput(
            f"{path} already holds a run; pass --resume to run only its missing shards, "
            "or --overwrite to start again"
        )
    description = {
        "command": "pamdp fuzz",
        "solver": describe(solver),
        "seed": args.seed,
        "max_examples": args.max_examples,
        "chunk": args.chunk,
    }
    try:
        journal = Journal.open(path, description, shards, resume=args.resume)
    except DistributedError as error:
        raise InvalidInput(str(error)) from None
    say = progress
    if say is not None:
        if args.resume:
            say(f"resuming {path}: {len(journal.done)} of {len(shards)} shard(s) done")
        say(
            f"{len(shards)} shard(s) of up to {shards[0].arguments['max_examples']} instance(s), "
            f"{engine.describe()}"
        )

    def on_result(shard: Shard, result: Any, resumed: bool) -> None:
        if say is not None:
            say(
                f"shard {shard.key} {'journalled' if resumed else 'done'}: "
                f"{result['tried']} instance(s), {len(result['failures'])} failure class(es)"
            )

    start = time.monotonic()
    try:
        results = run_shards(
            run_fuzz_shard, shards, engine=engine, journal=journal, on_result=on_result
        )
    except KeyboardInterrupt:
        print(
            f"pamdp fuzz: interrupted; {len(journal.done)} of {len(shards)} shard(s) are "
            f"journalled in {path}: rerun with --resume to finish",
            file=sys.stderr,
        )
        raise
    except DistributedError as error:
        raise InvalidInput(str(error)) from None
    report = FuzzReport.merge(
        [FuzzReport.from_dict(result) for result in results],
        seed=args.seed,
        max_examples=args.max_examples,
    )
    report = replace(report, seconds=time.monotonic() - start)
    if report.failures:
        report = save_run(report, args.output_dir, solver, ties)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.summary())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``pamdp fuzz ...`` through the one top-level handler (:func:`pamdp.cli.main`)."""
    import sys

    from pamdp.cli import main as pamdp_main

    return pamdp_main(["fuzz", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
