"""Prioritized replay (solvers.coin.replay): sum-tree invariants, proportional sampling,
ring-buffer behaviour and exact state round trips."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.coin.replay import PrioritizedReplay, SumTree


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 70),
    updates=st.lists(
        st.tuples(st.integers(0, 69), st.floats(0, 10, allow_nan=False)), min_size=1, max_size=60
    ),
)
def test_sum_tree_nodes_are_sums_of_children(capacity, updates):
    tree = SumTree(capacity)
    ref = np.zeros(tree.capacity)
    for leaf, p in updates:
        leaf %= capacity
        tree.update(np.array([leaf]), np.array([p]))
        ref[leaf] = p
    assert np.isclose(tree.total, ref.sum())
    internal = np.arange(1, tree.capacity)
    np.testing.assert_allclose(
        tree.tree[internal], tree.tree[2 * internal] + tree.tree[2 * internal + 1]
    )


@settings(max_examples=40, deadline=None)
@given(
    priorities=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=40).filter(
        lambda p: sum(p) > 1e-3
    )
)
def test_find_returns_the_leaf_whose_interval_contains_the_mass(priorities):
    p = np.array(priorities)
    tree = SumTree(len(p))
    tree.update(np.arange(len(p)), p)
    cum = np.cumsum(p)
    mass = np.linspace(0, cum[-1], 50, endpoint=False)
    # the tree adds in another order than cumsum: skip masses on an interval's boundary
    clear = np.min(np.abs(mass[:, None] - cum[None, :]), axis=1) > 1e-9 * cum[-1]
    expected = np.searchsorted(cum, mass, side="right")
    np.testing.assert_array_equal(tree.find(mass)[clear], expected[clear])


def test_sampling_is_proportional_to_priority_power_alpha():
    buf = PrioritizedReplay(4, {"x": ((), np.int64)}, ("a",), alpha=0.5, eps=0.0)
    buf.add({"x": np.arange(4)})
    td = np.array([1.0, 4.0, 9.0, 0.0])
    buf.update_priorities("a", np.arange(4), td)
    rng = np.random.default_rng(0)
    idx, batch = buf.sample("a", 200_000, rng)
    freq = np.bincount(idx, minlength=4) / len(idx)
    np.testing.assert_allclose(freq, np.sqrt(td) / np.sqrt(td).sum(), atol=0.005)
    np.testing.assert_array_equal(batch["x"], idx)


def test_new_transitions_get_the_maximum_priority_and_ring_overwrites():
    buf = PrioritizedReplay(3, {"x": ((), np.int64)}, ("a", "b"), alpha=1.0, eps=0.0)
    buf.add({"x": np.array([0, 1])})
    buf.update_priorities("a", np.array([0]), np.array([7.0]))
    buf.add({"x": np.array([2, 3])})  # 3 overwrites slot 0
    assert buf.size == 3 and buf.position == 1
    assert buf.data["x"].tolist() == [3, 1, 2]
    np.testing.assert_allclose(buf.trees["a"].priorities(np.arange(3)), [7.0, 1.0, 7.0])
    np.testing.assert_allclose(buf.trees["b"].priorities(np.arange(3)), [1.0, 1.0, 1.0])


def test_state_dict_round_trip_reproduces_sampling():
    fields = {"x": ((2,), np.float32)}
    a = PrioritizedReplay(50, fields, ("t",))
    rng = np.random.default_rng(1)
    a.add({"x": rng.random((30, 2)).astype(np.float32)})
    a.update_priorities("t", np.arange(10), rng.random(10))
    b = PrioritizedReplay(50, fields, ("t",))
    b.load_state_dict(a.state_dict())
    i1, _ = a.sample("t", 64, np.random.default_rng(5))
    i2, _ = b.sample("t", 64, np.random.default_rng(5))
    np.testing.assert_array_equal(i1, i2)
