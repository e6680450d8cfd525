"""The Coin Game trainer (solvers.coin.train): bit-for-bit repeatable CPU runs, checkpoint +
``resume`` continuing exactly, results JSON, figures, the configuration (solvers.coin.config).
The command line ``pamdp train coin`` is tested in tests/test_train.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from coin_configs import TINY

from solvers.coin.config import QUICK_3X3, RENAMED, Config
from solvers.coin.train import run, run_seeds


def curves(result):
    return {k: v["curve"] for k, v in result["phases"].items()}


def test_same_seed_repeats_bit_for_bit(tmp_path):
    torch.set_num_threads(1)
    a = run(replace(TINY, output=str(tmp_path / "a")), progress=False)
    b = run(replace(TINY, output=str(tmp_path / "b")), progress=False)
    assert curves(a) == curves(b)
    c = run(replace(TINY, seed=1, output=str(tmp_path / "c")), progress=False)
    assert curves(a) != curves(c)


@pytest.mark.parametrize("stop", [35, 75, 120])  # inside train, inside validate, in baselines
def test_resume_continues_exactly(tmp_path, stop):
    torch.set_num_threads(1)
    full = run(replace(TINY, output=str(tmp_path / "full")), progress=False)
    cfg = replace(TINY, output=str(tmp_path / "cut"))
    partial = run(cfg, progress=False, stop_after=stop)
    assert not partial["complete"]
    resumed = run(cfg, resume=True, progress=False)
    assert resumed["complete"]
    assert curves(resumed) == curves(full)
    ck_full = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)
    ck_cut = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)
    for k, v in ck_full["trained"]["net"].items():
        assert torch.equal(v, ck_cut["trained"]["net"][k])


def test_resume_refuses_another_config(tmp_path):
    cfg = replace(TINY, output=str(tmp_path))
    run(cfg, progress=False, stop_after=10)
    with pytest.raises(ValueError, match="another configuration"):
        run(replace(cfg, nudge=0.5), resume=True, progress=False)


def test_results_json_and_figures(tmp_path):
    summary = run_seeds(replace(TINY, output=str(tmp_path)), [0, 1], progress=False)
    for seed in (0, 1):
        res = json.loads((tmp_path / f"seed_{seed}" / "results.json").read_text())
        assert res["complete"] and res["dp_optimum"] == pytest.approx(13.9)
        assert set(res["phases"]) == {"train", "validate", "selfish", "cooperative", "constant"}
        for ph in res["phases"].values():
            assert ph["iterations_per_second"] > 0
            assert ph["curve"][0]["iteration"] == 0 and ph["curve"][-1]["iteration"] > 0
        train_row = res["phases"]["train"]["curve"][-1]
        assert train_row["spe_ratio"] > 0 and train_row["ic_ratio"] > 0
        # the constant-proportion baseline uses the validation phase's payment proportion
        p_val = res["phases"]["validate"]["final"]["proportion_paid"]
        assert res["phases"]["constant"]["final"]["proportion_paid"] == pytest.approx(p_val)
    assert summary["seeds"] == [0, 1]
    assert "mean" in summary["welfare"]
    for name in ("metrics", "welfare", "proportion_paid", "accuracy", "spe_ratio", "ic_ratio"):
        png = tmp_path / f"fig_{name}.png"
        assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"


def test_config_defaults_are_the_papers():
    c = Config()
    assert (c.iterations, c.batch_size, c.target_update_every, c.gamma, c.buffer_size) == (
        1_000_000,
        128,
        100,
        0.99,
        100_000,
    )
    assert (c.learning_rate_start, c.learning_rate_end, c.epsilon_start, c.epsilon_end) == (
        5e-4,
        1e-4,
        0.4,
        0.0,
    )
    assert (c.per_alpha, c.per_eps, c.principal_alpha, c.eval_episodes) == (0.4, 1e-7, 0.1, 80)
    assert Config.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown Config field 'nope'"):
        Config.from_dict({"nope": 1})


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_a_former_field_name_is_refused_with_the_new_one(old):
    with pytest.raises(ValueError, match=f"'{old}' \\(renamed to '{RENAMED[old]}'\\)"):
        Config.from_dict({old: 1})


def test_the_quick_default_is_3x3_and_the_papers_hyperparameters_otherwise():
    """QUICK_3X3 (plain ``pamdp train coin``) changes only the budget, the board, the games per
    iteration, ξ and the evaluation / checkpoint spacing from the paper's Config()."""
    paper = Config()
    changed = {k for k, v in QUICK_3X3.to_dict().items() if paper.to_dict()[k] != v}
    assert changed == {
        "preset",
        "iterations",
        "validation_iterations",
        "baseline_iterations",
        "num_games",
        "nudge",
        "eval_every",
        "checkpoint_every",
        "extra",
    }
    assert QUICK_3X3.preset == "paper-3x3"
    assert [n for n, _ in QUICK_3X3.phases()] == [
        "train",
        "validate",
        "selfish",
        "cooperative",
        "constant",
    ]


def test_experiment_configs_load_and_7x7_runs_on_cpu(tmp_path):
    """Every config in experiments/coin/configs is valid; the 7×7 GPU one runs (on the CPU,
    a few iterations; the exact DP over all 235,298 states is skipped here)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "experiments" / "coin" / "configs"
    configs = {p.stem: Config.from_json(str(p)) for p in folder.glob("*.json")}
    assert {"paper_3x3", "paper_7x7_gpu"} <= set(configs)
    big = configs["paper_7x7_gpu"]
    assert (big.preset, big.device, big.iterations) == ("paper-7x7", "cuda", 1_000_000)
    small = replace(
        big,
        device="cpu",
        iterations=12,
        validation_iterations=6,
        baseline_iterations=4,
        num_games=4,
        learning_starts=16,
        batch_size=8,
        eval_episodes=2,
        eval_every=6,
        exact_ratios=False,
        exact_optimum=False,
        output=str(tmp_path),
    )
    res = run(small, progress=False)
    assert res["complete"] and res["dp_optimum"] is None
    assert res["phases"]["train"]["curve"][-1]["iteration"] == 12
