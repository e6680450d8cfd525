"""Tests of ``pamdp fuzz`` (pamdp/fuzz.py; issues 4, 12): exit codes, the JSON report, the
scope flags, the run folder and its re-check commands, run as a user would; and the sharded
run (issue 14): 2 shards serially against 2 local Ray workers, and a resumed journal."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pamdp.fuzz import main as fuzz_main
from properties.fuzz import shard_seed
from solvers.distributed import ray_available

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PYTHON = shlex.quote(sys.executable)
BIN = Path(sys.executable).parent  # where the `pamdp` script is installed


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


def run_shell(command: str, cwd: Path) -> int:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["PYTHONPATH"] = str(EXAMPLES)
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True).returncode


def test_two_bugs_in_one_run_json_report_and_working_recheck_commands(tmp_path, capsys):
    """Must show (issue 12), through the CLI: ``--family episodic --seed 1`` against the
    unpatched closed_form_2x2 solver exits 1 with both classes; the JSON report is
    pamdp/fuzz-report@1; the printed re-check commands reproduce the verdicts."""
    code = fuzz_main(
        [
            "--function",
            "closed_form_2x2:solve",
            "--family",
            "episodic",
            "--seed",
            "1",
            "--max-examples",
            "200",
            "--quiet",
            "--json",
            "--output-dir",
            str(tmp_path / "runs"),
        ]
    )
    assert code == 1
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "pamdp/fuzz-report@1" and document["seed"] == 1
    kinds = {entry["kind"]: entry for entry in document["failures"]}
    assert {"crash", "negative_payment"} <= set(kinds)
    assert len(kinds["negative_payment"]["minimal_instance"]["states"]) == 1
    assert kinds["crash"]["signature"] == "ZeroDivisionError: Fraction(N, N)"
    folder = Path(document["directory"])
    assert folder.parent == tmp_path / "runs" and folder.name.startswith("run-")
    for name in document["files"]:
        assert (folder / name).is_file()
    wrong = kinds["negative_payment"]
    verify_wrong, verify_right = wrong["recheck"]
    assert run_shell(verify_wrong, tmp_path) == 1
    assert run_shell(verify_right, tmp_path) == 0
    rerun_crash = kinds["crash"]["recheck"][0]
    assert run_shell(rerun_crash, tmp_path) != 0  # the function still divides by zero


def test_a_partial_solver_passes_family_all_and_the_share_is_printed(capsys):
    code = fuzz_main(
        ["--function", "two_by_two:solve", "--family", "all", "--max-examples", "120", "--quiet"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "were outside the solver's scope (not failures)" in out
    assert "OK: every answer was an SPE" in out


def test_a_command_answering_exit_3_passes_with_two_by_two(tmp_path, capsys):
    command = f"{PYTHON} {EXAMPLES / 'two_by_two.py'} {{instance}} {{solution}}"
    args = ["--command", command, "--family", "episodic", "--max-examples", "8", "--quiet"]
    assert fuzz_main([*args, "--output-dir", str(tmp_path)]) == 0
    assert "unsupported:" in capsys.readouterr().out
    assert fuzz_main([*args, "--two-by-two", "--output-dir", str(tmp_path)]) == 0
    assert "unsupported:" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # a passing run writes nothing


def test_the_worker_route(capsys):
    worker = f"{PYTHON} {EXAMPLES / 'python_worker.py'} two_by_two:solve"
    assert fuzz_main(["--worker", worker, "--max-examples", "40", "--quiet"]) == 0
    assert "WorkerSolver(" in capsys.readouterr().out


def test_invalid_arguments_exit_2(capsys):
    good = f"{PYTHON} {EXAMPLES / 'textbook_solver.py'} {{instance}} {{solution}}"
    assert fuzz_main(["--command", "my-solver", "--quiet"]) == 2  # no {instance}
    assert fuzz_main(["--function", "no_such_module:solve", "--quiet"]) == 2
    assert fuzz_main(["--command", good, "--max-states", "0", "--quiet"]) == 2
    assert fuzz_main(["--worker", " ", "--quiet"]) == 2
    assert fuzz_main(["--command", good, "--tolerance", "x", "--quiet"]) == 2


# ------------------------------------------------------------- shards (issue 14)
#: 40 instances as 2 shards of 20 (seed ranges), against the two-bug solver of example 2.
SHARDED = [
    "--function",
    "closed_form_2x2:solve",
    "--family",
    "episodic",
    "--seed",
    "1",
    "--max-examples",
    "40",
    "--chunk",
    "20",
    "--shrink-budget",
    "20",
    "--quiet",
    "--json",
]
needs_ray = pytest.mark.skipif(not ray_available(), reason="Ray (distributed extra) missing")
_TIMES = re.compile(r"\d+\.\d+ s\b")


def comparable(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report and every saved file, without what legitimately differs between runs: the
    times (``seconds`` fields, ``… s`` in the texts) and the run folder's path."""
    folder = document["directory"]

    def untimed(text: str) -> str:
        return _TIMES.sub("T s", text.replace(folder, "RUN"))

    def report(data: dict[str, Any]) -> dict[str, Any]:
        out = json.loads(untimed(json.dumps(data)))
        out.pop("seconds")
        for failure in out["failures"]:
            failure["attempt"].pop("seconds")
            failure["attempt"].pop("report_seconds")
        return out

    files: dict[str, Any] = {}
    for name in document["files"]:
        text = (Path(folder) / name).read_text()
        files[name] = report(json.loads(text)) if name == "report.json" else untimed(text)
    return report(document), files


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = fuzz_main(argv)
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def serial_shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The 2 shards run serially in this process (computed once for this module)."""
    out = tmp_path_factory.mktemp("serial")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLES))
        import io
        from contextlib import redirect_stdout

        buffer = io.StringIO()
        with redirect_stdout(buffer):
            status = fuzz_main([*SHARDED, "--output-dir", str(out)])
    assert status == 1
    return json.loads(buffer.getvalue()), out


def test_serial_shards_merge_as_defined(serial_shards):
    """The merged report against the shards in the journal: 2 shards of 20 instances with
    seeds shard_seed(1, 0), shard_seed(1, 1); tried summed; a class first seen in shard 2
    is numbered after shard 1's instances; both bugs found (crash, negative payment)."""
    document, out = serial_shards
    lines = (out / "shards.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 2
    shards = [json.loads(line)["result"] for line in lines[1:]]
    assert [s["seed"] for s in shards] == [shard_seed(1, 0), shard_seed(1, 1)]
    assert [s["max_examples"] for s in shards] == [20, 20]
    assert document["seed"] == 1 and document["max_examples"] == 40
    assert document["tried"] == shards[0]["tried"] + shards[1]["tried"]
    kinds = {entry["kind"]: entry for entry in document["failures"]}
    assert {"crash", "negative_payment"} <= set(kinds)
    for entry in document["failures"]:
        key = (entry["kind"], entry["signature"])
        where = [i for i, s in enumerate(shards) if key in _classes(s)]
        source = _classes(shards[where[0]])[key]
        assert entry["minimal_instance"] == source["minimal_instance"]
        offset = shards[0]["tried"] if where[0] == 1 else 0
        assert entry["first_seen"] == source["first_seen"] + offset
        assert entry["count"] == sum(_classes(shards[i])[key]["count"] for i in where)
    folder = Path(document["directory"])
    assert folder.parent == out and (folder / "report.json").is_file()


def _classes(shard: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["kind"], c["signature"]): c for c in shard["failures"]}


