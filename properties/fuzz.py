"""Differential fuzzing of any principal-agent solver against exact ground truth (issues 4, 12).

The solver under test is a command, a persistent worker or a Python function
(:mod:`properties.fuzz_solvers`, re-exported here). Hypothesis draws instances from
:func:`properties.strategies.instances` (exact rationals on small grids, with planted ties, zero
rewards, identical outcome distributions and unimplementable actions); every answer is checked
by :func:`properties.verify.verify_solution` (the exact SPE test of PAPER.md §2, within the
tolerance).

**Failure classes.** The search does not stop at the first failure: it runs to ``max_examples``
(or ``time_budget``; ``stop_at_first`` restores the old behaviour) and groups the failures by
*kind* and *signature* (:func:`classify`):

* ``crash`` — the program exits non-zero, the worker answers ``{"error": ...}`` or dies, the
  function raises; signature: the exit status and the exception line, numbers, paths and
  quoted values replaced by placeholders (``ZeroDivisionError: Fraction(N, N)``);
* ``timeout`` — no answer within ``timeout`` seconds (the process group is killed);
* ``invalid_output`` — not JSON, or not a FORMAT.md v1 solution (the message names the field);
* each violation kind of :mod:`theory.spe` (``not_followed``, ``negative_payment``,
  ``overpayment``, ``principal_deviation``, ``off_path_response``, ``claimed_value``) — a
  well-formed answer that is not an SPE; its kind is the first kind present in that order
  (an agent that does not follow usually drags claimed values with it: the cause is named).

``unsupported`` answers (:class:`Unsupported`, exit status 3, ``{"unsupported": "reason"}``)
are counted and reported with their share, never failures; so are ``unchecked`` discounted
instances where pamdp finds no SPE either (:func:`_judged`).

**Shrinking, per class.** Each class is shrunk on its own, with a predicate that keeps both its
kind and its signature — so a crash of the adapter on a degenerate instance cannot replace a
wrong answer, nor one crash another. First Hypothesis replays the search with the same seed
(every verdict is cached, so the replay is free) and shrinks the class's first instance;
then :func:`properties.fuzz_shrink.shrink_structurally` makes it 1-minimal for structural
moves. The first (unshrunk) instance and its message are kept next to the minimal one.
``shrink_budget`` seconds are shared by the classes (each gets an equal share of what is left).

**Files.** With ``output_dir``, each run with failures writes into a fresh folder
``output_dir/run-YYYYmmdd-HHMMSS-seedN`` (:func:`save_run`): ``report.txt``, ``report.json``
(``pamdp/fuzz-report@1``) and per class ``NN-kind/`` with ``instance.json`` (minimal),
``first_instance.json``, the solver's answer as it came (``wrong_solution.json`` or
``wrong_output.txt``: its own numbers, never rewritten), ``right_solution.json`` (pamdp's
reference, verified) and ``report.txt`` with re-check commands.

Determinism: ``seed`` fixes the search; each distinct instance is run once and its verdict
cached, so a non-deterministic solver cannot make the shrinker flaky.

**Shards** (``pamdp fuzz --chunk / --workers / --address``, issue 14; docs/DISTRIBUTED.md).
:func:`fuzz_shards` cuts a run into seed ranges: shard ``i`` is a search of its own over
``chunk`` instances with seed :func:`shard_seed` ``(seed, i)`` (SHA-256 based, the derivation
of the theorem chunks), finding and shrinking its own classes; :func:`run_fuzz_shard` runs one
(nothing saved) and returns its lossless report document; :meth:`FuzzReport.merge` merges
them in shard order and :func:`save_run` writes the merged run once.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from random import Random
from typing import Any

from properties.fuzz_report import (
    CRASH,
    FAILURE_KINDS,
    INVALID_OUTPUT,
    REPORT_FORMAT,
    TIMEOUT,
    UNCHECKED,
    UNSUPPORTED,
    Attempt,
    FailureClass,
    FuzzReport,
    save_run,
    signature_of,
    verify_answer,
)
from properties.fuzz_shrink import shrink_structurally, size_text
from properties.fuzz_solvers import (
    DEFAULT_TIMEOUT,
    UNSUPPORTED_EXIT,
    CommandSolver,
    FunctionSolver,
    Solver,
    SolverCrash,
    SolverTimeout,
    Unsupported,
    WorkerSolver,
    describe,
    load_function,
)
from properties.verify import VerificationReport, verify_solution
from theory.format import SolutionError, instance_to_dict, loads_json, solution_to_dict
from theory.model import PrincipalAgentMDP
from theory.spe import VIOLATION_KINDS
from theory.ties import DEFAULT_TIES, Ties

__all__ = [
    "CRASH",
    "DEFAULT_TIMEOUT",
    "FAILURE_KINDS",
    "FUZZ_SHARD_SALT",
    "INVALID_OUTPUT",
    "REPORT_FORMAT",
    "SHARD_OPTIONS",
    "TIMEOUT",
    "UNCHECKED",
    "UNSUPPORTED",
    "UNSUPPORTED_EXIT",
    "Attempt",
    "CommandSolver",
    "FailureClass",
    "FunctionSolver",
    "FuzzReport",
    "SolverCheckError",
    "SolverCrash",
    "SolverTimeout",
    "Unsupported",
    "WorkerSolver",
    "attempt",
    "check_command",
    "check_solver",
    "classify",
    "fuzz",
    "fuzz_shards",
    "load_function",
    "reference_solution",
    "run_fuzz_shard",
    "save_run",
    "shard_seed",
    "shrink_structurally",
    "signature_of",
    "solver_from_spec",
]


class SolverCheckError(AssertionError):
    """Raised by :func:`check_solver` when the solver fails; ``report`` holds the details."""

    def __init__(self, report: FuzzReport) -> None:
        self.report = report
        super().__init__(report.summary())


class _Stop(BaseException):
    """Ends a Hypothesis run early (a budget ran out). A BaseException on purpose: Hypothesis
    treats Exceptions as test failures and would shrink them; this one passes straight through."""


def _made(
    kind: str,
    message: str = "",
    raw_output: Any = None,
    solution: dict[str, Any] | None = None,
    report: VerificationReport | None = None,
    seconds: float = 0.0,
) -> Attempt:
    return Attempt(
        kind, message, raw_output, solution, report, seconds, signature_of(kind, message)
    )


def classify(report: VerificationReport) -> tuple[str, str]:
    """The failure kind of a verification report that is not ok, and its message: the first
    violation kind present in :data:`theory.spe.VIOLATION_KINDS` order (module docstring)."""
    present = {v.kind for v in report.violations}
    kind = next(k for k in VIOLATION_KINDS if k in present)
    first = next(v for v in report.violations if v.kind == kind)
    more = len(report.violations) - 1
    others = sorted(present - {kind}, key=VIOLATION_KINDS.index)
    return kind, first.message + (
        f" (and {more} more violation(s)" + (f": {', '.join(others)}" if others else "") + ")"
        if more
        else ""
    )


def _unsupported_document(data: Any) -> str | None:
    if isinstance(data, dict) and "unsupported" in data and "policy" not in data:
        return str(data["unsupported"]) or "unsupported"
    return None


def attempt(solver: Solver, model: PrincipalAgentMDP, *, ties: Ties = DEFAULT_TIES) -> Attempt:
    """Run ``solver`` on ``model`` and verify its answer exactly (module docstring)."""
    document = instance_to_dict(model)
    start = time.perf_counter()
    try:
        raw = solver(document, model) if isinstance(solver, FunctionSolver) else solver(document)
    except Unsupported as error:
        return _made(UNSUPPORTED, str(error), seconds=time.perf_counter() - start)
    except SolverTimeout as error:
        return _made(TIMEOUT, str(error), seconds=time.perf_counter() - start)
    except SolverCrash as error:
        return _made(CRASH, str(error), seconds=time.perf_counter() - start)
    except Exception as error:  # a plain callable that raised
        return _made(CRASH, f"{type(error).__name__}: {error}", seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    data: Any = raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        if not raw.strip():
            return _made(INVALID_OUTPUT, "invalid JSON: the answer is empty", raw, seconds=seconds)
        try:
            data = loads_json(raw)
        except json.JSONDecodeError as error:
            return _made(INVALID_OUTPUT, f"invalid JSON: {error}", raw, seconds=seconds)
    reason = _unsupported_document(data)
    if reason is not None:
        return _made(UNSUPPORTED, reason, raw, seconds=seconds)
    if not isinstance(data, dict):
        return _made(
            INVALID_OUTPUT,
            f"<document>: a solution must be a JSON object (value: {_clip(data)})",
            raw,
            seconds=seconds,
        )
    try:
        report = verify_answer(model, data, ties)
    except SolutionError as error:
        return _made(INVALID_OUTPUT, str(error), raw, data, seconds=seconds)
    if report.ok:
        return _made("ok", "", raw, data, report, seconds)
    kind, message = classify(report)
    return _made(kind, message, raw, data, report, seconds)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _clip(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _judged(result: Attempt, model: PrincipalAgentMDP) -> Attempt:
    """Demote a violation on a discounted instance to ``unchecked`` when pamdp's own reference
    (the meta-algorithm) is not an SPE either.

    For γ < 1 a pure stationary SPE need not exist under the paper's tie conventions (PAPER.md
    §3; ``examples/no_pure_stationary_spe.json``), and then no pure stationary answer can
    pass. Such instances are counted and reported, never blamed on the solver. Crashes,
    timeouts and malformed output are failures regardless.
    """
    if result.kind not in VIOLATION_KINDS or model.is_episodic:
        return result
    _, method = reference_solution(model)
    if method.endswith("an SPE"):
        return result
    return replace(
        result,
        kind=UNCHECKED,
        message=f"not an SPE, but pamdp finds no SPE of this instance either ({method})",
        signature=UNCHECKED,
    )


def reference_solution(
    model: PrincipalAgentMDP, ties: Ties = DEFAULT_TIES
) -> tuple[dict[str, Any], str]:
    """pamdp's solution of ``model`` as a FORMAT.md v1 document, and how it was computed.

    From :func:`solvers.solve.solve` with ``ties``: exact backward induction when episodic
    (PAPER.md §2), the meta-algorithm in floats otherwise (PAPER.md §3). Either way the result
    is verified exactly and the verdict is part of the description.
    """
    from solvers.solve import solve

    result = solve(model, exact=model.is_episodic, ties=ties)
    spe = result.solution
    document = solution_to_dict(
        model,
        spe.recommended,
        spe.contracts,
        principal_values=spe.principal_values,
        agent_values=spe.agent_values,
        exact=result.exact,
    )
    method = f"pamdp {result.label()}" + (
        "" if result.method == "backward_induction" else f" ({result.status()})"
    )
    report = verify_solution(model, document, ties=ties, reference=False)
    method += ", verified: " + (
        "an SPE" if report.ok else f"NOT an SPE ({len(report.violations)} violation(s))"
    )
    return document, method


# ------------------------------------------------------------------------------ driver
def _key(model: PrincipalAgentMDP) -> str:
    return json.dumps(instance_to_dict(model), sort_keys=True)


def fuzz(
    solver: Solver,
    *,
    family: str = "all",
    min_states: int = 1,
    max_states: int = 4,
    min_actions: int = 2,
    max_actions: int = 3,
    min_outcomes: int = 2,
    max_outcomes: int = 3,
    observed_action: bool | None = None,
    two_by_two: bool = False,
    max_examples: int = 100,
    seed: int = 0,
    time_budget: float | None = None,
    shrink_budget: float = 60.0,
    stop_at_first: bool = False,
    ties: Ties = DEFAULT_TIES,
    output_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Fuzz ``solver`` on Hypothesis-generated instances (module docstring).

    Parameters
    ----------
    solver : a :class:`CommandSolver`, :class:`WorkerSolver`, :class:`FunctionSolver`, or a
        plain callable taking the instance document. A worker is closed at the end.
    family : ``"episodic"``, ``"discounted"`` or ``"all"``
        (:func:`properties.strategies.instances`).
    min_states, max_states, min_actions, max_actions, min_outcomes, max_outcomes : instance
        sizes (outcomes: hidden action only). The defaults ``min_actions=2`` and
        ``min_outcomes=2`` spend the search on instances where contracts matter; the
        structural shrinker still tries fewer actions and outcomes.
    observed_action : None draws hidden- and observed-action instances; True / False fixes one.
    two_by_two : only instances with 2 actions and 2 outcomes (overrides the action and
        outcome bounds).
    max_examples : instances to try.
    seed : the search's random seed.
    time_budget : seconds for the search (None: no limit).
    shrink_budget : seconds for shrinking, shared by the failure classes.
    stop_at_first : end the search at the first failure.
    ties : the verification tolerances, margin and tie rule (:class:`theory.ties.Ties`).
    output_dir : if any instance failed, save the run into a fresh folder there
        (:func:`save_run`).
    progress : called with a line of text now and then (e.g. ``print``).

    Returns
    -------
    FuzzReport
        ``report.ok`` is True iff no instance failed.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    from properties.strategies import instances

    if max_examples < 1:
        raise ValueError(f"max_examples: must be at least 1 (value: {max_examples!r})")
    if time_budget is not None and time_budget <= 0:
        raise ValueError(f"time_budget: must be positive (value: {time_budget!r})")
    if shrink_budget < 0:
        raise ValueError(f"shrink_budget: must be non-negative (value: {shrink_budget!r})")
    if two_by_two:
        min_actions = max_actions = min_outcomes = max_outcomes = 2
    scope: dict[str, Any] = {
        "min_states": min_states,
        "max_states": max_states,
        "min_actions": min_actions,
        "max_actions": max_actions,
        "min_outcomes": min_outcomes,
        "max_outcomes": max_outcomes,
        "observed_action": observed_action,
        "two_by_two": two_by_two,
    }
    strategy = instances(
        family=family,  # type: ignore[arg-type]
        min_states=min_states,
        max_states=max_states,
        min_actions=min_actions,
        max_actions=max_actions,
        min_outcomes=min_outcomes,
        max_outcomes=max_outcomes,
        observed_action=observed_action,
        exact=True,
    )
    start = time.monotonic()
    deadline = None if time_budget is None else start + time_budget
    cache: dict[str, Attempt] = {}
    order: list[str] = []  # the search's instances, in order
    firsts: dict[tuple[str, str], tuple[int, PrincipalAgentMDP]] = {}
    counts: dict[tuple[str, str], int] = {}
    reasons: dict[str, int] = {}  # unsupported: signature -> count
    reason_text: dict[str, str] = {}  # signature -> its first message
    stopped = "max_examples"

    def run(model: PrincipalAgentMDP, key: str) -> Attempt:
        known = cache.get(key)
        if known is None:
            known = cache[key] = _judged(attempt(solver, model, ties=ties), model)
        return known

    def search(model: PrincipalAgentMDP) -> bool:
        nonlocal stopped
        key = _key(model)
        if key in cache:
            return False
        if deadline is not None and time.monotonic() > deadline:
            stopped = "time_budget"
            raise _Stop
        result = run(model, key)
        order.append(key)
        if result.kind == UNSUPPORTED:
            reasons[result.signature] = reasons.get(result.signature, 0) + 1
            reason_text.setdefault(result.signature, _first_line(result.message))
        if result.failed:
            counts[result.key] = counts.get(result.key, 0) + 1
            if result.key not in firsts:
                firsts[result.key] = (len(order), model)
                if progress is not None:
                    progress(
                        f"new failure class [{result.kind}] {result.signature} on instance "
                        f"{len(order)} ({size_text(model)})"
                    )
            if stop_at_first:
                stopped = "first_failure"
                raise _Stop
        elif progress is not None and len(order) % 25 == 0:
            progress(f"{len(order)} instance(s) tried, {len(firsts)} failure class(es)")
        return False

    def config(n: int) -> Any:
        return settings(
            max_examples=n,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
        )

    try:
        with contextlib.suppress(NoSuchExample, _Stop):
            find(strategy, search, settings=config(max_examples), random=Random(seed))
        tried = len(order)
        classes: list[FailureClass] = []
        shrink_end = time.monotonic() + shrink_budget
        for number, (cls, (first_seen, first_model)) in enumerate(firsts.items()):
            share = max(shrink_end - time.monotonic(), 0.0) / (len(firsts) - number)
            limit = [time.monotonic() + share]
            best = [first_model]

            def same(
                model: PrincipalAgentMDP, cls: tuple[str, str] = cls, limit: list[float] = limit
            ) -> bool:
                key = _key(model)
                if key not in cache and time.monotonic() > limit[0]:
                    raise _Stop
                return run(model, key).key == cls

            def hypothesis_same(
                model: PrincipalAgentMDP, same: Any = same, best: list[Any] = best
            ) -> bool:
                if not same(model):
                    return False
                best[0] = model
                return True

            complete = True
            if progress is not None:
                progress(f"shrinking class {number + 1}/{len(firsts)} [{cls[0]}] {cls[1]} …")
            try:
                best[0] = find(
                    strategy, hypothesis_same, settings=config(max_examples), random=Random(seed)
                )
            except NoSuchExample:
                pass
            except _Stop:
                complete = False
            # the structural pass gets at least half of this class's share
            limit[0] = max(limit[0], time.monotonic() + share / 2)
            try:
                minimal, finished = shrink_structurally(best[0], same, deadline=limit[0])
            except _Stop:  # pragma: no cover - shrink_structurally checks the deadline first
                minimal, finished = best[0], False
            complete = complete and finished
            if progress is not None:
                progress(f"  → minimal: {size_text(minimal)}")
            right, method = reference_solution(minimal, ties)
            classes.append(
                FailureClass(
                    kind=cls[0],
                    signature=cls[1],
                    count=counts[cls],
                    first_seen=first_seen,
                    first_model=first_model,
                    first_message=cache[_key(first_model)].message,
                    model=minimal,
                    attempt=cache[_key(minimal)],
                    right_solution=right,
                    right_method=method,
                    shrink_complete=complete,
                )
            )
    finally:
        if isinstance(solver, WorkerSolver):
            solver.close()
    report = FuzzReport(
        solver=describe(solver),
        family=family,
        seed=seed,
        max_examples=max_examples,
        tolerance=ties.agent_tol,
        tried=tried,
        seconds=time.monotonic() - start,
        stopped=stopped,
        failures=tuple(classes),
        unsupported=sum(reasons.values()),
        unsupported_reasons={
            reason_text[sig]: n for sig, n in sorted(reasons.items(), key=lambda kv: -kv[1])
        },
        unchecked=sum(1 for key in order if cache[key].kind == UNCHECKED),
        shrink_runs=len(cache) - tried,
        scope=scope,
        unsupported_signatures={reason_text[sig]: sig for sig in reasons},
    )
    if output_dir is not None and report.failures:
        report = save_run(report, output_dir, solver, ties)
    return report


def check_solver(
    fn: Callable[[Any], Any],
    *,
    input: str = "document",
    raise_on_failure: bool = True,
    **options: Any,
) -> FuzzReport:
    """Fuzz a Python solver function; raise :class:`SolverCheckError` if it is ever wrong.

    ``fn`` takes the instance document (or, with ``input="model"``, the model) and returns a
    solution, or raises :class:`Unsupported` outside its scope. Keyword options are those of
    :func:`fuzz`. Use it in a test::

        from properties import check_solver

        def test_my_solver():
            check_solver(my_package.solve, family="episodic", max_examples=200)
    """
    report = fuzz(FunctionSolver(fn, input=input), **options)
    if raise_on_failure and not report.ok:
        raise SolverCheckError(report)
    return report


def check_command(
    command: str, *, timeout: float = DEFAULT_TIMEOUT, raise_on_failure: bool = True, **options: Any
) -> FuzzReport:
    """Like :func:`check_solver` for an external program ``"CMD {instance} {solution}"``."""
    report = fuzz(CommandSolver(command, timeout=timeout), **options)
    if raise_on_failure and not report.ok:
        raise SolverCheckError(report)
    return report


# ------------------------------------------------------------------------------ shards
#: Salt of :func:`shard_seed` (changing it changes every sharded fuzzing run).
FUZZ_SHARD_SALT = "pamdp/fuzz-shard@1"

#: The options of :func:`fuzz` a shard passes on (everything but the solver, the seed, the
#: instance count, the ties and the saving).
SHARD_OPTIONS: tuple[str, ...] = (
    "family",
    "min_states",
    "max_states",
    "min_actions",
    "max_actions",
    "min_outcomes",
    "max_outcomes",
    "observed_action",
    "two_by_two",
    "time_budget",
    "shrink_budget",
    "stop_at_first",
)


def shard_seed(seed: int, index: int) -> int:
    """The search seed of shard ``index`` (from 0) of a fuzzing run seeded ``seed``: the first
    8 bytes of SHA-256(``"pamdp/fuzz-shard@1:SEED:INDEX"``) as an integer below 2**63
    (:func:`solvers.distributed.derive_seed`, the derivation of the theorem chunks too)."""
    from solvers.distributed import derive_seed

    return derive_seed(FUZZ_SHARD_SALT, seed, index)


def solver_from_spec(spec: Mapping[str, Any]) -> Solver:
    """The solver of a JSON description ``{"command": CMD, "timeout": T}``, ``{"worker": CMD,
    "timeout": T}`` or ``{"function": "MODULE:FUNCTION"}`` (what a shard carries: a worker
    process builds its own solver, so the command must run there and the module must be
    importable there)."""
    if spec.get("command") is not None:
        return CommandSolver(spec["command"], timeout=spec.get("timeout", DEFAULT_TIMEOUT))
    if spec.get("worker") is not None:
        return WorkerSolver(spec["worker"], timeout=spec.get("timeout", DEFAULT_TIMEOUT))
    if spec.get("function") is not None:
        return FunctionSolver(load_function(spec["function"]))
    raise ValueError(f"solver: expected command, worker or function (value: {spec!r})")


def fuzz_shards(
    solver: Mapping[str, Any],
    *,
    max_examples: int,
    seed: int = 0,
    chunk: int | None = None,
    ties: Ties = DEFAULT_TIES,
    **options: Any,
) -> list[Any]:
    """The shards of a fuzzing run (docs/DISTRIBUTED.md), as seed ranges.

    One shard ``fuzz#1/1`` when ``chunk`` is None or ≥ ``max_examples``: the unsharded search
    (seed ``seed``, ``max_examples`` instances). Otherwise ``n = ceil(max_examples / chunk)``
    shards ``fuzz#i/n``, shard ``i`` (from 0) a search of its own with seed
    :func:`shard_seed` ``(seed, i)`` over ``chunk`` instances (the last one the remainder),
    which finds and shrinks its own failure classes. ``solver`` is a
    :func:`solver_from_spec` description; ``options`` those of :func:`fuzz` named in
    :data:`SHARD_OPTIONS`.
    """
    from solvers.distributed import Shard

    unknown = set(options) - set(SHARD_OPTIONS)
    if unknown:
        raise TypeError(f"fuzz_shards: unknown option(s) {', '.join(sorted(unknown))}")
    if max_examples < 1:
        raise ValueError(f"max_examples: must be at least 1 (value: {max_examples!r})")
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk: must be at least 1 (value: {chunk!r})")
    count = 1 if chunk is None or chunk >= max_examples else -(-max_examples // chunk)
    shards = []
    for index in range(count):
        single = count == 1
        size = max_examples if single else min(chunk or 0, max_examples - index * (chunk or 0))
        shards.append(
            Shard(
                f"fuzz#{index + 1}/{count}",
                {
                    "solver": dict(solver),
                    "options": dict(options),
                    "ties": ties.to_dict(),
                    "index": index,
                    "count": count,
                    "seed": seed if single else shard_seed(seed, index),
                    "max_examples": size,
                },
            )
        )
    return shards


@contextlib.contextmanager
def _default_profile() -> Iterator[None]:
    """Run with Hypothesis' ``default`` settings profile loaded (the previous one restored):
    the settings of :func:`fuzz` inherit every field they do not set (``derandomize``, ...)
    from the loaded profile, which differs between processes (pytest loads pamdp's)."""
    from hypothesis import settings

    previous = settings.get_current_profile_name()
    settings.load_profile("default")
    try:
        yield
    finally:
        settings.load_profile(previous)


def run_fuzz_shard(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """One shard of :func:`fuzz_shards` (what a Ray worker runs): :func:`fuzz` with the shard's
    seed and size, nothing saved, returning the lossless ``pamdp/fuzz-report@1`` document
    (:meth:`FuzzReport.to_dict`). Hypothesis' harvesting of literals from local source files
    is switched off (:func:`properties.report.fixed_local_constants`) and the search runs under
    Hypothesis' ``default`` settings profile (:func:`_default_profile`), so a shard draws the
    same instances in any process: a Ray worker, the ``pamdp`` command or a test suite that
    loaded another profile."""
    from properties.report import fixed_local_constants

    solver = solver_from_spec(arguments["solver"])
    with _default_profile(), fixed_local_constants():
        report = fuzz(
            solver,
            max_examples=int(arguments["max_examples"]),
            seed=int(arguments["seed"]),
            ties=Ties(**arguments["ties"]),
            output_dir=None,
            progress=None,
            **arguments["options"],
        )
    return report.to_dict()
