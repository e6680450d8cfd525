"""Tests of solvers.rl.seeding: the seeding block repeats every generator, generator states
survive a checkpoint-safe round trip, the flush-denormal mode is restored."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from solvers.rl.seeding import (
    FlushDenormals,
    denormals_flushed,
    generator_from_state,
    generator_state,
    restore_generator,
    restore_torch_rng,
    seed_everything,
    torch_rng_state,
)

torch = pytest.importorskip("torch")


def _draws(rng: np.random.Generator) -> list[float]:
    return [random.random(), float(np.random.random()), float(torch.rand(1)), float(rng.random())]


def test_seed_everything_repeats_every_generator() -> None:
    first = _draws(seed_everything(7))
    assert _draws(seed_everything(7)) == first
    assert _draws(seed_everything(8)) != first


def test_generator_state_is_json_safe_and_continues_the_stream() -> None:
    rng = np.random.default_rng(3)
    rng.random(5)
    rng.integers(0, 10, 3)  # leaves a buffered 32-bit half (has_uint32) in some states
    state = json.loads(json.dumps(generator_state(rng)))
    expected = rng.random(4).tolist()
    assert generator_from_state(state).random(4).tolist() == expected
    other = np.random.default_rng(99)
    restore_generator(other, state)
    assert other.random(4).tolist() == expected
    with pytest.raises(ValueError, match="PCG64"):
        generator_state(np.random.Generator(np.random.MT19937(1)))


def test_torch_rng_round_trip() -> None:
    torch.manual_seed(1)
    state = torch_rng_state()
    a = torch.rand(3)
    restore_torch_rng(state)
    assert torch.equal(torch.rand(3), a)
    restore_torch_rng(state["cpu"])  # a bare state tensor (older checkpoints)
    assert torch.equal(torch.rand(3), a)


def test_flush_denormals_is_scoped() -> None:
    before = denormals_flushed()
    with FlushDenormals(True):
        assert denormals_flushed()
        assert (np.array([5e-324]) * 1.0)[0] == 0.0
        with FlushDenormals(False):
            assert not denormals_flushed()
        assert denormals_flushed()
    assert denormals_flushed() == before
