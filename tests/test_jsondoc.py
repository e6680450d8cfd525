"""Tests of theory/jsondoc.py: the strict JSON document layer (issue 11's reading rules).

Each case's expected outcome follows from the rule quoted in its docstring (RFC 8259 and the
module's documented limits); the loader-level catalogue is tests/test_hostile_input.py.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from theory.jsondoc import MAX_DEPTH, DocumentError, decode_document, loads_json, read_json


def test_numbers_are_exact_rationals_of_their_decimal_text():
    """``0.1`` is 1/10 exactly (not the binary double 0.1000000000000000055…), ``1e-3`` is
    1/1000, integers stay integers."""
    data = loads_json('{"a": 0.1, "b": 1e-3, "c": 7}')
    assert data == {"a": Fraction(1, 10), "b": Fraction(1, 1000), "c": 7}


def test_duplicate_keys_are_refused_with_the_key():
    with pytest.raises(DocumentError, match="duplicate key") as info:
        loads_json('{"discount": 0.9, "discount": 0.5}')
    assert "discount" in str(info.value)


def test_nesting_limit_is_exact():
    """MAX_DEPTH levels are accepted, one more is refused before parsing; brackets inside
    strings do not count."""
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(DocumentError, match=f"deeper than {MAX_DEPTH}"):
        loads_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert loads_json(json.dumps({"x": "[" * 500})) == {"x": "[" * 500}


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused_with_their_path(token):
    with pytest.raises(DocumentError) as info:
        loads_json('{"rows": [[1, 2], [3, ' + token + "]]}")
    assert "rows[1][1]" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"  \n", "empty"),
    ],
)
def test_encodings_other_than_utf8_are_refused(raw, message):
    with pytest.raises(DocumentError, match=message):
        loads_json(raw)


def test_decode_document_returns_the_text():
    assert decode_document('{"é": 1}'.encode()) == '{"é": 1}'


def test_read_json_reads_a_file(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text('{"gamma": "9/10"}')
    assert read_json(path) == {"gamma": "9/10"}
