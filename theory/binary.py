"""The binary companion format: instances and solutions as numpy ``.npz`` archives.

Same content as the JSON documents (docs/FORMAT.md, "Binary companion"), as arrays:

* ``format`` (``"pamdp/instance@1"`` / ``"pamdp/solution@1"``), ``name``/``instance``,
  ``states``, ``actions``, ``outcomes`` (unicode arrays), ``initial_state`` (an index),
  ``observed_action`` (bool), and the numbers: ``discount``, ``outcome_probs`` (S, A, O),
  ``agent_reward`` (S, A), ``principal_reward`` (S, O) and the transitions in CSR form
  (``transition_offsets`` (S·O + 1), ``transition_next``, ``transition_prob``);
* a solution: ``recommended`` (S) action indices, ``contract`` (S, O) and optionally
  ``principal_value``/``agent_value`` (S).

Each number field ``F`` is either ``F`` (float64: a float instance, read as the shortest
decimals of its floats, as for JSON) or the exact pair ``F.num``/``F.den`` of integer arrays:
int64 where every numerator and denominator fits, otherwise decimal strings (a unicode array),
never Python objects. Loading uses ``allow_pickle=False`` (no code can run), refuses unknown
or missing members, wrong dtypes and shapes, archives larger than :data:`MAX_UNPACKED_BYTES`
unpacked, and then builds the model through the same validation as JSON
(:class:`theory.model.PrincipalAgentMDP`), so sums, indices and cycles are checked alike; every
error is an :class:`~theory.model.InstanceError` (or :class:`~theory.format.SolutionError`)
naming the member.
"""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theory.atomic import atomic_write_bytes
from theory.model import ExactData, InstanceError, PrincipalAgentMDP, to_fraction
from theory.numbers import MAX_DIGITS, int_to_text, parse_text

INSTANCE_FORMAT = "pamdp/instance@1"
SOLUTION_FORMAT = "pamdp/solution@1"
#: Largest total unpacked size of an archive's members (a guard against zip bombs).
MAX_UNPACKED_BYTES = 8 << 30
_INSTANCE_NUMBERS = ("discount", "outcome_probs", "agent_reward", "principal_reward")
_INT64 = 2**63


# ----------------------------------------------------------------------------- writing
def _exact_members(name: str, values: Any) -> dict[str, np.ndarray]:
    """``name.num`` and ``name.den`` for an array of Fractions (int64, or decimal strings)."""
    fractions = [to_fraction(x) for x in np.asarray(values, dtype=object).ravel().tolist()]
    shape = np.shape(values)
    nums = [x.numerator for x in fractions]
    dens = [x.denominator for x in fractions]
    out: dict[str, np.ndarray] = {}
    for suffix, ints in ((".num", nums), (".den", dens)):
        if all(-_INT64 <= i < _INT64 for i in ints):
            out[name + suffix] = np.array(ints, dtype=np.int64).reshape(shape)
        else:
            out[name + suffix] = np.array([int_to_text(i) for i in ints], dtype=str).reshape(shape)
    return out


def _numbers(name: str, values: Any, exact: bool) -> dict[str, np.ndarray]:
    if exact:
        return _exact_members(name, values)
    return {name: np.asarray(values, dtype=np.float64)}


def _save(path: str | Path, members: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **members)  # type: ignore[arg-type]
    atomic_write_bytes(path, buffer.getvalue())


def save_instance_npz(model: PrincipalAgentMDP, path: str | Path) -> None:
    """Write a model as a ``.npz`` instance, atomically (exact pairs when it has exact data)."""
    exact = model.exact is not None
    source: Any = model.exact if model.exact is not None else model
    members: dict[str, np.ndarray] = {
        "format": np.array(INSTANCE_FORMAT),
        "name": np.array(model.name),
        "states": np.array(model.states, dtype=str),
        "actions": np.array(model.actions, dtype=str),
        "outcomes": np.array(model.outcomes, dtype=str),
        "initial_state": np.array(model.initial_state, dtype=np.int64),
        "observed_action": np.array(model.observed_action),
        "transition_offsets": np.asarray(model.transition_offsets, dtype=np.int64),
        "transition_next": np.asarray(model.transition_next, dtype=np.int64),
    }
    members.update(_numbers("discount", source.discount, exact))
    for field in _INSTANCE_NUMBERS[1:]:
        members.update(_numbers(field, getattr(source, field), exact))
    members.update(_numbers("transition_prob", source.transition_prob, exact))
    _save(path, members)


