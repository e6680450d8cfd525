"""Pure instance transforms and exact values of an instance (PAPER.md §1; FORMAT.md v1).

Each function takes a :class:`~theory.model.PrincipalAgentMDP` and returns a new instance (or
exact values of it), in exact rational arithmetic, without solving the game:

* :func:`observed_counterpart` — the observed-action instance with the same expectations;
* :func:`scale_rewards` — every reward multiplied by a positive factor;
* :func:`relabel` — states, actions and outcomes listed in a new order;
* :func:`first_best_values` — the planner's (first-best) welfare ``W*``;
* :func:`no_contract_agent_values` — the agent's value when it is never paid.

The metamorphic properties (:mod:`properties.claims.metamorphic`) compare the SPE of an instance
with that of its transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP, build_model, to_fraction
from theory.rational import ZERO as _ZERO
from theory.rational import dot as _dot


def observed_counterpart(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """The observed-action version of a hidden-action instance, with the same expectations.

    Outcomes become the actions; ``r^p(s, a) = Σ_o 𝒪(s, a)(o) r^p(s, o)`` and
    ``T(s, a) = Σ_o 𝒪(s, a)(o) T(s, o)`` (PAPER.md §7 builds its observed variant this way).
    Where some outcomes of ``a`` end the episode and others do not, the ending probability is
    sent to an extra absorbing state ``end`` (zero rewards, ends the episode), since FORMAT.md
    transitions either end or sum to 1. Exact rationals throughout.
    """
    data = model.exact_data()
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    probs = data.outcome_probs
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    transitions: list[list[list[list[Any]]]] = []
    needs_end = False
    end = n_s
    for s in range(n_s):
        row = []
        for a in range(n_a):
            dist: dict[int, Fraction] = {}
            ending = _ZERO
            for o in range(n_o):
                p = probs[s, a, o]
                lo, hi = offsets[s * n_o + o], offsets[s * n_o + o + 1]
                if hi == lo:
                    ending += p
                for k in range(lo, hi):
                    dist[nxt[k]] = dist.get(nxt[k], _ZERO) + p * tprob[k]
            if dist and ending:
                dist[end] = ending
                needs_end = True
            row.append([[t, p] for t, p in sorted(dist.items()) if p])
        transitions.append(row)
    principal = [
        [_dot(probs[s, a].tolist(), data.principal_reward[s].tolist()) for a in range(n_a)]
        for s in range(n_s)
    ]
    agent = data.agent_reward.tolist()
    states = list(model.states)
    if needs_end:
        states.append("end" if "end" not in states else f"end{n_s}")
        principal.append([_ZERO] * n_a)
        agent.append([_ZERO] * n_a)
        transitions.append([[] for _ in range(n_a)])
    n = len(states)
    return build_model(
        states=states,
        actions=list(model.actions),
        outcomes=list(model.actions),
        initial_state=model.initial_state,
        discount=data.discount,
        outcome_probs=[[[int(o == a) for o in range(n_a)] for a in range(n_a)] for _ in range(n)],
        agent_reward=agent,
        principal_reward=principal,
        transitions=transitions,
        observed_action=True,
        name=f"{model.name} (observed counterpart)",
        exact=True,
    )


def first_best_values(model: PrincipalAgentMDP) -> list[Fraction]:
    """First-best welfare ``W*(s)``: the optimal value of ``r(s, a) + E_{𝒪(s,a)}[r^p]``
    when a planner chooses the actions (exact)."""
    data = model.exact_data()
    welfare = [
        [
            data.agent_reward[s, a]
            + _dot(data.outcome_probs[s, a].tolist(), data.principal_reward[s].tolist())
            for a in range(model.n_actions)
        ]
        for s in range(model.n_states)
    ]
    planner = replace(
        model,
        exact=replace(data, agent_reward=np.array(welfare, dtype=object)),
        agent_reward=np.array([[float(x) for x in row] for row in welfare]),
    )
    return no_contract_agent_values(planner)


def no_contract_agent_values(model: PrincipalAgentMDP) -> list[Fraction]:
    """The agent's optimal value when it is never paid (exact)."""
    evaluation = evaluate_policy_exact(
        model, [-1] * model.n_states, [[0] * model.n_outcomes] * model.n_states
    )
    return [to_fraction(v) for v in evaluation.agent_values]


def scale_rewards(model: PrincipalAgentMDP, factor: Any) -> PrincipalAgentMDP:
    """The instance with every reward (agent's and principal's) multiplied by ``factor``."""
    c = to_fraction(factor)
    data = model.exact_data()
    agent = data.agent_reward * c
    principal = data.principal_reward * c
    return replace(
        model,
        agent_reward=np.array(agent.tolist(), dtype=np.float64),
        principal_reward=np.array(principal.tolist(), dtype=np.float64),
        exact=replace(data, agent_reward=agent, principal_reward=principal),
        name=f"{model.name} (rewards × {c})",
    )


def relabel(
    model: PrincipalAgentMDP,
    state_order: Sequence[int],
    action_order: Sequence[int],
    outcome_order: Sequence[int] | None = None,
) -> PrincipalAgentMDP:
    """The same instance with states, actions and outcomes listed in a new order.

    ``state_order[i]`` is the old index of the new state ``i`` (likewise for actions and
    outcomes); names travel with their elements. With observed action the outcomes follow
    the actions.
    """
    data = model.exact_data()
    s_ord, a_ord = list(state_order), list(action_order)
    o_ord = (
        a_ord
        if model.observed_action
        else list(outcome_order if outcome_order is not None else range(model.n_outcomes))
    )
    new_of_old = {old: new for new, old in enumerate(s_ord)}
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    n_o = model.n_outcomes
    transitions = []
    for old_s in s_ord:
        row = []
        for old_o in o_ord:
            lo, hi = offsets[old_s * n_o + old_o], offsets[old_s * n_o + old_o + 1]
            row.append(sorted([[new_of_old[nxt[k]], tprob[k]] for k in range(lo, hi)]))
        transitions.append(row)
    probs = data.outcome_probs[np.ix_(s_ord, a_ord, o_ord)]
    return build_model(
        states=[model.states[s] for s in s_ord],
        actions=[model.actions[a] for a in a_ord],
        outcomes=[model.outcomes[o] for o in o_ord],
        initial_state=new_of_old[model.initial_state],
        discount=data.discount,
        outcome_probs=probs.tolist(),
        agent_reward=data.agent_reward[np.ix_(s_ord, a_ord)].tolist(),
        principal_reward=data.principal_reward[np.ix_(s_ord, o_ord)].tolist(),
        transitions=transitions,
        observed_action=model.observed_action,
        name=f"{model.name} (relabelled)",
        exact=True,
    )


__all__ = [
    "first_best_values",
    "no_contract_agent_values",
    "observed_counterpart",
    "relabel",
    "scale_rewards",
]
