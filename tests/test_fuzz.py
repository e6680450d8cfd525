"""Tests of properties.fuzz and ``pamdp fuzz`` (issue 4): differential fuzzing of solvers.

Must show: fuzzing rejects each wrong solver of examples/ with a minimal counterexample and
accepts the correct ones. "Minimal" is checked as defined in properties.fuzz: no structural
reduction (a subgame, one state, action or outcome fewer, one reward zeroed) of the reported
instance still fails in the same way.
"""

from __future__ import annotations

import importlib
import json
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from properties import check_solver
from properties.fuzz import (
    UNCHECKED,
    CommandSolver,
    FunctionSolver,
    FuzzReport,
    SolverCheckError,
    _Fields,
    _judged,
    attempt,
    fuzz,
)
from properties.fuzz_cli import main as fuzz_main
from properties.verify_cli import main as verify_main
from solvers.backward_induction import solve_backward_induction
from theory.format import load_instance
from theory.generators import three_state_example

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PYTHON = shlex.quote(sys.executable)


def example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def assert_minimal(report: FuzzReport, solver: Any) -> None:
    """The reported instance fails, and none of its structural reductions fails the same way."""
    failure = report.failure
    assert failure is not None and failure.shrink_complete
    kind = failure.kind
    for candidate in _Fields.of(failure.model).candidates():
        smaller = candidate.build()
        if smaller is not None:
            assert attempt(solver, smaller).kind != kind, "a smaller instance still fails"


# ------------------------------------------------------------------- wrong solvers rejected
def test_observed_action_payments_rejected_on_one_hidden_action_state():
    """The observed-action price on a hidden-action instance: the agent collects the payment
    without taking the recommended action. One state suffices."""
    solver = FunctionSolver(example("observed_action_payments").solve)
    report = fuzz(solver, family="episodic", observed_action=False, max_examples=1000, seed=0)
    failure = report.failure
    assert failure is not None and failure.kind == "wrong"
    assert failure.size[0] == 1 and not failure.model.observed_action
    assert failure.attempt.report is not None
    assert "not_followed" in {v.kind for v in failure.attempt.report.violations}
    assert_minimal(report, solver)
    # the same rule is exactly right when actions are observed
    assert fuzz(solver, family="episodic", observed_action=True, max_examples=60).ok


def test_ties_against_the_principal_rejected_on_one_state():
    """Buying a strict preference (ε = 10⁻⁶) instead of relying on ties going to the
    recommendation overpays; one state with two actions suffices."""
    solver = FunctionSolver(example("ties_against_principal").solve)
    report = fuzz(solver, family="episodic", max_examples=1000, seed=0)
    failure = report.failure
    assert failure is not None and failure.kind == "wrong"
    assert failure.size[:2] == (1, 2)
    assert_minimal(report, solver)


def test_continuation_values_ignored_rejected_on_two_states():
    solver = FunctionSolver(example("myopic").solve)
    report = fuzz(solver, family="episodic", max_examples=1000, seed=0)
    failure = report.failure
    assert failure is not None and failure.kind == "wrong"
    assert failure.size[0] == 2  # one state has no continuation to ignore
    assert_minimal(report, solver)


def test_rents_ignored_rejected_on_two_hidden_action_states():
    """Passing the agent's no-contract value upstream misprices its limited-liability rent:
    it takes a state with a rent and one upstream of it, under hidden action."""
    solver = FunctionSolver(example("rent_blind").solve)
    report = fuzz(solver, family="episodic", observed_action=False, max_examples=2000, seed=0)
    failure = report.failure
    assert failure is not None and failure.kind == "wrong"
    assert failure.size[0] == 2 and not failure.model.observed_action
    assert_minimal(report, solver)
    # with observed actions there are no rents and the shortcut is right
    assert fuzz(solver, family="episodic", observed_action=True, max_examples=60).ok


# ------------------------------------------------------------------ correct ones accepted
def test_textbook_solver_accepted():
    report = fuzz(
        FunctionSolver(example("textbook_solver").solve),
        family="episodic",
        max_examples=150,
        seed=1,
    )
    assert report.ok, report.summary()


def test_pamdp_adapter_accepted_on_every_family():
    """pamdp's float solvers behind the adapter pass the exact check on both families (on a
    discounted instance without an SPE known to pamdp the answer is 'unchecked', not a
    failure)."""
    report = fuzz(
        FunctionSolver(example("pamdp_adapter").solve), family="all", max_examples=120, seed=2
    )
    assert report.ok, report.summary()


def test_check_solver_with_a_model_function_returning_an_spe_solution():
    report = check_solver(
        lambda model: solve_backward_induction(model, exact=True),
        input="model",
        family="episodic",
        max_examples=40,
    )
    assert report.ok and report.examples > 0


def test_check_solver_raises_with_the_minimal_counterexample():
    with pytest.raises(SolverCheckError) as info:
        check_solver(example("myopic").solve, family="episodic", max_examples=500)
    assert "FAILURE (wrong) on a minimal instance with 2 state(s)" in str(info.value)
    assert info.value.report.failure is not None


