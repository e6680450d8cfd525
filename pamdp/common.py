"""What every ``pamdp`` command shares: exit codes, errors, flags, reading and writing files.

Exit codes (the same for every command)
---------------------------------------
* **0** success, or the verdict "yes" (an SPE, every claim as expected, no failure found);
* **1** the verdict "no" (not an SPE, a solver failed the fuzz, a claim failed unexpectedly,
  a discounted solve that did not converge);
* **2** invalid input or arguments (the message names the file, the field and the value);
* **3** an internal error: a bug in pamdp (one line says so; ``--debug`` shows the traceback);
* **130** interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from theory.ties import TIE_RULES, Ties

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NO",
    "EXIT_OK",
    "Formatter",
    "InvalidInput",
    "add_output_argument",
    "add_ties_arguments",
    "check_output",
    "integer_arg",
    "load_instance_arg",
    "number_arg",
    "ties_from_args",
    "write_json_document",
]

EXIT_OK = 0
EXIT_NO = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class InvalidInput(Exception):
    """Invalid input or arguments: printed as one line, exit code 2."""


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every ``--help`` shows the defaults and keeps the description's line breaks."""


def number_arg(name: str, *, minimum: Any = None, maximum: Any = None) -> Callable[[str], Any]:
    """An argparse ``type=`` reading an exact number (``0.1``, ``9/10``) with the format's bounds.

    The text is read by the same bounded reader as every number in a document
    (:func:`theory.numbers.number_type`), so ``1e1000000000`` is refused at once; ``name`` is
    only for the reader's ``__name__`` in argparse messages.
    """
    from theory.numbers import number_type

    reader = number_type(minimum=minimum, maximum=maximum)
    reader.__name__ = name
    return reader


