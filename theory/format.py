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

import difflib
import json
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from theory.atomic import atomic_write_text
from theory.jsondoc import MAX_DEPTH as MAX_DEPTH  # the document layer, re-exported
from theory.jsondoc import DocumentError as DocumentError
from theory.jsondoc import check_document as check_document
from theory.jsondoc import decode_document as decode_document
from theory.jsondoc import loads_json as loads_json
from theory.jsondoc import read_json as read_json
from theory.model import InstanceError, PrincipalAgentMDP, build_model, to_fraction
from theory.numbers import (
    NumberError,
    excerpt,
    int_to_text,
    parse_number,
    require_float_range,
)

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


#: Prefix of the fields that carry extra data; they are never read (docs/FORMAT.md).
EXTENSION_PREFIX = "x-"
#: The optional object that carries extra data, never read.
EXTENSIONS_FIELD = "extensions"


def _check_fields(
    data: dict[str, Any],
    known: Iterable[str],
    where: str,
    fail: Callable[[str, str], Exception],
) -> None:
    """Strict documents: every key is a known field, an ``x-`` field or ``extensions``."""
    names = tuple(known)
    for key in data:
        if not isinstance(key, str):
            raise fail(where + excerpt(key), "field names must be strings")
        if key in names or key.startswith(EXTENSION_PREFIX):
            continue
        if key == EXTENSIONS_FIELD:
            if not isinstance(data[key], dict):
                raise fail(where + key, f"must be an object (value: {excerpt(data[key])})")
            continue
        close = difflib.get_close_matches(key, names, n=1) if len(key) <= 100 else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        shown = key if len(key) <= 40 else excerpt(key)
        raise fail(
            where + shown,
            f"unknown field{hint} (extra data goes in fields named 'x-…' or in the object "
            f"'{EXTENSIONS_FIELD}')",
        )


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


_INSTANCE_FIELDS = (*_REQUIRED, "name", "observed_action", "outcome_probs")


def _require_list(data: dict[str, Any], field_name: str) -> list[Any]:
    value = data[field_name]
    if not isinstance(value, list):
        raise InstanceError(field_name, "must be a list", value=value)
    return value


def _require_names(data: dict[str, Any], field_name: str) -> list[Any]:
    """A non-empty list of unique strings (the schema's ``names``)."""
    names = _require_list(data, field_name)
    if not names:
        raise InstanceError(field_name, "must not be empty", value=names)
    if set(map(type, names)) == {str} and len(set(names)) == len(names):
        return names
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InstanceError(field_name, "names must be strings", index=(i,), value=name)
        if name in seen:
            raise InstanceError(
                field_name, f"duplicate name (also at index {seen[name]})", index=(i,), value=name
            )
        seen[name] = i
    return names


def _check_number(field_name: str, value: Any, index: tuple[int, ...] = ()) -> Fraction:
    """One number of an instance: read exactly and within the 64-bit float range."""
    if isinstance(value, list | dict | bool) or value is None:
        raise InstanceError(field_name, "expected a number", index=index or None, value=value)
    try:
        number = parse_number(value)
        require_float_range(number, value)
    except NumberError as error:
        raise InstanceError(
            field_name, error.reason, index=index or None, value=error.excerpt
        ) from None
    return number


def _check_shape(
    field_name: str, value: Any, shape: Sequence[int], prefix: tuple[int, ...] = ()
) -> None:
    """Check a nested list of numbers has ``shape``, naming the first index where it does not
    (or the first entry that is not a number within the limits of :mod:`theory.numbers`)."""
    if not shape:
        _check_number(field_name, value, prefix)
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


def _transitions_with_integer_indices(transitions: Any) -> Any:
    """``transitions`` with each next-state index that is an integral JSON number (``1.0``,
    ``1e0``: integers for JSON Schema) as an int, and each probability checked."""
    if not isinstance(transitions, list):
        return transitions
    out: list[Any] = []
    for s, row in enumerate(transitions):
        if not isinstance(row, list):
            out.append(row)
            continue
        new_row: list[Any] = []
        for o, entries in enumerate(row):
            if not isinstance(entries, list):
                new_row.append(entries)
                continue
            new_entries: list[Any] = []
            for j, entry in enumerate(entries):
                if isinstance(entry, list) and len(entry) == 2:
                    target, prob = entry
                    if isinstance(target, Fraction) and target.denominator == 1:
                        target = int(target)
                    _check_number("transitions", prob, (s, o, j, 1))
                    entry = [target, prob]
                new_entries.append(entry)
            new_row.append(new_entries)
        out.append(new_row)
    return out


