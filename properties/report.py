"""The theorem report: run every claim of :data:`properties.claims.CLAIMS` under a profile.

For each claim, two Hypothesis runs with the same seed:

1. a **survey** over ``profile.max_examples`` drawn cases that never stops early: it counts
   the instances tried (in the claim's scope), the failing ones, and collects measurements
   (iteration counts against depth, commitment gaps, contraction ratios, ...);
2. if anything failed, a **shrinking** run that raises on the first failure, so that
   Hypothesis shrinks it to a minimal case. That case is saved as a FORMAT.md v1 instance
   file ``<claim>.json`` (plus ``<claim>.case.json`` holding the other drawn arguments and the
   violations) and printed.

The result is a :class:`Report` (frozen), rendered as a text table
(:func:`render_table`), JSON (:func:`report_to_json`) or the Markdown of docs/THEOREMS.md
(:func:`render_markdown`).
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import textwrap
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, note, seed
from hypothesis.errors import HypothesisException

from properties.claims import CLAIMS, Claim
from properties.profiles import Profile, get_profile
from properties.report_notes import FINDING_NOTES
from properties.results import PropertyResult
from theory.format import dump_json, instance_to_dict
from theory.model import PrincipalAgentMDP

#: The command that regenerates docs/THEOREMS.md (quoted in the document).
REGENERATE = (
    "pamdp theorems --profile thorough --seed 0 --markdown docs/THEOREMS.md --out tests/regressions"
)

#: A witness measurement (e.g. the commitment gap) counts only above this (float noise).
WITNESS_THRESHOLD = 1e-7


# ================================================================================ results
@dataclass(frozen=True)
class ClaimOutcome:
    """What the report found for one claim.

    Attributes
    ----------
    key, statement, paper_ref, definition, expected : copied from the :class:`Claim`.
    tried : instances in the claim's scope on which the property ran (survey).
    skipped : drawn instances outside its scope.
    failures : tried instances on which it failed.
    errors : tried instances on which the property raised an exception.
    counterexample : the shrunk failing instance as a FORMAT.md v1 document, or ``None``.
    counterexample_arguments : the other drawn arguments of that case (JSON-ready).
    violations : the violations on the shrunk case (or the exception).
    counterexample_path : where the instance file was written, if anywhere.
    summary : aggregated measurements (see :func:`summarise`).
    witness : for claims with a witness measurement (the commitment gap): the instance with
        the largest value, as a FORMAT.md v1 document.
    seconds : wall time of both runs.
    """

    key: str
    statement: str
    paper_ref: str
    definition: str
    expected: str
    tried: int
    skipped: int
    failures: int
    errors: int
    counterexample: dict[str, Any] | None = None
    counterexample_arguments: dict[str, Any] = field(default_factory=dict)
    violations: tuple[str, ...] = ()
    counterexample_path: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    witness: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return self.failures == 0 and self.errors == 0

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERROR"
        return "holds" if self.holds else "counterexample"

    @property
    def as_expected(self) -> bool:
        """False when a claim expected to hold fails, or a property raised. A known finding
        (``expected == "fails"``) that a small budget does not reproduce is not an error: its
        counterexample is pinned by a regression test."""
        if self.errors:
            return False
        if self.expected == "holds":
            return self.holds
        return True


@dataclass(frozen=True)
class Report:
    """Every claim's outcome and how the run was made."""

    profile: str
    seed: int
    outcomes: tuple[ClaimOutcome, ...]
    seconds: float
    environment: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    """Claims of the registry with no outcome (a partial or interrupted run)."""

    @property
    def ok(self) -> bool:
        """Every claim ran and every outcome is as recorded (a partial report is not ok)."""
        return not self.missing and all(o.as_expected for o in self.outcomes)

    @property
    def partial_text(self) -> str:
        """``"12 of 16 claims not run: …"`` for a partial report, else ``""``."""
        if not self.missing:
            return ""
        total = len(self.outcomes) + len(self.missing)
        return f"PARTIAL: {len(self.missing)} of {total} claims not run: {', '.join(self.missing)}"


