"""``pamdp verify INSTANCE.json SOLUTION.json``: check a solution file exactly (issue 4).

Recomputes everything from the instance and the policy alone (:mod:`properties.verify`): does
the agent follow in every state, are payments non-negative, how much does each contract pay
above the minimal implementation, can the principal gain by a one-shot deviation (SPE, PAPER.md
§2), do the claimed values hold, and how far are both utilities from a reference SPE.

Exit codes: **0** the solution is an SPE within the tolerance and every claim holds; **1** it is
not (the violations are listed per state); **2** the input is invalid (unreadable file, invalid
JSON, a malformed instance or solution: the message names the field, the index and the value).

Imports are deferred to :func:`run` so that building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

DEFAULT_TOLERANCE_TEXT = "1e-9"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pamdp verify`` arguments to ``parser``."""
    parser.description = (
        "Verify a FORMAT.md v1 solution against its instance in exact "
        "arithmetic. Exit 0: an SPE within tolerance; 1: not (violations "
        "listed per state); 2: invalid input."
    )
    parser.add_argument("instance", help="instance JSON file (pamdp/instance@1)")
    parser.add_argument("solution", help="solution JSON file (pamdp/solution@1)")
    parser.add_argument(
        "--tolerance",
        default=DEFAULT_TOLERANCE_TEXT,
        metavar="TAU",
        help="absolute tolerance τ, a number or rational string: the agent "
        "follows when following costs it at most τ, and a violation counts "
        "only above τ; 0 = strict exact check (default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (pamdp/verification@1) instead of text",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip computing the reference SPE (no utility gap)",
    )
    parser.add_argument(
        "--max-states",
        type=int,
        default=30,
        metavar="N",
        help="rows of the per-state table in the text report "
        "(violating states first; default: %(default)s)",
    )


def _invalid(args: argparse.Namespace, message: str) -> int:
    if getattr(args, "json", False):
        print(
            json.dumps(
                {"format": "pamdp/verification@1", "ok": False, "invalid": True, "error": message}
            )
        )
    print(f"pamdp verify: invalid input: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run ``pamdp verify``; return the exit code (0 SPE, 1 not an SPE, 2 invalid input)."""
    from fractions import Fraction

    from properties.verify import verify_solution
    from theory.format import SolutionError, load_instance, read_json
    from theory.model import InstanceError

    try:
        tolerance = Fraction(str(args.tolerance).strip())
    except (ValueError, ZeroDivisionError):
        return _invalid(args, f"--tolerance: not a number (value: {args.tolerance!r})")
    if tolerance < 0:
        return _invalid(args, f"--tolerance: must be non-negative (value: {args.tolerance!r})")
    try:
        model = load_instance(args.instance)
    except InstanceError as error:
        return _invalid(args, f"instance {args.instance}: {error}")
    except (OSError, UnicodeDecodeError) as error:
        return _invalid(args, f"instance {args.instance}: cannot read: {error}")
    try:
        data: Any = read_json(args.solution)
    except json.JSONDecodeError as error:
        return _invalid(args, f"solution {args.solution}: invalid JSON: {error}")
    except (OSError, UnicodeDecodeError) as error:
        return _invalid(args, f"solution {args.solution}: cannot read: {error}")
    try:
        report = verify_solution(model, data, tolerance=tolerance, reference=not args.no_reference)
    except SolutionError as error:
        return _invalid(args, f"solution {args.solution}: {error}")
    except ValueError as error:  # e.g. γ = 1 with a cycle: the values are undefined
        return _invalid(args, f"{args.instance}: {error}")
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.summary(max_states=args.max_states))
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m properties.verify_cli INSTANCE SOLUTION [options]``."""
    parser = argparse.ArgumentParser(prog="pamdp verify")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
