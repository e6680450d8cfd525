"""Batched Coin Game ensembles (solvers.coin.ensemble) against the single-trial trainers.

What is exact and what is statistical (the module docstring explains why):

* exact, bit for bit with one CPU thread: a seed's numbers do not depend on the other seeds of
  its ensemble; the validation phase and the baselines reproduce IndependentDQN; a batched run
  repeats itself; phases with the lookup tables of frozen networks equal phases without;
* to float rounding (1e-5): one gradient step of the batched training phase equals
  TrainingPhase's from the same state;
* statistical: over several seeds, the batched training phase's metrics match the unbatched
  ones' within a stated tolerance once the trajectories have drifted apart.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from coin_configs import TINY

from solvers.coin import ensemble, train
from solvers.coin.algorithm3 import TrainingPhase, validation_phase
from solvers.coin.baselines import IndependentDQN
from solvers.coin.config import Config
from solvers.coin.ensemble import EnsembleDQN, EnsembleTraining, seed_configs
from solvers.coin.env import preset

RULES = preset("paper-3x3")


#: the paper's batch of 128 (where the batched training phase's gradient sums differ from
#: TrainingPhase's in the last bits), a short phase
WIDE = replace(TINY, batch_size=128, learning_starts=128, buffer_size=4_000, iterations=150)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def params(net):
    return [p.detach().clone() for p in net.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_seed_configs_are_run_seeds_configs_and_refuse_bad_seed_lists(tmp_path):
    cfg = replace(TINY, output=str(tmp_path))
    got = seed_configs(cfg, [3, 1])
    assert [c.seed for c in got] == [3, 1]
    assert got[0].output == str(tmp_path / "seed_3")
    assert replace(got[0], seed=cfg.seed, output=cfg.output) == cfg
    with pytest.raises(ValueError, match="at least one seed"):
        seed_configs(cfg, [])
    with pytest.raises(ValueError, match="distinct"):
        seed_configs(cfg, [1, 1])
    with pytest.raises(ValueError, match="trained ensemble"):
        EnsembleDQN([cfg], RULES, "validate", 5, "validation")


def test_a_seed_does_not_depend_on_the_other_seeds_of_its_ensemble():
    """Seed 1 trained with seeds 0 and 2 equals seed 1 trained alone, bit for bit: members of
    the stacked networks, stacks of the replay and the seeds' generators never mix."""
    cfgs = seed_configs(WIDE, [0, 1, 2])
    three, one = EnsembleTraining(cfgs, RULES), EnsembleTraining([cfgs[1]], RULES)
    for _ in range(WIDE.iterations):
        three.step()
        one.step()
    rows_three, rows_one = three.evaluate(), one.evaluate()
    assert rows_three[1] == rows_one[0]
    assert same(params(three.seeds[1].net), params(one.seeds[0].net))
    assert not same(params(three.seeds[0].net), params(three.seeds[1].net))


