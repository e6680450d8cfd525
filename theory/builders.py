"""Build an instance from your own model: the public construction API (issue 12).

Three ways in, all ending in the loader's own validation (:func:`theory.format.instance_from_dict`,
so a mistake is an :class:`~theory.model.InstanceError` naming the field, the index and the
value, exactly as for a FORMAT.md v1 file):

* :func:`instance_from_arrays` — the FORMAT.md v1 layout as (numpy or nested) arrays:
  ``outcome_probs[s][a][o]``, ``agent_reward[s][a]``, ``principal_reward[s][o]``, and either
  sparse ``transitions[s][o] = [(next_state, probability), ...]`` or a dense
  ``transition_matrix[s][o][s']`` (a row of zeros: the episode ends after ``(s, o)``);
* :func:`instance_from_states` — a dict per state, keyed by names;
* :func:`instance_from_tree` — a nested tree of decision nodes with **explicit leaves**
  (terminal payoffs), as produced by most game-tree code.

Numbers may be ints, floats (read as their shortest decimals, as in JSON), ``Fraction`` or
``"p/q"`` strings; the result carries the exact rationals (``model.exact_data()``).

Semantics (PAPER.md §1; FORMAT.md): the agent's reward ``r(s, a)`` depends on the action, the
principal's ``r^p(s, o)`` on the outcome, the next state on the outcome; an outcome without
successors ends the episode. A *leaf* in :func:`instance_from_tree` is not a decision state: its
payoffs are folded into its parent, ``r^p(s, o) += γ v^p`` and ``r(s, a) += γ 𝒪(s, a)(o) v^a``,
which is exact for every policy (the leaf has no decision, so both parties' continuation values
from it are constants). A depth-``D`` binary tree of decisions therefore has ``2^D − 1`` states,
its last level ending the episode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from theory.format import instance_from_dict
from theory.model import InstanceError, PrincipalAgentMDP, to_fraction

__all__ = ["instance_from_arrays", "instance_from_states", "instance_from_tree"]


def _plain(value: Any) -> Any:
    """Nested arrays as JSON-like lists; Fractions as ``"p/q"`` strings, numpy scalars as
    Python numbers (the loader then reads everything exactly)."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(x) for x in value]
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _names(given: Sequence[str] | None, count: int, prefix: str) -> list[str]:
    return [f"{prefix}{i}" for i in range(count)] if given is None else list(given)


def _sparse(matrix: Any) -> list[list[list[list[Any]]]]:
    dense = np.asarray(_plain(matrix), dtype=object)
    if dense.ndim != 3 or dense.shape[0] != dense.shape[2]:
        raise InstanceError(
            "transition_matrix",
            "expected an (S, O, S) array",
            value=list(dense.shape),
        )
    return [
        [[[t, p] for t, p in enumerate(row) if to_fraction(p) != 0] for row in state]
        for state in dense.tolist()
    ]


def instance_from_arrays(
    *,
    agent_reward: Any,
    principal_reward: Any,
    discount: Any,
    outcome_probs: Any = None,
    transitions: Any = None,
    transition_matrix: Any = None,
    states: Sequence[str] | None = None,
    actions: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
    initial_state: int | str = 0,
    observed_action: bool = False,
    name: str = "",
) -> PrincipalAgentMDP:
    """An instance from arrays in the FORMAT.md v1 layout (module docstring).

    Parameters
    ----------
    agent_reward : (S, A) ``r(s, a)``.
    principal_reward : (S, O) ``r^p(s, o)`` (observed action: O = A).
    discount : γ in [0, 1].
    outcome_probs : (S, A, O) ``𝒪(s, a)(o)``; omit with ``observed_action=True``.
    transitions : per ``(s, o)`` a list of ``(next_state_index, probability)`` (empty: the
        episode ends); or instead ``transition_matrix`` (S, O, S), dense.
    states, actions, outcomes : names (default ``s0, s1, …``, ``a0, …``, ``o0, …``; with
        observed action the outcomes are the actions).
    initial_state : index or name (default the first state).
    observed_action : outcomes are the actions (PAPER.md §7's observed variant).
    name : the instance's name.

    Raises
    ------
    theory.model.InstanceError
        As the loader: the first malformed field, its index and value.
    """
    if (transitions is None) == (transition_matrix is None):
        raise InstanceError("transitions", "give exactly one of transitions and transition_matrix")
    agent = _plain(agent_reward)
    n_s = len(agent)
    n_a = len(agent[0]) if n_s and isinstance(agent[0], list) else 0
    state_names = _names(states, n_s, "s")
    action_names = _names(actions, n_a, "a")
    if observed_action:
        outcome_names = list(action_names) if outcomes is None else list(outcomes)
    else:
        probs = _plain(outcome_probs)
        n_o = len(probs[0][0]) if probs and probs[0] and isinstance(probs[0][0], list) else 0
        outcome_names = _names(outcomes, n_o, "o")
    initial = state_names[initial_state] if isinstance(initial_state, int) else initial_state
    document: dict[str, Any] = {
        "format": "pamdp/instance@1",
        "name": name,
        "states": state_names,
        "initial_state": initial,
        "actions": action_names,
        "outcomes": outcome_names,
        "discount": _plain(discount),
        "agent_reward": agent,
        "principal_reward": _plain(principal_reward),
        "transitions": _plain(transitions)
        if transitions is not None
        else _sparse(transition_matrix),
    }
    if observed_action:
        document["observed_action"] = True
        if outcome_probs is not None:
            document["outcome_probs"] = _plain(outcome_probs)
    else:
        document["outcome_probs"] = _plain(outcome_probs)
    return instance_from_dict(document)


