#!/usr/bin/env python3
"""WRONG on purpose: ties broken against the principal.

    python examples/ties_against_principal.py INSTANCE.json SOLUTION.json

The bug. The solver's model of the agent resolves indifference against the principal: an agent
that is indifferent between the recommended action and another one is assumed to take the
other. The minimal contract of PAPER.md §1 leaves the agent exactly indifferent, so under this
belief it "does not work", and the solver buys a strict preference by asking every incentive
constraint to hold with a margin ε = 10⁻⁶ (like nudging, PAPER.md §3, Proposition 4.1).

Why it is wrong. The paper's convention (PAPER.md §1, "Ties") and FORMAT.md's semantics give
ties to the recommended action, so the SPE contract is the minimal one: every positive contract
here pays about ε more than necessary (an ``overpayment``), and when the agent is indifferent
at zero pay the solver believes it will take the principal's least favourite of its best
actions, so it never recommends the better one for free (a ``principal_deviation``).
``pamdp fuzz`` finds a one-state counterexample.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook

EPSILON = Fraction(1, 10**6)


def strict_contract(
    q_bar: list[Fraction], probs: list[list[Fraction]], action: int
) -> tuple[list[Fraction], Fraction] | None:
    """The cheapest contract under which the agent prefers ``action`` by at least ε."""
    return textbook.minimal_contract(q_bar, probs, action, margin=EPSILON)


def least_favourite(q_bar: list[Fraction], probs: list[list[Fraction]], w_p: list[Fraction]) -> int:
    """Unpaid, the agent is believed to take, among its best actions, the principal's worst."""
    best = max(q_bar)
    tied = [a for a in range(len(q_bar)) if q_bar[a] == best]
    return min(
        tied, key=lambda a: sum((p * w for p, w in zip(probs[a], w_p, strict=True)), Fraction(0))
    )


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    return textbook.solve(
        doc, contract_rule=strict_contract, unpaid_action=least_favourite, write_values=False
    )


if __name__ == "__main__":
    raise SystemExit(textbook.main(solver=solve))
