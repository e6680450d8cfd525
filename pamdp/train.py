"""``pamdp train tree`` and ``pamdp train coin``: the command line of the two trainers.

``pamdp train tree`` (:func:`add_tree_arguments`, :func:`run_tree`)
    Algorithm 2 (:mod:`solvers.deep`) on ``paper_tree(--depth, --seed)``, ``--trials``
    independent runs. Writes, under ``-o/--output``::

        summary.json             instance, configuration, every trial's final validation and
                                 the mean / min / max / std over trials
        trial_XX/results.json    one trial: seed, configuration, validation history, final
                                 network hash (``deterministic``), timing and it/s (``timing``)
        trial_XX/checkpoint.pt   the latest checkpoint (every --checkpoint-every iterations
                                 and on Ctrl-C); removed when the trial completes unless
                                 --keep-checkpoints

    Trial ``t`` trains with the seed ``SeedSequence([seed, t]).generate_state(1)[0]``
    (:func:`trial_seed`), so trials and trees are independent and any trial can be rerun alone.

``pamdp train coin`` (:func:`add_coin_arguments`, :func:`run_coin`)
    Algorithm 3 and the baselines (:mod:`solvers.coin`). Without options: the 3×3 preset at a
    budget of a few minutes on a laptop CPU (:data:`solvers.coin.config.QUICK_3X3`);
    ``--paper-budget`` gives the paper's 1,000,000 iterations per phase, ``--config FILE`` any
    :class:`~solvers.coin.config.Config`; single flags override single fields. Writes
    ``seed_<k>/{results.json, checkpoint.pt}`` per seed and ``summary.json`` and figures.

Both trainers refuse an output folder that already holds a run unless ``--resume`` (continue
it: finished trials / seeds are read back, an interrupted one continues from its checkpoint,
exactly as if never stopped) or ``--overwrite`` (start again). Ctrl-C finishes the iteration in
progress, writes a checkpoint there, prints the command that resumes the run and exits 130.
Exit codes as every ``pamdp`` command: 0 done, 2 invalid arguments or files, 130 interrupted.

This module imports torch only inside the ``run_*`` functions, so building the parser is cheap.
"""

from __future__ import annotations

import argparse
import math
import platform
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pamdp.common import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, Formatter, InvalidInput
from solvers.coin.config import QUICK_3X3, Config
from solvers.coin.env import PRESETS
from solvers.deep.config import AGENT_MODES, DeepConfig
from solvers.rl.config import ConfigError

__all__ = [
    "SUMMARY_METRICS",
    "add_coin_arguments",
    "add_tree_arguments",
    "resume_command",
    "run_coin",
    "run_tree",
    "trial_seed",
]

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


