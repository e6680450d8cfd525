"""The frozen-dataclass base of the trainers' configurations (CleanRL's ``Args`` shape).

:class:`RLConfig` gives both configurations — :class:`solvers.deep.config.DeepConfig` and
:class:`solvers.coin.config.Config` — one strict serialisation and one validation of the
hyperparameters they share. The shared names (the same in both, in every config file and on
every command line):

``iterations``, ``batch_size``, ``buffer_size``, ``learning_starts``, ``target_update_every``,
``learning_rate_start``, ``learning_rate_end``, ``epsilon_start``, ``epsilon_end``,
``epsilon_fraction``, ``nudge``, ``checkpoint_every``.

Each subclass declares its own fields with its own (paper) defaults and docstrings; this class
only reads them. ``from_dict`` refuses an unknown key with a message naming it and either the
field it was renamed to (:attr:`RLConfig.RENAMED`, e.g. the Coin Game's former ``lr_start``)
or the closest field name (:func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from solvers.rl import schedules

__all__ = ["ConfigError", "RLConfig"]

C = TypeVar("C", bound="RLConfig")


class ConfigError(ValueError):
    """An invalid configuration document or value (the message names the field or file)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class RLConfig:
    """Base of the trainers' frozen configurations (module docstring); declares no fields."""

    RENAMED: ClassVar[Mapping[str, str]] = {}
    """Former field names → current ones, for the error on an old config file."""

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = ("batch_size", "buffer_size", "target_update_every")
    """Fields that must be positive integers (where the subclass has them)."""

    NON_NEGATIVE_INTS: ClassVar[tuple[str, ...]] = ("learning_starts", "checkpoint_every")
    """Fields that must be non-negative integers (where the subclass has them)."""

    def __post_init__(self) -> None:
        """Validate the shared hyperparameters the subclass has; errors name the field."""
        names = {f.name for f in dataclasses.fields(self)}
        value: Any
        for name in self.POSITIVE_INTS:
            value = getattr(self, name, None)
            if name in names and (not _is_int(value) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in self.NON_NEGATIVE_INTS:
            value = getattr(self, name, None)
            if name in names and (not _is_int(value) or value < 0):
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("learning_rate_start", "learning_rate_end"):
            if name in names and not _positive_number(getattr(self, name)):
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("epsilon_start", "epsilon_end", "epsilon_fraction"):
            value = getattr(self, name, 0.0)
            if name in names and not (_number(value) and 0.0 <= value <= 1.0):
                raise ConfigError(f"{name} must be in [0, 1], got {value!r}")
        if "epsilon_fraction" in names:
            cfg: Any = self
            if cfg.epsilon_fraction == 0.0 and cfg.epsilon_start != cfg.epsilon_end:
                raise ConfigError("epsilon_fraction must be positive when ε decays")
        nudge = getattr(self, "nudge", 0.0)
        if "nudge" in names and not (_number(nudge) and nudge >= 0):
            raise ConfigError(f"nudge must be non-negative, got {nudge!r}")

    # ---------------------------------------------------------------- schedules
    def epsilon_at(self, t: float, total: int) -> float:
        """ε at iteration ``t`` of a phase of ``total`` iterations (:func:`schedules.linear`)."""
        cfg: Any = self
        return schedules.linear(
            cfg.epsilon_start, cfg.epsilon_end, t, total, fraction=cfg.epsilon_fraction
        )

    def learning_rate_at(self, t: float, total: int) -> float:
        """Learning rate at iteration ``t`` of a phase of ``total`` iterations
        (:func:`schedules.exponential`)."""
        cfg: Any = self
        return schedules.exponential(cfg.learning_rate_start, cfg.learning_rate_end, t, total)

    # ---------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (tuples become lists)."""
        data = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def check_keys(cls, keys: Any) -> None:
        """Refuse keys that are not fields, naming each with its new name or a close match."""
        known = [f.name for f in dataclasses.fields(cls)]
        problems = []
        for key in sorted(set(keys) - set(known), key=str):
            if key in cls.RENAMED:
                problems.append(f"{key!r} (renamed to {cls.RENAMED[key]!r})")
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            problems.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        if problems:
            raise ConfigError(f"unknown {cls.__name__} field {', '.join(problems)}")

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """Inverse of :meth:`to_dict`; an unknown key is an error (:meth:`check_keys`)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a {cls.__name__} must be a JSON object, got {type(data).__name__}")
        cls.check_keys(data)
        tuples = {f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")}
        values = {
            k: tuple(v) if k in tuples and isinstance(v, list) else v for k, v in data.items()
        }
        try:
            return cls(**values)
        except TypeError as error:  # e.g. a comparison of a string with a number
            raise ConfigError(f"invalid {cls.__name__}: {error}") from None

    @classmethod
    def from_json(cls: type[C], path: str | Path) -> C:
        """Load a JSON config file; every problem is a :class:`ConfigError` naming the file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: is a directory, not a config file") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        except OSError as error:
            raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
            ) from None
        try:
            return cls.from_dict(data)
        except ValueError as error:
            raise ConfigError(f"{path}: {error}") from None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_number(value: Any) -> bool:
    return _number(value) and value > 0
