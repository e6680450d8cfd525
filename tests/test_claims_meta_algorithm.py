"""Tests of the meta-algorithm claim family (properties/claims/meta_algorithm.py)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from claims_helpers import DISCOUNTED, REGRESSIONS, THREE, skipped_level_solver

from properties.claims.common import META_TOL
from properties.claims.equilibrium import spe_violations
from properties.claims.meta_algorithm import (
    check_meta_convergence,
    check_meta_uniqueness,
    check_theorem_3_3,
    meta_tolerance,
)
from solvers.backward_induction import solve_backward_induction
from solvers.contracts import minimal_contracts
from solvers.meta_algorithm import PrincipalPolicy, meta_algorithm
from theory.generators import random_instance
from theory.model import PrincipalAgentMDP
from theory.ties import Ties


def test_theorem_3_3_on_the_three_state_example():
    result = check_theorem_3_3(THREE)
    assert result.holds and result.measurements == {"depth": 2, "iterations": 2}


def test_theorem_3_3_needs_t_plus_one_rounds_on_a_chain():
    # random deep instances need more than two rounds; all within T + 1
    needed = []
    for seed in range(40):
        result = check_theorem_3_3(random_instance(6, 3, 3, seed=seed))
        assert result.holds, result.explain()
        needed.append(result.measurements["iterations"])
    assert max(needed) >= 3


@pytest.mark.parametrize(
    "broken", ["stopped after one round", "ties against the principal", "reference skips a level"]
)
def test_theorem_3_3_catches_planted_errors(broken):
    meta: Any = meta_algorithm
    reference: Any = solve_backward_induction
    if broken == "stopped after one round":  # ρ_1 can never be confirmed as a fixed point

        def meta(m: PrincipalAgentMDP, **kw: Any) -> Any:
            return meta_algorithm(m, max_iterations=1)
    elif broken == "ties against the principal":

        def meta(m: PrincipalAgentMDP, **kw: Any) -> Any:
            return meta_algorithm(m, ties=Ties(margin=1e-3))
    else:
        reference = skipped_level_solver
    assert not check_theorem_3_3(THREE, meta=meta, reference=reference).holds


def test_meta_convergence_holds_on_a_discounted_instance():
    result = check_meta_convergence(DISCOUNTED)
    assert result.holds, result.explain()


def test_meta_convergence_catches_a_capped_run():
    result = check_meta_convergence(
        DISCOUNTED, meta=lambda m, **kw: meta_algorithm(m, max_iterations=1)
    )
    assert not result.holds


def test_meta_convergence_catches_a_limit_that_is_not_an_spe():
    def meta(m: PrincipalAgentMDP, **kw: Any) -> Any:
        result = meta_algorithm(m, **kw)
        last = result.policies[-1]
        broken = PrincipalPolicy(last.recommended, last.contracts * 0.99)
        return replace(result, policies=(*result.policies[:-1], broken))

    assert not check_meta_convergence(DISCOUNTED, meta=meta).holds


def test_meta_uniqueness_holds_on_a_discounted_instance():
    assert check_meta_uniqueness(DISCOUNTED).holds


def test_meta_uniqueness_catches_a_premature_stop():
    # a stopping rule that declares convergence after one round depends on the start
    def meta(m: PrincipalAgentMDP, **kw: Any) -> Any:
        return replace(meta_algorithm(m, **{**kw, "max_iterations": 1}), converged=True)

    assert not check_meta_uniqueness(DISCOUNTED, meta=meta).holds


def test_no_pure_stationary_spe_and_a_period_three_cycle():
    """Found by the thorough run (PAPER.md §3 leaves convergence for γ < 1 open): on this
    2-state instance (γ = 9/10) no recommended profile with its minimal contracts — the only
    candidates for a pure stationary SPE, since the principal's best contract is always a minimal
    implementation — is an SPE, and Algorithm 1 cycles with period 3 (an exact repeat)."""
    import itertools

    from solvers.meta_algorithm import agent_q_bar_minimal
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "meta-cycle-no-pure-spe.json")
    result = meta_algorithm(model, max_iterations=50)
    assert not result.converged and result.cycle_start == 1 and result.iterations == 4
    for profile in itertools.product(range(model.n_actions), repeat=model.n_states):
        rec = np.array(profile)
        q_bar, found = agent_q_bar_minimal(model, rec)
        solution = minimal_contracts(q_bar, model.outcome_probs, rec)
        if found and solution.implementable.all():
            violations, measured = spe_violations(model, rec, solution.contracts)
            assert violations and measured["largest_principal_gain"] > 0.25, profile
    assert not check_meta_convergence(model).holds


def test_two_subgame_perfect_equilibria_pareto_ranked():
    """Found by the thorough run (meta-uniqueness): the SPE is not unique, and Algorithm 1
    reaches a different one from a random start. Derived by hand (γ = 9/10):

    s0 is absorbing and the agent prefers a0 there unpaid, so ``V^a(s0) = 0.3/0.1 = 3`` and
    ``V^p(s0) = (0.375·0.1 + 0.625·0.3)/0.1 = 9/4``. In s1, with ``V = V^a(s1)``, the agent's
    continuation is 2.7 after o0 and o2 (to s0) and ``0.675 + 0.675 V`` after o1 (to s0 w.p.
    1/4, s1 w.p. 3/4), so ``Q̄(a0) = 0.98125 + 0.50625 V``, ``Q̄(a1) = 2.7``,
    ``Q̄(a2) = 2.946875 + 0.084375 V``.

    * **Recommend a2, pay nothing**: ``V = 2.946875 / 0.915625 ≈ 3.2184``; the principal gets
      ``P = 1.985156… / 0.915625 ≈ 2.1681``. Implementing a0 instead needs
      ``0.625 b(o1) ≥ Q̄(a2) − Q̄(a0)``, i.e. ``b(o1) ≈ 0.9726``, worth ≈ 2.1541 < 2.1681.
    * **Recommend a0, pay b(o1) = 0.8905**: the a2 constraint binds,
      ``0.625 b = 1.965625 − 0.421875 V``, and ``V = Q̄(a0) + 0.75 b`` gives ``V = 3.34``
      exactly, ``b = 0.8905``; the principal gets ``P = 1.1180625 / 0.49375 ≈ 2.2644``.
      Implementing a2 (free: it is the agent's favourite at V = 3.34) is worth ≈ 2.1762 <
      2.2644.

    Both are SPEs in exact arithmetic (tolerance 0), and the second is better for *both*
    players at s1: the agent's rent at s1 raises its continuation after o1, which makes a0
    (more likely to produce o1) cheaper to implement — a self-fulfilling rent.
    """
    from theory.exact_evaluation import evaluate_policy_exact
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "two-spe-pareto-ranked.json")
    zero = [Fraction(0)] * 3
    b = Fraction(1781, 2000)
    v_a2 = Fraction("2.946875") / Fraction("0.915625")
    p_a2 = (Fraction("0.50625") + Fraction(1, 8) * Fraction("1.70625") + Fraction("1.265625")) / (
        1 - Fraction(1, 8) * Fraction("0.675")
    )
    p_a0 = (Fraction("0.50625") + Fraction(3, 4) * (Fraction("1.70625") - b)) / (
        1 - Fraction(3, 4) * Fraction("0.675")
    )
    expected = {
        (0, 2): ([zero, zero], v_a2, p_a2),
        (0, 0): ([zero, [Fraction(0), b, Fraction(0)]], Fraction(167, 50), p_a0),
    }
    for rec, (pay, agent_value, principal_value) in expected.items():
        violations, _ = spe_violations(model, list(rec), pay, tol=0.0)
        assert violations == [], rec
        exact = evaluate_policy_exact(model, list(rec), pay, tie_tolerance=Fraction(0))
        assert (
            exact.agent_values[1] == agent_value and exact.principal_values[1] == principal_value
        ), rec
        assert exact.principal_values[0] == Fraction(9, 4) and exact.agent_values[0] == 3
    assert p_a0 > p_a2 and Fraction(167, 50) > v_a2
    result = check_meta_uniqueness(model, start_seed=1)
    assert not result.holds


def test_meta_tolerance_stall():
    """Found by the thorough run: with the library's default tol = 1e-9 (equal to its tie
    tolerance) the iterates reach ~2.5e-9 of the limit and wander there; with tol = 1e-7 the
    run converges to an SPE."""
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "meta-tolerance-stall.json")
    assert not meta_algorithm(model, max_iterations=300).converged
    assert meta_algorithm(model, max_iterations=300, tol=META_TOL).converged
    assert check_meta_convergence(model).holds


def test_meta_uniqueness_at_the_runs_precision():
    """Found by the thorough run: at γ = 999/1000 two runs that converged (contracts within
    1e-9) differed by 7e-7 in V^a — a contract error amplified by 1/(1 − γ), not a second
    equilibrium. Values of meta-algorithm runs are compared at :func:`meta_tolerance`."""
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "meta-uniqueness-precision.json")
    assert meta_tolerance(model) == pytest.approx((1e-7 + 1e-6) / 1e-3)
    assert check_meta_uniqueness(model, start_seed=0).holds


def test_meta_reported_values_jump_at_the_stopping_tolerance():
    """Found by the thorough run: a run stopped at tol = 1e-7 keeps contracts minimal for the
    previous round's Q̄, ~6e-9 short for the final one; at the library's tie tolerance (1e-9)
    the agent then deviates, and the reported V^p (10.53) is not the value of the
    recommendation being followed (13.72). At tol = 1e-9 the same run reports 13.72."""
    from theory.format import load_instance

    model = load_instance(REGRESSIONS / "meta-reported-value-jump.json")
    loose = meta_algorithm(model, max_iterations=200, tol=1e-7)
    tight = meta_algorithm(model, max_iterations=200)
    assert loose.converged and tight.converged
    assert tight.solution.principal_values[0] - loose.solution.principal_values[0] > 3
    result = check_meta_convergence(model)
    assert result.holds and result.measurements["reported_value_jump"] > 3
