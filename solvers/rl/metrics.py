"""Iterations per second as a logged metric, remaining-time estimates, atomic JSON results.

:class:`Throughput` follows CleanRL's ``SPS`` chart: at chosen iterations it records
``{"iteration", "elapsed_seconds", "iterations_per_second"}`` (the mean rate of this process
since it started timing), which the trainers store next to their results — outside the
deterministic part, since timing never repeats — and use for the remaining-time estimate.
:func:`write_json` writes a results file atomically (:func:`solvers.rl.checkpoint.atomic_write`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from solvers.rl.checkpoint import atomic_write

__all__ = ["Throughput", "format_duration", "write_json"]


class Throughput:
    """Iterations-per-second meter of one process.

    Parameters
    ----------
    start_iteration : the iteration timing starts at (a resumed run's first iteration).
    clock : the time source (``time.perf_counter``; injectable for tests).
    """

    def __init__(self, start_iteration: int = 0, clock: Any = time.perf_counter) -> None:
        self.start_iteration = int(start_iteration)
        self._clock = clock
        self._started = clock()
        self.records: list[dict[str, float]] = []

    def elapsed(self) -> float:
        """Seconds since timing started."""
        return float(self._clock() - self._started)

    def rate(self, iteration: int) -> float:
        """Mean iterations per second since timing started (NaN before any time passed)."""
        elapsed = self.elapsed()
        done = iteration - self.start_iteration
        return done / elapsed if elapsed > 0 else math.nan

    def log(self, iteration: int) -> dict[str, float]:
        """Record (and return) the metric at ``iteration``."""
        record = {
            "iteration": float(iteration),
            "elapsed_seconds": self.elapsed(),
            "iterations_per_second": self.rate(iteration),
        }
        self.records.append(record)
        return record

    def remaining_seconds(self, iteration: int, remaining_iterations: int) -> float:
        """Estimated seconds for ``remaining_iterations`` more at the current mean rate."""
        rate = self.rate(iteration)
        return remaining_iterations / rate if rate > 0 else math.inf


def format_duration(seconds: float) -> str:
    """``"1 h 02 min"``, ``"3 min 05 s"``, ``"42 s"`` (``"unknown"`` if not finite)."""
    if not math.isfinite(seconds):
        return "unknown"
    total = round(max(seconds, 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def write_json(path: str | Path, data: Any, *, indent: int = 1) -> None:
    """Write ``data`` as JSON (NaN allowed, as Python writes it) atomically to ``path``."""
    text = json.dumps(data, indent=indent, allow_nan=True) + "\n"
    atomic_write(path, text.encode("utf-8"))
