"""Vectorised reading and writing of large float-valued JSON documents (issue 14).

The reference reader (:func:`theory.format.loads_json`) builds a Python ``Fraction`` for every
JSON number, which costs about 5 µs each: 17 s for a depth-18 paper tree. The functions here
read a whole array field at once from its JSON text (a ``msgspec.Raw`` slice of the document,
whose syntax msgspec has already checked) into a float64 numpy array, and tell whether that
float array is **lossless**: whether every token's decimal value is exactly the shortest
decimal of its float (``Fraction(token) == Fraction(repr(float(token)))``), which is the exact
view :meth:`theory.model.PrincipalAgentMDP.exact_data` gives a float model. When it is, the
float array *is* the exact instance and no rational needs to be built until exact arithmetic
asks for one. When it is not (a 20-digit decimal, ``1e-400``, an integer beyond 2^53), the
caller reads the document with the reference reader.

Every reader returns ``None`` for anything it does not recognise as a well-formed document of
the expected shape (a string, a boolean, a wrong shape, a non-finite value, an unusual field):
the caller then falls back to the reference reader, which names the field, the index and the
value. So the fast path changes speed, never a verdict or a message.

* :func:`fast_instance` (instances) and :func:`fast_solution` (solutions of a given instance);
  numbers are parsed :data:`CHUNK_BYTES` of text at a time (:func:`parse_numbers`), and the
  document's bytes are released as soon as its fields are read, so that a 1M-state instance
  loads in well under 1 GB.
* :func:`write_solution` and :func:`write_instance` stream the documents of
  :func:`theory.format.solution_to_dict` / :func:`~theory.format.instance_to_dict` to the
  atomic temporary file :data:`CHUNK_STATES` states at a time, every float formatted by one
  orjson call per block as its shortest round-trip decimal.
"""

from __future__ import annotations

import contextlib
import gc
import json
import operator
from collections.abc import Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import orjson

from theory.atomic import atomic_open, atomic_write_text
from theory.format import (
    SOLUTION_FORMAT,
    PolicyEntry,
    SolutionDocument,
    SolutionError,
    _check_number,
    _header_out,
    _instance_header,
    _read_number,
    check_document,
    dump_json,
    loads_json,
    solution_to_dict,
)
from theory.model import InstanceError, PrincipalAgentMDP

#: JSON white space (RFC 8259).
_WHITE_SPACE = b" \t\n\r"
#: The characters of JSON number tokens.
_NUMBER_CHARS = b"0123456789.eE+-"
#: For each byte value: is it a character of JSON number tokens?
_IS_NUMBER_CHAR = np.zeros(256, dtype=bool)
_IS_NUMBER_CHAR[list(_NUMBER_CHARS)] = True
#: Mismatching tokens checked one by one before giving up on the fast path.
MAX_SLOW_TOKENS = 200_000
#: Bytes of number text parsed per call (bounds the Python floats alive at once).
CHUNK_BYTES = 1 << 18
#: States formatted per piece by the streaming writers (bounds the text held at once).
CHUNK_STATES = 1 << 12

FloatArray = npt.NDArray[np.float64]
_FLOAT_LIST = msgspec.json.Decoder(list[float])


def _skeleton(shape: tuple[int, ...]) -> bytes:
    """The text of a nested array of ``shape`` with every number deleted (``[[,],[,]]``)."""
    inner = b"," * (shape[-1] - 1) if shape[-1] else b""
    level = b"[" + inner + b"]"
    for size in reversed(shape[:-1]):
        level = b"[" + (level + b",") * (size - 1) + level + b"]" if size else b"[]"
    return level


def _lossless_text(tokens: bytes, floats: FloatArray, budget: list[int]) -> bool:
    """True when each of the comma-separated ``tokens`` has exactly the decimal value of the
    shortest decimal of its float; token-by-token (``Decimal``) only where the texts differ,
    for at most ``budget[0]`` tokens in all (then ``False``: the reference reader decides)."""
    plain = orjson.dumps(floats, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]  # 1.0, not 1
    if plain == tokens:
        return True
    shortest_text = (plain + b",").replace(b".0,", b",")[:-1]
    if shortest_text == tokens:
        return True
    given, shortest, forms = tokens.split(b","), shortest_text.split(b","), plain.split(b",")
    differ = np.flatnonzero(
        np.fromiter(map(operator.ne, given, shortest), dtype=bool, count=len(given))
        & np.fromiter(map(operator.ne, given, forms), dtype=bool, count=len(given))
    )
    budget[0] -= differ.size
    if budget[0] < 0:
        return False
    return all(Decimal(given[i].decode()) == Decimal(shortest[i].decode()) for i in differ)


