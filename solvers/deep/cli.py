"""``pamdp train tree``: Algorithm 2 on the paper's tree (PAPER.md §4 and §6, Fig. 3).

Trains ``--trials`` independent runs of the deep backend on ``paper_tree(depth, seed)`` and
writes, under ``--output``::

    summary.json             instance, configuration, every trial's final validation and the
                             mean / min / max / std over trials
    trial_XX/results.json    one trial: seed, configuration, the validation history, timing
    trial_XX/checkpoint.pt   the latest checkpoint (every --checkpoint-every iterations);
                             removed when the trial completes unless --keep-checkpoints

``--seed`` selects the tree; trial ``t`` trains with the seed
``SeedSequence([seed, t]).generate_state(1)[0]`` (:func:`trial_seed`), so trials and trees are
independent and any trial can be rerun alone. With ``--resume`` finished trials are read back,
an interrupted trial continues from its checkpoint (exactly: same results as an uninterrupted
run on the CPU), and missing trials start; without it an output folder that already holds
trials is refused.

This module imports torch only inside :func:`run`, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from solvers.deep.config import AGENT_MODES, DeepConfig

SUMMARY_SCHEMA = "pamdp.deep.tree-summary/1"
TRIAL_SCHEMA = "pamdp.deep.tree-trial/1"
#: final-record metrics aggregated over trials in summary.json
SUMMARY_METRICS: tuple[str, ...] = (
    "principal_ratio",
    "agent_ratio",
    "accuracy",
    "accuracy_weighted",
    "follow_rate",
    "agent_q_error",
    "expected_payment",
    "exact_contract_principal_ratio",
    "exact_contract_agent_ratio",
)


def trial_seed(seed: int, trial: int) -> int:
    """The training seed of trial ``trial`` on tree ``seed`` (a 32-bit integer)."""
    return int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train tree`` (defaults: the paper's Fig. 3 setting, one trial)."""
    defaults = DeepConfig()
    parser.add_argument(
        "--depth",
        type=int,
        default=10,
        help="depth of the complete binary tree (default 10: 1023 states)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="tree seed (paper_tree(depth, seed)); trial seeds derive from it",
    )
    parser.add_argument("--trials", type=int, default=1, help="independent training runs")
    parser.add_argument(
        "--iterations",
        type=int,
        default=defaults.iterations,
        help="training iterations (8 interactions + 1 gradient step each)",
    )
    parser.add_argument(
        "--nudge",
        type=float,
        default=defaults.nudge,
        help="nudging margin ξ ≥ 0 of the contracts (PAPER.md §3)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--output", type=Path, default=Path("runs/tree"), help="output folder (default runs/tree)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue interrupted trials from their checkpoints"
    )
    parser.add_argument(
        "--validate-every",
        type=int,
        default=defaults.validate_every,
        help="iterations between validations with the exact agent",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=defaults.checkpoint_every,
        help="iterations between checkpoints (0 = none)",
    )
    parser.add_argument(
        "--agent",
        choices=AGENT_MODES,
        default=defaults.agent,
        help="'network' (Algorithm 2) or 'exact' (exact agent Q̄, cross-check)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1; results repeat for a fixed count)",
    )
    parser.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each trial's last checkpoint after it completes",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _config_from(args: argparse.Namespace) -> DeepConfig:
    return DeepConfig(
        iterations=args.iterations,
        nudge=args.nudge,
        validate_every=args.validate_every,
        checkpoint_every=args.checkpoint_every,
        agent=args.agent,
    )


