"""Tests of solvers.rl.config: strict (de)serialisation with renames and near-miss
suggestions, config files (missing, malformed, wrong shape), validation of the shared
hyperparameters, on a small config of its own and on both trainers' configurations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from solvers.coin.config import Config
from solvers.deep.config import DeepConfig
from solvers.rl.config import ConfigError, RLConfig


@dataclass(frozen=True)
class Small(RLConfig):
    RENAMED: ClassVar[dict[str, str]] = {"lr": "learning_rate_start"}

    learning_rate_start: float = 1e-3
    learning_rate_end: float = 1e-4
    epsilon_start: float = 1.0
    epsilon_end: float = 0.0
    epsilon_fraction: float = 1.0
    batch_size: int = 4
    sizes: tuple[int, ...] = (2, 3)


def test_round_trip_and_tuples() -> None:
    small = Small(sizes=(5,))
    assert small.to_dict()["sizes"] == [5]
    assert Small.from_dict(small.to_dict()) == small
    for cfg in (DeepConfig(hidden_sizes=(8, 4)), Config(baselines=("selfish",))):
        assert type(cfg).from_dict(cfg.to_dict()) == cfg


def test_unknown_keys_name_the_new_name_or_the_closest() -> None:
    with pytest.raises(ConfigError, match=r"'lr' \(renamed to 'learning_rate_start'\)"):
        Small.from_dict({"lr": 0.1})
    with pytest.raises(ConfigError, match=r"'batch_sise' \(did you mean 'batch_size'\?\)"):
        Small.from_dict({"batch_sise": 3})
    with pytest.raises(ConfigError, match=r"unknown Small field 'zzz'$"):
        Small.from_dict({"zzz": 3})
    with pytest.raises(ConfigError, match=r"'target_every' \(renamed to 'target_update_every'\)"):
        Config.from_dict({"target_every": 10})
    with pytest.raises(ConfigError, match="must be a JSON object, got list"):
        Small.from_dict([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("learning_rate_start", 0.0),
        ("learning_rate_end", float("nan")),
        ("epsilon_start", 1.5),
        ("epsilon_end", -0.1),
        ("batch_size", 0),
        ("batch_size", True),
        ("batch_size", 2.5),
    ],
)
def test_shared_fields_are_validated_by_name(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        Small(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=field):
        Config(**{field: value})  # type: ignore[arg-type]


def test_epsilon_fraction_zero_needs_a_constant_epsilon() -> None:
    assert Small(epsilon_fraction=0.0, epsilon_start=0.2, epsilon_end=0.2).epsilon_at(3, 10) == 0.2
    with pytest.raises(ConfigError, match="epsilon_fraction"):
        Small(epsilon_fraction=0.0)


def test_schedules_use_the_shared_convention() -> None:
    small = Small()
    assert small.epsilon_at(0, 5) == 1.0 and small.epsilon_at(4, 5) == 0.0
    assert small.learning_rate_at(4, 5) == pytest.approx(1e-4, rel=1e-12)
    deep = DeepConfig(iterations=5)
    assert deep.epsilon(2) == small.epsilon_at(2, 5) == 0.5


def test_from_json_names_the_file_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with pytest.raises(ConfigError, match=f"{path}: no such file"):
        Small.from_json(path)
    path.write_text('{"batch_size": 3,}')
    with pytest.raises(ConfigError, match=rf"{path}: not valid JSON \(line 1, column 18"):
        Small.from_json(path)
    path.write_text('{"batch_size": "3"}')
    with pytest.raises(ConfigError, match=f"{path}: batch_size must be a positive integer"):
        Small.from_json(path)
    with pytest.raises(ConfigError, match="is a directory"):
        Small.from_json(tmp_path)
    path.write_text('{"batch_size": 7}')
    assert Small.from_json(path) == Small(batch_size=7)
