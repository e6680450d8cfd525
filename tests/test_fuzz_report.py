"""Tests of properties.fuzz_report (issues 12, 14): message signatures, the saved run folder,
the pamdp/fuzz-report@1 document, its lossless round trip and the merge of shards."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest

from properties.fuzz import CRASH, Unsupported, fuzz
from properties.fuzz_report import FailureClass, FuzzReport, signature_of
from theory.format import instance_to_dict
from theory.spe import NEGATIVE_PAYMENT, NOT_FOLLOWED


# ------------------------------------------------------------------- signatures
def test_signatures_keep_the_exception_and_drop_the_numbers():
    assert signature_of(CRASH, "ZeroDivisionError: Fraction(3, 0)\n  File ...") == (
        "ZeroDivisionError: Fraction(N, N)"
    )
    command = (
        "exit status 1: KeyError: 'o7'\nTraceback (most recent call last):\n"
        "  File \"/tmp/x/solver.py\", line 12, in <module>\nKeyError: 'o7'"
    )
    assert signature_of(CRASH, command) == "exit status 1 | KeyError: '…'"
    assert signature_of(NOT_FOLLOWED, "state s3: ...") == NOT_FOLLOWED
    assert signature_of("invalid_output", "policy[2].contract[1]: not a number (value: 'x')") == (
        "policy[N].contract[N]: not a number (value: '…')"
    )


# --------------------------------------------------------------------- saved runs
def test_a_run_is_saved_in_a_fresh_folder_with_the_solvers_own_numbers(tmp_path):
    """Two runs never share a folder; each names the files it wrote; the wrong solution is
    the solver's own document (its floats and strings, not rewritten fractions)."""

    def floats(doc: dict[str, Any]) -> str:  # always pays -0.1 on the first outcome
        n_o = len(doc["outcomes"])
        policy = [
            {
                "state": s,
                "recommended_action": doc["actions"][0],
                "contract": [-0.1] + [0] * (n_o - 1),
            }
            for s in doc["states"]
        ]
        return json.dumps({"format": "pamdp/solution@1", "instance": doc["name"], "policy": policy})

    first = fuzz(floats, family="episodic", max_examples=5, output_dir=tmp_path, shrink_budget=3)
    second = fuzz(floats, family="episodic", max_examples=5, output_dir=tmp_path, shrink_budget=3)
    assert first.directory is not None and second.directory is not None
    assert first.directory != second.directory and first.directory.parent == tmp_path
    for name in first.files:
        assert (first.directory / name).is_file()
    written = {
        str(p.relative_to(first.directory)) for p in first.directory.rglob("*") if p.is_file()
    }
    assert written == set(first.files)
    [failure] = [f for f in first.failures if f.kind == NEGATIVE_PAYMENT]
    assert failure.directory is not None
    saved = json.loads((failure.directory / "wrong_solution.json").read_text())
    assert saved["policy"][0]["contract"][0] == -0.1  # a float, as the solver wrote it
    document = json.loads((first.directory / "report.json").read_text())
    assert document["format"] == "pamdp/fuzz-report@1"
    entry = document["failures"][0]
    for key in ("kind", "signature", "count", "first_instance", "minimal_instance", "message"):
        assert key in entry
    assert entry["wrong_solution"]["policy"][0]["contract"][0] == -0.1


# ------------------------------------------------------- lossless documents, merge
def negative_or_unsupported(doc: dict[str, Any]) -> Any:
    """One state: pays -1/10 on the first outcome (a negative payment), as JSON *text*;
    more states: unsupported, with the state count in the reason (numbers differ, the
    signature does not)."""
    if len(doc["states"]) > 1:
        raise Unsupported(f"one state only, not {len(doc['states'])} ({len(json.dumps(doc))} B)")
    policy = [
        {
            "state": doc["states"][0],
            "recommended_action": doc["actions"][0],
            "contract": ["-1/10"] + [0] * (len(doc["outcomes"]) - 1),
        }
    ]
    return json.dumps({"format": "pamdp/solution@1", "instance": doc["name"], "policy": policy})


def object_answer(doc: dict[str, Any]) -> Any:
    """Pays Fraction(-1, 10) (a Python object, not text) on the first outcome of every state
    (a negative payment); crashes on 3 or more states."""
    if len(doc["states"]) >= 3:
        raise ZeroDivisionError("Fraction(1, 0)")
    policy = [
        {
            "state": s,
            "recommended_action": doc["actions"][0],
            "contract": [Fraction(-1, 10)] + [0] * (len(doc["outcomes"]) - 1),
        }
        for s in doc["states"]
    ]
    return {"format": "pamdp/solution@1", "instance": doc["name"], "policy": policy}


def _round_trip(failure: FailureClass) -> FailureClass:
    return FailureClass.from_dict(json.loads(json.dumps(failure.to_dict())))


