"""Run a list of deterministic shards serially or on Ray workers, journalled and resumable.

A long run (the thorough theorem report, a training sweep) is cut into **shards**: units of work
named by a stable key and described by JSON-ready arguments, each computed by one top-level
function ``function(arguments) -> result`` whose result depends on the arguments only (every
stochastic step seeded from them). :func:`run_shards` computes every shard

* **serially**, in this process, in shard order (``Engine(workers=1)``, the default; nothing
  beyond the standard library is needed), or
* on **Ray** workers: a local Ray instance started on the fly with ``workers`` CPUs
  (``Engine(workers=N)``, N > 1), or an existing cluster (``Engine(address="HOST:6379")``).
  Ray is the optional extra ``pip install 'pamdp[distributed]'``; asking for it without Ray
  installed raises :class:`RayUnavailable` naming the install command.

Every result passes through JSON (``json.loads(json.dumps(result))``; NaN and infinities as
Python writes them) on every path, so a result
computed serially, on a Ray worker or read back from the journal is the same object; the
returned list is in shard order whatever the order of completion. A run made of the same
shards therefore returns the same results serially and on any number of workers.

**Journal** (:class:`Journal`): a JSON-lines file. Line 1 is a header naming the format
(:data:`JOURNAL_FORMAT`) and a fingerprint of the run (the caller's description of it and every
shard's key and arguments); every other line is one finished shard, ``{"shard": key, "result":
...}``, written in one ``write`` call on a file opened for appending, then flushed and
``fsync``-ed, as soon as the shard finishes. A process killed mid-run loses at most the shards
still running; a line cut by the kill is skipped when read (that shard simply runs again).
Resuming (``Journal.open(..., resume=True)``) refuses a journal of a different run
(:class:`JournalMismatch`) and skips every shard already journalled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The ``format`` of a journal's header line.
JOURNAL_FORMAT = "pamdp/shards@1"

#: How to install the optional Ray extra (quoted in :class:`RayUnavailable`).
RAY_INSTALL = "pip install -c constraints.txt 'pamdp[distributed]' (or: pip install ray)"

#: Object store of a local Ray instance started by :func:`run_shards` (bytes): shard arguments
#: and results are small JSON documents, so the minimum Ray accepts is plenty.
LOCAL_OBJECT_STORE = 128 * 1024 * 1024


class DistributedError(ValueError):
    """A run that cannot be made as asked (Ray missing, a journal of another run, ...)."""


class RayUnavailable(DistributedError):
    """Workers or a cluster address were asked for, but Ray is not installed."""


class JournalMismatch(DistributedError):
    """``--resume`` on a journal written by a different run (other shards or settings)."""


@dataclass(frozen=True)
class Shard:
    """One unit of work.

    Attributes
    ----------
    key : stable, unique name within a run (journal key), e.g. ``"spe#2/4"``.
    arguments : the JSON-ready arguments of the shard function (everything it depends on).
    """

    key: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Engine:
    """Where shards run.

    Attributes
    ----------
    workers : 1: serially in this process; N > 1: Ray with N CPUs (a local instance started
        and shut down by :func:`run_shards` unless ``address`` is given or Ray is already
        initialised in this process).
    address : an existing Ray cluster (``"HOST:6379"``, or ``"auto"`` on a cluster node);
        its CPUs set the parallelism.
    """

    workers: int = 1
    address: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or self.workers < 1:
            raise DistributedError(f"workers must be a positive integer, not {self.workers!r}")
        if self.address is not None and not self.address.strip():
            raise DistributedError("address must not be empty")

    @property
    def uses_ray(self) -> bool:
        return self.workers > 1 or self.address is not None

    def describe(self) -> str:
        """``"serial"``, ``"2 local Ray workers"`` or ``"Ray cluster at HOST:6379"``."""
        if self.address is not None:
            return f"Ray cluster at {self.address}"
        return "serial" if self.workers == 1 else f"{self.workers} local Ray workers"


def ray_available() -> bool:
    """Whether Ray can be imported here."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def check_engine(engine: Engine) -> None:
    """Raise :class:`RayUnavailable` when ``engine`` needs Ray and Ray is not installed."""
    if engine.uses_ray and not ray_available():
        wanted = (
            f"--address {engine.address}"
            if engine.address is not None
            else f"--workers {engine.workers}"
        )
        raise RayUnavailable(
            f"{wanted} needs Ray, which is not installed: {RAY_INSTALL}; "
            "without it, leave out --workers/--address to run serially"
        )


