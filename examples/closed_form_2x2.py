#!/usr/bin/env python3
"""WRONG on purpose, twice: a 2×2 closed form with two bugs of different kinds.

    python examples/closed_form_2x2.py INSTANCE.json SOLUTION.json

The textbook solver (backward induction, exact LP) with a "fast path" for states with two
actions and two outcomes: to implement ``a`` against the other action ``x`` it pays on the
second outcome ``o1`` only,

    b(o1) = (Q̄(x) − Q̄(a)) / (𝒪(a)(o1) − 𝒪(x)(o1))    when Q̄(x) > Q̄(a), else 0.

Bug 1 (a crash). The ratio is computed before the check, so when the two actions have the
same outcome distribution the denominator is 0 and the solver raises ``ZeroDivisionError``.

Bug 2 (a wrong answer). The closed form assumes that ``a`` makes ``o1`` *more* likely. When the
outcome order is reversed (``𝒪(a)(o1) < 𝒪(x)(o1)``) the formula pays a **negative** amount on
``o1``: the agent is then exactly indifferent and follows, so the contract "works" — by
breaking limited liability. The right contract pays ``(Q̄(x) − Q̄(a)) / (𝒪(a)(o0) − 𝒪(x)(o0))``
on ``o0`` instead. One state suffices to show it.

``pamdp fuzz --family episodic`` reports both in one run, each class shrunk on its own
(docs/VALIDATING.md, example 2).
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook


def closed_form(
    q_bar: list[Fraction], probs: list[list[Fraction]], action: int
) -> tuple[list[Fraction], Fraction] | None:
    if len(q_bar) != 2 or len(probs[action]) != 2:
        return textbook.minimal_contract(q_bar, probs, action)
    other = 1 - action
    ratio = (q_bar[other] - q_bar[action]) / (probs[action][1] - probs[other][1])  # bug 1
    pay = ratio if q_bar[other] > q_bar[action] else textbook.ZERO  # bug 2: may be < 0
    return [textbook.ZERO, pay], probs[action][1] * pay


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    return textbook.solve(doc, contract_rule=closed_form)


if __name__ == "__main__":
    raise SystemExit(textbook.main(solver=solve))
