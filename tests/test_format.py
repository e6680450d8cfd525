"""Tests of theory.format: lossless round trips, schema validity, malformed documents."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import jsonschema
import numpy as np
import pytest
from model_arrays import exact_arrays

from theory.format import (
    instance_from_dict,
    instance_to_dict,
    load_instance,
    load_schema,
    loads_json,
    save_instance,
    solution_from_dict,
    solution_to_dict,
    validate_against_schema,
)
from theory.generators import paper_tree, random_instance, three_state_example
from theory.model import InstanceError

FORMAT_EXAMPLE = """{
  "format": "pamdp/instance@1",
  "name": "three-state example",
  "states": ["s0", "sL", "sR"],
  "initial_state": "s0",
  "actions": ["aL", "aR"],
  "outcomes": ["L", "R"],
  "discount": 1,
  "outcome_probs": [[["9/10", "1/10"], ["1/10", "9/10"]],
                    [["9/10", "1/10"], ["1/10", "9/10"]],
                    [["9/10", "1/10"], ["1/10", "9/10"]]],
  "agent_reward": [["-4/5", 0], ["-4/5", 0], ["-4/5", 0]],
  "principal_reward": [["14/9", 0], ["14/9", 0], ["14/9", 0]],
  "transitions": [[[[1, 1]], [[2, 1]]], [[], []], [[], []]]
}"""


def test_format_md_example_loads_exactly():
    model = instance_from_dict(loads_json(FORMAT_EXAMPLE))
    assert model.exact is not None
    assert model.exact.principal_reward[0, 0] == Fraction(14, 9)
    assert model.states == ("s0", "sL", "sR")
    assert instance_to_dict(model) == json.loads(FORMAT_EXAMPLE)


def test_json_numbers_are_read_from_their_decimal_text():
    """0.9 as a JSON number is exactly 9/10, never the binary float nearest to it."""
    document = json.loads(FORMAT_EXAMPLE)
    text = FORMAT_EXAMPLE.replace('"9/10"', "0.9").replace('"1/10"', "0.1")
    model = instance_from_dict(loads_json(text))
    assert model.exact.outcome_probs[0, 0, 0] == Fraction(9, 10)
    assert instance_to_dict(model)["outcome_probs"] == document["outcome_probs"]


@pytest.mark.parametrize("seed", range(5))
def test_exact_instances_round_trip_exactly(tmp_path, seed):
    model = random_instance(6, 3, 3, seed=seed, episodic=seed % 2 == 0)
    path = tmp_path / "instance.json"
    save_instance(model, path)
    again = load_instance(path)
    assert exact_arrays(again) == exact_arrays(model)
    assert instance_to_dict(again) == instance_to_dict(model)
    validate_against_schema(instance_to_dict(model), "instance")


def test_float_instances_round_trip_bit_for_bit(tmp_path):
    tree = paper_tree(6, 2)
    path = tmp_path / "tree.json"
    save_instance(tree, path)
    again = load_instance(path)
    for field in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
        assert np.array_equal(getattr(again, field), getattr(tree, field)), field
    # the exact view is the same before and after (shortest decimals)
    assert exact_arrays(again) == exact_arrays(tree)
    # the reloaded instance is exact (rationals written as "p/q"); a second round trip
    # keeps every exact number
    path2 = tmp_path / "tree2.json"
    save_instance(again, path2)
    assert exact_arrays(load_instance(path2)) == exact_arrays(again)


def test_rows_summing_to_one_within_tolerance_are_accepted_and_normalised(tmp_path):
    """FORMAT.md rejects rows that miss 1 beyond a tolerance; 0.3333333333333333 three times
    sums to 1 − 1e-16 and is accepted. Its exact view is divided by the exact sum, which here
    gives exactly 1/3 each; float models with such rows survive save → load."""
    document = json.loads(FORMAT_EXAMPLE)
    document["outcomes"] = ["L", "R", "M"]
    third = 0.3333333333333333
    document["outcome_probs"] = [[[third] * 3, ["1/10", "9/10", 0]]] * 3
    document["principal_reward"] = [["14/9", 0, 0]] * 3
    document["transitions"] = [[[[1, 1]], [[2, 1]], []], [[], [], []], [[], [], []]]
    model = instance_from_dict(document)
    assert model.exact.outcome_probs[0, 0].tolist() == [Fraction(1, 3)] * 3
    path = tmp_path / "thirds.json"
    save_instance(model, path)
    assert exact_arrays(load_instance(path)) == exact_arrays(model)
    from dataclasses import replace

    float_model = replace(model, exact=None)
    save_instance(float_model, path)
    assert load_instance(path).exact.outcome_probs[0, 0].tolist() == [Fraction(1, 3)] * 3
    assert float_model.exact_data().outcome_probs[0, 0].tolist() == [Fraction(1, 3)] * 3


def test_numbers_too_large_for_floats_are_rejected_by_field():
    document = json.loads(FORMAT_EXAMPLE)
    document["agent_reward"][0][0] = 10**400
    with pytest.raises(InstanceError, match=r"agent_reward\[0\]\[0\]: a number is too large"):
        instance_from_dict(document)


def test_observed_action_may_omit_outcome_probs():
    model = three_state_example(observed_action=True)
    document = instance_to_dict(model, include_outcome_probs=False)
    assert "outcome_probs" not in document
    again = instance_from_dict(document)
    assert np.array_equal(again.outcome_probs, model.outcome_probs)
    validate_against_schema(document, "instance")


def _broken(path, value):
    document = json.loads(FORMAT_EXAMPLE)
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("outcome_probs", 1, 0, 0), "8/10", "outcome_probs[1][0]: row does not sum to 1"),
        (("outcome_probs", 2, 1, 0), "-1/10", "outcome_probs[2][1][0]: negative probability"),
        (("transitions", 0, 1, 0, 0), 9, "transitions[0][1][0][0]: dangling state index"),
        (("transitions", 1, 0), [[0, 1]], "discount: γ = 1 but the cycle"),
        (("agent_reward", 1), ["-4/5"], "agent_reward[1]: wrong shape"),
        (("principal_reward", 2, 0), "abc", "principal_reward[2][0]: not a number"),
        (("initial_state",), "s9", "initial_state: unknown state name"),
        (("discount",), 2, "discount: must be in [0, 1]"),
        (("format",), "pamdp/instance@2", "format: expected"),
        (("outcome_probs",), KeyError, "outcome_probs: missing required field"),
        (("transitions", 0, 0, 0), [1], "transitions[0][0][0]: expected [next_state"),
    ],
)
def test_malformed_documents_name_field_indices_and_value(path, value, expected):
    with pytest.raises(InstanceError) as info:
        instance_from_dict(_broken(path, value))
    assert str(info.value).startswith(expected), str(info.value)


def test_error_messages_show_the_offending_value():
    with pytest.raises(InstanceError) as info:
        instance_from_dict(_broken(("transitions", 0, 1, 0, 0), 9))
    assert "(value: 9)" in str(info.value)


def test_solution_round_trip_and_schema():
    model = three_state_example()
    document = solution_to_dict(
        model,
        [0, 0, 0],
        [[1, 0]] * 3,
        principal_values=[Fraction(1), Fraction(1, 2), Fraction(1, 2)],
        agent_values=[Fraction(1, 5)] + [Fraction(1, 10)] * 2,
        exact=True,
    )
    validate_against_schema(document, "solution")
    parsed = solution_from_dict(document, model)
    assert parsed.principal_value == 1 and parsed.agent_value == Fraction(1, 5)
    assert parsed.recommended.tolist() == [0, 0, 0]


def test_solution_schema_rejects_negative_payments():
    model = three_state_example()
    document = solution_to_dict(model, [0, 0, 0], [[1, 0]] * 3)
    bad = copy.deepcopy(document)
    bad["policy"][0]["contract"][1] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, load_schema("solution"))


def test_unknown_fields_are_errors_with_a_suggestion():
    """Issue 11: a typo used to be solved silently as a hidden-action instance."""
    document = json.loads(FORMAT_EXAMPLE)
    document["observed_actoin"] = True
    with pytest.raises(InstanceError) as info:
        instance_from_dict(document)
    assert str(info.value).startswith("observed_actoin: unknown field; did you mean")
    assert "'observed_action'" in str(info.value)
    with pytest.raises(jsonschema.ValidationError):
        validate_against_schema(document, "instance")


def test_x_fields_and_extensions_carry_extra_data_and_are_never_read():
    plain = instance_from_dict(loads_json(FORMAT_EXAMPLE))
    document = json.loads(FORMAT_EXAMPLE)
    document["x-origin"] = {"tool": "mine", "numbers": ["not a number"]}
    document["extensions"] = {"anything": [1, 2]}
    extended = instance_from_dict(document)
    assert exact_arrays(extended) == exact_arrays(plain)
    validate_against_schema(document, "instance")


def test_a_solution_for_another_instance_is_refused_unless_allowed():
    from theory.format import SolutionError

    model = three_state_example()
    document = solution_to_dict(model, [0, 0, 0], [[1, 0]] * 3)
    document["instance"] = "some other instance"
    with pytest.raises(SolutionError) as info:
        solution_from_dict(document, model)
    assert "'some other instance'" in str(info.value) and repr(model.name) in str(info.value)
    parsed = solution_from_dict(document, model, allow_name_mismatch=True)
    assert parsed.instance_name == "some other instance"


def test_solutions_written_by_pamdp_solve_still_load():
    """``pamdp solve -o`` writes an informational ``solver`` object; it is a documented field
    (kept in ``extra``), and so are ``x-`` fields."""
    model = three_state_example()
    solver = {"method": "backward induction", "converged": True}
    document = solution_to_dict(
        model, [0, 0, 0], [[1, 0]] * 3, extra={"solver": solver, "x-run": 7}
    )
    validate_against_schema(document, "solution")
    parsed = solution_from_dict(loads_json(json.dumps(document)), model)
    assert parsed.extra == {"solver": solver, "x-run": 7}


def test_exact_numbers_beyond_pythons_digit_limit_round_trip(tmp_path):
    """1e-5000 has a 5001-digit denominator, beyond Python's 4300-digit int/str limit but
    within pamdp's 10,000-digit limit: it is written and read back exactly."""
    document = json.loads(FORMAT_EXAMPLE)
    document["agent_reward"][1][1] = "1e-5000"
    model = instance_from_dict(document)
    path = tmp_path / "tiny.json"
    save_instance(model, path)
    assert load_instance(path).exact.agent_reward[1, 1] == Fraction(1, 10**5000)


