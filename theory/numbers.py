"""The one reader of every number pamdp reads: instances, solutions and command-line flags.

A number is a JSON number or a string holding an exact rational or decimal (docs/FORMAT.md,
"Numbers"). The string grammar is the published JSON Schema's ``pattern``
(:data:`NUMBER_PATTERN`, shared by ``theory/schemas/*.json``)::

    [ws] [+|-] (digits [. [digits]] | . digits) [(e|E) [+|-] digits] [[ws] / [ws] digits] [ws]

with ``ws`` JSON white space (space, tab, line feed, carriage return) and ``digits`` ASCII
``0-9``: ``"-4/5"``, ``"0.9"``, ``"1e-3"``, ``" 1.5e3 / 7 "``; no underscores (``"1_000"``), no
other Unicode digits or spaces, no ``inf``/``nan``, no zero denominator.

Limits (so that no input can make reading slow, e.g. ``1e1000000000`` would otherwise build a
billion-digit integer):

* at most :data:`MAX_DIGITS` (10,000) ASCII digits in one number, exponent included;
* ``|exponent| <= MAX_EXPONENT`` (10,000);
* a number string at most :data:`MAX_NUMBER_LENGTH` (10,100) characters.

The same limits apply to JSON number tokens (:func:`json_number_hooks`), to Python ints given
directly (at most 10,000 decimal digits) and to command-line flags (:func:`number_type`).
Every rejection is a :class:`NumberError` naming the field and a short excerpt of the value
(at most :data:`EXCERPT_LENGTH` characters of it), produced in time linear in the input.
"""

from __future__ import annotations

import argparse
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

#: Most ASCII digits in one number (integer, fraction, exponent and denominator digits).
MAX_DIGITS = 10_000
#: Largest absolute value of a decimal exponent.
MAX_EXPONENT = 10_000
#: Longest number string (digits plus sign, point, exponent marker, slash and white space).
MAX_NUMBER_LENGTH = 10_100
#: Characters of an offending value shown in an error message.
EXCERPT_LENGTH = 40

_WS = "[ \\t\\n\\r]*"
#: The number-string pattern of the JSON Schemas (ECMA-262 and Python ``re`` read it alike:
#: only ASCII classes). The look-ahead enforces :data:`MAX_DIGITS`, the exponent alternative
#: :data:`MAX_EXPONENT`.
NUMBER_PATTERN = (
    "^(?!(?:[^0-9]*[0-9]){10001})"
    + _WS
    + "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)"
    + "(?:[eE][+-]?0*(?:[0-9]{1,4}|10000))?"
    + "(?:"
    + _WS
    + "/"
    + _WS
    + "0*[1-9][0-9]*)?"
    + _WS
    + "$"
)
#: The same grammar restricted to non-negative numbers (contract payments).
NONNEGATIVE_PATTERN = NUMBER_PATTERN.replace(
    "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)",
    "(?:\\+?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)|-(?:0+(?:\\.0*)?|\\.0+))",
    1,
)

_GRAMMAR = re.compile(
    _WS
    + r"(?P<sign>[+-]?)(?:(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?|\.(?P<frac2>[0-9]+))"
    + r"(?:[eE](?P<exp>[+-]?[0-9]+))?"
    + r"(?:"
    + _WS
    + "/"
    + _WS
    + r"(?P<den>[0-9]+))?"
    + _WS
)
_FLOAT_MAX = Fraction(float(np.finfo(np.float64).max))
_CHUNK = 600  # below Python's smallest int <-> str digit limit (640)
_TEN_TO_MAX_DIGITS = 10**MAX_DIGITS


class NumberError(ValueError):
    """A value that is not a number pamdp reads (docs/FORMAT.md, "Numbers").

    Attributes
    ----------
    field : where the value was found (``"agent_reward[0][1]"``, ``"--discount"``), or "".
    reason : what is wrong, e.g. ``"exponent beyond ±10000"``.
    excerpt : a short printable excerpt of the value (see :func:`excerpt`).
    """

    def __init__(self, reason: str, value: Any = None, *, field: str = "") -> None:
        self.field = field
        self.reason = reason
        self.excerpt: Excerpt = excerpt(value)
        where = f"{field}: " if field else ""
        super().__init__(f"{where}{reason} (value: {self.excerpt})")


