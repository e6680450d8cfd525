"""The hostile-input catalogue of issue 11 (Build 7), at loader level.

Every case is a document (bytes, built in memory) and what must happen: the loader
(:func:`theory.format.load_instance` / :func:`theory.format.load_solution`) rejects it with its
documented error type (``InstanceError`` / ``SolutionError``, never a ``RecursionError``,
``UnicodeDecodeError`` or ``MemoryError``), with a message naming the field, within a few
seconds; or accepts it. A second test feeds every case to the published JSON Schema too (read
as RFC 8259 JSON: UTF-8, no ``NaN``) and asserts that both accept or both reject, except for
the checks JSON Schema cannot express, each listed with its reason (``schema_blind``).

CLI tests can reuse the catalogue: ``from test_hostile_input import INSTANCE_CASES``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from theory.format import (
    instance_from_dict,
    load_instance,
    load_solution,
    solution_to_dict,
    validate_against_schema,
)
from theory.model import InstanceError

VALID_INSTANCE: dict[str, Any] = {
    "format": "pamdp/instance@1",
    "name": "three-state example",
    "states": ["s0", "sL", "sR"],
    "initial_state": "s0",
    "actions": ["aL", "aR"],
    "outcomes": ["L", "R"],
    "discount": 1,
    "outcome_probs": [[["9/10", "1/10"], ["1/10", "9/10"]]] * 3,
    "agent_reward": [["-4/5", 0]] * 3,
    "principal_reward": [["14/9", 0]] * 3,
    "transitions": [[[[1, 1]], [[2, 1]]], [[], []], [[], []]],
}
#: Seconds a rejection may take (the failures of issue 11 hung for ever).
FEW_SECONDS = 5.0


@dataclass(frozen=True)
class Case:
    """One hostile document.

    ``field``: a fragment the error message must contain (``None``: the loader accepts).
    ``schema_blind``: why JSON Schema cannot see this problem (``None``: schema and loader
    agree).
    """

    name: str
    build: Callable[[], bytes]
    field: str | None
    schema_blind: str | None = None


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


def _edit(**changes: Any) -> Callable[[], bytes]:
    def build() -> bytes:
        document = json.loads(json.dumps(VALID_INSTANCE))
        for key, value in changes.items():
            key = key.replace("__", "-")
            if value is _DROP:
                del document[key]
            else:
                document[key] = value
        return _json(document)

    return build


_DROP = object()


def _raw_number(field: str, token: str, where: Callable[[Any], None] | None = None) -> bytes:
    """The valid instance with one number written as the raw JSON ``token``."""
    document = json.loads(json.dumps(VALID_INSTANCE))
    marker = "@@NUMBER@@"
    if where is None:
        document[field] = marker
    else:
        where(document)
    return _json(document).replace(f'"{marker}"'.encode(), token.encode())


def _at(field: str, *index: int) -> Callable[[Any], None]:
    def put(document: Any) -> None:
        target = document[field]
        for i in index[:-1]:
            target = target[i]
        target[index[-1]] = "@@NUMBER@@"

    return put


_NUMBER_PLACES: list[tuple[str, str, Callable[[Any], None] | None]] = [
    ("discount", "discount", None),
    ("outcome_probs", "outcome_probs[1][0][1]", _at("outcome_probs", 1, 0, 1)),
    ("agent_reward", "agent_reward[2][1]", _at("agent_reward", 2, 1)),
    ("principal_reward", "principal_reward[0][0]", _at("principal_reward", 0, 0)),
    ("transitions", "transitions[0][1][0][1]", _at("transitions", 0, 1, 0, 1)),
]


def _number_cases() -> list[Case]:
    cases = []
    for field, shown, where in _NUMBER_PLACES:
        for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e1000000000"):
            cases.append(
                Case(
                    f"{token}-{field}",
                    lambda f=field, t=token, w=where: _raw_number(f, t, w),
                    shown,
                )
            )
        for text in ("1e1000000000", " 1_000 ", "1" * 10_001, "1/0", "١"):
            token = json.dumps(text)
            cases.append(
                Case(
                    f"string-{text[:12]}-{field}",
                    lambda f=field, t=token, w=where: _raw_number(f, t, w),
                    shown,
                )
            )
    cases.append(
        Case(
            "tiny-json-exponent",
            lambda: _raw_number("discount", "1e-1000000000"),
            "discount",
            "JSON Schema constrains a JSON number's value (here 0.0 as a float), not its text",
        )
    )
    cases.append(
        Case("10001-digit-json-integer", lambda: _raw_number("discount", "1" * 10_001), "discount")
    )
    return cases


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_field(depth: int) -> bytes:
    return _raw_number("agent_reward", "[" * depth + "]" * depth)


INSTANCE_CASES: list[Case] = [
    Case("valid", _edit(), None),
    Case("valid-extensions", _edit(x__note={"any": [1, "thing"]}, extensions={"tool": 1}), None),
    Case("valid-x-field-with-huge-number-text", lambda: _raw_number("x-n", "1e99999"), None),
    Case("valid-white-space-number", _edit(discount=" 1 "), None),
    Case(
        "valid-integral-float-index",
        lambda: _json(VALID_INSTANCE).replace(b"[[1, 1]]", b"[[1.0, 1]]"),
        None,
    ),
    Case("binary", lambda: bytes(range(256)) * 4, "<document>"),
    Case("utf8-bom", lambda: b"\xef\xbb\xbf" + _json(VALID_INSTANCE), "<document>"),
    Case("utf16", lambda: json.dumps(VALID_INSTANCE).encode("utf-16"), "<document>"),
    Case("utf16-no-bom", lambda: json.dumps(VALID_INSTANCE).encode("utf-16-le"), "<document>"),
    Case(
        "latin1",
        lambda: _json({**VALID_INSTANCE, "name": "é"}).replace(b"\\u00e9", b"\xe9"),
        "<document>",
    ),
    Case("empty", lambda: b"", "<document>"),
    Case("white-space-only", lambda: b" \n\t ", "<document>"),
    Case("truncated", lambda: _json(VALID_INSTANCE)[:-10], "<document>"),
    Case("top-level-array", lambda: b"[1, 2, 3]", "<document>"),
    Case("top-level-string", lambda: b'"pamdp/instance@1"', "<document>"),
    Case("deep-200000", lambda: _deep(200_000), "<document>"),
    Case("deep-200000-in-field", lambda: _deep_field(200_000), "<document>"),
    Case(
        "deep-150-in-extension",
        lambda: _raw_number("x-deep", "[" * 150 + "]" * 150),
        "<document>",
        "JSON Schema has no limit on nesting depth (Python's parser itself fails near 1000)",
    ),
    Case("typo-observed_actoin", _edit(observed_actoin=True), "observed_action"),
    Case("unknown-field", _edit(comment="hi"), "comment: unknown field"),
    Case("unknown-field-100MB", _edit(payload="A" * 100_000_000), "payload: unknown field"),
    Case("extensions-not-object", _edit(extensions=[1]), "extensions"),
    Case("wrong-format", _edit(format="pamdp/instance@2"), "format"),
    Case("missing-discount", _edit(discount=_DROP), "discount: missing"),
    Case("missing-outcome_probs", _edit(outcome_probs=_DROP), "outcome_probs: missing"),
    Case("discount-true", _edit(discount=True), "discount"),
    Case("discount-null", _edit(discount=None), "discount"),
    Case("discount-list", _edit(discount=[1]), "discount"),
    Case("name-number", _edit(name=5), "name"),
    Case("observed_action-string", _edit(observed_action="yes"), "observed_action"),
    Case("initial_state-number", _edit(initial_state=0), "initial_state"),
    Case("zero-states", _edit(states=[]), "states"),
    Case("zero-actions", _edit(actions=[]), "actions"),
    Case("zero-outcomes", _edit(outcomes=[], outcome_probs=[[[], []]] * 3), "outcomes"),
    Case("duplicate-state-names", _edit(states=["s0", "sL", "sL"]), "states[2]"),
    Case("duplicate-actions", _edit(actions=["aL", "aL"]), "actions[1]"),
    Case("state-name-number", _edit(states=["s0", "sL", 3]), "states[2]"),
    Case(
        "negative-index",
        _edit(transitions=[[[[-1, 1]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0][0]",
    ),
    Case(
        "boolean-index",
        _edit(transitions=[[[[True, 1]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0][0]",
    ),
    Case(
        "fractional-index",
        _edit(transitions=[[[["1", 1]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0][0]",
    ),
    Case(
        "entry-of-three",
        _edit(transitions=[[[[1, 1, 0]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0]",
    ),
    Case(
        "duplicate-json-key",
        lambda: _json(VALID_INSTANCE).replace(b'"discount": 1', b'"discount": 1, "discount": 0'),
        "discount: duplicate key",
        "JSON Schema sees the parsed object, in which one of the duplicates has already won",
    ),
    Case(
        "out-of-range-index",
        _edit(transitions=[[[[3, 1]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0][0]: dangling",
        "indices are checked against the number of states, which a schema cannot relate",
    ),
    Case(
        "huge-index",
        _edit(transitions=[[[[10**30, 1]], [[2, 1]]], [[], []], [[], []]]),
        "transitions[0][0][0][0]: dangling",
        "indices are checked against the number of states, which a schema cannot relate",
    ),
    Case(
        "wrong-shape",
        _edit(agent_reward=[["-4/5"]] * 3),
        "agent_reward[0]: wrong shape",
        "array lengths depend on the lists of names",
    ),
    Case(
        "row-not-summing-to-1",
        _edit(outcome_probs=[[["9/10", "2/10"], ["1/10", "9/10"]]] * 3),
        "outcome_probs[0][0]: row does not sum to 1",
        "sums are semantics, checked by the loader",
    ),
    Case(
        "discount-2",
        _edit(discount=2),
        "discount: must be in [0, 1]",
        "the range of a number written as a string cannot be expressed",
    ),
    Case(
        "string-1e400",
        _edit(discount="1e400"),
        "discount: a number is too large",
        "the float range of a number written as a string cannot be expressed",
    ),
    *_number_cases(),
]


def _model():
    return instance_from_dict(json.loads(json.dumps(VALID_INSTANCE)))


def _valid_solution() -> dict[str, Any]:
    return solution_to_dict(_model(), [0, 0, 0], [["1", "0"]] * 3, exact=True)


def _solution(**changes: Any) -> Callable[[], bytes]:
    def build() -> bytes:
        document = _valid_solution()
        for key, value in changes.items():
            key = key.replace("__", "-")
            if key.startswith("entry_"):
                document["policy"][0][key[len("entry_") :]] = value
            elif value is _DROP:
                del document[key]
            else:
                document[key] = value
        return _json(document)

    return build


def _payment(token: str) -> Callable[[], bytes]:
    def build() -> bytes:
        document = _valid_solution()
        document["policy"][1]["contract"][0] = "@@NUMBER@@"
        return _json(document).replace(b'"@@NUMBER@@"', token.encode())

    return build


SOLUTION_CASES: list[Case] = [
    Case("valid", _solution(), None),
    Case("valid-extras", _solution(x__by="me", solver={"method": "x"}, entry_x__note=1), None),
    Case("valid-minus-zero-payment", _payment('"-0"'), None),
    Case("binary", lambda: bytes(range(256)), "<document>"),
    Case("utf8-bom", lambda: b"\xef\xbb\xbf" + _json(_valid_solution()), "<document>"),
    Case("empty", lambda: b"", "<document>"),
    Case("top-level-array", lambda: b"[]", "<document>"),
    Case("deep-200000", lambda: _deep(200_000), "<document>"),
    Case("unknown-field", _solution(verdict="SPE"), "verdict: unknown field"),
    Case(
        "entry-typo",
        _solution(entry_agent_valeu=1),
        "policy[0].agent_valeu: unknown field; did you mean 'agent_value'",
    ),
    Case("missing-instance", _solution(instance=_DROP), "instance: missing"),
    Case("instance-not-string", _solution(instance=3), "instance"),
    Case("solver-not-object", _solution(solver="x"), "solver"),
    Case(
        "implementable-not-booleans", _solution(entry_implementable=[1]), "policy[0].implementable"
    ),
    Case(
        "negative-payment", _payment("-1"), "policy[1].contract[0]: payments must be non-negative"
    ),
    Case("NaN-payment", _payment("NaN"), "policy[1].contract[0]"),
    Case("Infinity-payment", _payment("Infinity"), "policy[1].contract[0]"),
    Case("1e400-payment", _payment("1e400"), "policy[1].contract[0]: a number is too large"),
    Case("huge-exponent-payment", _payment("1e1000000000"), "policy[1].contract[0]: exponent"),
    Case(
        "huge-exponent-string-payment",
        _payment('"1e1000000000"'),
        "policy[1].contract[0]: exponent",
    ),
    Case("underscore-payment", _payment('" 1_000 "'), "policy[1].contract[0]: not a number"),
    Case("NaN-value", _solution(principal_value="@@"), "principal_value"),
    Case(
        "other-instance",
        _solution(instance="another instance"),
        "'another instance'",
        "the name is compared with the instance document, which the schema does not see",
    ),
    Case(
        "policy-too-short",
        lambda: _json({**_valid_solution(), "policy": _valid_solution()["policy"][:2]}),
        "policy: expected 3 entries",
        "the policy's length depends on the instance",
    ),
    Case(
        "unknown-action",
        _solution(entry_recommended_action="aX"),
        "policy[0].recommended_action: unknown action",
        "action names come from the instance",
    ),
]


def _ids(cases: list[Case]) -> list[str]:
    return [case.name for case in cases]


def _write(tmp_path, case: Case) -> Any:
    path = tmp_path / "document.json"
    path.write_bytes(case.build())
    return path


@pytest.mark.parametrize("case", INSTANCE_CASES, ids=_ids(INSTANCE_CASES))
def test_instance_loader(tmp_path, case):
    path = _write(tmp_path, case)
    start = time.perf_counter()
    if case.field is None:
        load_instance(path)
    else:
        with pytest.raises(InstanceError) as info:
            load_instance(path)
        assert case.field in str(info.value), str(info.value)
        assert len(str(info.value)) < 300, str(info.value)
    assert time.perf_counter() - start < FEW_SECONDS


@pytest.mark.parametrize("case", SOLUTION_CASES, ids=_ids(SOLUTION_CASES))
def test_solution_loader(tmp_path, case):
    from theory.format import SolutionError

    path = _write(tmp_path, case)
    path.write_bytes(path.read_bytes().replace(b'"@@"', b"NaN"))
    model = _model()
    start = time.perf_counter()
    if case.field is None:
        load_solution(path, model)
    else:
        with pytest.raises(SolutionError) as info:
            load_solution(path, model)
        assert case.field in str(info.value), str(info.value)
        assert len(str(info.value)) < 300, str(info.value)
    assert time.perf_counter() - start < FEW_SECONDS


def test_a_solution_for_another_instance_is_checked_only_on_request(tmp_path):
    path = tmp_path / "solution.json"
    path.write_bytes(_solution(instance="another instance")())
    document = load_solution(path, _model(), allow_name_mismatch=True)
    assert document.instance_name == "another instance"


def _schema_accepts(raw: bytes, kind: str) -> bool:
    """The published JSON Schema's verdict on a file read as RFC 8259 JSON (UTF-8 text; NaN
    and Infinity are not JSON), numbers parsed as Python does by default."""

    def not_json(token: str) -> Any:
        raise ValueError(token)

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=not_json)
        validate_against_schema(data, kind)
    except (ValueError, RecursionError, jsonschema.ValidationError):
        return False
    return True


def _loader_accepts(tmp_path, case: Case, kind: str) -> bool:
    from theory.format import SolutionError

    path = _write(tmp_path, case)
    path.write_bytes(path.read_bytes().replace(b'"@@"', b"NaN"))
    try:
        if kind == "instance":
            load_instance(path)
        else:
            load_solution(path, _model())
    except (InstanceError, SolutionError):
        return False
    return True


@pytest.mark.parametrize(
    ("kind", "case"),
    [("instance", case) for case in INSTANCE_CASES] + [("solution", c) for c in SOLUTION_CASES],
    ids=[f"instance-{c.name}" for c in INSTANCE_CASES]
    + [f"solution-{c.name}" for c in SOLUTION_CASES],
)
def test_schema_and_loader_agree(tmp_path, kind, case):
    raw = case.build().replace(b'"@@"', b"NaN")
    loader = _loader_accepts(tmp_path, case, kind)
    schema = _schema_accepts(raw, kind)
    assert loader == (case.field is None)
    if case.schema_blind is None:
        assert schema == loader, f"schema {'accepts' if schema else 'rejects'}, loader not"
    else:  # the documented gap: the schema accepts, only the loader can tell
        assert schema and not loader
