"""``pamdp verify INSTANCE.json SOLUTION.json``: check a solution file exactly (issue 4).

Recomputes everything from the instance and the policy alone (:mod:`properties.verify`): does
the agent follow in every state, are payments non-negative, how much does each contract pay
above the minimal implementation, can the principal gain by a one-shot deviation (SPE, PAPER.md
§2), do the claimed values hold, and how far are both utilities from a reference SPE.

Exit codes: **0** the solution is an SPE within the tolerance and every claim holds; **1** it is
not (the violations are listed per state); **2** the input is invalid (unreadable file, invalid
JSON, a malformed instance or solution: the message names the field, the index and the value);
**3** an internal error (a bug in pamdp, never a verdict).

Imports are deferred to :func:`run` so that building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from pamdp.common import (
    EXIT_INVALID,
    EXIT_NO,
    EXIT_OK,
    InvalidInput,
    add_ties_arguments,
    integer_arg,
    number_arg,
    ties_from_args,
)
from pamdp.solve import Progress, add_quiet_argument


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
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=None,
        metavar="TAU",
        help="absolute tolerance τ, a number or rational string: sets both --tie-tol and "
        "--principal-tol (the agent follows when following costs it at most τ, and a "
        "violation counts only above τ); 0 = strict exact check",
    )
    parser.add_argument(
        "--allow-name-mismatch",
        action="store_true",
        help="accept a solution whose 'instance' names another instance",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (pamdp/verification@2) instead of text",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip computing the reference SPE (no utility gap)",
    )
    parser.add_argument(
        "--max-states",
        type=integer_arg(minimum=0, maximum=10**9),
        default=30,
        metavar="N",
        help="rows of the per-state table in the text report (violating states first)",
    )
    add_ties_arguments(parser)
    add_quiet_argument(parser)


def _invalid(args: argparse.Namespace, message: str) -> int:
    if getattr(args, "json", False):
        print(
            json.dumps(
                {"format": "pamdp/verification@2", "ok": False, "invalid": True, "error": message}
            )
        )
    print(f"pamdp verify: invalid input: {message}", file=sys.stderr)
    return EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    """Run ``pamdp verify``; return the exit code (0 SPE, 1 not an SPE, 2 invalid input)."""
    from properties.verify import verify_solution
    from theory.format import SolutionError, load_instance
    from theory.model import InstanceError

    try:
        ties = ties_from_args(args)
    except InvalidInput as error:
        return _invalid(args, str(error))
    if args.tolerance is not None:
        ties = ties.with_tolerance(args.tolerance)
    progress = Progress(quiet=args.quiet)
    try:
        with progress.file_phase("loading", args.instance):
            model = load_instance(args.instance)
    except InstanceError as error:
        return _invalid(args, f"instance {args.instance}: {error}")
    except (OSError, UnicodeDecodeError) as error:
        return _invalid(args, f"instance {args.instance}: cannot read: {error}")
    progress.large(states=model.n_states)
    try:
        with progress.file_phase("loading", args.solution):
            data: Any = _read_solution(args.solution, model)
    except SolutionError as error:
        return _invalid(args, f"solution {args.solution}: {error}")
    except InstanceError as error:  # the shared JSON reader names instances
        return _invalid(args, f"solution {args.solution}: {error}")
    except json.JSONDecodeError as error:
        return _invalid(args, f"solution {args.solution}: invalid JSON: {error}")
    except (OSError, UnicodeDecodeError) as error:
        return _invalid(args, f"solution {args.solution}: cannot read: {error}")
    try:
        report = verify_solution(
            model,
            data,
            ties=ties,
            reference=not args.no_reference,
            allow_name_mismatch=args.allow_name_mismatch,
            progress=progress.phase,
        )
    except SolutionError as error:
        return _invalid(args, f"solution {args.solution}: {error}")
    except ValueError as error:  # e.g. γ = 1 with a cycle: the values are undefined
        return _invalid(args, f"{args.instance}: {error}")
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.summary(max_states=args.max_states))
    return EXIT_OK if report.ok else EXIT_NO


def _read_solution(path: str, model: Any) -> Any:
    """The solution file as :func:`properties.verify.verify_solution` takes it: a large float
    JSON solution read straight into a document by :func:`theory.fastjson.fast_solution`
    when it can be (clean documents only), otherwise the parsed JSON (or ``.npz``) document,
    which :func:`properties.verify.parse_solution` checks, negative payments kept as
    violations."""
    from theory.format import FAST_PATH_BYTES, DocumentError, read_json

    try:
        large = not path.endswith(".npz") and os.path.getsize(path) >= FAST_PATH_BYTES
    except OSError:
        large = False  # read_json says why
    if large:
        from theory.fastjson import fast_solution

        try:
            document = fast_solution(path, model)
        except DocumentError:
            document = None  # read_json raises the same error, reported as before
        if document is not None:
            return document
    return read_json(path)


def main(argv: list[str] | None = None) -> int:
    """``pamdp verify ...`` through the one top-level handler (:func:`pamdp.cli.main`)."""
    import sys

    from pamdp.cli import main as pamdp_main

    return pamdp_main(["verify", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
