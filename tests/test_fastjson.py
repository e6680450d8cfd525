"""Tests of theory/fastjson.py: the chunked number reader, the streaming solution and instance
writers, and the reading of a file by path (issue 14). The expected values come from a second,
independent method each time: Python's ``float`` and ``Decimal`` for the parser, the reference
document builders (``instance_to_dict``, ``solution_to_dict``) and the reference reader
(``loads_json`` + ``instance_from_dict``) for the writers."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import theory.fastjson as fastjson
from solvers.solve import solve
from theory.fastjson import (
    fast_instance,
    fast_solution,
    parse_numbers,
    write_instance,
    write_solution,
)
from theory.format import (
    SolutionError,
    instance_from_dict,
    instance_to_dict,
    load_instance,
    load_solution,
    loads_json,
    save_instance,
    solution_from_dict,
    solution_to_dict,
)
from theory.generators import paper_tree, random_instance, three_state_example
from theory.model import to_fraction

TOKENS = [b"0.9", b"-0", b"1", b"2.5e-05", b"1E+2", b"0.1e1", b"-1.5", b"123456789", b"5e-324"]


@pytest.mark.parametrize("chunk", [1, 8, 1 << 18])
def test_parse_numbers_reads_each_token_as_python_float_does(monkeypatch, chunk):
    """Whatever the chunk size (a chunk ends at the first comma after CHUNK_BYTES), the
    floats are ``float(token)`` (``-0`` as ``0``, as the exact value 0 reads) and all these
    tokens are lossless: each is exactly the decimal of its float's shortest repr."""
    monkeypatch.setattr(fastjson, "CHUNK_BYTES", chunk)
    parsed = parse_numbers(b",".join(TOKENS), len(TOKENS))
    assert parsed is not None
    floats, lossless = parsed
    expected = [float(t) + 0.0 for t in TOKENS]
    assert floats.tolist() == expected
    assert not np.signbit(floats[TOKENS.index(b"-0")])  # 0, not -0
    assert lossless is True
    assert all(
        Decimal(t.decode()) == Decimal(repr(x)) for t, x in zip(TOKENS, expected, strict=True)
    )


@pytest.mark.parametrize(
    "token", [b"0.10000000000000000001", b"9007199254740993", b"1e-400", b"0.3000000000000000"]
)
def test_parse_numbers_flags_tokens_a_float_does_not_hold_exactly(token):
    """Decimal(token) differs from the decimal of the float's shortest repr (checked here
    with Decimal independently), except for a trailing zero, which is the same value."""
    parsed = parse_numbers(b"0.5," + token + b",2", 3)
    assert parsed is not None
    exact = Decimal(token.decode()) == Decimal(repr(float(token)))
    assert parsed[1] is exact
    assert exact is (token == b"0.3000000000000000")


@pytest.mark.parametrize(
    ("text", "count"),
    [(b"1,1e400", 2), (b"1,,2", 3), (b"1.2.3", 1), (b"1,2", 3), (b"1,2,3", 2), (b"nan", 1)],
)
def test_parse_numbers_declines_what_is_not_count_finite_numbers(text, count):
    assert parse_numbers(text, count) is None


def test_number_text_collapses_brackets_and_empty_lists():
    """``[[[1,0.5],[2,0.5]],[[],[]]]`` has the four numbers 1, 0.5, 2, 0.5 (by hand)."""
    assert fastjson._number_text(b"[[[[1,0.5],[2,0.5]],[[],[]]]]") == (b"1,0.5,2,0.5", 4)
    assert fastjson._number_text(b"[[[],[[3,1]]],[[[4,1e-5]],[]]]") == (b"3,1,4,1e-5", 4)
    assert fastjson._number_text(b"[[[],[]]]") == (b"", 0)


_MODELS = [
    ("tree", lambda: paper_tree(4, 2)),
    ("tree-observed", lambda: paper_tree(3, 1, observed_action=True)),
    ("random-episodic", lambda: replace(random_instance(9, 3, 2, seed=0), exact=None)),
    (
        "random-discounted",
        lambda: replace(random_instance(8, 2, 3, seed=4, episodic=False), exact=None),
    ),
    ("three-state", lambda: replace(three_state_example(), exact=None)),
]


@pytest.mark.parametrize("chunk", [1, 2, 1 << 12])
@pytest.mark.parametrize("build", [b for _, b in _MODELS], ids=[n for n, _ in _MODELS])
def test_instance_writer_writes_the_document_of_instance_to_dict(
    tmp_path, monkeypatch, build, chunk
):
    """The streamed document equals instance_to_dict's (parsed by json.loads, so the same
    values and key order), also with blocks of one or two states (rows of the CSR arrays
    split across blocks, empty rows, several entries per row), and reads back, by the fast
    path and by the reference reader, as the same floats and the same exact view."""
    monkeypatch.setattr(fastjson, "CHUNK_STATES", chunk)
    model = build()
    path = tmp_path / "instance.json"
    write_instance(path, model)
    raw = path.read_bytes()
    written = json.loads(raw)
    expected = json.loads(json.dumps(instance_to_dict(model)))
    assert list(written) == list(expected) and written == expected
    fast = fast_instance(raw)
    assert fast is not None  # shortest decimals: the fast path accepts every number
    slow = instance_from_dict(loads_json(raw))
    for field in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
        assert getattr(fast, field).tobytes() == (getattr(model, field) + 0.0).tobytes()
        assert getattr(fast, field).tobytes() == getattr(slow, field).tobytes()
    assert fast.transition_offsets.tolist() == model.transition_offsets.tolist()
    assert fast.transition_next.tolist() == model.transition_next.tolist()


