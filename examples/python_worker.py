#!/usr/bin/env python3
"""A persistent worker for ``pamdp fuzz --worker``: any Python solver function, started once.

    pamdp fuzz --worker "python examples/python_worker.py pamdp_adapter:solve"

The protocol (docs/VALIDATING.md, "Persistent workers"): read one FORMAT.md v1 instance
document per line of standard input; for each, write exactly one line to standard output and
flush it —

* the solution document (FORMAT.md v1), or
* ``{"unsupported": "reason"}`` when the instance is outside the solver's scope, or
* ``{"error": "message"}`` when the solver failed on this instance (the worker carries on).

Nothing else may be written to standard output (use standard error for logs). The worker ends
when its input ends. ``MODULE:FUNCTION`` is imported once, from this folder or the Python path;
the function takes the instance document and returns a solution document (a dict); an
exception whose class is named ``Unsupported`` (e.g. ``properties.fuzz.Unsupported``) becomes
an unsupported answer.
"""

from __future__ import annotations

import importlib
import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _number(value: Any) -> Any:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or ":" not in args[0]:
        print("usage: python_worker.py MODULE:FUNCTION", file=sys.stderr)
        return 2
    module_name, _, name = args[0].partition(":")
    solve = getattr(importlib.import_module(module_name), name)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer: Any = solve(json.loads(line))
        except Exception as error:  # one instance failed: say so and carry on
            if type(error).__name__ == "Unsupported":
                answer = {"unsupported": str(error)}
            else:
                answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer, default=_number) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
