"""Fuzzing throughput: the command route vs the persistent-worker route (issue 12, must show:
the worker is at least 20× faster per instance on the same Python solver).

One solver, ``examples/pamdp_adapter.py`` (pamdp's float solvers: every new process pays the
interpreter start-up and the numpy/scipy imports), fuzzed twice with the same seed and the same
``--max-examples`` — so both routes see the same instances:

* command route: ``python examples/pamdp_adapter.py {instance} {solution}`` (one process per
  instance, files in and out);
* worker route: ``python examples/python_worker.py pamdp_adapter:solve`` (one process for the
  run, JSON lines in and out; docs/VALIDATING.md, "Persistent workers").

Reported per route: instances per second end to end (solver + exact verification, what a user
waits for) and for the solver calls alone; exits non-zero if the worker is less than 20× faster
end to end.

Run: ``.venv/bin/python benchmarks/bench_fuzz_worker.py [--examples N] [--family F]``.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import time
from pathlib import Path

from properties.fuzz import CommandSolver, WorkerSolver, attempt
from theory.format import instance_from_dict

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def instances(n: int, family: str, seed: int) -> list:
    """The first ``n`` distinct instances of the fuzzer's search (same strategy and defaults)."""
    import json
    from random import Random

    from hypothesis import HealthCheck, Phase, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    from properties.strategies import instances as strategy
    from theory.format import instance_to_dict

    seen: dict[str, object] = {}

    def collect(model: object) -> bool:
        key = json.dumps(instance_to_dict(model), sort_keys=True)  # type: ignore[arg-type]
        seen.setdefault(key, model)
        return False

    config = settings(
        max_examples=4 * n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
    )
    drawn = strategy(family=family, min_actions=2, min_outcomes=2, exact=True)  # type: ignore[arg-type]
    with contextlib.suppress(NoSuchExample):
        find(drawn, collect, settings=config, random=Random(seed))
    return [instance_from_dict(json.loads(key)) for key in list(seen)[:n]]


def timed(solver: object, models: list) -> tuple[float, float, dict[str, int]]:
    """(end-to-end seconds, solver seconds, verdict counts) over ``models``."""
    kinds: dict[str, int] = {}
    solver_seconds = 0.0
    start = time.perf_counter()
    for model in models:
        result = attempt(solver, model)  # type: ignore[arg-type]
        solver_seconds += result.seconds
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
    return time.perf_counter() - start, solver_seconds, kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=40, help="instances (default 40)")
    parser.add_argument("--family", default="all", choices=["episodic", "discounted", "all"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    python = shlex.quote(sys.executable)
    models = instances(args.examples, args.family, args.seed)
    command = CommandSolver(
        f"{python} {EXAMPLES / 'pamdp_adapter.py'} {{instance}} {{solution}}", timeout=60
    )
    worker = WorkerSolver(
        f"{python} {EXAMPLES / 'python_worker.py'} pamdp_adapter:solve", timeout=60
    )
    rows = []
    try:
        for name, solver in (("command", command), ("worker", worker)):
            total, calls, kinds = timed(solver, models)
            rows.append((name, total, calls, kinds))
    finally:
        worker.close()
    n = len(models)
    print(f"pamdp_adapter.solve on {n} {args.family} instances (seed {args.seed}), one run:")
    for name, total, calls, kinds in rows:
        print(
            f"  {name:<8}: {n / total:8.1f} instances/s end to end ({1000 * total / n:7.1f} ms "
            f"each), {n / calls:8.1f}/s solver calls alone; verdicts {kinds}"
        )
    speedup = rows[0][1] / rows[1][1]
    calls = rows[0][2] / rows[1][2]
    print(f"  worker / command: {speedup:.0f}× end to end, {calls:.0f}× solver calls")
    if rows[0][3] != rows[1][3]:
        print("  WARNING: the two routes gave different verdicts")
        return 1
    return 0 if speedup >= 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
