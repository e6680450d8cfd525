"""Tests of pamdp/solve.py: `pamdp solve` flags (ties, margin, commitment), `generate` scope."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from pamdp.cli import main


def _tie_instance(tmp_path, principal_reward_l="9/8"):
    """One state, actions [aR, aL], outcomes [L, R] with 𝒪(aL) = (9/10, 1/10), 𝒪(aR) = (1/10,
    9/10), r(aL) = −4/5, r(aR) = 0, r^p(L) = 9/8, r^p(R) = 0; the episode ends after acting.

    By hand (PAPER.md §1 closed form): implementing aL pays b(L) = (4/5)/(9/10 − 1/10) = 1,
    expected 9/10, so the principal's q(aL) = 9/10 · 9/8 − 9/10 = 9/80 and the agent keeps a
    rent of −4/5 + 9/10 = 1/10; aR needs no payment: q(aR) = 1/10 · 9/8 = 9/80, agent 0. An
    exact principal tie: ``lowest_index`` picks aR (index 0, V^a = 0), ``agent_best`` picks aL
    (V^a = 1/10). With r^p(L) = 9/8 + 1/10^7, q(aL) − q(aR) = (9/10 − 1/10)·1e−7 = 8e−8: a
    strict preference for aL at the default tie tolerance 1e−9, a tie at --tie-tol 1e−6.
    """
    document = {
        "format": "pamdp/instance@1",
        "name": "one-state principal tie",
        "states": ["s0"],
        "initial_state": "s0",
        "actions": ["aR", "aL"],
        "outcomes": ["L", "R"],
        "discount": 1,
        "outcome_probs": [[["1/10", "9/10"], ["9/10", "1/10"]]],
        "agent_reward": [[0, "-4/5"]],
        "principal_reward": [[principal_reward_l, 0]],
        "transitions": [[[], []]],
    }
    path = tmp_path / "tie.json"
    path.write_text(json.dumps(document))
    return path


def _solve(path, tmp_path, *flags):
    out = tmp_path / "out.json"
    assert main(["solve", str(path), "-o", str(out), *flags]) == 0
    document = json.loads(out.read_text())
    entry = document["policy"][0]
    return entry["recommended_action"], Fraction(document["agent_value"]), document


@pytest.mark.parametrize("exact", [[], ["--exact"]])
def test_principal_ties_flag_changes_the_choice_on_an_exact_tie(tmp_path, exact):
    path = _tie_instance(tmp_path)
    action, agent, _ = _solve(path, tmp_path, *exact)
    assert action == "aR" and agent == 0
    action, agent, document = _solve(path, tmp_path, *exact, "--principal-ties", "agent_best")
    assert action == "aL" and abs(agent - Fraction(1, 10)) < Fraction(1, 10**12)
    assert document["solver"]["ties"]["principal_rule"] == "agent_best"
    action, _, _ = _solve(path, tmp_path, *exact, "--principal-ties", "agent_worst")
    assert action == "aR"


def test_tie_tol_flag_widens_the_principal_tie(tmp_path):
    path = _tie_instance(tmp_path, "1.1250001")
    assert _solve(path, tmp_path)[0] == "aL"  # strict by 8e-8 > 1e-9
    assert _solve(path, tmp_path, "--tie-tol", "1e-6")[0] == "aR"  # a tie: lowest index
    assert _solve(path, tmp_path, "--tie-tol", "1e-6", "--principal-tol", "0")[0] == "aL"
    assert _solve(path, tmp_path, "--exact", "--tie-tol", "1e-6")[0] == "aL"  # exact: no tol


def test_exact_margin_prints_31_40(tmp_path, capsys):
    instance = tmp_path / "three.json"
    assert main(["generate", "three-state", "-o", str(instance)]) == 0
    assert main(["solve", str(instance), "--exact", "--margin", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "V^p(s0)    : 31/40" in out and "margin ξ = 1/10" in out


def test_commitment_reports_both_values(tmp_path, capsys):
    """`pamdp generate tree --depth 3 --seed 5`: the commitment optimum beats the SPE by
    ≈ 0.0286 (issue 13; tests/test_commitment.py checks the optimum independently)."""
    tree = tmp_path / "tree.json"
    assert main(["generate", "tree", "--depth", "3", "--seed", "5", "-o", str(tree)]) == 0
    committed = tmp_path / "committed.json"
    capsys.readouterr()
    code = main(["solve", str(tree), "--commitment", "--commitment-output", str(committed)])
    assert code == 0
    out = capsys.readouterr().out
    assert "V^p(s0) with commitment" in out and "V^p(s0) of the SPE" in out
    line = next(x for x in out.splitlines() if "commitment − SPE" in x)
    assert abs(float(line.split(":")[1].split()[0]) - 0.0286) < 5e-4
    assert json.loads(committed.read_text())["format"] == "pamdp/solution@1"


def test_unwritable_output_is_refused_before_solving(tmp_path, capsys):
    instance = tmp_path / "three.json"
    main(["generate", "three-state", "-o", str(instance)])
    capsys.readouterr()
    code = main(["solve", str(instance), "-o", str(tmp_path / "missing" / "x.json")])
    assert code == 2
    captured = capsys.readouterr()
    assert "V^p" not in captured.out  # nothing was solved
    assert "missing" in captured.err


def test_output_to_stdout(tmp_path, capsys):
    instance = tmp_path / "three.json"
    main(["generate", "three-state", "-o", str(instance)])
    capsys.readouterr()
    assert main(["solve", str(instance), "--exact", "-o", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["principal_value"] == 1


@pytest.mark.parametrize(
    "flags",
    [
        ["tree", "--states", "7"],
        ["tree", "--discounted"],
        ["three-state", "--depth", "3"],
        ["random", "--depth", "3"],
    ],
)
def test_generate_refuses_flags_of_another_family(tmp_path, capsys, flags):
    assert main(["generate", *flags, "-o", str(tmp_path / "x.json")]) == 2
    assert "does not apply" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "x.json", "--max-iterations", "0"],
        ["example", "--depth", "40"],
        ["generate", "random", "--discount", "1e1000000000", "-o", "x.json"],
        ["solve", "x.json", "--margin", "-1"],
        ["solve", "x.json", "--principal-ties", "random"],
    ],
)
def test_bad_arguments_exit_2_without_traceback(capsys, argv):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err
