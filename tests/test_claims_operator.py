"""Tests of the operator claim family (properties/claims/operator.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from claims_helpers import DISCOUNTED, REGRESSIONS, wrong_discount_operator

from properties.claims.common import META_MAX_ITERATIONS, META_TOL
from properties.claims.equilibrium import spe_violations
from properties.claims.operator import _policy_of, check_contraction, check_operator_fixed_point
from solvers.meta_algorithm import meta_algorithm
from theory.generators import random_instance, three_state_example

SHIFT = (np.zeros((3, 2)), np.ones((3, 2)))


@pytest.mark.parametrize("reading", ["R1", "R2"])
def test_contraction_holds_with_observed_action(reading):
    # observed action: the agent earns its outside value, so Q̄ does not depend on q (R1 = R2)
    model = three_state_example(observed_action=True, discount=Fraction(9, 10))
    result = check_contraction(model, *SHIFT, reading=reading)
    assert result.holds, result.explain()
    assert result.measurements["ratio"] == pytest.approx(0.9)


@pytest.mark.parametrize("reading", ["R1", "R2"])
def test_contraction_catches_a_wrong_discount(reading):
    model = three_state_example(observed_action=True, discount=Fraction(9, 10))
    result = check_contraction(model, *SHIFT, reading=reading, operator=wrong_discount_operator)
    assert not result.holds
    assert result.measurements["ratio"] == pytest.approx(0.95)


def test_contraction_r1_fails_at_a_near_tie():
    # PAPER.md §3: J (R1) jumps when greedy(q) flips at a near-tie
    model = random_instance(3, 2, 2, seed=1, episodic=False, discount=Fraction(1, 2))
    failures = 0
    for s in range(3):
        q1 = np.zeros((3, 2))
        q2 = q1.copy()
        q2[s, 1] = 1e-3
        failures += not check_contraction(model, q1, q2, reading="R1").holds
    assert failures >= 1


@pytest.mark.parametrize("reading", ["R1", "R2"])
def test_fixed_point_holds_on_a_discounted_instance(reading):
    result = check_operator_fixed_point(DISCOUNTED, reading=reading)
    assert result.holds, result.explain()


@pytest.mark.parametrize("reading", ["R1", "R2"])
def test_fixed_point_catches_a_wrong_discount(reading):
    result = check_operator_fixed_point(
        DISCOUNTED, reading=reading, operator=wrong_discount_operator, fixed_point_iterations=10
    )
    assert not result.holds


def test_fixed_point_r1_greedy_picks_another_equilibrium_at_a_principal_tie():
    """Found by the thorough run (theorem-3.4-fixed-point-R1, 6 of its 34 failures): γ = 0, and
    at s1 the principal is exactly indifferent between a0 and a2 (q = 0.6 for both, up to float
    rounding) while the agent earns 0.95 under a0 and 1.35 under a2. The meta-algorithm keeps
    a0 (its tie rule: lowest index within 1e-9); greedy(q) = argmax picks a2 because rounding
    makes q(s1, a2) a hair larger. q is a fixed point of J (R1) and both greedy policies are
    SPEs with the same V^p: the claim fails only on "agrees with the meta-algorithm" in V^a,
    another face of the non-uniqueness of the SPE under principal ties."""
    from solvers.meta_algorithm import agent_q_bar_minimal, greedy
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "fixed-point-R1-principal-tie.json")
    result = meta_algorithm(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    assert result.converged
    q = result.solution.principal_q
    assert abs(q[1, 0] - q[1, 2]) < 1e-12 and q[1, 0] > q[1, 1] + 1
    operator_rec = greedy(np.where(np.isfinite(q), q, -1e300))
    assert result.solution.recommended.tolist() == [0, 0, 0] and operator_rec.tolist() == [0, 2, 0]
    for rec in (result.solution.recommended, operator_rec):
        # the policy the property itself judges: rec with its minimal contracts for Q̄_rec
        policy = _policy_of(model, rec, agent_q_bar_minimal(model, rec)[0])
        assert spe_violations(model, *policy)[0] == []
    check = check_operator_fixed_point(model, reading="R1")
    assert not check.holds
    assert [v.split(":")[0] for v in check.violations] == ["s1"]
    assert "V^a" in check.violations[0] and "V^p" not in check.violations[0]
