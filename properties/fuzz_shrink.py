"""Structural shrinking of a failing instance (issue 4, issue 12; used by :mod:`properties.fuzz`).

After Hypothesis' own shrinking of the random choices, :func:`shrink_structurally` repeatedly
tries smaller instances built directly from the current one — the subgame rooted at one state,
deleting a state, folding a leaf into its parents' rewards (exact for the SPE of the rest),
deleting an action, merging two outcomes, zeroing a reward — and keeps any that still fails
the same way (the caller's predicate: in the fuzzer, the same failure class *and* message
signature). The result is 1-minimal for these moves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from theory.format import instance_to_dict
from theory.model import PrincipalAgentMDP

__all__ = ["shrink_structurally", "size_key", "size_text"]


@dataclass
class _Fields:
    """A FORMAT.md v1 instance as mutable lists of exact numbers (for structural shrinking)."""

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
    def of(cls, model: PrincipalAgentMDP) -> _Fields:
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

    def keep_states(self, keep: list[int], initial: int) -> _Fields:
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
        return _Fields(
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

    def fold_leaf(self, t: int) -> _Fields | None:
        """Replace the leaf ``t`` (no successors) by its SPE values: every ``(s, o)`` that
        leads to ``t`` for sure ends the episode instead, with ``γ V^p(t)`` added to
        ``r^p(s, o)`` and ``γ Σ_o 𝒪(s, a)(o) V^a(t)`` to ``r(s, a)``. The SPE of the other
        states is unchanged (PAPER.md §2: backward induction only sees ``t`` through its
        values), so a solver bug that does not live in ``t`` survives the move. None when some
        ``(s, o)`` reaches ``t`` only with probability < 1 (not representable)."""
        from solvers.backward_induction import solve_backward_induction

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
        spe = solve_backward_induction(leaf, exact=True)
        v_p, v_a = spe.principal_values[0], spe.agent_values[0]
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

    def drop_action(self, a: int) -> _Fields:
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

    def _drop_outcome_columns(self, o: int) -> _Fields:
        keep = [x for x in range(len(self.outcomes)) if x != o]
        return replace(
            self,
            outcomes=[self.outcomes[x] for x in keep],
            probs=[[[row[x] for x in keep] for row in state] for state in self.probs],
            principal=[[row[x] for x in keep] for row in self.principal],
            transitions=[[row[x] for x in keep] for row in self.transitions],
        )

    def merge_outcome(self, o: int, into: int) -> _Fields:
        """Hidden action: outcome ``o``'s probability goes to ``into``, then ``o`` is dropped."""
        probs = [[list(row) for row in state] for state in self.probs]
        for state in probs:
            for row in state:
                row[into] += row[o]
        return replace(self, probs=probs)._drop_outcome_columns(o)

    def zero_reward(self, which: str, s: int, k: int) -> _Fields:
        table = [list(row) for row in (self.agent if which == "agent" else self.principal)]
        table[s][k] = Fraction(0)
        return replace(self, agent=table) if which == "agent" else replace(self, principal=table)

    def candidates(self) -> list[_Fields]:
        """Smaller instances, biggest reductions first."""
        n_s, n_a, n_o = len(self.states), len(self.actions), len(self.outcomes)
        out: list[_Fields] = []
        for s in range(n_s):  # a subgame: the states reachable from s, rooted at s
            keep = self.reachable(s)
            if len(keep) < n_s:
                out.append(self.keep_states(keep, s))
        for t in range(n_s):
            if t != self.initial:
                out.append(self.keep_states([x for x in range(n_s) if x != t], self.initial))
        for t in range(n_s):
            if t != self.initial:
                folded = self.fold_leaf(t)
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


def shrink_structurally(
    model: PrincipalAgentMDP,
    still_fails: Callable[[PrincipalAgentMDP], bool],
    *,
    deadline: float | None = None,
) -> tuple[PrincipalAgentMDP, bool]:
    """Greedy structural shrinking after Hypothesis' own (module docstring).

    Repeatedly tries, on the current instance: the subgame rooted at each state; deleting a
    state (transitions into it are dropped and renormalised); folding a leaf into its parents'
    rewards (:meth:`_Fields.fold_leaf`); deleting an action; merging two outcomes; zeroing one
    reward — and keeps the first candidate that is smaller and still
    fails in the same way, until none does (a 1-minimal instance for these moves) or the
    ``deadline`` (``time.monotonic()``) passes. Returns the instance and whether it finished.
    """
    current = model
    progress = True
    while progress:
        progress = False
        for candidate in _Fields.of(current).candidates():
            if deadline is not None and time.monotonic() > deadline:
                return current, False
            smaller = candidate.build()
            if smaller is None or size_key(smaller) >= size_key(current):
                continue
            if still_fails(smaller):
                current = smaller
                progress = True
                break
    return current, True
