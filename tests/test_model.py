"""Tests of theory.model: validation, graph structure, exact views."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theory.generators import paper_tree, random_instance, three_state_example
from theory.model import InstanceError, build_model, to_fraction


def _three_state_kwargs(**changes):
    base = dict(
        states=["s0", "sL", "sR"],
        actions=["aL", "aR"],
        outcomes=["L", "R"],
        initial_state="s0",
        discount=1,
        outcome_probs=[[["9/10", "1/10"], ["1/10", "9/10"]]] * 3,
        agent_reward=[["-4/5", 0]] * 3,
        principal_reward=[["14/9", 0]] * 3,
        transitions=[[[[1, 1]], [[2, 1]]], [[], []], [[], []]],
        exact=True,
    )
    base.update(changes)
    return base


def test_to_fraction_reads_strings_and_floats_exactly():
    """Strings are exact; a float is read as the shortest decimal that prints as it."""
    assert to_fraction("-4/5") == Fraction(-4, 5)
    assert to_fraction("0.9") == Fraction(9, 10)
    assert to_fraction(0.1) == Fraction(1, 10)
    assert to_fraction(3) == Fraction(3)
    with pytest.raises(TypeError):
        to_fraction(True)


def test_three_state_structure():
    model = three_state_example()
    assert model.n_states == 3 and model.is_episodic
    assert model.heights.tolist() == [1, 0, 0]
    assert model.successors(0, 0) == [(1, 1.0)]
    assert model.successors(1, 0) == []
    assert model.exact is not None and model.exact.agent_reward[0, 0] == Fraction(-4, 5)
    assert model.reachable.all()


def test_tree_heights_and_size():
    tree = paper_tree(5, 3)
    assert tree.n_states == 31
    assert tree.heights[0] == 4 and tree.heights[-1] == 0
    assert tree.transition_matrix.shape == (62, 31)


def test_discounted_instance_has_cycles_and_gamma_below_one():
    model = random_instance(8, 2, 2, seed=4, episodic=False)
    assert model.discount < 1
    # the generator draws arbitrary successors; this seed has a cycle
    assert not model.is_episodic


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        (
            {
                "outcome_probs": [[["9/10", "1/5"], ["1/10", "9/10"]]]
                + [[["9/10", "1/10"], ["1/10", "9/10"]]] * 2
            },
            "outcome_probs[0][0]",
            "sum",
        ),
        (
            {
                "outcome_probs": [[["11/10", "-1/10"], ["1/10", "9/10"]]]
                + [[["9/10", "1/10"], ["1/10", "9/10"]]] * 2
            },
            "outcome_probs[0][0][1]",
            "negative",
        ),
        (
            {"transitions": [[[[5, 1]], [[2, 1]]], [[], []], [[], []]]},
            "transitions[0][0][0][0]",
            "dangling",
        ),
        (
            {"transitions": [[[[1, "1/2"]], [[2, 1]]], [[], []], [[], []]]},
            "transitions[0][0]",
            "sum",
        ),
        ({"transitions": [[[[1, 1]], [[2, 1]]], [[[0, 1]], []], [[], []]]}, "discount", "cycle"),
        ({"discount": "3/2"}, "discount", "[0, 1]"),
        ({"initial_state": "nowhere"}, "initial_state", "unknown"),
        ({"agent_reward": [["-4/5", 0]] * 2}, "agent_reward", "shape"),
        ({"states": ["s0", "s0", "sR"]}, "states[1]", "duplicate"),
    ],
)
def test_malformed_models_are_rejected_naming_the_field(changes, field, fragment):
    with pytest.raises(InstanceError) as info:
        build_model(**_three_state_kwargs(**changes))
    message = str(info.value)
    assert message.startswith(field), message
    assert fragment in message


def test_gamma_one_allows_cycles_that_are_unreachable():
    """FORMAT.md: γ = 1 is forbidden only for cycles reachable from the initial state."""
    model = build_model(
        **_three_state_kwargs(
            states=["s0", "sL", "sR", "x"],
            outcome_probs=[[["9/10", "1/10"], ["1/10", "9/10"]]] * 4,
            agent_reward=[["-4/5", 0]] * 4,
            principal_reward=[["14/9", 0]] * 4,
            transitions=[[[[1, 1]], [[2, 1]]], [[], []], [[], []], [[[3, 1]], [[3, 1]]]],
        )
    )
    assert not model.is_episodic
    assert model.reachable.tolist() == [True, True, True, False]


def test_gamma_one_with_unreachable_cycle_is_refused_by_solvers():
    """Valid as a document, but undiscounted values on the unreachable cycle are undefined:
    every solver refuses it with a message naming the discount."""
    from solvers.backward_induction import solve_backward_induction
    from solvers.evaluation import evaluate_policy
    from solvers.meta_algorithm import meta_algorithm

    model = build_model(
        **_three_state_kwargs(
            states=["s0", "sL", "sR", "x"],
            outcome_probs=[[["9/10", "1/10"], ["1/10", "9/10"]]] * 4,
            agent_reward=[["-4/5", 0]] * 4,
            principal_reward=[["14/9", 0]] * 4,
            transitions=[[[[1, 1]], [[2, 1]]], [[], []], [[], []], [[[3, 1]], [[3, 1]]]],
        )
    )
    for solve in (
        solve_backward_induction,
        meta_algorithm,
        lambda m: evaluate_policy(m, [0] * 4, np.zeros((4, 2))),
    ):
        with pytest.raises(InstanceError, match="discount: γ = 1 and the state graph has a cycle"):
            solve(model)


def test_exact_discount_just_below_one_allows_cycles():
    """γ = 1 − 1e-20 rounds to the float 1.0, but the exact γ is below 1: cycles are allowed."""
    model = build_model(
        **_three_state_kwargs(
            discount="99999999999999999999/100000000000000000000",
            transitions=[[[[1, 1]], [[2, 1]]], [[[0, 1]], []], [[], []]],
        )
    )
    assert not model.is_episodic


def test_models_are_immutable():
    model = three_state_example()
    with pytest.raises(ValueError, match="read-only"):
        model.outcome_probs[1, 0] = [5, -4]
    source = np.zeros((3, 2))
    built = build_model(**_three_state_kwargs(agent_reward=source, exact=False))
    source[0, 0] = 7.0  # the caller's array is copied, not shared
    assert built.agent_reward[0, 0] == 0.0


def test_zero_probability_edges_do_not_make_cycles():
    model = build_model(
        **_three_state_kwargs(transitions=[[[[1, 1]], [[2, 1]]], [[[0, 0], [2, 1]], []], [[], []]])
    )
    assert model.is_episodic


def test_exact_view_of_float_model_uses_shortest_decimals():
    tree = paper_tree(3, 0)
    exact = tree.exact_data()
    assert exact.outcome_probs[0, 0, 1] == Fraction(1, 10)
    assert float(exact.agent_reward[0, 1]) == tree.agent_reward[0, 1]
    assert np.all(exact.transition_prob == 1)


def test_observed_action_requires_identity_outcomes():
    with pytest.raises(InstanceError, match="outcome_probs"):
        build_model(**_three_state_kwargs(observed_action=True, outcomes=["aL", "aR"]))