def parse_numbers(
    joined: bytes, count: int, budget: list[int] | None = None
) -> tuple[FloatArray, bool] | None:
    """The ``count`` comma-separated JSON number tokens of ``joined`` as float64 (``-0`` as
    ``0``, as exact reading gives) and whether they are lossless (module docstring); ``None``
    when a token is not a finite JSON number or the count differs.

    The text is parsed :data:`CHUNK_BYTES` at a time (msgspec), so the Python floats alive at
    once stay few whatever the size of the array."""
    budget = [MAX_SLOW_TOKENS] if budget is None else budget
    out = np.empty(count, dtype=np.float64)
    lossless, filled, start, size = True, 0, 0, len(joined)
    while start < size:
        end = joined.find(b",", start + CHUNK_BYTES)
        end = size if end < 0 else end
        piece = joined[start:end]
        try:
            values = _FLOAT_LIST.decode(b"[" + piece + b"]")
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if filled + len(values) > count:
            return None
        block = out[filled : filled + len(values)]
        block[:] = values
        filled += len(values)
        del values
        block += 0.0  # -0 reads as the exact 0
        if not np.isfinite(block).all():
            return None
        lossless = lossless and _lossless_text(piece, block, budget)
        start = end + 1
    if filled != count:
        return None
    return out, lossless


def _shortest_text(values: Any) -> bytes:
    """The comma-separated JSON number tokens of a float array (any shape, flattened), each
    the shortest decimal that reads back as the float; integral floats below 10^16 without
    the ``.0`` (``0.9``, ``1``, ``-0``, ``2.5e-05`` as ``0.000025``)."""
    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if not flat.size:
        return b""
    text = orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY)
    return (text[1:-1] + b",").replace(b".0,", b",")[:-1]


def float_tokens(values: Any) -> list[bytes]:
    """The tokens of :func:`_shortest_text`, one per float."""
    text = _shortest_text(values)
    return text.split(b",") if text else []


def read_array(
    raw: Any, shape: tuple[int, ...], budget: list[int] | None = None
) -> tuple[FloatArray, bool] | None:
    """A JSON array of numbers of exactly ``shape`` (its text, already valid JSON: bytes or a
    ``msgspec.Raw``) as floats, and whether it is lossless; ``None`` for any other value
    (module docstring)."""
    compact = bytes(raw).translate(None, _WHITE_SPACE)
    if compact.translate(None, _NUMBER_CHARS) != _skeleton(shape):
        return None
    # the skeleton fixes where numbers stand (a value between "[" or "," and "," or "]"),
    # and no axis is empty: the numbers, comma-separated, are the text without brackets
    joined = compact.translate(None, b"[]")
    del compact
    parsed = parse_numbers(joined, int(np.prod(shape)), budget)
    if parsed is None:
        return None
    return parsed[0].reshape(shape), parsed[1]


def _number_text(compact: bytes) -> tuple[bytes, int]:
    """The number tokens of a compact JSON text of arrays of numbers, comma-separated (each
    run of brackets and commas between two numbers becomes one comma), and their count."""
    codes = np.frombuffer(compact, dtype=np.uint8)
    is_number = _IS_NUMBER_CHAR[codes]
    starts = is_number.copy()
    starts[1:] &= ~is_number[:-1]
    count = int(np.count_nonzero(starts))
    if not count:
        return b"", 0
    keep = is_number
    keep[:-1] |= starts[1:]  # the separator just before each token …
    first = int(np.argmax(starts))
    if first:
        keep[first - 1] = False  # … except the first token's
    del starts
    text = np.where(_IS_NUMBER_CHAR[codes], codes, np.uint8(ord(",")))[keep].tobytes()
    return text, count


def _number_text_blocks(compact: bytes) -> tuple[bytes, int]:
    """:func:`_number_text` of ``compact`` (no strings, no white space), a block of about
    :data:`CHUNK_BYTES` at a time (each block ends at a comma, which no token spans)."""
    texts, total, lo, size = [], 0, 0, len(compact)
    while lo < size:
        hi = compact.find(b",", lo + CHUNK_BYTES)
        hi = size if hi < 0 else hi
        text, count = _number_text(compact[lo:hi])
        if count:
            texts.append(text)
            total += count
        lo = hi
    return b",".join(texts), total


