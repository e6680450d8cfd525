"""Tests of solvers.deep.config: the paper's defaults, validation and the schedules."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from solvers.deep.config import DeepConfig


def test_defaults_are_the_papers_tree_hyperparameters() -> None:
    # PAPER.md §6, tree: 2 × 256 ReLU; 20,000 iterations of 8 interactions + 1 gradient step
    # on a batch of 128; target copy every 100; lr 1e-3 → 1e-4; ε 1 → 0; γ = 1 (the tree's)
    config = DeepConfig()
    assert config.hidden_sizes == (256, 256)
    assert config.iterations == 20_000
    assert config.interactions_per_iteration == 8
    assert config.batch_size == 128
    assert config.target_update_every == 100
    assert (config.learning_rate_start, config.learning_rate_end) == (1e-3, 1e-4)
    assert (config.epsilon_start, config.epsilon_end, config.epsilon_fraction) == (1.0, 0.0, 1.0)
    assert config.gamma is None  # the instance's γ: 1 for the paper tree
    assert config.nudge == 0.0
    assert config.agent == "network"


def test_every_field_is_documented() -> None:
    source = Path(sys.modules[DeepConfig.__module__].__file__ or "").read_text()
    for field in dataclasses.fields(DeepConfig):
        head = f"    {field.name}:"
        start = source.index(head)
        following = source[start:].split("\n", 2)
        assert '"""' in following[1], f"{field.name} has no docstring under it"


def test_frozen() -> None:
    config = DeepConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.iterations = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("iterations", 0),
        ("batch_size", -1),
        ("target_update_every", 1.5),
        ("learning_rate_start", 0.0),
        ("epsilon_start", 1.5),
        ("nudge", -0.1),
        ("gamma", 2.0),
        ("agent", "oracle"),
        ("hidden_sizes", ()),
        ("checkpoint_every", -1),
        ("learning_starts", 10**9),
    ],
)
def test_bad_values_name_the_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        DeepConfig(**{name: value})  # type: ignore[arg-type]


def test_schedules_hit_their_endpoints() -> None:
    config = DeepConfig(iterations=1000)
    assert config.learning_rate(0) == pytest.approx(1e-3)
    assert config.learning_rate(999) == pytest.approx(1e-4)
    # exponential: the geometric mean halfway
    assert config.learning_rate(999 / 2) == pytest.approx((1e-3 * 1e-4) ** 0.5)  # type: ignore[arg-type]
    assert config.epsilon(0) == 1.0
    assert config.epsilon(999) == 0.0
    assert config.epsilon(500) == pytest.approx(1 - 500 / 999)
    half = DeepConfig(iterations=1001, epsilon_fraction=0.5)
    assert half.epsilon(500) == 0.0 and half.epsilon(250) == pytest.approx(0.5)


def test_dict_round_trip() -> None:
    config = DeepConfig(iterations=10, hidden_sizes=(8, 4), nudge=0.01, agent="exact")
    assert DeepConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        DeepConfig.from_dict({"iterationz": 3})


def test_episode_length_default_and_validation() -> None:
    """``max(|S|, ⌈1/(1 − γ)⌉)``: 10 at γ = 0.9 with 4 states, 7 states at γ = 1/2, 100 at
    γ = 0.99; a non-positive or non-integer length is refused."""
    from solvers.deep.config import default_episode_length
    from solvers.rl.config import ConfigError

    assert default_episode_length(4, 0.9) == 10
    assert default_episode_length(7, 0.5) == 7
    assert default_episode_length(3, 0.99) == 100
    with pytest.raises(ValueError, match="discount"):
        default_episode_length(3, 1.0)
    for bad in (0, -2, 1.5):
        with pytest.raises(ConfigError, match="episode_length"):
            DeepConfig(episode_length=bad)  # type: ignore[arg-type]
    assert DeepConfig(episode_length=5).episode_length == 5
