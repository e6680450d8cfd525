"""Tests of the exact minimal-implementation contract (theory/exact_contracts.py).

LP (PAPER.md §1), for a recommended action a^p with deviations a ≠ a^p::

    min_{b ≥ 0} p_{a^p}·b   s.t.   (p_{a^p} − p_a)·b ≥ g_a := Q̄(a) − Q̄(a^p) + ξ.

Certificates: dual multipliers λ ≥ 0 with Σ_a λ_a (p_{a^p} − p_a) ≤ p_{a^p} and
Σ_a λ_a g_a = p_{a^p}·b (optimal), or Farkas multipliers with Σ_a λ_a (p_{a^p} − p_a) ≤ 0 and
Σ_a λ_a g_a > 0 (unimplementable).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.exact_contracts import (
    CertificateError,
    ExactContract,
    contract_lp,
    minimal_contract_exact,
    minimal_contracts_exact_all_actions,
)
from theory.model import fraction_array

F = Fraction
SECTION7_Q = [F(-7, 10), F(1, 10)]
SECTION7_P = [[F(9, 10), F(1, 10)], [F(1, 10), F(9, 10)]]


def test_section7_state_s0() -> None:
    """PAPER.md §7, s0: Q̄ = (−7/10, 1/10), 𝒪(aL) = (9/10, 1/10), 𝒪(aR) = (1/10, 9/10).

    aL: (4/5) b(L) − (4/5) b(R) ≥ 1/10 + 7/10 = 4/5, so b = (1, 0), cost 9/10. The dual
    max (4/5) λ s.t. (4/5) λ ≤ 9/10, −(4/5) λ ≤ 1/10 gives λ_aR = 9/8, value 9/10 = cost.
    aR: −(4/5)(b(L) − b(R)) ≥ −4/5 holds at b = 0; cost 0 with λ_aL = 0.
    """
    al, ar = minimal_contracts_exact_all_actions(SECTION7_Q, SECTION7_P)
    assert al.implementable and al.contract == (1, 0) and al.expected_payment == F(9, 10)
    assert al.certificate == (0, F(9, 8))
    assert ar.implementable and ar.contract == (0, 0) and ar.expected_payment == 0
    assert ar.certificate == (0, 0)
    assert al.verify() and ar.verify()


def test_section7_leaf_and_agent_value() -> None:
    """PAPER.md §7, sL (terminal): Q̄ = r = (−4/5, 0); aL costs b = (1, 0) and leaves the agent
    −4/5 + 9/10 = 1/10 = V^agent(sL), exactly indifferent with aR (0 + 1/10·1 = 1/10)."""
    result = minimal_contract_exact([F(-4, 5), 0], SECTION7_P, 0)
    assert result.contract == (1, 0) and result.expected_payment == F(9, 10)
    assert F(-4, 5) + result.expected_payment == F(1, 10)
    assert 0 + sum(p * b for p, b in zip(SECTION7_P[1], result.contract, strict=True)) == F(1, 10)


@pytest.mark.parametrize("margin", [F(0), F(1, 8)])
def test_observed_action(margin: Fraction) -> None:
    """Observed action (PAPER.md §1): 𝒪(s, a) = δ_a, so the constraints are
    b(a^p) − b(a) ≥ Q̄(a) − Q̄(a^p) + ξ and the minimal contract pays
    max(0, max_{a≠a^p} Q̄(a) − Q̄(a^p) + ξ) on a^p only. Q̄ = (0, 1/2, −1, 1/2)."""
    q = [F(0), F(1, 2), F(-1), F(1, 2)]
    eye = [[F(int(i == j)) for j in range(4)] for i in range(4)]
    for result in minimal_contracts_exact_all_actions(q, eye, margin):
        a = result.recommended
        pay = max(F(0), max(q[k] for k in range(4) if k != a) - q[a] + margin)
        assert result.implementable and result.expected_payment == pay
        assert result.contract == tuple(pay if k == a else 0 for k in range(4))
        assert result.verify()


def test_unimplementable_mixture_farkas_multipliers() -> None:
    """a0 has 𝒪 = (1/2, 1/2), the even mixture of a1 = (1, 0) and a2 = (0, 1), and
    Q̄ = (0, 1, 1): the agent prefers either pure action by 1 whatever the contract (any b
    pays a0 the average of what it pays a1 and a2). Farkas: λ = (0, t, t) gives
    t(p₀ − p₁) + t(p₀ − p₂) = t(2p₀ − p₁ − p₂) = 0 ≤ 0 and t·1 + t·1 > 0. Normalised, λ are
    the mixture weights (1/2, 1/2) (PAPER.md §1: "a mixture of others' and costlier")."""
    probs = [[F(1, 2), F(1, 2)], [F(1), F(0)], [F(0), F(1)]]
    result = minimal_contract_exact([0, 1, 1], probs, 0)
    assert not result.implementable
    assert result.contract == (0, 0) and result.expected_payment is None
    lam = result.certificate
    assert lam[0] == 0 and lam[1] == lam[2] > 0
    assert result.verify()


def test_tie_rule_decides_the_boundary_case() -> None:
    """Same mixture, Q̄ = (1/2, 0, 1): now Q̄(a0) equals the mixed Q̄ exactly.

    Constraints: vs a1, (b(L) + b(R))/2 + 1/2 ≥ b(L), i.e. b(L) − b(R) ≤ 1; vs a2,
    (b(L) + b(R))/2 + 1/2 ≥ b(R) + 1, i.e. b(L) − b(R) ≥ 1. So b(L) − b(R) = 1 exactly: the
    unique cheapest contract is b = (1, 0), cost 1/2, and the agent is indifferent between all
    three actions — implementable only because ties go to the recommended action (PAPER.md §1).
    Any nudging margin ξ > 0 makes a0 unimplementable.
    """
    probs = [[F(1, 2), F(1, 2)], [F(1), F(0)], [F(0), F(1)]]
    q = [F(1, 2), F(0), F(1)]
    tie = minimal_contract_exact(q, probs, 0)
    assert tie.implementable and tie.contract == (1, 0) and tie.expected_payment == F(1, 2)
    assert tie.verify()
    nudged = minimal_contract_exact(q, probs, 0, margin=F(1, 1000))
    assert not nudged.implementable and nudged.verify()


def test_identical_distribution_tie() -> None:
    """An action with the same distribution and the same Q̄ gives the constraint 0 ≥ 0:
    implementable at zero cost with ξ = 0; unimplementable with ξ > 0 (Farkas λ on it)."""
    probs = [[F(1, 3), F(2, 3)], [F(1, 3), F(2, 3)]]
    tie = minimal_contract_exact(["1/4", "1/4"], probs, 0)
    assert tie.implementable and tie.expected_payment == 0 and tie.verify()
    nudged = minimal_contract_exact(["1/4", "1/4"], probs, 0, margin="1/8")
    assert not nudged.implementable and nudged.certificate[1] > 0 and nudged.verify()


def test_zero_costs_need_no_payment() -> None:
    """All Q̄ equal: every g_a = 0 and b = 0 is feasible, so every action costs 0."""
    probs = [[F(1), F(0), F(0)], [F(0), F(1, 2), F(1, 2)], [F(1, 3), F(1, 3), F(1, 3)]]
    for result in minimal_contracts_exact_all_actions([0, 0, 0], probs):
        assert result.implementable and result.expected_payment == 0 and result.verify()


def test_inputs_accept_numpy_object_arrays_strings_and_floats() -> None:
    """The exact backward induction passes rows of theory.model.ExactData (object arrays of
    Fractions); strings and floats (read as shortest decimals) work too."""
    q = fraction_array(["-7/10", "1/10"])
    probs = fraction_array([["9/10", "1/10"], ["1/10", "9/10"]])
    assert minimal_contract_exact(q, probs, np.int64(0)).expected_payment == F(9, 10)
    assert minimal_contract_exact([-0.7, 0.1], [[0.9, 0.1], [0.1, 0.9]], 0).contract == (1, 0)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="rows but q_bar has"):
        minimal_contract_exact([0, 1, 2], SECTION7_P, 0)
    with pytest.raises(ValueError, match="out of range"):
        minimal_contract_exact(SECTION7_Q, SECTION7_P, 2)
    with pytest.raises(TypeError, match="action index"):
        minimal_contract_exact(SECTION7_Q, SECTION7_P, True)
    with pytest.raises(ValueError, match="margin must be non-negative"):
        minimal_contract_exact(SECTION7_Q, SECTION7_P, 0, margin=-1)
    with pytest.raises(ValueError, match=r"outcome_probs\[1\] sums to"):
        minimal_contract_exact(SECTION7_Q, [SECTION7_P[0], [F(1, 3), F(1, 3)]], 0)
    with pytest.raises(ValueError, match="negative"):
        minimal_contract_exact(SECTION7_Q, [SECTION7_P[0], [F(-1), F(2)]], 0)
    with pytest.raises(ValueError, match="expected 2"):
        minimal_contract_exact(SECTION7_Q, [SECTION7_P[0], [F(1)]], 0)


def test_float_rows_not_summing_to_one_are_rejected() -> None:
    """0.1 + 0.2 + 0.7 read as decimals sums to 1 exactly; three copies of 0.3333333333333333
    do not. Solving the latter exactly would answer a different LP (paying a huge constant on
    every outcome then looks like an incentive), so it is refused."""
    ok = minimal_contract_exact([0, 0], [[0.1, 0.2, 0.7], [0.7, 0.2, 0.1]], 0)
    assert ok.implementable
    third = 1 / 3
    with pytest.raises(ValueError, match="not exactly 1"):
        minimal_contract_exact([0, 1], [[third] * 3, [1.0, 0.0, 0.0]], 0)


def test_verify_detects_tampering() -> None:
    """verify() is a proof check: each altered field breaks it."""
    good = minimal_contract_exact(SECTION7_Q, SECTION7_P, 0)
    assert good.verify()
    broken = [
        dataclasses.replace(good, contract=(F(1, 2), F(0))),  # cheaper but not IC
        dataclasses.replace(good, contract=(F(2), F(0)), expected_payment=F(9, 5)),  # IC, dear
        dataclasses.replace(good, expected_payment=F(1)),
        dataclasses.replace(good, certificate=(F(0), F(1))),  # dual value 4/5 ≠ 9/10
        dataclasses.replace(good, certificate=(F(1), F(9, 8))),  # λ_{a^p} ≠ 0
        dataclasses.replace(
            good, implementable=False, contract=(F(0), F(0)), expected_payment=None
        ),
        dataclasses.replace(good, margin=F(1, 10)),  # certificate for another LP
    ]
    for item in broken:
        with pytest.raises(CertificateError):
            item.verify()
    assert not minimal_contract_exact(SECTION7_Q, SECTION7_P, 1).violations()


def test_contract_lp_rows() -> None:
    """contract_lp gives the LP data: costs p_{a^p}, rows p_{a^p} − p_a, right-hand sides
    Q̄(a) − Q̄(a^p) + ξ, one per deviation in action order."""
    c, rows, rhs, deviations = contract_lp(SECTION7_Q, SECTION7_P, 0, margin=F(1, 10))
    assert c == (F(9, 10), F(1, 10))
    assert rows == ((F(4, 5), F(-4, 5)),)
    assert rhs == (F(9, 10),)
    assert deviations == (1,)


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


@st.composite
def _states(draw: st.DrawFn) -> tuple[list[Fraction], list[list[Fraction]]]:
    """1–4 actions, 2–4 outcomes, distributions on a grid k/d (d ≤ 6), Q̄ on the grid k/4,
    with a chance of copying the first action's distribution (exact ties)."""
    n_a, n_o = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    d = draw(st.sampled_from([1, 2, 3, 4, 6]))
    probs: list[list[Fraction]] = []
    for _ in range(n_a):
        copy_first: bool = draw(st.booleans())
        if probs and copy_first:
            probs.append(list(probs[0]))
            continue
        cuts = sorted(draw(st.lists(st.integers(0, d), min_size=n_o - 1, max_size=n_o - 1)))
        edges = [0, *cuts, d]
        probs.append([F(edges[k + 1] - edges[k], d) for k in range(n_o)])
    q = draw(st.lists(st.integers(-4, 4).map(lambda k: F(k, 4)), min_size=n_a, max_size=n_a))
    return q, probs


