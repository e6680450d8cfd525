"""Tests of the equilibrium claim family (properties/claims/equilibrium.py)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from claims_helpers import (
    REGRESSIONS,
    THREE,
    THREE_DISCOUNTED,
    THREE_OBSERVED,
    against_principal_solver,
    short_solver,
    skipped_level_solver,
)
from hypothesis import given

from properties.claims import claim
from properties.claims.equilibrium import check_spe, spe_violations
from properties.profiles import profile_settings
from properties.report import assert_holds
from solvers.backward_induction import solve_backward_induction
from theory.format import instance_from_dict, validate_against_schema


@pytest.mark.parametrize("model", [THREE, THREE_DISCOUNTED, THREE_OBSERVED])
def test_spe_holds_on_hand_derived_instances(model):
    result = check_spe(model)
    assert result.holds, result.explain()


def test_spe_holds_for_the_exact_solver_with_zero_tolerance():
    result = check_spe(THREE, solver=lambda m: solve_backward_induction(m, exact=True), tol=0)
    assert result.holds, result.explain()


@pytest.mark.parametrize("solver", [short_solver, against_principal_solver, skipped_level_solver])
def test_spe_catches_planted_errors(solver):
    result = check_spe(THREE, solver=solver)
    assert not result.holds


def test_spe_violations_find_an_unprofitable_offpath_response():
    # the agent strategy claimed off path uses a Q̄ that is off by one
    solution = solve_backward_induction(THREE)
    wrong_q = np.asarray(solution.q_bar, float).copy()
    wrong_q[0, 1] -= 1.0
    violations, _ = spe_violations(
        THREE,
        solution.recommended,
        solution.contracts,
        claimed_q_bar=wrong_q,
        offpath=[(0, [0.0, 0.0])],
    )
    assert any("off-path" in v for v in violations)


@profile_settings(max_examples=10)
@given(claim("spe").cases)
def test_assert_holds_passes_through_a_holding_property(case):
    assert_holds(check_spe(case["model"]), case["model"])


def test_a_failing_property_prints_a_format_v1_instance():
    @profile_settings("ci", max_examples=50)
    @given(claim("spe").cases)
    def broken(case: dict[str, Any]) -> None:
        assert_holds(check_spe(case["model"], solver=short_solver), case["model"])

    with pytest.raises(AssertionError) as caught:
        broken()
    # the shrunk example is printed (exception message and Hypothesis note) as FORMAT.md v1
    marker = "FORMAT.md v1 instance: "
    for text in [str(caught.value), *getattr(caught.value, "__notes__", [])]:
        if marker in text:
            break
    document, _ = json.JSONDecoder().raw_decode(text[text.index(marker) + len(marker) :])
    validate_against_schema(document, "instance")
    model = instance_from_dict(document)
    assert not check_spe(model, solver=short_solver).holds


def test_spe_offpath_ties_are_exact():
    """Found by the thorough run: with the agent's ties resolved *within tol* for the
    principal, the contract 1% short of a tiny minimal contract (γ = 1/1000, an agent tie)
    'saved' the principal 1.5·10⁻⁷ > tol — the leverage p_a/(p_a − p_a') times the agent's
    slack, an artefact of the tolerance, not of the solver. Off-path ties are exact now."""
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "spe-tie-tolerance-leverage.json")
    result = check_spe(model, offpath_seed=0)
    assert result.holds, result.explain()
