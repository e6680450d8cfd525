"""Tests of the Hypothesis strategies (properties/strategies.py) and their registration."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample

from properties import strategies as pst
from properties._hypothesis_plugin import _register
from properties.profiles import profile_settings
from theory.exact_contracts import minimal_contract_exact
from theory.model import PrincipalAgentMDP

BAD_ARGUMENTS = [
    ({"max_states": 0}, "max_states"),
    ({"min_states": 3, "max_states": 2}, "min_states"),
    ({"max_actions": 1.5}, "max_actions"),
    ({"min_actions": True}, "min_actions"),
    ({"min_outcomes": 3, "max_outcomes": 2}, "min_outcomes"),
    ({"family": "cyclic"}, "family"),
    ({"shape": "forest"}, "shape"),
    ({"observed_action": "yes"}, "observed_action"),
    ({"exact": 1}, "exact"),
    ({"degenerate": None}, "degenerate"),
    ({"family": "discounted", "discounts": [1]}, "discounts"),
    ({"discounts": [Fraction(1, 2)]}, "discounts"),
]


@pytest.mark.parametrize(("kwargs", "name"), BAD_ARGUMENTS)
def test_bad_arguments_are_rejected_eagerly(kwargs, name):
    # raised when the strategy is built, not when it is drawn from, naming the argument
    with pytest.raises(InvalidArgument, match=name):
        pst.instances(**kwargs)


@pytest.mark.parametrize("builder", [pst.contracts, pst.q_tables])
def test_auxiliary_strategies_validate(builder):
    with pytest.raises(InvalidArgument, match="n_"):
        builder(0, 2) if builder is pst.q_tables else builder(0)


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        pst.instances("episodic")  # type: ignore[misc]


@profile_settings()
@given(pst.instances(family="episodic", min_states=2, max_states=5, max_actions=3, max_outcomes=4))
def test_episodic_instances(model):
    assert model.is_episodic
    assert 2 <= model.n_states <= 5 and 1 <= model.n_actions <= 3
    assert model.n_outcomes <= (model.n_actions if model.observed_action else 4)
    # float mode: the exact view is the drawn grid, so rows sum to 1 exactly
    data = model.exact_data()
    assert all(
        sum(row, Fraction(0)) == 1
        for row in data.outcome_probs.reshape(-1, model.n_outcomes).tolist()
    )
    assert model.exact is None


@profile_settings()
@given(pst.discounted_instances(max_states=4, exact=True))
def test_discounted_instances_are_exact_with_gamma_below_one(model):
    assert model.exact is not None
    assert model.exact.discount < 1
    # every (state, outcome) continues: the episode never ends
    assert np.all(np.diff(model.transition_offsets) > 0)


@profile_settings()
@given(pst.episodic_instances(shape="tree", min_states=2, max_states=6))
def test_trees_have_one_parent_per_state(model):
    in_degree = np.asarray(model.state_graph.sum(axis=0)).ravel()
    assert in_degree[0] == 0 and np.all(in_degree[1:] == 1)
    assert model.reachable.all()


@pytest.mark.parametrize("observed", [True, False])
@profile_settings()
@given(data=st.data())
def test_observed_action_flag(observed, data):
    model = data.draw(pst.instances(observed_action=observed))
    assert model.observed_action is observed
    if observed:
        assert model.outcomes == model.actions


def _unimplementable(model: PrincipalAgentMDP) -> bool:
    """Some action of some state cannot be implemented for Q̄ = r (the agent's rewards)."""
    data = model.exact_data()
    return any(
        not minimal_contract_exact(
            data.agent_reward[s].tolist(), data.outcome_probs[s].tolist(), a
        ).implementable
        for s in range(model.n_states)
        for a in range(model.n_actions)
    )


@pytest.mark.parametrize(
    ("description", "predicate"),
    [
        ("an agent tie", lambda m: any(len(set(r)) < len(r) for r in m.agent_reward.tolist())),
        ("zero rewards", lambda m: not m.agent_reward.any() and not m.principal_reward.any()),
        (
            "identical outcome distributions",
            lambda m: any(
                len({tuple(p) for p in m.outcome_probs[s].tolist()}) < m.n_actions
                for s in range(m.n_states)
            ),
        ),
        ("an unimplementable action", _unimplementable),
        ("γ near 0", lambda m: 0 < m.discount < 0.01),
        ("γ near 1", lambda m: 0.99 <= m.discount < 1),
        ("γ = 0", lambda m: m.discount == 0),
    ],
)
def test_degeneracy_is_generated(description, predicate):
    model = find(
        pst.instances(min_actions=2, max_actions=3, observed_action=False),
        predicate,
        settings=profile_settings("ci", max_examples=2000),
    )
    assert predicate(model), description


def test_non_degenerate_instances_avoid_extreme_discounts():
    strategy = pst.instances(degenerate=False)
    with pytest.raises(NoSuchExample):
        find(
            strategy,
            lambda m: m.discount in (0.0, 0.001, 0.999),
            settings=profile_settings("ci", max_examples=300),
        )


def test_registered_for_from_type():
    _register()  # idempotent: the entry point has already run it
    model = find(
        st.from_type(PrincipalAgentMDP),
        lambda m: m.n_states >= 2,
        settings=profile_settings("ci", max_examples=200),
    )
    assert isinstance(model, PrincipalAgentMDP)


@profile_settings()
@given(st.data())
def test_q_pairs_and_contracts(data):
    q1, q2 = data.draw(pst.q_pairs(3, 2))
    assert q1.shape == q2.shape == (3, 2)
    assert np.all(np.isfinite(q1)) and np.all(np.isfinite(q2))
    b = data.draw(pst.contracts(3, max_payment=2))
    assert b.shape == (3,) and np.all(b >= 0) and np.all(b <= 2)
