"""Train tree trials as batched ensembles (solvers.deep.ensemble) for Fig. 3 / the nudging study.

All (ξ, tree, trial) combinations given are trained as ONE ensemble (one batched computation,
one process). Each finished trial is written where ``experiments/tree/run.py`` writes it,
``runs/tree/xi_<ξ>/tree_<seed>/trial_<kk>/results.json``, with the same seed
(``pamdp.train.trial_seed(tree, trial)``) and the same schema, so ``collect.py`` reads both.

Usage::

    .venv/bin/python experiments/tree/run_ensemble.py --nudges 0.02 --trials 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from experiments.tree.run import run_dir  # noqa: E402
from pamdp.train import TRIAL_SCHEMA, trial_seed  # noqa: E402
from solvers.deep.config import DeepConfig  # noqa: E402
from solvers.deep.ensemble import EnsembleTrainer  # noqa: E402
from solvers.deep.validation import Validator  # noqa: E402
from solvers.rl.metrics import write_json  # noqa: E402
from theory.generators import paper_tree  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nudges", type=float, nargs="+", default=[0.0])
    parser.add_argument("--trees", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    trees = {t: paper_tree(args.depth, t) for t in args.trees}
    validators = {t: Validator(m) for t, m in trees.items()}
    plan = [(x, t, k) for x in args.nudges for t in args.trees for k in args.trials]
    configs = [DeepConfig(iterations=args.iterations, nudge=x) for x, _, _ in plan]
    ensemble = EnsembleTrainer(
        [trees[t] for _, t, _ in plan],
        configs,
        [trial_seed(t, k) for _, t, k in plan],
        validators=[validators[t] for _, t, _ in plan],
    )
    print(f"ensemble of {len(plan)} trials: {plan}", file=sys.stderr, flush=True)
    started = time.perf_counter()

    partial = ROOT / "runs" / "tree" / "ensemble_partial.json"

    def log(ens: EnsembleTrainer, iteration: int) -> None:
        """Progress, and every trial's validation history so far (runs/tree/
        ensemble_partial.json), so an ensemble stopped early still leaves its records."""
        rate = len(plan) * iteration / (time.perf_counter() - started)
        print(f"iteration {iteration}: {rate:.1f} trial-it/s", file=sys.stderr, flush=True)
        write_json(
            partial,
            {
                "plan": [{"nudge": x, "tree": t, "trial": k} for x, t, k in plan],
                "iteration": iteration,
                "of": args.iterations,
                "trial_iterations_per_second": rate,
                "histories": [[r.to_dict() for r in h] for h in ens.histories],
            },
        )

    results = ensemble.train(callback=log)
    environment = {
        "device": "cpu",
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "ensemble": len(plan),
    }
    for (x, t, k), result in zip(plan, results, strict=True):
        model, validator = trees[t], validators[t]
        instance = {
            "generator": "paper_tree",
            "depth": args.depth,
            "seed": t,
            "n_states": model.n_states,
            "name": model.name,
            "spe_principal_utility": validator.spe_principal,
            "spe_agent_utility": validator.spe_agent,
        }
        data = {
            "schema": TRIAL_SCHEMA,
            "trial": k,
            "instance": instance,
            "environment": environment,
            **result.to_dict(),
        }
        write_json(run_dir(x, t) / f"trial_{k:02d}" / "results.json", data)
        final = result.final
        print(
            f"ξ={x:g} tree {t} trial {k}: principal {final.principal_ratio:.4f} "
            f"(exact contracts {final.exact_contract_principal_ratio:.4f}), "
            f"accuracy {final.accuracy:.4f}",
            file=sys.stderr,
        )
    wall = time.perf_counter() - started
    print(f"done: {len(plan)} trials in {wall:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
