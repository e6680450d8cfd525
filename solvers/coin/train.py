"""Trainer for the Coin Game experiments (PAPER.md §5–6; ``pamdp train coin``).

One run (one seed) executes the phases in order, each a loop of iterations (every game of the
batch steps once, then one gradient step):

1. ``train``    — Algorithm 3's training phase (:class:`~solvers.coin.algorithm3.TrainingPhase`);
2. ``validate`` — fresh selfish DQN agents against the frozen principal;
3. the baselines of ``Config.baselines``: ``selfish``, ``cooperative`` and ``constant`` (the
   constant-proportion split, budget-matched to the proportion of welfare paid in ``validate``).

Each phase is evaluated every ``eval_every`` iterations (and at its start and end); the exact
welfare optimum (:mod:`solvers.coin.dp`) is the reference line. The run writes
``results.json`` and, every ``checkpoint_every`` iterations and at every phase end,
``checkpoint.pt``; ``resume=True`` continues from it and reproduces the uninterrupted run bit
for bit on the CPU (every random draw comes from generators stored in the checkpoint). A Ctrl-C
finishes the iteration in progress, writes the checkpoint there and raises
:class:`~solvers.rl.checkpoint.TrainingInterrupted`, so resuming loses no iteration. Every file
is written atomically (:mod:`solvers.rl.checkpoint`); the results record iterations per second
at every evaluation (:class:`solvers.rl.metrics.Throughput`).

Layout of ``output``: ``seed_<k>/{results.json, checkpoint.pt}`` per seed,
``summary.json`` and ``fig_*.png`` over the seeds (:func:`run_seeds`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from solvers.coin.algorithm3 import TrainingPhase, validation_phase
from solvers.coin.baselines import IndependentDQN
from solvers.coin.config import Config
from solvers.coin.dp import TabularCoinGame
from solvers.coin.env import preset
from solvers.rl.checkpoint import (
    CheckpointError,
    DeferredInterrupt,
    TrainingInterrupted,
    load_checkpoint,
    save_checkpoint,
)
from solvers.rl.metrics import Throughput, format_duration, write_json
from solvers.rl.seeding import FlushDenormals, seed_everything

__all__ = ["Config", "run", "run_seeds", "summarize"]

Phase = TrainingPhase | IndependentDQN

#: Largest board on which the exact welfare optimum is computed (7×7: 235,298 states).
MAX_DP_GRID = 7


#: iterations after which :func:`run` reports its estimate of the remaining time
ETA_AFTER = 300


def _seeding(cfg: Config) -> None:
    # --- seeding: crucial for bit-for-bit repeatable CPU runs -------------------------------
    # Every stochastic choice draws from numpy generators derived from cfg.seed and the phase
    # name (solvers.coin.common.seeds); network initialisations use their own torch generators.
    # The global seeds guard against anything else. CPU kernels are deterministic with one
    # thread; on CUDA deterministic kernels are requested (warn-only: some have none).
    seed_everything(cfg.seed, device=cfg.device, deterministic_cuda=True)


def _phase_names(cfg: Config) -> list[str]:
    return [name for name, _ in cfg.phases()]


def _build(name: str, cfg: Config, trained: TrainingPhase | None, results: dict[str, Any]) -> Phase:
    rules = preset(cfg.preset)
    if name == "train":
        return TrainingPhase(cfg, rules)
    if name == "validate":
        assert trained is not None
        return validation_phase(cfg, rules, trained)
    if name == "constant":
        p = constant_proportion(results)
        return IndependentDQN(cfg, rules, name, cfg.baseline_iterations, "constant", proportion=p)
    if name in ("selfish", "cooperative"):
        return IndependentDQN(cfg, rules, name, cfg.baseline_iterations, name)  # type: ignore[arg-type]
    raise ValueError(f"unknown phase {name!r}")


def constant_proportion(results: dict[str, Any]) -> float:
    """The constant-proportion baseline's ``p``: the proportion of welfare paid at the end of
    the same seed's validation phase, clipped to ``[0, 1]`` (0 if there is none)."""
    final = results["phases"].get("validate", {}).get("final", {})
    p = final.get("proportion_paid") or 0.0
    return min(max(float(p) if math.isfinite(p) else 0.0, 0.0), 1.0)