def _instance_header(data: Any) -> tuple[str, bool, list[Any], list[Any], list[Any], str]:
    """The checks of an instance before its number arrays (both readers share them): the
    document is an object of known fields with the right format, names and initial state.
    Returns ``(name, observed_action, states, actions, outcomes, initial_state)``."""
    if not isinstance(data, dict):
        raise InstanceError(
            "<document>", "an instance must be a JSON object", value=type(data).__name__
        )
    if data.get("format") != INSTANCE_FORMAT:
        raise InstanceError("format", f"expected {INSTANCE_FORMAT!r}", value=data.get("format"))
    _check_fields(data, _INSTANCE_FIELDS, "", lambda f, m: InstanceError(f, m))
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
    states = _require_names(data, "states")
    actions = _require_names(data, "actions")
    outcomes = _require_names(data, "outcomes")
    initial = data["initial_state"]
    if not isinstance(initial, str):
        raise InstanceError("initial_state", "must be a state name", value=initial)
    if initial not in states:
        raise InstanceError("initial_state", "unknown state name", value=initial)
    if observed and outcomes != actions:
        raise InstanceError(
            "outcomes", "with observed_action, outcomes must equal actions", value=outcomes
        )
    return name, observed, states, actions, outcomes, initial


def instance_from_dict(data: Any) -> PrincipalAgentMDP:
    """Build a model from a parsed FORMAT.md v1 instance, rejecting any malformed field.

    Strict: a field that is not in docs/FORMAT.md, not ``x-…`` and not ``extensions`` is an
    error naming it (with a suggestion for a near miss such as ``observed_actoin``).

    Raises
    ------
    theory.model.InstanceError
        The first malformed field, naming it, its indices and (an excerpt of) its value.
    """
    name, observed, states, actions, outcomes, initial = _instance_header(data)
    n_s, n_a, n_o = len(states), len(actions), len(outcomes)
    probs = data.get("outcome_probs")
    if probs is None:
        probs = [[[1 if o == a else 0 for o in range(n_o)] for a in range(n_a)] for _ in range(n_s)]
    _check_shape("outcome_probs", probs, (n_s, n_a, n_o))
    _check_shape("agent_reward", data["agent_reward"], (n_s, n_a))
    _check_shape("principal_reward", data["principal_reward"], (n_s, n_o))
    discount = _check_number("discount", data["discount"])
    if not 0 <= discount <= 1:
        raise InstanceError("discount", "must be in [0, 1]", value=_show(data["discount"]))
    transitions = _transitions_with_integer_indices(data["transitions"])
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


#: Documents at least this large are read by the fast path first
#: (:func:`theory.fastjson.fast_instance`).
FAST_PATH_BYTES = 1 << 20


def load_instance(
    path: str | Path, *, fast: bool | None = None, progress: Any = None
) -> PrincipalAgentMDP:
    """Read an instance file: FORMAT.md v1 JSON, or the binary companion ``.npz``
    (:mod:`theory.binary`, chosen by the suffix).

    JSON documents of :data:`FAST_PATH_BYTES` or more (or any with ``fast=True``) are read by
    :func:`theory.fastjson.fast_instance` when they can be (a float model, exact view
    lossless); every other one, and every document the fast path declines, by the reference
    reader, which keeps each number exact. Either way the numbers, checks and messages are the same.
    ``progress(message)``, if given, is called with a short note of the path taken.

    Raises
    ------
    theory.model.InstanceError
        Not a JSON document pamdp reads (``<document>``, or the field of a ``NaN``), or a
        malformed instance (see :func:`instance_from_dict`).
    OSError
        The file cannot be read.
    """
    if str(path).endswith(".npz"):
        from theory.binary import load_instance_npz

        return load_instance_npz(path)
    try:
        if fast or (fast is None and _file_size(path) >= FAST_PATH_BYTES):
            from theory.fastjson import fast_instance

            model = fast_instance(Path(path))  # reads the file itself, to release the bytes
            if model is not None:
                return model
            if progress is not None:
                progress("not a float-only instance: reading every number exactly")
        data = loads_json(Path(path).read_bytes())
    except DocumentError as error:
        raise InstanceError(error.path or "<document>", error.msg) from None
    except json.JSONDecodeError as error:
        raise InstanceError("<document>", f"invalid JSON: {error}") from None
    return instance_from_dict(data)


