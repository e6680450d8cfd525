"""Tests of pamdp.train (``pamdp train tree`` and ``pamdp train coin``): options and defaults,
outputs, refusing an existing run, resuming after SIGKILL and after Ctrl-C (SIGINT) with the
printed command, invalid devices and config files."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pamdp import train
from pamdp.common import EXIT_INTERRUPTED, InvalidInput
from solvers.coin.config import QUICK_3X3, Config

ROOT = Path(__file__).resolve().parents[1]
#: the ``pamdp`` command (``python -m pamdp.cli``: the same as the installed .venv/bin/pamdp)
PAMDP = [sys.executable, "-m", "pamdp.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _tree_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_tree_arguments(parser)
    return parser.parse_args(list(argv))


def _coin_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train.add_coin_arguments(parser)
    return parser.parse_args(list(argv))


def _deterministic(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())["deterministic"]


def _command(line: str) -> list[str]:
    """The printed ``resume with: pamdp train ...`` line as an argv for :data:`PAMDP`."""
    words = shlex.split(line.split("resume with:", 1)[1])
    assert words[:2] == ["pamdp", "train"]
    return [*PAMDP, *words[1:]]


# ============================================================================ pamdp train tree
def test_importing_pamdp_train_does_not_import_torch() -> None:
    code = "import sys, pamdp.train; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=ENV
    )
    assert out.stdout.strip() == "False"


def test_pamdp_cli_delegates_train_to_this_module() -> None:
    from pamdp import cli

    assert cli._TRAINERS["tree"][:3] == ("pamdp.train", "add_tree_arguments", "run_tree")
    assert cli._TRAINERS["coin"][:3] == ("pamdp.train", "add_coin_arguments", "run_coin")


def test_tree_options_defaults_and_help() -> None:
    args = _tree_args()
    assert (args.depth, args.seed, args.trials, args.iterations, args.nudge) == (
        10,
        0,
        1,
        20_000,
        0.0,
    )
    assert args.device == "cpu" and args.output == "runs/tree" and not args.resume
    assert _tree_args("-o", "x").output == "x"
    assert train.trial_seed(0, 1) != train.trial_seed(1, 0)
    parser = argparse.ArgumentParser()
    train.add_tree_arguments(parser)
    text = " ".join(parser.format_help().split())
    for shown in ("(default: 10)", "(default: 20000)", "(default: runs/tree)", "(default: 5000)"):
        assert shown in text
    with pytest.raises(SystemExit):  # --resume and --overwrite exclude each other
        _tree_args("--resume", "--overwrite")


def test_tree_run_writes_results_refuses_to_overwrite_and_resumes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    argv = (
        "--depth", "3", "--trials", "2", "--iterations", "120", "--validate-every", "40",
        "--checkpoint-every", "0", "-o", str(tmp_path), "--no-progress",
    )  # fmt: skip
    assert train.run_tree(_tree_args(*argv)) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["instance"]["n_states"] == 7 and len(summary["finals"]) == 2
    assert set(summary["aggregate"]) == set(train.SUMMARY_METRICS)
    trial = json.loads((tmp_path / "trial_01" / "results.json").read_text())
    assert trial["deterministic"]["seed"] == train.trial_seed(0, 1)
    assert [r["iteration"] for r in trial["deterministic"]["history"]] == [0, 40, 80, 120]
    assert len(trial["deterministic"]["weights_sha256"]) == 64
    assert trial["timing"]["iterations_per_second"] > 0
    # it/s logged as a metric at every validation of this process
    assert [r["iteration"] for r in trial["timing"]["throughput"]] == [40, 80, 120]
    with pytest.raises(InvalidInput, match=r"already holds a run.*--resume.*--overwrite"):
        train.run_tree(_tree_args(*argv))
    assert train.run_tree(_tree_args(*argv, "--resume")) == 0  # complete trials are read back
    again = json.loads((tmp_path / "summary.json").read_text())
    assert again["finals"] == summary["finals"]
    assert train.run_tree(_tree_args(*argv, "--overwrite")) == 0  # starts again: same seeds
    assert _deterministic(tmp_path / "trial_01" / "results.json") == trial["deterministic"]
    with pytest.raises(InvalidInput):
        train.run_tree(_tree_args("--depth", "0", "-o", str(tmp_path / "x")))


def test_tree_batched_trials_equal_sequential_ones_before_the_first_gradient_step(
    tmp_path: Path,
) -> None:
    """``--batched`` (one ensemble) against the plain sweep, 12 iterations: learning starts once
    the replay buffer holds a batch (128 transitions = 16 iterations of 8), so no gradient step
    happens and the ensemble must reproduce every random number and validation record of the
    sequential trials bit for bit (docs/DEEP.md, "Batched ensembles"); it refuses Ray."""
    pytest.importorskip("torch")
    common = ("--depth", "3", "--trials", "3", "--iterations", "12", "--validate-every", "4",
              "--checkpoint-every", "0", "--no-progress")  # fmt: skip
    plain, batched = tmp_path / "plain", tmp_path / "batched"
    assert train.run_tree(_tree_args(*common, "-o", str(plain))) == 0
    assert train.run_tree(_tree_args(*common, "-o", str(batched), "--batched")) == 0
    for t in range(3):
        name = f"trial_{t:02d}/results.json"
        assert _deterministic(batched / name) == _deterministic(plain / name)
        data = json.loads((batched / name).read_text())
        assert data["ensemble"] == {"size": 3, "index": t}
    summary = json.loads((batched / "summary.json").read_text())
    assert summary["finals"] == json.loads((plain / "summary.json").read_text())["finals"]
    # --resume reads the finished trials back instead of training them again
    assert train.run_tree(_tree_args(*common, "-o", str(batched), "--batched", "--resume")) == 0
    with pytest.raises(InvalidInput, match="--batched"):
        train.run_tree(
            _tree_args(*common, "-o", str(tmp_path / "w"), "--batched", "--workers", "2")
        )


def test_tree_device_without_cuda_is_one_line_exit_2(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = subprocess.run(
        [*PAMDP, "train", "tree", "--depth", "2", "--device", "cuda", "-o", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--device cuda" in lines[0] and "Traceback" not in out.stderr
    with pytest.raises(InvalidInput, match="not a torch device"):
        train.run_tree(_tree_args("--depth", "2", "--device", "gpu7", "-o", str(tmp_path)))


def test_killed_tree_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """A trial killed with SIGKILL after its first checkpoint and resumed ends exactly like one
    never stopped."""
    pytest.importorskip("torch")
    common = (
        "--depth", "3", "--iterations", "900", "--checkpoint-every", "300",
        "--validate-every", "100", "--no-progress",
    )  # fmt: skip
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [*PAMDP, "train", "tree", *common, "-o", str(killed)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )  # fmt: skip
    checkpoint = killed / "trial_00" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert checkpoint.exists() and not (killed / "trial_00" / "results.json").exists()
    assert train.run_tree(_tree_args(*common, "-o", str(killed), "--resume")) == 0
    straight = tmp_path / "straight"
    assert train.run_tree(_tree_args(*common, "-o", str(straight))) == 0
    resumed = json.loads((killed / "trial_00" / "results.json").read_text())
    assert resumed["timing"]["resumed_from"] in (300, 600)
    assert _deterministic(killed / "trial_00" / "results.json") == _deterministic(
        straight / "trial_00" / "results.json"
    )


class _Reader(threading.Thread):
    """Collects a pipe's text (tqdm writes carriage returns) while the process runs."""

    def __init__(self, stream: object) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.text = ""

    def run(self) -> None:
        for chunk in iter(lambda: self.stream.read(64), ""):  # type: ignore[attr-defined]
            self.text += chunk

    def last_progress(self) -> int:
        counts = re.findall(r"\| *(\d+)/\d+ \[", self.text)
        return int(counts[-1]) if counts else 0


