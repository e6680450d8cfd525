"""The interchange format, version 1 (../shared/FORMAT.md, docs/FORMAT.md).

Instances (``"format": "pamdp/instance@1"``) and solutions (``"format": "pamdp/solution@1"``)
are JSON. Every number may be a JSON number or a string holding an exact rational or decimal
(``"-4/5"``, ``"0.9"``). Reading is exact: JSON numbers are parsed from their decimal text, never
through a binary float, so ``0.9`` and ``"9/10"`` are the same number.

Writing is lossless: an exact instance writes integers as JSON integers and every other
rational as a ``"p/q"`` string; a float-only instance writes each float as its shortest
round-trip decimal (``repr``), which reads back as the same float and the same exact decimal.

JSON Schemas for both documents ship in ``theory/schemas/``. The schema checks the structure;
:func:`instance_from_dict` additionally checks the semantics (sums, indices, cycles) and names
the field, the indices and the value of the first problem it finds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from theory.model import InstanceError, PrincipalAgentMDP, build_model, to_fraction

INSTANCE_FORMAT = "pamdp/instance@1"
SOLUTION_FORMAT = "pamdp/solution@1"

Number = int | float | Fraction


def load_schema(kind: str) -> dict[str, Any]:
    """The published JSON Schema, ``kind`` in ``{"instance", "solution"}``."""
    if kind not in ("instance", "solution"):
        raise ValueError(f"unknown schema {kind!r}; use 'instance' or 'solution'")
    text = resources.files("theory").joinpath(f"schemas/{kind}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_json(path: str | Path) -> Any:
    """Read JSON with every non-integer number parsed exactly as a Fraction."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle, parse_float=Fraction)


def loads_json(text: str) -> Any:
    return json.loads(text, parse_float=Fraction)


# ---------------------------------------------------------------------- instances
_REQUIRED = (
    "format",
    "states",
    "initial_state",
    "actions",
    "outcomes",
    "discount",
    "agent_reward",
    "principal_reward",
    "transitions",
)


def _require_list(data: dict[str, Any], field_name: str) -> list[Any]:
    value = data[field_name]
    if not isinstance(value, list):
        raise InstanceError(field_name, "must be a list", value=value)
    return value


def _check_shape(
    field_name: str, value: Any, shape: Sequence[int], prefix: tuple[int, ...] = ()
) -> None:
    """Check a nested list has ``shape``, naming the first index where it does not."""
    if not shape:
        if isinstance(value, (list | dict, bool)) or value is None:
            raise InstanceError(field_name, "expected a number", index=prefix or None, value=value)
        try:
            to_fraction(value)
        except (TypeError, ValueError, ZeroDivisionError):
            raise InstanceError(
                field_name, "not a number", index=prefix or None, value=value
            ) from None
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise InstanceError(
            field_name,
            f"wrong shape: expected {shape[0]} entries here, got {got}",
            index=prefix or None,
        )
    for i, item in enumerate(value):
        _check_shape(field_name, item, shape[1:], (*prefix, i))


def instance_from_dict(data: Any) -> PrincipalAgentMDP:
    """Build a model from a parsed FORMAT.md v1 instance, rejecting any malformed field."""
    if not isinstance(data, dict):
        raise InstanceError(
            "<document>", "an instance must be a JSON object", value=type(data).__name__
        )
    if data.get("format") != INSTANCE_FORMAT:
        raise InstanceError("format", f"expected {INSTANCE_FORMAT!r}", value=data.get("format"))
    observed = data.get("observed_action", False)
    if not isinstance(observed, bool):
        raise InstanceError("observed_action", "must be true or false", value=observed)
    required = [f for f in _REQUIRED if not (observed and f == "outcome_probs")]
    if not observed:
        required.append("outcome_probs")
    for field_name in required:
        if field_name not in data:
            raise InstanceError(field_name, "missing required field")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise InstanceError("name", "must be a string", value=name)
    states = _require_list(data, "states")
    actions = _require_list(data, "actions")
    outcomes = _require_list(data, "outcomes")
    initial = data["initial_state"]
    if not isinstance(initial, str):
        raise InstanceError("initial_state", "must be a state name", value=initial)
    if initial not in states:
        raise InstanceError("initial_state", "unknown state name", value=initial)
    n_s, n_a, n_o = len(states), len(actions), len(outcomes)
    if observed and outcomes != actions:
        raise InstanceError(
            "outcomes", "with observed_action, outcomes must equal actions", value=outcomes
        )
    probs = data.get("outcome_probs")
    if probs is None:
        probs = [[[1 if o == a else 0 for o in range(n_o)] for a in range(n_a)] for _ in range(n_s)]
    _check_shape("outcome_probs", probs, (n_s, n_a, n_o))
    _check_shape("agent_reward", data["agent_reward"], (n_s, n_a))
    _check_shape("principal_reward", data["principal_reward"], (n_s, n_o))
    _check_shape("discount", data["discount"], ())
    discount = to_fraction(data["discount"])
    if not 0 <= discount <= 1:
        raise InstanceError("discount", "must be in [0, 1]", value=_show(data["discount"]))
    transitions = data["transitions"]
    for s, row in enumerate(transitions if isinstance(transitions, list) else []):
        for o, entries in enumerate(row if isinstance(row, list) else []):
            for j, entry in enumerate(entries if isinstance(entries, list) else []):
                if isinstance(entry, list) and len(entry) == 2:
                    _check_shape("transitions", entry[1], (), (s, o, j, 1))
    for field_name, array in (("outcome_probs", probs),):
        for index, value in np.ndenumerate(np.array(array, dtype=object)):
            exact = to_fraction(value)
            if exact < 0:
                raise InstanceError(
                    field_name,
                    "negative probability",
                    index=tuple(int(i) for i in index),
                    value=_show(value),
                )
    return build_model(
        states=states,
        actions=actions,
        outcomes=outcomes,
        initial_state=initial,
        discount=discount,
        outcome_probs=probs,
        agent_reward=data["agent_reward"],
        principal_reward=data["principal_reward"],
        transitions=transitions,
        observed_action=observed,
        name=name,
        exact=True,
    )


