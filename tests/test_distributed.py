"""Tests of the shard engine (solvers/distributed.py): serial and Ray runs, journal, resume."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from solvers import distributed as dist
from solvers.distributed import Engine, Journal, Shard, run_shards

#: Shard keys computed by :func:`counted` in this process (reset by each test).
CALLS: list[int] = []


def square_digest(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A deterministic shard function: ``n**2`` and the first hex digits of SHA-256(n)."""
    n = int(arguments["n"])
    return {"n": n, "square": n * n, "digest": hashlib.sha256(str(n).encode()).hexdigest()[:8]}


def counted(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`square_digest`, recording the call; raises KeyboardInterrupt at ``stop``."""
    if arguments.get("stop") == arguments["n"]:
        raise KeyboardInterrupt
    CALLS.append(int(arguments["n"]))
    return square_digest(arguments)


def shards(count: int, **extra: Any) -> list[Shard]:
    return [Shard(f"s{n}", {"n": n, **extra}) for n in range(count)]


def expected(count: int) -> list[dict[str, Any]]:
    """Computed here independently of the engine: n², sha256(str(n))[:8]."""
    return [
        {"n": n, "square": n * n, "digest": hashlib.sha256(str(n).encode()).hexdigest()[:8]}
        for n in range(count)
    ]


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_serial_results_come_in_shard_order_through_json():
    tuple_result = run_shards(lambda a: (a["n"], a["n"]), shards(2))
    assert tuple_result == [[0, 0], [1, 1]]  # a tuple comes back as the JSON list
    assert run_shards(square_digest, shards(4)) == expected(4)


def test_duplicate_keys_and_bad_engines_are_refused():
    with pytest.raises(dist.DistributedError, match="unique"):
        run_shards(square_digest, [Shard("a", {"n": 1}), Shard("a", {"n": 2})])
    with pytest.raises(dist.DistributedError, match="workers"):
        Engine(workers=0)
    with pytest.raises(dist.DistributedError, match="address"):
        Engine(address=" ")
    assert Engine().describe() == "serial" and not Engine().uses_ray
    assert Engine(workers=2).describe() == "2 local Ray workers"
    assert Engine(address="10.0.0.1:6379").describe() == "Ray cluster at 10.0.0.1:6379"


def test_without_ray_serial_runs_and_workers_get_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert not dist.ray_available()
    assert run_shards(square_digest, shards(2)) == expected(2)
    with pytest.raises(dist.RayUnavailable, match=r"--workers 2 needs Ray.*pamdp\[distributed\]"):
        run_shards(square_digest, shards(2), engine=Engine(workers=2))
    with pytest.raises(dist.RayUnavailable, match="--address h:1 needs Ray"):
        dist.check_engine(Engine(address="h:1"))


def test_journal_records_each_shard_and_resume_runs_only_the_rest(tmp_path):
    path = tmp_path / "shards.jsonl"
    run = {"what": "squares"}
    journal = Journal.open(path, run, shards(5), resume=False)
    with pytest.raises(KeyboardInterrupt):  # "killed" while computing s3
        run_shards(counted, shards(5, stop=3), journal=journal)
    assert CALLS == [0, 1, 2]
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == dist.JOURNAL_FORMAT
    assert [json.loads(line)["shard"] for line in lines[1:]] == ["s0", "s1", "s2"]
    # a kill mid-write leaves a cut last line: it is skipped and that shard reruns
    with path.open("a") as handle:
        handle.write('{"shard": "s3", "resu')
    CALLS.clear()
    resumed = Journal.open(path, run, shards(5), resume=True)
    assert sorted(resumed.done) == ["s0", "s1", "s2"]
    seen: list[tuple[str, bool]] = []
    results = run_shards(
        counted,
        shards(5),
        journal=resumed,
        on_result=lambda shard, result, was_resumed: seen.append((shard.key, was_resumed)),
    )
    assert results == expected(5)  # the uninterrupted results
    assert CALLS == [3, 4]
    assert seen == [("s0", True), ("s1", True), ("s2", True), ("s3", False), ("s4", False)]
    # the shards journalled after the cut line are on lines of their own: a second resume
    # finds all five (the cut line is skipped again)
    assert sorted(Journal.open(path, run, shards(5), resume=True).done) == [
        "s0",
        "s1",
        "s2",
        "s3",
        "s4",
    ]


def test_a_journal_of_another_run_is_refused(tmp_path):
    path = tmp_path / "shards.jsonl"
    Journal.open(path, {"seed": 0}, shards(3), resume=False)
    with pytest.raises(dist.JournalMismatch, match="different run"):
        Journal.open(path, {"seed": 1}, shards(3), resume=True)
    with pytest.raises(dist.JournalMismatch, match="different run"):
        Journal.open(path, {"seed": 0}, shards(4), resume=True)
    other = tmp_path / "other.jsonl"
    other.write_text('{"key": "spe"}\n')
    with pytest.raises(dist.JournalMismatch, match="not a pamdp shard journal"):
        Journal.open(other, {"seed": 0}, shards(3), resume=True)
    assert Journal.open(tmp_path / "new.jsonl", {}, shards(1), resume=True).done == {}


def test_derived_seeds_are_the_halved_first_8_bytes_of_sha256():
    """By hand: SHA-256 of "salt:7:key:2", first 8 bytes big-endian, shifted right once; the
    theorem chunks (properties.report.shard_seed) and the fuzz seed ranges
    (properties.fuzz.shard_seed) are this derivation with their own salts."""
    from properties.fuzz import shard_seed as fuzz_seed
    from properties.report import shard_seed as theorem_seed

    digest = hashlib.sha256(b"salt:7:key:2").digest()
    assert dist.derive_seed("salt", 7, "key", 2) == int.from_bytes(digest[:8], "big") >> 1
    assert 0 <= dist.derive_seed("salt", 7) < 2**63
    assert theorem_seed(0, "spe", 1) == dist.derive_seed("pamdp/theorem-shard@1", 0, "spe", 1)
    by_hand = hashlib.sha256(b"pamdp/fuzz-shard@1:1:0").digest()
    assert fuzz_seed(1, 0) == int.from_bytes(by_hand[:8], "big") >> 1
    assert len({fuzz_seed(1, i) for i in range(50)} | {fuzz_seed(2, 0)}) == 51


def test_fingerprint_depends_on_run_and_every_shard():
    base = dist.fingerprint({"a": 1}, shards(2))
    assert base == dist.fingerprint({"a": 1}, shards(2))
    assert base != dist.fingerprint({"a": 2}, shards(2))
    assert base != dist.fingerprint({"a": 1}, shards(2, extra=1))
    assert base != dist.fingerprint({"a": 1}, list(reversed(shards(2))))


@pytest.mark.skipif(not dist.ray_available(), reason="Ray (the distributed extra) not installed")
def test_two_local_ray_workers_give_the_serial_results_and_journal(tmp_path):
    """Starts and shuts down a local Ray instance (about 10 s)."""
    from ray import cloudpickle

    # workers cannot import this test module: send its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        _compare_serial_and_ray(tmp_path)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _compare_serial_and_ray(tmp_path: Path) -> None:
    import ray

    serial_path, ray_path = tmp_path / "serial.jsonl", tmp_path / "ray.jsonl"
    serial = run_shards(
        square_digest, shards(6), journal=Journal.open(serial_path, {}, shards(6), resume=False)
    )
    journal = Journal.open(ray_path, {}, shards(6), resume=False)
    on_ray = run_shards(square_digest, shards(6), engine=Engine(workers=2), journal=journal)
    assert not ray.is_initialized()  # shut down again
    assert on_ray == serial == expected(6)

    def entries(path: Path) -> dict[str, Any]:
        lines = path.read_text().splitlines()
        return {json.loads(x)["shard"]: json.loads(x)["result"] for x in lines[1:]}

    # completion order may differ; the journalled results do not
    assert entries(ray_path) == entries(serial_path)
