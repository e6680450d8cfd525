"""Budget check: the constant-proportion baseline trained as long as Algorithm 3 in total.

In experiments/coin/results/paper_3x3 every baseline gets 15,000 iterations, as many as the
validation phase, while Algorithm 3 also had 12,000 training-phase iterations before it. This
script trains the budget-matched constant-proportion baseline (same seeds, same ``p`` as the
main run's validation phase) for the sum, 27,000 iterations, and records its curve.

Usage: ``python experiments/coin/long_baseline.py CONFIG RESULTS_DIR OUT_JSON [ITERATIONS]``
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from solvers.coin.baselines import IndependentDQN
from solvers.coin.config import Config
from solvers.coin.env import preset


def main(config: str, results_dir: str, out_json: str, iterations: int | None = None) -> None:
    torch.set_num_threads(1)
    base = Config.from_json(config)
    total = iterations or base.iterations + base.validation_iterations
    rules = preset(base.preset)
    out: dict[str, object] = {"config": config, "iterations": total, "seeds": {}}
    finals = []
    for seed_dir in sorted(Path(results_dir).glob("seed_*")):
        res = json.loads((seed_dir / "results.json").read_text())
        seed = int(res["config"]["seed"])
        p = float(res["phases"]["validate"]["final"]["proportion_paid"])
        cfg = replace(base, seed=seed, baseline_iterations=total)
        phase = IndependentDQN(cfg, rules, "constant", total, "constant", proportion=p)
        t0 = time.perf_counter()
        phase.evaluate()
        while phase.it < total:
            phase.step()
            if phase.it % cfg.eval_every == 0 or phase.it == total:
                phase.evaluate()
        w = phase.curve[-1]["welfare"]
        finals.append(w)
        out["seeds"][str(seed)] = {  # type: ignore[index]
            "proportion": p,
            "final_welfare": w,
            "algorithm3_welfare": res["summary"]["welfare"],
            "seconds": time.perf_counter() - t0,
            "curve": phase.curve,
        }
        print(
            f"seed {seed}: p = {p:.3f}, constant-proportion welfare after {total} it = {w:.3f}, "
            f"Algorithm 3 = {res['summary']['welfare']:.3f}",
            flush=True,
        )
    out["mean_final_welfare"] = sum(finals) / len(finals)
    Path(out_json).write_text(json.dumps(out, indent=1))
    print(f"mean: {out['mean_final_welfare']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else None)