def _show(value: Any) -> Any:
    return str(value) if isinstance(value, Fraction) else value


def load_instance(path: str | Path) -> PrincipalAgentMDP:
    """Read a FORMAT.md v1 instance file (numbers kept exact)."""
    try:
        data = read_json(path)
    except json.JSONDecodeError as error:
        raise InstanceError("<document>", f"invalid JSON: {error}") from None
    return instance_from_dict(data)


def _number_out(value: Any, exact: bool) -> int | float | str:
    if exact:
        fraction = to_fraction(value)
        if fraction.denominator == 1:
            return int(fraction)
        return f"{fraction.numerator}/{fraction.denominator}"
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _nested_out(array: np.ndarray, exact: bool) -> Any:
    if array.ndim == 1:
        return [_number_out(item, exact) for item in array.tolist()]
    return [_nested_out(item, exact) for item in array]


def instance_to_dict(
    model: PrincipalAgentMDP, *, include_outcome_probs: bool = True
) -> dict[str, Any]:
    """The FORMAT.md v1 document of a model (exact numbers where the model has them)."""
    exact = model.exact is not None
    source = model.exact if model.exact is not None else model
    data: dict[str, Any] = {
        "format": INSTANCE_FORMAT,
        "name": model.name,
        "states": list(model.states),
        "initial_state": model.states[model.initial_state],
        "actions": list(model.actions),
        "outcomes": list(model.outcomes),
    }
    if model.observed_action:
        data["observed_action"] = True
    data["discount"] = _number_out(source.discount, exact)
    if include_outcome_probs or not model.observed_action:
        data["outcome_probs"] = _nested_out(np.asarray(source.outcome_probs), exact)
    data["agent_reward"] = _nested_out(np.asarray(source.agent_reward), exact)
    data["principal_reward"] = _nested_out(np.asarray(source.principal_reward), exact)
    probs = np.asarray(source.transition_prob)
    offsets = model.transition_offsets
    transitions = []
    for s in range(model.n_states):
        row = []
        for o in range(model.n_outcomes):
            k = s * model.n_outcomes + o
            row.append(
                [
                    [int(model.transition_next[i]), _number_out(probs[i], exact)]
                    for i in range(offsets[k], offsets[k + 1])
                ]
            )
        transitions.append(row)
    data["transitions"] = transitions
    return data


def dump_json(data: Any, path: str | Path | None = None, *, indent: int | None = None) -> str:
    """Write JSON compactly (one line per state for instances when ``indent`` is None)."""
    text = json.dumps(data, indent=indent, allow_nan=False)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


def save_instance(model: PrincipalAgentMDP, path: str | Path) -> None:
    """Write a model as a FORMAT.md v1 instance file."""
    dump_json(instance_to_dict(model), path)


# ---------------------------------------------------------------------- solutions
@dataclass(frozen=True)
class PolicyEntry:
    """One state of a solution: the recommended action, the contract and optional values."""

    state: int
    recommended_action: int
    contract: tuple[Fraction | float, ...]
    principal_value: Fraction | float | None = None
    agent_value: Fraction | float | None = None


@dataclass(frozen=True)
class SolutionDocument:
    """A parsed FORMAT.md v1 solution, with names resolved to indices of an instance."""

    instance_name: str
    policy: tuple[PolicyEntry, ...]
    principal_value: Fraction | float | None = None
    agent_value: Fraction | float | None = None
    extra: dict[str, Any] | None = None

    @property
    def recommended(self) -> np.ndarray:
        return np.array([entry.recommended_action for entry in self.policy], dtype=np.int64)

    def contracts_exact(self) -> np.ndarray:
        out = np.empty(
            (len(self.policy), len(self.policy[0].contract) if self.policy else 0), dtype=object
        )
        for s, entry in enumerate(self.policy):
            out[s] = [to_fraction(x) for x in entry.contract]
        return out

    def contracts_float(self) -> np.ndarray:
        return np.array(
            [[float(x) for x in entry.contract] for entry in self.policy], dtype=np.float64
        ).reshape(len(self.policy), -1)


