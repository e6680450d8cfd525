"""Tests of solvers.deep.replay: ring semantics, uniform sampling, checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.deep.replay import FIELDS, ReplayBuffer


def _add(buffer: ReplayBuffer, start: int, n: int) -> None:
    values = np.arange(start, start + n, dtype=np.int64)
    buffer.add(values, values % 2, (values + 1) % 2, values % 3, values + 100, values % 5 == 0)


def test_ring_overwrites_the_oldest() -> None:
    buffer = ReplayBuffer(10)
    _add(buffer, 0, 8)
    assert len(buffer) == 8
    _add(buffer, 8, 6)  # 14 transitions into 10 slots: 0..3 are gone
    assert len(buffer) == 10 and buffer.position == 4
    assert sorted(buffer.states.tolist()) == list(range(4, 14))


def test_sample_is_uniform_and_consistent() -> None:
    buffer = ReplayBuffer(50)
    _add(buffer, 0, 20)
    rng = np.random.default_rng(0)
    batch = buffer.sample(20_000, rng)
    counts = np.bincount(batch.states, minlength=20)
    assert counts.min() > 800 and counts.max() < 1200
    np.testing.assert_array_equal(batch.next_states, batch.states + 100)
    np.testing.assert_array_equal(batch.done, batch.states % 5 == 0)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(3).sample(1, rng)


def test_state_dict_round_trip() -> None:
    buffer = ReplayBuffer(16)
    _add(buffer, 0, 12)
    _add(buffer, 12, 9)
    copy = ReplayBuffer(16)
    copy.load_state_dict(buffer.state_dict())
    for name in FIELDS:
        np.testing.assert_array_equal(
            getattr(copy, name)[: len(copy)], getattr(buffer, name)[: len(buffer)]
        )
    assert (copy.position, copy.size) == (buffer.position, buffer.size)
    a, b = (buf.sample(64, np.random.default_rng(3)) for buf in (buffer, copy))
    np.testing.assert_array_equal(a.states, b.states)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(8).load_state_dict(buffer.state_dict())
