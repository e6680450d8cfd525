"""Verification benchmark (issue 4, must show: ``verify`` on a 1023-state tree in under 1 s).

Writes the float SPE of a depth-10 paper tree (PAPER.md §6: 1023 decision states) as FORMAT.md
v1 files, then times, best of ``--repeats``:

* ``verify_files`` — load both files and verify exactly, reference SPE (exact backward
  induction) included: what ``pamdp verify`` does after Python has started;
* the same without the reference SPE (``--no-reference``);
* ``pamdp verify`` as a fresh process (interpreter start-up and imports included).

Exits non-zero if the in-process verification takes 1 s or more.

Run: ``.venv/bin/python benchmarks/bench_verify.py [--repeats N] [--depth D]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from properties.verify import verify_files
from solvers.backward_induction import solve_backward_induction
from theory.format import dump_json, save_instance, solution_to_dict
from theory.generators import paper_tree


def best_of(repeats: int, run: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tree = paper_tree(args.depth, args.seed)
    spe = solve_backward_induction(tree)
    with tempfile.TemporaryDirectory() as tmp:
        instance, solution = Path(tmp) / "tree.json", Path(tmp) / "solution.json"
        save_instance(tree, instance)
        dump_json(
            solution_to_dict(
                tree,
                spe.recommended,
                spe.contracts,
                principal_values=spe.principal_values,
                agent_values=spe.agent_values,
            ),
            solution,
        )
        report = verify_files(instance, solution)  # warm-up (imports) and correctness
        assert report.ok, report.summary()
        full = best_of(args.repeats, lambda: verify_files(instance, solution))
        bare = best_of(args.repeats, lambda: verify_files(instance, solution, reference=False))
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pamdp.cli", "verify", str(instance), str(solution)],
            capture_output=True,
            text=True,
            check=False,
        )
        process = time.perf_counter() - start
    print(
        f"paper tree depth {args.depth}: {tree.n_states} states, solution verified "
        f"{'OK' if report.ok else 'NOT OK'} (best of {args.repeats})"
    )
    print(f"  verify (load + exact check + exact reference SPE) : {full:.3f} s")
    print(f"  verify without the reference SPE                  : {bare:.3f} s")
    print(f"  `pamdp verify` as a new process (exit {done.returncode})         : {process:.3f} s")
    return 0 if full < 1.0 and done.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
