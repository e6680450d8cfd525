"""Tests of pamdp.train_instance (``pamdp train instance FILE.json``).

Tiny budgets (small networks, a few hundred iterations): the command's plumbing and its
ground-truth comparison, not the learning quality (tests/test_claims_deep.py covers that).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

import numpy as np

from pamdp.common import InvalidInput
from pamdp.train_instance import add_instance_arguments, run_instance
from solvers.contracts import minimal_contracts
from solvers.evaluation import evaluate_policy
from solvers.meta_algorithm import agent_q_bar_minimal
from solvers.solve import solve
from theory.format import save_instance
from theory.generators import random_instance

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--hidden-sizes", "16,16", "--validate-every", "100", "--no-progress"]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_instance_arguments(parser)
    return run_instance(parser.parse_args(argv))


def test_episodic_3x3_instance_trains_and_validates_against_backward_induction(
    tmp_path: Path,
) -> None:
    """A random 3-action, 3-outcome episodic instance (6 states), trained in exact-agent mode
    and with the learned agent: the reference is backward induction, its value is the exact
    (rational) SPE value, and each trial's final exact-contract ratio is what an independent
    route gives for its final policy (the fixed point of reading R1, then the exact agent's
    backward induction against those contracts)."""
    model = random_instance(6, 3, 3, seed=3)
    path = tmp_path / "instance.json"
    save_instance(model, path)
    out = tmp_path / "run"
    code = _run(
        [
            *(str(path), "--iterations", "1500", "--agent", "exact", "--trials", "2"),
            *("-o", str(out), "--hidden-sizes", "64,64", "--validate-every", "500"),
            "--no-progress",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["instance"]["reference"] == "backward induction"
    assert summary["instance"]["n_actions"] == 3 and summary["instance"]["n_outcomes"] == 3
    exact = solve(model, exact=True).solution
    spe = float(exact.principal_values[model.initial_state])
    assert summary["instance"]["spe_principal_utility"] == pytest.approx(spe, abs=1e-12)
    for t in range(2):
        trial = json.loads((out / f"trial_{t:02d}" / "results.json").read_text())
        history = trial["deterministic"]["history"]
        assert [r["iteration"] for r in history] == [0, 500, 1000, 1500]
        assert trial["ground_truth"]["reference"] == "backward induction"
        policy = np.array([model.actions.index(a) for a in trial["final_policy"]])
        q_bar, _ = agent_q_bar_minimal(model, policy)
        contracts = minimal_contracts(q_bar, model.outcome_probs, policy).contracts
        value = evaluate_policy(model, policy, contracts).principal_values[model.initial_state]
        assert history[-1]["exact_contract_principal_ratio"] == pytest.approx(value / spe, abs=1e-9)
    learned = tmp_path / "learned"
    assert (
        _run([str(path), "--iterations", "200", "--nudge", "0.02", "-o", str(learned), *TINY]) == 0
    )
    summary = json.loads((learned / "summary.json").read_text())
    assert summary["instance"]["reference"] == "backward induction"
    assert len(summary["finals"]) == 1


def test_discounted_instance_reports_the_closest_pure_stationary_spe(tmp_path: Path) -> None:
    """γ = 1/2, one pure stationary SPE: the summary lists it and the trials' distance to it;
    episodes are truncated after max(|S|, ⌈1/(1 − γ)⌉) = 3 steps."""
    model = random_instance(3, 2, 2, seed=5, episodic=False, discount="1/2")
    path = tmp_path / "discounted.json"
    save_instance(model, path)
    out = tmp_path / "run"
    assert _run([str(path), "--iterations", "300", "--agent", "exact", "-o", str(out), *TINY]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["instance"]["pure_stationary_spes"]) == 1
    closest = summary["ground_truth"][0]["closest_pure_spe"]
    assert closest["index"] == 0
    assert closest["disagreements_reachable"] >= 0


def test_no_pure_stationary_spe_is_said_honestly(tmp_path: Path) -> None:
    """examples/no_pure_stationary_spe.json has none (a mixed and a period-3 SPE exist)."""
    out = tmp_path / "run"
    instance = str(ROOT / "examples" / "no_pure_stationary_spe.json")
    assert _run([instance, "--iterations", "100", "--agent", "exact", "-o", str(out), *TINY]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["instance"]["pure_stationary_spes"] == []
    assert summary["ground_truth"][0]["closest_pure_spe"] == "no pure stationary SPE"


def test_ensemble_trials_match_the_sequential_layout(tmp_path: Path) -> None:
    model = random_instance(4, 2, 3, seed=1)
    path = tmp_path / "instance.json"
    save_instance(model, path)
    out = tmp_path / "run"
    argv = [str(path), "--iterations", "100", "--trials", "2", "--ensemble", "-o", str(out)]
    assert _run(argv + TINY) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["finals"]) == 2 and summary["environment"]["ensemble"] is True
    with pytest.raises(InvalidInput, match="already holds a run"):
        _run(argv + TINY)


def test_hostile_input_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "pamdp/instance@1"}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="invalid instance"):
        _run([str(bad), "-o", str(tmp_path / "run"), *TINY])
    with pytest.raises(InvalidInput, match="cannot read"):
        _run([str(tmp_path / "missing.json"), "-o", str(tmp_path / "run"), *TINY])
    model = random_instance(3, 2, 2, seed=0)
    path = tmp_path / "ok.json"
    save_instance(model, path)
    with pytest.raises(InvalidInput, match="nudge"):
        _run([str(path), "--nudge", "-1", "-o", str(tmp_path / "run2"), *TINY])
