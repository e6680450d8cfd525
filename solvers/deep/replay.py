"""Uniform replay buffer of Algorithm 2 (PAPER.md §4).

A transition is stored as indices only, ``(s, a^p, a, o, s', done)``: the state, the
recommended action, the action the agent took, the outcome, the next state and whether the
episode ended. Rewards ``r(s, a)`` and ``r^p(s, o)`` are deterministic functions of these
indices in the principal-agent MDP (PAPER.md §1), and the contracts are *not* stored: the
targets recompute them from the current agent network, as Algorithm 2 prescribes.

The buffer is a ring of preallocated numpy arrays; batches are drawn uniformly with
replacement from a caller-supplied :class:`numpy.random.Generator` (one ``integers`` call), so
a run is repeatable, and :meth:`state_dict` / :meth:`load_state_dict` (from the shared
:class:`solvers.rl.replay.RingStorage`) make it resumable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solvers.rl.replay import RingStorage

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FIELDS: tuple[str, ...] = ("states", "recommended", "actions", "outcomes", "next_states", "done")
_DTYPES: dict[str, type] = {name: np.int64 for name in FIELDS} | {"done": np.bool_}


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of transitions (arrays of length ``B``; field meanings as in the module)."""

    states: IntArray
    recommended: IntArray
    actions: IntArray
    outcomes: IntArray
    next_states: IntArray
    done: BoolArray


class ReplayBuffer(RingStorage):
    """Ring buffer of ``capacity`` transitions (:class:`solvers.rl.replay.RingStorage` with the
    fields of :data:`FIELDS`), sampled uniformly.

    Parameters
    ----------
    capacity : maximum number of transitions; the oldest are overwritten first.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity, {name: ((), _DTYPES[name]) for name in FIELDS})
        # the field arrays as attributes (views of ``data``, updated in place)
        self.states: IntArray = self.data["states"]
        self.recommended: IntArray = self.data["recommended"]
        self.actions: IntArray = self.data["actions"]
        self.outcomes: IntArray = self.data["outcomes"]
        self.next_states: IntArray = self.data["next_states"]
        self.done: BoolArray = self.data["done"]

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
        self.append(
            {
                "states": states,
                "recommended": recommended,
                "actions": actions,
                "outcomes": outcomes,
                "next_states": next_states,
                "done": done,
            }
        )

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` transitions uniformly with replacement (one ``rng.integers`` call)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer")
        index = rng.integers(0, self.size, batch_size)
        return Batch(**self.gather(index))
