"""Tests of the theorem report (properties/report.py) and ``pamdp theorems``."""

from __future__ import annotations

import argparse
import functools
import json
from dataclasses import replace
from typing import Any

import pytest

from pamdp import theorems as theorems_cli
from pamdp.cli import main
from properties import report as rp
from properties.claims import claim
from solvers.backward_induction import SPESolution, solve_backward_induction
from theory.format import load_instance, validate_against_schema
from theory.model import PrincipalAgentMDP


def short_solver(model: PrincipalAgentMDP) -> SPESolution:
    solution = solve_backward_induction(model)
    return replace(solution, contracts=solution.contracts * 0.99)


def test_a_holding_claim_reports_its_instances():
    outcome = rp.run_claim(claim("metamorphic-scaling"), "ci", max_examples=12)
    assert outcome.holds and outcome.verdict == "holds" and outcome.as_expected
    assert outcome.tried == 12 and outcome.counterexample is None
    assert "factor" in outcome.summary


def test_a_planted_error_is_shrunk_saved_and_valid(tmp_path):
    outcome = rp.run_claim(
        claim("spe"), "ci", max_examples=60, out_dir=tmp_path, solver=short_solver
    )
    assert outcome.failures > 0 and not outcome.as_expected
    assert outcome.counterexample is not None and outcome.violations
    instance_file = tmp_path / "spe.json"
    document = json.loads(instance_file.read_text())
    validate_against_schema(document, "instance")
    model = load_instance(instance_file)
    assert model.n_states <= 3  # shrunk
    case = json.loads((tmp_path / "spe.case.json").read_text())
    assert case["claim"] == "spe" and case["instance"] == "spe.json"
    replay, kwargs = rp.load_case(tmp_path / "spe.case.json")
    assert not replay.check(**kwargs, solver=short_solver).holds
    assert replay.check(**kwargs).holds


def test_theorem_3_3_summary_tabulates_iterations_by_depth():
    outcome = rp.run_claim(claim("theorem-3.3"), "ci", max_examples=15)
    table = outcome.summary["iterations_by_depth"]
    assert sum(sum(c.values()) for c in table.values()) == outcome.tried
    assert all(
        int(k) + 1 >= max(c)
        for k, c in ((d, {int(i): n for i, n in c.items()}) for d, c in table.items())
    )


@functools.cache
def _small_report() -> rp.Report:
    """One small run shared by the tests below (it shrinks a known R1 counterexample, which
    is the slow part)."""
    return rp.run_report(
        "ci",
        claims=[claim("metamorphic-scaling"), claim("theorem-3.4-contraction-R1")],
        max_examples=40,
    )


def test_renderings_contain_the_table_columns():
    report = _small_report()
    table = rp.render_table(report)
    for column in ("claim", "paper", "definition used", "tried", "outcome"):
        assert column in table
    markdown = rp.render_markdown(report, notes={"metamorphic-scaling": "NOTE"})
    assert rp.REGENERATE in markdown and "| claim | paper |" in markdown and "NOTE" in markdown
    again = rp.report_from_json(json.loads(json.dumps(rp.report_to_json(report))))
    assert rp.render_markdown(again) == rp.render_markdown(report)


def test_report_ok_follows_expectations():
    report = _small_report()
    by_key = {o.key: o for o in report.outcomes}
    assert by_key["metamorphic-scaling"].as_expected
    # the R1 contraction is a known finding: either outcome of a small run is as expected
    assert by_key["theorem-3.4-contraction-R1"].as_expected


def test_cli_interface_is_exactly_add_arguments_and_run():
    parser = argparse.ArgumentParser()
    theorems_cli.add_arguments(parser)
    args = parser.parse_args(["--profile", "dev", "--seed", "3", "--json"])
    assert args.profile == "dev" and args.seed == 3 and args.json
    assert callable(theorems_cli.run)


