"""Tests of solvers.rl.schedules: the one convention (the end value at the last iteration
t = T − 1), both shapes, against values derived by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvers.rl.schedules import exponential, linear


def test_linear_by_hand() -> None:
    # T = 11 iterations t = 0..10, from 1 to 0 over the whole phase: v_t = 1 − t/10
    assert [linear(1.0, 0.0, t, 11) for t in (0, 5, 10, 20)] == [1.0, 0.5, 0.0, 0.0]
    # over the first half, f = 0.5: the decay spans 0.5 · 10 = 5 iterations
    assert linear(0.4, 0.0, 0, 11, 0.5) == 0.4
    assert linear(0.4, 0.0, 2.5, 11, 0.5) == pytest.approx(0.2)
    assert linear(0.4, 0.0, 5, 11, 0.5) == 0.0 and linear(0.4, 0.0, 9, 11, 0.5) == 0.0
    assert linear(0.3, 0.1, 4, 11, 0.0) == 0.1  # f = 0: the end value throughout
    assert linear(0.7, 0.0, 0, 1) == 0.7  # one iteration: the start value
    assert linear(0.7, 0.0, -3, 11) == 0.7  # clamped before the start


def test_exponential_by_hand() -> None:
    # T = 3: lr_0 = 1e-3, lr_1 = sqrt(1e-3 · 1e-4) (the geometric mean), lr_2 = 1e-4
    assert exponential(1e-3, 1e-4, 0, 3) == 1e-3
    assert exponential(1e-3, 1e-4, 1, 3) == pytest.approx(math.sqrt(1e-7), rel=1e-12)
    assert exponential(1e-3, 1e-4, 2, 3) == pytest.approx(1e-4, rel=1e-12)
    assert exponential(1e-3, 1e-4, 50, 3) == exponential(1e-3, 1e-4, 2, 3)  # clamped after
    assert exponential(5e-4, 1e-4, 0, 1) == 5e-4


@given(
    total=st.integers(2, 10**6),
    start=st.floats(1e-6, 1.0),
    end=st.floats(1e-6, 1.0),
)
def test_both_end_exactly_at_the_last_iteration_and_are_monotone(
    total: int, start: float, end: float
) -> None:
    assert linear(start, end, total - 1, total) == pytest.approx(end, abs=1e-15)
    assert exponential(start, end, total - 1, total) == pytest.approx(end, rel=1e-12)
    a, b = sorted((0, total // 3, total - 1))[:2]
    for f in (linear, exponential):
        va, vb = f(start, end, a, total), f(start, end, b, total)
        assert (vb - va) * (end - start) >= -1e-15  # moves from start towards end