@dataclass(frozen=True)
class RejectedNumber:
    """A JSON number token the reader refused, kept in place of the number so that the loader
    can name its field. Reading it (:func:`parse_number`) raises :class:`NumberError`."""

    shown: str
    reason: str
    #: True for ``NaN``/``Infinity``/``-Infinity``: not JSON at all (RFC 8259), refused by the
    #: parser wherever they are; other rejected numbers are reported by the loader's field.
    not_json: bool = False

    def __repr__(self) -> str:
        return self.shown


class _Excerpt(reprlib.Repr):
    """``repr`` bounded in length, depth and work (never formats a huge integer)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = EXCERPT_LENGTH
        self.maxlong = EXCERPT_LENGTH
        self.maxother = EXCERPT_LENGTH
        self.maxlist = self.maxtuple = self.maxdict = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4 * EXCERPT_LENGTH:
            return f"<an integer of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)

    def repr_Fraction(self, x: Fraction, level: int) -> str:
        if x.denominator == 1:
            return self.repr_int(x.numerator, level)
        return f"{self.repr_int(x.numerator, level)}/{self.repr_int(x.denominator, level)}"

    def repr_RejectedNumber(self, x: RejectedNumber, level: int) -> str:
        return x.shown


_EXCERPT = _Excerpt()


class Excerpt(str):
    """An excerpt already formatted for a message; its ``repr`` is itself."""

    def __repr__(self) -> str:
        return str(self)


def excerpt(value: Any, limit: int = EXCERPT_LENGTH) -> Excerpt:
    """A short ``repr`` of ``value`` (about ``limit`` characters at most), computed in bounded
    time whatever the value's size: a long string, list or integer itself is never echoed."""
    if isinstance(value, Excerpt):
        return value
    if isinstance(value, RejectedNumber):
        return Excerpt(value.shown)
    if isinstance(value, str):
        if len(value) <= limit:
            return Excerpt(repr(value))
        return Excerpt(f"{repr(value[: limit - 10])[:-1]}…' ({len(value)} characters)")
    try:
        shown = _EXCERPT.repr(value)
    except (ValueError, RecursionError):
        shown = f"<{type(value).__name__}>"
    return Excerpt(shown if len(shown) <= limit + 5 else shown[:limit] + "…")


def token_excerpt(token: str, limit: int = EXCERPT_LENGTH) -> Excerpt:
    """A JSON number token as written (no quotes), cut like :func:`excerpt`."""
    if len(token) <= limit:
        return Excerpt(token)
    return Excerpt(f"{token[: limit - 10]}… ({len(token)} characters)")


def _digits_to_int(digits: str) -> int:
    """``int(digits)`` for ASCII digits, whatever Python's int-string limit is."""
    if len(digits) <= _CHUNK:
        return int(digits) if digits else 0
    half = len(digits) // 2
    return _digits_to_int(digits[:half]) * 10 ** (len(digits) - half) + _digits_to_int(
        digits[half:]
    )


def int_to_text(value: int) -> str:
    """``str(value)`` whatever Python's int-string limit is (used when writing)."""
    if value < 0:
        return "-" + int_to_text(-value)
    if value.bit_length() <= 1900:  # < 10**572 digits: below every limit
        return str(value)
    digits = int(value.bit_length() * 0.30103) + 1
    half = digits // 2
    high, low = divmod(value, 10**half)
    return (int_to_text(high) if high else "") + int_to_text(low).rjust(half, "0")


