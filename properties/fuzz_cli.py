"""``pamdp fuzz --command "CMD {instance} {solution}"``: differential fuzzing (issue 4).

Runs an external solver on Hypothesis-generated instances, verifies every answer exactly
(:mod:`properties.verify`), and shrinks the first failure to a minimal instance saved with the
wrong and the right solution side by side (:mod:`properties.fuzz`). ``--function
module:function`` fuzzes a Python function instead.

Exit codes: **0** no instance failed; **1** one did (wrong answer, crash, hang past
``--timeout``, invalid JSON or an invalid solution); **2** invalid arguments.

Imports are deferred to :func:`run` so that building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DEFAULT_MAX_EXAMPLES = 500


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pamdp fuzz`` arguments to ``parser``."""
    parser.description = (
        "Differentially fuzz a solver: generate instances, run the solver, "
        "verify every answer exactly, shrink the first failure to a minimal "
        "instance. Exit 0: no failure; 1: a failure; 2: invalid arguments."
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
        help="time allowed for shrinking a failure (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per-run timeout of --command; longer counts as a hang (default: %(default)s)",
    )
    parser.add_argument("--min-states", type=int, default=1)
    parser.add_argument("--max-states", type=int, default=4)
    parser.add_argument("--min-actions", type=int, default=2)
    parser.add_argument("--max-actions", type=int, default=3)
    parser.add_argument(
        "--min-outcomes", type=int, default=2, help="hidden action only (observed action has O = A)"
    )
    parser.add_argument("--max-outcomes", type=int, default=3)
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
        default="1e-9",
        metavar="TAU",
        help="verification tolerance (see pamdp verify; default: %(default)s)",
    )
    parser.add_argument(
        "--output-dir",
        default="pamdp-fuzz-failure",
        metavar="DIR",
        help="where the minimal failure is saved (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _load_function(spec: str) -> Any:
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--function: expected MODULE:FUNCTION (value: {spec!r})")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"--function: {spec} is not callable")
    return target


def run(args: argparse.Namespace) -> int:
    """Run ``pamdp fuzz``; return the exit code (0 no failure, 1 failure, 2 bad arguments)."""
    from fractions import Fraction

    from hypothesis.errors import InvalidArgument

    from properties.fuzz import CommandSolver, FunctionSolver, fuzz

    try:
        tolerance = Fraction(str(args.tolerance).strip())
        if tolerance < 0:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        print(
            f"pamdp fuzz: --tolerance: not a non-negative number (value: {args.tolerance!r})",
            file=sys.stderr,
        )
        return 2
    solver: CommandSolver | FunctionSolver
    try:
        if args.command is not None:
            solver = CommandSolver(args.command, timeout=args.timeout)
        else:
            solver = FunctionSolver(_load_function(args.function))
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
            max_examples=args.max_examples,
            seed=args.seed,
            time_budget=args.time_budget,
            shrink_budget=args.shrink_budget,
            tolerance=tolerance,
            output_dir=args.output_dir,
            progress=None if args.quiet else progress,
        )
    except (ValueError, InvalidArgument) as error:
        print(f"pamdp fuzz: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m properties.fuzz_cli --command "CMD {instance} {solution}" [options]``."""
    parser = argparse.ArgumentParser(prog="pamdp fuzz")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
