"""Tests of solvers.deep.presets: the tree preset is the paper's setting."""

from __future__ import annotations

import numpy as np

from solvers.deep.config import DeepConfig
from solvers.deep.presets import instance_preset, tree_preset
from theory.generators import paper_tree


def test_tree_preset_is_the_paper_tree_with_the_paper_configuration() -> None:
    model, config = tree_preset(4, 2)
    reference = paper_tree(4, 2)
    np.testing.assert_array_equal(model.agent_reward, reference.agent_reward)
    np.testing.assert_array_equal(model.principal_reward, reference.principal_reward)
    # PAPER.md §6: 20,000 iterations of 8 interactions, batches of 128, 2 × 256, copy every 100
    assert (config.iterations, config.interactions_per_iteration, config.batch_size) == (
        20_000,
        8,
        128,
    )
    assert config.hidden_sizes == (256, 256) and config.target_update_every == 100
    assert config == DeepConfig()


def test_instance_preset_applies_overrides() -> None:
    config = instance_preset(paper_tree(2, 0), nudge=0.02, iterations=10)
    assert config == DeepConfig(nudge=0.02, iterations=10)
