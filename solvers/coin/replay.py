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
