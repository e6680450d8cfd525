"""Tests of solvers.rl.checkpoint: atomic writes leave the old file or the new one, checkpoints
round-trip and refuse damaged files, the deferred Ctrl-C."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from solvers.rl.checkpoint import (
    CheckpointError,
    DeferredInterrupt,
    TrainingInterrupted,
    atomic_write,
    load_checkpoint,
    save_checkpoint,
)

torch = pytest.importorskip("torch")


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.bin"
    atomic_write(target, b"old")
    assert target.read_bytes() == b"old"

    def failing(handle: object) -> None:
        handle.write(b"half")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, failing)
    assert target.read_bytes() == b"old"
    assert os.listdir(target.parent) == ["f.bin"]  # no temporary file left behind


def test_checkpoint_round_trip_and_damaged_files(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    payload = {"w": torch.arange(4.0), "it": 3, "name": "x", "nested": {"a": [1, 2]}}
    save_checkpoint(path, payload)
    back = load_checkpoint(path)
    assert torch.equal(back["w"], payload["w"]) and back["nested"] == {"a": [1, 2]}
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    path.write_bytes(path.read_bytes()[:20])  # truncated
    with pytest.raises(CheckpointError, match=f"{path}: not a readable checkpoint"):
        load_checkpoint(path)
    save_checkpoint(path, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(path)


def test_deferred_interrupt_sets_a_flag_then_a_second_one_raises() -> None:
    previous = signal.getsignal(signal.SIGINT)
    with DeferredInterrupt() as interrupt:
        assert not interrupt.requested
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.requested  # the handler ran; nothing was raised
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous
    error = TrainingInterrupted(12, Path("c.pt"), "phase 'train'")
    assert isinstance(error, KeyboardInterrupt)
    assert str(error) == "interrupted at iteration 12 of phase 'train'"
