"""Pure instance transforms and exact values of an instance (PAPER.md §1; FORMAT.md v1).

Each function takes a :class:`~theory.model.PrincipalAgentMDP` and returns a new instance (or
exact values of it), in exact rational arithmetic, without solving the game:

* :func:`observed_counterpart` — the observed-action instance with the same expectations;
* :func:`scale_rewards` — every reward multiplied by a positive factor;
* :func:`relabel` — states, actions and outcomes listed in a new order;
* :func:`first_best_values` — the planner's (first-best) welfare ``W*``;
* :func:`no_contract_agent_values` — the agent's value when it is never paid;
* :class:`InstanceFields` — the fuzzer's structural shrink steps (a subgame, one state, one
  action or one outcome fewer, a leaf folded into its parents' rewards, a zeroed reward), used
  by :mod:`properties.fuzz_shrink`.

The metamorphic properties (:mod:`properties.claims.metamorphic`) compare the SPE of an instance
with that of its transform.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from theory.exact_evaluation import evaluate_policy_exact
from theory.format import instance_to_dict
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
    "InstanceFields",
    "LeafValues",
    "first_best_values",
    "no_contract_agent_values",
    "observed_counterpart",
    "relabel",
    "scale_rewards",
    "size_key",
    "size_text",
]


LeafValues = Callable[[PrincipalAgentMDP], tuple[Fraction, Fraction]]
"""A one-state instance -> its exact SPE values (V^p, V^a) (the caller's solver)."""


@dataclass
class InstanceFields:
    """A FORMAT.md v1 instance as lists of exact numbers, with the structural moves that make
    a smaller instance from it (the fuzzer's shrink steps, :mod:`properties.fuzz_shrink`): the
    subgame rooted at a state, deleting a state, folding a leaf into its parents' rewards,
    deleting an action, merging two outcomes, zeroing a reward."""

    name: str
    states: list[str]
    actions: list[str]
    outcomes: list[str]
    initial: int
    gamma: Fraction
    observed: bool
    probs: list[list[list[Fraction]]]
    agent: list[list[Fraction]]
    principal: list[list[Fraction]]
    transitions: list[list[list[tuple[int, Fraction]]]]

    @classmethod
    def of(cls, model: PrincipalAgentMDP) -> InstanceFields:
        data = model.exact_data()
        n_o = model.n_outcomes
        offsets = model.transition_offsets.tolist()
        nxt = model.transition_next.tolist()
        tprob = data.transition_prob.tolist()
        return cls(
            model.name,
            list(model.states),
            list(model.actions),
            list(model.outcomes),
            model.initial_state,
            data.discount,
            model.observed_action,
            data.outcome_probs.tolist(),
            data.agent_reward.tolist(),
            data.principal_reward.tolist(),
            [
                [
                    [
                        (nxt[k], tprob[k])
                        for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1])
                    ]
                    for o in range(n_o)
                ]
                for s in range(model.n_states)
            ],
        )

    def build(self) -> PrincipalAgentMDP | None:
        from theory.format import instance_from_dict
        from theory.model import InstanceError

        n_s, n_a, n_o = len(self.states), len(self.actions), len(self.outcomes)
        document: dict[str, Any] = {
            "format": "pamdp/instance@1",
            "name": f"fuzz counterexample S={n_s} A={n_a} O={n_o}",
            "states": self.states,
            "initial_state": self.states[self.initial],
            "actions": self.actions,
            "outcomes": self.outcomes,
            "discount": self.gamma,
            "outcome_probs": self.probs,
            "agent_reward": self.agent,
            "principal_reward": self.principal,
            "transitions": [
                [[[t, p] for t, p in entries] for entries in row] for row in self.transitions
            ],
        }
        if self.observed:
            document["observed_action"] = True
        try:
            return instance_from_dict(document)
        except InstanceError:
            return None

    def keep_states(self, keep: list[int], initial: int) -> InstanceFields:
        """Only the states ``keep`` (in that order); transitions to the others are dropped
        and the rest renormalised (an emptied distribution ends the episode)."""
        index = {s: i for i, s in enumerate(keep)}
        transitions = []
        for s in keep:
            row = []
            for entries in self.transitions[s]:
                kept = [(index[t], p) for t, p in entries if t in index]
                total = sum((p for _, p in kept), Fraction(0))
                row.append([(t, p / total) for t, p in kept] if total else [])
            transitions.append(row)
        return InstanceFields(
            self.name,
            [self.states[s] for s in keep],
            self.actions,
            self.outcomes,
            index[initial],
            self.gamma,
            self.observed,
            [self.probs[s] for s in keep],
            [self.agent[s] for s in keep],
            [self.principal[s] for s in keep],
            transitions,
        )

    def reachable(self, start: int) -> list[int]:
        seen = {start}
        stack = [start]
        while stack:
            s = stack.pop()
            for entries in self.transitions[s]:
                for t, _ in entries:
                    if t not in seen:
                        seen.add(t)
                        stack.append(t)
        return sorted(seen)

    def fold_leaf(self, t: int, leaf_values: LeafValues) -> InstanceFields | None:
        """Replace the leaf ``t`` (no successors) by its SPE values: every ``(s, o)`` that
        leads to ``t`` for sure ends the episode instead, with ``γ V^p(t)`` added to
        ``r^p(s, o)`` and ``γ Σ_o 𝒪(s, a)(o) V^a(t)`` to ``r(s, a)``. The SPE of the other
        states is unchanged (PAPER.md §2: backward induction only sees ``t`` through its
        values), so a solver bug that does not live in ``t`` survives the move. None when some
        ``(s, o)`` reaches ``t`` only with probability < 1 (not representable).

        ``leaf_values`` maps the one-state instance of ``t`` to its exact SPE values
        ``(V^p(t), V^a(t))`` (the caller's solver: theory does not import solvers)."""

        if any(self.transitions[t][o] for o in range(len(self.outcomes))):
            return None
        parents = [
            (s, o)
            for s, row in enumerate(self.transitions)
            if s != t
            for o, entries in enumerate(row)
            if any(u == t for u, _ in entries)
        ]
        if not parents or any(len(self.transitions[s][o]) != 1 for s, o in parents):
            return None
        leaf = self.keep_states([t], t).build()
        if leaf is None:
            return None
        v_p, v_a = leaf_values(leaf)
        agent = [list(row) for row in self.agent]
        principal = [list(row) for row in self.principal]
        transitions = [[list(entries) for entries in row] for row in self.transitions]
        for s, o in parents:
            principal[s][o] += self.gamma * v_p
            for a in range(len(self.actions)):
                agent[s][a] += self.gamma * self.probs[s][a][o] * v_a
            transitions[s][o] = []
        folded = replace(self, agent=agent, principal=principal, transitions=transitions)
        return folded.keep_states([x for x in range(len(self.states)) if x != t], self.initial)

    def drop_action(self, a: int) -> InstanceFields:
        keep = [x for x in range(len(self.actions)) if x != a]
        out = replace(
            self,
            actions=[self.actions[x] for x in keep],
            probs=[[row[x] for x in keep] for row in self.probs],
            agent=[[row[x] for x in keep] for row in self.agent],
        )
        if self.observed:  # the outcomes are the actions: drop the same outcome
            out = out._drop_outcome_columns(a)
        return out

    def _drop_outcome_columns(self, o: int) -> InstanceFields:
        keep = [x for x in range(len(self.outcomes)) if x != o]
        return replace(
            self,
            outcomes=[self.outcomes[x] for x in keep],
            probs=[[[row[x] for x in keep] for row in state] for state in self.probs],
            principal=[[row[x] for x in keep] for row in self.principal],
            transitions=[[row[x] for x in keep] for row in self.transitions],
        )

    def merge_outcome(self, o: int, into: int) -> InstanceFields:
        """Hidden action: outcome ``o``'s probability goes to ``into``, then ``o`` is dropped."""
        probs = [[list(row) for row in state] for state in self.probs]
        for state in probs:
            for row in state:
                row[into] += row[o]
        return replace(self, probs=probs)._drop_outcome_columns(o)

    def zero_reward(self, which: str, s: int, k: int) -> InstanceFields:
        table = [list(row) for row in (self.agent if which == "agent" else self.principal)]
        table[s][k] = Fraction(0)
        return replace(self, agent=table) if which == "agent" else replace(self, principal=table)

    def candidates(self, leaf_values: LeafValues | None = None) -> list[InstanceFields]:
        """Smaller instances, biggest reductions first (leaf folding only with
        ``leaf_values``, see :meth:`fold_leaf`)."""
        n_s, n_a, n_o = len(self.states), len(self.actions), len(self.outcomes)
        out: list[InstanceFields] = []
        for s in range(n_s):  # a subgame: the states reachable from s, rooted at s
            keep = self.reachable(s)
            if len(keep) < n_s:
                out.append(self.keep_states(keep, s))
        for t in range(n_s):
            if t != self.initial:
                out.append(self.keep_states([x for x in range(n_s) if x != t], self.initial))
        for t in range(n_s if leaf_values is not None else 0):
            if t != self.initial and leaf_values is not None:
                folded = self.fold_leaf(t, leaf_values)
                if folded is not None:
                    out.append(folded)
        if n_a > 1:
            out.extend(self.drop_action(a) for a in reversed(range(n_a)))
        if not self.observed and n_o > 1:
            out.extend(
                self.merge_outcome(o, into)
                for o in reversed(range(n_o))
                for into in range(n_o)
                if into != o
            )
        for which, table in (("agent", self.agent), ("principal", self.principal)):
            out.extend(
                self.zero_reward(which, s, k)
                for s, row in enumerate(table)
                for k, value in enumerate(row)
                if value != 0
            )
        return out


def size_text(model: PrincipalAgentMDP) -> str:
    return f"{model.n_states} state(s), {model.n_actions} action(s), {model.n_outcomes} outcome(s)"


def size_key(model: PrincipalAgentMDP) -> tuple[int, int, int, int]:
    return (
        model.n_states,
        model.n_actions,
        model.n_outcomes,
        len(json.dumps(instance_to_dict(model))),
    )