def _normalise(value: Any) -> Any:
    """The JSON round trip every result goes through (one representation on every path)."""
    return json.loads(json.dumps(value, allow_nan=True))


def derive_seed(salt: str, *parts: object) -> int:
    """A shard's seed, derived from the run's seed and the shard's name: the first 8 bytes of
    SHA-256(``"SALT:PART1:PART2:..."``, each part as ``str``) as a big-endian integer, halved
    (so below 2**63). The one derivation of every sharded run (theorem chunks, fuzz seed
    ranges); ``salt`` names the kind of run and its version."""
    text = ":".join([salt, *(str(part) for part in parts)]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") >> 1


def fingerprint(run: Mapping[str, Any], shards: Sequence[Shard]) -> str:
    """SHA-256 of the run's description and every shard's key and arguments (canonical
    JSON): two runs with the same fingerprint compute the same shards."""
    document = {
        "run": run,
        "shards": [[shard.key, shard.arguments] for shard in shards],
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Journal:
    """The journal of one run (module docstring). Build it with :meth:`open`.

    Attributes
    ----------
    path : the JSON-lines file.
    done : results already journalled, by shard key (read when resuming).
    """

    path: Path
    done: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        run: Mapping[str, Any],
        shards: Sequence[Shard],
        *,
        resume: bool,
    ) -> Journal:
        """Start a fresh journal at ``path`` (its header line written atomically, replacing
        any earlier file), or, with ``resume``, continue the one there: raise
        :class:`JournalMismatch` if it belongs to another run, and read its finished shards.
        Resuming where no journal exists starts a fresh one."""
        from theory.atomic import atomic_write_text

        target = Path(path)
        print_ = fingerprint(run, shards)
        if resume and target.exists() and target.stat().st_size:
            journal = cls(target)
            keys = {shard.key for shard in shards}
            with target.open(encoding="utf-8") as handle:
                text = handle.read()
            lines = text.splitlines()
            if not text.endswith("\n"):  # a line cut by a kill: end it, so the next record
                with target.open("a", encoding="utf-8") as handle:  # starts on a line of its own
                    handle.write("\n")
            try:
                header = json.loads(lines[0])
            except ValueError:
                header = {}
            if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
                raise JournalMismatch(f"{target}: not a pamdp shard journal ({JOURNAL_FORMAT})")
            if header.get("fingerprint") != print_:
                raise JournalMismatch(
                    f"{target}: journal of a different run (other shards or settings: "
                    f"journalled {json.dumps(header.get('run'), sort_keys=True)}, asked "
                    f"{json.dumps(run, sort_keys=True)}); start again with --overwrite or "
                    "choose another folder"
                )
            for number, line in enumerate(lines[1:], 2):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    key = str(entry["shard"])
                    result = entry["result"]
                except (ValueError, KeyError, TypeError):
                    # a line cut by a kill mid-write: that shard runs again
                    print(
                        f"{target}:{number}: unreadable journal line skipped",
                        file=sys.stderr,
                    )
                    continue
                if key in keys:
                    journal.done[key] = result
            return journal
        header_line = json.dumps(
            {"format": JOURNAL_FORMAT, "fingerprint": print_, "run": run, "shards": len(shards)},
            sort_keys=True,
        )
        atomic_write_text(target, header_line + "\n")
        return cls(target)

    def record(self, key: str, result: Any) -> None:
        """Append one finished shard: one line, one ``write`` call, flushed and synced."""
        line = json.dumps({"shard": key, "result": result}, allow_nan=True) + "\n"
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(descriptor, line.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self.done[key] = result


#: ``on_result(shard, result, resumed)``: called once per shard as its result is known
#: (resumed shards first, in shard order; then new ones in order of completion).
ResultCallback = Callable[[Shard, Any, bool], None]


def run_shards(
    function: Callable[[Mapping[str, Any]], Any],
    shards: Sequence[Shard],
    *,
    engine: Engine | None = None,
    journal: Journal | None = None,
    on_result: ResultCallback | None = None,
) -> list[Any]:
    """Compute ``function(shard.arguments)`` for every shard; return the results in shard
    order (module docstring).

    Parameters
    ----------
    function : a top-level (importable) function; on Ray it runs in worker processes, which
        import its module, so it must not depend on state of this process.
    shards : the shards, keys unique.
    engine : serial (default) or Ray (:class:`Engine`).
    journal : where finished shards are journalled; shards already in ``journal.done`` are
        not run again.
    on_result : called as each result is known (see :data:`ResultCallback`).

    Raises
    ------
    DistributedError : duplicate keys; :class:`RayUnavailable` when Ray is needed and missing.
    KeyboardInterrupt : passed on after cancelling the running shards (journal kept).
    """
    engine = engine or Engine()
    keys = [shard.key for shard in shards]
    if len(set(keys)) != len(keys):
        raise DistributedError("shard keys must be unique")
    check_engine(engine)
    results: dict[str, Any] = {}
    done = journal.done if journal is not None else {}

    def emit(shard: Shard, result: Any, resumed: bool) -> None:
        result = _normalise(result)
        if not resumed and journal is not None:
            journal.record(shard.key, result)
        results[shard.key] = result
        if on_result is not None:
            on_result(shard, result, resumed)

    for shard in shards:
        if shard.key in done:
            emit(shard, done[shard.key], True)
    pending = [shard for shard in shards if shard.key not in done]
    if pending:
        if engine.uses_ray:
            _run_on_ray(function, pending, engine, emit)
        else:
            for shard in pending:
                emit(shard, function(dict(shard.arguments)), False)
    return [results[key] for key in keys]


def _call(function: Callable[[Mapping[str, Any]], Any], arguments: Mapping[str, Any]) -> Any:
    """What a Ray task runs (``function`` may be a :func:`functools.partial`)."""
    return function(arguments)


def _run_on_ray(
    function: Callable[[Mapping[str, Any]], Any],
    pending: Sequence[Shard],
    engine: Engine,
    emit: Callable[[Shard, Any, bool], None],
) -> None:
    """Submit every pending shard as a Ray task (one CPU each) and emit results as they
    finish; start (and shut down) a local instance unless Ray is already initialised."""
    import ray

    started = False
    if not ray.is_initialized():
        if engine.address is not None:
            try:
                ray.init(address=engine.address, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise DistributedError(
                    f"cannot join the Ray cluster at {engine.address}: {error}"
                ) from None
        else:
            ray.init(
                address="local",  # a new instance, never a cluster left running elsewhere
                num_cpus=engine.workers,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=LOCAL_OBJECT_STORE,
            )
        started = True
    waiting: list[Any] = []
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_call)
        by_ref = {task.remote(function, dict(shard.arguments)): shard for shard in pending}
        waiting = list(by_ref)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            for ref in ready:
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayTaskError as error:
                    raise error.as_instanceof_cause() from None
                emit(by_ref[ref], value, False)
    finally:
        for ref in waiting:
            with contextlib.suppress(Exception):  # best effort while stopping
                ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


__all__ = [
    "JOURNAL_FORMAT",
    "RAY_INSTALL",
    "DistributedError",
    "Engine",
    "Journal",
    "JournalMismatch",
    "RayUnavailable",
    "ResultCallback",
    "Shard",
    "check_engine",
    "derive_seed",
    "fingerprint",
    "ray_available",
    "run_shards",
]