class SolutionError(ValueError):
    """A malformed solution document; the message names the field, the index and the value."""


def solution_to_dict(
    model: PrincipalAgentMDP,
    recommended: Sequence[int] | np.ndarray,
    contracts: Any,
    *,
    principal_values: Any = None,
    agent_values: Any = None,
    exact: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The FORMAT.md v1 solution document for a policy (and optional per-state values)."""
    policy = []
    for s in range(model.n_states):
        entry: dict[str, Any] = {
            "state": model.states[s],
            "recommended_action": model.actions[int(recommended[s])],
            "contract": [_number_out(x, exact) for x in contracts[s]],
        }
        if principal_values is not None:
            entry["principal_value"] = _number_out(principal_values[s], exact)
        if agent_values is not None:
            entry["agent_value"] = _number_out(agent_values[s], exact)
        policy.append(entry)
    data: dict[str, Any] = {"format": SOLUTION_FORMAT, "instance": model.name, "policy": policy}
    if principal_values is not None:
        data["principal_value"] = _number_out(principal_values[model.initial_state], exact)
    if agent_values is not None:
        data["agent_value"] = _number_out(agent_values[model.initial_state], exact)
    if extra:
        data.update(extra)
    return data


def solution_from_dict(data: Any, model: PrincipalAgentMDP) -> SolutionDocument:
    """Parse a solution document against its instance, rejecting malformed fields."""
    if not isinstance(data, dict):
        raise SolutionError("<document>: a solution must be a JSON object")
    if data.get("format") != SOLUTION_FORMAT:
        raise SolutionError(f"format: expected {SOLUTION_FORMAT!r} (value: {data.get('format')!r})")
    policy = data.get("policy")
    if not isinstance(policy, list):
        raise SolutionError("policy: missing or not a list")
    if len(policy) != model.n_states:
        raise SolutionError(
            f"policy: expected {model.n_states} entries (one per state), got {len(policy)}"
        )
    entries = []
    for s, item in enumerate(policy):
        where = f"policy[{s}]"
        if not isinstance(item, dict):
            raise SolutionError(f"{where}: must be an object (value: {item!r})")
        if item.get("state") != model.states[s]:
            raise SolutionError(
                f"{where}.state: expected {model.states[s]!r} (states are in "
                f"instance order) (value: {item.get('state')!r})"
            )
        action = item.get("recommended_action")
        if action not in model.actions:
            raise SolutionError(f"{where}.recommended_action: unknown action (value: {action!r})")
        contract = item.get("contract")
        if not isinstance(contract, list) or len(contract) != model.n_outcomes:
            raise SolutionError(
                f"{where}.contract: expected a list of {model.n_outcomes} "
                f"payments (value: {contract!r})"
            )
        payments = []
        for o, value in enumerate(contract):
            try:
                number = _read_number(value)
            except (TypeError, ValueError, ZeroDivisionError):
                raise SolutionError(
                    f"{where}.contract[{o}]: not a number (value: {value!r})"
                ) from None
            if number < 0:
                raise SolutionError(
                    f"{where}.contract[{o}]: payments must be non-negative "
                    f"(limited liability) (value: {_show(value)!r})"
                )
            payments.append(number)
        values = {}
        for key in ("principal_value", "agent_value"):
            if key in item:
                try:
                    values[key] = _read_number(item[key])
                except (TypeError, ValueError, ZeroDivisionError):
                    raise SolutionError(
                        f"{where}.{key}: not a number (value: {item[key]!r})"
                    ) from None
        entries.append(PolicyEntry(s, model.actions.index(action), tuple(payments), **values))
    top = {}
    for key in ("principal_value", "agent_value"):
        if key in data:
            try:
                top[key] = _read_number(data[key])
            except (TypeError, ValueError, ZeroDivisionError):
                raise SolutionError(f"{key}: not a number (value: {data[key]!r})") from None
    known = {"format", "instance", "policy", "principal_value", "agent_value"}
    extra = {k: v for k, v in data.items() if k not in known}
    return SolutionDocument(
        str(data.get("instance", "")), tuple(entries), extra=extra or None, **top
    )


def _read_number(value: Any) -> Fraction:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise TypeError(value)
    fraction = to_fraction(value)
    return fraction


def load_solution(path: str | Path, model: PrincipalAgentMDP) -> SolutionDocument:
    try:
        data = read_json(path)
    except json.JSONDecodeError as error:
        raise SolutionError(f"<document>: invalid JSON: {error}") from None
    return solution_from_dict(data, model)


def validate_against_schema(data: Any, kind: str) -> None:
    """Validate a document (as dumped to JSON, then re-read) against the published schema.

    Raises ``jsonschema.ValidationError`` on failure.
    """
    import jsonschema

    plain = json.loads(json.dumps(data, default=_json_default))
    jsonschema.validate(plain, load_schema(kind))


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    raise TypeError(f"not JSON serialisable: {value!r}")
