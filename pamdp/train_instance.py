"""``pamdp train instance FILE.json``: Algorithm 2 (:mod:`solvers.deep`) on any instance file.

Any finite instance of FORMAT.md v1: any numbers of actions and outcomes (contracts from the
batched contract solver, :func:`solvers.contracts.minimal_contracts` with the nudge ξ as
``Ties(margin=ξ)``), episodic or discounted, hidden or observed action. The options are those
of ``pamdp train tree`` (the tree command is this trainer on ``paper_tree(--depth, --seed)``
with the paper's configuration, :mod:`solvers.deep.presets`), plus ``--episode-length``,
``--hidden-sizes``, ``--batched`` (alias ``--ensemble``) and ``--max-profiles``.

Discounted instances have no natural episode end: a copy of the environment restarts at
``s0`` after ``--episode-length`` steps (default ``max(|S|, ⌈1/(1 − γ)⌉)``), a truncation
after which the targets still bootstrap (:mod:`solvers.deep.environment`).

Validation (every ``--validate-every`` iterations) pairs the greedy learned principal with the
exact best-responding agent and compares with :func:`solvers.solve.solve` (backward induction
for episodic instances). At the end every trial is compared with the ground truth
(:mod:`solvers.deep.ground_truth`): for a discounted instance, the exact pure stationary SPEs
(:func:`solvers.equilibria.pure_stationary`) and which one the learned policy is closest to,
or "no pure stationary SPE" where none exists. Writes, under ``-o/--output``::

    summary.json             instance, ground truth, configuration, every trial's final
                             validation and comparison, mean / min / max / std over trials
    trial_XX/results.json    one trial (the layout of ``pamdp train tree``) plus
                             ``ground_truth``
    trial_XX/checkpoint.pt   the latest checkpoint (not with --batched)

Trial ``t`` trains with the seed ``SeedSequence([--seed, t])`` (``pamdp.train.trial_seed``).
Exit codes: 0 done, 2 invalid arguments or files, 130 interrupted (resume with --resume).
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

from pamdp.common import EXIT_OK, Formatter, InvalidInput, load_instance_arg
from pamdp.train import (
    _add_run_folder_flags,
    _aggregate,
    _check_device,
    _finished_trial,
    _interrupted,
    _prepare_folder,
    _refuse_existing,
    resume_command,
    trial_seed,
)
from pamdp.train_common import (
    _add_batched_flag,
    _add_trainer_flags,
    _interrupted_batched,
    _positive,
)
from solvers.deep.config import DeepConfig
from solvers.rl.config import ConfigError

__all__ = ["add_instance_arguments", "run_instance"]

SUMMARY_SCHEMA = "pamdp.deep.instance-summary/1"
TRIAL_SCHEMA = "pamdp.deep.instance-trial/1"


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 256,256, got {text!r}") from None
    if not sizes or any(h < 1 for h in sizes):
        raise argparse.ArgumentTypeError(f"widths must be positive integers, got {text!r}")
    return sizes


def add_instance_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train instance`` (defaults: the paper's configuration, one trial)."""
    from solvers.equilibria import MAX_PROFILES

    parser.formatter_class = Formatter
    defaults = DeepConfig()
    parser.add_argument("instance", metavar="FILE", help="instance file (FORMAT.md v1, JSON)")
    parser.add_argument("--seed", type=int, default=0, help="trial seeds derive from it")
    _add_trainer_flags(parser, defaults)
    parser.add_argument(
        "--episode-length",
        type=_positive,
        default=None,
        help="restart a copy at s0 after this many steps (default: an episodic instance's "
        "own episodes; max(|S|, ceil(1/(1-γ))) for a discounted one)",
    )
    parser.add_argument(
        "--hidden-sizes",
        type=_hidden,
        default=defaults.hidden_sizes,
        metavar="H1,H2",
        help="hidden layer widths of both networks",
    )
    _add_batched_flag(parser, "trials", "solvers.deep.ensemble")
    parser.add_argument(
        "--max-profiles",
        type=_positive,
        default=MAX_PROFILES,
        help="size limit of the exact pure-stationary-SPE enumeration (discounted instances)",
    )
    parser.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each trial's last checkpoint after it completes",
    )
    _add_run_folder_flags(parser, "runs/instance")