def read_transitions(
    raw: Any, n_states: int, n_outcomes: int, budget: list[int] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray, bool] | None:
    """``transitions`` (``[state][outcome]`` lists of ``[next_state, probability]``) as CSR
    offsets, next-state indices (integral, in range) and probabilities, with losslessness;
    ``None`` for anything else (the reference reader then names the problem)."""
    compact = bytes(raw).translate(None, _WHITE_SPACE)
    skeleton = compact.translate(None, _NUMBER_CHARS).replace(b"[,]", b"P")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    opens, closes, pairs = codes == ord("["), codes == ord("]"), codes == ord("P")
    if not (opens | closes | pairs | (codes == ord(","))).all():
        return None
    depth = np.cumsum(opens.astype(np.int8) - closes.astype(np.int8), dtype=np.int32)
    # depth after each character: a state row opens at 2, an outcome list at 3; pairs sit at 3
    if codes.size < 2 or depth.max() > 3 or (pairs & (depth != 3)).any():
        return None
    state_opens, list_opens = opens & (depth == 2), opens & (depth == 3)
    del depth, opens, closes
    if int(state_opens.sum()) != n_states or int(list_opens.sum()) != n_states * n_outcomes:
        return None
    state_of_list = np.cumsum(state_opens, dtype=np.int32)[list_opens] - 1
    if (np.bincount(state_of_list, minlength=n_states) != n_outcomes).any():
        return None
    del state_of_list, state_opens
    list_of_pair = np.cumsum(list_opens, dtype=np.int32)[pairs] - 1
    lengths = np.bincount(list_of_pair, minlength=n_states * n_outcomes)
    n_pairs = int(pairs.sum())
    del list_of_pair, list_opens, pairs, codes, skeleton
    text, count = _number_text_blocks(compact)
    del compact
    if count != 2 * n_pairs:  # a stray number outside a pair
        return None
    parsed = parse_numbers(text, count, budget)
    if parsed is None:
        return None
    floats, lossless = parsed
    targets, probs = floats[0::2], floats[1::2]
    if ((targets != np.floor(targets)) | (targets < 0) | (targets >= n_states)).any():
        return None
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return offsets, targets.astype(np.int64), np.ascontiguousarray(probs), lossless