def test_save_instance_streams_float_models_and_keeps_exact_ones_exact(tmp_path):
    """A float model goes through write_instance; an exact one keeps its rationals."""
    exact = three_state_example()
    save_instance(exact, tmp_path / "exact.json")
    assert (
        load_instance(tmp_path / "exact.json").exact_data().agent_reward[0, 0]
        == (exact.exact_data().agent_reward[0, 0])
    )
    with pytest.raises(ValueError, match="float models"):
        write_instance(tmp_path / "x.json", exact)
    tree = paper_tree(3, 0)
    save_instance(tree, tmp_path / "tree.json")
    assert (tmp_path / "tree.json").read_bytes().startswith(b'{"format":"pamdp/instance@1"')


@pytest.mark.parametrize("chunk", [1, 3])
def test_streamed_solution_is_the_same_file_in_any_block_size(tmp_path, monkeypatch, chunk):
    """Blocks of one or three states give byte for byte the file of one block, and its
    values are those of solution_to_dict."""
    model = paper_tree(4, 1)
    solution = solve(model).solution
    arguments: dict[str, Any] = dict(
        principal_values=solution.principal_values, agent_values=solution.agent_values
    )
    one_block = tmp_path / "one.json"
    write_solution(one_block, model, solution.recommended, solution.contracts, **arguments)
    monkeypatch.setattr(fastjson, "CHUNK_STATES", chunk)
    blocks = tmp_path / "blocks.json"
    write_solution(blocks, model, solution.recommended, solution.contracts, **arguments)
    assert blocks.read_bytes() == one_block.read_bytes()
    expected = solution_to_dict(model, solution.recommended, solution.contracts, **arguments)
    assert json.loads(blocks.read_bytes()) == json.loads(json.dumps(expected), parse_int=float)


def test_fast_instance_reads_a_path_as_its_bytes(tmp_path):
    model = paper_tree(3, 2)
    path = tmp_path / "tree.json"
    save_instance(model, path)
    by_path, by_bytes = fast_instance(path), fast_instance(path.read_bytes())
    assert by_path is not None and by_bytes is not None
    assert by_path.agent_reward.tobytes() == by_bytes.agent_reward.tobytes()


def _exact_document(document) -> tuple[Any, ...]:
    """A solution document as exact values (floats read as their shortest decimals)."""
    policy = tuple(
        (
            entry.state,
            entry.recommended_action,
            tuple(to_fraction(x) for x in entry.contract),
            None if entry.principal_value is None else to_fraction(entry.principal_value),
            None if entry.agent_value is None else to_fraction(entry.agent_value),
        )
        for entry in document.policy
    )
    return (document.instance_name, policy, document.principal_value, document.agent_value)


def test_fast_solution_reader_gives_the_reference_document(tmp_path):
    """A solved tree written by the streaming writer: the fast reader's document has the
    reference reader's exact values (and its ``solver`` object), and the same floats."""
    model = paper_tree(5, 2)
    result = solve(model)
    solution = result.solution
    path = tmp_path / "solution.json"
    write_solution(
        path,
        model,
        solution.recommended,
        solution.contracts,
        principal_values=solution.principal_values,
        agent_values=solution.agent_values,
        extra={"solver": result.settings()},
    )
    fast = fast_solution(path, model)
    slow = solution_from_dict(loads_json(path.read_bytes()), model)
    assert fast is not None
    assert _exact_document(fast) == _exact_document(slow) and fast.extra == slow.extra
    assert fast.contracts_float().tobytes() == np.asarray(solution.contracts).tobytes()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"instance":"', b'"instance":"other '),  # another instance's name
        (b'"contract":[', b'"implementable":[true],"contract":['),  # a field it leaves alone
        (b'"contract":[', b'"x-note":1,"contract":['),
        (b'"contract":[0', b'"contract":["0"'),  # a string number
        (b'"contract":[0', b'"contract":[0.10000000000000000001'),  # not a float's decimal
        (b'"state":"s0"', b'"state":"s0","state":"s0"'),  # a duplicate key in an entry
        (b'"format"', b'"policy":[],"format"'),  # a duplicate top-level key
        (b'"state":"s0"', b'"state":"s\\u0030"'),  # an escape
        (b'"contract":[0', b'"contract":[-1'),  # a negative payment (verify reports it)
    ],
)
def test_fast_solution_reader_leaves_everything_unusual_to_the_reference(tmp_path, old, new):
    model = paper_tree(3, 0)
    solution = solve(model).solution
    path = tmp_path / "solution.json"
    write_solution(path, model, solution.recommended, solution.contracts)
    raw = path.read_bytes()
    assert fast_solution(raw, model) is not None
    assert raw.count(old) >= 1
    assert fast_solution(raw.replace(old, new, 1), model) is None


def test_every_hostile_solution_case_reads_alike_through_the_fast_path(tmp_path, monkeypatch):
    """The hostile-input catalogue through load_solution with the fast path on for every
    size: the same verdict and message as the reference reader, the same exact values."""
    from test_hostile_input import SOLUTION_CASES, _model

    import theory.format as format_module

    model = _model()
    for number, case in enumerate(SOLUTION_CASES):
        path = tmp_path / f"case-{number}.json"
        path.write_bytes(case.build().replace(b'"@@"', b"NaN"))
        outcomes: list[tuple[str, Any]] = []
        for threshold in (0, 1 << 60):
            monkeypatch.setattr(format_module, "FAST_PATH_BYTES", threshold)
            try:
                outcomes.append(("ok", _exact_document(load_solution(path, model))))
            except SolutionError as error:
                outcomes.append(("error", str(error)))
        assert outcomes[0] == outcomes[1], case.name
