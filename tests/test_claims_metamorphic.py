"""Tests of the metamorphic claim family (properties/claims/metamorphic.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from claims_helpers import REGRESSIONS, THREE, against_principal_solver, index_order_solver

from properties.claims.metamorphic import (
    check_observed_action,
    check_relabelling,
    check_reward_scaling,
)
from solvers.backward_induction import solve_backward_induction
from theory.ties import Ties
from theory.transforms import relabel


def test_observed_action_on_the_three_state_example():
    result = check_observed_action(THREE)
    assert result.holds, result.explain()
    # PAPER.md §7: observed 6/5 against hidden 1
    assert result.measurements["information_gain"] == pytest.approx(0.2)


def test_observed_action_catches_ties_against_the_principal():
    assert not check_observed_action(THREE, solver=against_principal_solver).holds


@pytest.mark.parametrize("factor", [2, Fraction(1, 3), 10])
def test_scaling_holds(factor):
    assert check_reward_scaling(THREE, factor).holds


def test_scaling_catches_an_absolute_nudging_margin():
    result = check_reward_scaling(
        THREE, 2, solver=lambda m: solve_backward_induction(m, ties=Ties(margin=0.01))
    )
    assert not result.holds


@pytest.mark.parametrize("tie_break", ["agent_best", "lowest_index"])
def test_relabelling_holds_on_the_three_state_example(tie_break):
    result = check_relabelling(THREE, [2, 0, 1], [1, 0], [1, 0], tie_break=tie_break)
    assert result.holds, result.explain()


@pytest.mark.parametrize("tie_break", ["agent_best", "lowest_index"])
def test_relabelling_catches_a_topological_order_assumption(tie_break):
    result = check_relabelling(
        THREE, [2, 1, 0], [0, 1], [0, 1], tie_break=tie_break, solver=index_order_solver
    )
    assert not result.holds


def test_minimal_contract_vector_is_not_unique_under_relabelling():
    """Found by the thorough run: "relabelling permutes the solution" fails for the contract
    vector — a0's outcomes o0 and o1 are equally likely (1/10) and impossible under the
    other actions, so paying 1 on either is minimal, and the solver's choice follows the
    outcome order. The cost is the same; the property compares costs."""
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "relabelling-contract-not-unique.json")
    base = solve_backward_induction(model)
    other = solve_backward_induction(relabel(model, [0, 1, 2], [0, 1, 2], [1, 0, 2]))
    assert not np.allclose(np.asarray(base.contracts[0])[[1, 0, 2]], other.contracts[0])
    assert base.principal_values[0] == pytest.approx(other.principal_values[0])
    assert check_relabelling(model, [0, 1, 2], [0, 1, 2], [1, 0, 2]).holds