def test_one_training_step_equals_training_phase_to_rounding():
    """From the same state (same initialisation and generators, before any gradient step) the
    first gradient step gives TrainingPhase's losses and weights to float rounding: the same
    targets and losses, computed with the forward passes arranged differently."""
    cfg = replace(WIDE, learning_starts=10**6)  # no update inside step(): we call it below
    single, batched = TrainingPhase(cfg, RULES), EnsembleTraining([cfg], RULES)
    for _ in range(12):
        single.step()
        batched.step()
    batched.sync()
    assert same(params(single.net), params(batched.seeds[0].net))  # acting is bit for bit
    loss_p, loss_a = single._update()
    got_p, got_a = batched._update()
    assert float(got_p[0]) == pytest.approx(loss_p, rel=1e-6)
    assert float(got_a[0]) == pytest.approx(loss_a, rel=1e-6)
    batched.sync()
    for a, b in zip(params(single.net), params(batched.seeds[0].net), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert single.rng.random() == batched.seeds[0].rng.random()  # the same draws were used


@pytest.mark.parametrize("mode", ["selfish", "cooperative", "constant"])
def test_baselines_reproduce_independent_dqn_bit_for_bit(mode):
    cfgs = seed_configs(WIDE, [0, 1])
    props = [0.25, 0.4]
    batched = EnsembleDQN(cfgs, RULES, mode, 40, mode, proportions=props)
    for _ in range(40):
        batched.step()
    rows = batched.evaluate()
    for j, c in enumerate(cfgs):
        single = IndependentDQN(c, RULES, mode, 40, mode, proportion=props[j])
        for _ in range(40):
            single.step()
        assert single.evaluate() == rows[j]
        assert same(params(single.net), params(batched.seeds[j].net))


def test_validation_phase_reproduces_the_single_validation_bit_for_bit():
    cfgs = seed_configs(TINY, [0, 1])
    trained = EnsembleTraining(cfgs, RULES)
    for _ in range(TINY.iterations):
        trained.step()
    batched = EnsembleDQN(cfgs, RULES, "validate", 30, "validation", trained=trained)
    for _ in range(30):
        batched.step()
    rows = batched.evaluate()
    for j, c in enumerate(cfgs):
        single = validation_phase(c, RULES, trained.seeds[j])
        for _ in range(30):
            single.step()
        assert single.evaluate() == rows[j]
        assert rows[j]["accuracy"] is not None


def test_lookup_tables_of_frozen_networks_reproduce_the_passes_bit_for_bit():
    """Training, validation and a baseline with the frozen networks' lookup tables
    (``memo=True``: target networks tabulated once per target period, the validation phase's
    principals and agent networks once per phase) equal the same phases computing every pass
    (``memo=False``), bit for bit: the metrics, the online and the target weights (raw float32
    bits). They must be equal because a looked-up row is the row the pass would compute: a
    row's Q-values do not depend on the other rows of its pass (the row independence measured
    on this machine's CPU, solvers.coin.passes), and the lookups pick exactly the rows the
    passes would (for every target period: 120 iterations with a target update every 25)."""
    cfg = replace(WIDE, iterations=120, target_update_every=25)
    cfgs = seed_configs(cfg, [0, 1])
    runs = {}
    for memo in (True, False):
        train_phase = EnsembleTraining(cfgs, RULES, memo=memo)
        assert train_phase.memo is memo
        for _ in range(cfg.iterations):
            train_phase.step()
        val = EnsembleDQN(cfgs, RULES, "validate", 60, "validation", trained=train_phase, memo=memo)
        base = EnsembleDQN(cfgs, RULES, "selfish", 60, "selfish", memo=memo)
        assert val.memo is memo and base.memo is memo
        for _ in range(60):
            val.step()
            base.step()
        runs[memo] = [
            (p.evaluate(), params(p.net), params(p.target)) for p in (train_phase, val, base)
        ]
    for (rows_t, net_t, tgt_t), (rows_f, net_f, tgt_f) in zip(runs[True], runs[False], strict=True):
        assert rows_t == rows_f
        for a, b in zip(net_t + tgt_t, net_f + tgt_f, strict=True):
            assert torch.equal(a.view(torch.int32), b.view(torch.int32))


def _final_training_metrics(cfg: Config, seeds: list[int], batched: bool) -> dict[str, np.ndarray]:
    cfgs = seed_configs(cfg, seeds)
    if batched:
        phase = EnsembleTraining(cfgs, RULES)
        for _ in range(cfg.iterations):
            phase.step()
        rows = phase.evaluate()
    else:
        rows = []
        for c in cfgs:
            single = TrainingPhase(c, RULES)
            for _ in range(c.iterations):
                single.step()
            rows.append(single.evaluate())
    keys = ("welfare", "proportion_paid", "spe_ratio", "ic_ratio")
    return {key: np.array([row[key] for row in rows]) for key in keys}


def test_training_phase_matches_unbatched_statistically():
    """Over 4 seeds at the paper's batch of 128 and 300 iterations, the mean final
    training-phase metrics (welfare, proportion paid, SPE and IC ratios) of batched and
    unbatched runs differ by less than one standard error of a difference of two 4-seed means,
    ``σ·√(2/4)`` with ``σ`` the unbatched seeds' standard deviation. The trajectories start
    identical and drift apart where rounding flips a greedy action (measured with the update
    passes in QNet.fast's layout: 0 of 4 seeds still identical at 300 iterations; differences
    0.18 welfare, 0.01 proportion paid, 0.10 SPE and 0.17 IC ratio against bands of 0.37, 0.83,
    0.60 and 0.35). The band is not vacuous: the same training with a planted error
    (α_principal = 1 instead of 0.1) leaves it in the SPE and IC ratios (3.22 and 2.63), which
    the test checks too."""
    cfg = replace(WIDE, iterations=300, eval_every=300, eval_episodes=32)
    seeds = [0, 1, 2, 3]
    got = _final_training_metrics(cfg, seeds, batched=True)
    want = _final_training_metrics(cfg, seeds, batched=False)
    band = {key: v.std() * np.sqrt(2 / len(seeds)) for key, v in want.items()}
    for key, v in want.items():
        assert abs(got[key].mean() - v.mean()) <= band[key], key
    planted = _final_training_metrics(replace(cfg, principal_alpha=1.0), seeds, batched=True)
    assert any(abs(planted[key].mean() - v.mean()) > band[key] for key, v in want.items())


def test_run_seeds_writes_per_seed_results_like_train_and_repeats(tmp_path):
    cfg = replace(TINY, output=str(tmp_path / "a"))
    summary = ensemble.run_seeds(cfg, [0, 1], progress=False)
    ensemble.run_seeds(replace(cfg, output=str(tmp_path / "b")), [0, 1], progress=False)
    assert summary["seeds"] == [0, 1]
    assert (tmp_path / "a" / "summary.json").exists() and (
        tmp_path / "a" / "fig_metrics.png"
    ).exists()
    seq = train.run_seeds(replace(cfg, output=str(tmp_path / "seq")), [0, 1], progress=False)
    assert seq["seeds"] == summary["seeds"]
    for seed in (0, 1):
        res = json.loads((tmp_path / "a" / f"seed_{seed}" / "results.json").read_text())
        rep = json.loads((tmp_path / "b" / f"seed_{seed}" / "results.json").read_text())
        one = json.loads((tmp_path / "seq" / f"seed_{seed}" / "results.json").read_text())
        assert res["complete"] and res["ensemble"] == {"seeds": [0, 1], "batched": True}
        assert set(res["phases"]) == set(one["phases"])
        assert set(res["summary"]) == set(one["summary"])
        assert res["config"]["seed"] == seed
        for name, phase in res["phases"].items():
            assert phase["curve"] == rep["phases"][name]["curve"]  # deterministic
            assert len(phase["curve"]) == len(one["phases"][name]["curve"])
            assert phase["iterations_per_second"] > 0
        # the baselines that do not depend on the trained principal are the single runs'
        for name in ("selfish", "cooperative"):
            assert res["phases"][name]["curve"] == one["phases"][name]["curve"]
        p_val = res["phases"]["validate"]["final"]["proportion_paid"]
        assert res["phases"]["constant"]["final"]["proportion_paid"] == pytest.approx(
            min(max(p_val, 0.0), 1.0)
        )


@pytest.mark.parametrize("grid", [3, 7])
def test_observation_lookup_is_encode(grid):
    """Observations (a table of encode over every compact state on 3×3; encode itself on
    7×7) gives encode's numbers for states of any leading shape."""
    from solvers.coin.ensemble import Observations
    from solvers.coin.networks import encode

    cells = grid * grid
    rng = np.random.default_rng(grid)
    states = np.stack(
        [rng.integers(cells, size=(2, 3, 11)) for _ in range(3)]
        + [rng.integers(2, size=(2, 3, 11))],
        -1,
    )
    table = Observations(grid, "cpu")
    assert (table.table is not None) == (grid == 3)
    want = encode(torch.from_numpy(states.reshape(-1, 4)), grid).view(2, 3, 11, 2, 4, grid, grid)
    assert torch.equal(table(states), want)
