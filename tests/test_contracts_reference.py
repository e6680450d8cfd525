"""Tests of the readable cvxpy reference (solvers/contracts_reference.py).

The reference solves, one state at a time, the LP of PAPER.md §1

    min_{b ≥ 0} E_{𝒪(a^p)}[b]  s.t.  E_{𝒪(a^p)}[b] + Q̄(a^p) ≥ E_{𝒪(a)}[b] + Q̄(a) + ξ  (a ≠ a^p).

Its agreement with the fast and the exact implementations on 10,000 random states is tested in
tests/test_contracts.py; here: hand-derived cases, the tie rule, errors and return types.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from solvers.contracts import minimal_contracts
from solvers.contracts_reference import minimal_contract_cvxpy
from theory.exact_contracts import minimal_contract_exact

SECTION7_P = [[0.9, 0.1], [0.1, 0.9]]
TOL = 1e-9


def test_section7_state_s0() -> None:
    """PAPER.md §7, s0: Q̄ = (−7/10, 1/10). aL needs (4/5)(b(L) − b(R)) ≥ 4/5, so the unique
    cheapest contract is b = (1, 0), cost 9/10 (unique: 0 < p < 1, see the closed form);
    aR is implemented by b = 0."""
    al = minimal_contract_cvxpy([-0.7, 0.1], SECTION7_P, 0)
    assert bool(al.implementable)
    np.testing.assert_allclose(al.contracts, [1.0, 0.0], atol=TOL)
    assert float(al.expected_payment) == pytest.approx(0.9, abs=TOL)
    ar = minimal_contract_cvxpy([-0.7, 0.1], SECTION7_P, 1)
    assert bool(ar.implementable)
    assert float(ar.expected_payment) == pytest.approx(0.0, abs=TOL)


def test_swapped_outcomes() -> None:
    """Outcome order reversed: aL now makes o1 likely, so it pays b = (0, 1)."""
    sol = minimal_contract_cvxpy([-0.7, 0.1], [[0.1, 0.9], [0.9, 0.1]], 0)
    np.testing.assert_allclose(sol.contracts, [0.0, 1.0], atol=TOL)


def test_observed_action_cost() -> None:
    """Observed action: the cost of a^p is max(0, max_{a≠a^p} Q̄(a) − Q̄(a^p) + ξ)
    (PAPER.md §1). Q̄ = (0, 1/2, −1)."""
    q = np.array([0.0, 0.5, -1.0])
    for margin in (0.0, 0.25):
        for a in range(3):
            sol = minimal_contract_cvxpy(q, np.eye(3), a, margin=margin)
            want = max(0.0, float(np.max(np.delete(q, a))) - q[a] + margin)
            assert float(sol.expected_payment) == pytest.approx(want, abs=TOL)


def test_unimplementable_and_tie() -> None:
    """a0 = (1/2, 1/2) is the even mixture of a1 = (1, 0) and a2 = (0, 1).

    Q̄ = (0, 1, 1): unimplementable (zeros and nan are returned). Q̄ = (1/2, 0, 1): exactly
    on the boundary, b(L) − b(R) = 1 is forced, b = (1, 0), cost 1/2 — implementable by the
    tie rule; a margin of 1e-3 makes it unimplementable.
    """
    probs = [[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]]
    blocked = minimal_contract_cvxpy([0.0, 1.0, 1.0], probs, 0)
    assert not bool(blocked.implementable)
    assert np.isnan(float(blocked.expected_payment))
    np.testing.assert_array_equal(blocked.contracts, [0.0, 0.0])
    tie = minimal_contract_cvxpy([0.5, 0.0, 1.0], probs, 0)
    assert bool(tie.implementable)
    np.testing.assert_allclose(tie.contracts, [1.0, 0.0], atol=TOL)
    assert not bool(minimal_contract_cvxpy([0.5, 0.0, 1.0], probs, 0, margin=1e-3).implementable)


def test_identical_distributions_and_single_action() -> None:
    """0·b ≥ 0 is a tie (implementable); one action has no constraint at all."""
    probs = [[0.25, 0.75], [0.25, 0.75]]
    assert bool(minimal_contract_cvxpy([0.5, 0.5], probs, 1).implementable)
    assert not bool(minimal_contract_cvxpy([0.5, 0.75], probs, 0).implementable)
    alone = minimal_contract_cvxpy([3.0], [[0.2, 0.3, 0.5]], 0)
    assert bool(alone.implementable) and float(alone.expected_payment) == 0.0


def test_return_shapes_match_fast_path_single_state() -> None:
    """Like :func:`solvers.contracts.minimal_contracts` for one state: an (O,) contract and
    0-d implementable / expected payment."""
    sol = minimal_contract_cvxpy([0.0, 1.0], [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]], 0)
    fast = minimal_contracts([0.0, 1.0], [[0.2, 0.3, 0.5], [0.5, 0.3, 0.2]], 0)
    assert sol.contracts.shape == fast.contracts.shape == (3,)
    assert np.ndim(sol.implementable) == np.ndim(fast.implementable) == 0
    assert np.ndim(sol.expected_payment) == 0
    assert float(sol.expected_payment) == pytest.approx(float(fast.expected_payment), abs=TOL)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="shapes do not match"):
        minimal_contract_cvxpy([0.0, 1.0, 2.0], SECTION7_P, 0)
    with pytest.raises(ValueError, match="out of range"):
        minimal_contract_cvxpy([0.0, 1.0], SECTION7_P, 5)
    with pytest.raises(ValueError, match="margin must be non-negative"):
        minimal_contract_cvxpy([0.0, 1.0], SECTION7_P, 0, margin=-1.0)


def test_another_solver_agrees_loosely() -> None:
    """The formulation is solver-independent: Clarabel (interior point, default tolerances)
    gives the same cost to 1e-6 on the §7 example."""
    sol = minimal_contract_cvxpy([-0.7, 0.1], SECTION7_P, 0, solver="CLARABEL")
    assert float(sol.expected_payment) == pytest.approx(0.9, abs=1e-6)


def test_agrees_with_exact_on_random_rational_states() -> None:
    """200 seeded random states (2–5 actions, 2–5 outcomes, probabilities on the grid k/4,
    Q̄ on k/4, so ties are frequent): implementability identical to the exact solver and cost
    within 1e-9."""
    rng = np.random.default_rng(3)
    implementable = 0
    for _ in range(200):
        n_a, n_o = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        counts = np.array([rng.multinomial(4, np.full(n_o, 1.0 / n_o)) for _ in range(n_a)])
        q_num = rng.integers(-4, 5, n_a)
        a = int(rng.integers(n_a))
        exact = minimal_contract_exact(
            [Fraction(int(k), 4) for k in q_num],
            [[Fraction(int(c), 4) for c in row] for row in counts],
            a,
        )
        ref = minimal_contract_cvxpy(q_num / 4.0, counts / 4.0, a)
        assert bool(ref.implementable) == exact.implementable
        if exact.implementable:
            implementable += 1
            assert exact.expected_payment is not None
            assert abs(float(ref.expected_payment) - float(exact.expected_payment)) <= TOL
    assert 50 <= implementable <= 190