def test_every_stored_v1_file_still_loads():
    from pathlib import Path

    root = Path(__file__).parent.parent
    regressions = sorted((root / "tests" / "regressions").glob("*.json"))
    files = [*regressions, root / "examples" / "no_pure_stationary_spe.json"]
    loaded = 0
    for path in files:
        if json.loads(path.read_text()).get("format") == "pamdp/instance@1":
            load_instance(path)
            validate_against_schema(json.loads(path.read_text()), "instance")
            loaded += 1
    assert loaded >= 10


# ------------------------------------------------------------------ fast float path (issue 14)
def _float_document(model) -> bytes:
    """The JSON bytes of a model's float view (every number a JSON float or integer)."""
    from dataclasses import replace

    return json.dumps(instance_to_dict(replace(model, exact=None))).encode()


def _same_model(fast, slow) -> None:
    """Number for number: names, floats bit for bit, and the exact views."""
    assert (fast.states, fast.actions, fast.outcomes) == (slow.states, slow.actions, slow.outcomes)
    assert (fast.initial_state, fast.observed_action, fast.name) == (
        slow.initial_state,
        slow.observed_action,
        slow.name,
    )
    assert fast.discount == slow.discount
    for field in (
        "outcome_probs",
        "agent_reward",
        "principal_reward",
        "transition_offsets",
        "transition_next",
        "transition_prob",
    ):
        a, b = getattr(fast, field), getattr(slow, field)
        assert a.shape == b.shape and a.tobytes() == b.tobytes(), field
    assert exact_arrays(fast) == exact_arrays(slow)


