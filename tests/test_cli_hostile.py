"""The hostile-input catalogue of issue 11 at the command line (pamdp/cli.py's handler).

Every loader-level case of tests/test_hostile_input.py is fed to ``pamdp solve`` (instances) or
``pamdp verify`` (solutions): the exit code is 2, the message names the field, no traceback is
printed, nothing is left behind, and it returns within a few seconds. Then the CLI-only bullets
of the issue: exit codes that never let a crash read as a verdict, interrupted and failed
writes, and arguments that used to be silently accepted or to crash.
"""

from __future__ import annotations

import json
import time

import pytest
from test_hostile_input import INSTANCE_CASES, SOLUTION_CASES, VALID_INSTANCE, _valid_solution

from pamdp.cli import main

FEW_SECONDS = 5.0
REJECTED_INSTANCES = [case for case in INSTANCE_CASES if case.field is not None]
# a negative payment is a verdict, not malformed input: verify reads it and reports a
# limited-liability violation (exit 1), tests/test_verify.py
REJECTED_SOLUTIONS = [
    case for case in SOLUTION_CASES if case.field is not None and case.name != "negative-payment"
]


def _run(argv, capsys):
    start = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert seconds < FEW_SECONDS, argv
    return code, captured


@pytest.mark.parametrize("case", REJECTED_INSTANCES, ids=[c.name for c in REJECTED_INSTANCES])
def test_solve_refuses_every_hostile_instance(tmp_path, capsys, case):
    path = tmp_path / "instance.json"
    path.write_bytes(case.build())
    output = tmp_path / "solution.json"
    code, captured = _run(["solve", str(path), "-o", str(output)], capsys)
    assert code == 2
    assert case.field in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance.json"]  # nothing left


@pytest.mark.parametrize("case", REJECTED_SOLUTIONS, ids=[c.name for c in REJECTED_SOLUTIONS])
def test_verify_refuses_every_hostile_solution_with_2_not_1(tmp_path, capsys, case):
    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(VALID_INSTANCE))
    solution = tmp_path / "solution.json"
    solution.write_bytes(case.build().replace(b'"@@"', b"NaN"))
    code, captured = _run(["verify", str(instance), str(solution)], capsys)
    assert code == 2, captured.err
    # document-level problems (binary, empty, too deep) name the file instead of a field
    assert (case.field in captured.err) or (
        case.field == "<document>" and str(solution) in captured.err
    )


def test_a_huge_exponent_is_refused_at_once(tmp_path, capsys):
    text = json.dumps(VALID_INSTANCE).replace('"-4/5"', "1e1000000000", 1)
    path = tmp_path / "instance.json"
    path.write_text(text)
    code, captured = _run(["solve", str(path)], capsys)
    assert code == 2 and "agent_reward" in captured.err


def test_a_typo_is_an_error_with_a_suggestion(tmp_path, capsys):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps({**VALID_INSTANCE, "observed_actoin": True}))
    code, captured = _run(["solve", str(path)], capsys)
    assert code == 2 and "observed_action" in captured.err


def test_a_solution_for_another_instance_needs_the_flag(tmp_path, capsys):
    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(VALID_INSTANCE))
    solution = tmp_path / "solution.json"
    solution.write_text(json.dumps({**_valid_solution(), "instance": "another instance"}))
    code, captured = _run(["verify", str(instance), str(solution)], capsys)
    assert code == 2 and "another instance" in captured.err
    code, captured = _run(["verify", str(instance), str(solution), "--allow-name-mismatch"], capsys)
    assert code == 0 and "another instance" in captured.out


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "i.json", "s.json", "--max-states", "-1"],
        ["verify", "i.json", "s.json", "--tolerance", "1e1000000000"],
        ["solve", "i.json", "--max-iterations", "0"],
        ["example", "--depth", "40"],
        ["generate", "tree", "--states", "7", "-o", "x.json"],
        ["generate", "tree", "--discounted", "-o", "x.json"],
        ["generate", "random", "--discount", "1e1000000000", "-o", "x.json"],
    ],
)
def test_bad_arguments_exit_2(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, _ = _run(argv, capsys)
    assert code == 2
    assert not (tmp_path / "x.json").exists()


def test_an_internal_error_exits_3_not_1(tmp_path, capsys, monkeypatch):
    """A bug inside verification must never read as the verdict "not an SPE" (exit 1)."""
    import properties.verify

    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(VALID_INSTANCE))
    solution = tmp_path / "solution.json"
    solution.write_text(json.dumps(_valid_solution()))

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(properties.verify, "verify_solution", broken)
    code, captured = _run(["verify", str(instance), str(solution)], capsys)
    assert code == 3
    assert "internal error" in captured.err and "planted bug" in captured.err


def test_ctrl_c_exits_130(tmp_path, capsys, monkeypatch):
    import solvers.solve

    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(VALID_INSTANCE))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solvers.solve, "solve", interrupted)
    code, captured = _run(["solve", str(instance)], capsys)
    assert code == 130 and "interrupted" in captured.err


def test_an_interrupted_write_keeps_the_previous_file(tmp_path, capsys, monkeypatch):
    """Ctrl-C (or a full disk) while the solution is being written: the previous solution
    file is untouched and no temporary file is left."""
    import theory.atomic

    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(VALID_INSTANCE))
    output = tmp_path / "solution.json"
    assert main(["solve", str(instance), "--exact", "-o", str(output)]) == 0
    previous = output.read_bytes()
    real_replace = theory.atomic.os.replace

    for error in (KeyboardInterrupt(), OSError(28, "No space left on device")):

        def failing(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(theory.atomic.os, "replace", failing)
        code = main(["solve", str(instance), "-o", str(output)])
        assert code in (130, 2, 3)
        assert output.read_bytes() == previous
        assert sorted(p.name for p in tmp_path.iterdir()) == ["instance.json", "solution.json"]
        monkeypatch.setattr(theory.atomic.os, "replace", real_replace)
    capsys.readouterr()