def test_failure_classes_and_reports_survive_their_json_documents():
    """``from_dict(to_dict)`` rebuilds every class: the same document, the same text (which
    prints the instances, the attempt's verification report and the side-by-side solutions),
    the solver's raw answer as it came (text stays text, objects become plain JSON), the exact
    parsed solution and the re-verified report."""
    text = fuzz(negative_or_unsupported, family="episodic", max_examples=15, shrink_budget=3)
    objects = fuzz(object_answer, family="episodic", max_examples=15, shrink_budget=3)
    classes = [*text.failures, *objects.failures]
    assert {c.kind for c in classes} >= {NEGATIVE_PAYMENT, CRASH}
    for failure in classes:
        restored = _round_trip(failure)
        assert restored.to_dict() == failure.to_dict()
        assert restored.summary() == failure.summary()
        assert instance_to_dict(restored.model) == instance_to_dict(failure.model)
        assert instance_to_dict(restored.first_model) == instance_to_dict(failure.first_model)
        if failure.attempt.report is not None:
            assert restored.attempt.report == failure.attempt.report
            assert restored.attempt.report.summary() == failure.attempt.report.summary()
    [text_class] = [c for c in text.failures if c.kind == NEGATIVE_PAYMENT]
    assert isinstance(text_class.attempt.raw_output, str)
    assert _round_trip(text_class).attempt.raw_output == text_class.attempt.raw_output  # text
    assert _round_trip(text_class).attempt.solution == text_class.attempt.solution  # exact
    [object_class] = [c for c in objects.failures if c.kind == NEGATIVE_PAYMENT]
    raw = _round_trip(object_class).attempt.raw_output
    assert raw["policy"][0]["contract"][0] == "-1/10"  # the Fraction, as plain JSON
    for report in (text, objects):
        again = FuzzReport.from_dict(json.loads(json.dumps(report.to_dict())))
        assert again.to_dict() == report.to_dict() and again.summary() == report.summary()


def test_merge_sums_counts_and_keeps_each_class_first_shard_case():
    """Two searches as two shards. Expected by the definition (docs/DISTRIBUTED.md), from the
    shards themselves: counts summed; a class keeps the first shard that has it, with its
    ``first_seen`` shifted by the instances of the shards before; the unsupported reasons of
    one signature become one reason (first text, summed count)."""
    one = fuzz(object_answer, family="episodic", max_examples=6, seed=1, shrink_budget=3)
    two = fuzz(object_answer, family="episodic", max_examples=12, seed=2, shrink_budget=3)
    # a first shard without the crash class, so that one class comes from the second shard
    one = replace(one, failures=tuple(c for c in one.failures if c.kind != CRASH))
    assert one.failures and any(c.kind == CRASH for c in two.failures)
    merged = FuzzReport.merge([one, two], seed=9)
    assert merged.seed == 9 and merged.max_examples == 18
    assert merged.tried == one.tried + two.tried
    assert merged.shrink_runs == one.shrink_runs + two.shrink_runs
    assert merged.unsupported == one.unsupported + two.unsupported
    assert merged.unchecked == one.unchecked + two.unchecked
    first = {(c.kind, c.signature): c for c in one.failures}
    second = {(c.kind, c.signature): c for c in two.failures}
    expected_order = [*first, *(k for k in second if k not in first)]
    assert [(c.kind, c.signature) for c in merged.failures] == expected_order
    for failure in merged.failures:
        key = (failure.kind, failure.signature)
        a, b = first.get(key), second.get(key)
        assert failure.count == (a.count if a else 0) + (b.count if b else 0)
        source = a or b
        assert source is not None
        shift = 0 if a else one.tried
        assert failure.first_seen == source.first_seen + shift
        assert instance_to_dict(failure.model) == instance_to_dict(source.model)
        assert failure.message == source.message and failure.directory is None
    assert FuzzReport.merge([one, replace(two, stopped="time_budget")]).stopped == "time_budget"

    u1 = fuzz(negative_or_unsupported, family="episodic", max_examples=10, seed=1)
    u2 = fuzz(negative_or_unsupported, family="episodic", max_examples=10, seed=2)
    both = FuzzReport.merge([u1, u2])
    assert both.unsupported == u1.unsupported + u2.unsupported > 0
    assert len(set(u1.unsupported_reasons) | set(u2.unsupported_reasons)) > 1  # texts differ
    [(reason, count)] = both.unsupported_reasons.items()  # ... but share one signature
    assert reason == next(iter(u1.unsupported_reasons)) and count == both.unsupported


def test_merge_refuses_shards_of_different_runs():
    one = fuzz(object_answer, family="episodic", max_examples=3, shrink_budget=1)
    with pytest.raises(ValueError, match="family"):
        FuzzReport.merge([one, replace(one, family="all")])
    with pytest.raises(ValueError, match="at least one"):
        FuzzReport.merge([])
