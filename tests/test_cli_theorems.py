"""``pamdp theorems`` with shards: serial against 2 local Ray workers, and resume after a kill.

The claims are two cheap ones, one of which (the R1 contraction, a known finding) fails on
these instances, so that counts, summaries *and* the shrunk counterexample are compared:
``--max-examples 20 --chunk 10`` makes 4 shards (2 per claim), each a Hypothesis run with its
own derived seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pamdp.cli import main
from solvers.distributed import ray_available

CLAIMS = ("metamorphic-scaling", "theorem-3.4-contraction-R1")
RUN = [
    "theorems",
    "--profile",
    "ci",
    *(w for key in CLAIMS for w in ("--claim", key)),
    "--max-examples",
    "20",
    "--chunk",
    "10",
    "--json",
]
needs_ray = pytest.mark.skipif(not ray_available(), reason="Ray (distributed extra) missing")


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The report without what legitimately differs between runs: times, the environment
    and the folder of the counterexample file (its name is kept)."""
    out = {k: v for k, v in document.items() if k not in ("seconds", "environment")}
    out["claims"] = [
        {
            **{k: v for k, v in c.items() if k not in ("seconds", "counterexample_path")},
            "file": c["counterexample_path"] and Path(c["counterexample_path"]).name,
        }
        for c in document["claims"]
    ]
    return out


def saved_files(folder: Path) -> dict[str, str]:
    """The counterexample and witness files written to ``--out``."""
    return {p.name: p.read_text() for p in sorted(folder.glob("*.json"))}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(argv)
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The serial run of the 4 shards (computed once for this module)."""
    out = tmp_path_factory.mktemp("serial")
    process = subprocess.run(
        [sys.executable, "-c", ENTRY, *RUN, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout), out


#: ``python -c ENTRY args...`` runs ``pamdp args...`` from this tree.
ENTRY = "import sys; from pamdp.cli import main; sys.exit(main(sys.argv[1:]))"


def test_the_serial_run_finds_the_known_counterexample(serial):
    document, out = serial
    by_key = {c["key"]: c for c in document["claims"]}
    assert document["ok"] and [c["key"] for c in document["claims"]] == list(CLAIMS)
    assert by_key["metamorphic-scaling"]["tried"] == 20
    r1 = by_key["theorem-3.4-contraction-R1"]
    assert r1["failures"] > 0 and r1["counterexample"] is not None
    assert (out / "theorem-3.4-contraction-R1.json").exists()
    lines = (out / "shards.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 4  # header + one line per shard
    first_failing = next(
        json.loads(x)["result"]["counterexample"]
        for x in lines[1:]
        if json.loads(x)["result"]["counterexample"] is not None
    )
    assert r1["counterexample"] == first_failing["instance"]  # the first failing shard's


@needs_ray
def test_two_ray_workers_give_the_serial_report(serial, tmp_path, capsys):
    """Same shards on 2 local Ray workers (started and shut down by the command)."""
    import ray

    document, out = serial
    status, on_ray = run_cli([*RUN, "--workers", "2", "--out", str(tmp_path)], capsys)
    assert not ray.is_initialized()
    assert status == 0
    assert comparable(on_ray) == comparable(document)
    assert saved_files(tmp_path) == saved_files(out)


def test_a_run_killed_mid_way_resumes_to_the_same_report(serial, tmp_path, capsys):
    """Kill (SIGKILL) a run after its first shard is journalled, then --resume it."""
    document, out = serial
    engine = ["--workers", "2"] if ray_available() else []
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *RUN, *engine, "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes Ray's helpers too
    )
    journal = tmp_path / "shards.jsonl"
    deadline = time.monotonic() + 45
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if journal.exists() and len(journal.read_text().splitlines()) >= 2:
                break
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group is gone if it ended
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    journalled = len(journal.read_text().splitlines()) - 1
    assert 1 <= journalled < 4, journalled  # killed mid-run, after one shard
    status, resumed = run_cli([*RUN, "--resume", "--out", str(tmp_path)], capsys)
    assert status == 0
    assert comparable(resumed) == comparable(document)
    assert saved_files(tmp_path) == saved_files(out)
    claims = [json.loads(x)["key"] for x in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert sorted(claims) == sorted(CLAIMS)


def test_resume_refuses_another_run_and_workers_need_ray(serial, tmp_path, capsys, monkeypatch):
    _, out = serial
    target = tmp_path / "run"
    target.mkdir()
    (target / "shards.jsonl").write_text((out / "shards.jsonl").read_text())
    argv = [*RUN, "--out", str(target)]
    assert main([*argv, "--seed", "1", "--resume"]) == 2
    assert "different run" in capsys.readouterr().err
    assert main(argv) == 2  # neither --resume nor --overwrite
    assert "already holds a run" in capsys.readouterr().err
    assert main([*argv, "--workers", "2", "--address", "127.0.0.1:6379"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main([*argv, "--overwrite", "--workers", "2"]) == 2
    assert "--workers 2 needs Ray" in capsys.readouterr().err
