"""Tests of theory.numbers: the one number reader, its limits, and its agreement with the
published JSON Schema's number pattern."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from fractions import Fraction

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.format import load_schema
from theory.numbers import (
    MAX_DIGITS,
    MAX_EXPONENT,
    MAX_NUMBER_LENGTH,
    NONNEGATIVE_PATTERN,
    NUMBER_PATTERN,
    NumberError,
    RejectedNumber,
    excerpt,
    int_to_text,
    integer_type,
    json_number_hooks,
    number_type,
    parse_number,
    parse_text,
    require_float_range,
    to_fraction,
)

# (string, exact value or None for "rejected"); values worked out by hand
CATALOGUE: list[tuple[str, Fraction | None]] = [
    ("0", Fraction(0)),
    ("-4/5", Fraction(-4, 5)),
    ("14/9", Fraction(14, 9)),
    ("0.9", Fraction(9, 10)),
    ("1e-3", Fraction(1, 1000)),
    ("1E3", Fraction(1000)),
    ("+7", Fraction(7)),
    (".5", Fraction(1, 2)),
    ("5.", Fraction(5)),
    ("-0", Fraction(0)),
    (" 1000 ", Fraction(1000)),  # JSON white space around the number is allowed (v1 schema)
    ("\t1/2\n", Fraction(1, 2)),
    (" 1.5e3 / 7 ", Fraction(1500, 7)),  # 1.5e3 = 1500
    ("2.5/5", Fraction(1, 2)),
    ("1e0010", Fraction(10**10)),  # leading zeros in the exponent
    ("3/007", Fraction(3, 7)),
    ("1_000", None),  # Python's Fraction accepts underscores; the schema does not
    (" 1_000 ", None),
    ("1/0", None),
    ("1/000", None),
    ("1/-2", None),
    ("1/2.5", None),
    ("1/2/3", None),
    ("", None),
    (" ", None),
    (".", None),
    ("-", None),
    ("e5", None),
    ("1e", None),
    ("1e+", None),
    ("0x10", None),
    ("inf", None),
    ("nan", None),
    ("Infinity", None),
    ("1 000", None),
    ("١", None),  # ARABIC-INDIC DIGIT ONE: Python's int() reads it, the schema's [0-9] not
    ("1\u00a0", None),  # no-break space is not JSON white space
    ("1\u2003", None),
    ("\ufeff1", None),
    ("1e1000000000", None),  # the exponent that used to hang every command
    ("1e-1000000000", None),
    ("1e10001", None),
    ("1e-10001", None),
    ("1" * (MAX_DIGITS + 1), None),
    ("0." + "0" * MAX_DIGITS, None),
    ("1" * 5000 + "/" + "3" * 5001, None),  # 10,001 digits in all
    (" " * MAX_NUMBER_LENGTH + "1", None),
]


def _schema_number(kind: str = "instance", name: str = "number") -> dict:
    schema = load_schema(kind)
    return {"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}


def _schema_accepts(value: object, definition: dict) -> bool:
    try:
        jsonschema.validate(value, definition)
    except jsonschema.ValidationError:
        return False
    return True


def _reader_accepts(text: str) -> bool:
    try:
        parse_text(text)
    except NumberError:
        return False
    return True


def test_schemas_use_this_modules_patterns():
    """One definition: the published schemas carry exactly NUMBER_PATTERN and the limits."""
    for kind in ("instance", "solution"):
        string = load_schema(kind)["$defs"]["number"]["oneOf"][1]
        assert string["pattern"] == NUMBER_PATTERN
        assert string["maxLength"] == MAX_NUMBER_LENGTH
    nonnegative = load_schema("solution")["$defs"]["nonnegative"]["oneOf"][1]
    assert nonnegative["pattern"] == NONNEGATIVE_PATTERN


@pytest.mark.parametrize(("text", "expected"), CATALOGUE, ids=lambda x: repr(x)[:30])
def test_reader_and_schema_agree_on_the_catalogue(text, expected):
    definition = _schema_number()
    assert _schema_accepts(text, definition) == (expected is not None)
    if expected is None:
        with pytest.raises(NumberError):
            parse_text(text)
    else:
        assert parse_text(text) == expected


_ALPHABET = "0123456789+-.eE/ _\t\n\u00a0١x"


@given(st.text(alphabet=_ALPHABET, max_size=14))
def test_reader_accepts_exactly_what_the_schema_accepts(text):
    """Property: for any string over the characters that matter, the JSON Schema's pattern and
    the reader agree (both accept or both reject)."""
    assert _schema_accepts(text, _schema_number()) == _reader_accepts(text)


@given(st.text(alphabet=_ALPHABET, max_size=14))
def test_nonnegative_pattern_accepts_exactly_the_nonnegative_numbers(text):
    accepted = _schema_accepts(text, _schema_number("solution", "nonnegative"))
    assert accepted == (_reader_accepts(text) and parse_text(text) >= 0)


@given(st.fractions(), st.integers(min_value=0, max_value=5))
def test_decimal_and_rational_forms_read_back_exactly(value, shift):
    """p/q written out, and a terminating decimal with an exponent, read as the same number."""
    assert parse_text(f"{value.numerator}/{value.denominator}") == value
    scaled = value.numerator * 10**shift
    assert parse_text(f"{scaled}e-{shift}") == Fraction(value.numerator)


def test_limits_are_inclusive_at_the_documented_bounds():
    assert parse_text(f"1e{MAX_EXPONENT}") == 10**MAX_EXPONENT
    assert parse_text(f"1e-{MAX_EXPONENT}") == Fraction(1, 10**MAX_EXPONENT)
    assert parse_text("7" * MAX_DIGITS) == int_from("7" * MAX_DIGITS)
    assert parse_text("1" * 5000 + "/" + "3" * 5000) == Fraction(
        int_from("1" * 5000), int_from("3" * 5000)
    )
    for text in (f"1e{MAX_EXPONENT + 1}", "1" * (MAX_DIGITS + 1)):
        with pytest.raises(NumberError):
            parse_text(text)


def int_from(digits: str) -> int:
    """Independent conversion: Python's int() with its digit limit lifted."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return int(digits)
    finally:
        sys.set_int_max_str_digits(old)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e1000000000", "exponent beyond ±10000"),
        ("1" * 10_001, "more than 10000 digits"),
        ("x" * 1_000_000, "longer than 10100 characters"),
        (" 1_000 ", "not a number"),
    ],
    ids=["huge-exponent", "10001-digits", "megabyte", "underscore"],
)
def test_rejections_are_fast_and_short_and_name_the_field(text, reason):
    start = time.perf_counter()
    with pytest.raises(NumberError) as info:
        parse_text(text, "agent_reward[0][1]")
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert message.startswith("agent_reward[0][1]: ") and reason in message
    assert len(message) < 160, message  # the 20 KB echo of issue 11 is gone
    assert info.value.field == "agent_reward[0][1]"


