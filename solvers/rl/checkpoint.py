"""Atomic files, checkpoints, and stopping a training loop cleanly on Ctrl-C.

Every file the trainers write goes through :func:`atomic_write` (pamdp's one atomic writer,
:mod:`theory.atomic`): the bytes are written to a temporary file in the target's folder,
flushed to disk, and renamed over the target with :func:`os.replace`, so a reader (or a crash,
a full disk, a Ctrl-C) sees either the complete
previous file or the complete new one, never a truncated one.

:func:`save_checkpoint` / :func:`load_checkpoint` store a trainer's state with ``torch.save``
through :func:`atomic_write`; a damaged or foreign file is a :class:`CheckpointError` naming it.

:class:`DeferredInterrupt` defers SIGINT while a training loop runs: the first Ctrl-C only
sets :attr:`DeferredInterrupt.requested`, the loop finishes its iteration, writes a checkpoint
at that iteration boundary and raises :class:`TrainingInterrupted`, so no iteration is lost and
the resumed run repeats the uninterrupted one exactly. A second Ctrl-C interrupts at once (the
last periodic checkpoint stays valid).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

from theory.atomic import atomic_open

__all__ = [
    "CheckpointError",
    "DeferredInterrupt",
    "TrainingInterrupted",
    "atomic_write",
    "load_checkpoint",
    "save_checkpoint",
]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that belongs to another run."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C after writing a checkpoint.

    Attributes
    ----------
    iteration : the iteration the checkpoint continues from.
    checkpoint : the checkpoint's path (``None`` if the run had nowhere to write one).
    where : what was running (e.g. the phase), for the message.
    """

    def __init__(self, iteration: int, checkpoint: Path | None, where: str = "") -> None:
        at = f"iteration {iteration}" + (f" of {where}" if where else "")
        super().__init__(f"interrupted at {at}")
        self.iteration = iteration
        self.checkpoint = checkpoint
        self.where = where


def atomic_write(path: str | Path, data: bytes | Callable[[IO[bytes]], None]) -> None:
    """Write ``data`` (bytes, or a function writing to a binary file) atomically to ``path``
    (:func:`theory.atomic.atomic_open`); the folder is created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            data(handle)


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """``torch.save(payload)`` to ``path`` atomically (:func:`atomic_write`)."""
    import torch

    atomic_write(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: str | Path, *, weights_only: bool = True) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (onto the CPU).

    ``weights_only=True`` (tensors, numbers, strings, lists and dicts only) is the safe default;
    a checkpoint holding numpy arrays needs ``False`` — load only checkpoints you wrote.
    """
    import pickle

    import torch

    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=weights_only)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError, OSError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint ({error})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a checkpoint (holds {type(data).__name__})")
    return data


class DeferredInterrupt:
    """Context manager deferring SIGINT to the next iteration boundary (module docstring).

    Outside the main thread (where signal handlers cannot be set) it does nothing and a Ctrl-C
    raises :class:`KeyboardInterrupt` as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
