"""Tests of properties.claims.deep: the deep backend's properties hold on generated instances
and each fails on a planted error (a principal that ignores the agent's continuation).

CI-sized: a few Hypothesis examples per property (each example trains one small run), plus
the pinned witnesses. The planted error's failure is derived by hand in
:func:`properties.claims.deep.continuation_trap`.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

pytest.importorskip("torch")

from properties.claims.deep import (
    DEEP_CLAIMS,
    MyopicAgentTrainer,
    check_deep_discounted,
    check_deep_exact_agent,
    check_deep_learned_agent,
    continuation_trap,
    deep_cases,
    discounted_cases,
)
from theory.generators import random_instance

FEW = settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


# ----------------------------------------------------------------- generated instances
@FEW
@given(deep_cases())
def test_exact_agent_property_holds_on_generated_instances(case: dict) -> None:
    result = check_deep_exact_agent(**case)
    assert result.holds, result.explain()


@FEW
@given(deep_cases())
def test_learned_agent_property_holds_on_generated_instances(case: dict) -> None:
    result = check_deep_learned_agent(**case)
    assert result.holds, result.explain()


@FEW
@given(discounted_cases())
def test_discounted_property_holds_on_generated_instances(case: dict) -> None:
    result = check_deep_discounted(**case)
    assert result.holds, result.explain()


def test_discounted_property_applies_to_a_pinned_instance_with_a_unique_spe() -> None:
    """Random instance (3 states, 2 actions, 2 outcomes, γ = 1/2, seed 5): exactly one pure
    stationary SPE (``solvers.equilibria``), reached in exact-agent mode."""
    model = random_instance(3, 2, 2, seed=5, episodic=False, discount="1/2")
    result = check_deep_discounted(model, seed=0)
    assert result.applicable
    assert result.holds, result.explain()


# ----------------------------------------------------------------- planted error
@pytest.mark.parametrize(
    ("check", "discounted"),
    [
        (check_deep_exact_agent, False),
        (check_deep_learned_agent, False),
        (check_deep_discounted, True),
    ],
)
def test_every_property_fails_on_a_principal_that_ignores_the_agents_continuation(
    check: object, discounted: bool
) -> None:
    """On :func:`continuation_trap` the SPE recommends ``a0`` (V^p(s0) = 0.3); the planted
    principal prices ``a1`` as if the agent had no future (b(o1) = 1.25 instead of 6.25),
    recommends it and, implemented exactly, earns 2.7 − 5.625 = −2.925 (by hand, in the
    witness's docstring). The real trainer passes on the same instance."""
    model = continuation_trap(discounted)
    assert callable(check)
    budget = {"iterations": 800, "validate_every": 800}  # two states: a short run suffices
    honest = check(model, seed=0, budget=budget)
    assert honest.applicable and honest.holds, honest.explain()
    planted = check(model, seed=0, trainer=MyopicAgentTrainer, budget=budget)
    assert not planted.holds
    assert planted.measurements["value"] == pytest.approx(-2.925, abs=1e-9)


def test_claims_are_exposed_with_their_checks() -> None:
    keys = [c.key for c in DEEP_CLAIMS]
    assert keys == ["deep-exact-agent", "deep-learned-agent", "deep-discounted"]
    assert [c.check for c in DEEP_CLAIMS] == [
        check_deep_exact_agent,
        check_deep_learned_agent,
        check_deep_discounted,
    ]