def parse_text(text: str, field: str = "") -> Fraction:
    """Read a number string (module docstring grammar and limits) exactly.

    Raises
    ------
    NumberError
        Not in the grammar, beyond a limit, or a zero denominator.
    """
    if len(text) > MAX_NUMBER_LENGTH:
        raise NumberError(
            f"a number string longer than {MAX_NUMBER_LENGTH} characters", text, field=field
        )
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        raise NumberError(
            "not a number (expected e.g. 0.9, -4/5, 1e-3; no underscores)", text, field=field
        )
    whole = match["int"] or ""
    fraction = match["frac"] or match["frac2"] or ""
    exponent_text = match["exp"] or "0"
    denominator_text = match["den"] or "1"
    n_digits = len(whole) + len(fraction) + len(denominator_text) * (match["den"] is not None)
    n_digits += (len(exponent_text) - (exponent_text[0] in "+-")) * (match["exp"] is not None)
    if n_digits > MAX_DIGITS:
        raise NumberError(f"more than {MAX_DIGITS} digits", text, field=field)
    exponent_digits = exponent_text.lstrip("+-").lstrip("0")
    if len(exponent_digits) > 5 or int(exponent_digits or "0") > MAX_EXPONENT:
        raise NumberError(f"exponent beyond ±{MAX_EXPONENT}", text, field=field)
    exponent = int(exponent_text) - len(fraction)
    mantissa = _digits_to_int(whole + fraction)
    denominator = _digits_to_int(denominator_text)
    if denominator == 0:
        raise NumberError("zero denominator", text, field=field)
    if match["sign"] == "-":
        mantissa = -mantissa
    if exponent >= 0:
        return Fraction(mantissa * 10**exponent, denominator)
    return Fraction(mantissa, denominator * 10**-exponent)