def test_numbers_of_every_python_type():
    assert parse_number(Fraction(2, 3)) == Fraction(2, 3)
    assert parse_number(0.1) == Fraction(1, 10)  # shortest decimal of the float
    assert parse_number(3) == 3
    assert parse_number(10**MAX_DIGITS - 1) == 10**MAX_DIGITS - 1  # 10,000 nines
    for bad, reason in [
        (10**MAX_DIGITS, "more than"),
        (float("inf"), "not a finite number"),
        (float("1e400"), "not a finite number"),  # a float 1e400 is inf
        (float("nan"), "not a finite number"),
        (True, "expected a number"),
        (None, "expected a number"),
        ([1], "expected a number"),
        (RejectedNumber("1e99999", "exponent beyond ±10000"), "exponent"),
    ]:
        with pytest.raises(NumberError, match=reason):
            parse_number(bad, "discount")


def test_to_fraction_keeps_its_error_types():
    """theory.model.to_fraction is this reader: TypeError for non-numbers, else ValueError."""
    from theory.model import to_fraction as model_to_fraction

    assert model_to_fraction is to_fraction
    assert to_fraction("-4/5") == Fraction(-4, 5)
    with pytest.raises(TypeError):
        to_fraction(True)
    with pytest.raises(TypeError):
        to_fraction([1])
    with pytest.raises(ValueError, match="no underscores"):
        to_fraction("1_000")


