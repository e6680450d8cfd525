"""Tests of the pytest plugin (``pytest --pamdp-solver=module:function``), with pytester."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SOLVERS = f"""
import sys
sys.path.insert(0, {str(EXAMPLES)!r})
import myopic
import pamdp_adapter
import two_by_two
from solvers.backward_induction import solve_backward_induction


def good(document):
    return pamdp_adapter.solve(document)


def bad(document):
    return myopic.solve(document)


def partial(document):
    return two_by_two.solve(document)


def exact_model(model):
    return solve_backward_induction(model, exact=True)
"""

FAST = ["-p", "no:cacheprovider", "--pamdp-max-examples=15"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(their_solvers=SOLVERS)
    pytester.makepyfile(test_theirs="def test_their_own():\n    assert True\n")
    pytester.syspathinsert()
    return pytester


def test_inert_without_a_solver(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "pamdp[" not in result.stdout.str()


def test_a_correct_solver_passes_the_whole_suite(project: pytest.Pytester) -> None:
    result = project.runpytest("--pamdp-solver=their_solvers:good", "-v", *FAST)
    result.assert_outcomes(passed=7)  # their test + 3 hand-derived + tree + 2 fuzz families
    result.stdout.fnmatch_lines(
        ["*pamdp[[]three-state/hidden/gamma=1[]] PASSED*", "*pamdp[[]fuzz/discounted[]] PASSED*"]
    )


def test_a_wrong_solver_fails_with_a_minimal_counterexample(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--pamdp-solver=their_solvers:bad",
        "--pamdp-families=episodic",
        "-p",
        "no:cacheprovider",
        "--pamdp-max-examples=150",
        "--pamdp-shrink-budget=8",
    )
    result.assert_outcomes(passed=4, failed=2)  # myopic solves the §7 examples right
    result.stdout.fnmatch_lines(
        [
            "*FAILED: * failure class(es)*",
            "*minimal instance: 2 state(s)*",
            "*wrong (solver under test) vs right*",
            "FAILED pamdp[[]paper-tree/depth=5[]]*",
        ]
    )


def test_a_partial_solver_passes_with_default_options(project: pytest.Pytester) -> None:
    """Must show (issue 12): the 2×2-only solver, default options (both families, as
    ``pamdp fuzz --family all``): nothing fails; the discounted family, entirely outside its
    scope, is skipped with the reason; the episodic share is in the report section."""
    result = project.runpytest("--pamdp-solver=their_solvers:partial", "-rA", *FAST)
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*unsupported: * of * instance(s) (*%) were outside the solver's scope*",
            "*SKIPPED*fuzz/discounted: the solver answered unsupported on all*",
        ]
    )


def test_scope_options_reach_the_fuzzer(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--pamdp-solver=their_solvers:partial",
        "--pamdp-families=episodic",
        "--pamdp-two-by-two",
        "--pamdp-max-states=2",
        "--pamdp-hidden-action",
        "-rA",
        "-k",
        "fuzz",
        *FAST,
    )
    result.assert_outcomes(passed=1, deselected=5)
    assert "unsupported:" not in result.stdout.str()  # every instance was within scope


def test_model_input_and_keyword_selection(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--pamdp-solver=their_solvers:exact_model",
        "--pamdp-input=model",
        "-k",
        "three-state",
        *FAST,
    )
    result.assert_outcomes(passed=3, deselected=4)


def test_a_command(project: pytest.Pytester) -> None:
    command = (
        f"{shlex.quote(sys.executable)} {EXAMPLES / 'textbook_solver.py'} {{instance}} {{solution}}"
    )
    result = project.runpytest(
        f"--pamdp-command={command}",
        "--pamdp-families=episodic",
        "-p",
        "no:cacheprovider",
        "--pamdp-max-examples=5",
    )
    result.assert_outcomes(passed=6)


def test_the_fixture_gives_the_solver(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fixture="""
        def test_uses_it(pamdp_solver):
            from theory.generators import three_state_example
            from properties.fuzz import attempt
            assert attempt(pamdp_solver, three_state_example()).kind == "ok"
    """
    )
    result = project.runpytest("--pamdp-solver=their_solvers:good", "-k", "uses_it", *FAST)
    result.assert_outcomes(passed=1, deselected=7)
    skipped = project.runpytest("-k", "uses_it", "-p", "no:cacheprovider")
    skipped.assert_outcomes(skipped=1, deselected=1)


def test_bad_options_are_usage_errors(project: pytest.Pytester) -> None:
    result = project.runpytest("--pamdp-solver=no_such_module:solve", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pamdp-solver=no_such_module:solve: cannot load it*"])
    result = project.runpytest(
        "--pamdp-solver=their_solvers:good", "--pamdp-families=weird", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