def _checkpoint(
    path: Path,
    cfg: Config,
    results: dict[str, Any],
    index: int,
    phase_state: dict[str, Any] | None,
    trained: TrainingPhase | None,
) -> None:
    """Write the run's state: finished phases' results, the current phase, trained networks."""
    save_checkpoint(
        path,
        {
            "config": cfg.to_dict(),
            "results": results,
            "phase_index": index,
            "phase_state": phase_state,
            "trained": trained.state_dict() if trained is not None else None,
        },
    )


def phase_summary(phase: Phase) -> dict[str, Any]:
    return {
        "iterations": phase.total,
        "seconds": phase.elapsed,
        "iterations_per_second": phase.it / phase.elapsed if phase.elapsed > 0 else None,
        "curve": phase.curve,
        "final": phase.curve[-1] if phase.curve else {},
    }


def run(
    cfg: Config,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) one seed; returns the results written to ``<output>/results.json``.

    Parameters
    ----------
    cfg
        The run's configuration (``cfg.output`` is this seed's folder).
    resume
        Continue from ``<output>/checkpoint.pt`` if it exists (its config must equal ``cfg``).
    progress
        Show tqdm progress bars.
    stop_after
        Stop (after checkpointing) once this many iterations have been run in this call;
        used to test interruption and resumption. ``None`` runs to the end.
    log
        Receives one line with the iterations per second and the estimated remaining time of
        the run after its first :data:`ETA_AFTER` iterations (``None``: no message).

    Raises
    ------
    TrainingInterrupted
        On Ctrl-C, after writing the checkpoint at the current iteration.
    """
    # this run computes with subnormals kept, whatever ran before it in the thread
    with FlushDenormals(False), DeferredInterrupt() as interrupt:
        return _run(cfg, resume, progress, stop_after, log, interrupt)


def _run(
    cfg: Config,
    resume: bool,
    progress: bool,
    stop_after: int | None,
    log: Callable[[str], None] | None,
    interrupt: DeferredInterrupt,
) -> dict[str, Any]:
    _seeding(cfg)
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    rules = preset(cfg.preset)
    results: dict[str, Any] = {
        "config": cfg.to_dict(),
        "phases": {},
        "complete": False,
        "throughput": [],
    }
    start, phase_state, trained_state = 0, None, None
    if resume and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path, weights_only=False)  # our own file (numpy arrays)
        if "config" not in ckpt or "phase_index" not in ckpt:
            raise CheckpointError(f"{ckpt_path}: not a Coin Game checkpoint")
        if Config.from_dict(ckpt["config"]) != cfg:
            raise CheckpointError(f"{ckpt_path} was written with another configuration")
        results, start = ckpt["results"], ckpt["phase_index"]
        phase_state, trained_state = ckpt["phase_state"], ckpt["trained"]
    if "dp_optimum" not in results:
        t0 = time.perf_counter()
        results["dp_optimum"] = (
            TabularCoinGame(rules).welfare_optimum().value
            if cfg.exact_optimum and rules.grid_size <= MAX_DP_GRID
            else None
        )
        results["dp_seconds"] = time.perf_counter() - t0

    names = _phase_names(cfg)
    trained: TrainingPhase | None = None
    done_now = 0
    throughput = Throughput(0)
    remaining = sum(total for _, total in cfg.phases()[start:])
    if phase_state is not None:
        remaining -= int(phase_state["it"])
    results.setdefault("throughput", [])
    for k, name in enumerate(names):
        if k < start:
            if name == "train":  # validation needs the trained networks
                trained = TrainingPhase(cfg, rules)
                assert trained_state is not None
                trained.load_state_dict(trained_state)
            continue
        phase = _build(name, cfg, trained, results)
        if k == start and phase_state is not None:
            phase.load_state_dict(phase_state)
        bar = tqdm(
            total=phase.total,
            initial=phase.it,
            desc=f"seed {cfg.seed} {name}",
            disable=not progress,
            unit="it",
            smoothing=0.05,
        )

        if not phase.curve:
            phase.evaluate()
        while phase.it < phase.total:
            phase.step()
            bar.update(1)
            done_now += 1
            if done_now == ETA_AFTER and log is not None:
                left = throughput.remaining_seconds(done_now, remaining - done_now)
                log(
                    f"after {done_now} iterations: {throughput.rate(done_now):.0f} it/s, "
                    f"estimated remaining time {format_duration(left)}"
                )
            if phase.it % cfg.eval_every == 0 or phase.it == phase.total:
                row = phase.evaluate()
                rate = phase.it / max(phase.elapsed, 1e-9)
                results["throughput"].append(
                    {"phase": name, "iteration": phase.it, "iterations_per_second": rate}
                )
                bar.set_postfix(welfare=f"{row['welfare']:.2f}", its=f"{rate:.0f}/s")
            if cfg.checkpoint_every and phase.it % cfg.checkpoint_every == 0:
                _checkpoint(ckpt_path, cfg, results, k, phase.state_dict(), trained)
            stop = stop_after is not None and done_now >= stop_after
            if (stop or interrupt.requested) and phase.it < phase.total:
                _checkpoint(ckpt_path, cfg, results, k, phase.state_dict(), trained)
                bar.close()
                if stop:
                    return results
                raise TrainingInterrupted(phase.it, ckpt_path, f"phase {name!r}")
        bar.close()
        if name == "train":
            assert isinstance(phase, TrainingPhase)
            trained = phase
        results["phases"][name] = phase_summary(phase)
        _checkpoint(ckpt_path, cfg, results, k + 1, None, trained)
    results["complete"] = True
    results["summary"] = summarize(results)
    write_json(out / "results.json", results)
    _checkpoint(ckpt_path, cfg, results, len(names), None, trained)
    return results


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers of one run: validation metrics, ratios, baselines, DP optimum."""
    ph = results["phases"]
    opt = results.get("dp_optimum")
    val = ph.get("validate", {}).get("final", {})
    tr = ph.get("train", {}).get("final", {})
    s: dict[str, Any] = {
        "dp_optimum": opt,
        "welfare": val.get("welfare"),
        "welfare_vs_optimum": val["welfare"] / opt if opt and "welfare" in val else None,
        "accuracy": val.get("accuracy"),
        "proportion_paid": val.get("proportion_paid"),
        "principal_welfare_all_follow": tr.get("welfare"),
        "spe_ratio": tr.get("spe_ratio"),
        "ic_ratio": tr.get("ic_ratio"),
    }
    for b in ("selfish", "cooperative", "constant"):
        if b in ph:
            s[f"{b}_welfare"] = ph[b]["final"].get("welfare")
    if "constant" in ph:
        s["constant_proportion"] = ph["constant"]["final"].get("proportion_paid")
    return s