_FAST_CASES = [
    *(
        (f"random-{seed}", lambda seed=seed: random_instance(7, 3, 2, seed=seed, episodic=seed % 2))
        for seed in range(6)
    ),
    ("random-observed", lambda: random_instance(5, 3, 3, seed=9, observed_action=True)),
    ("tree-5", lambda: paper_tree(5, 3)),
    ("tree-observed", lambda: paper_tree(4, 1, observed_action=True)),
]


@pytest.mark.parametrize("build", [b for _, b in _FAST_CASES], ids=[n for n, _ in _FAST_CASES])
def test_fast_path_equals_the_exact_reader_number_for_number(build):
    """The fast reader gives the reference reader's model: the same floats bit for bit and the
    same exact numbers, but builds no rational until asked (lazy exactness)."""
    from theory.fastjson import fast_instance

    raw = _float_document(build())
    fast = fast_instance(raw)
    assert fast is not None
    assert fast.exact is None and "_exact_view" not in fast.__dict__  # nothing exact built yet
    _same_model(fast, instance_from_dict(loads_json(raw)))


def test_fast_path_reads_indented_and_exponent_forms():
    """White space, ``1e-05`` exponents and ``1.0`` integers are read by value."""
    from theory.fastjson import fast_instance

    model = paper_tree(3, 0)
    document = instance_to_dict(model)
    document["agent_reward"][0][1] = 1e-05
    document["principal_reward"][1][0] = 1.0
    raw = json.dumps(document, indent=2).encode()
    fast = fast_instance(raw)
    assert fast is not None
    _same_model(fast, instance_from_dict(loads_json(raw)))


