"""Gather the tree runs into results JSON and draw Fig. 3 and the nudging figure.

Reads the raw outputs of experiments/tree/run.py (``runs/tree/xi_<ξ>/tree_<seed>``) and writes

* ``results/fig3.json`` — ξ = 0 (the paper's setting): every trial's validation history and
  final record, the mean / min / max curves, the per-tree SPE utilities, timing;
* ``results/nudging.json`` — per ξ: the final records of every trial and their aggregate,
  plus two exact (training-free) computations on the same trees: the price of the margin for
  an exact principal (the SPE with margin ξ, backward induction) and the discontinuity of
  PAPER.md §3 (the SPE recommendations offered with contracts computed from an agent Q̄ off by
  uniform noise of size E, against the exact agent);
* ``fig3.png`` and ``nudging.png``.

Usage::

    .venv/bin/python experiments/tree/collect.py [--nudges 0 0.005 0.01 0.02 0.05]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.tree.run import run_dir  # noqa: E402
from solvers.backward_induction import solve_backward_induction  # noqa: E402
from solvers.contracts import minimal_contracts  # noqa: E402
from solvers.deep.validation import Validator  # noqa: E402
from theory.atomic import atomic_open, atomic_write_text  # noqa: E402
from theory.generators import paper_tree  # noqa: E402
from theory.ties import Ties  # noqa: E402

METRICS = (
    "principal_ratio",
    "exact_contract_principal_ratio",
    "agent_ratio",
    "exact_contract_agent_ratio",
    "accuracy",
    "accuracy_weighted",
    "follow_rate",
    "agent_q_error",
    "expected_payment",
)
NOISE_LEVELS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def load_trials(nudge: float, trees: list[int]) -> list[dict[str, Any]]:
    """Every finished trial of ``nudge`` on ``trees`` (results.json contents, plus ``tree``)."""
    trials = []
    for tree in trees:
        for path in sorted(run_dir(nudge, tree).glob("trial_*/results.json")):
            data = json.loads(path.read_text())
            data["tree"] = tree
            trials.append(data)
    return trials


def _stats(values: list[float]) -> dict[str, float]:
    array = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if array.size == 0:
        return {"mean": math.nan, "min": math.nan, "max": math.nan, "std": math.nan, "n": 0}
    return {
        "mean": float(array.mean()),
        "min": float(array.min()),
        "max": float(array.max()),
        "std": float(array.std()),
        "n": int(array.size),
    }


def fig3_results(trials: list[dict[str, Any]]) -> dict[str, Any]:
    histories = [t["deterministic"]["history"] for t in trials]
    iterations = [r["iteration"] for r in histories[0]]
    curves = {}
    for name in METRICS:
        table = np.array([[r[name] for r in h] for h in histories], dtype=float)
        curves[name] = {
            "mean": table.mean(axis=0).tolist(),
            "min": table.min(axis=0).tolist(),
            "max": table.max(axis=0).tolist(),
            "per_trial": table.tolist(),
        }
    finals = [t["deterministic"]["final"] for t in trials]
    rows = [
        {
            "tree": t["tree"],
            "trial": t["trial"],
            "seed": t["deterministic"]["seed"],
            **{name: f[name] for name in METRICS},
            "wall_seconds": t["timing"]["wall_seconds"],
            "iterations_per_second": t["timing"]["iterations_per_second"],
        }
        for t, f in zip(trials, finals, strict=True)
    ]
    spe = {str(t["tree"]): t["instance"]["spe_principal_utility"] for t in trials}
    return {
        "nudge": trials[0]["deterministic"]["config"]["nudge"],
        "config": trials[0]["deterministic"]["config"],
        "n_trials": len(trials),
        "iterations": iterations,
        "curves": curves,
        "finals": rows,
        "aggregate": {name: _stats([f[name] for f in finals]) for name in METRICS},
        "above_spe": {
            "learned_contracts": sum(f["principal_ratio"] > 1 + 1e-9 for f in finals),
            "exact_contracts": sum(f["exact_contract_principal_ratio"] > 1 + 1e-9 for f in finals),
        },
        "spe_principal_utility": spe,
        "timing": _stats([t["timing"]["wall_seconds"] for t in trials]),
    }


def margin_cost(trees: list[int], nudges: list[float], depth: int = 10) -> dict[str, Any]:
    """V^p of the SPE with margin ξ ÷ V^p of the SPE, per tree (exact principal and agent)."""
    out: dict[str, Any] = {}
    for tree in trees:
        model = paper_tree(depth, tree)
        base = float(solve_backward_induction(model).principal_values[0])
        out[str(tree)] = {
            f"{xi:g}": float(
                solve_backward_induction(model, ties=Ties(margin=xi)).principal_values[0]
            )
            / base
            for xi in nudges
        }
    return out


def noisy_agent_curves(
    trees: list[int], nudges: list[float], depth: int = 10, repeats: int = 5
) -> dict[str, Any]:
    """The discontinuity of PAPER.md §3 without any learning.

    For each margin ξ, take the SPE of the nudged game (backward induction with margin ξ: its
    recommendations and its agent Q̄, which includes the extra rents the margin pays
    downstream); offer the minimal contracts with margin ξ computed from ``Q̄ + noise``, noise
    uniform in ``[−E, E]`` per entry; let the exact agent respond. Mean principal utility ÷ the
    un-nudged SPE utility over trees × ``repeats`` noise draws, per (ξ, E). At E = 0 this is the
    price of the margin; Proposition 4.1 predicts following for E ≤ ξ/2.
    """
    curves: dict[str, list[float]] = {}
    follow: dict[str, list[float]] = {}
    validators = [Validator(paper_tree(depth, tree)) for tree in trees]
    for xi in nudges:
        ratios, follows = [], []
        nudged = [solve_backward_induction(v.model, ties=Ties(margin=xi)) for v in validators]
        for level in NOISE_LEVELS:
            values, shares = [], []
            for index, validator in enumerate(validators):
                spe = nudged[index]
                q_bar = np.asarray(spe.q_bar, dtype=float)
                for repeat in range(repeats):
                    rng = np.random.default_rng([index, repeat])
                    noisy = q_bar + rng.uniform(-level, level, q_bar.shape)
                    contracts = minimal_contracts(
                        noisy, validator.model.outcome_probs, spe.recommended, ties=Ties(margin=xi)
                    ).contracts
                    record, _ = validator.evaluate(spe.recommended, contracts)
                    values.append(record.principal_ratio)
                    shares.append(record.follow_rate)
            ratios.append(float(np.mean(values)))
            follows.append(float(np.mean(shares)))
        curves[f"{xi:g}"] = ratios
        follow[f"{xi:g}"] = follows
    return {
        "noise_levels": list(NOISE_LEVELS),
        "principal_ratio": curves,
        "follow_rate": follow,
        "repeats": repeats,
    }


def nudging_results(nudges: list[float], trees: list[int]) -> dict[str, Any]:
    per_nudge = {}
    for xi in nudges:
        trials = load_trials(xi, trees)
        if not trials:
            continue
        finals = [t["deterministic"]["final"] for t in trials]
        per_nudge[f"{xi:g}"] = {
            "n_trials": len(trials),
            "trials": [
                {
                    "tree": t["tree"],
                    "trial": t["trial"],
                    **{name: t["deterministic"]["final"][name] for name in METRICS},
                }
                for t in trials
            ],
            "aggregate": {name: _stats([f[name] for f in finals]) for name in METRICS},
        }
    return {
        "nudges": [f"{xi:g}" for xi in nudges],
        "trees": trees,
        "deep": per_nudge,
        "margin_cost": margin_cost(trees, nudges),
        "noisy_agent": noisy_agent_curves(trees, nudges),
    }


# ------------------------------------------------------------------------ figures
def plot_fig3(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.array(data["iterations"])
    curves = data["curves"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    panels = [
        (
            "principal utility ÷ SPE",
            [
                ("principal_ratio", "learned contracts (Q̄_φ)", "C0"),
                (
                    "exact_contract_principal_ratio",
                    "learned recommendations, exact minimal contracts",
                    "C1",
                ),
            ],
            (0.0, 1.1),
        ),
        (
            "agent utility ÷ SPE",
            [
                ("agent_ratio", "learned contracts (Q̄_φ)", "C0"),
                (
                    "exact_contract_agent_ratio",
                    "learned recommendations, exact minimal contracts",
                    "C1",
                ),
            ],
            None,
        ),
        (
            "accuracy",
            [
                ("accuracy", "all states (= reachable)", "C2"),
                ("accuracy_weighted", "weighted by visit probability", "C3"),
                ("follow_rate", "exact agent follows (learned contracts)", "C4"),
            ],
            (0.0, 1.02),
        ),
    ]
    for ax, (title, lines, ylim) in zip(axes, panels, strict=True):
        for name, label, colour in lines:
            curve = curves[name]
            ax.plot(x, curve["mean"], color=colour, label=label)
            ax.fill_between(x, curve["min"], curve["max"], color=colour, alpha=0.2, lw=0)
        if "utility" in title:
            ax.axhline(1.0, color="k", lw=0.8, ls="--")
        if title.startswith("principal"):
            ax.axhline(0.98, color="grey", lw=0.8, ls=":")
        if ylim:
            ax.set_ylim(*ylim)
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Tree MDP, depth 10: {data['n_trials']} trials (3 trees × "
        f"{data['n_trials'] // 3}), nudge ξ = {data['nudge']:g}; line = mean, "
        "band = min–max over trials",
        fontsize=10,
    )
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def plot_nudging(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    noisy = data["noisy_agent"]
    levels = np.array(noisy["noise_levels"])
    shown = np.where(levels == 0, 3e-5, levels)
    for xi, ratios in noisy["principal_ratio"].items():
        axes[0].plot(shown, ratios, marker="o", label=f"ξ = {xi}")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("agent Q̄ error E (uniform noise; leftmost point: E = 0)")
    axes[0].set_ylabel("principal utility ÷ SPE")
    axes[0].set_title("exact: SPE recommendations, contracts from a noisy Q̄")
    axes[0].axhline(1.0, color="k", lw=0.8, ls="--")
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    deep = data["deep"]
    xs = [float(x) for x in deep]
    for name, label, colour in (
        ("principal_ratio", "deep: learned contracts", "C0"),
        ("exact_contract_principal_ratio", "deep: learned recommendations, exact contracts", "C1"),
        ("follow_rate", "deep: share of states followed", "C4"),
    ):
        stats = [deep[k]["aggregate"][name] for k in deep]
        mean = np.array([s["mean"] for s in stats])
        low = np.array([s["min"] for s in stats])
        high = np.array([s["max"] for s in stats])
        axes[1].errorbar(
            xs,
            mean,
            yerr=[mean - low, high - mean],
            marker="o",
            capsize=3,
            color=colour,
            label=label,
        )
    cost = data["margin_cost"]
    margin = np.mean([[cost[t][f"{x:g}"] for x in xs] for t in cost], axis=0)
    axes[1].plot(
        xs,
        margin,
        color="k",
        ls="--",
        marker="x",
        label="exact SPE with margin ξ (price of the margin)",
    )
    axes[1].set_xlabel("nudge ξ")
    axes[1].set_ylabel("ratio to SPE / share")
    axes[1].set_title("deep backend after 20,000 iterations (mean, min–max)")
    axes[1].set_ylim(0.0, 1.05)
    axes[1].legend(fontsize=7, loc="lower right")
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def markdown_tables(fig3: dict[str, Any] | None, nudging: dict[str, Any]) -> str:
    """The README's result tables (markdown), printed by ``--tables``."""
    lines: list[str] = []
    if fig3 is not None:
        agg = fig3["aggregate"]
        lines += ["| metric (final, iteration 20,000) | mean | min | max |", "|---|---|---|---|"]
        for name, label in (
            (
                "exact_contract_principal_ratio",
                "principal utility ÷ SPE — learned recommendations, exact contracts",
            ),
            ("principal_ratio", "principal utility ÷ SPE — learned contracts (Q̄_φ)"),
            (
                "exact_contract_agent_ratio",
                "agent utility ÷ SPE — learned recommendations, exact contracts",
            ),
            ("agent_ratio", "agent utility ÷ SPE — learned contracts"),
            ("accuracy", "accuracy (all states = reachable states)"),
            ("accuracy_weighted", "accuracy weighted by visit probability"),
            ("follow_rate", "share of states where the exact agent follows"),
            ("agent_q_error", "max |Q̄_φ − Q̄_exact|"),
        ):
            a = agg[name]
            lines.append(f"| {label} | {a['mean']:.4f} | {a['min']:.4f} | {a['max']:.4f} |")
        lines += [
            "",
            "| tree | trial | seed | principal (exact contracts) | principal "
            "(learned contracts) | agent (learned) | accuracy | follow | wall s of its run |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in fig3["finals"]:
            lines.append(
                f"| {row['tree']} | {row['trial']} | {row['seed']} | "
                f"{row['exact_contract_principal_ratio']:.4f} | {row['principal_ratio']:.4f} | "
                f"{row['agent_ratio']:.4f} | {row['accuracy']:.4f} | {row['follow_rate']:.3f} | "
                f"{row['wall_seconds']:.0f} |"
            )
        lines.append("")
    deep = nudging["deep"]
    if deep:
        lines += [
            "| ξ | trials | principal, learned contracts: mean (min–max) | principal, "
            "exact contracts: mean (min–max) | agent, learned | accuracy | follow | "
            "exact SPE with margin ξ |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for xi, entry in deep.items():
            a = entry["aggregate"]
            cost = np.mean([nudging["margin_cost"][t][xi] for t in nudging["margin_cost"]])
            p, x = a["principal_ratio"], a["exact_contract_principal_ratio"]
            lines.append(
                f"| {xi} | {entry['n_trials']} | {p['mean']:.4f} ({p['min']:.4f}–{p['max']:.4f}) "
                f"| {x['mean']:.4f} ({x['min']:.4f}–{x['max']:.4f}) | "
                f"{a['agent_ratio']['mean']:.3f} | {a['accuracy']['mean']:.4f} | "
                f"{a['follow_rate']['mean']:.3f} | {cost:.4f} |"
            )
        lines.append("")
    noisy = nudging["noisy_agent"]
    header = " | ".join(f"E = {e:g}" for e in noisy["noise_levels"])
    lines += [f"| ξ | {header} |", "|---" * (len(noisy["noise_levels"]) + 1) + "|"]
    for xi, ratios in noisy["principal_ratio"].items():
        lines.append(f"| {xi} | " + " | ".join(f"{r:.3f}" for r in ratios) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nudges", type=float, nargs="+", default=[0.0, 0.005, 0.01, 0.02, 0.05])
    parser.add_argument("--trees", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tables", action="store_true", help="print the markdown tables")
    args = parser.parse_args(argv)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    trials = load_trials(0.0, args.trees)
    fig3 = None
    if trials:
        fig3 = fig3_results(trials)
        atomic_write_text(results / "fig3.json", json.dumps(fig3, indent=1) + "\n")
        plot_fig3(fig3, HERE / "fig3.png")
        print(f"fig3: {fig3['n_trials']} trials", file=sys.stderr)
    nudging = nudging_results(args.nudges, args.trees)
    atomic_write_text(results / "nudging.json", json.dumps(nudging, indent=1) + "\n")
    if nudging["deep"]:
        plot_nudging(nudging, HERE / "nudging.png")
    print(f"nudging: {[(k, v['n_trials']) for k, v in nudging['deep'].items()]}", file=sys.stderr)
    if args.tables:
        print(markdown_tables(fig3, nudging))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