def test_float_range():
    assert require_float_range(Fraction(1, 3)) == 1 / 3
    with pytest.raises(NumberError, match="too large for a 64-bit float"):
        require_float_range(Fraction(10**400), field="contract[0]")


def test_json_hooks_read_exactly_and_keep_rejected_numbers_in_place():
    text = "[0.9, 12, 1e1000000000, NaN, -Infinity, 1e-3, %s]" % ("9" * 10_001)
    start = time.perf_counter()
    data = json.loads(text, **json_number_hooks())
    assert time.perf_counter() - start < 2
    assert data[0] == Fraction(9, 10) and data[1] == 12 and data[5] == Fraction(1, 1000)
    assert isinstance(data[2], RejectedNumber) and "exponent" in data[2].reason
    assert data[3].not_json and data[4].not_json and not data[2].not_json
    assert isinstance(data[6], RejectedNumber) and "digits" in data[6].reason
    assert repr(data[2]) == "1e1000000000"  # shown as written (no quotes: a JSON number)


def test_large_integers_convert_both_ways_beyond_pythons_digit_limit():
    value = 7**30_000  # about 25,353 digits, beyond Python's 4300-digit default
    assert int_to_text(value) == _str_unlimited(value)
    assert int_to_text(-value) == "-" + _str_unlimited(value)
    assert int_to_text(10**5000) == "1" + "0" * 5000


def _str_unlimited(value: int) -> str:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(old)


def test_excerpts_are_short_whatever_the_value():
    nested: list = []
    for _ in range(10_000):
        nested = [nested]
    for value in ("x" * 10**7, 10**20_000, list(range(10**5)), nested, Fraction(1, 3)):
        shown = excerpt(value)
        assert len(shown) <= 70, shown
    assert excerpt(Fraction(1, 3)) == "1/3"
    assert excerpt("abc") == "'abc'"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pamdp generate")
    parser.add_argument("--discount", type=number_type(minimum=0, maximum=1))
    parser.add_argument("--tolerance", type=number_type(minimum=0, exclusive_minimum=True))
    parser.add_argument("--rate", type=number_type(as_float=True))
    parser.add_argument("--max-states", type=integer_type(minimum=1))
    return parser


def test_cli_flags_use_the_same_reader():
    args = _parser().parse_args(
        ["--discount", "9/10", "--tolerance", "1e-9", "--rate", "0.25", "--max-states", "3"]
    )
    assert args.discount == Fraction(9, 10) and args.tolerance == Fraction(1, 10**9)
    assert args.rate == 0.25 and isinstance(args.rate, float) and args.max_states == 3


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--discount", "1e1000000000"], "argument --discount: exponent beyond ±10000"),
        (["--discount", " 1_000 "], "argument --discount: not a number"),
        (["--discount", "2"], "argument --discount: must be in [0, 1] (value: '2')"),
        (["--tolerance", "0"], "argument --tolerance: must be in (0, ∞]"),
        (["--rate", "1e400"], "argument --rate: a number is too large"),
        (["--max-states", "-1"], "argument --max-states: must be at least 1 (value: '-1')"),
        (["--max-states", "1_0"], "argument --max-states: not an integer"),
        (["--max-states", "9" * 20_000], "argument --max-states: more than 10000 digits"),
    ],
)
def test_bad_cli_flags_exit_2_quickly_with_a_short_message(argv, fragment, capsys):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(argv)
    assert time.perf_counter() - start < 2
    assert info.value.code == 2
    error = capsys.readouterr().err
    assert fragment in error, error
    assert len(error.splitlines()[-1]) < 200


def test_pattern_needs_no_unicode_classes():
    """ECMA-262 and Python read the pattern alike only without \\d, \\s, \\w."""
    for pattern in (NUMBER_PATTERN, NONNEGATIVE_PATTERN):
        assert not re.search(r"\\[dDsSwW]", pattern)
