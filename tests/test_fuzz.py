"""Tests of properties.fuzz (issues 4, 12): differential fuzzing, failure classes, scope.

Must show (issue 12): one run (``--family episodic``, fixed seed) against
examples/closed_form_2x2.py — which divides by zero when two actions have the same outcome
distribution *and* pays negative amounts when the outcome order is reversed — reports both
classes, the wrong-answer class shrunk to one state, without patching the solver; a 2×2-only
solver answering "unsupported" elsewhere passes ``--family all`` with the share reported.

"Minimal" is checked as defined in properties.fuzz_shrink: no structural reduction (a subgame,
one state, action or outcome fewer, one reward zeroed) of a class's minimal instance still
fails with the same kind and signature.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from properties import check_solver
from properties.fuzz import (
    CRASH,
    UNCHECKED,
    UNSUPPORTED,
    FailureClass,
    FunctionSolver,
    SolverCheckError,
    Unsupported,
    _judged,
    attempt,
    fuzz,
)
from properties.fuzz_shrink import _leaf_values
from solvers.backward_induction import solve_backward_induction
from theory.format import load_instance
from theory.generators import three_state_example
from theory.spe import NEGATIVE_PAYMENT, NOT_FOLLOWED, OVERPAYMENT, PRINCIPAL_DEVIATION
from theory.transforms import InstanceFields

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def assert_minimal(failure: FailureClass, solver: Any) -> None:
    """The class's instance fails, and no structural reduction fails with the same class."""
    assert failure.shrink_complete
    assert attempt(solver, failure.model).key == (failure.kind, failure.signature)
    for candidate in InstanceFields.of(failure.model).candidates(_leaf_values):
        smaller = candidate.build()
        if smaller is not None:
            assert attempt(solver, smaller).key != (failure.kind, failure.signature)


def by_kind(report: Any, kind: str) -> FailureClass:
    found = [f for f in report.failures if f.kind == kind]
    assert found, report.summary()
    return found[0]


# ------------------------------------------------------------- the two-bug must-show
def test_one_run_reports_both_bugs_each_shrunk_on_its_own():
    """examples/closed_form_2x2.py, unpatched. Its 2×2 fast path computes
    ``b(o1) = (Q̄(x) − Q̄(a)) / (𝒪(a)(o1) − 𝒪(x)(o1))``: with identical outcome distributions
    the denominator is 0 (a ZeroDivisionError), and when ``a`` makes o1 *less* likely
    (reversed order) the payment is negative. Both classes come out of one run; each is
    shrunk with its own predicate to one state, and the first unshrunk instance is kept."""
    solver = FunctionSolver(example("closed_form_2x2").solve)
    report = fuzz(solver, family="episodic", max_examples=200, seed=1, shrink_budget=30)
    kinds = {f.kind for f in report.failures}
    assert {CRASH, NEGATIVE_PAYMENT} <= kinds, report.summary()
    crash = by_kind(report, CRASH)
    assert crash.signature == "ZeroDivisionError: Fraction(N, N)"
    assert crash.size[0] == 1
    probs = crash.model.exact_data().outcome_probs  # the two actions' distributions coincide
    assert list(probs[0, 0]) == list(probs[0, 1])
    wrong = by_kind(report, NEGATIVE_PAYMENT)
    assert wrong.size == (1, 2, 2)
    assert wrong.attempt.report is not None
    negative = [x for x in wrong.attempt.report.states[0].contract if x < 0]
    assert negative, "the minimal wrong answer pays a negative amount"
    # the reversed order: the recommended action makes the second outcome less likely
    a = wrong.attempt.report.states[0].recommended
    p = wrong.model.exact_data().outcome_probs[0]
    assert p[a][1] < p[1 - a][1]
    for failure in (crash, wrong):
        assert failure.count >= 1 and failure.first_seen >= 1
        assert failure.first_message
        assert_minimal(failure, solver)
    text = report.summary()
    assert "[1]" in text and "[2]" in text and "first seen on instance" in text


def test_stop_at_first_ends_the_search_at_the_first_failure():
    solver = FunctionSolver(example("closed_form_2x2").solve)
    report = fuzz(solver, family="episodic", max_examples=200, seed=1, stop_at_first=True)
    assert report.stopped == "first_failure" and len(report.failures) == 1
    assert report.tried == report.failures[0].first_seen


# ------------------------------------------------------------------ scope protocol
def test_a_partial_solver_passes_every_family_with_the_unsupported_share():
    """examples/two_by_two.py solves episodic 2×2 instances by the closed form and answers
    "unsupported" elsewhere: never a failure, and the share is reported."""
    report = fuzz(FunctionSolver(example("two_by_two").solve), family="all", max_examples=150)
    assert report.ok, report.summary()
    assert 0 < report.unsupported < report.tried
    assert report.unsupported_share == report.unsupported / report.tried
    assert "were outside the solver's scope" in report.summary()
    # within its scope everything is checked
    scoped = fuzz(
        FunctionSolver(example("two_by_two").solve),
        family="episodic",
        two_by_two=True,
        max_examples=60,
    )
    assert scoped.ok and scoped.unsupported == 0 and scoped.tried > 0


