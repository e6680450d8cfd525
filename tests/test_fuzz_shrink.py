"""Tests of properties.fuzz_shrink (issues 4, 12): structural shrinking moves."""

from __future__ import annotations

from properties.fuzz_shrink import _leaf_values, shrink_structurally
from solvers.backward_induction import solve_backward_induction
from theory.generators import paper_tree, three_state_example
from theory.transforms import InstanceFields, size_key


def test_folding_a_leaf_keeps_the_spe_of_the_rest():
    """PAPER.md §2: backward induction sees a leaf only through its SPE values, so replacing
    the leaf sL of the three-state example by those values (γ V^p added to the parent's
    principal reward after L, γ 𝒪(a)(L) V^a to the agent's reward) leaves V^p(s0), V^a(s0)
    and the recommendation at s0 unchanged."""
    model = three_state_example()
    folded = InstanceFields.of(model).fold_leaf(1, _leaf_values)
    assert folded is not None
    smaller = folded.build()
    assert smaller is not None and smaller.n_states == 2
    before = solve_backward_induction(model, exact=True)
    after = solve_backward_induction(smaller, exact=True)
    assert after.principal_values[0] == before.principal_values[0]
    assert after.agent_values[0] == before.agent_values[0]
    assert after.recommended[0] == before.recommended[0]


def test_shrinking_stops_at_a_one_minimal_instance():
    """With the predicate "at least two states", a 7-state tree shrinks to exactly two states
    (no move keeps the predicate from there), each step strictly smaller."""
    model = paper_tree(3, 0)
    smallest, finished = shrink_structurally(model, lambda m: m.n_states >= 2)
    assert finished and smallest.n_states == 2
    assert size_key(smallest) < size_key(model)
    for candidate in InstanceFields.of(smallest).candidates(_leaf_values):
        built = candidate.build()
        if built is not None and size_key(built) < size_key(smallest):
            assert built.n_states < 2
