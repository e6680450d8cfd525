"""I/O benchmark (issue 14): ``pamdp solve TREE.json -o SOL.json`` end to end vs plain
``json.load`` of the same file, ``pamdp generate``, reading the solution back, and ``.npz`` vs
JSON loading, measured in one run.

    .venv/bin/python benchmarks/bench_io.py [--depths 18 20] [--repeat 3] [--folder DIR]

Every timing is a fresh subprocess (the real CLI, imports included), wall-clock seconds, the
best of ``--repeat`` runs, with the child's peak resident memory (``/usr/bin/time -v`` where
present, else ``resource.getrusage(RUSAGE_CHILDREN)``, the largest of the runs) and its CPU
time (user + system), which is steadier than wall time on a shared machine; ``load`` is the
1-minute load average just before the step (on a 2-core machine a load above 2 means the
wall times include waiting for a core). Instances are paper trees (PAPER.md §6), seed 0,
written by ``pamdp generate tree`` (timed once, when the file is first written).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
_SCRIPT = Path(PYTHON).parent / "pamdp"  # the installed console script: the real CLI
PAMDP = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "pamdp.cli"]
TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if TIME:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as log:
            start = time.perf_counter()
            subprocess.run(
                [TIME, "-v", "-o", log.name, *command],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
            wall = time.perf_counter() - start
            text = Path(log.name).read_text()
        peak = next(
            int(line.split(":")[1]) for line in text.splitlines() if "Maximum resident" in line
        )
    else:  # pragma: no cover - machines without GNU time
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak / 1024


def best(command: list[str], repeat: int) -> tuple[float, float, float]:
    runs = [measure(command) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def row(depth: int, size: float, label: str, load: float, result: tuple[float, ...]) -> str:
    wall, cpu, peak = result
    states = 2**depth - 1
    return (
        f"{depth:>5} {states:>8} {size:>6.1f}  {label:<34} {wall:>7.2f} {cpu:>6.2f} "
        f"{peak:>8.0f} {load:>5.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[18, 20])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", default=None, help="where to write the trees (a temp dir)")
    args = parser.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-io-"))
    folder.mkdir(parents=True, exist_ok=True)
    env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()}"
    print(f"bench_io: {env_note}; best of {args.repeat}; files in {folder}")
    header = (
        f"{'depth':>5} {'states':>8} {'MB':>6}  {'step':<34} {'wall s':>7} {'cpu s':>6} "
        f"{'peak MB':>8} {'load':>5}"
    )
    print(header)
    for depth in args.depths:
        tree = folder / f"tree{depth}.json"
        generated = None
        if not tree.exists():
            load = os.getloadavg()[0]
            generated = measure(
                [*PAMDP, "generate", "tree", "--depth", str(depth), "-o", str(tree), "--quiet"]
            )
        size = tree.stat().st_size / 1e6
        if generated is not None:
            print(row(depth, size, "pamdp generate tree -o TREE.json", load, generated))
        npz = folder / f"tree{depth}.npz"
        if not npz.exists():
            subprocess.run(
                [*PAMDP, "convert", str(tree), str(npz), "--quiet"],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
        solution = folder / f"sol{depth}.json"
        steps = {
            "json.load (plain python -c)": [
                PYTHON,
                "-c",
                f"import json; json.load(open({str(tree)!r}))",
            ],
            "pamdp solve TREE.json -o SOL.json": [
                *PAMDP,
                "solve",
                str(tree),
                "-o",
                str(solution),
                "--quiet",
            ],
            "load_instance(TREE.json)": [
                PYTHON,
                "-c",
                f"from theory.format import load_instance; load_instance({str(tree)!r})",
            ],
            "load_instance(TREE.npz)": [
                PYTHON,
                "-c",
                f"from theory.format import load_instance; load_instance({str(npz)!r})",
            ],
            "load_solution(SOL.json) [+ .npz model]": [
                PYTHON,
                "-c",
                "from theory.format import load_instance, load_solution; "
                f"load_solution({str(solution)!r}, load_instance({str(npz)!r}))",
            ],
        }
        results = {}
        for label, command in steps.items():
            load = os.getloadavg()[0]
            results[label] = best(command, args.repeat)
            print(row(depth, size, label, load, results[label]), flush=True)
        base = results["json.load (plain python -c)"]
        solve = results["pamdp solve TREE.json -o SOL.json"]
        print(
            f"      depth {depth}: solve end to end / json.load = {solve[0] / base[0]:.2f}× wall, "
            f"{solve[1] / base[1]:.2f}× cpu; peak {solve[2]:.0f} MB; "
            f".npz load / JSON load = "
            f"{results['load_instance(TREE.npz)'][0] / results['load_instance(TREE.json)'][0]:.2f}×"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