def _per(spec: Any, keys: Sequence[str], where: str, default: Any = None) -> list[Any]:
    """A per-action / per-outcome entry given as a list or a dict keyed by name."""
    if spec is None:
        if default is None:
            raise InstanceError(where, "missing")
        return [default] * len(keys)
    if isinstance(spec, Mapping):
        unknown = [k for k in spec if k not in keys]
        if unknown:
            raise InstanceError(where, f"unknown name (known: {', '.join(keys)})", value=unknown[0])
        missing = [k for k in keys if k not in spec]
        if missing and default is None:
            raise InstanceError(where, "missing entry", value=missing[0])
        return [spec.get(k, default) for k in keys]
    return list(spec)


def instance_from_states(
    states: Mapping[str, Mapping[str, Any]],
    *,
    actions: Sequence[str],
    discount: Any,
    outcomes: Sequence[str] | None = None,
    initial_state: str | None = None,
    observed_action: bool = False,
    name: str = "",
) -> PrincipalAgentMDP:
    """An instance from one dict per state, keyed by state name (module docstring).

    Each state's dict has ``"agent_reward"`` (per action), ``"principal_reward"`` (per
    outcome), ``"outcome_probs"`` (per action, a distribution over the outcomes; omitted with
    observed action) and ``"next"`` (per outcome: a state name, a ``{state: probability}``
    dict, or None / absent = the episode ends). "Per action/outcome" means a list in the order
    of ``actions`` / ``outcomes`` or a dict keyed by their names. The initial state defaults
    to the first key. Example (PAPER.md §7 style)::

        instance_from_states(
            {"s0": {"agent_reward": {"aL": "-4/5", "aR": 0}, "principal_reward": [0, 0],
                    "outcome_probs": {"aL": [1, 0], "aR": [0, 1]},
                    "next": {"L": "sL", "R": None}},
             "sL": {...}},
            actions=["aL", "aR"], outcomes=["L", "R"], discount=1)

    Raises
    ------
    theory.model.InstanceError
        As the loader; fields of this API are named ``states[NAME].FIELD``.
    """
    names = list(states)
    if not names:
        raise InstanceError("states", "at least one state is required")
    outcome_names = list(actions) if observed_action and outcomes is None else list(outcomes or [])
    index = {n: i for i, n in enumerate(names)}
    agent, principal, probs, transitions = [], [], [], []
    for state, spec in states.items():
        where = f"states[{state!r}]"
        if not isinstance(spec, Mapping):
            raise InstanceError(where, "must be a dict", value=type(spec).__name__)
        agent.append(_per(spec.get("agent_reward"), actions, f"{where}.agent_reward"))
        principal.append(
            _per(spec.get("principal_reward"), outcome_names, f"{where}.principal_reward")
        )
        if not observed_action or "outcome_probs" in spec:
            probs.append(_per(spec.get("outcome_probs"), actions, f"{where}.outcome_probs"))
        row: list[list[list[Any]]] = []
        for o, target in enumerate(
            _per(spec.get("next", {}), outcome_names, f"{where}.next", default=False)
        ):
            here = f"{where}.next[{outcome_names[o]!r}]"
            if target is None or target is False:
                row.append([])
                continue
            dist = {target: 1} if isinstance(target, str) else target
            if not isinstance(dist, Mapping):
                raise InstanceError(
                    here, "must be a state name or {state: probability}", value=target
                )
            for t in dist:
                if t not in index:
                    raise InstanceError(here, "unknown state name", value=t)
            row.append([[index[t], _plain(p)] for t, p in dist.items()])
        transitions.append(row)
    return instance_from_arrays(
        agent_reward=agent,
        principal_reward=principal,
        discount=discount,
        outcome_probs=probs if probs else None,
        transitions=transitions,
        states=names,
        actions=actions,
        outcomes=outcome_names,
        initial_state=names[0] if initial_state is None else initial_state,
        observed_action=observed_action,
        name=name,
    )