def save_solution_npz(
    path: str | Path,
    model: PrincipalAgentMDP,
    recommended: Any,
    contracts: Any,
    *,
    principal_values: Any = None,
    agent_values: Any = None,
    exact: bool = False,
) -> None:
    """Write a solution as a ``.npz`` archive, atomically (exact pairs with ``exact``)."""
    members: dict[str, np.ndarray] = {
        "format": np.array(SOLUTION_FORMAT),
        "instance": np.array(model.name),
        "states": np.array(model.states, dtype=str),
        "actions": np.array(model.actions, dtype=str),
        "recommended": np.asarray(recommended, dtype=np.int64),
    }
    members.update(_numbers("contract", contracts, exact))
    for name, values in (("principal_value", principal_values), ("agent_value", agent_values)):
        if values is not None:
            members.update(_numbers(name, values, exact))
    _save(path, members)


# ----------------------------------------------------------------------------- reading
class _Archive:
    """The members of an ``.npz`` file, read without pickles; ``fail(member, message)``
    builds the error to raise."""

    def __init__(self, path: str | Path, fail: Any) -> None:
        self.fail = fail
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
            if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
                raise fail("<document>", f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
            with np.load(path, allow_pickle=False) as archive_file:
                self.members = {key: archive_file[key] for key in archive_file.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
                raise
            if isinstance(error, InstanceError | _solution_error_type()):
                raise
            raise fail("<document>", f"not a readable .npz archive ({error})") from None
        self.used: set[str] = set()

    def check_format(self, expected: str) -> None:
        found = self.text("format")
        if found != expected:
            raise self.fail("format", f"expected {expected!r} (value: {found!r})")

    def get(self, key: str) -> np.ndarray:
        if key not in self.members:
            raise self.fail(key, "missing member")
        self.used.add(key)
        return self.members[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if value.dtype.kind != "U" or value.shape != ():
            raise self.fail(key, f"must be a string (dtype {value.dtype}, shape {value.shape})")
        return str(value)

    def names(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value.dtype.kind != "U" or value.ndim != 1:
            raise self.fail(key, f"must be a 1-d array of strings (dtype {value.dtype})")
        return tuple(value.tolist())

    def integers(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        value = self.get(key)
        if value.dtype.kind not in "iu" or value.shape != shape:
            raise self.fail(
                key, f"expected integers of shape {shape}, got {value.dtype} {value.shape}"
            )
        return value.astype(np.int64)

    def numbers(self, key: str, shape: tuple[int, ...]) -> tuple[np.ndarray, Any]:
        """The float array of a number member and its exact Fractions (None if float)."""
        if key in self.members:
            value = self.get(key)
            if value.dtype != np.float64 or value.shape != shape:
                raise self.fail(key, f"expected float64 of shape {shape}, got {value.dtype}")
            bad = np.flatnonzero(~np.isfinite(value.ravel()))
            if bad.size:
                raise self.fail(key, f"not a finite number at flat index {int(bad[0])}")
            return value, None
        nums, dens = self._ints(key + ".num", shape), self._ints(key + ".den", shape)
        exact = np.empty(len(nums), dtype=object)
        for i, (num, den) in enumerate(zip(nums, dens, strict=True)):
            if den <= 0:
                raise self.fail(key + ".den", f"denominators must be positive (value: {den})")
            exact[i] = Fraction(num, den)
        exact = exact.reshape(shape)
        try:
            floats = np.array([float(x) for x in exact.ravel()], dtype=np.float64).reshape(shape)
        except OverflowError:
            raise self.fail(key, "a number is too large for a 64-bit float") from None
        return floats, exact

    def _ints(self, key: str, shape: tuple[int, ...]) -> list[int]:
        value = self.get(key)
        if value.shape != shape:
            raise self.fail(key, f"expected shape {shape}, got {value.shape}")
        if value.dtype.kind in "iu":
            return [int(x) for x in value.ravel().tolist()]
        if value.dtype.kind != "U":
            raise self.fail(key, f"expected integers or decimal strings, got {value.dtype}")
        out = []
        for text in value.ravel().tolist():
            if len(text) > MAX_DIGITS + 1 or not text.lstrip("-").isdigit() or not text.isascii():
                raise self.fail(key, f"not a decimal integer (value: {text[:40]!r})")
            out.append(int(parse_text(text)))
        return out

    def finish(self, optional: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.members) - self.used - set(optional))
        if unknown:
            raise self.fail(unknown[0], "unknown member")


def _solution_error_type() -> type:
    from theory.format import SolutionError

    return SolutionError


def load_instance_npz(path: str | Path) -> PrincipalAgentMDP:
    """Read a ``.npz`` instance (module docstring), validated like a JSON one.

    Raises
    ------
    theory.model.InstanceError
        Not a pamdp archive, or a malformed instance (the member is named).
    OSError
        The file cannot be read.
    """
    archive = _Archive(path, lambda field, message: InstanceError(field, message))
    archive.check_format(INSTANCE_FORMAT)
    states, actions = archive.names("states"), archive.names("actions")
    outcomes = archive.names("outcomes")
    n_s, n_a, n_o = len(states), len(actions), len(outcomes)
    observed = archive.get("observed_action")
    if observed.dtype != np.bool_ or observed.shape != ():
        raise InstanceError("observed_action", "must be true or false")
    initial = int(archive.integers("initial_state", ())[()])
    offsets = archive.integers("transition_offsets", (n_s * n_o + 1,))
    n_entries = int(offsets[-1]) if offsets.size else 0
    if n_entries < 0 or (np.diff(offsets) < 0).any() or offsets[0] != 0:
        raise InstanceError("transition_offsets", "must start at 0 and not decrease")
    following = archive.integers("transition_next", (n_entries,))
    floats: dict[str, Any] = {}
    exact: dict[str, Any] = {}
    for field, shape in (
        ("discount", ()),
        ("outcome_probs", (n_s, n_a, n_o)),
        ("agent_reward", (n_s, n_a)),
        ("principal_reward", (n_s, n_o)),
        ("transition_prob", (n_entries,)),
    ):
        floats[field], exact[field] = archive.numbers(field, shape)
    name = archive.text("name")
    archive.finish()
    kinds = {value is None for value in exact.values()}
    if len(kinds) != 1:
        raise InstanceError("<document>", "number members must be all float64 or all exact")
    exact_data = None
    if kinds == {False}:
        exact_data = ExactData(
            discount=exact["discount"][()],
            outcome_probs=exact["outcome_probs"],
            agent_reward=exact["agent_reward"],
            principal_reward=exact["principal_reward"],
            transition_prob=exact["transition_prob"],
        )
    if not 0 <= initial < n_s:
        raise InstanceError("initial_state", "not a state index", value=initial)
    return PrincipalAgentMDP(
        states=states,
        actions=actions,
        outcomes=outcomes,
        initial_state=initial,
        discount=float(floats["discount"]),
        outcome_probs=floats["outcome_probs"],
        agent_reward=floats["agent_reward"],
        principal_reward=floats["principal_reward"],
        transition_offsets=offsets,
        transition_next=following,
        transition_prob=floats["transition_prob"],
        observed_action=bool(observed),
        name=name,
        exact=exact_data,
    )


def document_npz(path: str | Path) -> dict[str, Any]:
    """The FORMAT.md v1 JSON document of a ``.npz`` instance or solution."""
    from theory.format import SolutionError, instance_to_dict

    try:
        with np.load(path, allow_pickle=False) as archive_file:
            kind = str(archive_file["format"]) if "format" in archive_file.files else ""
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise SolutionError(f"<document>: not a readable .npz archive ({error})") from None
    if kind == INSTANCE_FORMAT:
        return instance_to_dict(load_instance_npz(path))
    return solution_document_npz(path)


def solution_document_npz(path: str | Path) -> dict[str, Any]:
    """A ``.npz`` solution as its FORMAT.md v1 JSON document (numbers as floats, or exact
    ``"p/q"`` strings), so that every JSON consumer reads it unchanged.

    Raises
    ------
    theory.format.SolutionError
        Not a pamdp solution archive, or a malformed one (the member is named).
    """
    from theory.format import SolutionError

    def fail(field: str, message: str) -> SolutionError:
        return SolutionError(f"{field}: {message}")

    archive = _Archive(path, fail)
    archive.check_format(SOLUTION_FORMAT)
    states, actions = archive.names("states"), archive.names("actions")
    recommended = archive.integers("recommended", (len(states),))
    bad = np.flatnonzero((recommended < 0) | (recommended >= len(actions)))
    if bad.size:
        raise fail(f"recommended[{int(bad[0])}]", f"not an action index ({recommended[bad[0]]})")
    contract = archive.get("contract") if "contract" in archive.members else None
    n_o = contract.shape[1] if contract is not None and contract.ndim == 2 else None
    if n_o is None:
        num = archive.get("contract.num")
        n_o = num.shape[1] if num.ndim == 2 else 0
    columns: dict[str, Any] = {}
    for key, shape in (
        ("contract", (len(states), n_o)),
        ("principal_value", (len(states),)),
        ("agent_value", (len(states),)),
    ):
        if key != "contract" and key not in archive.members and key + ".num" not in archive.members:
            continue
        values, exact = archive.numbers(key, shape)
        columns[key] = values.tolist() if exact is None else _exact_strings(exact)
    name = archive.text("instance")
    archive.finish()
    policy = []
    for s, state in enumerate(states):
        entry: dict[str, Any] = {
            "state": state,
            "recommended_action": actions[int(recommended[s])],
            "contract": columns["contract"][s],
        }
        for key in ("principal_value", "agent_value"):
            if key in columns:
                entry[key] = columns[key][s]
        policy.append(entry)
    return {"format": SOLUTION_FORMAT, "instance": name, "policy": policy}


def _exact_strings(values: np.ndarray) -> Any:
    def text(x: Fraction) -> str:
        num = int_to_text(x.numerator)
        return num if x.denominator == 1 else f"{num}/{int_to_text(x.denominator)}"

    return np.vectorize(text, otypes=[object])(values).tolist()
