#!/usr/bin/env python3
"""WRONG on purpose: the agent's limited-liability rents are ignored downstream.

    python examples/rent_blind.py INSTANCE.json SOLUTION.json

The bug. Every state's contract is the exact minimal implementation, but when the solver passes
the agent's value up the tree it uses the agent's *no-contract* value ``max_a Q̄(s, a)``, as if
every contract left the agent exactly at its outside option. That is true with observed actions
(PAPER.md §1, "Observed action") and false with hidden actions.

Why it is wrong. Under hidden action, limited liability (``b ≥ 0``) forces the principal to pay
on outcomes that other actions also produce, so the agent earns a rent ``E[b*] + Q̄(a^p) −
max_a Q̄(a) > 0`` wherever a costly action is implemented (PAPER.md §3, "Why the operator of
Theorem 3.4 is open"). Upstream, the agent weighs those rents, so its true ``Q̄`` differs from
the solver's and the upstream contracts are too high or too low. ``pamdp fuzz`` finds a
two-state counterexample: one state to create a rent, one upstream to misprice it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    return textbook.solve(doc, agent_continuation="no_contract", write_values=False)


if __name__ == "__main__":
    raise SystemExit(textbook.main(solver=solve))