def test_sigint_writes_a_checkpoint_and_the_printed_command_resumes_exactly(
    tmp_path: Path,
) -> None:
    """Ctrl-C (SIGINT) mid-run: exit 130, a checkpoint at the interrupted iteration, a printed
    resume command; running it ends with values, validation history and network hash identical
    to an uninterrupted run, and no iteration before the interrupt is lost."""
    pytest.importorskip("torch")
    common = (
        "--depth", "3", "--iterations", "1500", "--validate-every", "100",
        "--checkpoint-every", "0",  # no periodic checkpoint: only the one Ctrl-C writes
    )  # fmt: skip
    run_dir = tmp_path / "interrupted"
    process = subprocess.Popen(
        [*PAMDP, "train", "tree", *common, "-o", str(run_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    reader = _Reader(process.stderr)
    reader.start()
    deadline = time.monotonic() + 120
    while reader.last_progress() < 300 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    seen = reader.last_progress()
    assert 0 < seen < 1500, reader.text[-500:]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == EXIT_INTERRUPTED
    reader.join(timeout=10)
    text = reader.text.replace("\r", "\n")
    assert "Traceback" not in text
    stopped = int(re.search(r"interrupted at iteration (\d+)", text).group(1))  # type: ignore[union-attr]
    assert seen <= stopped < 1500  # nothing before the interrupt is lost
    checkpoint = run_dir / "trial_00" / "checkpoint.pt"
    assert f"checkpoint written to {checkpoint}" in text
    assert not (run_dir / "trial_00" / "results.json").exists()
    resume = next(line for line in text.splitlines() if line.startswith("resume with:"))
    done = subprocess.run(
        _command(resume), cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = json.loads((run_dir / "trial_00" / "results.json").read_text())
    assert resumed["timing"]["resumed_from"] == stopped
    straight = tmp_path / "straight"
    assert train.run_tree(_tree_args(*common, "-o", str(straight), "--no-progress")) == 0
    reference = json.loads((straight / "trial_00" / "results.json").read_text())
    assert resumed["deterministic"] == reference["deterministic"]  # values, history, weights
    assert (
        resumed["deterministic"]["weights_sha256"] == reference["deterministic"]["weights_sha256"]
    )


# ============================================================================ pamdp train coin
TINY = replace(
    QUICK_3X3,
    iterations=60,
    validation_iterations=40,
    baseline_iterations=30,
    num_games=8,
    batch_size=32,
    learning_starts=64,
    target_update_every=10,
    eval_every=20,
    eval_episodes=8,
    checkpoint_every=25,
    buffer_size=2_000,
    extra={},
)


def _tiny_config(tmp_path: Path, cfg: Config = TINY) -> str:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg.to_dict()))
    return str(path)


def test_coin_defaults_are_the_quick_3x3_budget_and_paper_budget_is_one_flag() -> None:
    assert train.coin_config(_coin_args()) == QUICK_3X3
    paper = train.coin_config(_coin_args("--paper-budget"))
    assert paper == replace(Config(), preset="paper-3x3", extra={})
    assert (paper.iterations, paper.validation_iterations, paper.num_games) == (10**6, 10**6, 1)
    seven = train.coin_config(_coin_args("--paper-budget", "--preset", "paper-7x7", "--seed", "3"))
    assert seven.preset == "paper-7x7" and seven.iterations == 10**6
    assert _coin_args("--seeds", "1", "2").seeds == [1, 2]
    with pytest.raises(SystemExit):
        _coin_args("--paper-budget", "--config", "x.json")
    parser = argparse.ArgumentParser()
    train.add_coin_arguments(parser)
    text = " ".join(parser.format_help().split())
    assert "(default: paper-3x3)" in text and "(default: 6000)" in text
    assert "(default: runs/coin)" in text and "None" not in text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON \\(line 1, column 2"),
        ("[1, 2]", "must be a JSON object"),
        ('{"lr_start": 0.001}', "'lr_start' \\(renamed to 'learning_rate_start'\\)"),
        ('{"nudg": 0.1}', "'nudg' \\(did you mean 'nudge'\\?\\)"),
        ('{"iterations": -5}', "iterations must be a non-negative integer"),
        (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    ],
)
def test_a_bad_config_file_is_exit_2_naming_file_and_problem(
    tmp_path: Path, content: str | bytes | None, problem: str
) -> None:
    path = tmp_path / "config.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInput, match=f"{re.escape(str(path))}: .*{problem}"):
        train.run_coin(_coin_args("--config", str(path), "-o", str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_coin_runs_stops_refuses_resumes_and_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["--config", _tiny_config(tmp_path), "--seed", "3", "-o", str(out), "--no-progress"]
    assert train.run_coin(_coin_args(*base, "--stop-after", "30")) == 0
    err = capsys.readouterr().err
    assert "preset paper-3x3" in err and "train 60, validate 40, selfish 30" in err
    with pytest.raises(InvalidInput, match=r"already holds a run.*--resume.*--overwrite"):
        train.run_coin(_coin_args(*base))
    assert train.run_coin(_coin_args(*base, "--resume")) == 0
    assert '"welfare"' in capsys.readouterr().out
    resumed = json.loads((out / "seed_3" / "results.json").read_text())
    assert resumed["config"]["seed"] == 3 and resumed["complete"]
    assert train.run_coin(_coin_args(*base, "--overwrite")) == 0
    fresh = json.loads((out / "seed_3" / "results.json").read_text())
    assert {k: v["curve"] for k, v in fresh["phases"].items()} == {
        k: v["curve"] for k, v in resumed["phases"].items()
    }
    with pytest.raises(InvalidInput, match="nudge must be non-negative"):
        train.run_coin(_coin_args("--nudge", "-1", "-o", str(tmp_path / "x")))


def test_coin_batched_trains_the_seeds_as_the_ensemble_does_and_refuses_what_it_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--batched`` writes what solvers.coin.ensemble.run_seeds writes for the same
    configuration (a batched run is deterministic, so the curves are equal), and refuses the
    options that need checkpoints or other processes, and repeated seeds."""
    from solvers.coin import ensemble

    cfg = replace(TINY, baselines=("selfish",), validation_iterations=20, eval_every=30)
    out = tmp_path / "out"
    argv = ["--config", _tiny_config(tmp_path, cfg), "--seeds", "2", "5", "--no-progress"]
    assert train.run_coin(_coin_args(*argv, "-o", str(out), "--batched")) == 0
    assert '"seeds": [\n  2,\n  5\n ]' in capsys.readouterr().out
    ensemble.run_seeds(replace(cfg, output=str(tmp_path / "direct")), [2, 5], progress=False)
    for seed in (2, 5):
        got = json.loads((out / f"seed_{seed}" / "results.json").read_text())
        want = json.loads((tmp_path / "direct" / f"seed_{seed}" / "results.json").read_text())
        assert got["ensemble"] == {"seeds": [2, 5], "batched": True}
        assert {k: v["curve"] for k, v in got["phases"].items()} == {
            k: v["curve"] for k, v in want["phases"].items()
        }
        assert not (out / f"seed_{seed}" / "checkpoint.pt").exists()
    x = ["-o", str(tmp_path / "x"), "--batched"]
    for extra, problem in (
        (["--workers", "2"], "leave out --workers"),
        (["--address", "localhost:1"], "leave out --workers"),
        (["--stop-after", "5"], "no checkpoints"),
        (["--resume"], "no checkpoints"),
    ):
        with pytest.raises(InvalidInput, match=problem):
            train.run_coin(_coin_args(*argv, *x, *extra))
    with pytest.raises(InvalidInput, match="distinct"):
        train.run_coin(_coin_args("--seeds", "1", "1", *x))
    assert not (tmp_path / "x").exists()


def test_coin_reports_the_remaining_time_after_300_iterations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = replace(TINY, iterations=320, baselines=(), validation_iterations=0, eval_every=400)
    argv = ["--config", _tiny_config(tmp_path, cfg), "-o", str(tmp_path / "o"), "--no-progress"]
    assert train.run_coin(_coin_args(*argv, "--stop-after", "305")) == 0
    err = capsys.readouterr().err
    assert re.search(r"after 300 iterations: \d+ it/s, estimated remaining time \d+ s", err)


def test_coin_ctrl_c_checkpoints_and_the_printed_command_resumes_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT delivered at iteration 37 of the training phase: exit 130, the printed
    command resumes, and the curves equal an uninterrupted run's."""
    from solvers.coin import algorithm3

    config = _tiny_config(tmp_path)
    straight = tmp_path / "straight"
    assert train.run_coin(_coin_args("--config", config, "-o", str(straight), "--no-progress")) == 0
    original = algorithm3.TrainingPhase.step

    def step(self: algorithm3.TrainingPhase) -> None:
        original(self)
        if self.it == 37:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(algorithm3.TrainingPhase, "step", step)
    out = tmp_path / "cut"
    assert train.run_coin(_coin_args("--config", config, "-o", str(out))) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted at iteration 37 of phase 'train'" in err
    assert f"checkpoint written to {out / 'seed_0' / 'checkpoint.pt'}" in err
    monkeypatch.setattr(algorithm3.TrainingPhase, "step", original)
    command = _command(next(x for x in err.splitlines() if x.startswith("resume with:")))
    assert command[-1] == "--resume"
    assert train.run_coin(_coin_args(*command[5:])) == 0
    curves = [
        {
            k: v["curve"]
            for k, v in json.loads((d / "seed_0" / "results.json").read_text())["phases"].items()
        }
        for d in (straight, out)
    ]
    assert curves[0] == curves[1]


# ================================================================== sweeps on Ray workers
needs_ray = pytest.mark.skipif(
    not __import__("solvers.distributed").distributed.ray_available(),
    reason="Ray (the distributed extra) not installed",
)


@needs_ray
def test_tree_trials_on_two_ray_workers_match_the_serial_sweep(tmp_path: Path) -> None:
    """3 tiny trials as shards: the same deterministic results and summary on 2 workers."""
    import ray

    argv = ["--depth", "3", "--trials", "3", "--iterations", "120", "--validate-every", "60"]
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    assert train.run_tree(_tree_args(*argv, "-o", str(serial), "--no-progress")) == 0
    assert train.run_tree(_tree_args(*argv, "-o", str(on_ray), "--workers", "2")) == 0
    assert not ray.is_initialized()
    for t in range(3):
        trial = f"trial_{t:02d}/results.json"
        assert _deterministic(on_ray / trial) == _deterministic(serial / trial)
        assert _deterministic(on_ray / trial)["seed"] == train.trial_seed(0, t)
    summaries = [json.loads((d / "summary.json").read_text()) for d in (serial, on_ray)]
    assert summaries[0]["finals"] == summaries[1]["finals"]
    assert summaries[0]["aggregate"] == summaries[1]["aggregate"]
    journal = (on_ray / "shards.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["shard"] for x in journal[1:]) == [
        "trial_00",
        "trial_01",
        "trial_02",
    ]
    # everything journalled: --resume starts no worker and rewrites the same summary
    assert train.run_tree(_tree_args(*argv, "-o", str(on_ray), "--workers", "2", "--resume")) == 0
    assert json.loads((on_ray / "summary.json").read_text())["finals"] == summaries[0]["finals"]


@needs_ray
def test_coin_seeds_on_two_ray_workers_match_the_serial_seeds(tmp_path: Path) -> None:
    config = _tiny_config(tmp_path)
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    base = ["--config", config, "--seeds", "1", "2", "--no-progress"]
    assert train.run_coin(_coin_args(*base, "-o", str(serial))) == 0
    assert train.run_coin(_coin_args(*base, "-o", str(on_ray), "--workers", "2")) == 0
    for seed in (1, 2):
        runs = [
            json.loads((d / f"seed_{seed}" / "results.json").read_text()) for d in (serial, on_ray)
        ]
        curves = [{k: v["curve"] for k, v in r["phases"].items()} for r in runs]
        assert curves[0] == curves[1] and runs[0]["summary"] == runs[1]["summary"]
    summaries = [json.loads((d / "summary.json").read_text()) for d in (serial, on_ray)]
    assert summaries[0]["per_seed"] == summaries[1]["per_seed"]


def test_sweep_workers_without_ray_is_exit_2_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InvalidInput, match=r"--workers 2 needs Ray.*pamdp\[distributed\]"):
        train.run_tree(_tree_args("--depth", "3", "-o", str(tmp_path / "t"), "--workers", "2"))
    with pytest.raises(InvalidInput, match="--workers 2 needs Ray"):
        train.run_coin(_coin_args("-o", str(tmp_path / "c"), "--workers", "2"))
