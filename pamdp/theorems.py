"""``pamdp theorems``: run every theorem property and print the report (issue 3).

    pamdp theorems [--profile dev|ci|thorough] [--seed S] [--json] [--out DIR]
                   [--claim KEY ...] [--markdown PATH] [--max-examples N]
                   [--chunk N] [--workers N | --address HOST:PORT] [--resume | --overwrite]

Prints a table (claim, paper reference, definition used, instances tried, holds or
counterexample) and every counterexample as a FORMAT.md v1 instance, saved under ``--out``.
Exit status: 0 when every outcome is as recorded in :data:`properties.claims.CLAIMS`
(claims expected to hold hold, known findings still fail, open questions either way), 1
otherwise (including a property that raised, and a partial report), 2 for bad arguments, 130
when interrupted.

The run is cut into shards (:func:`properties.report.claim_shards`: one per claim, or
``--chunk`` instances each, every chunk with its own derived Hypothesis seed) computed
serially, on ``--workers N`` local Ray workers or on the Ray cluster at ``--address``
(docs/DISTRIBUTED.md); the report is the same on every engine. Every finished shard is
journalled in ``DIR/shards.jsonl`` and every finished claim in ``DIR/report.jsonl``;
``--resume`` reruns only the shards missing from the shard journal.

Imports are deferred to :func:`run`, so building the ``pamdp`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pamdp.common import InvalidInput, add_shard_arguments, check_output, integer_arg, shard_engine

#: Default folder for counterexample instance files.
DEFAULT_OUT = "runs/theorems"
#: The shard journal's file name inside ``--out`` (:class:`solvers.distributed.Journal`).
SHARD_JOURNAL = "shards.jsonl"


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
        type=integer_arg(minimum=0, maximum=2**63),
        default=0,
        help="Hypothesis seed (the ci profile is derandomized)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of a table"
    )
    parser.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
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
        type=integer_arg(minimum=1, maximum=10**7),
        default=None,
        metavar="N",
        help="override the profile's instances per claim",
    )
    add_shard_arguments(
        parser,
        chunk_help="cut each claim into shards of N instances, each with its own derived "
        "Hypothesis seed; None: one shard per claim, the unsharded run",
        resume_help="continue the run journalled in --out: skip the shards already in "
        "DIR/shards.jsonl (the same run: same claims, profile, seed, --max-examples, --chunk)",
        overwrite_help="start afresh in an --out folder that already holds a journal",
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
    from properties.claims import CLAIMS, claim
    from properties.report import (
        FINDING_NOTES,
        ClaimOutcome,
        claim_shards,
        outcome_to_json,
        render_markdown,
        render_table,
        report_from_json,
        report_to_json,
        run_report,
    )
    from theory.atomic import atomic_write_text

    check_output(args.markdown)
    if args.resume and args.overwrite:
        raise InvalidInput("--resume and --overwrite exclude each other")
    if args.from_json:
        saved = report_from_json(_read_saved(args.from_json, args))
        print(json.dumps(report_to_json(saved), indent=1) if args.json else render_table(saved))
        if args.markdown:
            atomic_write_text(
                args.markdown, render_markdown(saved, notes=FINDING_NOTES, preamble=args.preamble)
            )
        return 0 if saved.ok else 1

    try:
        selected = [claim(k) for k in args.claim] if args.claim else list(CLAIMS)
    except KeyError as error:
        raise InvalidInput(str(error.args[0])) from None

    from solvers.distributed import DistributedError, Journal

    engine = shard_engine(args)
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"--out {args.out}: cannot create the folder ({error})") from None
    journal = out_dir / "report.jsonl"
    shard_journal = out_dir / SHARD_JOURNAL
    check_output(str(journal))
    check_output(str(shard_journal))
    held = [p for p in (shard_journal, journal) if p.exists() and p.stat().st_size]
    if held and not (args.resume or args.overwrite):
        raise InvalidInput(
            f"{held[0]} already holds a run; pass --resume to run only the missing "
            "shards, or --overwrite to start again"
        )
    if args.resume and journal in held and shard_journal not in held:
        raise InvalidInput(
            f"{journal} was written without a shard journal ({shard_journal.name}, an earlier "
            "pamdp): it cannot be resumed; render it with --from-json, or start again with "
            "--overwrite"
        )
    shards = claim_shards(
        selected,
        args.profile,
        seed_value=args.seed,
        max_examples=args.max_examples,
        chunk=args.chunk,
    )
    description = {
        "command": "pamdp theorems",
        "profile": args.profile,
        "seed": args.seed,
        "max_examples": args.max_examples,
        "chunk": args.chunk,
        "claims": [c.key for c in selected],
    }
    try:
        shard_log = Journal.open(shard_journal, description, shards, resume=args.resume)
    except DistributedError as error:
        raise InvalidInput(str(error)) from None
    atomic_write_text(journal, "")  # rebuilt claim by claim (resumed claims first)
    if args.resume:
        print(
            f"pamdp theorems: resuming {shard_journal}: {len(shard_log.done)} of "
            f"{len(shards)} shard(s) done",
            file=sys.stderr,
        )
    print(
        f"pamdp theorems: {len(shards)} shard(s) of {len(selected)} claim(s), {engine.describe()}",
        file=sys.stderr,
    )

    def progress(outcome: ClaimOutcome) -> None:
        # to stderr, so --json output stays clean; and journalled, so that an interrupted
        # run keeps every finished claim (--from-json reads the journal)
        print(
            f"  {outcome.key}: {outcome.verdict} ({outcome.tried} instances, "
            f"{outcome.seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        with journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(outcome_to_json(outcome)) + "\n")
            handle.flush()

    try:
        report = run_report(
            args.profile,
            seed_value=args.seed,
            claims=selected,
            out_dir=args.out,
            max_examples=args.max_examples,
            progress=progress,
            chunk=args.chunk,
            engine=engine,
            journal=shard_log,
        )
    except KeyboardInterrupt:
        print(
            f"pamdp theorems: interrupted; {len(shard_log.done)} of {len(shards)} shard(s) "
            f"are journalled in {shard_journal}: rerun with --resume to finish",
            file=sys.stderr,
        )
        raise
    except DistributedError as error:
        raise InvalidInput(str(error)) from None
    if args.json:
        print(json.dumps(report_to_json(report), indent=1))
    else:
        print(render_table(report))
    if args.markdown:
        atomic_write_text(
            args.markdown, render_markdown(report, notes=FINDING_NOTES, preamble=args.preamble)
        )
    return 0 if report.ok else 1


def _journal_entries(path: str) -> dict[str, dict[str, Any]]:
    """The claims of journals (comma-separated paths; later lines replace earlier ones)."""
    claims: dict[str, dict[str, Any]] = {}
    for part in path.split(","):
        try:
            with open(part, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        claims[str(entry["key"])] = entry
                    except (ValueError, KeyError, TypeError):
                        # a line cut by an interrupted write: that claim simply reruns
                        print(
                            f"pamdp theorems: {part}:{number}: unreadable journal line skipped",
                            file=sys.stderr,
                        )
        except OSError as error:
            raise InvalidInput(f"cannot read the journal {part}: {error}") from None
    return claims


def _read_saved(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """A saved report: a ``--json`` document, or journals (``report.jsonl``, one claim per
    line; several paths joined by commas, later lines replacing earlier ones of the same
    claim, in the order of :data:`properties.claims.CLAIMS`)."""
    from properties.claims import CLAIMS

    if not path.endswith(".jsonl"):
        try:
            with open(path, encoding="utf-8") as handle:
                document: dict[str, Any] = json.load(handle)
        except (OSError, ValueError) as error:
            raise InvalidInput(f"--from-json {path}: {error}") from None
        return document
    claims = _journal_entries(path)
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
        "missing": [key for key in order if key not in claims],
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
