"""Figures of the Coin Game experiments (the five metrics of PAPER.md §6, as in Fig. 4).

Validation-phase curves (mean ± std over seeds) for welfare, proportion of welfare paid and
accuracy; training-phase curves for the SPE and IC ratios (they depend on the principal, which
is frozen during validation). The welfare panel also shows the baselines and the exact welfare
optimum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from solvers.rl.checkpoint import atomic_write

COLOURS = {
    "validate": "tab:green",
    "selfish": "tab:red",
    "cooperative": "tab:blue",
    "constant": "tab:orange",
}
LABELS = {
    "validate": "Algorithm 3 (validation agents)",
    "selfish": "selfish",
    "cooperative": "cooperative",
    "constant": "constant proportion (budget-matched)",
}


def _curves(runs: list[dict[str, Any]], phase: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [r["phases"][phase]["curve"] for r in runs if phase in r["phases"]]
    if not rows:
        return np.zeros(0), np.zeros((0, 0))
    length = min(len(c) for c in rows)
    x = np.array([row["iteration"] for row in rows[0][:length]])
    y = np.array([[row.get(key, np.nan) for row in c[:length]] for c in rows], dtype=float)
    return x, y


def _band(ax: Any, x: np.ndarray, y: np.ndarray, colour: str, label: str) -> None:
    if y.size == 0:
        return
    mean, std = np.nanmean(y, axis=0), np.nanstd(y, axis=0)
    ax.plot(x, mean, color=colour, label=label)
    ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2)


def _clip(ax: Any, x: np.ndarray, y: np.ndarray, low: float, high_min: float) -> None:
    """Fit the y-axis to the curves after the first (untrained) evaluation."""
    if y.size == 0 or y.shape[1] < 2:
        return
    top = float(np.nanmax(y[:, 1:]))
    if np.isfinite(top):
        ax.set_ylim(low, max(high_min, 1.1 * top))


def _final_bars(ax: Any, runs: list[dict[str, Any]], opt: float | None) -> None:
    names = [n for n in COLOURS if n in runs[0]["phases"]]
    finals = [[r["phases"][n]["final"]["welfare"] for r in runs] for n in names]
    ax.bar(
        range(len(names)),
        [np.mean(f) for f in finals],
        yerr=[np.std(f) for f in finals],
        color=[COLOURS[n] for n in names],
        capsize=4,
    )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(["Alg. 3" if n == "validate" else n for n in names], fontsize=8)
    if opt is not None:
        ax.axhline(opt, color="black", linestyle="--")
        ax.axhline(0.9 * opt, color="grey", linestyle=":")
    ax.set_title("final welfare (mean ± std over seeds)", fontsize=9)


def plot_runs(runs: list[dict[str, Any]], out: Path) -> list[Path]:
    """Write ``fig_metrics.png`` (the five metrics + final welfare) and one PNG per metric."""
    out = Path(out)
    paths = []
    opt = runs[0].get("dp_optimum")
    preset = runs[0]["config"]["preset"]
    panels = [
        ("welfare", "social welfare per episode", "validate"),
        ("proportion_paid", "proportion of welfare paid", "validate"),
        ("accuracy", "accuracy (recommendations followed)", "validate"),
        ("spe_ratio", "SPE ratio (training phase)", "train"),
        ("ic_ratio", "IC ratio (training phase)", "train"),
    ]

    def draw(ax: Any, key: str, title: str, phase: str) -> None:
        if key == "welfare":
            for name in ("validate", "selfish", "cooperative", "constant"):
                x, y = _curves(runs, name, key)
                _band(ax, x, y, COLOURS[name], LABELS[name])
            if opt is not None:
                ax.axhline(opt, color="black", linestyle="--", label="exact optimum (DP)")
                ax.axhline(0.9 * opt, color="grey", linestyle=":", label="90% of optimum")
            ax.legend(fontsize=7)
        else:
            x, y = _curves(runs, phase, key)
            _band(ax, x, y, "tab:green" if phase == "validate" else "tab:purple", phase)
            if key == "proportion_paid":
                xc, yc = _curves(runs, "constant", key)
                _band(ax, xc, yc, COLOURS["constant"], LABELS["constant"])
                _clip(ax, x, y, 0.0, 0.5)
                ax.legend(fontsize=7)
            if key in ("spe_ratio", "ic_ratio"):
                ax.axhline(1.0, color="black", linestyle="--")
                _clip(ax, x, y, 0.98, 1.1)
            if key == "accuracy":
                ax.axhline(0.8, color="grey", linestyle=":")
                ax.set_ylim(0.0, 1.02)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"{phase if key != 'welfare' else 'phase'} iteration", fontsize=8)
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v else "0")
        )

    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    flat = list(axes.ravel())
    for ax, (key, title, phase) in zip(flat[:5], panels, strict=True):
        draw(ax, key, title, phase)
    _final_bars(flat[5], runs, opt)
    fig.suptitle(
        f"Coin Game {preset}: {len(runs)} seeds (mean ± std); axes of ratios and payments "
        "fitted to the curves after iteration 0"
    )
    fig.tight_layout()
    path = out / "fig_metrics.png"
    _save(fig, path)
    paths.append(path)
    for key, title, phase in panels:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        draw(ax, key, title, phase)
        fig.tight_layout()
        path = out / f"fig_{key}.png"
        _save(fig, path)
        paths.append(path)
    return paths


def _save(fig: Any, path: Path) -> None:
    """Write a figure as PNG atomically (:func:`solvers.rl.checkpoint.atomic_write`)."""
    atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=110))
    plt.close(fig)
