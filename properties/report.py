"""The theorem report: run every claim of :data:`properties.claims.CLAIMS` under a profile.

For each claim, two Hypothesis runs with the same seed:

1. a **survey** over ``profile.max_examples`` drawn cases that never stops early: it counts
   the instances tried (in the claim's scope), the failing ones, and collects measurements
   (iteration counts against depth, commitment gaps, contraction ratios, ...);
2. if anything failed, a **shrinking** run that raises on the first failure, so that
   Hypothesis shrinks it to a minimal case. That case is saved as a FORMAT.md v1 instance
   file ``<claim>.json`` (plus ``<claim>.case.json`` holding the other drawn arguments and the
   violations) and printed.

A run is cut into shards (:func:`claim_shards`: one per claim, or chunks of a claim's
instances, each with its own derived seed), computed by :func:`solvers.distributed.run_shards`
serially or on Ray workers (:func:`run_theorem_shard`), and merged claim by claim
(:func:`merge_shards`); docs/DISTRIBUTED.md defines both and what stays identical.

The result is a :class:`Report` (frozen), rendered as a text table
(:func:`render_table`), JSON (:func:`report_to_json`) or the Markdown of docs/THEOREMS.md
(:func:`render_markdown`); the two renderers live in :mod:`properties.report_render`.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
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

# the rendering (text table, docs/THEOREMS.md) lives in properties/report_render.py;
# re-exported here so that imports keep working
from properties.report_render import REGENERATE, render_markdown, render_table
from properties.results import PropertyResult
from solvers.distributed import Engine, Journal, Shard, derive_seed, run_shards
from theory.format import dump_json, instance_to_dict
from theory.model import PrincipalAgentMDP

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
#: Salt of :func:`shard_seed` (changing it changes every chunked run).
SHARD_SEED_SALT = "pamdp/theorem-shard@1"


def _case_arguments(case: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_jsonable(v) for k, v in case.items() if k != "model"}


@contextlib.contextmanager
def fixed_local_constants() -> Iterator[None]:
    """Run Hypothesis with an empty pool of harvested *local* constants.

    Hypothesis (6.1xx) occasionally draws numbers found as literals in the source of the local
    modules loaded in the process (``hypothesis.internal.conjecture.providers``). That pool
    depends on which modules happen to be imported (a Ray worker, a pytest run and the
    ``pamdp`` command all differ) and on every literal anywhere in the tree, so the same seed
    would draw different instances in different processes. Every theorem shard runs inside this
    context, which pins the pool to empty (Hypothesis' own global constants still apply): a
    shard's instances then depend only on its claim, seed, size and the Hypothesis version.
    Without the private hook (another Hypothesis version) it does nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers

        getter = providers._get_local_constants
        empty = type(providers._local_constants)()
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # pragma: no cover - another Hypothesis
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()


def shard_seed(seed_value: int, key: str, index: int) -> int:
    """The Hypothesis seed of chunk ``index`` of claim ``key`` in a run seeded ``seed_value``:
    the first 8 bytes of SHA-256(``"{SHARD_SEED_SALT}:{seed_value}:{key}:{index}"``), as an
    integer below 2**63."""
    return derive_seed(SHARD_SEED_SALT, seed_value, key, index)


def claim_shards(
    claims: Iterable[Claim],
    profile: Profile | str,
    *,
    seed_value: int = 0,
    max_examples: int | None = None,
    chunk: int | None = None,
) -> list[Shard]:
    """The shards of a theorem run, in report order (claim by claim, chunk by chunk).

    A claim's ``N`` instances (``max_examples``, default the profile's) form one shard when
    ``chunk`` is ``None`` or ≥ ``N``: one Hypothesis run exactly as an unsharded report makes
    it (seed ``seed_value``, the profile's ``derandomize``). Otherwise they form ``ceil(N /
    chunk)`` shards ``key#i/n`` of ``chunk`` instances each (the last one the remainder), chunk
    ``i`` a Hypothesis run of its own seeded by :func:`shard_seed` (``derandomize`` off, since a
    derandomized run ignores the seed and every chunk would draw the same instances).
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    total = max_examples or prof.max_examples
    count = 1 if chunk is None or chunk >= total else math.ceil(total / chunk)
    shards = []
    for claim in claims:
        for index in range(count):
            single = count == 1
            size = total if single else min(chunk or total, total - index * (chunk or total))
            shards.append(
                Shard(
                    f"{claim.key}#{index + 1}/{count}",
                    {
                        "claim": claim.key,
                        "profile": prof.name,
                        "index": index,
                        "count": count,
                        "max_examples": size,
                        "seed": seed_value if single else shard_seed(seed_value, claim.key, index),
                        "derandomize": prof.derandomize if single else False,
                    },
                )
            )
    return shards


def _numeric(measurements: Mapping[str, Any]) -> dict[str, int | float]:
    """The finite numeric measurements (all :func:`summarise` reads), JSON-ready."""
    out: dict[str, int | float] = {}
    for name, value in measurements.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            continue
        number = value.item() if isinstance(value, np.number) else value
        if math.isfinite(number):
            out[str(name)] = number
    return out


def _survey_chunk(
    claim: Claim, config: Any, seed_value: int, overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """One Hypothesis survey of ``claim`` under ``config`` (then a shrinking run if anything
    failed), as a JSON-ready shard result: counts, numeric measurements, the shrunk
    counterexample and the witness (module docstring)."""
    counts = Counter[str]()
    measurements: list[dict[str, int | float]] = []
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
        measurements.append(_numeric(result.measurements))
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

    shrunk: dict[str, Any] = {}

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

    with fixed_local_constants():
        survey()
        if counts["failures"] or counts["errors"]:
            # the shrunk failure is recorded in ``shrunk``; the exception itself is not needed
            with contextlib.suppress(AssertionError, HypothesisException, Exception):
                shrink()
    found = None
    if "case" in shrunk:
        found = {
            "instance": instance_to_dict(shrunk["case"]["model"]),
            "arguments": _case_arguments(shrunk["case"]),
            "violations": list(shrunk["violations"]),
        }
    return to_jsonable(
        {
            "tried": counts["tried"],
            "skipped": counts["skipped"],
            "failures": counts["failures"],
            "errors": counts["errors"],
            "measurements": measurements,
            "counterexample": found,
            "witness": (
                {"value": witness["value"], "instance": instance_to_dict(witness["model"])}
                if "model" in witness
                else None
            ),
            "seconds": time.perf_counter() - started,
        }
    )


def _chunk_settings(prof: Profile, max_examples: int, derandomize: bool) -> Any:
    return prof.settings(database=None, max_examples=max_examples, derandomize=derandomize)


def run_theorem_shard(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Compute one shard of :func:`claim_shards` (the function Ray workers run): its claim's
    survey over ``max_examples`` instances with its own seed. Writes nothing."""
    from properties.claims import claim as claim_named

    prof = get_profile(str(arguments["profile"]))
    config = _chunk_settings(prof, int(arguments["max_examples"]), bool(arguments["derandomize"]))
    return _survey_chunk(claim_named(str(arguments["claim"])), config, int(arguments["seed"]), {})


def merge_shards(
    claim: Claim,
    shards: Sequence[Shard],
    results: Sequence[Mapping[str, Any]],
    *,
    out_dir: str | Path | None = None,
    profile_name: str = "",
    seed_value: int = 0,
) -> ClaimOutcome:
    """One :class:`ClaimOutcome` from the results of a claim's shards, in shard order.

    Counts are summed; the summary is :func:`summarise` of every shard's measurements in shard
    order; the counterexample is the first failing shard's (its own shrunk case); the witness
    is the largest value, the first shard's on ties; ``seconds`` is the shards' total. The
    counterexample (``<claim>.json``, ``<claim>.case.json``) and witness
    (``<claim>.witness.json``) files are written to ``out_dir`` (nothing when ``None``).
    """
    counts = {
        name: sum(int(r[name]) for r in results)
        for name in ("tried", "skipped", "failures", "errors")
    }
    found = next((r["counterexample"] for r in results if r["counterexample"] is not None), None)
    origin = next((s for s, r in zip(shards, results, strict=True) if r["counterexample"]), None)
    best: Mapping[str, Any] | None = None
    for r in results:
        w = r["witness"]
        if w is not None and (best is None or w["value"] > best["value"]):
            best = w
    path = None
    if found is not None and out_dir is not None:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        instance_path = folder / f"{claim.key}.json"
        dump_json(found["instance"], instance_path, indent=1)
        case = {
            "claim": claim.key,
            "paper_ref": claim.paper_ref,
            "instance": instance_path.name,
            "arguments": found["arguments"],
            "violations": found["violations"],
            "profile": profile_name,
            "seed": seed_value,
        }
        if origin is not None and origin.arguments.get("count", 1) != 1:
            case["shard"] = {k: origin.arguments[k] for k in ("index", "count", "seed")}
        dump_json(case, folder / f"{claim.key}.case.json", indent=1)
        path = str(instance_path)
    if best is not None and out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        dump_json(best["instance"], Path(out_dir) / f"{claim.key}.witness.json", indent=1)
    return ClaimOutcome(
        key=claim.key,
        statement=claim.statement,
        paper_ref=claim.paper_ref,
        definition=claim.definition,
        expected=claim.expected,
        **counts,
        counterexample=None if found is None else found["instance"],
        counterexample_arguments={} if found is None else dict(found["arguments"]),
        violations=() if found is None else tuple(found["violations"]),
        counterexample_path=path,
        summary=summarise(claim.key, [m for r in results for m in r["measurements"]]),
        witness=None if best is None else best["instance"],
        seconds=float(sum(r["seconds"] for r in results)),
    )


def run_claim(
    claim: Claim,
    profile: Profile | str,
    *,
    seed_value: int = 0,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    **overrides: Any,
) -> ClaimOutcome:
    """Survey ``claim`` over the profile's instances, then shrink a failure (module docstring):
    one unchunked shard (:func:`claim_shards`), in this process.

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
    (shard,) = claim_shards([claim], prof, seed_value=seed_value, max_examples=max_examples)
    config = _chunk_settings(
        prof, int(shard.arguments["max_examples"]), bool(shard.arguments["derandomize"])
    )
    result = json.loads(json.dumps(_survey_chunk(claim, config, seed_value, overrides)))
    return merge_shards(
        claim, [shard], [result], out_dir=out_dir, profile_name=prof.name, seed_value=seed_value
    )


def run_report(
    profile: Profile | str = "ci",
    *,
    seed_value: int = 0,
    claims: Iterable[Claim] | None = None,
    out_dir: str | Path | None = None,
    max_examples: int | None = None,
    progress: Any = None,
    chunk: int | None = None,
    engine: Engine | None = None,
    journal: Journal | None = None,
) -> Report:
    """Run every claim (or ``claims``) and collect a :class:`Report`.

    The claims are cut into :func:`claim_shards` (``chunk`` instances each; default one shard
    per claim) and computed by :func:`solvers.distributed.run_shards` on ``engine`` (serial by
    default, or Ray workers), each finished shard journalled in ``journal``; a claim's outcome
    is :func:`merge_shards` of its shards. The report is therefore the same on any engine.
    ``progress`` is called with each :class:`ClaimOutcome` as its last shard completes.
    """
    prof = get_profile(profile) if isinstance(profile, str) else profile
    selected = tuple(CLAIMS if claims is None else claims)
    shards = claim_shards(
        selected, prof, seed_value=seed_value, max_examples=max_examples, chunk=chunk
    )
    started = time.perf_counter()
    by_claim: dict[str, list[Shard]] = defaultdict(list)
    for shard in shards:
        by_claim[str(shard.arguments["claim"])].append(shard)
    finished: dict[str, Any] = {}
    outcomes: dict[str, ClaimOutcome] = {}

    def on_result(shard: Shard, result: Any, resumed: bool) -> None:
        finished[shard.key] = result
        key = str(shard.arguments["claim"])
        mine = by_claim[key]
        if key not in outcomes and all(s.key in finished for s in mine):
            outcomes[key] = merge_shards(
                next(c for c in selected if c.key == key),
                mine,
                [finished[s.key] for s in mine],
                out_dir=out_dir,
                profile_name=prof.name,
                seed_value=seed_value,
            )
            if progress is not None:
                progress(outcomes[key])

    run_shards(run_theorem_shard, shards, engine=engine, journal=journal, on_result=on_result)
    import hypothesis

    environment = {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    return Report(
        prof.name,
        seed_value,
        tuple(outcomes[c.key] for c in selected),
        time.perf_counter() - started,
        environment,
    )


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


__all__ = [
    "FINDING_NOTES",
    "REGENERATE",
    "SHARD_SEED_SALT",
    "ClaimOutcome",
    "Report",
    "assert_holds",
    "claim_shards",
    "fixed_local_constants",
    "instance_json",
    "load_case",
    "merge_shards",
    "outcome_to_json",
    "render_markdown",
    "render_table",
    "report_from_json",
    "report_to_json",
    "run_claim",
    "run_report",
    "run_theorem_shard",
    "shard_seed",
    "summarise",
    "to_jsonable",
]
