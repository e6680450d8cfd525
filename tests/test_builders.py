"""Tests of theory.builders (issue 12): building instances from arrays, per-state dicts and
trees with explicit leaves, with the loader's validation errors."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

import pamdp
from solvers.backward_induction import solve_backward_induction
from theory.builders import instance_from_arrays, instance_from_states, instance_from_tree
from theory.format import instance_to_dict
from theory.generators import three_state_example
from theory.model import InstanceError

THREE = instance_to_dict(three_state_example())
LEAF_STATE = {
    "agent_reward": {"aL": "-4/5", "aR": 0},
    "principal_reward": {"L": "14/9", "R": 0},
    "outcome_probs": {"aL": ["9/10", "1/10"], "aR": ["1/10", "9/10"]},
}


def same_instance(model: pamdp.Instance) -> bool:
    document = instance_to_dict(model)
    return all(document[k] == THREE[k] for k in THREE if k != "name")


def test_arrays_sparse_and_dense_give_the_three_state_example():
    sparse = instance_from_arrays(
        agent_reward=THREE["agent_reward"],
        principal_reward=THREE["principal_reward"],
        outcome_probs=THREE["outcome_probs"],
        transitions=THREE["transitions"],
        discount=1,
        states=THREE["states"],
        actions=THREE["actions"],
        outcomes=THREE["outcomes"],
    )
    assert same_instance(sparse)
    dense = np.zeros((3, 2, 3), dtype=object)
    dense[0, 0, 1] = dense[0, 1, 2] = 1  # s0: L -> sL, R -> sR; the leaves end
    from_matrix = instance_from_arrays(
        agent_reward=np.array([[F(-4, 5), 0]] * 3, dtype=object),
        principal_reward=[[F(14, 9), 0]] * 3,
        outcome_probs=THREE["outcome_probs"],
        transition_matrix=dense,
        discount=1,
        states=THREE["states"],
        actions=THREE["actions"],
        outcomes=THREE["outcomes"],
    )
    assert same_instance(from_matrix)


def test_per_state_dicts_and_a_tree_give_the_three_state_example():
    states = {
        "s0": {**LEAF_STATE, "next": {"L": "sL", "R": {"sR": 1}}},
        "sL": LEAF_STATE,
        "sR": {**LEAF_STATE, "next": {"L": None}},
    }
    model = instance_from_states(states, actions=["aL", "aR"], outcomes=["L", "R"], discount=1)
    assert same_instance(model)
    tree = {
        "name": "s0",
        **LEAF_STATE,
        "children": {"L": {"name": "sL", **LEAF_STATE}, "R": {"name": "sR", **LEAF_STATE}},
    }
    assert same_instance(pamdp.instance_from_tree(tree, actions=["aL", "aR"], outcomes=["L", "R"]))


def test_explicit_leaves_are_folded_into_the_parent_exactly():
    """A leaf with payoffs (v^p, v^a) = (3/2, 1/4) after outcome L equals a decision state in
    which both actions give the agent 1/4 and every outcome gives the principal 3/2 (nobody
    is paid there, so its values are exactly those): the SPE at the root is the same."""
    leaf = {"leaf": True, "principal_value": "3/2", "agent_value": "1/4"}
    folded = instance_from_tree(
        {**LEAF_STATE, "children": {"L": leaf, "R": None}},
        actions=["aL", "aR"],
        outcomes=["L", "R"],
        discount="9/10",
    )
    assert folded.n_states == 1
    explicit = instance_from_tree(
        {
            **LEAF_STATE,
            "children": {
                "L": {
                    "agent_reward": ["1/4", "1/4"],
                    "principal_reward": ["3/2", "3/2"],
                    "outcome_probs": [[1, 0], [1, 0]],
                }
            },
        },
        actions=["aL", "aR"],
        outcomes=["L", "R"],
        discount="9/10",
    )
    assert explicit.n_states == 2
    a = solve_backward_induction(folded, exact=True)
    b = solve_backward_induction(explicit, exact=True)
    assert a.principal_values[0] == b.principal_values[0]
    assert a.agent_values[0] == b.agent_values[0]
    assert a.recommended[0] == b.recommended[0]


def test_errors_name_the_field_as_the_loader_does():
    with pytest.raises(InstanceError, match=r"outcome_probs\[0\]\[0\]: row does not sum to 1"):
        instance_from_arrays(
            agent_reward=[[0, 0]],
            principal_reward=[[0, 0]],
            outcome_probs=[[[F(1, 2), F(1, 3)], [1, 0]]],
            transitions=[[[], []]],
            discount=1,
        )
    with pytest.raises(InstanceError, match=r"states\['s0'\]\.next\['L'\]: unknown state name"):
        instance_from_states(
            {"s0": {**LEAF_STATE, "next": {"L": "nowhere"}}},
            actions=["aL", "aR"],
            outcomes=["L", "R"],
            discount=1,
        )
    with pytest.raises(InstanceError, match=r"agent_reward: unknown name"):
        instance_from_states(
            {"s0": {**LEAF_STATE, "agent_reward": {"aX": 0}}},
            actions=["aL", "aR"],
            outcomes=["L", "R"],
            discount=1,
        )
    with pytest.raises(InstanceError, match="discount: must be in"):
        instance_from_states(
            {"s0": LEAF_STATE}, actions=["aL", "aR"], outcomes=["L", "R"], discount=2
        )
