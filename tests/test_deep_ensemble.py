"""Tests of solvers.deep.ensemble: batched trials against the same trials run one by one.

What must be identical (the math allows it): initial networks, every random number, and hence
everything before the first gradient step. What must agree to float32 rounding: one gradient
step. What must agree statistically: whole runs (rounding differences of matmuls of different
shapes grow through argmax flips, like a change of thread count would).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from solvers.deep.config import DeepConfig  # noqa: E402
from solvers.deep.ensemble import EnsembleTrainer  # noqa: E402
from solvers.deep.trainer import DeepTrainer  # noqa: E402
from theory.generators import paper_tree, random_instance  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _trials(iterations: int, **extra: object) -> tuple[list, list[DeepConfig], list[int]]:
    models = [paper_tree(4, 0), paper_tree(4, 1), paper_tree(4, 0)]
    base = {"iterations": iterations, "hidden_sizes": (32, 32), "validate_every": 5, **extra}
    configs = [
        DeepConfig(**{**base, "nudge": 0.0}),  # type: ignore[arg-type]
        DeepConfig(**{**base, "nudge": 0.02}),  # type: ignore[arg-type]
        DeepConfig(**{**base, "nudge": 0.01}),  # type: ignore[arg-type]
    ]
    return models, configs, [3, 4, 5]


def test_before_the_first_gradient_step_batched_equals_sequential_bitwise() -> None:
    """15 iterations × 8 interactions = 120 < 128 transitions: no gradient step yet, so
    validation histories, buffers and final network hashes are exactly the sequential ones
    (trials with different trees and different margins in one ensemble)."""
    models, configs, seeds = _trials(15)
    ensemble = EnsembleTrainer(models, configs, seeds)
    batched = ensemble.train()
    for model, config, seed, got, shell in zip(
        models, configs, seeds, batched, ensemble.shells, strict=True
    ):
        single = DeepTrainer(model, config, seed=seed)
        expected = single.train()
        assert got.to_dict()["deterministic"] == expected.to_dict()["deterministic"]
        for name in ("states", "recommended", "actions", "outcomes", "next_states", "done"):
            np.testing.assert_array_equal(
                getattr(shell.buffer, name)[: len(single.buffer)],
                getattr(single.buffer, name)[: len(single.buffer)],
            )


def test_one_gradient_step_agrees_to_float32_rounding() -> None:
    """16 iterations: exactly one gradient step (the first with ≥ 128 transitions). The
    parameters after it agree with the sequential trainer's to float32 rounding (the step
    moves them by ~1e-3, the difference is < 1e-6)."""
    models, configs, seeds = _trials(16)
    ensemble = EnsembleTrainer(models, configs, seeds)
    ensemble.train()
    for model, config, seed, shell in zip(models, configs, seeds, ensemble.shells, strict=True):
        single = DeepTrainer(model, config, seed=seed)
        start = [p.detach().clone() for p in single.principal.parameters()]
        single.train()
        moved = max(
            float((p - q).detach().abs().max())
            for p, q in zip(single.principal.parameters(), start, strict=True)
        )
        assert moved > 1e-4  # the step did something
        for mine, theirs in (
            (shell.principal, single.principal),
            (shell.agent, single.agent),
        ):
            assert mine is not None and theirs is not None
            for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
                assert float((p - q).detach().abs().max()) < 1e-6


def test_batched_runs_repeat_bit_for_bit() -> None:
    models, configs, seeds = _trials(60)
    a = EnsembleTrainer(models, configs, seeds).train()
    b = EnsembleTrainer(models, configs, seeds).train()
    assert [r.to_dict()["deterministic"] for r in a] == [r.to_dict()["deterministic"] for r in b]


def test_batched_trials_match_sequential_ones_statistically() -> None:
    """Whole runs: 3 trials (2 trees, margins 0 / 0.02 / 0.01), 600 iterations each.

    Tolerance: every trial's final principal ratio (learned and exact contracts) within 0.05 of
    its sequential twin and accuracy within 0.2 (at most a few of the 15 states' argmax flips);
    the mean exact-contract ratio within 0.02. In development runs (depth-4 trees, 64-unit
    networks, 1,500 iterations) the twins agreed to 1e-7 in the principal ratio; the bounds
    leave room for a flip at a rarely visited state.
    """
    models, configs, seeds = _trials(600, validate_every=200)
    batched = EnsembleTrainer(models, configs, seeds).train()
    sequential = [
        DeepTrainer(m, c, seed=s).train() for m, c, s in zip(models, configs, seeds, strict=True)
    ]
    for got, expected in zip(batched, sequential, strict=True):
        g, e = got.final, expected.final
        assert abs(g.principal_ratio - e.principal_ratio) <= 0.05
        assert abs(g.exact_contract_principal_ratio - e.exact_contract_principal_ratio) <= 0.05
        assert abs(g.accuracy - e.accuracy) <= 0.2
    mean = np.mean
    assert (
        abs(
            mean([r.final.exact_contract_principal_ratio for r in batched])
            - mean([r.final.exact_contract_principal_ratio for r in sequential])
        )
        <= 0.02
    )


def test_exact_agent_mode_and_more_outcomes_run_batched() -> None:
    """Exact-agent mode (no agent network) on a 3-action, 3-outcome episodic instance: the
    ensemble runs, and its iteration-0 records are the sequential ones."""
    model = random_instance(5, 3, 3, seed=2)
    config = DeepConfig(iterations=40, hidden_sizes=(16, 16), validate_every=20, agent="exact")
    ensemble = EnsembleTrainer([model, model], [config, config], [0, 1])
    results = ensemble.train()
    for seed, result in zip((0, 1), results, strict=True):
        single = DeepTrainer(model, config, seed=seed)
        assert result.history[0] == single.history[0]
        assert len(result.history) == 3


def test_mismatched_trials_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        EnsembleTrainer([paper_tree(3, 0), paper_tree(4, 0)], [DeepConfig(), DeepConfig()], [0, 1])
    with pytest.raises(ValueError, match="batch_size"):
        EnsembleTrainer(
            [paper_tree(3, 0), paper_tree(3, 1)],
            [DeepConfig(hidden_sizes=(8,)), DeepConfig(hidden_sizes=(8,), batch_size=64)],
            [0, 1],
        )
