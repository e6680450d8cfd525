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


def _stacked_and_separate(stacks, capacity, seed):
    from solvers.coin.replay import StackedPrioritizedReplay

    fields = {"state": ((4,), np.int64), "reward": ((2,), np.float32)}
    stacked = StackedPrioritizedReplay(stacks, capacity, fields, ("a", "b"), alpha=0.4, eps=1e-7)
    separate = [PrioritizedReplay(capacity, fields, ("a", "b")) for _ in range(stacks)]
    return stacked, separate


@settings(max_examples=15, deadline=None)
@given(
    stacks=st.integers(1, 4),
    capacity=st.integers(3, 40),
    steps=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_stacked_replay_is_each_stack_a_prioritized_replay(stacks, capacity, steps, seed):
    """Buffer ``k`` of a StackedPrioritizedReplay stores, draws (with generator ``k``) and
    reprioritises exactly what a PrioritizedReplay fed the same transitions does (the second,
    independent implementation is the one-buffer class itself), through ring wrap-around."""
    stacked, separate = _stacked_and_separate(stacks, capacity, seed)
    data = np.random.default_rng(seed)
    rngs = [np.random.default_rng([seed, k]) for k in range(stacks)]
    refs = [np.random.default_rng([seed, k]) for k in range(stacks)]
    for _ in range(steps):
        m = int(data.integers(1, capacity + 1))
        batch = {
            "state": data.integers(0, 9, size=(stacks, m, 4)),
            "reward": data.random((stacks, m, 2)).astype(np.float32),
        }
        stacked.add(batch)
        for k, buf in enumerate(separate):
            buf.add({name: v[k] for name, v in batch.items()})
        for tree in ("a", "b"):
            idx, got = stacked.sample(tree, 7, rngs)
            td = data.random((stacks, 7)) * 5
            for k, buf in enumerate(separate):
                idx_k, want = buf.sample(tree, 7, refs[k])
                np.testing.assert_array_equal(idx[k], idx_k)
                for name in want:
                    np.testing.assert_array_equal(got[name][k], want[name])
                buf.update_priorities(tree, idx_k, td[k])
            stacked.update_priorities(tree, idx, td)
    for k, buf in enumerate(separate):
        for tree in ("a", "b"):
            np.testing.assert_array_equal(stacked.trees[tree].tree[k], buf.trees[tree].tree)
            assert stacked.max_priority[tree][k] == buf.max_priority[tree]


def test_stacked_replay_state_round_trip():
    stacked, _ = _stacked_and_separate(3, 10, 0)
    data = np.random.default_rng(1)
    for _ in range(4):
        stacked.add({"state": data.integers(0, 9, (3, 4, 4)), "reward": data.random((3, 4, 2))})
    idx, _ = stacked.sample("a", 5, [np.random.default_rng(k) for k in range(3)])
    stacked.update_priorities("a", idx, data.random((3, 5)))
    copy, _ = _stacked_and_separate(3, 10, 0)
    copy.load_state_dict(stacked.state_dict())
    draws = [stacked.sample("a", 6, [np.random.default_rng(9 + k) for k in range(3)])]
    draws.append(copy.sample("a", 6, [np.random.default_rng(9 + k) for k in range(3)]))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1]["state"], draws[1][1]["state"])


def test_stacked_replay_draws_every_tree_at_once_as_one_tree_after_another():
    """sample_all / update_all (every learner's draw and reprioritisation in one pass) give
    each stack exactly what PrioritizedReplay.sample("a") then .sample("b") with the same
    generator, and the matching update_priorities, give — through ring wrap-around, with the
    ancestors' refresh deferred to the next add."""
    stacks, capacity = 3, 37
    stacked, separate = _stacked_and_separate(stacks, capacity, 0)
    data = np.random.default_rng(5)
    rngs = [np.random.default_rng([5, k]) for k in range(stacks)]
    refs = [np.random.default_rng([5, k]) for k in range(stacks)]
    for _ in range(15):
        m = int(data.integers(1, 9))
        batch = {
            "state": data.integers(0, 9, size=(stacks, m, 4)),
            "reward": data.random((stacks, m, 2)).astype(np.float32),
        }
        stacked.add(batch)
        for k, buf in enumerate(separate):
            buf.add({name: v[k] for name, v in batch.items()})
        idx, got = stacked.sample_all(6, rngs)
        td = data.random((2, stacks, 6)) * 3
        for k, buf in enumerate(separate):
            for t, tree in enumerate(("a", "b")):
                idx_k, want = buf.sample(tree, 6, refs[k])
                np.testing.assert_array_equal(idx[t, k], idx_k)
                np.testing.assert_array_equal(got["state"][t, k], want["state"])
            for t, tree in enumerate(("a", "b")):
                buf.update_priorities(tree, idx[t, k], td[t, k])
        stacked.update_all(idx, td)
    for k, buf in enumerate(separate):
        for tree in ("a", "b"):
            np.testing.assert_array_equal(stacked.trees[tree].tree[k], buf.trees[tree].tree)
            assert stacked.max_priority[tree][k] == buf.max_priority[tree]