# ============================================================================ serialising
def to_jsonable(value: Any) -> Any:
    """JSON-ready copy: arrays to lists, Fractions to ``"p/q"`` strings, models to FORMAT."""
    if isinstance(value, PrincipalAgentMDP):
        return instance_to_dict(value)
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else int(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def instance_json(model: PrincipalAgentMDP) -> str:
    """The model as a one-line FORMAT.md v1 document (what failing properties print)."""
    return dump_json(instance_to_dict(model))


def assert_holds(result: PropertyResult, model: PrincipalAgentMDP) -> None:
    """Raise :class:`AssertionError` if ``result`` failed, printing the instance as FORMAT.md
    v1 JSON (also attached as a Hypothesis note, so a shrunk example prints that way)."""
    if result.applicable and not result.holds:
        text = instance_json(model)
        note(f"FORMAT.md v1 instance: {text}")
        raise AssertionError(f"{result.explain()}\nFORMAT.md v1 instance: {text}")


#: Case arguments stored as nested lists that the properties take as float arrays.
ARRAY_ARGUMENTS = frozenset({"q1", "q2"})


def load_case(path: str | Path) -> tuple[Claim, dict[str, Any]]:
    """Read a saved counterexample (``<claim>.case.json`` beside its instance file) and
    return the claim with the keyword arguments that replay it: ``claim.check(**kwargs)``."""
    from properties.claims import claim as claim_named
    from theory.format import load_instance
    from theory.model import to_fraction

    case_path = Path(path)
    document = json.loads(case_path.read_text(encoding="utf-8"))
    found = claim_named(document["claim"])
    kwargs: dict[str, Any] = {"model": load_instance(case_path.parent / document["instance"])}
    for name, value in document.get("arguments", {}).items():
        if name in ARRAY_ARGUMENTS:
            value = np.asarray(value, dtype=np.float64)
        elif name == "factor":
            value = to_fraction(value)
        kwargs[name] = value
    return found, kwargs


# ============================================================================ measurements
def summarise(
    key: str, measurements: Sequence[Mapping[str, Any]], tol: float = 1e-7
) -> dict[str, Any]:
    """Aggregate per-instance measurements: min / mean / max of every numeric one, plus

    * ``iterations_by_depth`` (Theorem 3.3): for each horizon T, how many instances needed
      each number of rounds;
    * ``positive`` counts for gaps (commitment, observed information gain): instances where
      the measurement exceeds ``tol``.
    """
    out: dict[str, Any] = {}
    numeric: dict[str, list[float]] = defaultdict(list)
    for m in measurements:
        for name, value in m.items():
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                continue
            number = float(value)
            if math.isfinite(number):
                numeric[name].append(number)
    for name, values in sorted(numeric.items()):
        array = np.asarray(values)
        out[name] = {
            "min": float(array.min()),
            "mean": float(array.mean()),
            "max": float(array.max()),
            "n": len(values),
        }
        if name in ("gap", "information_gain"):
            out[name]["positive"] = int(np.sum(array > tol))
    if key == "theorem-3.3":
        table: dict[int, Counter[int]] = defaultdict(Counter)
        for m in measurements:
            if "depth" in m and "iterations" in m:
                table[int(m["depth"])][int(m["iterations"])] += 1
        out["iterations_by_depth"] = {
            str(d): dict(sorted(c.items())) for d, c in sorted(table.items())
        }
    if key.startswith("meta") or key.startswith("theorem-3.4-fixed"):
        counts = Counter(int(m["iterations"]) for m in measurements if "iterations" in m)
        out["iterations_histogram"] = dict(sorted(counts.items()))
    return out


# ================================================================================ running
def _case_arguments(case: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_jsonable(v) for k, v in case.items() if k != "model"}


def run_claim(
    claim: Claim,
    profile: Profile | str,
    *,
    seed_value: int = 0,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    **overrides: Any,
) -> ClaimOutcome:
    """Survey ``claim`` over the profile's instances, then shrink a failure (module docstring).

    Parameters
    ----------
    claim : the claim.
    profile : a :class:`~properties.profiles.Profile` or its name.
    seed_value : Hypothesis seed (ignored by derandomized profiles, which are reproducible).
    out_dir : where to write ``<claim>.json`` / ``<claim>.case.json`` for a counterexample
        (and ``<claim>.witness.json`` for a witness); nothing is written when ``None``.
    max_examples : override the profile's instance count.
    overrides : keyword arguments passed to the property (e.g. a planted ``solver=``).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    config = prof.settings(
        database=None, **({"max_examples": max_examples} if max_examples else {})
    )
    counts = Counter[str]()
    measurements: list[Mapping[str, Any]] = []
    witness: dict[str, Any] = {}
    started = time.perf_counter()

    @seed(seed_value)
    @config
    @given(claim.cases)
    def survey(case: dict[str, Any]) -> None:
        try:
            result = claim.run(case, **overrides)
        except Exception:  # a property must not raise: count it, shrink it below
            counts["errors"] += 1
            return
        if not result.applicable:
            counts["skipped"] += 1
            return
        counts["tried"] += 1
        measurements.append(result.measurements)
        if not result.holds:
            counts["failures"] += 1
        if claim.witness is not None:
            value = result.measurements.get(claim.witness)
            if (
                isinstance(value, float | int)
                and math.isfinite(value)
                and value > max(witness.get("value", 0.0), WITNESS_THRESHOLD)
            ):
                witness.update(value=float(value), model=case["model"])

    survey()
    shrunk: dict[str, Any] = {}
    if counts["failures"] or counts["errors"]:

        @seed(seed_value)
        @config
        @given(claim.cases)
        def shrink(case: dict[str, Any]) -> None:
            try:
                result = claim.run(case, **overrides)
            except Exception:
                shrunk.update(
                    case=case, violations=("property raised: " + traceback.format_exc(limit=3),)
                )
                raise
            if result.applicable and not result.holds:
                shrunk.update(case=case, violations=result.violations)
                note(f"FORMAT.md v1 instance: {instance_json(case['model'])}")
                raise AssertionError(result.explain())

        # the shrunk failure is recorded in ``shrunk``; the exception itself is not needed
        with contextlib.suppress(AssertionError, HypothesisException, Exception):
            shrink()
    counterexample = None
    path = None
    arguments: dict[str, Any] = {}
    violations: tuple[str, ...] = ()
    if "case" in shrunk:
        model: PrincipalAgentMDP = shrunk["case"]["model"]
        counterexample = instance_to_dict(model)
        arguments = _case_arguments(shrunk["case"])
        violations = tuple(shrunk["violations"])
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            instance_path = folder / f"{claim.key}.json"
            dump_json(counterexample, instance_path, indent=1)
            dump_json(
                {
                    "claim": claim.key,
                    "paper_ref": claim.paper_ref,
                    "instance": instance_path.name,
                    "arguments": arguments,
                    "violations": list(violations),
                    "profile": prof.name,
                    "seed": seed_value,
                },
                folder / f"{claim.key}.case.json",
                indent=1,
            )
            path = str(instance_path)
    witness_doc = None
    if "model" in witness:
        witness_doc = instance_to_dict(witness["model"])
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            dump_json(witness_doc, folder / f"{claim.key}.witness.json", indent=1)
    return ClaimOutcome(
        key=claim.key,
        statement=claim.statement,
        paper_ref=claim.paper_ref,
        definition=claim.definition,
        expected=claim.expected,
        tried=counts["tried"],
        skipped=counts["skipped"],
        failures=counts["failures"],
        errors=counts["errors"],
        counterexample=counterexample,
        counterexample_arguments=arguments,
        violations=violations,
        counterexample_path=path,
        summary=summarise(claim.key, measurements),
        witness=witness_doc,
        seconds=time.perf_counter() - started,
    )


def run_report(
    profile: Profile | str = "ci",
    *,
    seed_value: int = 0,
    claims: Iterable[Claim] | None = None,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    progress: Any = None,
) -> Report:
    """Run every claim (or ``claims``) and collect a :class:`Report`.

    ``progress`` is called with each :class:`ClaimOutcome` as it completes (e.g. to print).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    started = time.perf_counter()
    outcomes = []
    for claim in CLAIMS if claims is None else tuple(claims):
        outcome = run_claim(
            claim, prof, seed_value=seed_value, out_dir=out_dir, max_examples=max_examples
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    import hypothesis

    environment = {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    return Report(
        prof.name, seed_value, tuple(outcomes), time.perf_counter() - started, environment
    )


# ============================================================================== rendering
def _outcome_text(outcome: ClaimOutcome) -> str:
    if outcome.errors:
        return f"ERROR in {outcome.errors} instance(s)"
    if outcome.holds:
        return "holds"
    where = f" → {outcome.counterexample_path}" if outcome.counterexample_path else ""
    return f"counterexample ({outcome.failures}/{outcome.tried} instances fail){where}"


def _wrap_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> str:
    def line(cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, widths, strict=True)]
        height = max(len(w) for w in wrapped)
        return [
            " | ".join(
                (w[i] if i < len(w) else "").ljust(width)
                for w, width in zip(wrapped, widths, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    rule = "-+-".join("-" * w for w in widths)
    out = [*line(headers), rule]
    for row in rows:
        out += [*line(row), rule]
    return "\n".join(out)


def render_table(report: Report, *, show_instances: bool = True) -> str:
    """The report as a text table (claim, paper reference, definition, tried, outcome),
    followed by every counterexample as a FORMAT.md v1 instance."""
    rows = [
        [o.key, o.paper_ref, o.definition, str(o.tried), _outcome_text(o)] for o in report.outcomes
    ]
    text = [
        f"pamdp theorems — profile {report.profile}, seed {report.seed}, {report.seconds:.1f} s",
        "",
        _wrap_table(
            ["claim", "paper", "definition used", "tried", "outcome"], rows, [30, 18, 52, 6, 34]
        ),
    ]
    for o in report.outcomes:
        if o.counterexample is None:
            continue
        text += ["", f"== {o.key}: counterexample ({o.statement})"]
        text += [f"   {v}" for v in o.violations[:6]]
        if o.counterexample_arguments:
            text.append(f"   arguments: {json.dumps(o.counterexample_arguments)}")
        if show_instances:
            text.append(f"   FORMAT.md v1 instance: {dump_json(o.counterexample)}")
    unexpected = [o.key for o in report.outcomes if not o.as_expected]
    text.append("")
    if unexpected:
        text.append(f"UNEXPECTED outcomes: {', '.join(unexpected)}")
    if report.missing:
        text.append(report.partial_text)
    elif not unexpected:
        text.append("all outcomes as expected")
    return "\n".join(text)


def outcome_to_json(o: ClaimOutcome) -> dict[str, Any]:
    """One claim's outcome as a JSON-ready dictionary."""
    return {
        "key": o.key,
        "statement": o.statement,
        "paper_ref": o.paper_ref,
        "definition": o.definition,
        "expected": o.expected,
        "verdict": o.verdict,
        "tried": o.tried,
        "skipped": o.skipped,
        "failures": o.failures,
        "errors": o.errors,
        "counterexample": o.counterexample,
        "counterexample_arguments": o.counterexample_arguments,
        "violations": list(o.violations),
        "counterexample_path": o.counterexample_path,
        "summary": to_jsonable(o.summary),
        "witness": o.witness,
        "seconds": o.seconds,
    }


def report_to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    return {
        "profile": report.profile,
        "seed": report.seed,
        "seconds": report.seconds,
        "environment": report.environment,
        "ok": report.ok,
        "claims": [outcome_to_json(o) for o in report.outcomes],
        "missing": list(report.missing),
    }


def report_from_json(data: Mapping[str, Any]) -> Report:
    """Rebuild a :class:`Report` from :func:`report_to_json` output (to re-render it, e.g.
    docs/THEOREMS.md, without re-running)."""
    outcomes = tuple(
        ClaimOutcome(
            key=c["key"],
            statement=c["statement"],
            paper_ref=c["paper_ref"],
            definition=c["definition"],
            expected=c["expected"],
            tried=c["tried"],
            skipped=c["skipped"],
            failures=c["failures"],
            errors=c["errors"],
            counterexample=c["counterexample"],
            counterexample_arguments=c["counterexample_arguments"],
            violations=tuple(c["violations"]),
            counterexample_path=c["counterexample_path"],
            summary=c["summary"],
            witness=c["witness"],
            seconds=c["seconds"],
        )
        for c in data["claims"]
    )
    return Report(
        data["profile"],
        data["seed"],
        outcomes,
        data["seconds"],
        dict(data.get("environment", {})),
        tuple(data.get("missing", ())),
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    report: Report, *, notes: Mapping[str, str] | None = None, preamble: str = ""
) -> str:
    """docs/THEOREMS.md: how to regenerate, the table, then every finding in detail.

    ``notes`` maps a claim key to an explanatory paragraph (the reading of the finding);
    ``preamble`` is inserted after the regeneration instructions (e.g. how the run was split).
    """
    notes = notes or {}
    lines = [
        "# Theorem report",
        "",
        "Generated by `properties/report.py` from a real run; do not edit by hand. Regenerate with",
        "",
        "```",
        REGENERATE,
        "```",
        "",
        "The thorough profile takes about 67 minutes of one core (38 minutes split over two "
        "processes on a 2-core machine, as below). Each finished claim is "
        "journalled to `<out>/report.jsonl`; an interrupted or split run is re-rendered with "
        "`pamdp theorems --from-json DIR1/report.jsonl,DIR2/report.jsonl --markdown "
        "docs/THEOREMS.md`.",
        "",
        *([preamble, ""] if preamble else []),
        f"Profile **{report.profile}** (seed {report.seed}), "
        f"{report.seconds / 60:.1f} minutes; "
        + ", ".join(f"{k} {v}" for k, v in report.environment.items())
        + ".",
        *([f"**{report.partial_text}.**", ""] if report.missing else []),
        "Each claim is a property in `properties/claims/` (its docstring states the claim, "
        "the paper reference and the exact definition); *tried* counts the generated instances "
        "in the claim's scope. A counterexample is the instance Hypothesis shrank the first "
        "failure to; it is saved under `tests/regressions/` and pinned by a regression test.",
        "",
        "| claim | paper | definition used | tried | outcome |",
        "|---|---|---|---:|---|",
    ]
    for o in report.outcomes:
        verdict = (
            "**holds**"
            if o.holds
            else f"**counterexample** ({o.failures} of {o.tried} fail)"
            if not o.errors
            else f"**error** ({o.errors})"
        )
        lines.append(
            f"| `{o.key}`: {_md_cell(o.statement)} | {_md_cell(o.paper_ref)} | "
            f"{_md_cell(o.definition)} | {o.tried:,} | {verdict} |"
        )
    lines += ["", "## Findings and measurements", ""]
    for o in report.outcomes:
        lines += [f"### `{o.key}` — {o.verdict}", ""]
        if o.key in notes:
            lines += [notes[o.key], ""]
        if o.counterexample is not None:
            lines += ["Violations on the shrunk instance:", ""]
            lines += [f"- {_md_cell(v)}" for v in o.violations[:8]]
            if o.counterexample_arguments:
                lines += ["", f"Other drawn arguments: `{json.dumps(o.counterexample_arguments)}`"]
            lines += [
                "",
                "Minimal instance (FORMAT.md v1"
                + (f", `tests/regressions/{o.key}.json`" if o.counterexample_path else "")
                + "):",
                "",
                "```json",
                dump_json(o.counterexample, indent=1),
                "```",
                "",
            ]
        summary = {k: v for k, v in o.summary.items()}
        if "iterations_by_depth" in summary:
            table = summary.pop("iterations_by_depth")
            lines += [
                "Rounds of the meta-algorithm against the horizon T (instances):",
                "",
                "| T | bound T + 1 | rounds: instances |",
                "|---:|---:|---|",
            ]
            for depth, counter in table.items():
                cells = ", ".join(f"{k}: {v:,}" for k, v in counter.items())
                lines.append(f"| {depth} | {int(depth) + 1} | {cells} |")
            lines.append("")
        if summary:
            lines += [
                "Measurements: "
                + "; ".join(f"{name} {_summary_text(value)}" for name, value in summary.items()),
                "",
            ]
        if o.witness is not None:
            lines += [
                f"Largest-gap witness (FORMAT.md v1, `tests/regressions/{o.key}.witness.json`):",
                "",
                "```json",
                dump_json(o.witness, indent=1),
                "```",
                "",
            ]
        lines.append(f"Run time: {o.seconds:.0f} s.")
        lines.append("")
    return "\n".join(lines)


def _summary_text(value: Any) -> str:
    if isinstance(value, dict) and {"min", "max", "mean"} <= value.keys():
        text = f"min {value['min']:.4g}, mean {value['mean']:.4g}, max {value['max']:.4g}"
        if "positive" in value:
            text += f", > 0 in {value['positive']:,} of {value['n']:,}"
        return f"({text})"
    return json.dumps(to_jsonable(value))


__all__ = [
    "FINDING_NOTES",
    "REGENERATE",
    "ClaimOutcome",
    "Report",
    "assert_holds",
    "instance_json",
    "load_case",
    "outcome_to_json",
    "render_markdown",
    "render_table",
    "report_from_json",
    "report_to_json",
    "run_claim",
    "run_report",
    "summarise",
    "to_jsonable",
]
