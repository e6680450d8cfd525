#!/usr/bin/env python3
"""A correct but partial solver: episodic instances with two actions and two outcomes only.

    python examples/two_by_two.py INSTANCE.json SOLUTION.json

Backward induction (the textbook solver) with the closed-form minimal contract of a 2×2 state
(PAPER.md §1): to implement ``a`` against the other action ``x``, with ``Δ = Q̄(x) − Q̄(a)``
and ``d = 𝒪(a)(o1) − 𝒪(x)(o1)``, the only incentive constraint is ``d (b(o1) − b(o0)) ≥ Δ``, so

* ``Δ ≤ 0``: ``b = (0, 0)`` (the agent already takes ``a``);
* ``d > 0``: ``b = (0, Δ / d)``;  ``d < 0``: ``b = (Δ / −d, 0)``;
* ``d = 0`` and ``Δ > 0``: ``a`` cannot be implemented.

Anything else — more actions or outcomes, a cyclic (discounted) instance — is outside its
scope, and it says so with the scope protocol of ``pamdp fuzz`` (docs/VALIDATING.md): the
function raises ``properties.fuzz.Unsupported`` when pamdp is importable, and otherwise (and
always as a program) answers the document ``{"unsupported": "reason"}``.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import textbook_solver as textbook

ZERO = textbook.ZERO


def closed_form(
    q_bar: list[Fraction], probs: list[list[Fraction]], action: int
) -> tuple[list[Fraction], Fraction] | None:
    """The minimal implementation of ``action`` in a 2×2 state (module docstring)."""
    other = 1 - action
    delta = q_bar[other] - q_bar[action]
    d = probs[action][1] - probs[other][1]
    if delta <= 0:
        return [ZERO, ZERO], ZERO
    if d > 0:
        return [ZERO, delta / d], probs[action][1] * delta / d
    if d < 0:
        return [delta / -d, ZERO], probs[action][0] * delta / -d
    return None


def scope_problem(doc: dict[str, Any]) -> str | None:
    """Why the instance is outside the scope, or None."""
    n_a = len(doc["actions"])
    n_o = n_a if doc.get("observed_action") else len(doc["outcomes"])
    if (n_a, n_o) != (2, 2):
        return f"2 actions and 2 outcomes only (this instance has {n_a} and {n_o})"
    try:
        textbook.Instance(doc).order()
    except ValueError:
        return "episodic (acyclic) instances only"
    return None


def answer(doc: dict[str, Any]) -> dict[str, Any]:
    """The solution document, or ``{"unsupported": reason}``."""
    problem = scope_problem(doc)
    if problem is not None:
        return {"unsupported": problem}
    return textbook.solve(doc, contract_rule=closed_form)


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    """For ``check_solver`` / ``--function``: raise ``Unsupported`` outside the scope."""
    problem = scope_problem(doc)
    if problem is not None:
        try:
            from properties.fuzz import Unsupported
        except ImportError:  # without pamdp: the document says the same
            return {"unsupported": problem}
        raise Unsupported(problem)
    return textbook.solve(doc, contract_rule=closed_form)


def main(argv: list[str] | None = None) -> int:
    """``two_by_two.py INSTANCE.json SOLUTION.json``; exit 3 (unsupported) outside the scope."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: two_by_two.py INSTANCE.json SOLUTION.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as handle:
        doc = json.load(handle, parse_float=Fraction)
    problem = scope_problem(doc)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 3
    with open(args[1], "w", encoding="utf-8") as handle:
        json.dump(answer(doc), handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
