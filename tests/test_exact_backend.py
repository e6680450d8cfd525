"""Tests of theory.exact_backend: the python-flint backend gives the reference's exact answers.

The reference is the pure-Python Fraction path (``backend="python"``). Every comparison below is
of exact Fractions with ``==`` (no tolerance), on hidden-action and observed-action instances:
the three-state example of PAPER.md §7 (γ = 1 and 9/10), the paper trees of PAPER.md §6,
random episodic and discounted instances, SPE policies, float policies (which need the tie
tolerance) and random policies, and the minimal contracts with and without a nudging margin.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction as F

import numpy as np
import pytest

from solvers.backward_induction import solve_backward_induction
from theory.exact_backend import (
    ENV_VAR,
    _components,
    default_backend,
    distinct_objects,
    flint_available,
    fraction_of,
    resolve_backend,
    to_fmpq,
    to_fmpq_array,
)
from theory.exact_contracts import minimal_contract_exact, two_outcome_contract
from theory.exact_evaluation import evaluate_policy_exact, solve_linear_exact
from theory.generators import paper_tree, random_instance, three_state_example
from theory.model import (
    PrincipalAgentMDP,
    _float_fractions,
    normalise_exact_groups,
    normalise_exact_rows,
)
from theory.numbers import to_fraction
from theory.spe import check_spe
from theory.ties import DEFAULT_TIES, EXACT_TIES

pytestmark = pytest.mark.skipif(not flint_available(), reason="python-flint is not installed")

SOLUTION_FIELDS = (
    "recommended",
    "contracts",
    "principal_values",
    "agent_values",
    "q_bar",
    "principal_q",
    "implementable",
    "contracts_all",
)
EVALUATION_FIELDS = (
    "agent_actions",
    "followed",
    "principal_values",
    "agent_values",
    "q_bar",
    "agent_q",
)


def _same(first, second, fields) -> None:
    for name in fields:
        a, b = getattr(first, name), getattr(second, name)
        assert a.shape == b.shape, name
        assert a.tolist() == b.tolist(), name
        for x, y in zip(np.ravel(a).tolist(), np.ravel(b).tolist(), strict=True):
            assert type(x) is type(y), name  # Fractions (or None / ints / bools) out of both


def _instances():
    """Hidden- and observed-action instances of every family the solvers meet."""
    out = []
    for observed in (False, True):
        tag = "observed" if observed else "hidden"
        out += [
            (f"three-state γ=1 {tag}", three_state_example(observed_action=observed)),
            (
                f"three-state γ=9/10 {tag}",
                three_state_example(observed_action=observed, discount=F(9, 10)),
            ),
            (f"paper tree 5 {tag}", paper_tree(5, 3, observed_action=observed)),
        ]
        for seed in range(3):
            out.append(
                (
                    f"random episodic {seed} {tag}",
                    random_instance(12, 3, 3, seed=seed, observed_action=observed),
                )
            )
            out.append(
                (
                    f"random discounted {seed} {tag}",
                    random_instance(10, 3, 2, seed=seed, episodic=False, observed_action=observed),
                )
            )
    return out


INSTANCES = _instances()
EPISODIC = [(name, m) for name, m in INSTANCES if m.is_episodic]


# ------------------------------------------------------------------------------ selection
def test_default_is_flint_when_installed_and_the_variable_overrides(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_backend() == "flint"
    monkeypatch.setenv(ENV_VAR, "python")
    assert default_backend() == "python" == resolve_backend(None)
    assert resolve_backend("flint") == "flint"
    monkeypatch.setenv(ENV_VAR, "gmp")
    with pytest.raises(ValueError, match=f"{ENV_VAR}: unknown exact backend 'gmp'"):
        default_backend()
    with pytest.raises(ValueError, match="backend: unknown exact backend 'fast'"):
        resolve_backend("fast")


def test_conversions_round_trip_exactly():
    for value in (F(0), F(-7, 10), F(3), F(10**40 + 1, 3**50), F(-(2**200), 7)):
        back = fraction_of(to_fmpq(value))
        assert type(back) is F and back == value
        assert (back.numerator, back.denominator) == (value.numerator, value.denominator)
        assert hash(back) == hash(value)
    assert fraction_of(F(1, 3)) == F(1, 3)


# --------------------------------------------------------------------------- linear solves
def test_components_are_strongly_connected_and_in_dependency_order():
    """0 → 1 → 2 → 0 is a cycle, 3 → 0, 4 alone, 5 ↔ 6 → 4: components {0,1,2}, {3}, {4},
    {5,6}, each listed after every component it depends on."""
    rows = [{1: 1}, {2: 1}, {0: 1}, {0: 1, 3: 1}, {4: 1}, {6: 1}, {5: 1, 4: 1}]
    components = [sorted(c) for c in _components(7, rows)]
    assert sorted(components) == [[0, 1, 2], [3], [4], [5, 6]]
    where = {v: k for k, c in enumerate(components) for v in c}
    for i, row in enumerate(rows):
        for j in row:
            assert where[j] <= where[i]


@pytest.mark.parametrize("seed", range(8))
def test_linear_solves_agree_with_the_reference(seed):
    """Random sparse systems (diagonally dominant, cyclic or triangular): both backends give
    the unique solution, which satisfies M x = b exactly."""
    rng = np.random.default_rng(seed)
    n = 12
    rows = []
    for i in range(n):
        others = rng.choice(n, 3, replace=False) if seed % 2 else rng.integers(0, i + 1, 2)
        row = {int(j): F(int(rng.integers(-3, 4)), int(rng.integers(1, 9))) for j in others}
        row[i] = row.get(i, F(0)) + 5
        rows.append(row)
    rhs = [F(int(rng.integers(-20, 20)), int(rng.integers(1, 30))) for _ in range(n)]
    fast = solve_linear_exact(rows, rhs, backend="flint")
    assert fast == solve_linear_exact(rows, rhs, backend="python")
    for i, row in enumerate(rows):
        assert sum((v * fast[j] for j, v in row.items()), F(0)) == rhs[i]


def test_singular_systems_are_reported_like_the_reference():
    rows = [{0: F(1), 1: F(2)}, {0: F(2), 1: F(4)}]
    for backend in ("flint", "python"):
        with pytest.raises(ValueError, match="singular system: column 1"):
            solve_linear_exact(rows, [F(1), F(2)], backend=backend)
    with pytest.raises(ValueError, match="singular system"):
        solve_linear_exact([{0: F(0)}], [F(1)], backend="flint")


# ------------------------------------------------------------------------ policy evaluation
def _policies(model):
    """The exact SPE (episodic) or the solver's float solution, and two random policies."""
    from solvers.solve import solve

    result = solve(model, exact=model.is_episodic)
    policies = [(result.solution.recommended, result.solution.contracts)]
    rng = np.random.default_rng(model.n_states)
    for _ in range(2):
        rec = rng.integers(-1, model.n_actions, model.n_states)
        pay = [[F(int(k), 4) for k in row] for row in rng.integers(0, 5, (model.n_states, 2))]
        pay = [row + [F(0)] * (model.n_outcomes - 2) for row in pay]
        policies.append((rec, pay))
    return policies


