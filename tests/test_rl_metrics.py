"""Tests of solvers.rl.metrics: the it/s metric and the remaining-time estimate on a fake
clock, durations, atomic JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from solvers.rl.metrics import Throughput, format_duration, write_json


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throughput_and_estimate() -> None:
    clock = Clock()
    meter = Throughput(start_iteration=200, clock=clock)
    assert math.isnan(meter.rate(200))
    clock.now += 4.0  # 400 iterations in 4 s: 100 it/s
    assert meter.rate(600) == 100.0
    assert meter.remaining_seconds(600, 1_000) == 10.0
    record = meter.log(600)
    assert record == {"iteration": 600.0, "elapsed_seconds": 4.0, "iterations_per_second": 100.0}
    assert meter.records == [record]
    assert meter.remaining_seconds(200, 5) == math.inf


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.4, 42, 185, 3_725)] == [
        "0 s",
        "42 s",
        "3 min 05 s",
        "1 h 02 min",
    ]
    assert format_duration(math.inf) == "unknown"


def test_write_json(tmp_path: Path) -> None:
    path = tmp_path / "a" / "r.json"
    write_json(path, {"x": [1, 2.5], "nan": math.nan})
    text = path.read_text()
    assert text.endswith("\n") and json.loads(text)["x"] == [1, 2.5]
    assert math.isnan(json.loads(text)["nan"])
