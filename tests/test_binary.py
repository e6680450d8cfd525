"""Tests of theory.binary: the .npz companion format (round trips, exactness, hostile files)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from model_arrays import exact_arrays

from solvers.solve import solve
from theory.binary import load_instance_npz, save_instance_npz
from theory.fastjson import write_solution
from theory.format import SolutionError, load_instance, load_solution, save_instance
from theory.generators import paper_tree, random_instance
from theory.model import InstanceError


def test_float_instances_round_trip_bit_for_bit(tmp_path):
    tree = paper_tree(6, 4)
    path = tmp_path / "tree.npz"
    save_instance(tree, path)
    again = load_instance(path)
    assert again.exact is None
    for field in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
        assert getattr(again, field).tobytes() == getattr(tree, field).tobytes(), field
    assert (again.states, again.name, again.discount) == (tree.states, tree.name, tree.discount)
    assert exact_arrays(again) == exact_arrays(tree)


@pytest.mark.parametrize("seed", range(4))
def test_exact_instances_round_trip_exactly(tmp_path, seed):
    model = random_instance(6, 3, 2, seed=seed, episodic=seed % 2 == 0)
    assert model.exact is not None
    path = tmp_path / "exact.npz"
    save_instance(model, path)
    again = load_instance(path)
    assert again.exact is not None
    assert exact_arrays(again) == exact_arrays(model)


def test_exact_numbers_beyond_int64_are_stored_as_decimal_strings(tmp_path):
    """A denominator of 2^70 does not fit int64: the member holds decimal strings (no
    pickles) and reads back exactly."""
    model = paper_tree(2, 0)
    exact = model.exact_data()
    tiny = Fraction(1, 2**70)
    rewards = exact.agent_reward.copy()
    rewards[0, 1] = -tiny
    floats = model.agent_reward.copy()
    floats[0, 1] = float(-tiny)
    model = replace(model, agent_reward=floats, exact=replace(exact, agent_reward=rewards))
    path = tmp_path / "big.npz"
    save_instance_npz(model, path)
    with np.load(path, allow_pickle=False) as archive:
        assert archive["agent_reward.den"].dtype.kind == "U"
    assert load_instance_npz(path).exact.agent_reward[0, 1] == -tiny


@pytest.mark.parametrize("exact", [False, True])
def test_solutions_round_trip_and_verify_like_json(tmp_path, exact):
    tree = paper_tree(5, 2)
    solution = solve(tree, exact=exact).solution
    kwargs = dict(principal_values=solution.principal_values, agent_values=solution.agent_values)
    for name in ("solution.npz", "solution.json"):
        write_solution(
            tmp_path / name, tree, solution.recommended, solution.contracts, exact=exact, **kwargs
        )
    from_npz = load_solution(tmp_path / "solution.npz", tree)
    from_json = load_solution(tmp_path / "solution.json", tree)
    assert from_npz.policy == from_json.policy


def _archive(**members) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def _members(tmp_path, model=None):
    model = model or paper_tree(2, 0)
    path = tmp_path / "valid.npz"
    save_instance_npz(model, path)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(extra=np.zeros(2)), "extra: unknown member"),
        (lambda m: m.pop("agent_reward"), "agent_reward.num: missing member"),
        (lambda m: m.update(format=np.array("pamdp/instance@2")), "format: expected"),
        (lambda m: m.update(agent_reward=np.zeros((3, 3))), "agent_reward: expected float64"),
        (
            lambda m: m["agent_reward"].__setitem__((0, 0), np.nan),
            "agent_reward: not a finite number",
        ),
        (lambda m: m["transition_next"].__setitem__(0, 99), "transitions[0][0][0][0]: dangling"),
        (
            lambda m: m["outcome_probs"].__setitem__((0, 0, 0), 0.5),
            "outcome_probs[0][0]: row does not sum to 1",
        ),
        (lambda m: m.update(states=np.array([1, 2, 3])), "states: must be a 1-d array of strings"),
        (
            lambda m: m.update(transition_offsets=np.zeros(7, dtype=np.int64)),
            "transition_next: expected integers of shape (0,)",
        ),
    ],
)
def test_malformed_archives_are_refused_naming_the_member(tmp_path, change, message):
    members = _members(tmp_path)
    change(members)
    path = tmp_path / "bad.npz"
    path.write_bytes(_archive(**members))
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert message in str(info.value)


def test_a_pickled_object_array_is_refused_without_running_code(tmp_path):
    """allow_pickle=False: an object member is refused before anything is unpickled."""

    class Boom:
        def __reduce__(self):
            return (exec, ("open('PWNED', 'w').write('x')",))

    members = _members(tmp_path)
    members["name"] = np.array([Boom()], dtype=object)
    path = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **members, allow_pickle=True)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InstanceError, match=r"not a readable \.npz archive"):
        load_instance(path)
    assert not (tmp_path / "PWNED").exists()


def test_not_an_archive_and_a_zip_bomb_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "text.npz"
    path.write_bytes(b'{"format": "pamdp/instance@1"}')
    with pytest.raises(InstanceError, match=r"<document>: not a readable \.npz archive"):
        load_instance(path)
    import theory.binary as binary

    monkeypatch.setattr(binary, "MAX_UNPACKED_BYTES", 1000)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("agent_reward.npy", b"\0" * 100_000)
    with pytest.raises(InstanceError, match="unpacks to more than 1000 bytes"):
        load_instance(bomb)


def test_a_solution_archive_with_an_out_of_range_action_is_refused(tmp_path):
    tree = paper_tree(2, 0)
    path = tmp_path / "solution.npz"
    write_solution(path, tree, [5, 0, 0], np.zeros((3, 2)))
    with pytest.raises(SolutionError, match=r"recommended\[0\]: not an action index"):
        load_solution(path, tree)