def _file_size(path: str | Path) -> int:
    """The size of a regular file; 0 for anything else (read by the reference reader, which
    reports what it is)."""
    try:
        status = Path(path).stat()
    except OSError:
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _number_out(value: Any, exact: bool) -> int | float | str:
    if exact:
        fraction = to_fraction(value)
        if fraction.denominator == 1 and fraction.numerator.bit_length() <= 1900:
            return int(fraction)  # larger integers are written as strings (no int-string limit)
        if fraction.denominator == 1:
            return int_to_text(fraction.numerator)
        return f"{int_to_text(fraction.numerator)}/{int_to_text(fraction.denominator)}"
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _nested_out(array: np.ndarray, exact: bool) -> Any:
    if array.ndim == 1:
        return [_number_out(item, exact) for item in array.tolist()]
    return [_nested_out(item, exact) for item in array]


def _header_out(model: PrincipalAgentMDP) -> dict[str, Any]:
    """The fields of a model's FORMAT.md v1 document before its arrays: format, name, names,
    initial state, ``observed_action`` when set, and the discount (exact when the model is).
    Shared by :func:`instance_to_dict` and the streaming writer of :mod:`theory.fastjson`."""
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
    return data


def instance_to_dict(
    model: PrincipalAgentMDP, *, include_outcome_probs: bool = True
) -> dict[str, Any]:
    """The FORMAT.md v1 document of a model (exact numbers where the model has them)."""
    exact = model.exact is not None
    source = model.exact if model.exact is not None else model
    data = _header_out(model)
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
    """The JSON text of ``data`` (compact when ``indent`` is None); with ``path``, also write it
    there atomically (:func:`theory.atomic.atomic_write_text`; ``"-"``: standard output).

    Raises
    ------
    theory.atomic.OutputPathError
        The path cannot be written (missing folder, a folder, not writable).
    OSError
        Writing failed (e.g. a full disk); the previous file at ``path`` is then untouched.
    """
    text = json.dumps(data, indent=indent, allow_nan=False, default=_json_default)
    if path is not None:
        atomic_write_text(path, text + "\n")
    return text


def save_instance(model: PrincipalAgentMDP, path: str | Path) -> None:
    """Write a model as a FORMAT.md v1 instance file, atomically (see :func:`dump_json`);
    ``.npz``: the binary companion (:func:`theory.binary.save_instance_npz`). A float model
    (``exact is None``) is written by the streaming writer
    (:func:`theory.fastjson.write_instance`: the document of :func:`instance_to_dict`,
    compact); an exact one through :func:`instance_to_dict`."""
    if str(path).endswith(".npz"):
        from theory.binary import save_instance_npz

        save_instance_npz(model, path)
        return
    if model.exact is None:  # a float model: vectorised and streamed (the same document)
        from theory.fastjson import write_instance

        write_instance(path, model)
        return
    dump_json(instance_to_dict(model), path)


# ---------------------------------------------------------------------- solutions
@dataclass(frozen=True, slots=True)
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


_SOLUTION_FIELDS = ("format", "instance", "policy", "principal_value", "agent_value", "solver")
_ENTRY_FIELDS = (
    "state",
    "recommended_action",
    "contract",
    "principal_value",
    "agent_value",
    "implementable",
)


def _solution_error(field_name: str, message: str) -> SolutionError:
    return SolutionError(f"{field_name}: {message}")


