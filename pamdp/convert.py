"""``pamdp convert SOURCE TARGET [--instance INSTANCE]``: JSON ↔ the binary companion ``.npz``.

Instances convert on their own; a solution names states and actions, so converting one needs
its instance (``--instance``). The kind of ``SOURCE`` (instance or solution) is read from its
``format``; the target's format from its suffix (``.npz`` binary, anything else JSON). Every
document is read with the same validation as ``pamdp solve``/``verify`` and written atomically;
exact numbers stay exact (docs/FORMAT.md, "Binary companion"). Exit 0, or 2 on invalid input.
"""

from __future__ import annotations

import argparse
from typing import Any

from pamdp.common import EXIT_OK, InvalidInput, check_output, load_instance_arg
from pamdp.solve import Progress, add_quiet_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pamdp convert``."""
    parser.add_argument("source", help="instance or solution: JSON or .npz")
    parser.add_argument("target", help="where to write it: .npz (binary) or JSON")
    parser.add_argument(
        "--instance",
        metavar="PATH",
        help="the instance of a solution being converted (JSON or .npz)",
    )
    add_quiet_argument(parser)


def _kind(path: str) -> str:
    """``"instance"`` or ``"solution"``, from the document's ``format``."""
    import json

    from theory.format import INSTANCE_FORMAT, SOLUTION_FORMAT

    try:
        if path.endswith(".npz"):
            import numpy as np

            with np.load(path, allow_pickle=False) as archive:
                found: Any = str(archive["format"]) if "format" in archive.files else None
        else:
            with open(path, "rb") as file:
                head = file.read(4096)
            found = None
            for fmt in (INSTANCE_FORMAT, SOLUTION_FORMAT):
                if json.dumps(fmt).encode() in head:
                    found = fmt
    except (OSError, ValueError) as error:
        raise InvalidInput(f"cannot read {path}: {error}") from None
    if found == INSTANCE_FORMAT:
        return "instance"
    if found == SOLUTION_FORMAT:
        return "solution"
    raise InvalidInput(
        f"{path}: not a pamdp instance or solution (no format {INSTANCE_FORMAT!r} or "
        f"{SOLUTION_FORMAT!r} near the start)"
    )


def run(args: argparse.Namespace) -> int:
    """``pamdp convert``: exit 0, or 2 on invalid input."""
    from theory.format import SolutionError, load_solution, save_instance

    check_output(args.target)
    progress = Progress(quiet=args.quiet)
    kind = _kind(args.source)
    if kind == "instance":
        with progress.file_phase("loading", args.source):
            model = load_instance_arg(args.source)
        progress.large(states=model.n_states)
        with progress.phase(f"writing {args.target}"):
            save_instance(model, args.target)
        print(f"wrote the instance {model.name!r} ({model.n_states} states) to {args.target}")
        return EXIT_OK
    if args.instance is None:
        raise InvalidInput("converting a solution needs its instance: --instance PATH")
    with progress.file_phase("loading", args.instance):
        model = load_instance_arg(args.instance)
    progress.large(states=model.n_states)
    try:
        with progress.file_phase("loading", args.source):
            document = load_solution(args.source, model)
    except SolutionError as error:
        raise InvalidInput(f"invalid solution {args.source}: {error}") from None
    except OSError as error:
        raise InvalidInput(f"cannot read the solution {args.source}: {error}") from None
    _write_solution(document, model, args.target, progress)
    print(f"wrote the solution of {model.name!r} ({model.n_states} states) to {args.target}")
    return EXIT_OK


def _write_solution(document: Any, model: Any, target: str, progress: Progress) -> None:
    import numpy as np

    from theory.fastjson import write_solution

    entries = document.policy
    exact = any(not isinstance(x, float) for entry in entries for x in entry.contract) and not all(
        _is_float_value(x) for entry in entries for x in entry.contract
    )
    contracts = document.contracts_exact() if exact else document.contracts_float()
    values: dict[str, Any] = {}
    for key in ("principal_value", "agent_value"):
        column = [getattr(entry, key) for entry in entries]
        if all(v is not None for v in column):
            values[key + "s"] = (
                np.array(column, dtype=object) if exact else np.array(column, dtype=float)
            )
    with progress.phase(f"writing {target}"):
        write_solution(target, model, document.recommended, contracts, exact=exact, **values)


def _is_float_value(value: Any) -> bool:
    """A number whose exact value is the shortest decimal of its float (lossless as float)."""
    from fractions import Fraction

    number = Fraction(value)
    return Fraction(repr(float(number))) == number