def parse_number(value: Any, field: str = "") -> Fraction:
    """Read any number exactly: a :class:`~fractions.Fraction`, an int (at most
    :data:`MAX_DIGITS` digits), a finite float (as the shortest decimal that prints as it,
    ``Fraction(repr(x))``, the value the interchange format stores) or a number string.

    Raises
    ------
    NumberError
        Anything else (booleans, None, lists, NaN, ±inf, strings outside the grammar, numbers
        beyond the limits), naming ``field``.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or value is None:
        raise NumberError("expected a number", value, field=field)
    if isinstance(value, int | np.integer):
        number = int(value)
        if abs(number) >= _TEN_TO_MAX_DIGITS:
            raise NumberError(f"more than {MAX_DIGITS} digits", number, field=field)
        return Fraction(number)
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise NumberError("not a finite number", float(value), field=field)
        return Fraction(repr(float(value)))
    if isinstance(value, str):
        return parse_text(value, field)
    if isinstance(value, RejectedNumber):
        raise NumberError(value.reason, value, field=field)
    raise NumberError("expected a number", value, field=field)


def to_fraction(value: Any) -> Fraction:
    """Read a number exactly: ints, Fractions, rational or decimal strings, and floats.

    Floats are read as the shortest decimal that prints as them (``Fraction(repr(x))``), the
    value the interchange format stores, so the exact view of a float instance is stable under
    saving and loading. This is :func:`parse_number` with the historical error types:
    ``TypeError`` for values that are not numbers at all (booleans, None, lists), otherwise
    :class:`NumberError` (a ``ValueError``).
    """
    if isinstance(value, bool) or not isinstance(
        value, Fraction | int | float | str | np.integer | np.floating | RejectedNumber
    ):
        raise TypeError(f"expected a number, got {excerpt(value)}")
    return parse_number(value)


def require_float_range(number: Fraction, value: Any = None, field: str = "") -> float:
    """``float(number)``, refusing numbers beyond the 64-bit float range (pamdp's float view).

    Raises
    ------
    NumberError
        ``|number|`` exceeds the largest finite float64 (about 1.8e308).
    """
    if abs(number) > _FLOAT_MAX:
        raise NumberError(
            "a number is too large for a 64-bit float (|x| > 1.8e308)",
            number if value is None else value,
            field=field,
        )
    return float(number)


# ------------------------------------------------------------------------------------ JSON
def _json_float(token: str) -> Fraction | RejectedNumber:
    if len(token) < 300 and "e" not in token and "E" not in token:
        return Fraction(token)  # the JSON scanner already checked the grammar
    try:
        number = parse_text(token)
        require_float_range(number)
    except NumberError as error:
        return RejectedNumber(token_excerpt(token), error.reason)
    return number


def _json_int(token: str) -> int | RejectedNumber:
    if len(token) <= _CHUNK:
        return int(token)
    if len(token.lstrip("-")) > MAX_DIGITS:
        return RejectedNumber(token_excerpt(token), f"more than {MAX_DIGITS} digits")
    return int(parse_text(token))


def _json_constant(token: str) -> RejectedNumber:
    return RejectedNumber(
        token, f"{token} is not a JSON number (numbers must be finite)", not_json=True
    )


def json_number_hooks(*, fast_integers: bool = False) -> dict[str, Any]:
    """Keyword arguments for :func:`json.loads` that read JSON numbers by this module's rules.

    Non-integers become exact Fractions from their decimal text, integers ints; a token beyond
    the limits (or, with an exponent, beyond the 64-bit float range, which every pamdp number
    must fit), or ``NaN``/``Infinity``/``-Infinity`` (not JSON, accepted by Python's parser),
    becomes a :class:`RejectedNumber` in its place, so the loader can name its field with the
    token as written.

    With ``fast_integers`` integers are left to Python's own parser (much faster on large
    documents), which raises ``ValueError`` on a token beyond its int-string limit (4300
    digits by default); parse again without it then.
    """
    hooks: dict[str, Any] = {
        "parse_float": _json_float,
        "parse_constant": _json_constant,
    }
    if not fast_integers:
        hooks["parse_int"] = _json_int
    return hooks


# ----------------------------------------------------------------------------- command line
def number_type(
    *,
    minimum: Any = None,
    maximum: Any = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    as_float: bool = False,
) -> Callable[[str], Any]:
    """An argparse ``type=`` reading a number flag by the rules of this module.

    ``minimum``/``maximum`` bound the value (inclusive unless the ``exclusive_`` flag is set);
    the result is a Fraction, or a float with ``as_float``. Errors raise
    :class:`argparse.ArgumentTypeError`, which argparse prints as
    ``argument --discount: must be in [0, 1] (value: '2')`` and exits with status 2.

    Example: ``parser.add_argument("--discount", type=number_type(minimum=0, maximum=1))``.
    """
    low = None if minimum is None else parse_number(minimum)
    high = None if maximum is None else parse_number(maximum)

    def read(text: str) -> Any:
        try:
            number = parse_text(text)
        except NumberError as error:
            raise argparse.ArgumentTypeError(f"{error.reason} (value: {error.excerpt})") from None
        too_low = low is not None and (number <= low if exclusive_minimum else number < low)
        too_high = high is not None and (number >= high if exclusive_maximum else number > high)
        if too_low or too_high:
            left = "(" if exclusive_minimum else "["
            right = ")" if exclusive_maximum else "]"
            span = (
                f"in {left}{'-∞' if low is None else low}, {'∞' if high is None else high}{right}"
            )
            raise argparse.ArgumentTypeError(f"must be {span} (value: {excerpt(text)})")
        if as_float:
            try:
                return require_float_range(number, text)
            except NumberError as error:
                raise argparse.ArgumentTypeError(
                    f"{error.reason} (value: {error.excerpt})"
                ) from None
        return number

    read.__name__ = "number"
    return read


def integer_type(*, minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=`` for integer flags (``--states``, ``--max-iterations``), bounded.

    Accepts optional white space and a sign around ASCII digits (at most :data:`MAX_DIGITS`);
    errors raise :class:`argparse.ArgumentTypeError` (``must be at least 1 (value: '0')``).
    """

    def read(text: str) -> int:
        stripped = text.strip(" \t\n\r")
        digits = stripped[1:] if stripped[:1] in "+-" else stripped
        if not digits or not digits.isascii() or not digits.isdigit():
            raise argparse.ArgumentTypeError(f"not an integer (value: {excerpt(text)})")
        if len(digits) > MAX_DIGITS:
            raise argparse.ArgumentTypeError(
                f"more than {MAX_DIGITS} digits (value: {excerpt(text)})"
            )
        number = _digits_to_int(digits) * (-1 if stripped[0] == "-" else 1)
        if minimum is not None and number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} (value: {excerpt(text)})")
        if maximum is not None and number > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum} (value: {excerpt(text)})")
        return number

    read.__name__ = "integer"
    return read
