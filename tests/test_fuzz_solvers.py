"""Tests of properties.fuzz_solvers (issue 12): the command, worker and function routes and
the scope protocol (exit status 3, Unsupported, {"unsupported": ...})."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from properties.fuzz import (
    CRASH,
    INVALID_OUTPUT,
    TIMEOUT,
    UNSUPPORTED,
    CommandSolver,
    FunctionSolver,
    WorkerSolver,
    attempt,
    fuzz,
    load_function,
)
from theory.generators import three_state_example

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PYTHON = shlex.quote(sys.executable)


def test_command_crash_hang_garbage_and_unsupported():
    model = three_state_example()
    crash = CommandSolver(f"{PYTHON} -c 'import sys; sys.exit(5)' {{instance}}")
    result = attempt(crash, model)
    assert result.kind == CRASH and "exit status 5" in result.message
    unsupported = CommandSolver(
        f"{PYTHON} -c 'import sys; print(\"2x2 only\", file=sys.stderr); sys.exit(3)' {{instance}}"
    )
    result = attempt(unsupported, model)
    assert result.kind == UNSUPPORTED and result.message == "2x2 only" and not result.failed
    hang = CommandSolver("sleep 30 # {instance}", timeout=0.3)
    result = attempt(hang, model)
    assert result.kind == TIMEOUT and "0.3 s" in result.message
    garbage = CommandSolver("echo 'not json' # {instance}")  # no {solution}: stdout is read
    assert attempt(garbage, model).kind == INVALID_OUTPUT
    assert (
        attempt(lambda doc: {"format": "pamdp/solution@1", "policy": []}, model).kind
        == INVALID_OUTPUT
    )
    assert attempt(lambda doc: [1, 2], model).kind == INVALID_OUTPUT


def test_a_function_that_raises_is_a_crash_with_its_exception():
    def boom(doc: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("solver exploded")

    result = attempt(FunctionSolver(boom), three_state_example())
    assert result.kind == CRASH and "solver exploded" in result.message
    assert result.signature == "RuntimeError: solver exploded"


def test_the_python_worker_answers_line_by_line_and_is_started_once():
    worker = WorkerSolver(f"{PYTHON} {EXAMPLES / 'python_worker.py'} textbook_solver:solve")
    with worker:
        report = fuzz(worker, family="episodic", max_examples=30, seed=3)
        assert report.ok and report.tried > 5, report.summary()
    assert worker.starts == 1


WORKER = """
import json, sys, time
for line in sys.stdin:
    doc = json.loads(line)
    n = len(doc["states"])
    if n == 2:
        time.sleep(30)          # hangs on two states
    if n == 3:
        sys.exit(7)             # dies on three states
    if n == 4:
        print(json.dumps({"error": "ValueError: four states"}), flush=True)
        continue
    print(json.dumps({"unsupported": "one state"}), flush=True)
"""


def test_a_worker_is_killed_on_timeout_restarted_after_a_crash(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    worker = WorkerSolver(f"{PYTHON} {script}", timeout=1.0)
    from theory.generators import paper_tree

    one = paper_tree(1, 0)  # 1 state
    three = paper_tree(2, 0)  # 3 states
    try:
        assert attempt(worker, one).kind == UNSUPPORTED
        result = attempt(worker, three)
        assert result.kind == CRASH and "exited (status 7)" in result.message
        assert attempt(worker, one).kind == UNSUPPORTED  # a fresh worker
        assert worker.starts == 2
    finally:
        worker.close()


def test_a_worker_error_line_is_a_crash_and_a_hang_a_timeout(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    worker = WorkerSolver(f"{PYTHON} {script}", timeout=0.5)
    from theory.builders import instance_from_arrays

    def states(n: int) -> Any:
        return instance_from_arrays(
            agent_reward=[[0, 0]] * n,
            principal_reward=[[0, 0]] * n,
            outcome_probs=[[[1, 0], [0, 1]]] * n,
            transitions=[[[], []]] * n,
            discount=1,
        )

    try:
        result = attempt(worker, states(4))
        assert result.kind == CRASH and result.signature == "ValueError: four states"
        assert attempt(worker, states(2)).kind == TIMEOUT
        assert attempt(worker, states(1)).kind == UNSUPPORTED
        assert worker.starts == 2
    finally:
        worker.close()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_worker_is_right_within_its_scope():
    worker = WorkerSolver(f"node {EXAMPLES / 'two_by_two_worker.js'}")
    report = fuzz(worker, family="all", max_examples=120, seed=0)
    assert report.ok, report.summary()
    assert 0 < report.unsupported < report.tried


def test_load_function_names_what_is_wrong():
    assert load_function("json:dumps")({"a": 1}) == '{"a": 1}'
    with pytest.raises(ValueError, match="MODULE:FUNCTION"):
        load_function("json")
    with pytest.raises(ImportError):
        load_function("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="not callable"):
        load_function("json:__doc__")