def instance_from_tree(
    root: Mapping[str, Any],
    *,
    actions: Sequence[str],
    discount: Any = 1,
    outcomes: Sequence[str] | None = None,
    observed_action: bool = False,
    name: str = "",
) -> PrincipalAgentMDP:
    """An episodic instance from a tree of decision nodes with explicit leaves.

    A **decision node** is a dict like a state of :func:`instance_from_states`
    (``agent_reward``, ``principal_reward``, ``outcome_probs``; optional ``name``) whose
    ``"children"`` maps each outcome (a list in outcome order or a dict by name) to a decision
    node, a **leaf** ``{"leaf": True, "principal_value": v_p, "agent_value": v_a}`` (both
    default 0), or None (the episode just ends). Leaves are folded into the parent (module
    docstring), so the states are the decision nodes only, named ``s0, s1, …`` in
    breadth-first order unless they have a ``name``; the root is the initial state.

    Raises
    ------
    theory.model.InstanceError
        As the loader; tree fields are named by their path, e.g. ``root.children['o1']``.
    """
    outcome_names = list(actions) if observed_action and outcomes is None else list(outcomes or [])
    gamma = to_fraction(_plain(discount))
    nodes: list[tuple[Mapping[str, Any], str]] = []
    queue: list[tuple[Mapping[str, Any], str]] = [(root, "root")]
    while queue:
        node, path = queue.pop(0)
        if not isinstance(node, Mapping) or node.get("leaf"):
            raise InstanceError(path, "the root and inner nodes must be decision nodes")
        nodes.append((node, path))
        for o, child in enumerate(
            _per(node.get("children", {}), outcome_names, f"{path}.children", default=False)
        ):
            if isinstance(child, Mapping) and not child.get("leaf"):
                queue.append((child, f"{path}.children[{outcome_names[o]!r}]"))
    names = [str(node.get("name", f"s{i}")) for i, (node, _) in enumerate(nodes)]
    if len(set(names)) != len(names):
        raise InstanceError("name", "node names must be distinct", value=names)
    ids = {id(node): i for i, (node, _) in enumerate(nodes)}
    states: dict[str, dict[str, Any]] = {}
    for i, (node, path) in enumerate(nodes):
        agent = [
            to_fraction(_plain(x))
            for x in _per(node.get("agent_reward"), actions, f"{path}.agent_reward")
        ]
        principal = [
            to_fraction(_plain(x))
            for x in _per(node.get("principal_reward"), outcome_names, f"{path}.principal_reward")
        ]
        if observed_action and "outcome_probs" not in node:
            probs = [
                [Fraction(int(o == a)) for o in range(len(outcome_names))]
                for a in range(len(actions))
            ]
        else:
            probs = [
                [to_fraction(_plain(p)) for p in row]
                for row in _per(node.get("outcome_probs"), actions, f"{path}.outcome_probs")
            ]
        following: dict[str, Any] = {}
        for o, child in enumerate(
            _per(node.get("children", {}), outcome_names, f"{path}.children", default=False)
        ):
            if isinstance(child, Mapping) and child.get("leaf"):
                v_p = to_fraction(_plain(child.get("principal_value", 0)))
                v_a = to_fraction(_plain(child.get("agent_value", 0)))
                principal[o] += gamma * v_p
                for a in range(len(actions)):
                    if o < len(probs[a]):
                        agent[a] += gamma * probs[a][o] * v_a
                following[outcome_names[o]] = None
            elif isinstance(child, Mapping):
                following[outcome_names[o]] = names[ids[id(child)]]
            else:
                following[outcome_names[o]] = None
        states[names[i]] = {
            "agent_reward": agent,
            "principal_reward": principal,
            "outcome_probs": probs,
            "next": following,
        }
    return instance_from_states(
        states,
        actions=actions,
        discount=discount,
        outcomes=outcome_names,
        initial_state=names[0],
        observed_action=observed_action,
        name=name,
    )