@needs_ray
def test_two_ray_workers_give_the_serial_report_and_files(
    serial_shards, tmp_path, capsys, monkeypatch
):
    """The same shards on 2 local Ray workers (started and shut down by the command): the
    same report and the same saved files, less times and the folder's name."""
    import ray

    monkeypatch.setenv("PYTHONPATH", str(EXAMPLES))  # the workers import the solver module
    document, _ = serial_shards
    status, on_ray = run_cli([*SHARDED, "--workers", "2", "--output-dir", str(tmp_path)], capsys)
    assert not ray.is_initialized()
    assert status == 1
    assert comparable(on_ray) == comparable(document)


def test_an_interrupted_run_resumes_to_the_same_report(serial_shards, tmp_path, capsys):
    """A journal cut as a kill leaves it (the first shard in, the second one's line half
    written) is resumed: only the missing shard runs, and the report and files are those of
    the uninterrupted run."""
    document, out = serial_shards
    header, first, second = (out / "shards.jsonl").read_text().splitlines()
    (tmp_path / "shards.jsonl").write_text(f"{header}\n{first}\n{second[: len(second) // 2]}")
    status, resumed = run_cli([*SHARDED, "--resume", "--output-dir", str(tmp_path)], capsys)
    assert status == 1
    assert comparable(resumed) == comparable(document)
    lines = (tmp_path / "shards.jsonl").read_text().splitlines()
    # header, shard 1 as journalled (not run again), the cut line, shard 2 run by the resume
    assert lines[:3] == [header, first, second[: len(second) // 2]] and len(lines) == 4
    assert json.loads(lines[3])["shard"] == "fuzz#2/2"


def test_sharded_runs_refuse_another_run_and_need_ray_for_workers(
    serial_shards, tmp_path, capsys, monkeypatch
):
    _, out = serial_shards
    (tmp_path / "shards.jsonl").write_text((out / "shards.jsonl").read_text())
    argv = [*SHARDED, "--output-dir", str(tmp_path)]
    assert fuzz_main([*argv, "--seed", "2", "--resume"]) == 2
    assert "different run" in capsys.readouterr().err
    assert fuzz_main(argv) == 2  # neither --resume nor --overwrite
    assert "already holds a run" in capsys.readouterr().err
    assert fuzz_main([*argv, "--workers", "2", "--address", "127.0.0.1:6379"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    assert fuzz_main([*argv, "--overwrite", "--workers", "2"]) == 2
    assert "--workers 2 needs Ray" in capsys.readouterr().err
