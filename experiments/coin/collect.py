"""Collect a multi-seed Coin Game run into experiments/coin/results/<name>/.

Copies every ``seed_<k>/results.json`` (checkpoints stay behind), ``summary.json`` and the PNG
figures, regenerates the figures from the JSON, and prints the results table in Markdown.

Usage: ``python experiments/coin/collect.py RUN_DIR OUT_DIR``
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from solvers.coin.plots import plot_runs
from solvers.coin.train import aggregate


def table(summary: dict) -> str:
    """Markdown table: mean ± std (min) over seeds of the headline numbers."""
    rows = [
        ("exact welfare optimum (DP)", "dp_optimum"),
        ("welfare, Algorithm 3 validation agents", "welfare"),
        ("welfare / optimum", "welfare_vs_optimum"),
        ("accuracy (recommendations followed)", "accuracy"),
        ("proportion of welfare paid", "proportion_paid"),
        ("welfare, principal with all agents following", "principal_welfare_all_follow"),
        ("SPE ratio", "spe_ratio"),
        ("IC ratio", "ic_ratio"),
        ("welfare, selfish baseline", "selfish_welfare"),
        ("welfare, cooperative baseline", "cooperative_welfare"),
        ("welfare, constant proportion (budget-matched)", "constant_welfare"),
        ("constant proportion p", "constant_proportion"),
    ]
    lines = ["| metric | mean ± std | min over seeds |", "|---|---|---|"]
    for label, key in rows:
        if key in summary:
            s = summary[key]
            lines.append(f"| {label} | {s['mean']:.3f} ± {s['std']:.3f} | {s['min']:.3f} |")
    return "\n".join(lines)


def main(run_dir: str, out_dir: str) -> None:
    run, out = Path(run_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed_dir in sorted(run.glob("seed_*")):
        res = json.loads((seed_dir / "results.json").read_text())
        runs.append(res)
        (out / seed_dir.name).mkdir(exist_ok=True)
        shutil.copy(seed_dir / "results.json", out / seed_dir.name / "results.json")
    summary = aggregate(runs)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    plot_runs(runs, out)
    md = table(summary)
    (out / "table.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