@pytest.mark.parametrize(("name", "model"), INSTANCES, ids=[name for name, _ in INSTANCES])
def test_policy_evaluation_is_identical(name, model):
    for rec, pay in _policies(model):
        for tolerance in (0, F(1, 10**9), F(1, 20)):
            fast = evaluate_policy_exact(model, rec, pay, tie_tolerance=tolerance, backend="flint")
            ref = evaluate_policy_exact(model, rec, pay, tie_tolerance=tolerance, backend="python")
            _same(fast, ref, EVALUATION_FIELDS)


def test_large_discounted_evaluation_is_identical():
    """A 60-state discounted instance: one strongly connected dense block, several rounds of
    policy iteration from a float solution that misses indifference by rounding errors."""
    from solvers.solve import solve

    model = random_instance(60, 2, 2, seed=5, episodic=False)
    spe = solve(model).solution
    for tolerance in (0, DEFAULT_TIES.agent_tol):
        fast = evaluate_policy_exact(
            model, spe.recommended, spe.contracts, tie_tolerance=tolerance, backend="flint"
        )
        ref = evaluate_policy_exact(
            model, spe.recommended, spe.contracts, tie_tolerance=tolerance, backend="python"
        )
        _same(fast, ref, EVALUATION_FIELDS)


@pytest.mark.parametrize(("name", "model"), INSTANCES, ids=[name for name, _ in INSTANCES])
def test_spe_check_is_identical(name, model, monkeypatch):
    """The one SPE checker (hence ``pamdp verify``) under either default backend."""
    rec, pay = _policies(model)[0]
    reports = []
    for backend in ("flint", "python"):
        monkeypatch.setenv(ENV_VAR, backend)
        for ties in (DEFAULT_TIES, EXACT_TIES):
            check = check_spe(model, rec, pay, ties=ties)
            reports.append((check.ok, [(v.kind, v.state, v.amount) for v in check.violations]))
            reports.append(
                [(c.principal_value, c.agent_value, c.deviation_gain) for c in check.states]
            )
    half = len(reports) // 2
    assert reports[:half] == reports[half:]


