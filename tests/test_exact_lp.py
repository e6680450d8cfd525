"""Tests of the exact rational LP solver and its certificate checks (theory/exact_lp.py).

Problem form: ``min c·x s.t. A x ≥ b, x ≥ 0``; dual ``max y·b s.t. yᵀA ≤ c, y ≥ 0``. The
certificate checks are pure; the tests feed them hand-made certificates (valid and broken) as
well as the solver's.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from theory.exact_lp import (
    CertificateError,
    ExactLPResult,
    check_infeasibility_certificate,
    check_optimality_certificate,
    check_unboundedness_certificate,
    infeasibility_violations,
    optimality_violations,
    solve_exact_lp,
    verify_lp_result,
)

F = Fraction


def test_two_variable_lp_solved_by_hand() -> None:
    """min 2x₁ + 3x₂ s.t. x₁ + x₂ ≥ 2, x₁ + 3x₂ ≥ 3, x ≥ 0.

    The vertices of the feasible region are (0, 2), (3/2, 1/2) and (3, 0) with costs 6, 9/2 and
    6, so x* = (3/2, 1/2), c·x* = 9/2. Both constraints are tight, so the dual solves
    y₁ + y₂ = 2, y₁ + 3y₂ = 3: y = (3/2, 1/2), and y·b = 3 + 3/2 = 9/2.
    """
    c, A, b = [2, 3], [[1, 1], [1, 3]], [2, 3]
    result = solve_exact_lp(c, A, b)
    assert result.status == "optimal"
    assert result.x == (F(3, 2), F(1, 2))
    assert result.objective == F(9, 2)
    assert result.dual == (F(3, 2), F(1, 2))
    verify_lp_result(c, A, b, result)


def test_chvatal_cycling_example_terminates() -> None:
    """Chvátal (1983, *Linear Programming*, p. 31): the textbook simplex method cycles on

        max 10x₁ − 57x₂ − 9x₃ − 24x₄  s.t.  ½x₁ − 11/2 x₂ − 5/2 x₃ + 9x₄ ≤ 0,
                                            ½x₁ − 3/2 x₂ − ½x₃ + x₄ ≤ 0,   x₁ ≤ 1.

    Bland's rule must terminate. In our form (min of the negated objective, rows negated):
    x* = (1, 0, 1, 0) with value −1. Rows 2 and 3 are tight and x₁, x₃ > 0, so the dual solves
    ½y₂ = 9 (column 3) and ½y₂ + y₃ = 10 (column 1): y = (0, 18, 1), y·b = −1.
    """
    c = [-10, 57, 9, 24]
    A: list[list[Fraction | int]] = [
        [F(-1, 2), F(11, 2), F(5, 2), -9],
        [F(-1, 2), F(3, 2), F(1, 2), -1],
        [-1, 0, 0, 0],
    ]
    b = [0, 0, -1]
    result = solve_exact_lp(c, A, b)
    assert result.status == "optimal"
    assert result.x == (1, 0, 1, 0)
    assert result.objective == -1
    assert result.dual == (0, 18, 1)
    verify_lp_result(c, A, b, result)


def test_infeasible_lp_gives_farkas_ray() -> None:
    """x₁ ≥ 1 and −x₁ ≥ 0 cannot both hold: y = (1, 1) gives yᵀA = 0 ≤ 0 and y·b = 1 > 0.

    The solver's ray may differ by scaling; it must pass the same check.
    """
    A, b = [[1], [-1]], [1, 0]
    assert check_infeasibility_certificate(A, b, [1, 1])
    result = solve_exact_lp([1], A, b)
    assert result.status == "infeasible"
    assert result.x is None and result.objective is None and result.dual is None
    assert result.farkas is not None
    assert result.farkas[0] == result.farkas[1] > 0
    verify_lp_result([1], A, b, result)


def test_infeasible_because_of_nonnegativity() -> None:
    """−x₁ − x₂ ≥ 1 has no solution with x ≥ 0: y = (1) gives yᵀA = (−1, −1), y·b = 1."""
    result = solve_exact_lp([0, 0], [[-1, -1]], [1])
    assert result.status == "infeasible"
    verify_lp_result([0, 0], [[-1, -1]], [1], result)


def test_unbounded_lp_gives_ray() -> None:
    """min −x₁ s.t. x₁ − x₂ ≥ 0: the ray d = (1, 1) keeps A d = 0 ≥ 0 and c·d = −1 < 0."""
    c, A, b = [-1, 0], [[1, -1]], [0]
    assert check_unboundedness_certificate(c, A, b, [0, 0], [1, 1])
    result = solve_exact_lp(c, A, b)
    assert result.status == "unbounded"
    assert result.objective is None and result.ray is not None
    verify_lp_result(c, A, b, result)


def test_no_constraints_and_no_variables() -> None:
    """m = 0: x = 0 is optimal iff c ≥ 0 (dual y = () certifies it), else unbounded.
    n = 0: feasible iff b ≤ 0 (objective 0), else infeasible."""
    empty = solve_exact_lp([1, 0, 2], [], [])
    assert empty.status == "optimal" and empty.x == (0, 0, 0) and empty.dual == ()
    verify_lp_result([1, 0, 2], [], [], empty)
    down = solve_exact_lp([1, -1], [], [])
    assert down.status == "unbounded"
    verify_lp_result([1, -1], [], [], down)
    none = solve_exact_lp([], [[], []], [0, -1])
    assert none.status == "optimal" and none.x == () and none.objective == 0
    blocked = solve_exact_lp([], [[], []], [0, 1])
    assert blocked.status == "infeasible" and blocked.farkas is not None
    verify_lp_result([], [[], []], [0, 1], blocked)


def test_redundant_and_degenerate_rows() -> None:
    """The equality x₁ + x₂ = 1 written as three rows (x₁ + x₂ ≥ 1 twice, −x₁ − x₂ ≥ −1)
    plus x₁ ≥ 0 once more: min x₁ + 2x₂ is 1 at x = (1, 0) (degenerate pivots in phase 1)."""
    c, A, b = [1, 2], [[1, 1], [1, 1], [-1, -1], [1, 0]], [1, 1, -1, 0]
    result = solve_exact_lp(c, A, b)
    assert result.status == "optimal"
    assert result.x == (1, 0) and result.objective == 1
    verify_lp_result(c, A, b, result)


def test_single_point_feasible_set_leaves_an_artificial_basic() -> None:
    """min −x₁ + x₃ s.t. −x₁ − 2x₂ + x₃ ≥ 2, −x₂ − x₃ ≥ −2.

    Together the rows give 2 + x₁ + 2x₂ ≤ x₃ ≤ 2 − x₂, so x₁ + 3x₂ ≤ 0: the feasible set is the
    single point x = (0, 0, 2), cost 2. Phase 1 ends with an artificial variable basic at level
    0, which must be pivoted out before phase 2. Dual: y₁ ≥ 1 (column 1) and y·b = 2y₁ − 2y₂
    must be 2, so y₁ − y₂ = 1; e.g. y = (1, 0).
    """
    c, A, b = [-1, 0, 1], [[-1, -2, 1], [0, -1, -1]], [2, -2]
    assert check_optimality_certificate(c, A, b, [0, 0, 2], [1, 0])
    result = solve_exact_lp(c, A, b)
    assert result.status == "optimal"
    assert result.x == (0, 0, 2) and result.objective == 2
    assert result.dual is not None and result.dual[0] - result.dual[1] == 1
    verify_lp_result(c, A, b, result)


def test_numbers_given_as_strings_floats_and_ints() -> None:
    """Inputs are read exactly: "1/3" is 1/3, 0.5 is 1/2 (shortest decimal)."""
    result = solve_exact_lp(["1/3", 0.5], [[1, "2"]], ["1"])
    assert result.status == "optimal"
    assert result.objective == F(1, 4)  # x = (0, 1/2): cost 1/4 < 1/3 at (1, 0)
    assert result.x == (0, F(1, 2))


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="expected 2"):
        solve_exact_lp([1, 2], [[1, 2, 3]], [1])
    with pytest.raises(ValueError, match="rows"):
        solve_exact_lp([1, 2], [[1, 2]], [1, 2])


def test_checks_reject_broken_certificates() -> None:
    """Each broken condition is named: the checks are the proof, so they must be strict."""
    c, A, b = [2, 3], [[1, 1], [1, 3]], [2, 3]
    x, y = [F(3, 2), F(1, 2)], [F(3, 2), F(1, 2)]
    assert check_optimality_certificate(c, A, b, x, y)
    assert not check_optimality_certificate(c, A, b, [F(3, 2), F(1, 3)], y)  # A x ≱ b
    assert any("row 1" in v for v in optimality_violations(c, A, b, [F(3, 2), F(1, 3)], y))
    assert not check_optimality_certificate(c, A, b, [3, 0], y)  # feasible, not optimal: gap
    assert any("gap" in v for v in optimality_violations(c, A, b, [3, 0], y))
    assert not check_optimality_certificate(c, A, b, x, [2, 1])  # yᵀA ≰ c
    assert not check_optimality_certificate(c, A, b, x, [F(5, 2), F(-1, 2)])  # y ≱ 0
    assert not check_optimality_certificate(c, A, b, x, [1])  # wrong length
    A_inf, b_inf = [[1], [-1]], [1, 0]
    assert check_infeasibility_certificate(A_inf, b_inf, [2, 2])
    assert not check_infeasibility_certificate(A_inf, b_inf, [2, 1])  # yᵀA = 1 > 0
    assert not check_infeasibility_certificate(A_inf, b_inf, [0, 0])  # y·b = 0
    assert not check_infeasibility_certificate(A_inf, b_inf, [-1, -1])  # y ≱ 0
    assert any("not positive" in v for v in infeasibility_violations(A_inf, b_inf, [0, 3]))
    assert not check_unboundedness_certificate([-1, 0], [[1, -1]], [0], [0, 0], [1, 2])
    assert not check_unboundedness_certificate([-1, 0], [[1, -1]], [0], [0, 0], [0, 1])
    assert not check_unboundedness_certificate([-1, 0], [[1, -1]], [1], [0, 0], [1, 1])


def test_infeasibility_check_of_a_single_unsatisfiable_row() -> None:
    """x₁ ≥ 1 with −x₁ ≥ 0 needs both multipliers: (1, 2) gives yᵀA = −1 ≤ 0 and y·b = 1 > 0,
    which is a valid ray too (the check does not ask for yᵀA = 0)."""
    assert check_infeasibility_certificate([[1], [-1]], [1, 0], [1, 2])


def test_verify_lp_result_rejects_wrong_claims() -> None:
    c, A, b = [2, 3], [[1, 1], [1, 3]], [2, 3]
    good = solve_exact_lp(c, A, b)
    with pytest.raises(CertificateError, match="objective"):
        verify_lp_result(c, A, b, ExactLPResult("optimal", good.x, F(4), dual=good.dual))
    with pytest.raises(CertificateError, match="without"):
        verify_lp_result(c, A, b, ExactLPResult("optimal", good.x, good.objective))
    with pytest.raises(CertificateError, match="infeasible certificate fails"):
        verify_lp_result(c, A, b, ExactLPResult("infeasible", None, None, farkas=(F(1), F(1))))
    with pytest.raises(CertificateError, match="unbounded"):
        verify_lp_result(c, A, b, ExactLPResult("unbounded", good.x, None, ray=(F(1), F(0))))


def _random_lp(rng: np.random.Generator) -> tuple[list[int], list[list[int]], list[int]]:
    m, n = int(rng.integers(0, 7)), int(rng.integers(1, 7))
    A = rng.integers(-3, 4, size=(m, n))
    if rng.random() < 0.3:
        A = np.abs(A)
    if m >= 2 and rng.random() < 0.2:
        A[-1] = A[0]  # a duplicated row: degeneracy
    b = rng.integers(-3, 4, size=m)
    c = rng.integers(-2, 5, size=n)
    return c.tolist(), A.tolist(), b.tolist()


def test_random_lps_agree_with_highs_and_certify() -> None:
    """600 seeded random integer LPs (up to 6 × 6, with duplicated rows): every answer's
    certificate verifies exactly, and wherever HiGHS gives a definite status it is the same,
    with the optimum within 1e-9.

    HiGHS runs with presolve off: with presolve on it has reported "infeasible" for feasible
    unbounded LPs here (e.g. A = [[2,−2,1],[−1,3,−2],[3,1,−3]], b = (−2,−2,−3), where x = 0 is
    feasible); the exact certificate settles such cases.
    """
    rng = np.random.default_rng(7)
    seen: dict[str, int] = {}
    for _ in range(600):
        c, A, b = _random_lp(rng)
        result = solve_exact_lp(c, A, b)
        verify_lp_result(c, A, b, result)
        seen[result.status] = seen.get(result.status, 0) + 1
        m = len(A)
        highs = linprog(
            c,
            A_ub=-np.array(A) if m else None,
            b_ub=-np.array(b) if m else None,
            bounds=(0, None),
            method="highs",
            options={"presolve": False},
        )
        status = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(highs.status)
        if status is not None:
            assert status == result.status, (c, A, b)
        if status == "optimal":
            assert result.objective is not None
            assert abs(float(result.objective) - highs.fun) <= 1e-9
    assert min(seen.get(s, 0) for s in ("optimal", "infeasible", "unbounded")) >= 50


_SMALL = st.integers(-3, 3)


@st.composite
def _lps(draw: st.DrawFn) -> tuple[list[int], list[list[int]], list[int]]:
    m, n = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    A = [draw(st.lists(_SMALL, min_size=n, max_size=n)) for _ in range(m)]
    b = draw(st.lists(_SMALL, min_size=m, max_size=m))
    c = draw(st.lists(_SMALL, min_size=n, max_size=n))
    return c, A, b


@settings(max_examples=200, deadline=None)
@given(_lps())
def test_property_certificates_always_verify(
    lp: tuple[list[int], list[list[int]], list[int]],
) -> None:
    """Whatever the LP, the answer carries a certificate that the pure checks accept."""
    c, A, b = lp
    verify_lp_result(c, A, b, solve_exact_lp(c, A, b))


@settings(max_examples=100, deadline=None)
@given(_lps(), st.integers(1, 5))
def test_property_invariances(lp: tuple[list[int], list[list[int]], list[int]], k: int) -> None:
    """Adding the redundant row (row₀ + row₁ ≥ b₀ + b₁) changes nothing; scaling c by k > 0
    scales the optimum by k; the status is the same in all three."""
    c, A, b = lp
    base = solve_exact_lp(c, A, b)
    scaled = solve_exact_lp([k * v for v in c], A, b)
    assert scaled.status == base.status
    if base.status == "optimal":
        assert base.objective is not None and scaled.objective == k * base.objective
    if len(A) >= 2:
        extra = [x + y for x, y in zip(A[0], A[1], strict=True)]
        more = solve_exact_lp(c, [*A, extra], [*b, b[0] + b[1]])
        assert more.status == base.status and more.objective == base.objective
