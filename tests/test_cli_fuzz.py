"""Tests of ``pamdp fuzz`` (pamdp/fuzz.py; issues 4, 12): exit codes, the JSON report, the
scope flags, the run folder and its re-check commands, run as a user would."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pamdp.fuzz import main as fuzz_main

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