def _utility(
    q: list[Fraction], probs: list[list[Fraction]], contract: tuple[Fraction, ...]
) -> list[Fraction]:
    return [
        q[a] + sum((p * b for p, b in zip(probs[a], contract, strict=True)), F(0))
        for a in range(len(q))
    ]


@settings(max_examples=150, deadline=None)
@given(_states(), st.sampled_from([F(0), F(1, 8), F(1, 2)]))
def test_property_certificate_and_best_response(
    state: tuple[list[Fraction], list[list[Fraction]]], margin: Fraction
) -> None:
    """Every answer verifies; an implementable contract makes a^p a best response by at least
    ξ (so, with ξ = 0, a best response under the tie rule) and pays nothing on outcomes of
    probability zero under a^p; an unimplementable action's
    Farkas multipliers, normalised to μ, describe a mixture of other actions with distribution
    exactly p_{a^p} and Q̄(a^p) < Σ μ_a Q̄(a) + ξ (PAPER.md §1: a mixture, and costlier)."""
    q, probs = state
    for result in minimal_contracts_exact_all_actions(q, probs, margin):
        assert result.verify()
        a = result.recommended
        if result.implementable:
            utility = _utility(q, probs, result.contract)
            assert all(utility[a] >= utility[k] + margin for k in range(len(q)) if k != a)
            # canonical: nothing is paid on an outcome a^p cannot produce
            assert all(b == 0 for b, p in zip(result.contract, probs[a], strict=True) if p == 0)
        else:
            total = sum(result.certificate, F(0))
            mu = [lam / total for lam in result.certificate]
            mixed = [
                sum((mu[k] * probs[k][o] for k in range(len(q))), F(0))
                for o in range(len(probs[0]))
            ]
            assert mixed == probs[a]
            assert sum((mu[k] * q[k] for k in range(len(q))), F(0)) + margin > q[a]