# ------------------------------------------------------------------------- the protocol
def test_command_solver_correct_and_wrong(tmp_path, capsys):
    """The file protocol end to end: the textbook solver passes; the myopic one fails, its
    minimal instance is saved with both solutions, and ``pamdp verify`` reproduces the
    verdicts from the saved files (1 for the wrong solution, 0 for the right one)."""
    good = f"{PYTHON} {EXAMPLES / 'textbook_solver.py'} {{instance}} {{solution}}"
    assert fuzz(CommandSolver(good), family="episodic", max_examples=6).ok
    bad = f"{PYTHON} {EXAMPLES / 'myopic.py'} {{instance}} {{solution}}"
    out = tmp_path / "failure"
    report = fuzz(
        CommandSolver(bad), family="episodic", max_examples=300, output_dir=out, shrink_budget=6.0
    )
    assert report.failure is not None and report.failure.kind == "wrong"
    for name in ("instance.json", "wrong_solution.json", "right_solution.json", "report.txt"):
        assert (out / name).is_file()
    assert "wrong (solver under test) vs right" in (out / "report.txt").read_text()
    capsys.readouterr()
    assert verify_main([str(out / "instance.json"), str(out / "wrong_solution.json")]) == 1
    assert verify_main([str(out / "instance.json"), str(out / "right_solution.json")]) == 0


def test_crash_hang_and_garbage_are_reported():
    model = three_state_example()
    crash = CommandSolver(f"{PYTHON} -c 'import sys; sys.exit(3)' {{instance}}")
    result = attempt(crash, model)
    assert result.kind == "crash" and "exit status 3" in result.message
    hang = CommandSolver("sleep 30 # {instance}", timeout=0.3)
    result = attempt(hang, model)
    assert result.kind == "timeout" and "0.3 s" in result.message
    garbage = CommandSolver("echo 'not json' # {instance}")  # no {solution}: stdout is read
    assert attempt(garbage, model).kind == "invalid_json"
    assert (
        attempt(lambda doc: {"format": "pamdp/solution@1", "policy": []}, model).kind
        == "invalid_solution"
    )
    assert attempt(lambda doc: [1, 2], model).kind == "invalid_solution"

    def boom(doc: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("solver exploded")

    result = attempt(FunctionSolver(boom), model)
    assert result.kind == "crash" and "solver exploded" in result.message


def test_a_hanging_command_is_shrunk_and_reported():
    report = fuzz(
        CommandSolver("sleep 30 # {instance}", timeout=0.2),
        family="episodic",
        max_examples=5,
        shrink_budget=1.0,
    )
    assert report.failure is not None and report.failure.kind == "timeout"
    assert "FAILURE (timeout)" in report.summary()


def test_time_budget_stops_the_search():
    report = fuzz(
        FunctionSolver(example("textbook_solver").solve),
        family="episodic",
        max_examples=10_000,
        time_budget=0.5,
    )
    assert report.ok and report.budget_exhausted and report.examples < 10_000


def test_instances_without_a_known_spe_are_not_blamed_on_the_solver():
    """On the two-state discounted instance of tests/test_verify.py no stationary policy is
    an SPE, so no answer can pass; the fuzzer marks it 'unchecked' instead of a failure."""
    model = load_instance(EXAMPLES / "no_markov_spe.json")
    result = attempt(FunctionSolver(example("pamdp_adapter").solve), model)
    assert result.kind == "wrong"  # attempt() alone only verifies
    judged = _judged(result, model)
    assert judged.kind == UNCHECKED and not judged.failed


# -------------------------------------------------------------------------------- CLI
def test_fuzz_cli_exit_codes(tmp_path, capsys):
    good = f"{PYTHON} {EXAMPLES / 'textbook_solver.py'} {{instance}} {{solution}}"
    assert (
        fuzz_main(
            [
                "--command",
                good,
                "--family",
                "episodic",
                "--max-examples",
                "5",
                "--quiet",
                "--output-dir",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    assert "OK: every answer was an SPE" in capsys.readouterr().out
    assert (
        fuzz_main(
            [
                "--function",
                "myopic:solve",
                "--family",
                "episodic",
                "--max-examples",
                "500",
                "--quiet",
                "--output-dir",
                str(tmp_path / "b"),
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "FAILURE (wrong)" in out and (tmp_path / "b" / "instance.json").is_file()
    assert fuzz_main(["--command", "my-solver", "--quiet"]) == 2  # no {instance}
    assert fuzz_main(["--function", "no_such_module:solve", "--quiet"]) == 2
    assert fuzz_main(["--command", good, "--tolerance", "x", "--quiet"]) == 2
    assert fuzz_main(["--command", good, "--max-states", "0", "--quiet"]) == 2
    json.loads((tmp_path / "b" / "wrong_solution.json").read_text())


@pytest.fixture(autouse=True)
def _examples_importable() -> None:
    example("textbook_solver")
