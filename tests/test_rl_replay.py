"""Tests of solvers.rl.replay.RingStorage: ring order, shapes, refusals, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.rl.replay import RingStorage

FIELDS = {"x": ((), np.int64), "v": ((2,), np.float32)}


def _batch(values: list[int]) -> dict[str, np.ndarray]:
    x = np.array(values, dtype=np.int64)
    return {"x": x, "v": np.stack([x, -x], axis=1).astype(np.float32)}


def test_ring_overwrites_the_oldest_and_returns_the_slots() -> None:
    ring = RingStorage(4, FIELDS)
    assert ring.append(_batch([0, 1, 2])).tolist() == [0, 1, 2]
    assert ring.append(_batch([3, 4])).tolist() == [3, 0]  # 4 replaces 0 in slot 0
    assert (len(ring), ring.position) == (4, 1)
    assert ring.data["x"].tolist() == [4, 1, 2, 3]
    rows = ring.gather(np.array([0, 3]))
    assert rows["x"].tolist() == [4, 3] and rows["v"].tolist() == [[4, -4], [3, -3]]


def test_refusals() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RingStorage(0, FIELDS)
    ring = RingStorage(2, FIELDS)
    with pytest.raises(ValueError, match="cannot add 3"):
        ring.append(_batch([1, 2, 3]))
    with pytest.raises(ValueError, match="fields"):
        ring.append({"x": np.zeros(1, dtype=np.int64)})


def test_state_round_trip_in_place() -> None:
    ring = RingStorage(5, FIELDS)
    ring.append(_batch([1, 2, 3, 4]))
    ring.append(_batch([5, 6, 7]))  # wraps: position 2
    copy = RingStorage(5, FIELDS)
    alias = copy.data["x"]
    copy.load_state_dict(ring.state_dict())
    assert copy.data["x"] is alias  # restored in place (views stay valid)
    for name in FIELDS:
        np.testing.assert_array_equal(copy.data[name], ring.data[name])
    assert (copy.position, copy.size) == (ring.position, ring.size)
    partial = RingStorage(5, FIELDS)
    partial.append(_batch([9]))
    copy.load_state_dict(partial.state_dict())  # a smaller state clears the rest
    assert copy.data["x"].tolist() == [9, 0, 0, 0, 0] and len(copy) == 1
    with pytest.raises(ValueError, match="capacity"):
        RingStorage(6, FIELDS).load_state_dict(ring.state_dict())
