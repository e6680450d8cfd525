#!/usr/bin/env python3
"""A from-scratch SPE solver for episodic principal-agent MDPs, in plain Python (no pamdp).

This is what an *external* implementation looks like to pamdp: a program that reads a
FORMAT.md v1 instance file and writes a FORMAT.md v1 solution file::

    python examples/textbook_solver.py INSTANCE.json SOLUTION.json

It is correct (``pamdp fuzz`` accepts it) and deliberately independent of pamdp's own solvers:
exact rational arithmetic (:mod:`fractions`), backward induction over a topological order, and
the minimal-implementation LP of PAPER.md §1 solved by enumerating the vertices of
``{b ≥ 0 : incentive constraints}`` (fine for the few outcomes of a test instance). Episodic
instances only: it exits with an error on an instance with a cycle.

Backward induction (PAPER.md §2): in a state whose successors are solved, with continuation
values ``W^p(o) = r^p(s, o) + γ E_{T(s,o)} V^p`` and ``W^a(o) = γ E_{T(s,o)} V^a``,

* the agent's truncated Q is ``Q̄(a) = r(s, a) + Σ_o 𝒪(s, a)(o) W^a(o)``;
* each action's minimal implementation ``b*(a) = argmin_{b ≥ 0} E_{𝒪(s,a)}[b]`` subject to
  ``E_{𝒪(s,a)}[b] + Q̄(a) ≥ E_{𝒪(s,x)}[b] + Q̄(x)`` for every ``x`` (ties go to the
  recommendation, so the constraints are weak);
* the principal recommends the implementable action with the largest
  ``q(a) = Σ_o 𝒪(s,a)(o) (W^p(o) − b*(a)(o))`` (the lowest index among equals), and
  ``V^p = q(a^p)``, ``V^a = Q̄(a^p) + E[b*(a^p)]``.

The wrong solvers next to this file reuse it with one plausible mistake each (the keyword
arguments of :func:`solve`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from fractions import Fraction
from itertools import combinations
from typing import Any

ZERO = Fraction(0)

#: A contract rule: (Q̄(s, ·), 𝒪(s, ·, ·), action) -> (contract, what the solver believes the
#: expected payment is), or None when the solver thinks the action cannot be implemented.
ContractRule = Callable[
    [list[Fraction], list[list[Fraction]], int], "tuple[list[Fraction], Fraction] | None"
]


#: (Q̄(s, ·), 𝒪(s, ·, ·), W^p(s, ·)) -> the action the agent is believed to take when unpaid.
UnpaidRule = Callable[[list[Fraction], list[list[Fraction]], list[Fraction]], int]


def number(value: Any) -> Fraction:
    """Read a FORMAT.md number exactly: int, float (as its shortest decimal) or "p/q" string."""
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        return Fraction(repr(value))
    if isinstance(value, str):
        return Fraction(value.strip())
    return Fraction(value)


def text(value: Fraction) -> int | str:
    """Write a rational exactly: an int, or a "p/q" string."""
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


class Instance:
    """The fields of a FORMAT.md v1 instance, as lists of Fractions."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.name: str = doc.get("name", "")
        self.states: list[str] = list(doc["states"])
        self.actions: list[str] = list(doc["actions"])
        self.outcomes: list[str] = list(doc["outcomes"])
        self.initial = self.states.index(doc["initial_state"])
        self.gamma = number(doc["discount"])
        n_a = len(self.actions)
        if "outcome_probs" in doc:
            self.probs = [
                [[number(p) for p in row] for row in state] for state in doc["outcome_probs"]
            ]
        else:  # observed action: the outcome is the action
            self.probs = [
                [[Fraction(int(o == a)) for o in range(n_a)] for a in range(n_a)]
                for _ in self.states
            ]
        self.agent_reward = [[number(r) for r in row] for row in doc["agent_reward"]]
        self.principal_reward = [[number(r) for r in row] for row in doc["principal_reward"]]
        self.transitions = [
            [[(int(t), number(p)) for t, p in entries] for entries in row]
            for row in doc["transitions"]
        ]

    def order(self) -> list[int]:
        """States with every successor before its predecessors; ValueError on a cycle."""
        done: list[int] = []
        mark = [0] * len(self.states)  # 0 new, 1 on the stack, 2 done
        for root in range(len(self.states)):
            stack = [(root, iter(self.children(root)))]
            if mark[root]:
                continue
            mark[root] = 1
            while stack:
                state, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    mark[state] = 2
                    done.append(state)
                elif mark[child] == 1:
                    raise ValueError(
                        f"the instance has a cycle through state "
                        f"{self.states[child]!r}: this solver is episodic only"
                    )
                elif mark[child] == 0:
                    mark[child] = 1
                    stack.append((child, iter(self.children(child))))
        return done

    def children(self, state: int) -> list[int]:
        return sorted({t for entries in self.transitions[state] for t, _ in entries})