def _blocks(n_states: int) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` state ranges of at most :data:`CHUNK_STATES` states covering all."""
    for lo in range(0, n_states, CHUNK_STATES):
        yield lo, min(lo + CHUNK_STATES, n_states)


def _table(columns: Sequence[Any], rows: int) -> bytes:
    """The row-major concatenation of a table of byte strings: each column one constant
    ``bytes`` or ``rows`` of them (one value per row)."""
    table = np.empty((rows, len(columns)), dtype=object)
    for index, column in enumerate(columns):
        table[:, index] = column
    return b"".join(table.ravel().tolist())


def policy_pieces(
    states: Sequence[str],
    actions: Sequence[str],
    recommended: npt.NDArray[np.int64],
    contracts: FloatArray,
    values: dict[str, FloatArray],
) -> Iterator[bytes]:
    """The entries of a solution's ``policy`` (without the enclosing brackets), one per state,
    ``{"state":…,"recommended_action":…,"contract":[…],"principal_value":…,…}`` with numbers
    as their shortest round-trip decimals, as consecutive pieces of at most
    :data:`CHUNK_STATES` entries (their concatenation is the text).

    Raises
    ------
    ValueError
        A number is not finite (JSON has no ``NaN`` or infinity); raised before any piece.
    """
    for key, array in (("contract", contracts), *values.items()):
        if not np.isfinite(array).all():
            raise ValueError(f"{key}: not a finite number; JSON has no NaN or infinity")
    action_tokens = np.array(_string_tokens(actions), dtype=object)
    n_states = len(states)
    for lo, hi in _blocks(n_states):
        block = np.ascontiguousarray(contracts[lo:hi])
        text = orjson.dumps(block, option=orjson.OPT_SERIALIZE_NUMPY)
        columns: list[Any] = [
            b'{"state":"',
            _string_tokens(states[lo:hi]),
            b'","recommended_action":"',
            action_tokens[recommended[lo:hi]],
            b'","contract":[',
            text[2:-2].split(b"],["),
        ]
        closing = b"]"
        for key, array in values.items():
            numbers = orjson.dumps(array[lo:hi], option=orjson.OPT_SERIALIZE_NUMPY)
            columns += [closing + b',"' + key.encode() + b'":', numbers[1:-1].split(b",")]
            closing = b""
        ends = np.full(hi - lo, closing + b"},", dtype=object)
        if hi == n_states:
            ends[-1] = closing + b"}"
        yield _table([*columns, ends], hi - lo)


_ARRAY_FIELDS = ("outcome_probs", "agent_reward", "principal_reward", "transitions")


def fast_instance(source: bytes | str | Path) -> PrincipalAgentMDP | None:
    """Read an instance (its bytes, or the file at a path) whose number arrays are floats,
    straight into numpy, or return ``None`` when only the reference reader
    (:func:`theory.format.loads_json` and :func:`~theory.format.instance_from_dict`) can: any
    problem with the document, a string-valued number in an array, or a JSON number whose
    value is not the shortest decimal of its float (the model's exact view would then differ
    from the text).

    The result is a float model (``exact=None``) whose exact view (``exact_data()``) is
    exactly the instance's numbers; it equals the reference reader's model number for number.
    Errors of the shared header checks (``theory.format._instance_header``) are raised as the
    reference raises them; every later problem returns ``None`` so that the reference names it.

    Memory: given a path, the document's bytes are released once its fields are read, before
    the model is built; each array field is parsed on its own (:func:`parse_numbers`).
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    check_document(raw)  # encoding checks: the reference raises the same error
    try:
        top = msgspec.json.decode(raw, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    # a duplicate key (the decoder keeps the last) shows as a colon not accounted for
    colons = len(top) + sum(key.encode().count(b":") for key in top)
    colons += sum(bytes(value).count(b":") for value in top.values())
    if raw.count(b":") != colons:
        return None
    del raw  # the fields' Raw views keep the bytes only until each field is read
    data: dict[str, Any] = {}
    for key, value in top.items():
        if key in _ARRAY_FIELDS:
            data[key] = value
        elif key in ("states", "actions", "outcomes"):
            try:
                data[key] = msgspec.json.decode(value, type=list[str])
            except (msgspec.DecodeError, msgspec.ValidationError):
                return None
        else:  # small fields, extensions: the reference reader (depth as in the document)
            try:
                data[key] = loads_json(b'{"v":' + bytes(value) + b"}")["v"]
            except json.JSONDecodeError:
                return None
    del top
    name, observed, states, actions, outcomes, initial = _instance_header(data)
    n_s, n_a, n_o = len(states), len(actions), len(outcomes)
    try:
        discount = _check_number("discount", data["discount"])
    except InstanceError:
        return None
    float_discount = float(discount)
    lossless = Fraction(repr(float_discount)) == discount
    budget = [MAX_SLOW_TOKENS]
    arrays: dict[str, Any] = {}
    for field_name, shape in (
        ("outcome_probs", (n_s, n_a, n_o)),
        ("agent_reward", (n_s, n_a)),
        ("principal_reward", (n_s, n_o)),
    ):
        if field_name not in data:  # outcome_probs of an observed-action instance
            arrays[field_name] = np.broadcast_to(np.eye(n_a), shape)
            continue
        read = read_array(data.pop(field_name), shape, budget)
        if read is None or not (lossless and read[1]):
            return None
        arrays[field_name] = read[0]
    csr = read_transitions(data.pop("transitions"), n_s, n_o, budget)
    del data
    if csr is None or not csr[3]:
        return None
    try:
        return PrincipalAgentMDP(
            states=tuple(states),
            actions=tuple(actions),
            outcomes=tuple(outcomes),
            initial_state=states.index(initial),
            discount=float_discount,
            transition_offsets=csr[0],
            transition_next=csr[1],
            transition_prob=csr[2],
            observed_action=observed,
            name=name,
            **arrays,
        )
    except InstanceError:
        return None


def write_solution(
    path: str | Path,
    model: PrincipalAgentMDP,
    recommended: Sequence[int] | np.ndarray,
    contracts: Any,
    *,
    principal_values: Any = None,
    agent_values: Any = None,
    exact: bool = False,
    extra: dict[str, Any] | None = None,
    indent: int | None = None,
) -> None:
    """Write the document of :func:`theory.format.solution_to_dict` to ``path`` atomically
    (``.npz``: the binary companion, :mod:`theory.binary`; ``-``: standard output).

    A float solution without ``indent`` is formatted vectorised and streamed to the file
    :data:`CHUNK_STATES` entries at a time (:func:`policy_pieces`: each float as its shortest
    round-trip decimal, the numbers ``solution_to_dict`` gives); exact solutions and indented
    ones go through ``solution_to_dict`` and :func:`theory.format.dump_json`.

    Raises
    ------
    ValueError
        A value is not finite (JSON has no ``NaN``); nothing is written then.
    theory.atomic.OutputPathError, OSError
        As :func:`theory.format.dump_json`.
    """
    if str(path).endswith(".npz"):
        from theory.binary import save_solution_npz

        save_solution_npz(
            path,
            model,
            recommended,
            contracts,
            principal_values=principal_values,
            agent_values=agent_values,
            exact=exact,
        )
        return
    if exact or indent is not None:
        document = solution_to_dict(
            model,
            recommended,
            contracts,
            principal_values=principal_values,
            agent_values=agent_values,
            exact=exact,
            extra=extra,
        )
        text = dump_json(document, None, indent=indent) + "\n"
        atomic_write_text(path, text)
        return
    values = {
        key: np.asarray(array, dtype=np.float64)
        for key, array in (("principal_value", principal_values), ("agent_value", agent_values))
        if array is not None
    }
    pieces = policy_pieces(
        model.states,
        model.actions,
        np.asarray(recommended, dtype=np.int64),
        np.asarray(contracts, dtype=np.float64).reshape(model.n_states, model.n_outcomes),
        values,
    )
    first = next(pieces, b"")  # the finiteness checks run before the file is opened
    head = dumps({"format": SOLUTION_FORMAT, "instance": model.name})[:-1]
    rest = {key: float(array[model.initial_state]) for key, array in values.items()}
    rest.update(extra or {})
    tail = b"," + dumps(rest)[1:] if rest else b"}"
    with atomic_open(path, "wb") as stream:
        stream.write(head + b',"policy":[' + first)
        for piece in pieces:
            stream.write(piece)
        stream.write(b"]" + tail + b"\n")


# ------------------------------------------------------------------------ solution reader
class _Entry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One policy entry as the fast solution reader accepts it (anything else: ``None``).
    Not tracked by the garbage collector (it holds no cycles): a million tracked entries
    would cost seconds of collections while decoding."""

    state: str
    recommended_action: str
    contract: tuple[float, ...]
    principal_value: float | msgspec.UnsetType = msgspec.UNSET
    agent_value: float | msgspec.UnsetType = msgspec.UNSET


_ENTRIES = msgspec.json.Decoder(list[_Entry])
_SOLUTION_KEYS = ("format", "instance", "policy", "principal_value", "agent_value", "solver")


def _without_strings(text: Any) -> bytes | None:
    """``text`` (JSON, any buffer) with every string, quotes included, deleted,
    :data:`CHUNK_BYTES` at a time; ``None`` if it has a backslash (an escape: the reference
    reader handles it)."""
    codes = np.frombuffer(text, dtype=np.uint8)
    parity, pieces = 0, []
    for lo in range(0, codes.size, CHUNK_BYTES):
        block = codes[lo : lo + CHUNK_BYTES]
        if (block == ord("\\")).any():
            return None
        quotes = block == ord('"')
        inside = ((np.cumsum(quotes, dtype=np.int32) + parity) & 1).astype(bool)
        parity = int(inside[-1])
        pieces.append(block[~(inside | quotes)].tobytes())
    return b"".join(pieces)


def fast_solution(source: bytes | str | Path, model: PrincipalAgentMDP) -> SolutionDocument | None:
    """Read a float solution of ``model`` (its bytes, or the file at a path) straight into a
    :class:`~theory.format.SolutionDocument`, or return ``None`` when only the reference
    reader (:func:`theory.format.read_json` and :func:`~theory.format.solution_from_dict`)
    should: anything malformed or unusual (a string-valued or negative number, an
    ``x-``/``implementable`` field, a name that is not the instance's, an escape in a
    string), or a number whose value is not the shortest decimal of its float.

    The policy's numbers are floats whose shortest decimals are exactly the document's
    numbers, so every exact reader (``to_fraction``, ``contracts_exact``) sees the values the
    reference reader gives; top-level values and ``solver`` are read by the reference reader.
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    check_document(raw)
    try:
        top = msgspec.json.decode(raw, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if not set(top) <= set(_SOLUTION_KEYS) or "policy" not in top:
        return None
    # the colons of the policy: all but those of the top level's keys and small values (a
    # duplicate top-level key leaves more, which the policy's own count then refuses)
    colons = raw.count(b":") - len(top)
    del raw  # the policy's Raw view keeps the bytes: the policy is never copied
    small = {}
    for key, value in top.items():
        if key != "policy":
            text = bytes(value)
            colons -= text.count(b":")
            try:
                small[key] = loads_json(b'{"v":' + text + b"}")["v"]
            except json.JSONDecodeError:
                return None
    if small.get("format") != SOLUTION_FORMAT or small.get("instance") != model.name:
        return None
    if "solver" in small and not isinstance(small["solver"], dict):
        return None
    holder = [top.pop("policy")]
    del top, value  # (the loop's last item may be the policy)
    with _no_collections():
        return _solution_document(holder, colons, small, model)


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collections in the block: a million entries and tuples without cycles
    would only cost seconds of collections."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _solution_document(
    holder: list[msgspec.Raw], colons_found: int, small: dict[str, Any], model: PrincipalAgentMDP
) -> SolutionDocument | None:
    """The second half of :func:`fast_solution`: the policy's JSON text (``holder``'s one
    item, taken out so that the document's bytes go as soon as they are read), the number of
    colons in it, and the small fields."""
    policy_text = holder.pop()
    try:
        entries = _ENTRIES.decode(policy_text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    n_s, n_o = model.n_states, model.n_outcomes
    if len(entries) != n_s or [entry.state for entry in entries] != list(model.states):
        return None
    action_index = {name: a for a, name in enumerate(model.actions)}
    recommended = [action_index.get(entry.recommended_action, -1) for entry in entries]
    try:
        contracts = np.array([entry.contract for entry in entries], dtype=np.float64) + 0.0
    except ValueError:  # rows of different lengths
        return None
    if contracts.shape != (n_s, n_o) or min(recommended) < 0 or (contracts < 0).any():
        return None
    unset = msgspec.UNSET
    columns = [
        [None if value is unset else value + 0.0 for value in values]
        for values in (
            [entry.principal_value for entry in entries],
            [entry.agent_value for entry in entries],
        )
    ]
    given = sum(value is not None for column in columns for value in column)
    del entries
    numbers = n_s * n_o + given
    # a duplicate key (the decoder keeps the last) shows as a colon not accounted for
    colons = 3 * n_s + given + sum(name.count(":") for name in model.states)
    colons += sum(
        model.actions[a].count(":") * int(n) for a, n in enumerate(np.bincount(recommended))
    )
    if colons_found != colons:
        return None
    bare = _without_strings(policy_text)
    del policy_text
    if bare is None:
        return None
    text, count = _number_text_blocks(bare)
    del bare
    parsed = parse_numbers(text, count) if count == numbers else None
    if parsed is None or not parsed[1]:
        return None
    policy = tuple(
        map(PolicyEntry, range(n_s), recommended, map(tuple, contracts.tolist()), *columns)
    )
    extra = {key: small[key] for key in ("solver",) if key in small}
    try:
        values = {
            key: _read_number(small[key], key)
            for key in ("principal_value", "agent_value")
            if key in small
        }
    except SolutionError:
        return None
    return SolutionDocument(model.name, policy, extra=extra or None, **values)


# ------------------------------------------------------------------------ instance writer
def _nested_pieces(array: FloatArray) -> Iterator[bytes]:
    """The JSON text of a float array of two or more axes, :data:`CHUNK_STATES` rows of its
    first axis at a time, numbers as ``instance_to_dict`` writes them (shortest decimals,
    integral floats below 10^16 without ``.0``, ``-0`` as ``0``)."""
    yield b"["
    for lo, hi in _blocks(array.shape[0]):
        block = np.ascontiguousarray(array[lo:hi], dtype=np.float64) + 0.0
        text = orjson.dumps(block, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
        yield (b"," if lo else b"") + text.replace(b".0,", b",").replace(b".0]", b"]")
    yield b"]"


def _transition_pieces(model: PrincipalAgentMDP) -> Iterator[bytes]:
    """The JSON text of ``transitions`` (``[state][outcome]`` lists of ``[next, p]``) from the
    CSR arrays, :data:`CHUNK_STATES` states at a time: every row's opening, each entry's five
    parts and every row's closing are slots of one table, placed by the offsets."""
    n_o, offsets = model.n_outcomes, model.transition_offsets
    yield b"["
    for lo, hi in _blocks(model.n_states):
        row_offsets = offsets[lo * n_o : hi * n_o + 1]
        first, last = int(row_offsets[0]), int(row_offsets[-1])
        local = row_offsets - first
        n_rows, n_entries = len(local) - 1, last - first
        slots = np.empty(2 * n_rows + 5 * n_entries, dtype=object)
        rows = np.arange(n_rows)
        opens = np.full(n_rows, b",[", dtype=object)
        opens[::n_o] = b",[[" if lo else [b"[["] + [b",[["] * (len(opens[::n_o]) - 1)
        closes = np.full(n_rows, b"]", dtype=object)
        closes[n_o - 1 :: n_o] = b"]]"
        slots[5 * local[:-1] + 2 * rows] = opens
        slots[5 * local[1:] + 2 * rows + 1] = closes
        if n_entries:
            row_of = np.repeat(rows, np.diff(local))
            base = 5 * np.arange(n_entries) + 2 * row_of + 1
            leads = np.full(n_entries, b",[", dtype=object)
            leads[local[:-1][np.diff(local) > 0]] = b"["
            targets = orjson.dumps(
                np.ascontiguousarray(model.transition_next[first:last], dtype=np.int64),
                option=orjson.OPT_SERIALIZE_NUMPY,
            )
            slots[base] = leads
            slots[base + 1] = targets[1:-1].split(b",")
            slots[base + 2] = b","
            slots[base + 3] = float_tokens(model.transition_prob[first:last] + 0.0)
            slots[base + 4] = b"]"
        yield b"".join(slots.tolist())
    yield b"]"


def write_instance(path: str | Path, model: PrincipalAgentMDP) -> None:
    """Write a float model (``model.exact is None``) as the document of
    :func:`theory.format.instance_to_dict`, compact, vectorised and streamed to ``path``
    atomically (``-``: standard output). The numbers are the shortest decimals of the floats,
    so the file reads back (fast path or reference) as the same model.

    Raises
    ------
    ValueError
        The model holds exact numbers (use :func:`theory.format.save_instance`).
    theory.atomic.OutputPathError, OSError
        As :func:`theory.format.dump_json`.
    """
    if model.exact is not None:
        raise ValueError("write_instance writes float models; exact ones via save_instance")
    header = _header_out(model)  # a float model (checked above): the float discount
    fields: list[tuple[bytes, Iterator[bytes]]] = [
        (b',"outcome_probs":', _nested_pieces(model.outcome_probs)),
        (b',"agent_reward":', _nested_pieces(model.agent_reward)),
        (b',"principal_reward":', _nested_pieces(model.principal_reward)),
        (b',"transitions":', _transition_pieces(model)),
    ]
    with atomic_open(path, "wb") as stream:
        stream.write(dumps(header)[:-1])
        for key, pieces in fields:
            stream.write(key)
            for piece in pieces:
                stream.write(piece)
        stream.write(b"}\n")


def _string_tokens(strings: Sequence[str]) -> list[bytes]:
    """The JSON text of each string, without its quotes. (Inside a JSON string every ``"``
    is escaped, so ``","`` occurs only between two strings of the array.)"""
    return orjson.dumps(list(strings))[2:-2].split(b'","')


def dumps(document: Any) -> bytes:
    """Compact JSON bytes of a document of dicts, lists, strings, ints, floats and numpy
    arrays (orjson; ``NaN``/``Infinity`` refused as in :func:`theory.format.dump_json`)."""
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY, default=_default)


def _default(value: Any) -> Any:
    from theory.numbers import int_to_text

    if isinstance(value, Fraction):
        numerator = int_to_text(value.numerator)
        if value.denominator == 1:
            return numerator
        return f"{numerator}/{int_to_text(value.denominator)}"
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
