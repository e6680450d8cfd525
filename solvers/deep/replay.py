"""Uniform replay buffer of Algorithm 2 (PAPER.md §4).

A transition is stored as indices only, ``(s, a^p, a, o, s', done)``: the state, the
recommended action, the action the agent took, the outcome, the next state and whether the
episode ended. Rewards ``r(s, a)`` and ``r^p(s, o)`` are deterministic functions of these
indices in the principal-agent MDP (PAPER.md §1), and the contracts are *not* stored: the
targets recompute them from the current agent network, as Algorithm 2 prescribes.

The buffer is a ring of preallocated numpy arrays; batches are drawn uniformly with
replacement from a caller-supplied :class:`numpy.random.Generator` (one ``integers`` call), so
a run is repeatable, and :meth:`state_dict` / :meth:`load_state_dict` make it resumable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FIELDS: tuple[str, ...] = ("states", "recommended", "actions", "outcomes", "next_states", "done")


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of transitions (arrays of length ``B``; field meanings as in the module)."""

    states: IntArray
    recommended: IntArray
    actions: IntArray
    outcomes: IntArray
    next_states: IntArray
    done: BoolArray


class ReplayBuffer:
    """Ring buffer of ``capacity`` transitions.

    Parameters
    ----------
    capacity : maximum number of transitions; the oldest are overwritten first.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        self.states = np.zeros(self.capacity, dtype=np.int64)
        self.recommended = np.zeros(self.capacity, dtype=np.int64)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.outcomes = np.zeros(self.capacity, dtype=np.int64)
        self.next_states = np.zeros(self.capacity, dtype=np.int64)
        self.done = np.zeros(self.capacity, dtype=bool)
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        states: IntArray,
        recommended: IntArray,
        actions: IntArray,
        outcomes: IntArray,
        next_states: IntArray,
        done: BoolArray,
    ) -> None:
        """Append a batch of transitions (equal-length arrays)."""
        n = len(states)
        if n > self.capacity:
            raise ValueError(f"cannot add {n} transitions to a buffer of {self.capacity}")
        index = (self.position + np.arange(n)) % self.capacity
        self.states[index] = states
        self.recommended[index] = recommended
        self.actions[index] = actions
        self.outcomes[index] = outcomes
        self.next_states[index] = next_states
        self.done[index] = done
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` transitions uniformly with replacement (one ``rng.integers`` call)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer")
        index = rng.integers(0, self.size, batch_size)
        return Batch(
            self.states[index],
            self.recommended[index],
            self.actions[index],
            self.outcomes[index],
            self.next_states[index],
            self.done[index],
        )

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the buffer and the ring position (for checkpoints)."""
        data: dict[str, Any] = {name: getattr(self, name)[: self.size].copy() for name in FIELDS}
        data.update(capacity=self.capacity, position=self.position, size=self.size)
        return data

    def load_state_dict(self, data: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (the capacities must match)."""
        if int(data["capacity"]) != self.capacity:
            raise ValueError(f"checkpoint buffer capacity {data['capacity']} ≠ {self.capacity}")
        size = int(data["size"])
        for name in FIELDS:
            values = np.asarray(data[name])
            if values.shape != (size,):
                raise ValueError(
                    f"checkpoint buffer field {name!r} has shape {values.shape}, expected ({size},)"
                )
            getattr(self, name)[:size] = values
        self.size = size
        self.position = int(data["position"])
