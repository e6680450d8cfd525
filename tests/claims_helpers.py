"""Shared fixtures of the claim tests: hand-derived instances and deliberately broken variants
of the code under test (the planted errors that show a property has teeth)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from properties.claims import claim
from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.meta_algorithm import principal_q_operator
from theory.generators import random_instance, three_state_example
from theory.model import PrincipalAgentMDP, build_model
from theory.ties import Ties

REGRESSIONS = Path(__file__).parent / "regressions"


def short_solution(solution: SPESolution, factor: float = 0.99) -> SPESolution:
    """Every contract 1% short."""
    return replace(
        solution,
        contracts=np.asarray(solution.contracts, float) * factor,
        contracts_all=np.asarray(solution.contracts_all, float) * factor,
    )


def short_solver(model: PrincipalAgentMDP) -> SPESolution:
    return short_solution(solve_backward_induction(model))


def against_principal_solver(model: PrincipalAgentMDP) -> SPESolution:
    """Ties broken against the principal: the agent must strictly prefer a^p (ξ = 10⁻³)."""
    return solve_backward_induction(model, ties=Ties(margin=1e-3))


def truncate_last_level(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """The instance with every transition into a state of height 0 cut (episode ends)."""
    heights = model.heights
    assert heights is not None
    data = model.exact_data()
    n_o = model.n_outcomes
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    probs = data.transition_prob.tolist()
    transitions = []
    for s in range(model.n_states):
        row = []
        for o in range(n_o):
            entries = [
                [nxt[k], probs[k]] for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1])
            ]
            row.append([] if any(heights[t] == 0 for t, _ in entries) else entries)
        transitions.append(row)
    return build_model(
        states=list(model.states),
        actions=list(model.actions),
        outcomes=list(model.outcomes),
        initial_state=model.initial_state,
        discount=data.discount,
        outcome_probs=data.outcome_probs.tolist(),
        agent_reward=data.agent_reward.tolist(),
        principal_reward=data.principal_reward.tolist(),
        transitions=transitions,
        observed_action=model.observed_action,
        exact=True,
    )


def skipped_level_solver(model: PrincipalAgentMDP) -> SPESolution:
    """Backward induction that skips the last level (its continuation values are lost)."""
    return solve_backward_induction(truncate_last_level(model))


def index_order_solver(model: PrincipalAgentMDP) -> SPESolution:
    """Backward induction assuming states are listed in topological order (index order)."""
    fake = replace(model)
    fake.__dict__["heights"] = model.n_states - 1 - np.arange(model.n_states)
    return solve_backward_induction(fake)


def with_discount(model: PrincipalAgentMDP, gamma: float) -> PrincipalAgentMDP:
    return replace(model, discount=gamma)


def wrong_discount_operator(model: PrincipalAgentMDP, q: Any, **kwargs: Any) -> Any:
    """The principal-Q operator computed with γ' = (1 + γ)/2 instead of γ."""
    return principal_q_operator(with_discount(model, (1 + model.discount) / 2), q, **kwargs)


THREE = three_state_example()


THREE_DISCOUNTED = three_state_example(discount=Fraction(9, 10))


THREE_OBSERVED = three_state_example(observed_action=True)


DISCOUNTED = random_instance(3, 2, 2, seed=0, episodic=False)


def one_state(agent: list[Any], probs: list[list[Any]]) -> PrincipalAgentMDP:
    n_a, n_o = len(agent), len(probs[0])
    return build_model(
        states=["s"],
        actions=[f"a{i}" for i in range(n_a)],
        outcomes=[f"o{i}" for i in range(n_o)],
        initial_state=0,
        discount=1,
        outcome_probs=[probs],
        agent_reward=[agent],
        principal_reward=[[0] * n_o],
        transitions=[[[] for _ in range(n_o)]],
        exact=True,
    )


def claim_run(key: str, n: int = 30) -> Any:
    from properties.report import run_claim

    return run_claim(claim(key), "ci", max_examples=n)