def test_unsupported_answers_in_every_form():
    model = three_state_example()

    def raises(doc: dict[str, Any]) -> Any:
        raise Unsupported("hidden action only")

    assert attempt(FunctionSolver(raises), model).kind == UNSUPPORTED
    assert attempt(lambda doc: {"unsupported": "no"}, model).kind == UNSUPPORTED
    assert attempt(lambda doc: '{"unsupported": "no"}', model).kind == UNSUPPORTED
    result = attempt(FunctionSolver(raises), model)
    assert not result.failed and result.message == "hidden action only"


def test_an_all_unsupported_solver_is_said_to_have_checked_nothing():
    report = fuzz(lambda doc: {"unsupported": "nothing"}, family="episodic", max_examples=10)
    assert report.ok and report.unsupported == report.tried
    assert "NO ANSWER CHECKED" in report.summary()


# ------------------------------------------------------------------- wrong solvers rejected
def test_observed_action_payments_rejected_on_one_hidden_action_state():
    """The observed-action price on a hidden-action instance: the agent collects the payment
    without taking the recommended action. One state suffices."""
    solver = FunctionSolver(example("observed_action_payments").solve)
    report = fuzz(solver, family="episodic", observed_action=False, max_examples=300, seed=0)
    failure = by_kind(report, NOT_FOLLOWED)
    assert failure.size[0] == 1 and not failure.model.observed_action
    assert_minimal(failure, solver)
    # the same rule is exactly right when actions are observed
    assert fuzz(solver, family="episodic", observed_action=True, max_examples=60).ok


def test_ties_against_the_principal_rejected_on_one_state():
    """Buying a strict preference (ε = 10⁻⁶) instead of relying on ties going to the
    recommendation overpays; one state with two actions suffices."""
    solver = FunctionSolver(example("ties_against_principal").solve)
    report = fuzz(solver, family="episodic", max_examples=300, seed=0)
    failure = by_kind(report, OVERPAYMENT)
    assert failure.size[:2] == (1, 2)
    assert_minimal(failure, solver)


def test_continuation_values_ignored_rejected_on_two_states():
    solver = FunctionSolver(example("myopic").solve)
    report = fuzz(solver, family="episodic", max_examples=300, seed=0, stop_at_first=True)
    [failure] = report.failures
    assert failure.size[0] == 2  # one state has no continuation to ignore
    assert_minimal(failure, solver)


def test_rents_ignored_rejected_on_two_hidden_action_states():
    """Passing the agent's no-contract value upstream misprices its limited-liability rent:
    it takes a state with a rent and one upstream of it, under hidden action."""
    solver = FunctionSolver(example("rent_blind").solve)
    report = fuzz(
        solver,
        family="episodic",
        observed_action=False,
        max_examples=600,
        seed=0,
        stop_at_first=True,
    )
    [failure] = report.failures
    assert failure.size[0] == 2 and not failure.model.observed_action
    assert failure.kind in (PRINCIPAL_DEVIATION, NOT_FOLLOWED, OVERPAYMENT)
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


def test_check_solver_raises_with_the_failure_classes():
    with pytest.raises(SolverCheckError) as info:
        check_solver(
            example("myopic").solve, family="episodic", max_examples=200, stop_at_first=True
        )
    assert "FAILED:" in str(info.value) and "minimal instance: 2 state(s)" in str(info.value)
    assert info.value.report.failure is not None


def test_time_budget_stops_the_search():
    report = fuzz(
        FunctionSolver(example("textbook_solver").solve),
        family="episodic",
        max_examples=10_000,
        time_budget=0.5,
    )
    assert report.ok and report.budget_exhausted and report.tried < 10_000


def test_instances_without_a_known_spe_are_not_blamed_on_the_solver():
    """On the two-state discounted instance of tests/test_verify.py no pure stationary policy
    is an SPE, so no answer can pass; the fuzzer marks it 'unchecked' instead of a failure."""
    model = load_instance(EXAMPLES / "no_pure_stationary_spe.json")
    result = attempt(FunctionSolver(example("pamdp_adapter").solve), model)
    assert result.failed  # attempt() alone only verifies
    judged = _judged(result, model)
    assert judged.kind == UNCHECKED and not judged.failed


def test_a_run_is_cut_into_seed_ranges():
    """45 instances in chunks of 20: shards of 20, 20 and 5 with seeds shard_seed(7, i); no
    chunk (or one at least as large): one shard, the unsharded search (seed 7, 45)."""
    from properties.fuzz import fuzz_shards, shard_seed

    spec = {"function": "closed_form_2x2:solve"}
    three = fuzz_shards(spec, max_examples=45, seed=7, chunk=20, family="episodic")
    assert [s.key for s in three] == ["fuzz#1/3", "fuzz#2/3", "fuzz#3/3"]
    assert [s.arguments["max_examples"] for s in three] == [20, 20, 5]
    assert [s.arguments["seed"] for s in three] == [shard_seed(7, i) for i in range(3)]
    assert all(s.arguments["options"] == {"family": "episodic"} for s in three)
    for chunk in (None, 45, 100):
        [one] = fuzz_shards(spec, max_examples=45, seed=7, chunk=chunk)
        assert (one.key, one.arguments["seed"], one.arguments["max_examples"]) == (
            "fuzz#1/1",
            7,
            45,
        )
    with pytest.raises(TypeError, match="unknown option"):
        fuzz_shards(spec, max_examples=5, output_dir="x")
    with pytest.raises(ValueError, match="chunk"):
        fuzz_shards(spec, max_examples=5, chunk=0)