# ====================================================================== shared pieces
def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _add_run_folder_flags(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "-o", "--output", default=default, metavar="DIR", help="run folder (results, checkpoints)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume", action="store_true", help="continue the run in --output from its checkpoints"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an --output that already holds a run (its results and "
        "checkpoints are replaced)",
    )
    parser.add_argument("--threads", type=_positive, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def resume_command(
    prog: str, add_arguments: Callable[[argparse.ArgumentParser], None], args: argparse.Namespace
) -> str:
    """The shell command that continues the run of ``args``: every option that differs from
    its default, then ``--resume`` (``--overwrite`` dropped)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    words = prog.split()
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "resume", "overwrite"):
            continue
        if not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if value == action.default:
            continue
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return shlex.join([*words, "--resume"])


def _check_device(name: str) -> Any:
    """The torch device ``name``, or :class:`InvalidInput` saying why it cannot be used."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise InvalidInput(f"--device {name}: not a torch device ({error})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        build = "is built without CUDA" if torch.version.cuda is None else "finds no CUDA GPU"
        raise InvalidInput(
            f"--device {name}: this torch ({torch.__version__}) {build}; use --device cpu"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInput(f"--device {name}: MPS is not available here; use --device cpu")
    return device


def _prepare_folder(path: Path) -> None:
    """Create the run folder, or :class:`InvalidInput` if it cannot be written."""
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"-o/--output {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"-o/--output {path}: cannot create it ({error.strerror})") from None
    from theory.atomic import OutputPathError, check_output_path

    try:
        check_output_path(path / "summary.json")
    except OutputPathError as error:
        raise InvalidInput(f"-o/--output {path}: {error}") from None


def _refuse_existing(
    prog: str, output: Path, files: Sequence[Path], args: argparse.Namespace
) -> None:
    """Refuse to start over ``files`` of a previous run unless --resume or --overwrite; with
    --overwrite, remove them (only these files: the folder may hold others)."""
    existing = [f for f in files if f.exists()]
    if not existing or args.resume:
        return
    if not args.overwrite:
        raise InvalidInput(
            f"{output} already holds a run ({existing[0].relative_to(output)}); pass "
            "--resume to continue it or --overwrite to start again, or choose another "
            "-o/--output"
        )
    for file in existing:
        if file.is_dir():
            shutil.rmtree(file)
        else:
            file.unlink()


def _interrupted(prog: str, error: BaseException, command: str, what: str) -> int:
    """Report a Ctrl-C (after the trainer's checkpoint, if it wrote one); exit code 130."""
    from solvers.rl.checkpoint import TrainingInterrupted

    if isinstance(error, TrainingInterrupted) and error.checkpoint is not None:
        print(f"\n{prog}: {error}; checkpoint written to {error.checkpoint}", file=sys.stderr)
    else:
        print(f"\n{prog}: interrupted; {what}", file=sys.stderr)
    print(f"resume with: {command}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


# ====================================================================== pamdp train tree
def trial_seed(seed: int, trial: int) -> int:
    """The training seed of trial ``trial`` on tree ``seed`` (a 32-bit integer)."""
    return int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])


def add_tree_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train tree`` (defaults: the paper's Fig. 3 setting, one trial)."""
    parser.formatter_class = Formatter
    defaults = DeepConfig()
    parser.add_argument(
        "--depth", type=int, default=10, help="depth of the complete binary tree (10: 1023 states)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="tree seed (paper_tree(depth, seed)); trial seeds derive from it",
    )
    parser.add_argument("--trials", type=_positive, default=1, help="independent training runs")
    parser.add_argument(
        "--iterations",
        type=_positive,
        default=defaults.iterations,
        help="training iterations (8 interactions + 1 gradient step each)",
    )
    parser.add_argument(
        "--nudge", type=float, default=defaults.nudge, help="nudging margin ξ ≥ 0 (PAPER.md §3)"
    )
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    parser.add_argument(
        "--validate-every",
        type=_positive,
        default=defaults.validate_every,
        help="iterations between validations with the exact agent",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_non_negative,
        default=defaults.checkpoint_every,
        help="iterations between checkpoints (0 = only on Ctrl-C)",
    )
    parser.add_argument(
        "--agent",
        choices=AGENT_MODES,
        default=defaults.agent,
        help="'network' (Algorithm 2) or 'exact' (exact agent Q̄, cross-check)",
    )
    parser.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each trial's last checkpoint after it completes",
    )
    _add_run_folder_flags(parser, "runs/tree")


def _tree_config(args: argparse.Namespace) -> DeepConfig:
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


def run_tree(args: argparse.Namespace) -> int:
    """Train the trials of ``args`` (:func:`add_tree_arguments`); returns the exit code."""
    prog = "pamdp train tree"
    command = resume_command(prog, add_tree_arguments, args)
    try:
        return _run_tree(args, prog)
    except KeyboardInterrupt as error:  # TrainingInterrupted, or Ctrl-C outside the loop
        return _interrupted(
            prog, error, command, "finished trials and the last checkpoint are kept"
        )


def _run_tree(args: argparse.Namespace, prog: str) -> int:
    import torch

    from solvers.deep.trainer import DeepTrainer
    from solvers.deep.validation import Validator
    from solvers.rl.checkpoint import CheckpointError
    from solvers.rl.metrics import write_json
    from theory.generators import paper_tree

    try:
        config = _tree_config(args)
        model = paper_tree(args.depth, args.seed)
    except ValueError as error:
        raise InvalidInput(f"{error}") from None
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
            stored = _read_trial(results_path)
            deterministic = stored["deterministic"]
            if (
                DeepConfig.from_dict(deterministic["config"]) != config
                or deterministic["seed"] != seed
            ):
                raise InvalidInput(f"{results_path} was produced with other settings")
            finals.append(deterministic["final"])
            print(f"trial {trial}: already complete", file=sys.stderr)
            continue
        if args.resume and checkpoint.exists():
            try:
                trainer = DeepTrainer.from_checkpoint(
                    checkpoint, model, device=device, validator=validator
                )
            except (CheckpointError, ConfigError) as error:
                raise InvalidInput(f"cannot resume from {checkpoint}: {error}") from None
            if trainer.config != config or trainer.seed != seed:
                raise InvalidInput(f"{checkpoint} was written with other settings")
            print(f"trial {trial}: resuming at iteration {trainer.iteration}", file=sys.stderr)
        else:
            trainer = DeepTrainer(model, config, seed=seed, device=device, validator=validator)
        print(
            f"trial {trial}: {config.iterations} iterations on a depth-{args.depth} tree "
            f"({model.n_states} states), seed {seed}",
            file=sys.stderr,
            flush=True,
        )
        result = trainer.train(checkpoint_path=checkpoint, progress=not args.no_progress)
        data = {
            "schema": TRIAL_SCHEMA,
            "trial": trial,
            "instance": instance,
            "environment": environment,
            **result.to_dict(),
        }
        write_json(results_path, data)
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
    write_json(output / "summary.json", summary)
    return EXIT_OK


def _read_trial(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["deterministic"]["config"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise InvalidInput(f"cannot read {path} ({error})") from None
    return data


# ====================================================================== pamdp train coin
#: flag (argparse dest) -> Config field, for the flags that override one field
_COIN_OVERRIDES: dict[str, str] = {
    "preset": "preset",
    "iterations": "iterations",
    "validation_iterations": "validation_iterations",
    "baseline_iterations": "baseline_iterations",
    "num_games": "num_games",
    "nudge": "nudge",
    "device": "device",
    "output": "output",
    "checkpoint_every": "checkpoint_every",
    "eval_every": "eval_every",
    "eval_episodes": "eval_episodes",
}


def add_coin_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pamdp train coin``; the field flags default to the chosen base
    configuration (:data:`~solvers.coin.config.QUICK_3X3` unless --paper-budget / --config)."""
    parser.formatter_class = Formatter
    quick = QUICK_3X3
    base = parser.add_mutually_exclusive_group()
    base.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="JSON file of Config fields as the base (e.g. experiments/coin/configs/*.json); "
        "default: the quick 3×3 budget",
    )
    base.add_argument(
        "--paper-budget",
        action="store_true",
        help="the paper's budget as the base: 1,000,000 iterations per phase, one game per "
        "iteration (hours on a CPU)",
    )

    def field(flag: str, kind: Any, text: str, value: Any) -> None:
        parser.add_argument(
            flag, type=kind, default=argparse.SUPPRESS, help=f"{text} (default: {value})"
        )

    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=argparse.SUPPRESS,
        help=f"environment preset (default: {quick.preset})",
    )
    parser.add_argument(
        "--seed",
        "--seeds",
        dest="seeds",
        type=int,
        nargs="+",
        default=argparse.SUPPRESS,
        metavar="SEED",
        help="seeds to run, one after the other (default: the config's, 0)",
    )
    field("--iterations", _non_negative, "training-phase iterations", quick.iterations)
    field(
        "--validation-iterations",
        _non_negative,
        "validation iterations",
        quick.validation_iterations,
    )
    field(
        "--baseline-iterations",
        _non_negative,
        "iterations of each baseline",
        quick.baseline_iterations,
    )
    field("--num-games", _positive, "games stepped in parallel per iteration", quick.num_games)
    field("--nudge", float, "nudging margin ξ ≥ 0", quick.nudge)
    field("--device", str, "torch device, e.g. cpu or cuda", quick.device)
    field(
        "--checkpoint-every",
        _non_negative,
        "iterations between checkpoints",
        quick.checkpoint_every,
    )
    field("--eval-every", _positive, "iterations between evaluations", quick.eval_every)
    field("--eval-episodes", _positive, "episodes per evaluation", quick.eval_episodes)
    parser.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"run folder: seed_<k>/ per seed, summary.json, figures (default: {quick.output})",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume", action="store_true", help="continue the run in --output from its checkpoints"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an --output that already holds a run",
    )
    parser.add_argument("--threads", type=_positive, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument(
        "--stop-after",
        type=_positive,
        default=argparse.SUPPRESS,
        help="stop after this many iterations (one seed; then --resume continues; "
        "default: run to the end)",
    )


def coin_config(args: argparse.Namespace) -> Config:
    """The :class:`Config` described by ``args`` (base, then single-field overrides)."""
    if getattr(args, "config", None):
        cfg = Config.from_json(args.config)
    elif getattr(args, "paper_budget", False):
        cfg = replace(Config(), preset=QUICK_3X3.preset, extra={})
    else:
        cfg = QUICK_3X3
    changes = {
        name: getattr(args, flag) for flag, name in _COIN_OVERRIDES.items() if hasattr(args, flag)
    }
    try:
        return replace(cfg, **changes)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error)) from None


def _coin_plan(cfg: Config, seeds: list[int], base: str) -> str:
    from solvers.coin.env import preset

    rules = preset(cfg.preset)
    phases = ", ".join(f"{name} {total:,}" for name, total in cfg.phases())
    return (
        f"pamdp train coin: {base}; preset {cfg.preset} ({rules.grid_size}×{rules.grid_size}, "
        f"{rules.episode_length} steps per episode), seeds {seeds}, {cfg.num_games} games per "
        f"iteration, device {cfg.device}, output {cfg.output}\n"
        f"  iterations per phase: {phases}\n"
        f"  checkpoint every {cfg.checkpoint_every:,} iterations and on Ctrl-C"
    )


def run_coin(args: argparse.Namespace) -> int:
    """Run the Coin Game experiment of ``args`` (:func:`add_coin_arguments`); exit code."""
    prog = "pamdp train coin"
    command = resume_command(prog, add_coin_arguments, args)
    try:
        return _run_coin(args, prog)
    except KeyboardInterrupt as error:
        return _interrupted(prog, error, command, "finished seeds and the last checkpoint are kept")


def _run_coin(args: argparse.Namespace, prog: str) -> int:
    import json

    import torch

    from solvers.coin.train import run as run_one
    from solvers.coin.train import run_seeds
    from solvers.rl.checkpoint import CheckpointError

    try:
        cfg = coin_config(args)
    except ConfigError as error:
        raise InvalidInput(f"{error}") from None
    seeds = list(args.seeds) if hasattr(args, "seeds") else [cfg.seed]
    _check_device(cfg.device)
    stop_after = getattr(args, "stop_after", None)
    if stop_after is not None and len(seeds) != 1:
        raise InvalidInput("--stop-after needs exactly one seed")
    output = Path(cfg.output)
    files = [output / "summary.json"]
    for seed in seeds:
        files += [
            output / f"seed_{seed}" / "results.json",
            output / f"seed_{seed}" / "checkpoint.pt",
        ]
    _prepare_folder(output)
    _refuse_existing(prog, output, files, args)
    torch.set_num_threads(args.threads)
    base = (
        f"config {args.config}"
        if getattr(args, "config", None)
        else "the paper's budget"
        if args.paper_budget
        else "quick 3×3 budget (--paper-budget for the paper's)"
    )
    print(_coin_plan(cfg, seeds, base), file=sys.stderr, flush=True)

    def log(line: str) -> None:
        print(f"{prog}: {line}", file=sys.stderr, flush=True)

    progress = not args.no_progress
    try:
        if stop_after is not None:
            result = run_one(
                replace(cfg, seed=seeds[0], output=str(output / f"seed_{seeds[0]}")),
                resume=args.resume,
                progress=progress,
                stop_after=stop_after,
                log=log,
            )
            print(json.dumps(result.get("summary", {"complete": False}), indent=1))
            return EXIT_OK
        summary = run_seeds(cfg, seeds, resume=args.resume, progress=progress, log=log)
    except (CheckpointError, ConfigError) as error:
        raise InvalidInput(f"{error}") from None
    print(json.dumps({k: v for k, v in summary.items() if k != "per_seed"}, indent=1))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pamdp.train tree|coin ...`` (the same options as ``pamdp train``)."""
    parser = argparse.ArgumentParser(prog="pamdp train", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="trainer", required=True)
    add_tree_arguments(sub.add_parser("tree", help="Algorithm 2 on the paper's tree"))
    add_coin_arguments(sub.add_parser("coin", help="Algorithm 3 on the Coin Game"))
    args = parser.parse_args(argv)
    try:
        return run_tree(args) if args.trainer == "tree" else run_coin(args)
    except InvalidInput as error:
        print(f"pamdp: {error}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