# ---------------------------------------------------------------------- backward induction
@pytest.mark.parametrize(("name", "model"), EPISODIC, ids=[name for name, _ in EPISODIC])
@pytest.mark.parametrize("rule", ["lowest_index", "agent_best", "agent_worst"])
@pytest.mark.parametrize("margin", [0, F(1, 20)])
def test_backward_induction_is_identical(name, model, rule, margin):
    ties = DEFAULT_TIES.with_(principal_rule=rule, margin=margin)
    fast = solve_backward_induction(model, exact=True, ties=ties, exact_backend="flint")
    ref = solve_backward_induction(model, exact=True, ties=ties, exact_backend="python")
    _same(fast, ref, SOLUTION_FIELDS)


def test_backward_induction_is_identical_on_a_depth_eight_tree():
    for observed in (False, True):
        tree = paper_tree(8, 1, observed_action=observed)
        fast = solve_backward_induction(tree, exact=True, exact_backend="flint")
        ref = solve_backward_induction(tree, exact=True, exact_backend="python")
        _same(fast, ref, SOLUTION_FIELDS)


def _grid_tree(seed: int, discount: float) -> PrincipalAgentMDP:
    """A random episodic instance with two actions and two outcomes whose numbers lie on
    coarse grids, so that the special cases of the two-action closed form all occur: equal
    outcome distributions (g = 0), outcomes an action never produces, zero rewards, principal
    ties, and (with a margin) states where no action is implementable. Each (state, outcome)
    row ends the episode or moves to one or two later states."""
    rng = np.random.default_rng(seed)
    n = 40
    p1 = rng.choice([0.0, 0.5, 1.0], size=(n, 2))
    probs = np.stack([1 - p1, p1], axis=2)
    offsets, nxt, tprob = [0], [], []
    for s in range(n):
        for _ in range(2):
            later = np.arange(s + 1, n)
            k = 0 if s >= n - 3 else int(rng.integers(0, 3))
            if k:
                nxt += rng.choice(later, size=k, replace=False).tolist()
                tprob += [1.0] if k == 1 else [0.5, 0.5]
            offsets.append(len(nxt))
    return PrincipalAgentMDP(
        states=tuple(f"s{i}" for i in range(n)),
        actions=("a0", "a1"),
        outcomes=("o0", "o1"),
        initial_state=0,
        discount=discount,
        outcome_probs=probs,
        agent_reward=rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5], size=(n, 2)),
        principal_reward=rng.choice([0.0, 0.0, 0.5, 1.0], size=(n, 2)),
        transition_offsets=np.array(offsets, dtype=np.int64),
        transition_next=np.array(nxt, dtype=np.int64),
        transition_prob=np.array(tprob),
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("discount", [1.0, 0.9])
@pytest.mark.parametrize("rule", ["lowest_index", "agent_best", "agent_worst"])
@pytest.mark.parametrize("margin", [0, F(1, 2), F(1, 20)])
def test_two_action_closed_form_is_identical_on_grid_instances(seed, discount, rule, margin):
    """The level-by-level two-action path of the flint backend against the reference on
    instances full of ties and degenerate distributions (:func:`_grid_tree`)."""
    model = _grid_tree(seed, discount)
    ties = DEFAULT_TIES.with_(principal_rule=rule, margin=margin)
    fast = solve_backward_induction(model, exact=True, ties=ties, exact_backend="flint")
    ref = solve_backward_induction(model, exact=True, ties=ties, exact_backend="python")
    _same(fast, ref, SOLUTION_FIELDS)


def test_grid_instances_reach_every_special_case():
    """The cases :func:`_grid_tree` is for do occur (so the test above covers them)."""
    ties_seen = g_zero = unimplementable = False
    for seed in range(6):
        model = _grid_tree(seed, 1.0)
        p1 = model.outcome_probs[:, :, 1]
        g_zero |= bool((p1[:, 0] == p1[:, 1]).any())
        ref = solve_backward_induction(model, exact=True, exact_backend="python")
        q = ref.principal_q
        ties_seen |= any(q[s, 0] == q[s, 1] for s in range(model.n_states))
        nudged = solve_backward_induction(
            model, exact=True, ties=DEFAULT_TIES.with_(margin=F(1, 2)), exact_backend="python"
        )
        unimplementable |= bool((~nudged.implementable).any())
    assert ties_seen and g_zero and unimplementable


# ------------------------------------------------------------------------------ exact view
def _view_by_definition(model: PrincipalAgentMDP) -> list[np.ndarray]:
    """The exact view read number by number (``to_fraction`` of each float), then rows and
    CSR groups normalised: the definition the fast view must reproduce."""

    def read(values):
        out = np.empty(values.shape, dtype=object)
        for index, value in np.ndenumerate(values):
            out[index] = to_fraction(value)
        return out

    probs = read(model.outcome_probs)
    normalise_exact_rows(probs.reshape(-1, model.n_outcomes))
    transition = read(model.transition_prob)
    normalise_exact_groups(transition, model.transition_offsets)
    return [probs, read(model.agent_reward), read(model.principal_reward), transition]


