"""Tests of the pamdp command line (pamdp/cli.py)."""

from __future__ import annotations

import json
from fractions import Fraction

from pamdp.cli import main
from theory.format import load_instance, validate_against_schema
from theory.generators import paper_tree


def test_generate_and_solve_tree(tmp_path, capsys):
    instance = tmp_path / "tree.json"
    assert main(["generate", "tree", "--depth", "5", "--seed", "3", "-o", str(instance)]) == 0
    solution_path = tmp_path / "solution.json"
    assert main(["solve", str(instance), "-o", str(solution_path)]) == 0
    out = capsys.readouterr().out
    assert "backward induction" in out and "V^p(s0)" in out and "recommended" in out
    document = json.loads(solution_path.read_text())
    validate_against_schema(document, "solution")
    assert len(document["policy"]) == 31
    # the loaded tree is the generated one, number for number
    assert (load_instance(instance).agent_reward == paper_tree(5, 3).agent_reward).all()


def test_solve_exact_writes_rationals(tmp_path, capsys):
    instance = tmp_path / "three.json"
    main(["generate", "three-state", "-o", str(instance)])
    solution_path = tmp_path / "solution.json"
    assert main(["solve", str(instance), "--exact", "-o", str(solution_path)]) == 0
    document = json.loads(solution_path.read_text())
    validate_against_schema(document, "solution")
    assert Fraction(document["principal_value"]) == 1
    assert Fraction(document["agent_value"]) == Fraction(1, 5)
    assert document["policy"][0]["contract"] == [1, 0]
    table = capsys.readouterr().out
    assert "sL" in table and "L=1" in table


def test_solve_discounted_uses_meta_algorithm(tmp_path, capsys):
    instance = tmp_path / "random.json"
    main(
        ["generate", "random", "--states", "5", "--discounted", "--seed", "2", "-o", str(instance)]
    )
    solution_path = tmp_path / "solution.json"
    assert main(["solve", str(instance), "-o", str(solution_path)]) == 0
    assert "meta-algorithm" in capsys.readouterr().out
    validate_against_schema(json.loads(solution_path.read_text()), "solution")


def test_solve_rejects_malformed_instance(tmp_path, capsys):
    instance = tmp_path / "bad.json"
    main(["generate", "three-state", "-o", str(instance)])
    document = json.loads(instance.read_text())
    document["outcome_probs"][1][0] = ["1/2", "1/3"]
    instance.write_text(json.dumps(document))
    assert main(["solve", str(instance)]) == 2
    err = capsys.readouterr().err
    assert "outcome_probs[1][0]" in err and "sum" in err


def test_example_prints_paper_values(capsys):
    assert main(["example", "--depth", "4"]) == 0
    out = capsys.readouterr().out
    assert "19/20" in out and "19/100" in out and "6/5" in out
    assert "iterations" in out


def test_usage_error_exits_2(capsys):
    assert main(["solve"]) == 2
    assert "instance" in capsys.readouterr().err


def test_solve_refuses_undefined_values(tmp_path, capsys):
    """γ = 1 with a cycle among unreachable states: a valid document, undefined values."""
    instance = tmp_path / "three.json"
    main(["generate", "three-state", "-o", str(instance)])
    data = json.loads(instance.read_text())
    data["states"].append("x")
    data["outcome_probs"].append(data["outcome_probs"][0])
    data["agent_reward"].append(data["agent_reward"][0])
    data["principal_reward"].append(data["principal_reward"][0])
    data["transitions"].append([[[3, 1]], [[3, 1]]])
    instance.write_text(json.dumps(data))
    assert main(["solve", str(instance)]) == 2
    assert "undefined" in capsys.readouterr().err


def test_solve_flags_a_non_converged_meta_algorithm(tmp_path, capsys):
    """examples/no_pure_stationary_spe.json has no pure stationary SPE (tests/test_verify.py derives
    it), so Algorithm 1 cannot converge: the CLI exits 1 with the reason and records it in the
    solution file."""
    from pathlib import Path

    instance = Path(__file__).resolve().parent.parent / "examples" / "no_pure_stationary_spe.json"
    output = tmp_path / "solution.json"
    assert main(["solve", str(instance), "--max-iterations", "50", "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert "did NOT converge" in err and "pamdp equilibria" in err
    document = json.loads(output.read_text())
    assert document["solver"]["converged"] is False
    validate_against_schema(document, "solution")
