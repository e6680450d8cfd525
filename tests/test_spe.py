"""Tests of theory/spe.py: the one exact SPE checker, and its three settled choices."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from solvers.solve import solve
from theory.generators import three_state_example
from theory.spe import (
    NEGATIVE_PAYMENT,
    NOT_FOLLOWED,
    OVERPAYMENT,
    PRINCIPAL_DEVIATION,
    check_spe,
    minimal_contract,
)
from theory.ties import DEFAULT_TIES, EXACT_TIES, Ties

THREE = three_state_example()
SPE_CONTRACTS = [[1, 0]] * 3  # PAPER.md §7: b(L) = 1 everywhere, aL recommended


def kinds(check, state):
    return {v.kind for v in check.states[state].violations}


def test_the_hand_derived_spe_passes_strictly():
    check = check_spe(THREE, [0, 0, 0], SPE_CONTRACTS, ties=EXACT_TIES)
    assert check.ok
    assert check.evaluation.principal_values[0] == 1
    assert check.evaluation.agent_values[0] == F(1, 5)


def test_negative_pay_counts_only_beyond_the_tolerance():
    """b(R) = −1e−12 at sR: a rounded 0 within τ = 1e−9 (the agent still follows: aL gains
    0.8·1e−12 over aR), a limited-liability violation at τ = 0."""
    contracts = [[1, 0], [1, 0], [1, F(-1, 10**12)]]
    assert check_spe(THREE, [0, 0, 0], contracts, ties=DEFAULT_TIES).ok
    strict = check_spe(THREE, [0, 0, 0], contracts, ties=EXACT_TIES)
    assert kinds(strict, 2) == {NEGATIVE_PAYMENT}
    assert strict.states[2].violations[0].amount == F(1, 10**12)


def test_a_gain_from_the_recommendation_itself_is_an_overpayment():
    """Pay b(L) = 11/10 at sL: the agent follows (aL: −4/5 + 99/100 = 19/100 > aR: 11/100),
    the minimal contract pays 9/10 in expectation, so the overpayment is 9/10 · 1/10 = 9/100;
    the principal's better deviation is the same action with the cheaper contract, reported
    as overpayment and not as principal_deviation."""
    contracts = [[1, 0], [F(11, 10), 0], [1, 0]]
    check = check_spe(THREE, [0, 0, 0], contracts, ties=EXACT_TIES)
    assert kinds(check, 1) == {OVERPAYMENT}
    assert check.states[1].overpayment == F(9, 100)
    assert PRINCIPAL_DEVIATION not in kinds(check, 1)


def test_not_followed_and_principal_deviation():
    """Offer nothing at sR while recommending aL: the agent takes aR (worth 0 against −8/10 + 0),
    and the principal would gain 1/2 − 7/45 = 31/90 by paying the minimal contract (PAPER.md
    §7: V^p(sR) = 1/2 with aL, 7/45 with aR)."""
    contracts = [[1, 0], [1, 0], [0, 0]]
    check = check_spe(THREE, [0, 0, 0], contracts, ties=EXACT_TIES)
    assert NOT_FOLLOWED in kinds(check, 2) and PRINCIPAL_DEVIATION in kinds(check, 2)
    deviation = next(v for v in check.states[2].violations if v.kind == PRINCIPAL_DEVIATION)
    assert deviation.amount == F(1, 2) - F(7, 45)


def test_declared_margin_turns_a_nudge_into_no_violation():
    """The ξ = 1/10 SPE pays b(L) = 9/8 (tests/test_solve.py derives it): an overpayment of
    9/10 · 1/8 = 9/80 at sL against the plain minimal contract, none when ξ is declared, and
    the per-state nudge is reported."""
    nudged = solve(THREE, exact=True, ties=Ties(margin=F(1, 10))).solution
    plain = check_spe(THREE, nudged.recommended, nudged.contracts, ties=EXACT_TIES)
    assert OVERPAYMENT in kinds(plain, 1) and plain.states[1].overpayment == F(9, 80)
    declared = check_spe(
        THREE, nudged.recommended, nudged.contracts, ties=EXACT_TIES.with_(margin=F(1, 10))
    )
    assert declared.ok
    assert declared.states[1].nudge == F(9, 80)


@pytest.mark.parametrize("margin", [F(0), F(1, 7)])
def test_closed_form_matches_the_exact_simplex(margin):
    """The two-outcome closed form and the exact LP give the same cost and implementability."""
    from theory.exact_contracts import minimal_contract_exact

    probs = [[F(9, 10), F(1, 10)], [F(1, 10), F(9, 10)], [F(1, 2), F(1, 2)]]
    for q_bar in ([F(-4, 5), F(0), F(-1, 2)], [F(0), F(0), F(1)], [F(1), F(0), F(-3)]):
        for action in range(3):
            fast = minimal_contract(q_bar, probs, action, margin)
            lp = minimal_contract_exact(q_bar, probs, action, margin=margin)
            assert fast.implementable == lp.implementable
            assert fast.expected_payment == lp.expected_payment