def _config(args: argparse.Namespace, model: Any) -> DeepConfig:
    from solvers.deep.presets import instance_preset

    return instance_preset(
        model,
        iterations=args.iterations,
        nudge=args.nudge,
        validate_every=args.validate_every,
        checkpoint_every=args.checkpoint_every,
        agent=args.agent,
        episode_length=args.episode_length,
        hidden_sizes=tuple(args.hidden_sizes),
    )


def run_instance(args: argparse.Namespace) -> int:
    """Train the trials of ``args`` (:func:`add_instance_arguments`); returns the exit code."""
    prog = "pamdp train instance"
    command = resume_command(prog, add_instance_arguments, args)
    command = command.replace(" --resume", f" {shlex.quote(args.instance)} --resume", 1)
    try:
        return _run(args, prog)
    except KeyboardInterrupt as error:
        if args.batched:
            return _interrupted_batched(prog)
        return _interrupted(
            prog, error, command, "finished trials and the last checkpoint are kept"
        )


def _describe(comparison: dict[str, Any]) -> str:
    closest = comparison.get("closest_pure_spe")
    text = (
        f"{comparison['reference']}: {comparison['reference_disagreements_reachable']} of "
        f"{comparison['reachable_states']} reachable states disagree"
    )
    if closest is None:
        return text
    if isinstance(closest, str):
        return f"{text}; {closest}"
    return (
        f"{text}; closest of {comparison['pure_stationary_spes']} pure stationary SPE(s): "
        f"#{closest['index']} (V^p(s0) = {closest['principal_value_s0']:.6g}), "
        f"{closest['disagreements_reachable']} reachable states disagree"
    )


