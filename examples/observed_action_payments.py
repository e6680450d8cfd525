#!/usr/bin/env python3
"""WRONG on purpose: observed-action payments used on a hidden-action instance.

    python examples/observed_action_payments.py INSTANCE.json SOLUTION.json

The bug. With observed actions the minimal contract is simple (PAPER.md §1, "Observed
action"): pay exactly ``max_a Q̄(s, a) − Q̄(s, a^p)`` when the agent plays ``a^p``, and the agent
then earns its no-contract value everywhere. This solver applies that rule to a hidden-action
instance by identifying each action with the outcome it makes most likely: it pays the
observed-action price on that outcome and believes the agent is paid exactly that amount.

Why it is wrong. Under hidden action the principal only sees the outcome, and other actions
produce the same outcome too: the agent collects the payment (in expectation a fraction of it)
without taking ``a^p``, so the contract usually does not make ``a^p`` a best response, and when
it does it is rarely the cheapest one. ``pamdp fuzz`` finds a one-state counterexample in which
the agent does not follow. On observed-action instances the rule is exactly right.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook


def observed_action_price(
    q_bar: list[Fraction], probs: list[list[Fraction]], action: int
) -> tuple[list[Fraction], Fraction]:
    """Pay ``max Q̄ − Q̄(a)`` on the outcome ``a`` makes most likely (the bug)."""
    price = max(q_bar) - q_bar[action]
    likely = max(range(len(probs[action])), key=lambda o: (probs[action][o], -o))
    contract = [textbook.ZERO] * len(probs[action])
    contract[likely] = price
    return contract, price  # believes the agent is paid `price` exactly, as if observed


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    return textbook.solve(
        doc,
        contract_rule=observed_action_price,
        agent_continuation="no_contract",
        write_values=False,
    )


if __name__ == "__main__":
    raise SystemExit(textbook.main(solver=solve))
