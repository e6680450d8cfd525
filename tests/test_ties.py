"""Tests of theory/ties.py: the one tie/tolerance object and the one argmax-with-ties."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.ties import DEFAULT_TIES, EXACT_TIES, TIE_RULES, Ties, argmax_with_ties


def test_numbers_are_held_exactly_with_float_views():
    """0.1 is read as its shortest decimal, exactly 1/10 (never 3602879701896397/2^55)."""
    ties = Ties(margin=0.1, agent_tol="1e-7", principal_tol=Fraction(1, 3))
    assert ties.margin == Fraction(1, 10)
    assert ties.agent_tol == Fraction(1, 10**7)
    assert ties.principal_tol == Fraction(1, 3)
    assert ties.margin_float == 0.1 and ties.agent_tol_float == 1e-7
    assert DEFAULT_TIES.agent_tol == DEFAULT_TIES.principal_tol == Fraction(1, 10**9)
    assert EXACT_TIES.agent_tol == EXACT_TIES.principal_tol == 0
    assert Ties().with_tolerance("1/100").principal_tol == Fraction(1, 100)
    assert Ties(margin="1/8").to_dict()["margin"] == "1/8"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"margin": -1}, "margin must lie in"),
        ({"agent_tol": float("nan")}, "agent_tol: not a finite number"),
        ({"principal_tol": "1e1000000000"}, "principal_tol"),
        ({"principal_rule": "random"}, "principal_rule must be one of"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        Ties(**changes)


def test_tie_rules_pick_among_maximisers():
    """Row 0: actions 0 and 1 tie exactly (agent values 0 and 5); row 1: 0 and 1 tie within
    1e-9 (agent values 4 and 1), action 2 is not implementable although its q is largest."""
    q = np.array([[1.0, 1.0, 0.5], [2.0, 2.0 + 1e-12, 3.0]])
    eligible = np.array([[True, True, True], [True, True, False]])
    agent = np.array([[0.0, 5.0, 9.0], [4.0, 1.0, 0.0]])
    pick = argmax_with_ties
    assert pick(q, eligible, agent, tol=1e-9).tolist() == [0, 0]
    assert pick(q, eligible, agent, rule="agent_best", tol=1e-9).tolist() == [1, 0]
    assert pick(q, eligible, agent, rule="agent_worst", tol=1e-9).tolist() == [0, 1]
    # without a tolerance row 1's 1e-12 lead decides
    assert pick(q, eligible, agent, rule="agent_worst", tol=0).tolist() == [0, 1]
    assert pick(q, eligible, agent, rule="agent_best", tol=0).tolist() == [1, 1]
    with pytest.raises(ValueError, match="tie rule"):
        pick(q, eligible, agent, rule="random")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.booleans()), min_size=3, max_size=3
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(TIE_RULES),
)
def test_float_and_exact_paths_agree_on_exact_ties(rows, rule):
    """Small integers are exact in both arithmetics, so with tol = 0 the float (vectorised)
    and the exact (Fraction, object array) paths of the one function must pick the same
    action in every row; and the pick is always an eligible maximiser."""
    q = np.array([[float(x) for x, _, _ in row] for row in rows])
    agent = np.array([[float(y) for _, y, _ in row] for row in rows])
    eligible = np.array([[e for _, _, e in row] for row in rows])
    eligible[:, 0] |= ~eligible.any(axis=1)  # at least one eligible action per row
    as_fractions = np.array([[Fraction(int(x)) for x in row] for row in q], dtype=object)
    agent_fractions = np.array([[Fraction(int(x)) for x in row] for row in agent], dtype=object)
    float_pick = argmax_with_ties(q, eligible, agent, rule=rule, tol=0)
    exact_pick = argmax_with_ties(as_fractions, eligible, agent_fractions, rule=rule, tol=0)
    assert float_pick.tolist() == exact_pick.tolist()
    for i, a in enumerate(float_pick):
        assert eligible[i, a]
        assert q[i, a] == max(q[i, b] for b in range(3) if eligible[i, b])