def test_exact_view_is_the_number_by_number_reading():
    """Fresh float instances (no stored exact numbers), with repeated numbers, -0.0, rows
    summing to 1 only within the tolerance (three 0.3333333333333333: exactly 1/3 each) and
    numbers repr writes with an exponent."""
    models = [paper_tree(6, 1), paper_tree(5, 2, observed_action=True)]
    for seed in range(3):
        model = random_instance(15, 3, 3, seed=seed, episodic=seed != 1)
        models.append(dataclasses.replace(model, exact=None))
    third = 0.3333333333333333
    model = random_instance(6, 2, 3, seed=5)
    probs = model.outcome_probs.copy()
    probs[0, 0] = (third, third, third)
    rewards = model.agent_reward.copy()
    rewards[0] = (-0.0, 1.5e-7)
    rewards[1] = (2.5e17, -3e-300)
    models.append(dataclasses.replace(model, outcome_probs=probs, agent_reward=rewards, exact=None))
    for model in models:
        data = model.exact_data()
        fast = [data.outcome_probs, data.agent_reward, data.principal_reward]
        fast.append(data.transition_prob)
        for got, expected in zip(fast, _view_by_definition(model), strict=True):
            assert got.shape == expected.shape
            assert got.tolist() == expected.tolist()
            assert all(type(x) is F for x in got.ravel())
    assert models[-1].exact_data().outcome_probs[0, 0].tolist() == [F(1, 3)] * 3


def test_float_fractions_are_the_shortest_decimals():
    """``_float_fractions`` is ``Fraction(repr(x))``, in lowest terms, for floats of every
    size and sign (with and without an exponent in their repr)."""
    rng = np.random.default_rng(3)
    values = (rng.standard_normal(4000) * 10.0 ** rng.integers(-12, 22, 4000)).tolist()
    values += [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        1 / 3,
        1e16,
        1e-5,
        9.999e-5,
        5e-324,
        1.7976931348623157e308,
    ]
    got = _float_fractions(values)
    assert got == [F(repr(x)) for x in values]
    assert all(type(x) is F and math.gcd(x.numerator, x.denominator) == 1 for x in got)


def test_fmpq_arrays_convert_each_distinct_object_once():
    """Equal numbers held by one object share one fmpq; the values are the Fractions'."""
    half = F(1, 2)
    values = np.array([[half, F(1, 3)], [half, F(1, 2)]], dtype=object)
    distinct, inverse = distinct_objects(values)
    assert len(distinct) == 3 and inverse.tolist()[0] == inverse.tolist()[2]
    converted = to_fmpq_array(values)
    assert converted[0, 0] is converted[1, 0]
    assert [fraction_of(x) for x in converted.ravel()] == values.ravel().tolist()


# ---------------------------------------------------------------------------- contracts
def test_two_outcome_closed_form_is_the_lp_answer():
    """Random two-outcome states (probabilities on a 1/10 grid, so equal distributions and
    zero probabilities occur; Q̄ on a 1/5 grid, so ties occur), every action, margins 0 and
    1/10: the closed form returns the simplex's contract, feasibility and payment, in
    Fractions and in fmpq."""
    rng = np.random.default_rng(7)
    for _ in range(400):
        n_a = int(rng.integers(1, 5))
        p1 = [F(int(k), 10) for k in rng.integers(0, 11, n_a)]
        probs = [(1 - p, p) for p in p1]
        q_bar = [F(int(k), 5) for k in rng.integers(-5, 6, n_a)]
        for margin in (F(0), F(1, 10)):
            for a in range(n_a):
                lp = minimal_contract_exact(q_bar, probs, a, margin=margin)
                expected = (lp.contract, lp.implementable, lp.expected_payment)
                assert two_outcome_contract(q_bar, probs, a, margin, F(0)) == expected
                contract, feasible, paid = two_outcome_contract(
                    [to_fmpq(x) for x in q_bar],
                    [tuple(to_fmpq(x) for x in row) for row in probs],
                    a,
                    to_fmpq(margin),
                    to_fmpq(0),
                )
                got = (
                    tuple(fraction_of(x) for x in contract),
                    feasible,
                    None if paid is None else fraction_of(paid),
                )
                assert got == expected


def test_zero_entries_and_their_columns_are_ignored_like_the_reference():
    """A stored zero (even in a column out of range) is no entry at all, in both backends."""
    rows = [{0: F(2), 1: F(0), 7: F(0)}, {1: F(4), 0: F(1)}]
    for backend in ("flint", "python"):
        assert solve_linear_exact(rows, [F(1), F(3)], backend=backend) == [F(1, 2), F(5, 8)]
