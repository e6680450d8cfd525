"""``pamdp fuzz --command "CMD {instance} {solution}"``: differential fuzzing (issues 4, 12).

Runs a solver on Hypothesis-generated instances, verifies every answer exactly
(:mod:`properties.verify`), groups the failures into classes (crash, timeout, invalid output,
each SPE violation kind) and shrinks each class to a minimal instance saved with the wrong and
the right solution side by side (:mod:`properties.fuzz`). The solver is a command (one process
per instance), ``--worker "CMD"`` (one long-lived process, JSON lines in and out) or
``--function module:function``. Answers "unsupported" are counted, not failures.

Exit codes: **0** no instance failed; **1** some did; **2** invalid arguments; **3** an
internal error of pamdp (never a verdict on the solver).

Imports are deferred to :func:`run` so that building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import sys

from pamdp.common import add_ties_arguments, number_arg, ties_from_args

DEFAULT_MAX_EXAMPLES = 500


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
    parser.add_argument("--min-states", type=int, default=1)
    parser.add_argument("--max-states", type=int, default=4)
    parser.add_argument("--min-actions", type=int, default=2)
    parser.add_argument("--max-actions", type=int, default=3)
    parser.add_argument(
        "--min-outcomes", type=int, default=2, help="hidden action only (observed action has O = A)"
    )
    parser.add_argument("--max-outcomes", type=int, default=3)
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
        help="only observed-action instances",
    )
    observed.add_argument(
        "--hidden-action",
        dest="observed_action",
        action="store_false",
        help="only hidden-action instances",
    )
    parser.add_argument(
        "--tolerance",
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=None,
        metavar="TAU",
        help="verification tolerance: sets --tie-tol and --principal-tol (see pamdp verify)",
    )
    add_ties_arguments(parser)
    parser.add_argument(
        "--output-dir",
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


def main(argv: list[str] | None = None) -> int:
    """``pamdp fuzz ...`` through the one top-level handler (:func:`pamdp.cli.main`)."""
    import sys

    from pamdp.cli import main as pamdp_main

    return pamdp_main(["fuzz", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
