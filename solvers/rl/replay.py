"""The storage both replay buffers specialise: a ring of preallocated named numpy arrays.

:class:`RingStorage` holds ``capacity`` transitions, each a set of named fields of fixed shape
and dtype; :meth:`RingStorage.append` appends a batch of transitions (overwriting the oldest),
:meth:`RingStorage.gather` reads rows, and :meth:`RingStorage.state_dict` /
:meth:`RingStorage.load_state_dict` save and restore the filled part and the ring position for
checkpoints. How rows are *drawn* is the subclass's own: uniformly for the deep trainer
(:class:`solvers.deep.replay.ReplayBuffer`), in proportion to priorities for the Coin Game
(:class:`solvers.coin.replay.PrioritizedReplay`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FieldSpec", "RingStorage"]

IntArray = npt.NDArray[np.int64]
#: one field of a transition: ``(shape of one transition's value, dtype)``
FieldSpec = tuple[tuple[int, ...], Any]


class RingStorage:
    """Ring buffer of ``capacity`` transitions with named fields.

    Parameters
    ----------
    capacity : maximum number of transitions; the oldest are overwritten first.
    fields : ``name -> (shape, dtype)`` of one transition.

    Attributes
    ----------
    data : ``name -> array of shape (capacity, *shape)``.
    position : the slot the next transition goes to.
    size : the number of transitions held (at most ``capacity``).
    """

    def __init__(self, capacity: int, fields: Mapping[str, FieldSpec]) -> None:
        if (
            isinstance(capacity, bool)
            or not isinstance(capacity, (int, np.integer))
            or capacity < 1
        ):
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        if not fields:
            raise ValueError("a replay storage needs at least one field")
        self.capacity = int(capacity)
        self.fields = {name: (tuple(shape), dtype) for name, (shape, dtype) in fields.items()}
        self.data: dict[str, np.ndarray] = {
            name: np.zeros((self.capacity, *shape), dtype=dtype)
            for name, (shape, dtype) in self.fields.items()
        }
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, batch: Mapping[str, Any]) -> IntArray:
        """Append ``n`` transitions (every field with leading dimension ``n``); returns their
        slots."""
        if set(batch) != set(self.data):
            raise ValueError(f"fields {sorted(batch)} ≠ the buffer's {sorted(self.data)}")
        n = len(next(iter(batch.values())))
        if n > self.capacity:
            raise ValueError(f"cannot add {n} transitions to a buffer of {self.capacity}")
        index = (self.position + np.arange(n)) % self.capacity
        for name, values in batch.items():
            self.data[name][index] = values
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        return index

    def gather(self, index: IntArray) -> dict[str, np.ndarray]:
        """The rows ``index`` of every field (copies)."""
        return {name: values[index] for name, values in self.data.items()}

    def state_dict(self) -> dict[str, Any]:
        """The filled part of every field, the capacity and the ring position."""
        data: dict[str, Any] = {name: v[: self.size].copy() for name, v in self.data.items()}
        data.update(capacity=self.capacity, position=self.position, size=self.size)
        return data

    def load_state_dict(self, data: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (same capacity and fields), in place."""
        if int(data["capacity"]) != self.capacity:
            raise ValueError(f"checkpoint buffer capacity {data['capacity']} ≠ {self.capacity}")
        size = int(data["size"])
        for name, (shape, _) in self.fields.items():
            values = np.asarray(data[name])
            if values.shape != (size, *shape):
                raise ValueError(
                    f"checkpoint buffer field {name!r} has shape {values.shape}, "
                    f"expected {(size, *shape)}"
                )
            self.data[name][:size] = values
            self.data[name][size:] = 0
        self.size = size
        self.position = int(data["position"])