def _aggregate(finals: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in SUMMARY_METRICS:
        values = np.array([f[name] for f in finals], dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            out[name] = {"mean": math.nan, "min": math.nan, "max": math.nan, "std": math.nan}
            continue
        out[name] = {
            "mean": float(values.mean()),
            "min": float(values.min()),
            "max": float(values.max()),
            "std": float(values.std()),
        }
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")
    partial.replace(path)


def run(args: argparse.Namespace) -> int:
    """Train the trials described by ``args`` (see :func:`add_arguments`); returns an exit code."""
    import torch

    from solvers.deep.trainer import DeepTrainer
    from solvers.deep.validation import Validator
    from theory.generators import paper_tree

    try:
        config = _config_from(args)
        if args.trials < 1:
            raise ValueError(f"--trials must be a positive integer, got {args.trials}")
        if args.threads < 1:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}")
        model = paper_tree(args.depth, args.seed)
        device = torch.device(args.device)
    except (ValueError, RuntimeError) as error:
        print(f"pamdp train tree: error: {error}", file=sys.stderr)
        return 2
    output: Path = args.output
    trial_dirs = [output / f"trial_{t:02d}" for t in range(args.trials)]
    if not args.resume and any(
        (d / "results.json").exists() or (d / "checkpoint.pt").exists() for d in trial_dirs
    ):
        print(
            f"pamdp train tree: error: {output} already holds trials; pass --resume to "
            "continue them or choose another --output",
            file=sys.stderr,
        )
        return 2
    torch.set_num_threads(args.threads)
    validator = Validator(model)
    instance = {
        "generator": "paper_tree",
        "depth": args.depth,
        "seed": args.seed,
        "n_states": model.n_states,
        "name": model.name,
        "spe_principal_utility": validator.spe_principal,
        "spe_agent_utility": validator.spe_agent,
        "spe_costly_share": float(np.mean(validator.spe_recommended == 1)),
    }
    environment = {
        "device": str(device),
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    finals: list[dict[str, Any]] = []
    for trial, trial_dir in enumerate(trial_dirs):
        results_path = trial_dir / "results.json"
        checkpoint = trial_dir / "checkpoint.pt"
        seed = trial_seed(args.seed, trial)
        if args.resume and results_path.exists():
            stored = json.loads(results_path.read_text())
            deterministic = stored["deterministic"]
            if (
                DeepConfig.from_dict(deterministic["config"]) != config
                or deterministic["seed"] != seed
            ):
                print(
                    f"pamdp train tree: error: {results_path} was produced with other settings",
                    file=sys.stderr,
                )
                return 2
            finals.append(deterministic["final"])
            print(f"trial {trial}: already complete", file=sys.stderr)
            continue
        if args.resume and checkpoint.exists():
            trainer = DeepTrainer.from_checkpoint(
                checkpoint, model, device=device, validator=validator
            )
            if trainer.config != config or trainer.seed != seed:
                print(
                    f"pamdp train tree: error: {checkpoint} was written with other settings",
                    file=sys.stderr,
                )
                return 2
            print(f"trial {trial}: resuming at iteration {trainer.iteration}", file=sys.stderr)
        else:
            trainer = DeepTrainer(model, config, seed=seed, device=device, validator=validator)
        result = trainer.train(
            checkpoint_path=checkpoint if config.checkpoint_every else None,
            progress=not args.no_progress,
        )
        data = {
            "schema": TRIAL_SCHEMA,
            "trial": trial,
            "instance": instance,
            "environment": environment,
            **result.to_dict(),
        }
        _write_json(results_path, data)
        if checkpoint.exists() and not args.keep_checkpoints:
            checkpoint.unlink()
        final = result.final
        finals.append(final.to_dict())
        print(
            f"trial {trial}: principal {final.principal_ratio:.4f} × SPE, agent "
            f"{final.agent_ratio:.4f} × SPE, accuracy {final.accuracy:.4f}, "
            f"{result.iterations_per_second:.0f} it/s",
            file=sys.stderr,
        )
    summary = {
        "schema": SUMMARY_SCHEMA,
        "instance": instance,
        "environment": environment,
        "config": config.to_dict(),
        "trial_seeds": [trial_seed(args.seed, t) for t in range(args.trials)],
        "finals": finals,
        "aggregate": _aggregate(finals),
    }
    _write_json(output / "summary.json", summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m solvers.deep.cli``), same options."""
    parser = argparse.ArgumentParser(prog="pamdp train tree", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