def solve_square(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Solve a square system exactly; None if singular."""
    n = len(matrix)
    rows = [[*row, b] for row, b in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def minimal_contract(
    q_bar: list[Fraction], probs: list[list[Fraction]], action: int, margin: Fraction = ZERO
) -> tuple[list[Fraction], Fraction] | None:
    """The cheapest ``b ≥ 0`` making ``action`` a best response (PAPER.md §1), or None.

    Every incentive constraint ``Σ_o (𝒪(a^p)(o) − 𝒪(x)(o)) b(o) ≥ Q̄(x) − Q̄(a^p) + margin`` and
    every ``b(o) ≥ 0`` is a half-space; the feasible set has no line (``b ≥ 0``), so if it is not
    empty the minimum of the (non-negative) cost is attained at a vertex: a point where ``|O|``
    independent constraints are tight. Enumerate them all.
    """
    n_o = len(probs[action])
    rows: list[tuple[list[Fraction], Fraction]] = []
    for x in range(len(q_bar)):
        if x != action:
            rows.append(
                (
                    [probs[action][o] - probs[x][o] for o in range(n_o)],
                    q_bar[x] - q_bar[action] + margin,
                )
            )
    for o in range(n_o):
        rows.append(([Fraction(int(o == k)) for k in range(n_o)], ZERO))
    best: tuple[list[Fraction], Fraction] | None = None
    for subset in combinations(range(len(rows)), n_o):
        b = solve_square([rows[i][0] for i in subset], [rows[i][1] for i in subset])
        if b is None:
            continue
        if all(sum((c * v for c, v in zip(coef, b, strict=True)), ZERO) >= g for coef, g in rows):
            cost = sum((p * v for p, v in zip(probs[action], b, strict=True)), ZERO)
            if best is None or cost < best[1]:
                best = (b, cost)
    return best


def solve(
    doc: dict[str, Any],
    *,
    contract_rule: ContractRule = minimal_contract,
    agent_continuation: str = "equilibrium",
    principal_continuation: bool = True,
    unpaid_action: UnpaidRule | None = None,
    write_values: bool = True,
) -> dict[str, Any]:
    """Solve an instance document by backward induction; return the solution document.

    Parameters
    ----------
    doc : a FORMAT.md v1 instance (parsed JSON).
    contract_rule : how to implement an action (default: the exact minimal implementation).
    agent_continuation : ``"equilibrium"`` (correct: the agent's value under the solved
        policy, including its rents), ``"no_contract"`` (the agent is assumed to earn only its
        no-contract value ``max_a Q̄(s, a)`` downstream) or ``"none"`` (ignored).
    principal_continuation : include the principal's continuation value (correct) or not.
    unpaid_action : the action the solver believes the agent takes with no contract (always
        implementable at cost 0 in its eyes); None: no such belief (correct, because the
        minimal contract of that action already costs 0).
    write_values : write ``principal_value`` / ``agent_value`` claims.
    """
    inst = Instance(doc)
    n_s, n_a, n_o = len(inst.states), len(inst.actions), len(inst.outcomes)
    v_p = [ZERO] * n_s
    v_a = [ZERO] * n_s
    rec = [0] * n_s
    contracts: list[list[Fraction]] = [[ZERO] * n_o for _ in range(n_s)]

    def expect(values: list[Fraction], s: int, o: int) -> Fraction:
        return inst.gamma * sum((p * values[t] for t, p in inst.transitions[s][o]), ZERO)

    for s in inst.order():
        w_p = [
            inst.principal_reward[s][o] + (expect(v_p, s, o) if principal_continuation else ZERO)
            for o in range(n_o)
        ]
        w_a = [expect(v_a, s, o) if agent_continuation != "none" else ZERO for o in range(n_o)]
        probs = inst.probs[s]
        q_bar = [
            inst.agent_reward[s][a] + sum((probs[a][o] * w_a[o] for o in range(n_o)), ZERO)
            for a in range(n_a)
        ]
        best: tuple[Fraction, int, list[Fraction], Fraction] | None = None
        unpaid = None if unpaid_action is None else unpaid_action(q_bar, probs, w_p)
        for a in range(n_a):
            implemented = contract_rule(q_bar, probs, a)
            if implemented is None and a == unpaid:
                implemented = ([ZERO] * n_o, ZERO)
            if implemented is None:
                continue
            b, paid = implemented
            q = sum((probs[a][o] * w_p[o] for o in range(n_o)), ZERO) - paid
            if best is None or q > best[0]:
                best = (q, a, b, paid)
        if best is None:
            raise ValueError(f"state {inst.states[s]!r}: no implementable action")
        q, a, b, paid = best
        rec[s], contracts[s], v_p[s] = a, b, q
        v_a[s] = max(q_bar) if agent_continuation == "no_contract" else q_bar[a] + paid
    policy = []
    for s in range(n_s):
        entry: dict[str, Any] = {
            "state": inst.states[s],
            "recommended_action": inst.actions[rec[s]],
            "contract": [text(x) for x in contracts[s]],
        }
        if write_values:
            entry["principal_value"] = text(v_p[s])
            entry["agent_value"] = text(v_a[s])
        policy.append(entry)
    solution: dict[str, Any] = {
        "format": "pamdp/solution@1",
        "instance": inst.name,
        "policy": policy,
    }
    if write_values:
        solution["principal_value"] = text(v_p[inst.initial])
        solution["agent_value"] = text(v_a[inst.initial])
    return solution


def main(
    argv: list[str] | None = None, solver: Callable[[dict[str, Any]], dict[str, Any]] = solve
) -> int:
    """``PROGRAM INSTANCE.json SOLUTION.json``: read, solve, write; exit 0 on success."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: PROGRAM INSTANCE.json SOLUTION.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as handle:
        doc = json.load(handle, parse_float=Fraction)
    solution = solver(doc)
    with open(args[1], "w", encoding="utf-8") as handle:
        json.dump(solution, handle, indent=1)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
