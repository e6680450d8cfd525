#!/usr/bin/env python3
"""A correct adapter: pamdp's own float solvers behind the file protocol of ``pamdp fuzz``.

    python examples/pamdp_adapter.py INSTANCE.json SOLUTION.json

The pattern for wrapping any existing solver: read the FORMAT.md v1 instance, call the solver,
write the FORMAT.md v1 solution (recommended action and contract per state, optionally the
values it claims). Here the solver is pamdp's: backward induction (PAPER.md §2) for episodic
instances and the meta-algorithm (Algorithm 1, PAPER.md §3) for discounted ones, both in
float64 — so checking it with ``pamdp verify`` / ``pamdp fuzz`` is a real test: an exact,
independent recomputation against a float solver. Floats are written as their shortest
decimals; the default tolerance (10⁻⁹) absorbs their rounding.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def solve(doc: dict[str, Any]) -> dict[str, Any]:
    """Solve an instance document with pamdp's float solvers; return the solution document."""
    from solvers.backward_induction import solve_backward_induction
    from solvers.meta_algorithm import meta_algorithm
    from theory.format import instance_from_dict, solution_to_dict

    model = instance_from_dict(doc)
    if model.is_episodic:
        solution = solve_backward_induction(model)
    else:
        solution = meta_algorithm(model).solution
    return solution_to_dict(
        model,
        solution.recommended,
        solution.contracts,
        principal_values=solution.principal_values,
        agent_values=solution.agent_values,
    )


def main(argv: list[str] | None = None) -> int:
    from theory.format import read_json

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: pamdp_adapter.py INSTANCE.json SOLUTION.json", file=sys.stderr)
        return 2
    solution = solve(read_json(args[0]))
    with open(args[1], "w", encoding="utf-8") as handle:
        json.dump(solution, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