def run_seeds(
    cfg: Config,
    seed_list: list[int],
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every seed into ``<output>/seed_<k>``, then write ``summary.json`` and the figures."""
    from dataclasses import replace

    from solvers.coin.plots import plot_runs

    runs = []
    for seed in seed_list:
        sub = replace(cfg, seed=seed, output=str(Path(cfg.output) / f"seed_{seed}"))
        res = run(sub, resume=resume, progress=progress, log=log)
        runs.append(res)
    summary = aggregate(runs)
    out = Path(cfg.output)
    write_json(out / "summary.json", summary)
    plot_runs(runs, out)
    return summary


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, standard deviation and per-seed values of every summary number."""
    per_seed = [r["summary"] for r in runs]
    keys = [k for k in per_seed[0] if isinstance(per_seed[0][k], (int, float))]
    agg: dict[str, Any] = {"seeds": [r["config"]["seed"] for r in runs], "per_seed": per_seed}
    for k in keys:
        vals = np.array([float(s[k]) for s in per_seed if s.get(k) is not None])
        agg[k] = {"mean": float(vals.mean()), "std": float(vals.std()), "min": float(vals.min())}
    ips = {
        name: float(np.mean([r["phases"][name]["iterations_per_second"] or 0 for r in runs]))
        for name in runs[0]["phases"]
    }
    agg["iterations_per_second"] = ips
    return agg
