"""Tests of ``pamdp equilibria`` (pamdp/equilibria.py); expected numbers derived by hand in
tests/test_equilibria.py (examples/no_pure_stationary_spe.json and
tests/regressions/two-spe-pareto-ranked.json)."""

from __future__ import annotations

import json
from pathlib import Path

from pamdp.cli import main

ROOT = Path(__file__).resolve().parents[1]
NO_PURE = ROOT / "examples" / "no_pure_stationary_spe.json"
TWO_SPE = ROOT / "tests" / "regressions" / "two-spe-pareto-ranked.json"


def test_text_report_of_the_no_pure_stationary_example(capsys):
    assert main(["equilibria", str(NO_PURE)]) == 0
    out = capsys.readouterr().out
    assert "pure stationary SPEs: 0" in out
    assert "at s2 recommending a2 gains 3/55" in out and "at s2 recommending a1 gains 3/50" in out
    assert "a1 with probability 4/15, a2 with probability 11/15" in out
    assert "V^p = -1/11  V^a = 29/33" in out
    assert "period 3" in out and "every choice strict" in out


def test_json_document_of_the_two_spe_instance(capsys):
    assert main(["equilibria", str(TWO_SPE), "--json", "--no-mixed"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "pamdp/equilibria@1"
    spes = document["pure_stationary"]
    assert [e["values"]["s1"]["principal"] for e in spes] == ["17889/7900", "2541/1172"]
    assert all(e["reachable"] == ["s0"] for e in spes)
    assert document["pareto"][0]["differ_only_off_the_reachable_set"] is True
    assert document["mixed_stationary"] is None and document["searched"]["mixed_stationary"] is None
    assert document["time_dependent"]["period"] == 1


def test_output_file_is_the_document(tmp_path, capsys):
    path = tmp_path / "eq.json"
    assert main(["equilibria", str(NO_PURE), "-o", str(path), "--no-time-dependent"]) == 0
    document = json.loads(path.read_text())
    assert document["pure_stationary"] == [] and document["time_dependent"] is None
    assert "report written to" in capsys.readouterr().out


def test_too_large_and_invalid_input_exit_2(tmp_path, capsys):
    assert main(["equilibria", str(TWO_SPE), "--max-profiles", "3"]) == 2
    assert "too large" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["equilibria", str(bad)]) == 2
    assert main(["equilibria", str(NO_PURE), "--margin", "-1"]) == 2
