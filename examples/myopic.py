#!/usr/bin/env python3
"""WRONG on purpose: continuation values ignored (a myopic, one-shot solver).

    python examples/myopic.py INSTANCE.json SOLUTION.json

The bug. Each state is solved as a one-shot contracting problem: the agent's truncated Q is
taken to be its immediate reward ``r(s, a)`` and the principal maximises its immediate
``E[r^p(s, o) − b(o)]``, ignoring ``γ E[V(s')]`` on both sides.

Why it is wrong. In a principal-agent MDP the next state depends on the outcome (PAPER.md §1),
so the agent weighs where an action leads (``Q̄(s, a) = r(s, a) + γ E[V^a(s')]``) and the
principal values outcomes by what follows them. The myopic contract can leave the agent
preferring another action once its continuation is counted, and the myopic recommendation can
be the wrong action. ``pamdp fuzz`` finds a two-state counterexample (one state is not enough:
there is no continuation to ignore).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    return textbook.solve(
        doc, agent_continuation="none", principal_continuation=False, write_values=False
    )


if __name__ == "__main__":
    raise SystemExit(textbook.main(solver=solve))