def integer_arg(*, minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=`` for bounded whole numbers (:func:`theory.numbers.integer_type`)."""
    from theory.numbers import integer_type

    return integer_type(minimum=minimum, maximum=maximum)


def add_ties_arguments(parser: argparse.ArgumentParser) -> None:
    """``--tie-tol``, ``--principal-ties``, ``--principal-tol`` and ``--margin`` (one
    :class:`theory.ties.Ties`, carried unchanged to the contract solver)."""
    group = parser.add_argument_group(
        "ties and tolerances", "see README.md, 'Conventions', and theory/ties.py"
    )
    group.add_argument(
        "--tie-tol",
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=Fraction(1, 10**9),
        metavar="TAU",
        help="tie tolerance of float arithmetic: the agent is indifferent when an incentive "
        "constraint is violated by at most TAU, and (unless --principal-tol is given) "
        "actions whose q is within TAU of the best are principal ties",
    )
    group.add_argument(
        "--principal-ties",
        choices=TIE_RULES,
        default="lowest_index",
        help="the principal's rule among actions with the same contractual q",
    )
    group.add_argument(
        "--principal-tol",
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=None,
        metavar="TAU",
        help="the principal's tie tolerance alone (default: the --tie-tol value)",
    )
    group.add_argument(
        "--margin",
        type=number_arg("margin", minimum=0, maximum=10**6),
        default=Fraction(0),
        metavar="XI",
        help="nudging margin ξ ≥ 0 of the minimal contracts (PAPER.md §3); read exactly, so "
        "0.1 is 1/10",
    )


def ties_from_args(args: argparse.Namespace) -> Ties:
    """The :class:`~theory.ties.Ties` of the flags added by :func:`add_ties_arguments`."""
    try:
        return Ties(
            agent_tol=args.tie_tol,
            principal_rule=args.principal_ties,
            principal_tol=args.tie_tol if args.principal_tol is None else args.principal_tol,
            margin=args.margin,
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def add_output_argument(parser: argparse.ArgumentParser, what: str, required: bool = False) -> None:
    """``-o/--output PATH`` (``-`` = standard output), the same flag on every command."""
    parser.add_argument(
        "-o",
        "--output",
        required=required,
        metavar="PATH",
        help=f"write {what} here ('-' = standard output); checked before the work starts, "
        "written atomically",
    )


def check_output(path: str | None) -> None:
    """Refuse an output path that cannot be written, before any work starts (exit 2)."""
    if path is None or path == "-":
        return
    from theory.atomic import OutputPathError, check_output_path

    try:
        check_output_path(path)
    except OutputPathError as error:
        raise InvalidInput(str(error)) from None


def write_json_document(document: Any, path: str, *, indent: int | None = 1) -> None:
    """Write a JSON document atomically (``-`` = standard output)."""
    from theory.format import dump_json

    if path == "-":
        sys.stdout.write(dump_json(document, None, indent=indent) + "\n")
        sys.stdout.flush()
        return
    dump_json(document, path, indent=indent)


def load_instance_arg(path: str) -> Any:
    """Load an instance file named on the command line; any problem → :class:`InvalidInput`."""
    from theory.format import load_instance
    from theory.model import InstanceError

    try:
        model = load_instance(path)
        model.require_defined_values()
    except InstanceError as error:
        raise InvalidInput(f"invalid instance {path}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read the instance {path}: {error}") from None
    except ValueError as error:
        raise InvalidInput(f"invalid instance {path}: {error}") from None
    return model


def existing_file(path: str) -> str:
    """An argparse ``type=`` for an input file that must exist."""
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {path}")
    return path


def add_shard_arguments(
    parser: Any,
    *,
    chunk_help: str,
    resume_help: str,
    overwrite_help: str,
    address_note: str = "docs/DISTRIBUTED.md",
) -> None:
    """``--chunk``, ``--workers``, ``--address``, ``--resume`` and ``--overwrite``: the shard
    options of ``pamdp fuzz`` and ``pamdp theorems`` (docs/DISTRIBUTED.md), one definition of
    their types and bounds; the texts that differ per command are parameters. ``parser`` is a
    parser or an argument group. Validate with :func:`shard_engine`."""
    parser.add_argument(
        "--chunk",
        type=integer_arg(minimum=1, maximum=10**7),
        default=None,
        metavar="N",
        help=chunk_help,
    )
    parser.add_argument(
        "--workers",
        type=integer_arg(minimum=1, maximum=4096),
        default=1,
        metavar="N",
        help="run the shards on N local Ray workers (a Ray instance started for the run); "
        "1: serially in this process",
    )
    parser.add_argument(
        "--address",
        default=None,
        metavar="HOST:PORT",
        help=f"run the shards on the existing Ray cluster there (ray start --head; {address_note})",
    )
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)


def shard_engine(args: argparse.Namespace) -> Any:
    """The engine the shard options of :func:`add_shard_arguments` ask for
    (:class:`solvers.distributed.Engine`: serial, local Ray workers or a cluster), after
    checking that ``--resume``/``--overwrite`` and ``--workers``/``--address`` are not combined
    and that the engine can start (Ray installed for ``--workers`` > 1 or ``--address``);
    :class:`InvalidInput` (exit 2) otherwise."""
    if args.resume and args.overwrite:
        raise InvalidInput("--resume and --overwrite exclude each other")
    if args.address is not None and args.workers != 1:
        raise InvalidInput(
            f"--workers {args.workers} and --address {args.address} exclude each other "
            "(on a cluster, its CPUs set the parallelism)"
        )
    return engine_of(args.workers, args.address)


def engine_of(workers: int, address: str | None) -> Any:
    """The :class:`solvers.distributed.Engine` for ``workers`` local Ray workers or the
    cluster at ``address`` (serial for 1 and ``None``), checked to start:
    :class:`InvalidInput` (exit 2) when Ray is needed and missing or unreachable."""
    from solvers.distributed import DistributedError, Engine, check_engine

    try:
        engine = Engine(workers=workers, address=address)
        check_engine(engine)
    except DistributedError as error:
        raise InvalidInput(str(error)) from None
    return engine