def test_pamdp_theorems_json(tmp_path, capsys):
    status = main(
        [
            "theorems",
            "--profile",
            "ci",
            "--max-examples",
            "5",
            "--claim",
            "metamorphic-scaling",
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] and document["claims"][0]["tried"] == 5


def test_pamdp_theorems_table_and_markdown(tmp_path, capsys):
    markdown = tmp_path / "THEOREMS.md"
    status = main(
        [
            "theorems",
            "--profile",
            "ci",
            "--max-examples",
            "5",
            "--claim",
            "spe",
            "--out",
            str(tmp_path),
            "--markdown",
            str(markdown),
        ]
    )
    assert status == 0
    assert "spe" in capsys.readouterr().out
    assert "Regenerate with" in markdown.read_text()


def test_pamdp_theorems_from_json(tmp_path, capsys):
    saved = tmp_path / "report.json"
    saved.write_text(
        json.dumps(rp.report_to_json(rp.run_report("ci", claims=[claim("spe")], max_examples=3)))
    )
    markdown = tmp_path / "T.md"
    assert main(["theorems", "--from-json", str(saved), "--markdown", str(markdown)]) == 0
    assert "`spe`" in markdown.read_text()


@pytest.mark.parametrize("argv", [["--claim", "nonsense"], ["--max-examples", "0"]])
def test_pamdp_theorems_rejects_bad_arguments(argv: Any, capsys):
    assert main(["theorems", *argv]) == 2
    assert "pamdp theorems" in capsys.readouterr().err


# ----------------------------------------------------------------------------- sharding
def test_claim_shards_chunk_a_claim_with_derived_seeds():
    import hashlib

    one = rp.claim_shards([claim("spe")], "ci", seed_value=0, max_examples=25)
    assert [s.key for s in one] == ["spe#1/1"]
    # unchunked: exactly the unsharded run (the run's seed, the profile's derandomize)
    assert one[0].arguments == {
        "claim": "spe",
        "profile": "ci",
        "index": 0,
        "count": 1,
        "max_examples": 25,
        "seed": 0,
        "derandomize": True,
    }
    assert rp.claim_shards([claim("spe")], "ci", max_examples=25, chunk=25) == one
    three = rp.claim_shards([claim("spe"), claim("theorem-3.3")], "ci", seed_value=7, chunk=60)
    # the ci profile's 150 instances in chunks of 60: 60 + 60 + 30, per claim, in claim order
    assert [s.key for s in three] == [
        *(f"spe#{i}/3" for i in (1, 2, 3)),
        *(f"theorem-3.3#{i}/3" for i in (1, 2, 3)),
    ]
    assert [s.arguments["max_examples"] for s in three] == [60, 60, 30] * 2
    assert not any(s.arguments["derandomize"] for s in three)
    digest = hashlib.sha256(b"pamdp/theorem-shard@1:7:spe:1").digest()
    assert three[1].arguments["seed"] == int.from_bytes(digest[:8], "big") // 2
    assert len({s.arguments["seed"] for s in three}) == 6


def _shard_result(tried: int, failures: int, *, found: str | None, witness: float | None):
    return {
        "tried": tried,
        "skipped": 1,
        "failures": failures,
        "errors": 0,
        "measurements": [{"gap": float(i), "depth": 1, "iterations": 2} for i in range(tried)],
        "counterexample": None
        if found is None
        else {"instance": {"name": found}, "arguments": {"x": 1}, "violations": [found]},
        "witness": None if witness is None else {"value": witness, "instance": {"w": witness}},
        "seconds": 1.5,
    }


def test_merge_shards_sums_counts_and_takes_the_first_failing_shard(tmp_path):
    results = [
        _shard_result(2, 0, found=None, witness=0.5),
        _shard_result(3, 1, found="first", witness=0.75),
        _shard_result(1, 1, found="second", witness=0.75),
    ]
    spe = claim("spe")
    shards = rp.claim_shards([spe], "ci", max_examples=6, chunk=2)
    merged = rp.merge_shards(spe, shards, results, out_dir=tmp_path, profile_name="ci")
    assert (merged.tried, merged.skipped, merged.failures, merged.errors) == (6, 3, 2, 0)
    assert merged.counterexample == {"name": "first"} and merged.violations == ("first",)
    assert merged.witness == {"w": 0.75}  # the largest; the earlier shard's on a tie
    assert merged.seconds == 4.5
    # gaps 0, 1 | 0, 1, 2 | 0: min 0, max 2, mean 4/6; 3 of 6 above the threshold
    assert merged.summary["gap"] == {"min": 0.0, "mean": 4 / 6, "max": 2.0, "n": 6, "positive": 3}
    case = json.loads((tmp_path / "spe.case.json").read_text())
    assert case["violations"] == ["first"] and case["shard"]["index"] == 1
    assert json.loads((tmp_path / "spe.json").read_text()) == {"name": "first"}


def test_run_claim_is_the_single_shard_of_the_report():
    scaling = claim("metamorphic-scaling")
    (shard,) = rp.claim_shards([scaling], "ci", max_examples=12)
    direct = rp.run_claim(scaling, "ci", max_examples=12)
    merged = rp.merge_shards(scaling, [shard], [rp.run_theorem_shard(shard.arguments)])
    assert replace(direct, seconds=0.0) == replace(merged, seconds=0.0)


def test_fixed_local_constants_empties_the_harvested_pool_and_restores_it():
    from hypothesis.internal.conjecture import providers

    getter = providers._get_local_constants
    with rp.fixed_local_constants():
        assert len(providers._get_local_constants()) == 0
    assert providers._get_local_constants is getter