def solution_from_dict(
    data: Any, model: PrincipalAgentMDP, *, allow_name_mismatch: bool = False
) -> SolutionDocument:
    """Parse a solution document against its instance, rejecting malformed fields.

    Strict like :func:`instance_from_dict` (unknown fields are errors; ``x-…`` fields,
    ``extensions`` and pamdp's informational ``solver`` object are kept in ``extra``, never
    read). The document's ``instance`` must be the instance's ``name`` unless
    ``allow_name_mismatch``.

    Raises
    ------
    SolutionError
        The first malformed field, naming it, its index and (an excerpt of) its value.
    """
    if not isinstance(data, dict):
        raise SolutionError(
            f"<document>: a solution must be a JSON object (value: {excerpt(data)})"
        )
    if data.get("format") != SOLUTION_FORMAT:
        raise SolutionError(
            f"format: expected {SOLUTION_FORMAT!r} (value: {excerpt(data.get('format'))})"
        )
    _check_fields(data, _SOLUTION_FIELDS, "", _solution_error)
    if "instance" not in data:
        raise SolutionError("instance: missing required field (the instance's name)")
    name = data["instance"]
    if not isinstance(name, str):
        raise SolutionError(f"instance: must be a string (value: {excerpt(name)})")
    if name != model.name and not allow_name_mismatch:
        raise SolutionError(
            f"instance: the solution is for the instance {excerpt(name)}, but the instance "
            f"given is named {excerpt(model.name)} (allow_name_mismatch / "
            "--allow-name-mismatch checks it anyway)"
        )
    if "solver" in data and not isinstance(data["solver"], dict):
        raise SolutionError(f"solver: must be an object (value: {excerpt(data['solver'])})")
    policy = data.get("policy")
    if not isinstance(policy, list):
        raise SolutionError(f"policy: missing or not a list (value: {excerpt(policy)})")
    if len(policy) != model.n_states:
        raise SolutionError(
            f"policy: expected {model.n_states} entries (one per state), got {len(policy)}"
        )
    entries = []
    for s, item in enumerate(policy):
        where = f"policy[{s}]"
        if not isinstance(item, dict):
            raise SolutionError(f"{where}: must be an object (value: {excerpt(item)})")
        _check_fields(item, _ENTRY_FIELDS, f"{where}.", _solution_error)
        if item.get("state") != model.states[s]:
            raise SolutionError(
                f"{where}.state: expected {model.states[s]!r} (states are in "
                f"instance order) (value: {excerpt(item.get('state'))})"
            )
        action = item.get("recommended_action")
        if not isinstance(action, str) or action not in model.actions:
            raise SolutionError(
                f"{where}.recommended_action: unknown action (value: {excerpt(action)})"
            )
        contract = item.get("contract")
        if not isinstance(contract, list) or len(contract) != model.n_outcomes:
            raise SolutionError(
                f"{where}.contract: expected a list of {model.n_outcomes} "
                f"payments (value: {excerpt(contract)})"
            )
        payments = []
        for o, value in enumerate(contract):
            number = _read_number(value, f"{where}.contract[{o}]")
            if number < 0:
                raise SolutionError(
                    f"{where}.contract[{o}]: payments must be non-negative "
                    f"(limited liability) (value: {excerpt(_show(value))})"
                )
            payments.append(number)
        flags = item.get("implementable", [])
        if not isinstance(flags, list) or not all(isinstance(flag, bool) for flag in flags):
            raise SolutionError(
                f"{where}.implementable: must be a list of true/false (value: {excerpt(flags)})"
            )
        values = {
            key: _read_number(item[key], f"{where}.{key}")
            for key in ("principal_value", "agent_value")
            if key in item
        }
        entries.append(PolicyEntry(s, model.actions.index(action), tuple(payments), **values))
    top = {
        key: _read_number(data[key], key)
        for key in ("principal_value", "agent_value")
        if key in data
    }
    extra = {k: v for k, v in data.items() if k not in _SOLUTION_FIELDS or k == "solver"}
    return SolutionDocument(name, tuple(entries), extra=extra or None, **top)


def _read_number(value: Any, where: str) -> Fraction:
    """A number of a solution, read exactly and within the 64-bit float range."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise SolutionError(f"{where}: not a number (value: {excerpt(value)})")
    try:
        number = parse_number(value)
        require_float_range(number, value)
    except NumberError as error:
        raise SolutionError(f"{where}: {error.reason} (value: {error.excerpt})") from None
    return number


def load_solution(
    path: str | Path, model: PrincipalAgentMDP, *, allow_name_mismatch: bool = False
) -> SolutionDocument:
    """Read a FORMAT.md v1 solution file against its instance (see :func:`solution_from_dict`).

    Files of :data:`FAST_PATH_BYTES` or more are read by :func:`theory.fastjson.fast_solution`
    when they can be (a clean float solution: numbers as floats whose shortest decimals are
    the document's numbers); every other one, and every one it declines, by the reference
    reader, so the verdicts and messages are the same.

    Raises
    ------
    SolutionError
        Not a JSON document pamdp reads, or a malformed solution.
    OSError
        The file cannot be read.
    """
    if str(path).endswith(".npz"):
        from theory.binary import solution_document_npz

        return solution_from_dict(
            solution_document_npz(path), model, allow_name_mismatch=allow_name_mismatch
        )
    try:
        if _file_size(path) >= FAST_PATH_BYTES:  # a large float solution: straight to floats
            from theory.fastjson import fast_solution

            document = fast_solution(Path(path), model)
            if document is not None:
                return document
        data = read_json(path)
    except DocumentError as error:
        raise SolutionError(f"{error.path or '<document>'}: {error.msg}") from None
    except json.JSONDecodeError as error:
        raise SolutionError(f"<document>: invalid JSON: {error}") from None
    return solution_from_dict(data, model, allow_name_mismatch=allow_name_mismatch)


def validate_against_schema(data: Any, kind: str) -> None:
    """Validate a document (as dumped to JSON, then re-read) against the published schema.

    Raises ``jsonschema.ValidationError`` on failure.
    """
    import jsonschema

    plain = json.loads(json.dumps(data, default=_json_default))
    jsonschema.validate(plain, load_schema(kind))


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{int_to_text(value.numerator)}/{int_to_text(value.denominator)}"
    raise TypeError(f"not JSON serialisable: {value!r}")
