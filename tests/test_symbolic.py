"""Tests of the symbolic checks (properties/symbolic.py)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from properties import symbolic as sy
from properties.claims import claim
from properties.profiles import profile_settings
from solvers.backward_induction import solve_backward_induction
from solvers.contracts import two_outcome_closed_form
from theory.generators import three_state_example
from theory.ties import Ties

THREE = three_state_example()


# ======================================================================= KKT proof
def test_closed_form_is_proven_optimal_for_up_to_three_deviations():
    proof = sy.prove_two_outcome_closed_form(max_deviations=3)
    assert proof.holds, proof.failures()
    kinds = {case.kind for case in proof.cases}
    assert kinds == {"optimal", "infeasible"}
    assert len(proof.cases) > 100


def _scaled(factor: Any) -> Any:
    def closed_form(p: Any, deviations: Any) -> Any:
        b0, b1, ok = sy.closed_form_two_outcomes(p, deviations)
        return b0 * factor, b1 * factor, ok

    return closed_form


def _always_pay_on_o1(p: Any, deviations: Any) -> Any:
    """The naive reading 'pay on o1' even when a^p makes o0 the more likely outcome."""
    b0, b1, ok = sy.closed_form_two_outcomes(p, deviations)
    return sympy.S.Zero, b1 + b0, ok


@pytest.mark.parametrize(
    "wrong",
    [_scaled(sympy.Rational(99, 100)), _scaled(sympy.Rational(101, 100)), _always_pay_on_o1],
)
def test_a_wrong_closed_form_is_not_proven(wrong):
    # 1% short breaks incentive compatibility, 1% over breaks optimality (duality gap)
    proof = sy.prove_two_outcome_closed_form(max_deviations=1, closed_form=wrong)
    assert not proof.holds and proof.failures()


def test_prove_rejects_a_bad_argument():
    with pytest.raises(ValueError, match="max_deviations"):
        sy.prove_two_outcome_closed_form(max_deviations=0)


@profile_settings()
@given(st.data())
def test_library_closed_form_matches_the_proven_formula(data):
    # the numeric closed form of solvers/contracts.py is the formula proven above
    n_a = data.draw(st.integers(2, 4))
    grid = st.fractions(0, 1, max_denominator=10)
    p = [data.draw(grid) for _ in range(n_a)]
    q = [data.draw(st.fractions(-2, 2, max_denominator=10)) for _ in range(n_a)]
    g = data.draw(st.integers(0, n_a - 1))
    rat = [sympy.Rational(x.numerator, x.denominator) for x in p]
    qr = [sympy.Rational(x.numerator, x.denominator) for x in q]
    b0, b1, ok = sy.closed_form_two_outcomes(
        rat[g], [(rat[g] - rat[a], qr[a] - qr[g]) for a in range(n_a) if a != g]
    )
    probs = np.array([[[1 - float(x), float(x)] for x in p]])
    got = two_outcome_closed_form(np.array([[float(x) for x in q]]), probs, np.array([g]))
    assert bool(got.implementable[0]) == bool(ok)
    if ok:
        assert got.contracts[0] == pytest.approx([float(b0), float(b1)], abs=1e-9)


# ============================================================ symbolic backward induction
def test_three_state_example_with_symbolic_discount():
    solution = sy.symbolic_backward_induction(THREE, ("discount",))
    theta = solution.symbol
    # PAPER.md §7: V^p(s0) = 1 at γ = 1 and 19/20 at γ = 9/10, i.e. (1 + γ)/2
    assert solution.pieces(0) == [(theta / 2 + sympy.Rational(1, 2), sympy.Interval(0, 1))]
    v_p, v_a, rec = solution.at(Fraction(9, 10))
    assert v_p[0] == Fraction(19, 20) and v_a[0] == Fraction(19, 100) and rec == [0, 0, 0]


def test_symbolic_reward_gives_a_breakpoint():
    solution = sy.symbolic_backward_induction(THREE, ("principal_reward", 1, 0))
    pieces = solution.pieces(0)
    assert len(pieces) == 2
    # at the paper's r^p(L) = 14/9 the value is V^p(s0) = 1
    assert solution.at(Fraction(14, 9))[0][0] == 1


def test_observed_action_is_supported():
    model = three_state_example(observed_action=True)
    result = sy.check_symbolic_agreement(
        model, ("agent_reward", 0, 0), [Fraction(-1), Fraction(-4, 5), 0]
    )
    assert result.holds, result.explain()


def test_agreement_on_the_three_state_example():
    result = sy.check_symbolic_agreement(THREE, ("discount",), [0, Fraction(1, 2), 1])
    assert result.holds, result.explain()


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="parameter"):
        sy.symbolic_backward_induction(THREE, ("transition", 0, 0))
    with pytest.raises(ValueError, match="out of range"):
        sy.symbolic_backward_induction(THREE, ("agent_reward", 5, 0))
    with pytest.raises(ValueError, match="discount"):
        sy.substitute(THREE, ("discount",), 2)


@pytest.mark.parametrize(
    "broken",
    [
        "numeric contracts 1% short",
        "exact solver ties against the principal",
        "numeric solver with the wrong discount",
    ],
)
def test_agreement_catches_planted_errors(broken):
    kwargs: dict[str, Any] = {}
    if broken == "numeric contracts 1% short":

        def short(m: Any) -> Any:
            s = solve_backward_induction(m, ties=Ties(margin=0))
            paid = np.einsum(
                "so,so->s", m.outcome_probs[np.arange(m.n_states), s.recommended], s.contracts
            )
            return replace(s, principal_values=s.principal_values + 0.01 * paid)

        kwargs["float_solver"] = short
    elif broken == "exact solver ties against the principal":
        kwargs["exact_solver"] = lambda m: solve_backward_induction(
            m, exact=True, ties=Ties(margin=Fraction(1, 100))
        )
    else:
        kwargs["float_solver"] = lambda m: solve_backward_induction(
            replace(m, discount=m.discount * 0.9)
        )
    result = sy.check_symbolic_agreement(THREE, ("discount",), [Fraction(1, 2), 1], **kwargs)
    assert not result.holds


@profile_settings(max_examples=15)
@given(claim("symbolic-backward-induction").cases)
def test_agreement_on_generated_instances(case):
    result = sy.check_symbolic_agreement(case["model"], case["parameter"], case["values"])
    assert result.holds, result.explain()
