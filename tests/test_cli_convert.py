"""Tests of ``pamdp convert`` (pamdp/convert.py): JSON ↔ .npz for instances and solutions."""

from __future__ import annotations

import json

from pamdp.cli import main
from theory.format import load_instance, load_solution, save_instance
from theory.generators import paper_tree


def _exact(model):
    data = model.exact_data()
    return (
        data.discount,
        data.agent_reward.tolist(),
        data.principal_reward.tolist(),
        data.outcome_probs.tolist(),
        data.transition_prob.tolist(),
        model.transition_next.tolist(),
    )


def test_instances_convert_both_ways_losslessly(tmp_path, capsys):
    source = tmp_path / "tree.json"
    save_instance(paper_tree(4, 1), source)
    assert main(["convert", str(source), str(tmp_path / "tree.npz")]) == 0
    assert main(["convert", str(tmp_path / "tree.npz"), str(tmp_path / "back.json")]) == 0
    original = load_instance(source)
    assert _exact(load_instance(tmp_path / "tree.npz")) == _exact(original)
    assert _exact(load_instance(tmp_path / "back.json")) == _exact(original)
    assert capsys.readouterr().err == ""  # small instances: no progress lines


def test_solutions_convert_and_verify_from_npz(tmp_path):
    instance = tmp_path / "tree.json"
    save_instance(paper_tree(4, 2), instance)
    assert main(["solve", str(instance), "--exact", "-o", str(tmp_path / "s.json")]) == 0
    arguments = ["--instance", str(instance)]
    assert main(["convert", str(tmp_path / "s.json"), str(tmp_path / "s.npz"), *arguments]) == 0
    assert main(["convert", str(tmp_path / "s.npz"), str(tmp_path / "t.json"), *arguments]) == 0
    model = load_instance(instance)
    first = load_solution(tmp_path / "s.json", model)
    assert load_solution(tmp_path / "s.npz", model).policy == first.policy
    assert load_solution(tmp_path / "t.json", model).policy == first.policy
    assert main(["verify", str(tmp_path / "tree.json"), str(tmp_path / "s.npz")]) == 0


def test_a_solution_without_its_instance_and_a_foreign_file_exit_2(tmp_path, capsys):
    instance = tmp_path / "tree.json"
    save_instance(paper_tree(3, 0), instance)
    assert main(["solve", str(instance), "-o", str(tmp_path / "s.json")]) == 0
    assert main(["convert", str(tmp_path / "s.json"), str(tmp_path / "s.npz")]) == 2
    assert "needs its instance" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    assert main(["convert", str(other), str(tmp_path / "o.npz")]) == 2
    assert "not a pamdp instance or solution" in capsys.readouterr().err


def test_progress_lines_for_large_instances_and_quiet(tmp_path, capsys):
    """Large instances (here: the threshold lowered) get one line per phase; --quiet none."""
    from pamdp.solve import Progress

    source = tmp_path / "tree.json"
    save_instance(paper_tree(3, 0), source)
    original = Progress.LARGE_STATES, Progress.LARGE_BYTES
    try:
        Progress.LARGE_STATES, Progress.LARGE_BYTES = 1, 1
        assert main(["convert", str(source), str(tmp_path / "a.npz")]) == 0
        err = capsys.readouterr().err
        assert "loading" in err and "writing" in err and " s\n" in err
        assert main(["convert", str(source), str(tmp_path / "b.npz"), "--quiet"]) == 0
        assert capsys.readouterr().err == ""
    finally:
        Progress.LARGE_STATES, Progress.LARGE_BYTES = original


def test_float_solutions_convert_through_the_fast_reader_and_verify_with_progress(
    tmp_path, capsys, monkeypatch
):
    """With the fast paths on for every size: a float solution converts JSON → .npz → JSON
    with the same exact numbers, the .npz instance converts back to the streamed JSON
    document of the same model, and ``pamdp verify`` reports each phase (the "large"
    threshold lowered), or nothing with --quiet."""
    import theory.format as format_module
    from pamdp.solve import Progress

    monkeypatch.setattr(format_module, "FAST_PATH_BYTES", 0)
    instance = tmp_path / "tree.json"
    assert main(["generate", "tree", "--depth", "4", "--seed", "3", "-o", str(instance)]) == 0
    assert main(["convert", str(instance), str(tmp_path / "tree.npz")]) == 0
    assert main(["convert", str(tmp_path / "tree.npz"), str(tmp_path / "back.json")]) == 0
    assert (tmp_path / "back.json").read_bytes() == instance.read_bytes()
    assert main(["solve", str(instance), "-o", str(tmp_path / "s.json"), "--quiet"]) == 0
    arguments = ["--instance", str(instance)]
    assert main(["convert", str(tmp_path / "s.json"), str(tmp_path / "s.npz"), *arguments]) == 0
    assert main(["convert", str(tmp_path / "s.npz"), str(tmp_path / "t.json"), *arguments]) == 0
    model = load_instance(instance)
    first = load_solution(tmp_path / "s.json", model)
    for other in ("s.npz", "t.json"):
        again = load_solution(tmp_path / other, model)
        assert [_exact_entry(e) for e in again.policy] == [_exact_entry(e) for e in first.policy]
    capsys.readouterr()
    monkeypatch.setattr(Progress, "LARGE_STATES", 1)
    assert main(["verify", str(instance), str(tmp_path / "t.json")]) == 0
    err = capsys.readouterr().err
    assert "loading" in err and "exact SPE check (15 states)" in err and "reference SPE" in err
    assert main(["verify", str(instance), str(tmp_path / "s.npz"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def _exact_entry(entry):
    from theory.model import to_fraction

    return (
        entry.recommended_action,
        [to_fraction(x) for x in entry.contract],
        to_fraction(entry.principal_value),
        to_fraction(entry.agent_value),
    )
