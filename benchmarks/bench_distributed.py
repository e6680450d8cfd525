"""Distributed runs benchmark (issue 14, item 6): serial against 2 local Ray workers, one run.

1. ``pamdp theorems --profile ci`` (every claim, 150 instances each; one shard per claim,
   or ``--chunk N`` instances per shard), serially and with ``--workers 2``;
2. ``pamdp train tree --trials 3`` (depth-10 paper tree, ``--iterations`` each), serially and
   with ``--workers 2``.

Each command runs as a fresh process (Ray's start-up included, as a user sees it). The script
prints both wall times and the ratio, and checks that the two runs of each pair give the same
results (the theorem report less times, environment and file folders; the trials'
``deterministic`` sections): it exits 1 if they differ. Ray must be installed (the
``distributed`` extra).

Run: ``.venv/bin/python benchmarks/bench_distributed.py [--chunk N] [--iterations N]
[--skip-theorems] [--skip-tree]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PAMDP = [
    sys.executable,
    "-c",
    "import sys; from pamdp.cli import main; sys.exit(main(sys.argv[1:]))",
]


def timed(argv: list[str]) -> tuple[float, str]:
    """Run ``pamdp argv`` and return (wall seconds, standard output); exit on failure."""
    start = time.perf_counter()
    process = subprocess.run([*PAMDP, *argv], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 1):
        sys.exit(f"pamdp {' '.join(argv)} failed ({process.returncode}):\n{process.stderr}")
    return seconds, process.stdout


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A theorem report less what differs between two runs of the same shards."""
    claims = [
        {k: v for k, v in c.items() if k not in ("seconds", "counterexample_path")}
        for c in document["claims"]
    ]
    return {
        **{k: v for k, v in document.items() if k not in ("seconds", "environment")},
        "claims": claims,
    }


def theorems(folder: Path, chunk: int | None) -> bool:
    base = ["theorems", "--profile", "ci", "--json"] + (["--chunk", str(chunk)] if chunk else [])
    serial_s, serial = timed([*base, "--out", str(folder / "serial")])
    ray_s, on_ray = timed([*base, "--workers", "2", "--out", str(folder / "ray")])
    a, b = json.loads(serial), json.loads(on_ray)
    same = comparable(a) == comparable(b)
    tried = sum(c["tried"] for c in a["claims"])
    failing = sum(c["counterexample"] is not None for c in a["claims"])
    shards = len((folder / "serial" / "shards.jsonl").read_text().splitlines()) - 1
    print(
        f"pamdp theorems --profile ci ({len(a['claims'])} claims, {shards} shards, {tried} "
        f"instances tried, {failing} counterexamples):"
    )
    print(f"  serial           : {serial_s:8.1f} s")
    print(f"  --workers 2      : {ray_s:8.1f} s")
    print(f"  serial / 2 workers: {serial_s / ray_s:.2f}x; reports identical: {same}")
    return same


def tree(folder: Path, iterations: int) -> bool:
    base = ["train", "tree", "--depth", "10", "--trials", "3", "--iterations", str(iterations)]
    base += ["--no-progress"]
    serial_s, _ = timed([*base, "-o", str(folder / "serial")])
    ray_s, _ = timed([*base, "--workers", "2", "-o", str(folder / "ray")])

    def trials(run: str) -> list[Any]:
        return [
            json.loads((folder / run / f"trial_{t:02d}" / "results.json").read_text())[
                "deterministic"
            ]
            for t in range(3)
        ]

    same = trials("serial") == trials("ray")
    print(f"pamdp train tree --depth 10 --trials 3 --iterations {iterations}:")
    print(f"  serial           : {serial_s:8.1f} s")
    print(f"  --workers 2      : {ray_s:8.1f} s")
    print(f"  serial / 2 workers: {serial_s / ray_s:.2f}x; trials identical: {same}")
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunk", type=int, default=None, help="theorem instances per shard")
    parser.add_argument("--iterations", type=int, default=4000, help="iterations per trial")
    parser.add_argument("--skip-theorems", action="store_true")
    parser.add_argument("--skip-tree", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        if not args.skip_theorems:
            ok &= theorems(Path(tmp) / "theorems", args.chunk)
        if not args.skip_tree:
            ok &= tree(Path(tmp) / "tree", args.iterations)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
