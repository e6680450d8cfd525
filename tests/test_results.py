"""Tests of properties/results.py (the outcome of a property on one instance)."""

from __future__ import annotations

from properties.results import PropertyResult, fmt, not_applicable, result


def test_a_result_holds_exactly_when_it_lists_no_violation():
    assert result("c", [], n=3) == PropertyResult("c", True, (), {"n": 3})
    failing = result("c", ["s0: too short"], gap=0.5)
    assert not failing.holds and failing.violations == ("s0: too short",)
    assert failing.measurements == {"gap": 0.5}


def test_not_applicable_records_why_and_counts_as_holding():
    skipped = not_applicable("c", "cyclic instance")
    assert skipped.holds and not skipped.applicable
    assert skipped.measurements == {"skipped": "cyclic instance"}
    assert skipped.explain() == "c: not applicable"


def test_explain_shows_the_first_five_violations():
    failing = result("c", [f"v{i}" for i in range(7)])
    assert failing.explain() == "c: FAILS — v0; v1; v2; v3; v4 (+2 more)"
    assert result("c", []).explain() == "c: holds"


def test_fmt_shows_six_significant_digits():
    assert fmt(1 / 3) == "0.333333" and fmt(2) == "2" and fmt(1e-9) == "1e-09"