@pytest.mark.parametrize(
    "token",
    ["0.10000000000000000001", "1e-400", "123456789012345678901", '"1/3"', '"0.5"'],
)
def test_numbers_a_float_cannot_hold_go_to_the_exact_reader(tmp_path, token):
    """A decimal longer than its float's shortest decimal, an underflow, a big integer or a
    string number: the fast path declines and load_instance keeps the exact value."""
    from theory.fastjson import fast_instance
    from theory.numbers import parse_number

    document = instance_to_dict(paper_tree(3, 0))
    document["agent_reward"][2][1] = "@@"
    raw = json.dumps(document).replace('"@@"', token).encode()
    assert fast_instance(raw) is None
    path = tmp_path / "instance.json"
    path.write_bytes(raw)
    model = load_instance(path, fast=True)
    assert model.exact_data().agent_reward[2, 1] == parse_number(token.strip('"'))


def test_fast_path_gives_the_reference_message_for_every_hostile_case(tmp_path):
    """The hostile-input catalogue through the fast path: the same verdict and message."""
    from test_hostile_input import INSTANCE_CASES

    for number, case in enumerate(INSTANCE_CASES):
        if "100MB" in case.name:
            continue  # the same case runs through the fast path in test_hostile_input
        path = tmp_path / f"case-{number}.json"
        path.write_bytes(case.build())
        outcomes = []
        for fast in (True, False):
            try:
                outcomes.append(("ok", exact_arrays(load_instance(path, fast=fast))))
            except InstanceError as error:
                outcomes.append(("error", str(error)))
        assert outcomes[0] == outcomes[1], case.name


def test_duplicate_keys_anywhere_are_refused_by_the_fast_path_too(tmp_path):
    raw = _float_document(paper_tree(3, 0)).replace(
        b'"discount": 1', b'"discount": 1, "discount": 0'
    )
    path = tmp_path / "duplicate.json"
    path.write_bytes(raw)
    with pytest.raises(InstanceError, match="discount: duplicate key"):
        load_instance(path, fast=True)


def test_fast_solution_writer_writes_the_numbers_of_solution_to_dict(tmp_path):
    """The vectorised writer and solution_to_dict give the same document (numbers compared as
    exact values: the writer may write 0.0 where solution_to_dict writes 0)."""
    from solvers.solve import solve
    from theory.fastjson import write_solution

    model = paper_tree(5, 1)
    solution = solve(model).solution
    arguments = dict(principal_values=solution.principal_values, agent_values=solution.agent_values)
    path = tmp_path / "solution.json"
    write_solution(path, model, solution.recommended, solution.contracts, **arguments)
    fast = json.loads(path.read_text())
    slow = solution_to_dict(model, solution.recommended, solution.contracts, **arguments)
    assert json.dumps(fast, sort_keys=True) == json.dumps(
        json.loads(json.dumps(slow), parse_int=float), sort_keys=True
    )
    document = solution_from_dict(fast, model)
    assert document.contracts_float().tobytes() == np.asarray(solution.contracts).tobytes()


def test_fast_solution_writer_refuses_nan(tmp_path):
    from theory.fastjson import write_solution

    model = paper_tree(2, 0)
    contracts = np.zeros((model.n_states, model.n_outcomes))
    contracts[1, 0] = np.nan
    with pytest.raises(ValueError, match="contract: not a finite number"):
        write_solution(tmp_path / "s.json", model, [0] * model.n_states, contracts)
    assert not (tmp_path / "s.json").exists()