def _run(args: argparse.Namespace, prog: str) -> int:
    import torch

    from solvers.deep.ensemble import EnsembleTrainer
    from solvers.deep.ground_truth import ground_truth
    from solvers.deep.trainer import DeepTrainer, TrialResult
    from solvers.deep.validation import Validator
    from solvers.rl.checkpoint import CheckpointError
    from solvers.rl.metrics import write_json

    model = load_instance_arg(args.instance)
    try:
        config = _config(args, model)
    except ConfigError as error:
        raise InvalidInput(f"{error}") from None
    if model.n_actions < 1 or model.n_states < 1:
        raise InvalidInput(f"invalid instance {args.instance}: no states or no actions")
    device = _check_device(args.device)
    output = Path(args.output)
    trial_dirs = [output / f"trial_{t:02d}" for t in range(args.trials)]
    files = [output / "summary.json"]
    for folder in trial_dirs:
        files += [folder / "results.json", folder / "checkpoint.pt"]
    _prepare_folder(output)
    _refuse_existing(prog, output, files, args)
    torch.set_num_threads(args.threads)
    validator = Validator(model)
    truth = ground_truth(model, solve_result=validator.solve_result, max_profiles=args.max_profiles)
    solve_result = truth.solve_result
    instance: dict[str, Any] = {
        "file": str(args.instance),
        "name": model.name,
        "n_states": model.n_states,
        "n_actions": model.n_actions,
        "n_outcomes": model.n_outcomes,
        "discount": float(model.discount),
        "episodic": bool(model.is_episodic),
        "observed_action": bool(model.observed_action),
        "reference": solve_result.label(),
        "reference_converged": bool(solve_result.converged),
        "spe_principal_utility": validator.spe_principal,
        "spe_agent_utility": validator.spe_agent,
        "pure_stationary_spes": (
            None
            if truth.pure_spes is None
            else [
                {
                    "recommended": [model.actions[a] for a in spe.recommended],
                    "principal_value_s0": spe.principal_value,
                    "agent_value_s0": spe.agent_value,
                }
                for spe in truth.pure_spes
            ]
        ),
        "pure_stationary_note": truth.note,
    }
    environment = {
        "device": str(device),
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "ensemble": bool(args.batched),
    }
    seeds = [trial_seed(args.seed, t) for t in range(args.trials)]
    print(
        f"{prog}: {model.n_states} states, {model.n_actions} actions, {model.n_outcomes} "
        f"outcomes, γ = {float(model.discount):g} "
        f"({'episodic' if model.is_episodic else 'discounted'}); reference {solve_result.label()}",
        file=sys.stderr,
        flush=True,
    )
    finals: list[dict[str, Any] | None] = [None] * args.trials
    comparisons: list[dict[str, Any] | None] = [None] * args.trials
    pending: list[int] = []
    for trial, trial_dir in enumerate(trial_dirs):
        results_path = trial_dir / "results.json"
        if args.resume and results_path.exists():
            stored = _finished_trial(results_path, config, seeds[trial])
            finals[trial] = stored["deterministic"]["final"]
            comparisons[trial] = stored.get("ground_truth")
            print(f"trial {trial}: already complete", file=sys.stderr)
        else:
            pending.append(trial)

    def record(trial: int, result: TrialResult, recommended: Any) -> None:
        comparison = truth.closest(recommended)
        data = {
            "schema": TRIAL_SCHEMA,
            "trial": trial,
            "instance": instance,
            "environment": environment,
            "ground_truth": comparison,
            "final_policy": [model.actions[int(a)] for a in recommended],
            **result.to_dict(),
        }
        write_json(trial_dirs[trial] / "results.json", data)
        final = result.final
        finals[trial] = final.to_dict()
        comparisons[trial] = comparison
        print(
            f"trial {trial}: principal {final.principal_ratio:.4f} × SPE (exact contracts "
            f"{final.exact_contract_principal_ratio:.4f}), accuracy {final.accuracy:.4f}, "
            f"{result.iterations_per_second:.0f} it/s; {_describe(comparison)}",
            file=sys.stderr,
        )

    if args.batched and pending:
        ensemble = EnsembleTrainer(
            [model] * len(pending),
            [config] * len(pending),
            [seeds[t] for t in pending],
            device=device,
            validators=[validator] * len(pending),
        )
        results = ensemble.train(progress=not args.no_progress)
        for trial, result, shell in zip(pending, results, ensemble.shells, strict=True):
            record(trial, result, shell.greedy_policy()[0])
    for trial in [] if args.batched else pending:
        checkpoint = trial_dirs[trial] / "checkpoint.pt"
        if args.resume and checkpoint.exists():
            try:
                trainer = DeepTrainer.from_checkpoint(
                    checkpoint, model, device=device, validator=validator
                )
            except (CheckpointError, ConfigError) as error:
                raise InvalidInput(f"cannot resume from {checkpoint}: {error}") from None
            if trainer.config != config or trainer.seed != seeds[trial]:
                raise InvalidInput(f"{checkpoint} was written with other settings")
        else:
            trainer = DeepTrainer(
                model, config, seed=seeds[trial], device=device, validator=validator
            )
        result = trainer.train(checkpoint_path=checkpoint, progress=not args.no_progress)
        record(trial, result, trainer.greedy_policy()[0])
        if checkpoint.exists() and not args.keep_checkpoints:
            checkpoint.unlink()
    done = [f for f in finals if f is not None]
    summary = {
        "schema": SUMMARY_SCHEMA,
        "instance": instance,
        "environment": environment,
        "config": config.to_dict(),
        "trial_seeds": seeds,
        "finals": done,
        "ground_truth": comparisons,
        "aggregate": _aggregate(done),
    }
    write_json(output / "summary.json", summary)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``python -m pamdp.train_instance FILE ...`` (the options of ``pamdp train instance``)."""
    from pamdp.common import EXIT_INVALID

    parser = argparse.ArgumentParser(
        prog="pamdp train instance", description=__doc__.split("\n")[0]
    )
    add_instance_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_instance(args)
    except InvalidInput as error:
        print(f"pamdp: {error}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
