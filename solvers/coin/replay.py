"""Prioritized experience replay, vectorised (Schaul et al. 2016; PAPER.md §6 hyperparameters:
size 100,000, α = 0.4, β = 0, ε = 1e-7).

A transition ``k`` is drawn with probability ``P(k) = p_k / Σ_j p_j``, ``p_k = (|δ_k| + ε)^α``;
new transitions enter with the largest priority seen so far. With ``β = 0`` no importance
weights are applied. Several learners can share one storage with a priority *tree each*
(Algorithm 3's principal and agents, the two validation agents), since each learner has its own
TD errors.

:class:`SumTree` stores priorities in a complete binary tree (leaf ``k`` at ``capacity + k``,
node ``j`` = sum of ``2j`` and ``2j + 1``); sampling descends all ``batch`` draws level by level
and updating recomputes the touched ancestors level by level, both as numpy array operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from solvers.rl.replay import FieldSpec, RingStorage

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class SumTree:
    """Sum tree over ``capacity`` priorities (rounded up to a power of two).

    Parameters
    ----------
    capacity
        Number of leaves needed.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = 1 << max(0, int(capacity - 1).bit_length())
        self.depth = self.capacity.bit_length() - 1
        self.tree = np.zeros(2 * self.capacity)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.tree[1])

    def update(self, leaves: IntArray, priorities: FloatArray) -> None:
        """Set leaf priorities and refresh their ancestors."""
        node = np.asarray(leaves, dtype=np.int64) + self.capacity
        self.tree[node] = priorities
        for _ in range(self.depth):
            node = node // 2  # duplicates write the same sum, so no need to deduplicate
            self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]

    def find(self, mass: FloatArray) -> IntArray:
        """Leaves whose cumulative-priority interval contains each ``mass`` in ``[0, total)``."""
        node = np.ones(len(mass), dtype=np.int64)
        mass = np.array(mass, dtype=np.float64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.tree[left]
            go_right = mass >= left_sum
            mass = np.where(go_right, mass - left_sum, mass)
            node = left + go_right
        return node - self.capacity

    def priorities(self, leaves: IntArray) -> FloatArray:
        """Current priorities of leaves."""
        return self.tree[np.asarray(leaves) + self.capacity]


class PrioritizedReplay(RingStorage):
    """Ring storage of named fields (:class:`solvers.rl.replay.RingStorage`) with one
    :class:`SumTree` per learner.

    Parameters
    ----------
    capacity
        Maximum number of transitions.
    fields
        ``name -> (shape, dtype)`` of one transition.
    trees
        Names of the learners sampling from the buffer.
    alpha, eps
        Priority exponent and additive constant.
    """

    def __init__(
        self,
        capacity: int,
        fields: dict[str, FieldSpec],
        trees: tuple[str, ...],
        *,
        alpha: float = 0.4,
        eps: float = 1e-7,
    ) -> None:
        super().__init__(capacity, fields)
        self.alpha = alpha
        self.eps = eps
        self.trees = {name: SumTree(capacity) for name in trees}
        self.max_priority = dict.fromkeys(trees, 1.0)

    def add(self, batch: dict[str, np.ndarray]) -> IntArray:
        """Append ``M`` transitions (every field with leading dimension ``M``) at the largest
        priority seen so far."""
        idx = self.append(batch)
        m = len(idx)
        for name, tree in self.trees.items():
            tree.update(idx, np.full(m, self.max_priority[name]))
        return idx

    def sample(
        self, tree: str, batch_size: int, rng: np.random.Generator
    ) -> tuple[IntArray, dict[str, np.ndarray]]:
        """Draw ``batch_size`` indices in proportion to ``tree``'s priorities (with replacement)."""
        t = self.trees[tree]
        mass = rng.random(batch_size) * t.total
        idx = np.minimum(t.find(mass), self.size - 1)
        return idx, self.gather(idx)

    def update_priorities(self, tree: str, idx: IntArray, td_abs: FloatArray) -> None:
        """Set ``p = (|δ| + ε)^α`` for the sampled transitions."""
        p = (np.asarray(td_abs, dtype=np.float64) + self.eps) ** self.alpha
        self.trees[tree].update(idx, p)
        self.max_priority[tree] = max(self.max_priority[tree], float(p.max()))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: the storage, every tree and its maximum."""
        return {
            "storage": super().state_dict(),
            "trees": {k: t.tree.copy() for k, t in self.trees.items()},
            "max_priority": dict(self.max_priority),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state["storage"])
        for k, arr in state["trees"].items():
            self.trees[k].tree = np.array(arr)
        self.max_priority = dict(state["max_priority"])


class StackedSumTree:
    """``rows`` independent :class:`SumTree`\\ s in one flat array (row ``k`` at offset
    ``2·capacity·k``).

    Row ``k`` holds exactly the numbers of a :class:`SumTree` given the same leaves: every
    internal node is the float sum ``left + right`` of its children, so the tree is a function
    of its leaves, whatever order the leaves were written in. Each level of all rows is one
    numpy operation: an ensemble of seeds (:mod:`solvers.coin.ensemble`) samples every seed's
    prioritized batch at once. Levels with no more nodes per row than the leaves written are
    recomputed whole (one strided addition) instead of node by node.

    Parameters
    ----------
    rows, capacity
        Number of trees and leaves per tree (rounded up to a power of two).
    flat
        Storage to use (``rows · 2 · capacity`` floats, e.g. a view into a larger forest);
        zeros by default.
    """

    def __init__(self, rows: int, capacity: int, flat: FloatArray | None = None) -> None:
        self.capacity = 1 << max(0, int(capacity - 1).bit_length())
        self.depth = self.capacity.bit_length() - 1
        self.rows = rows
        self.flat = np.zeros(rows * 2 * self.capacity) if flat is None else flat
        self._offset = (2 * self.capacity * np.arange(rows))[:, None]

    @property
    def tree(self) -> FloatArray:
        """``(rows, 2·capacity)`` view: row ``k`` is a :attr:`SumTree.tree`."""
        return self.flat.reshape(self.rows, 2 * self.capacity)

    @tree.setter
    def tree(self, value: FloatArray) -> None:
        self.flat[:] = np.asarray(value, dtype=np.float64).reshape(-1)

    @property
    def total(self) -> FloatArray:
        """``(rows,)`` sums of the priorities of each row."""
        return self.flat[self._offset[:, 0] + 1]

    def update(self, leaves: IntArray, priorities: FloatArray) -> None:
        """Set ``(rows, B)`` leaf priorities and refresh their ancestors."""
        self.write(leaves, priorities)
        self.refresh(leaves)

    def write(self, leaves: IntArray, priorities: FloatArray) -> None:
        """Set ``(rows, B)`` leaf priorities without refreshing (call :meth:`refresh`)."""
        self.flat[self._offset + np.asarray(leaves, dtype=np.int64) + self.capacity] = priorities

    def refresh(self, leaves: IntArray) -> None:
        """Recompute the ancestors of ``(rows, B)`` leaves, bottom-up."""
        node = np.asarray(leaves, dtype=np.int64) + self.capacity
        flat, off, tree = self.flat, self._offset, self.tree
        width = node.shape[-1]
        level = self.depth
        while level > 0:
            level -= 1
            lo = 1 << level
            if lo <= width:  # this level and the ones above: recompute every node
                while True:
                    np.add(
                        tree[:, 2 * lo : 4 * lo : 2],
                        tree[:, 2 * lo + 1 : 4 * lo : 2],
                        out=tree[:, lo : 2 * lo],
                    )
                    if lo == 1:
                        return
                    lo //= 2
            node = node // 2
            at = off + node  # children at off + 2·node = at + node and at + node + 1
            flat[at] = flat.take(at + node) + flat.take(at + node + 1)

    def find(self, mass: FloatArray) -> IntArray:
        """``(rows, B)`` leaves whose cumulative-priority interval contains each ``mass``
        (:meth:`SumTree.find`'s descent: the same comparisons and subtractions)."""
        flat, off = self.flat, self._offset
        node = np.ones(mass.shape, dtype=np.int64)
        mass = np.array(mass, dtype=np.float64)
        left_sum = np.empty_like(mass)
        go_right = np.empty(mass.shape, dtype=bool)
        for _ in range(self.depth):
            node *= 2
            flat.take(off + node, out=left_sum)
            np.greater_equal(mass, left_sum, out=go_right)
            np.subtract(mass, left_sum, out=mass, where=go_right)
            node += go_right
        return node - self.capacity


class StackedPrioritizedReplay(RingStorage):
    """``stacks`` :class:`PrioritizedReplay`\\ s that receive the same number of transitions at
    every step (the seeds of an ensemble), in one ring: field values are stored as
    ``(capacity, stacks, *shape)`` and the trees of all learners are the rows of one
    :class:`StackedSumTree` (learner ``t``, stack ``k`` at row ``t·stacks + k``).

    Stack ``k`` holds, draws and reprioritises exactly what a :class:`PrioritizedReplay` fed
    stack ``k``'s transitions and seeded with stack ``k``'s generator would (tested), so each
    seed keeps its own buffer. To save work, :meth:`update_priorities` only writes the leaves;
    their ancestors are refreshed together with those of the next :meth:`add` (or before the
    next draw), which gives the same trees because a tree is a function of its leaves.

    Parameters
    ----------
    stacks
        Number ``K`` of buffers.
    capacity, fields, trees, alpha, eps
        As :class:`PrioritizedReplay` (per buffer).
    """

    def __init__(
        self,
        stacks: int,
        capacity: int,
        fields: dict[str, FieldSpec],
        trees: tuple[str, ...],
        *,
        alpha: float = 0.4,
        eps: float = 1e-7,
    ) -> None:
        super().__init__(
            capacity, {name: ((stacks, *tuple(shape)), dt) for name, (shape, dt) in fields.items()}
        )
        self.stacks = stacks
        self.alpha = alpha
        self.eps = eps
        self.names = trees
        self.forest = StackedSumTree(len(trees) * stacks, capacity)
        width = stacks * 2 * self.forest.capacity
        self._trees = {
            name: StackedSumTree(stacks, capacity, self.forest.flat[t * width : (t + 1) * width])
            for t, name in enumerate(trees)
        }
        self.max_priority = {name: np.ones(stacks) for name in trees}
        self._rows = np.arange(stacks)[:, None]
        self._pending: list[IntArray] = []  # leaves written but not refreshed, (rows, B) each

    @property
    def trees(self) -> dict[str, StackedSumTree]:
        """Each learner's ``K`` trees (views into :attr:`forest`), refreshed."""
        self._flush()
        return self._trees

    def _flush(self) -> None:
        if self._pending:
            self.forest.refresh(np.concatenate(self._pending, axis=1))
            self._pending = []

    def add(self, batch: dict[str, np.ndarray]) -> IntArray:
        """Append ``M`` transitions to every buffer (fields ``(K, M, *shape)``) at each tree's
        largest priority so far; returns their slots ``(M,)``."""
        idx = self.append({name: np.swapaxes(v, 0, 1) for name, v in batch.items()})
        rows = self.forest.rows
        leaves = np.broadcast_to(idx, (rows, len(idx)))
        prio = np.concatenate([self.max_priority[name] for name in self.names])
        self.forest.write(leaves, np.broadcast_to(prio[:, None], leaves.shape))
        self._pending.append(leaves)
        self._flush()
        return idx

    def sample(
        self, tree: str, batch_size: int, rngs: list[np.random.Generator]
    ) -> tuple[IntArray, dict[str, np.ndarray]]:
        """``(K, batch_size)`` indices drawn per buffer (buffer ``k`` with ``rngs[k]``) in
        proportion to ``tree``'s priorities, and the fields ``(K, batch_size, *shape)``."""
        t = self.trees[tree]
        total = t.total
        mass = np.stack([rng.random(batch_size) * total[k] for k, rng in enumerate(rngs)])
        idx = np.minimum(t.find(mass), self.size - 1)
        flat = idx * self.stacks + self._rows  # row (slot, stack) of the (capacity·K, …) view
        return idx, {
            name: v.reshape(-1, *v.shape[2:]).take(flat, axis=0) for name, v in self.data.items()
        }

    def sample_all(
        self, batch_size: int, rngs: list[np.random.Generator]
    ) -> tuple[IntArray, dict[str, np.ndarray]]:
        """:meth:`sample` of every tree in order (the same draws from each generator), in one
        descent: indices ``(T, K, batch_size)`` and fields ``(T, K, batch_size, *shape)``."""
        self._flush()
        count, k = len(self.names), self.stacks
        total = self.forest.total.reshape(count, k)
        u = np.stack([rng.random(count * batch_size) for rng in rngs])  # (K, T·B)
        mass = u.reshape(k, count, batch_size).transpose(1, 0, 2) * total[..., None]
        found = self.forest.find(mass.reshape(count * k, batch_size))
        idx = np.minimum(found, self.size - 1).reshape(count, k, batch_size)
        flat = idx * k + self._rows
        return idx, {
            name: v.reshape(-1, *v.shape[2:]).take(flat, axis=0) for name, v in self.data.items()
        }

    def update_priorities(self, tree: str, idx: IntArray, td_abs: FloatArray) -> None:
        """Set ``p = (|δ| + ε)^α`` for the ``(K, B)`` sampled transitions."""
        p = (np.asarray(td_abs, dtype=np.float64) + self.eps) ** self.alpha
        self._trees[tree].write(idx, p)
        # the other trees' rows refresh the same slots: unchanged leaves, unchanged sums
        self._pending.append(np.tile(np.asarray(idx, dtype=np.int64), (len(self.names), 1)))
        self.max_priority[tree] = np.maximum(self.max_priority[tree], p.max(axis=1))

    def update_all(self, idx: IntArray, td_abs: FloatArray) -> None:
        """:meth:`update_priorities` of every tree: ``(T, K, B)`` indices and TD errors."""
        p = (np.asarray(td_abs, dtype=np.float64) + self.eps) ** self.alpha
        leaves = idx.reshape(-1, idx.shape[-1])
        self.forest.write(leaves, p.reshape(leaves.shape))
        self._pending.append(leaves)
        for t, name in enumerate(self.names):
            self.max_priority[name] = np.maximum(self.max_priority[name], p[t].max(axis=1))

    def state_dict(self) -> dict[str, Any]:
        """The storage, every tree and its maxima (for an ensemble checkpoint)."""
        self._flush()
        return {
            "storage": super().state_dict(),
            "trees": {k: t.tree.copy() for k, t in self.trees.items()},
            "max_priority": {k: v.copy() for k, v in self.max_priority.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore :meth:`state_dict`."""
        super().load_state_dict(state["storage"])
        self._pending = []
        for k, arr in state["trees"].items():
            self._trees[k].tree = np.array(arr)
        self.max_priority = {k: np.array(v) for k, v in state["max_priority"].items()}
