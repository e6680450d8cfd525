"""Exact arithmetic: python-flint backend vs the pure-Python Fraction reference (issue 14).

Both backends of :mod:`theory.exact_backend` run side by side in one process, and every pair of
answers is compared for exact equality:

* exact backward induction on the depth-10 paper tree (1023 states, PAPER.md §6), best of
  ``--repeats``, measured as ``benchmarks/bench_core.py`` measured issue 14's 0.27 s (a fresh
  tree, solved in floats first, untimed; the exact solve timed with the exact view,
  :meth:`PrincipalAgentMDP.exact_data`, built inside it), and with the exact view already built;
* exact verification (:func:`properties.verify.verify_files`: load, the exact SPE check with its
  policy iteration and linear solves, the reference SPE) of the solution ``pamdp solve`` writes
  for a random discounted instance (``random_instance(n, 2, 2, seed=0, episodic=False)``): at
  ``--compare-states`` (default 150) with both backends, at ``--states`` (default 600) with
  python-flint only, since the reference did not finish there in 400 s (``--python-too`` runs
  it anyway), and ``pamdp verify`` on the same files as a new process.

Times are wall-clock, best of the repeats, with the process's CPU time in brackets: on a shared
machine the CPU time is what an idle core would take. The load average is printed before and
after.

Exits non-zero if an answer differs between the backends, if flint's backward induction is not
10× faster than the reference (CPU, measured as bench_core.py did), or if ``pamdp verify`` at
``--states`` takes 10 s or more of wall time.

Run: ``.venv/bin/python benchmarks/bench_exact.py [--repeats N] [--states N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from properties.verify import verify_files
from solvers.backward_induction import solve_backward_induction
from theory.exact_backend import ENV_VAR, flint_available
from theory.format import save_instance
from theory.generators import paper_tree, random_instance

FIELDS = (
    "recommended",
    "contracts",
    "principal_values",
    "agent_values",
    "q_bar",
    "principal_q",
    "implementable",
    "contracts_all",
)


CPU: dict[str, float] = {}
TIMES: list[tuple[float, float]] = []


def best_of(repeats: int, run: Callable[[], Any], key: str = "") -> tuple[float, Any]:
    """Best wall time of ``repeats`` runs and the last result; the best CPU time goes to
    ``CPU[key]``."""
    times, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[key] = min(cpu)
    return min(times), result


def bench_backward_induction(depth: int, repeats: int) -> bool:
    """Exact backward induction, both backends; ``True`` when the answers are identical and
    flint is at least 10× faster (CPU) measured as ``bench_core.py`` measured the 0.27 s."""
    answers = {}
    for backend in ("python", "flint"):
        tree = paper_tree(depth, 0)
        answers[backend] = solve_backward_induction(tree, exact=True, exact_backend=backend)
    same = all(
        getattr(answers["python"], f).tolist() == getattr(answers["flint"], f).tolist()
        for f in FIELDS
    )
    fresh: dict[str, float] = {}
    view: list[float] = []
    for backend in ("python", "flint"):

        def cold(b: str = backend) -> None:
            # as benchmarks/bench_core.py measured the 0.27 s: the tree generated and solved in
            # floats first (untimed), the exact view built inside the timed exact solve
            model = paper_tree(depth, 0)
            solve_backward_induction(model)
            start, start_cpu = time.perf_counter(), time.process_time()
            solve_backward_induction(model, exact=True, exact_backend=b)
            TIMES.append((time.perf_counter() - start, time.process_time() - start_cpu))

        TIMES.clear()
        for _ in range(repeats):
            cold()
        fresh[backend] = min(w for w, _ in TIMES)
        CPU[f"fresh {backend}"] = min(c for _, c in TIMES)
    for _ in range(repeats):
        model = paper_tree(depth, 0)
        start = time.process_time()
        model.exact_data()
        view.append(time.process_time() - start)
    tree = paper_tree(depth, 0)
    tree.exact_data()
    built: dict[str, float] = {}
    for backend in ("python", "flint"):
        built[backend], _ = best_of(
            repeats,
            lambda b=backend: solve_backward_induction(tree, exact=True, exact_backend=b),
            f"built {backend}",
        )
    print(
        f"paper tree depth {depth} ({tree.n_states} states), exact backward induction, "
        f"best of {repeats}, wall ms [CPU ms]:"
    )
    for label, times, kind in (
        ("as bench_core.py (exact view inside)", fresh, "fresh"),
        ("exact view already built            ", built, "built"),
    ):
        cpu_p, cpu_f = CPU[f"{kind} python"], CPU[f"{kind} flint"]
        print(
            f"  {label}: python {times['python'] * 1e3:6.1f} [{cpu_p * 1e3:6.1f}]   flint "
            f"{times['flint'] * 1e3:5.1f} [{cpu_f * 1e3:5.1f}]   ratio "
            f"{times['python'] / times['flint']:5.1f}x [{cpu_p / cpu_f:5.1f}x]"
        )
    print(f"  (the exact view alone, theory/model.py: {min(view) * 1e3:.1f} ms CPU)")
    print(
        f"  answers identical: {same}; issue 14's 0.27 s / flint as bench_core.py: "
        f"{0.27 / fresh['flint']:.1f}x [{0.27 / CPU['fresh flint']:.1f}x]"
    )
    return same and CPU["fresh python"] >= 10 * CPU["fresh flint"]


def _write(tmp: Path, n_states: int) -> tuple[Path, Path, float]:
    """The instance, and its solution written by ``pamdp solve`` (a new process)."""
    model = random_instance(n_states, 2, 2, seed=0, episodic=False)
    instance, solution = tmp / f"random{n_states}.json", tmp / f"random{n_states}-sol.json"
    save_instance(model, instance)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pamdp.cli", "solve", str(instance), "-o", str(solution), "--quiet"],
        capture_output=True,
        check=True,
    )
    return instance, solution, time.perf_counter() - start


def _verify(backend: str, instance: Path, solution: Path, reference: bool) -> tuple[float, Any]:
    os.environ[ENV_VAR] = backend
    try:
        return best_of(1, lambda: verify_files(instance, solution, reference=reference), backend)
    finally:
        del os.environ[ENV_VAR]


def _summary(report: Any) -> tuple[Any, ...]:
    return (
        report.ok,
        report.principal_utility,
        report.agent_utility,
        tuple((c.principal_value, c.agent_value, c.deviation_gain) for c in report.states),
        tuple((v.kind, v.state, v.amount) for v in report.violations),
    )


def bench_verify(tmp: Path, compare: int, n_states: int, python_too: bool) -> bool:
    ok = True
    for size, backends in ((compare, ("python", "flint")), (n_states, ("flint",))):
        if python_too and size == n_states:
            backends = ("python", "flint")
        instance, solution, solve_seconds = _write(tmp, size)
        print(
            f"random discounted instance, {size} states (`pamdp solve` {solve_seconds:.2f} s), "
            "exact verification of its float solution, wall s [CPU s]:"
        )
        results = {}
        for reference in (False, True):
            label = "with the reference SPE" if reference else "exact check only     "
            times, cpu = {}, {}
            for backend in backends:
                times[backend], results[backend, reference] = _verify(
                    backend, instance, solution, reference
                )
                cpu[backend] = CPU[backend]
            text = "   ".join(f"{b} {times[b]:7.2f} s [{cpu[b]:6.2f}]" for b in backends)
            ratio = (
                f"   ratio {times['python'] / times['flint']:5.1f}x "
                f"[{cpu['python'] / cpu['flint']:5.1f}x]"
                if len(backends) == 2
                else ""
            )
            print(f"  {label}: {text}{ratio}")
        if len(backends) == 2:
            same = all(
                _summary(results["python", r]) == _summary(results["flint", r])
                for r in (False, True)
            )
            print(f"  reports identical  : {same}")
            ok &= same
        verdict = results["flint", True]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pamdp.cli", "verify", str(instance), str(solution)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"  `pamdp verify` as a new process (flint): {wall:.2f} s [{cpu:.2f}], "
            f"exit {done.returncode}; verdict {'OK' if verdict.ok else 'NOT OK'}"
        )
        if size == n_states:
            ok &= wall < 10 and done.returncode == 0
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--states", type=int, default=600)
    parser.add_argument("--compare-states", type=int, default=150)
    parser.add_argument("--python-too", action="store_true", help="reference at --states too")
    args = parser.parse_args()
    if not flint_available():
        print("python-flint is not installed: nothing to compare")
        return 1
    print(
        f"command: {' '.join(sys.argv)}; load average before: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    good = bench_backward_induction(args.depth, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        good &= bench_verify(Path(tmp), args.compare_states, args.states, args.python_too)
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
