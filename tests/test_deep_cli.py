"""Tests of solvers.deep.cli (``pamdp train tree``): options, outputs, refusal, resume after a
hard kill."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from solvers.deep import cli

ROOT = Path(__file__).resolve().parents[1]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def _deterministic(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())["deterministic"]  # type: ignore[no-any-return]


def test_importing_the_cli_does_not_import_torch() -> None:
    code = "import sys, solvers.deep.cli; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_options_and_defaults() -> None:
    args = _args()
    assert (args.depth, args.seed, args.trials, args.iterations, args.nudge) == (
        10,
        0,
        1,
        20_000,
        0.0,
    )
    assert args.device == "cpu" and args.output == Path("runs/tree") and not args.resume
    assert cli.trial_seed(0, 1) != cli.trial_seed(1, 0)


def test_run_writes_results_and_refuses_to_overwrite(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    argv = (
        "--depth",
        "3",
        "--trials",
        "2",
        "--iterations",
        "120",
        "--validate-every",
        "40",
        "--checkpoint-every",
        "0",
        "--output",
        str(tmp_path),
        "--no-progress",
    )
    assert cli.run(_args(*argv)) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["instance"]["n_states"] == 7 and len(summary["finals"]) == 2
    assert set(summary["aggregate"]) == set(cli.SUMMARY_METRICS)
    trial = json.loads((tmp_path / "trial_01" / "results.json").read_text())
    assert trial["deterministic"]["seed"] == cli.trial_seed(0, 1)
    assert [r["iteration"] for r in trial["deterministic"]["history"]] == [0, 40, 80, 120]
    assert trial["timing"]["iterations_per_second"] > 0
    assert cli.run(_args(*argv)) == 2  # already there, no --resume
    assert cli.run(_args(*argv, "--resume")) == 0  # complete trials are read back
    again = json.loads((tmp_path / "summary.json").read_text())
    assert again["finals"] == summary["finals"]
    assert cli.run(_args("--depth", "0", "--output", str(tmp_path / "x"))) == 2


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """A trial killed with SIGKILL mid-way and resumed ends exactly like one never stopped."""
    pytest.importorskip("torch")
    common = (
        "--depth",
        "3",
        "--iterations",
        "900",
        "--checkpoint-every",
        "300",
        "--validate-every",
        "100",
        "--no-progress",
    )
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "solvers.deep.cli", *common, "--output", str(killed)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    checkpoint = killed / "trial_00" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert checkpoint.exists() and not (killed / "trial_00" / "results.json").exists()
    assert cli.run(_args(*common, "--output", str(killed), "--resume")) == 0
    straight = tmp_path / "straight"
    assert cli.run(_args(*common, "--output", str(straight))) == 0
    resumed = json.loads((killed / "trial_00" / "results.json").read_text())
    assert resumed["timing"]["resumed_from"] in (300, 600)
    assert _deterministic(killed / "trial_00" / "results.json") == _deterministic(
        straight / "trial_00" / "results.json"
    )
