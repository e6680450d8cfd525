"""Small helpers for exact rational arithmetic shared by theory/, solvers/ and properties/.

One definition each of the exact dot product, the rational zero, and the two ways pamdp shows a
rational: for people (:func:`format_rational`, exact when short) and for documents
(:func:`exact_string`, always exact, ``"p/q"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

__all__ = ["ONE", "ZERO", "dot", "exact_string", "format_rational", "short_rational"]

ZERO = Fraction(0)
ONE = Fraction(1)


def dot(u: Iterable[Any], v: Iterable[Any]) -> Fraction:
    """``Σ_i u_i v_i`` exactly (zero entries of ``u`` are skipped: outcome rows are sparse)."""
    total = ZERO
    for x, y in zip(u, v, strict=True):
        if x:
            total += x * y
    return total


def format_rational(value: Fraction | None) -> str:
    """A rational for people: exact when short (``-4/5``), else a 10-digit decimal."""
    if value is None:
        return "—"
    if value.denominator == 1:
        return str(value.numerator)
    if value.denominator <= 10**6 and abs(value.numerator) <= 10**9:
        return f"{value.numerator}/{value.denominator}"
    return f"{float(value):.10g}"


def short_rational(value: Fraction | None) -> str:
    """A rational in at most 11 characters: exact when it fits, else 6 significant digits."""
    if value is None:
        return "—"
    text = format_rational(value)
    return text if len(text) <= 11 else f"{float(value):.6g}"


def exact_string(value: Fraction | None) -> str | None:
    """The exact ``"p/q"`` (or ``"p"``) string of a rational, for documents."""
    if value is None:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"
