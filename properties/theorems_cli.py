"""``pamdp theorems``: run every theorem property and print the report (issue 3).

    pamdp theorems [--profile dev|ci|thorough] [--seed S] [--json] [--out DIR]
                   [--claim KEY ...] [--markdown PATH] [--max-examples N]

Prints a table (claim, paper reference, definition used, instances tried, holds or
counterexample) and every counterexample as a FORMAT.md v1 instance, saved under ``--out``.
Exit status: 0 when every outcome is as recorded in :data:`properties.theorems.CLAIMS`
(claims expected to hold hold, known findings still fail, open questions either way), 1
otherwise (including a property that raised), 2 for bad arguments.

Imports are deferred to :func:`run`, so building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Default folder for counterexample instance files.
DEFAULT_OUT = "runs/theorems"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``pamdp theorems`` to ``parser``."""
    parser.add_argument(
        "--profile",
        default="ci",
        choices=("dev", "ci", "thorough"),
        help="instance budget (properties/profiles.py); default: ci",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="Hypothesis seed (the ci profile is derandomized); default 0",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of a table"
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for counterexample instance files (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--claim",
        action="append",
        default=None,
        metavar="KEY",
        help="run only this claim (repeatable); default: all",
    )
    parser.add_argument(
        "--markdown",
        default=None,
        metavar="PATH",
        help="also write the report as Markdown (docs/THEOREMS.md)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=None,
        metavar="N",
        help="override the profile's instances per claim",
    )
    parser.add_argument(
        "--preamble",
        default="",
        metavar="TEXT",
        help="a paragraph for --markdown (e.g. how the run was split)",
    )
    parser.add_argument(
        "--from-json",
        default=None,
        metavar="PATH",
        help="render a saved --json report, or journals DIR/report.jsonl "
        "(comma-separated), instead of running (with --markdown: "
        "regenerate docs/THEOREMS.md from it)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the report described by ``args``; return the exit status."""
    from properties.report import (
        FINDING_NOTES,
        ClaimOutcome,
        outcome_to_json,
        render_markdown,
        render_table,
        report_from_json,
        report_to_json,
        run_report,
    )
    from properties.theorems import CLAIMS, claim

    if args.from_json:
        saved = report_from_json(_read_saved(args.from_json, args))
        print(json.dumps(report_to_json(saved), indent=1) if args.json else render_table(saved))
        if args.markdown:
            with open(args.markdown, "w", encoding="utf-8") as handle:
                handle.write(render_markdown(saved, notes=FINDING_NOTES, preamble=args.preamble))
        return 0 if saved.ok else 1

    try:
        selected = [claim(k) for k in args.claim] if args.claim else list(CLAIMS)
    except KeyError as error:
        print(f"pamdp theorems: {error.args[0]}", file=sys.stderr)
        return 2
    if args.max_examples is not None and args.max_examples < 1:
        print("pamdp theorems: --max-examples must be at least 1", file=sys.stderr)
        return 2

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / "report.jsonl"
    journal.write_text("", encoding="utf-8")

    def progress(outcome: ClaimOutcome) -> None:
        # to stderr, so --json output stays clean; and journalled, so that an interrupted
        # run keeps every finished claim (--from-json accepts the journal)
        print(
            f"  {outcome.key}: {outcome.verdict} ({outcome.tried} instances, "
            f"{outcome.seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        with journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(outcome_to_json(outcome)) + "\n")

    report = run_report(
        args.profile,
        seed_value=args.seed,
        claims=selected,
        out_dir=args.out,
        max_examples=args.max_examples,
        progress=progress,
    )
    if args.json:
        print(json.dumps(report_to_json(report), indent=1))
    else:
        print(render_table(report))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(render_markdown(report, notes=FINDING_NOTES, preamble=args.preamble))
    return 0 if report.ok else 1


def _read_saved(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """A saved report: a ``--json`` document, or journals (``report.jsonl``, one claim per
    line; several paths joined by commas, later lines replacing earlier ones of the same
    claim, in the order of :data:`properties.theorems.CLAIMS`)."""
    from properties.theorems import CLAIMS

    if not path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as handle:
            document: dict[str, Any] = json.load(handle)
        return document
    claims: dict[str, dict[str, Any]] = {}
    for part in path.split(","):
        with open(part, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    entry = json.loads(line)
                    claims[entry["key"]] = entry
    order = [c.key for c in CLAIMS]
    ordered = sorted(
        claims.values(), key=lambda c: order.index(c["key"]) if c["key"] in order else len(order)
    )
    return {
        "profile": args.profile,
        "seed": args.seed,
        "seconds": sum(c["seconds"] for c in ordered),
        "claims": ordered,
        "environment": _environment(),
    }


def _environment() -> dict[str, str]:
    import platform

    import hypothesis
    import numpy

    return {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "numpy": numpy.__version__,
        "machine": platform.machine(),
    }


__all__ = ["add_arguments", "run"]