@settings(max_examples=100, deadline=None)
@given(_states(), st.integers(-4, 4))
def test_property_margin_monotone_and_shift_invariant(
    state: tuple[list[Fraction], list[list[Fraction]]], shift: int
) -> None:
    """A larger margin never makes an action cheaper or implementable; adding a constant to
    every Q̄ changes nothing (only differences Q̄(a) − Q̄(a^p) enter the LP)."""
    q, probs = state
    base = minimal_contracts_exact_all_actions(q, probs)
    nudged = minimal_contracts_exact_all_actions(q, probs, F(1, 4))
    moved = minimal_contracts_exact_all_actions([v + shift for v in q], probs)
    for b0, b1, b2 in zip(base, nudged, moved, strict=True):
        assert b1.implementable <= b0.implementable
        if b1.implementable:
            assert b0.expected_payment is not None and b1.expected_payment is not None
            assert b1.expected_payment >= b0.expected_payment
        assert (b2.implementable, b2.expected_payment) == (b0.implementable, b0.expected_payment)


@settings(max_examples=150, deadline=None)
@given(_states())
def test_property_two_outcome_closed_form(
    state: tuple[list[Fraction], list[list[Fraction]]],
) -> None:
    """PAPER.md §1 closed form for two outcomes, in exact arithmetic: with p_a = P(o1 | a) and
    d = b(o1) − b(o0), implementable iff no a with p_a = p_{a^p} has Q̄(a) > Q̄(a^p) and
    d_low ≤ d_high, where d_low = max over p_a < p_{a^p} of g_a / (p_{a^p} − p_a) and d_high =
    min over p_a > p_{a^p}; the minimal contract takes the d in [d_low, d_high] closest to 0
    and pays it on one outcome. When 0 < p_{a^p} < 1 it is the unique optimum, so the LP vertex
    must equal it."""
    q, probs = state
    if len(probs[0]) != 2:
        return
    for result in minimal_contracts_exact_all_actions(q, probs):
        a = result.recommended
        p = [row[1] for row in probs]
        gap = {k: p[a] - p[k] for k in range(len(q)) if k != a}
        g = {k: q[k] - q[a] for k in gap}
        lows = [g[k] / gap[k] for k in gap if gap[k] > 0]
        highs = [g[k] / gap[k] for k in gap if gap[k] < 0]
        blocked = any(gap[k] == 0 and g[k] > 0 for k in gap)
        d_low, d_high = max(lows, default=None), min(highs, default=None)
        feasible = not blocked and (d_low is None or d_high is None or d_low <= d_high)
        assert result.implementable == feasible
        if not feasible:
            continue
        d = F(0)
        if d_low is not None and d_low > 0:
            d = d_low
        elif d_high is not None and d_high < 0:
            d = d_high
        want = (max(-d, F(0)), max(d, F(0)))
        cost = probs[a][0] * want[0] + probs[a][1] * want[1]
        assert result.expected_payment == cost
        if 0 < p[a] < 1:
            assert result.contract == want


def test_exact_contract_is_frozen() -> None:
    result = minimal_contract_exact(SECTION7_Q, SECTION7_P, 0)
    assert isinstance(result, ExactContract)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.implementable = False  # type: ignore[misc]


def test_docstring_examples() -> None:
    """The worked §7 example in ``minimal_contract_exact``'s docstring runs as written."""
    import doctest

    import theory.exact_contracts

    failures, attempted = doctest.testmod(theory.exact_contracts)
    assert attempted >= 3 and failures == 0
