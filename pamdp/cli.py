"""The ``pamdp`` command line: one parser, one error handler, the same exit codes everywhere.

Subcommands (each in its own module of this package)
----------------------------------------------------
``solve``, ``generate``, ``example``   :mod:`pamdp.solve`
``verify``                              :mod:`pamdp.verify`
``fuzz``                                :mod:`pamdp.fuzz`
``theorems``                            :mod:`pamdp.theorems`
``equilibria``                          :mod:`pamdp.equilibria`
``train tree|instance|coin``            :mod:`pamdp.train`, :mod:`pamdp.train_instance`

Exit codes (:mod:`pamdp.common`): 0 ok / verdict yes, 1 verdict no, 2 invalid input or
arguments, 3 internal error (a bug in pamdp), 130 interrupted. Every exception is turned into a
one-line message here; ``--debug`` (before the subcommand) shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pamdp.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    Formatter,
    InvalidInput,
)

# subcommands implemented in sibling modules with add_arguments(parser) and run(args) -> int
_DELEGATED: dict[str, tuple[str, str]] = {
    "verify": ("pamdp.verify", "check a solution file against an instance, exactly"),
    "fuzz": ("pamdp.fuzz", "differentially fuzz an external solver"),
    "theorems": ("pamdp.theorems", "run every theorem property and print a report"),
    "equilibria": ("pamdp.equilibria", "enumerate the exact equilibria of a small instance"),
    "convert": ("pamdp.convert", "convert an instance or solution between JSON and .npz"),
}
_TRAINERS: dict[str, tuple[str, str, str, str]] = {
    "tree": (
        "pamdp.train",
        "add_tree_arguments",
        "run_tree",
        "Algorithm 2 (deep Q-learning) on the paper's binary tree",
    ),
    "instance": (
        "pamdp.train_instance",
        "add_instance_arguments",
        "run_instance",
        "Algorithm 2 (deep Q-learning) on any instance file (FORMAT.md v1)",
    ),
    "coin": ("pamdp.train", "add_coin_arguments", "run_coin", "Algorithm 3 on the Coin Game"),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``pamdp`` parser with every subcommand."""
    from pamdp import solve

    parser = argparse.ArgumentParser(
        prog="pamdp",
        description="Principal-agent MDPs with contracts: exact solvers, theorem properties "
        "and verification (Ivanov et al. 2024). Exit codes: 0 ok, 1 verdict no, 2 invalid "
        "input, 3 internal error, 130 interrupted.",
        formatter_class=Formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True)
    solve.register(sub)
    for name, (module, help_text) in _DELEGATED.items():
        _add_delegated(sub, name, module, "add_arguments", "run", help_text)
    train = sub.add_parser("train", help="deep-learning trainers", formatter_class=Formatter)
    train_sub = train.add_subparsers(dest="trainer", required=True)
    for name, (module, add, run, help_text) in _TRAINERS.items():
        _add_delegated(train_sub, name, module, add, run, help_text)
    return parser


def _add_delegated(
    sub: Any, name: str, module_name: str, add: str, run: str, help_text: str
) -> None:
    parser = sub.add_parser(name, help=help_text, description=help_text, formatter_class=Formatter)
    try:
        module = importlib.import_module(module_name)
        adder, runner = getattr(module, add), getattr(module, run)
    except (ImportError, AttributeError) as error:  # e.g. an optional dependency is missing
        reason = str(error)

        def unavailable(args: argparse.Namespace) -> int:
            raise InvalidInput(f"pamdp {name} is unavailable here ({reason})")

        parser.set_defaults(handler=unavailable)
        return
    adder(parser)
    parser.set_defaults(handler=runner)


def _log_internal_error(command: str) -> Path | None:
    """Write the traceback of the current exception to a log file; return its path."""
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="pamdp-error-", suffix=".log", delete=False, encoding="utf-8"
        ) as log:
            log.write(f"pamdp {command}\n\n")
            traceback.print_exc(file=log)
            return Path(log.name)
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pamdp``; return the exit code (module docstring)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    command = " ".join(args_list)[:200]
    name = "pamdp"
    try:
        parser = build_parser()
        args = parser.parse_args(args_list)
        debug = bool(args.debug)
        name = " ".join(
            ["pamdp", *(part for part in (args.command, getattr(args, "trainer", None)) if part)]
        )
        result: int = args.handler(args)
        return result
    except SystemExit as exit_:  # argparse: 0 for --help, 2 for bad arguments
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_INVALID)
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InvalidInput as error:
        if debug:
            traceback.print_exc()
        print(f"{name}: {error}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # e.g. `pamdp solve ... -o - | head`
        return 0
    except Exception as error:  # every other exception is a bug in pamdp, never a verdict
        if debug:
            traceback.print_exc()
        log = _log_internal_error(command)
        where = f"; traceback in {log}" if log else ""
        print(
            f"{name}: internal error (a bug in pamdp, not a verdict): "
            f"{type(error).__name__}: {str(error)[:300]}{where}; rerun with --debug to see it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
