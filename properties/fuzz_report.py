"""Failure classes and the fuzzing report (issue 12): used by :mod:`properties.fuzz`.

:class:`Attempt` is the verdict on one instance, :func:`signature_of` the message signature
that, with the kind, defines a failure class, :class:`FailureClass` one class with its count,
first and minimal instance, :class:`FuzzReport` the run (text and the ``pamdp/fuzz-report@1``
document), and :func:`save_run` writes a run into a fresh folder, atomically.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from properties.fuzz_shrink import size_text
from properties.fuzz_solvers import CommandSolver, FunctionSolver, Solver, WorkerSolver
from properties.verify import VerificationReport, parse_solution, verify_solution
from theory.atomic import atomic_write_text
from theory.format import instance_from_dict, instance_to_dict, loads_json
from theory.model import PrincipalAgentMDP, to_fraction
from theory.spe import VIOLATION_KINDS
from theory.ties import DEFAULT_TIES, Ties

__all__ = [
    "CRASH",
    "FAILURE_KINDS",
    "INVALID_OUTPUT",
    "REPORT_FORMAT",
    "TIMEOUT",
    "UNCHECKED",
    "UNSUPPORTED",
    "Attempt",
    "FailureClass",
    "FuzzReport",
    "save_run",
    "signature_of",
    "verify_answer",
]

CRASH, TIMEOUT, INVALID_OUTPUT = "crash", "timeout", "invalid_output"
#: Every failure kind: how the answer failed, then the violation kinds of theory.spe.
FAILURE_KINDS: tuple[str, ...] = (CRASH, TIMEOUT, INVALID_OUTPUT, *VIOLATION_KINDS)
#: An answer saying the instance is outside the solver's scope (not a failure).
UNSUPPORTED = "unsupported"
#: A discounted instance where the answer is not an SPE but pamdp finds none either.
UNCHECKED = "unchecked"
REPORT_FORMAT = "pamdp/fuzz-report@1"


# -------------------------------------------------------------------------- one attempt
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:/\d+)?")
_PATH = re.compile(r"(?:/[\w.+-]+)+/?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_EXCEPTION_LINE = re.compile(r"^\s*[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*$")


def signature_of(kind: str, message: str) -> str:
    """The message signature of a failure (module docstring): what two failures of one class
    share. Violation kinds and timeouts: the kind itself. Otherwise the exception line of the
    message (the last line naming an ``...Error``/``...Exception``, else the first line),
    with paths, quoted values and numbers replaced by ``PATH``, ``'…'`` and ``N``, prefixed by
    ``exit status K`` when a program exited."""
    if kind in VIOLATION_KINDS or kind == TIMEOUT:
        return kind
    lines = [line for line in message.strip().splitlines() if line.strip()] or [""]
    exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
    line = exceptions[-1] if exceptions else lines[0]
    prefix = ""
    status = re.match(r"exit status (-?\d+)", lines[0])
    if status:
        prefix = f"exit status {status.group(1)}"
        line = line.split(":", 1)[1] if line is lines[0] and ":" in line else line
        if line is lines[0] or line.startswith("exit status"):
            line = ""
    line = _PATH.sub("PATH", line.strip())
    line = _QUOTED.sub("'…'", line)
    line = _NUMBER.sub("N", line)
    line = " ".join(line.split())[:160]
    return " | ".join(part for part in (prefix, line) if part) or kind


@dataclass(frozen=True)
class Attempt:
    """The verdict on one instance.

    Attributes
    ----------
    kind : ``"ok"``, ``"unsupported"``, ``"unchecked"`` or one of :data:`FAILURE_KINDS`.
    message : what went wrong (the reason for ``unsupported``; empty when ok).
    raw_output : the solver's answer as it came (text or object), None if it crashed.
    solution : the parsed solution document (a dict, exact numbers), None if there is none.
    report : the verification report, None unless the solution was well-formed.
    seconds : time taken by the solver.
    signature : the message signature (:func:`signature_of`).
    """

    kind: str
    message: str = ""
    raw_output: Any = None
    solution: dict[str, Any] | None = None
    report: VerificationReport | None = None
    seconds: float = 0.0
    signature: str = ""

    @property
    def failed(self) -> bool:
        return self.kind not in ("ok", UNCHECKED, UNSUPPORTED)

    @property
    def key(self) -> tuple[str, str]:
        """The failure class: ``(kind, signature)``."""
        return self.kind, self.signature


def verify_answer(model: PrincipalAgentMDP, data: Any, ties: Ties) -> VerificationReport:
    """The exact verdict on a solver's answer ``data`` (a parsed solution document): THE
    check of :func:`properties.fuzz.attempt`, and what :meth:`FailureClass.from_dict` repeats
    to rebuild an attempt's report. Raises :class:`theory.format.SolutionError` when ``data``
    is not a FORMAT.md v1 solution of ``model``."""
    parsed = parse_solution(data, model)
    return verify_solution(model, parsed, ties=ties, reference=False, allow_name_mismatch=True)


def _attempt_to_dict(result: Attempt) -> dict[str, Any]:
    """Everything of an attempt, JSON-ready (:meth:`FailureClass.to_dict`). The raw answer is
    kept as it came (``{"text": ...}``) or as plain JSON (``{"json": ...}``, an object a Python
    function returned); the parsed solution and the verification report are rebuilt from it
    (both are functions of the answer, the instance and the ties)."""
    raw = result.raw_output
    if isinstance(raw, bytes):  # pragma: no cover - attempt() stores text
        raw = raw.decode("utf-8", "replace")
    return {
        "kind": result.kind,
        "message": result.message,
        "signature": result.signature,
        "seconds": result.seconds,
        "raw_output": None
        if raw is None
        else {"text": raw}
        if isinstance(raw, str)
        else {"json": _raw_json(raw)},
        "has_solution": result.solution is not None,
        "ties": None if result.report is None else result.report.ties.to_dict(),
        "report_seconds": None if result.report is None else result.report.seconds,
    }


def _attempt_from_dict(data: dict[str, Any], model: PrincipalAgentMDP) -> Attempt:
    """The inverse of :func:`_attempt_to_dict` (on the instance ``model`` it was made on)."""
    stored = data["raw_output"]
    raw: Any = None if stored is None else stored["text"] if "text" in stored else stored["json"]
    solution = None
    if data["has_solution"]:
        solution = loads_json(raw) if isinstance(raw, str) else raw
    report = None
    if data["ties"] is not None:
        report = replace(
            verify_answer(model, solution, Ties(**data["ties"])),
            seconds=float(data["report_seconds"]),
        )
    return Attempt(
        kind=data["kind"],
        message=data["message"],
        raw_output=raw,
        solution=solution,
        report=report,
        seconds=float(data["seconds"]),
        signature=data["signature"],
    )


# ---------------------------------------------------------------------------- classes
def _cell(value: Fraction | None) -> str:
    if value is None:
        return "—"
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{value.numerator}/{value.denominator}"
    return text if len(text) <= 10 else f"{float(value):.6g}"


def _contract_cell(contract: Any) -> str:
    if not isinstance(contract, list):
        return "—"
    parts = []
    for x in contract:
        try:
            parts.append(_cell(to_fraction(x)))
        except (TypeError, ValueError, ZeroDivisionError):
            parts.append("?")
    return "(" + ", ".join(parts) + ")"


def _raw_json(raw: Any) -> Any:
    """The solver's answer as plain JSON (its own numbers: floats stay floats), or its text."""
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return json.loads(json.dumps(raw, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else value.numerator
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(frozen=True)
class FailureClass:
    """One class of failures: kind, signature, how often, the first and the minimal instance.

    Attributes
    ----------
    kind, signature : the class (:func:`signature_of`).
    count : instances of the search that failed this way.
    first_seen : the search's instance number (1-based) where the class first appeared.
    first_model, first_message : that first, unshrunk instance and its message.
    model : the minimal instance; ``attempt`` the solver's attempt on it.
    right_solution, right_method : pamdp's solution of the minimal instance and how.
    shrink_complete : False if the shrink budget ran out first.
    directory : where :func:`save_run` wrote the class's files (None if not saved).
    recheck : shell commands that reproduce the verdicts from the saved files.
    """

    kind: str
    signature: str
    count: int
    first_seen: int
    first_model: PrincipalAgentMDP
    first_message: str
    model: PrincipalAgentMDP
    attempt: Attempt
    right_solution: dict[str, Any]
    right_method: str
    shrink_complete: bool = True
    directory: Path | None = None
    recheck: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """The message on the minimal instance."""
        return self.attempt.message

    @property
    def size(self) -> tuple[int, int, int]:
        """``(|S|, |A|, |O|)`` of the minimal instance."""
        return self.model.n_states, self.model.n_actions, self.model.n_outcomes

    @property
    def instance(self) -> dict[str, Any]:
        return instance_to_dict(self.model)

    def side_by_side(self) -> str:
        """Per state: the solver's policy and the true values it earns, next to pamdp's."""
        model, wrong, report = self.model, self.attempt.solution, self.attempt.report
        right = self.right_solution["policy"]
        lines = [
            f"  {'state':<8}| {'wrong: action':<13} {'contract':<22} {'true V^p':>10} "
            f"| {'right: action':<13} {'contract':<22} {'V^p':>10}"
        ]
        for s in range(model.n_states):
            w_action, w_contract, w_value = "—", "—", "—"
            policy = wrong.get("policy") if isinstance(wrong, dict) else None
            if isinstance(policy, list) and s < len(policy) and isinstance(policy[s], dict):
                w_action = str(policy[s].get("recommended_action", "—"))
                w_contract = _contract_cell(policy[s].get("contract"))
            if report is not None:
                w_value = _cell(report.states[s].principal_value)
            r_entry = right[s]
            lines.append(
                f"  {model.states[s]:<8}| {w_action:<13} {w_contract:<22} {w_value:>10} "
                f"| {r_entry['recommended_action']:<13} "
                f"{_contract_cell(r_entry['contract']):<22} "
                f"{_cell(to_fraction(r_entry.get('principal_value', 0))):>10}"
            )
        return "\n".join(lines)

    def summary(self, number: int = 1) -> str:
        n_s, n_a, n_o = self.size
        f = self.first_model
        lines = [
            f"[{number}] {self.kind} — {self.signature}",
            f"  count           : {self.count} instance(s) of the search, first seen on "
            f"instance {self.first_seen} ({size_text(f)})",
            f"  first message   : {_first_line(self.first_message)}",
            f"  minimal instance: {n_s} state(s), {n_a} action(s), {n_o} outcome(s), "
            f"γ = {_cell(to_fraction(self.model.discount))}"
            + ("" if self.shrink_complete else " (shrinking stopped by its budget)"),
            f"  message         : {_first_line(self.message)}",
        ]
        detail = self.message.strip().splitlines()[1:]
        lines.extend("    | " + line for line in detail[-6:])
        report = self.attempt.report
        if report is not None and len(report.violations) > 1:
            for v in report.violations[1:8]:
                lines.append(f"    - [{v.kind}] {v.message}")
        if report is not None or self.kind in (CRASH, TIMEOUT, INVALID_OUTPUT):
            lines.append("")
            lines.append("  wrong (solver under test) vs right (" + self.right_method + "):")
            lines.append(self.side_by_side())
        lines.append("")
        lines.append("  minimal instance (FORMAT.md v1):")
        lines.append("  " + json.dumps(self.instance))
        if self.directory is not None:
            lines.append(f"  files: {self.directory}/ ({', '.join(self._files())})")
            for command in self.recheck:
                lines.append(f"  re-check: {command}")
        return "\n".join(lines)

    def _files(self) -> list[str]:
        out = ["instance.json", "first_instance.json"]
        if self.attempt.raw_output is not None:
            out.append(_wrong_name(self.attempt))
        return [*out, "right_solution.json", "report.txt"]

    def to_dict(self) -> dict[str, Any]:
        """The class as a ``pamdp/fuzz-report@1`` failure entry."""
        return {
            "kind": self.kind,
            "signature": self.signature,
            "count": self.count,
            "first_seen": self.first_seen,
            "first_instance": instance_to_dict(self.first_model),
            "first_message": self.first_message,
            "minimal_instance": self.instance,
            "size": list(self.size),
            "shrink_complete": self.shrink_complete,
            "message": self.message,
            "wrong_solution": _raw_json(self.attempt.raw_output),
            "right_solution": json.loads(json.dumps(self.right_solution, default=_json_default)),
            "right_method": self.right_method,
            "directory": None if self.directory is None else str(self.directory),
            "recheck": list(self.recheck),
            "attempt": _attempt_to_dict(self.attempt),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FailureClass:
        """The class of a :meth:`to_dict` entry, losslessly: both instances from their
        FORMAT.md v1 documents, the attempt on the minimal one (its raw answer as it came,
        the parsed solution and the verification report rebuilt from it), pamdp's right
        solution, every message and the signature (a shard of ``pamdp fuzz --workers``
        sends its classes this way)."""
        model = instance_from_dict(data["minimal_instance"])
        return cls(
            kind=data["kind"],
            signature=data["signature"],
            count=int(data["count"]),
            first_seen=int(data["first_seen"]),
            first_model=instance_from_dict(data["first_instance"]),
            first_message=data["first_message"],
            model=model,
            attempt=_attempt_from_dict(data["attempt"], model),
            right_solution=data["right_solution"],
            right_method=data["right_method"],
            shrink_complete=bool(data["shrink_complete"]),
            directory=None if data["directory"] is None else Path(data["directory"]),
            recheck=tuple(data["recheck"]),
        )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _wrong_name(result: Attempt) -> str:
    return (
        "wrong_solution.json"
        if isinstance(_raw_json(result.raw_output), dict | list)
        else "wrong_output.txt"
    )


@dataclass(frozen=True)
class FuzzReport:
    """The outcome of a fuzzing run.

    Attributes
    ----------
    solver : a description of the solver under test.
    family, seed, max_examples, tolerance : the run's settings; ``scope`` the size flags.
    tried : distinct instances of the search; ``shrink_runs`` further runs while shrinking.
    seconds : wall time.
    stopped : ``"max_examples"``, ``"time_budget"`` or ``"first_failure"``.
    failures : one :class:`FailureClass` per class, in order of first appearance.
    unsupported : instances answered "unsupported" (search only); ``unsupported_reasons``
        the count per reason signature, keyed by the first message with that signature.
    unchecked : discounted instances without an SPE known to pamdp (not failures).
    directory : the run's folder (None if nothing was saved); ``files`` every file written.
    unsupported_signatures : the signature of each reason in ``unsupported_reasons`` (what
        :meth:`merge` groups by).
    """

    solver: str
    family: str
    seed: int
    max_examples: int
    tolerance: Fraction
    tried: int
    seconds: float
    stopped: str = "max_examples"
    failures: tuple[FailureClass, ...] = ()
    unsupported: int = 0
    unsupported_reasons: dict[str, int] = field(default_factory=dict)
    unchecked: int = 0
    shrink_runs: int = 0
    scope: dict[str, Any] = field(default_factory=dict)
    directory: Path | None = None
    files: tuple[str, ...] = ()
    unsupported_signatures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failure(self) -> FailureClass | None:
        """The first failure class (None if every answer passed)."""
        return self.failures[0] if self.failures else None

    @property
    def budget_exhausted(self) -> bool:
        return self.stopped == "time_budget"

    @property
    def examples(self) -> int:
        """Distinct instances the solver was run on, search and shrinking."""
        return self.tried + self.shrink_runs

    @property
    def unsupported_share(self) -> float:
        return self.unsupported / self.tried if self.tried else 0.0

    def head(self) -> str:
        return (
            f"pamdp fuzz: {self.solver}: family {self.family}, seed {self.seed}, "
            f"{self.tried} instance(s) tried in {self.seconds:.1f} s"
            + (f" (+ {self.shrink_runs} while shrinking)" if self.shrink_runs else "")
            + f", tolerance {_cell(self.tolerance)}"
            + {"time_budget": " (stopped by the time budget)", "first_failure": ""}.get(
                self.stopped, ""
            )
        )

    def notes(self) -> list[str]:
        lines = []
        if self.unsupported:
            reasons = "; ".join(
                f"{reason} ×{n}" for reason, n in list(self.unsupported_reasons.items())[:4]
            )  # each reason is the first message of its signature (numbers may differ)
            lines.append(
                f"unsupported: {self.unsupported} of {self.tried} instance(s) "
                f"({100 * self.unsupported_share:.0f}%) were outside the solver's scope "
                f"(not failures): {reasons}"
            )
        if self.unchecked:
            lines.append(
                f"note: {self.unchecked} discounted instance(s) had no SPE known to pamdp (the "
                "meta-algorithm did not reach one; a pure stationary SPE need not exist, "
                "PAPER.md §3): the answers there were not counted as failures"
            )
        return lines

    def summary(self) -> str:
        lines = [self.head(), *self.notes()]
        checked = self.tried - self.unsupported
        if not self.failures:
            lines.append(
                f"OK: every answer was an SPE within tolerance ({checked} checked)"
                if checked
                else "NO ANSWER CHECKED: the solver answered 'unsupported' on every instance"
            )
        else:
            counts = ", ".join(f"{c.kind} ×{c.count}" for c in self.failures)
            lines.append(f"FAILED: {len(self.failures)} failure class(es) ({counts})")
            for number, failure in enumerate(self.failures, 1):
                lines.append("")
                lines.append(failure.summary(number))
        if self.directory is not None:
            lines.append("")
            lines.append(f"saved to {self.directory}/: {', '.join(self.files)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The ``pamdp/fuzz-report@1`` document."""
        return {
            "format": REPORT_FORMAT,
            "solver": self.solver,
            "family": self.family,
            "scope": self.scope,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "tolerance": str(self.tolerance),
            "ok": self.ok,
            "tried": self.tried,
            "shrink_runs": self.shrink_runs,
            "seconds": self.seconds,
            "stopped": self.stopped,
            "unsupported": self.unsupported,
            "unsupported_share": self.unsupported_share,
            "unsupported_reasons": dict(self.unsupported_reasons),
            "unchecked": self.unchecked,
            "failures": [failure.to_dict() for failure in self.failures],
            "directory": None if self.directory is None else str(self.directory),
            "files": list(self.files),
            "unsupported_signatures": dict(self.unsupported_signatures),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FuzzReport:
        """The report of a :meth:`to_dict` document, losslessly
        (:meth:`FailureClass.from_dict`)."""
        if data.get("format") != REPORT_FORMAT:
            raise ValueError(f"format: expected {REPORT_FORMAT} (value: {data.get('format')!r})")
        return cls(
            solver=data["solver"],
            family=data["family"],
            seed=int(data["seed"]),
            max_examples=int(data["max_examples"]),
            tolerance=Fraction(data["tolerance"]),
            tried=int(data["tried"]),
            seconds=float(data["seconds"]),
            stopped=data["stopped"],
            failures=tuple(FailureClass.from_dict(entry) for entry in data["failures"]),
            unsupported=int(data["unsupported"]),
            unsupported_reasons=dict(data["unsupported_reasons"]),
            unchecked=int(data["unchecked"]),
            shrink_runs=int(data["shrink_runs"]),
            scope=dict(data["scope"]),
            directory=None if data["directory"] is None else Path(data["directory"]),
            files=tuple(data["files"]),
            unsupported_signatures=dict(data.get("unsupported_signatures", {})),
        )

    @classmethod
    def merge(
        cls,
        reports: Sequence[FuzzReport],
        *,
        seed: int | None = None,
        max_examples: int | None = None,
    ) -> FuzzReport:
        """One report of the shards ``reports`` of a run, in shard order (docs/DISTRIBUTED.md).

        Counts (``tried``, ``shrink_runs``, ``unsupported``, ``unchecked``, each class's
        ``count``) and ``seconds`` are summed. Classes are grouped by ``(kind, signature)``
        in order of first appearance over the shards in order; a class keeps the first
        shard's instance and shrunk minimal case (each shard shrinks its own failures), and
        its ``first_seen`` counts the instances of the earlier shards (``tried``) before it.
        Unsupported reasons are grouped by signature (the first shard's text kept, counts
        summed, most frequent first). ``stopped``: ``"time_budget"`` if any shard ran out of
        time, else ``"first_failure"`` if any stopped at a failure, else ``"max_examples"``.
        ``seed`` (default: the first shard's) and ``max_examples`` (default: the sum) are the
        run's. Nothing of a saved folder is kept (``directory``, ``files``, ``recheck``):
        :func:`save_run` writes the merged run.
        """
        if not reports:
            raise ValueError("reports: at least one shard report is needed")
        first = reports[0]
        for other in reports[1:]:
            for name in ("solver", "family", "tolerance", "scope"):
                if getattr(other, name) != getattr(first, name):
                    raise ValueError(
                        f"{name}: the shards of one run must agree "
                        f"({getattr(first, name)!r} vs {getattr(other, name)!r})"
                    )
        classes: dict[tuple[str, str], FailureClass] = {}
        reasons: dict[str, tuple[str, int]] = {}  # signature -> (first text, count)
        offset = 0
        for report in reports:
            for failure in report.failures:
                key = (failure.kind, failure.signature)
                known = classes.get(key)
                if known is None:
                    classes[key] = replace(
                        failure,
                        first_seen=offset + failure.first_seen,
                        directory=None,
                        recheck=(),
                    )
                else:
                    classes[key] = replace(known, count=known.count + failure.count)
            for reason, n in report.unsupported_reasons.items():
                sig = report.unsupported_signatures.get(reason) or signature_of(UNSUPPORTED, reason)
                text, total = reasons.get(sig, (reason, 0))
                reasons[sig] = (text, total + n)
            offset += report.tried
        stops = {report.stopped for report in reports}
        stopped = next((s for s in ("time_budget", "first_failure") if s in stops), "max_examples")
        ranked = sorted(reasons.items(), key=lambda item: -item[1][1])  # stable: ties in order
        return cls(
            solver=first.solver,
            family=first.family,
            seed=first.seed if seed is None else seed,
            max_examples=(
                sum(r.max_examples for r in reports) if max_examples is None else max_examples
            ),
            tolerance=first.tolerance,
            tried=offset,
            seconds=sum(r.seconds for r in reports),
            stopped=stopped,
            failures=tuple(classes.values()),
            unsupported=sum(r.unsupported for r in reports),
            unsupported_reasons={text: n for _, (text, n) in ranked},
            unchecked=sum(r.unchecked for r in reports),
            shrink_runs=sum(r.shrink_runs for r in reports),
            scope=dict(first.scope),
            unsupported_signatures={text: sig for sig, (text, _) in ranked},
        )


# ------------------------------------------------------------------------------ files
def _recheck(solver: Solver, failure: FailureClass, folder: Path, ties: Ties) -> tuple[str, ...]:
    q = shlex.quote
    instance = q(str(folder / "instance.json"))
    flags = ""
    if ties != DEFAULT_TIES:
        flags = (
            f" --tie-tol {ties.agent_tol} --principal-tol {ties.principal_tol}"
            f" --principal-ties {ties.principal_rule} --margin {ties.margin}"
        )
    out = []
    if failure.kind in VIOLATION_KINDS:
        out.append(
            f"pamdp verify {instance} {q(str(folder / 'wrong_solution.json'))} "
            f"--allow-name-mismatch{flags}   # exit 1"
        )
    elif isinstance(solver, CommandSolver):
        out.append(solver.filled(str(folder / "instance.json"), str(folder / "rerun.json")))
    elif isinstance(solver, WorkerSolver):
        out.append(f"{solver.command} < {instance}")
    elif isinstance(solver, FunctionSolver):
        module = getattr(solver.fn, "__module__", "?")
        name = getattr(solver.fn, "__qualname__", "?")
        load = (
            f"__import__('theory.format').format.load_instance({str(folder / 'instance.json')!r})"
            if solver.input == "model"
            else f"json.load(open({str(folder / 'instance.json')!r}))"
        )
        out.append(f"python -c {q(f'import json; from {module} import {name} as f; f({load})')}")
    out.append(f"pamdp verify {instance} {q(str(folder / 'right_solution.json'))}   # exit 0")
    return tuple(out)


def _fresh_folder(output_dir: str | Path, seed: int) -> Path:
    root = Path(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"run-{datetime.now().strftime('%Y%m%d-%H%M%S')}-seed{seed}"
    for n in range(1, 1000):
        folder = root / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise OSError(f"{root}: cannot create a fresh run folder")  # pragma: no cover


def save_run(
    report: FuzzReport, output_dir: str | Path, solver: Solver, ties: Ties = DEFAULT_TIES
) -> FuzzReport:
    """Write the run into a fresh folder of ``output_dir`` (module docstring), atomically;
    return the report with ``directory``, ``files`` and each class's re-check commands."""
    folder = _fresh_folder(output_dir, report.seed)
    written: list[str] = []

    def write(path: Path, text: str) -> None:
        atomic_write_text(path, text)
        written.append(str(path.relative_to(folder)))

    failures = []
    for number, failure in enumerate(report.failures, 1):
        sub = folder / f"{number:02d}-{failure.kind}"
        sub.mkdir()
        write(sub / "instance.json", json.dumps(failure.instance) + "\n")
        write(sub / "first_instance.json", json.dumps(instance_to_dict(failure.first_model)) + "\n")
        raw = failure.attempt.raw_output
        if raw is not None:
            wrong = _raw_json(raw)
            name = _wrong_name(failure.attempt)
            write(
                sub / name,
                raw
                if isinstance(raw, str)
                else (json.dumps(wrong, indent=1) if name.endswith(".json") else str(raw)) + "\n",
            )
        write(sub / "right_solution.json", json.dumps(failure.right_solution, indent=1) + "\n")
        saved = replace(failure, directory=sub, recheck=_recheck(solver, failure, sub, ties))
        text = saved.summary(number)
        if failure.attempt.report is not None:
            text += "\n\n" + failure.attempt.report.summary()
        write(sub / "report.txt", text + "\n")
        failures.append(saved)
    done = replace(report, failures=tuple(failures), directory=folder)
    names = [*written, "report.txt", "report.json"]
    done = replace(done, files=tuple(names))
    atomic_write_text(folder / "report.txt", done.summary() + "\n")
    atomic_write_text(folder / "report.json", json.dumps(done.to_dict(), indent=1) + "\n")
    return done
