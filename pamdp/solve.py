"""``pamdp solve``, ``pamdp generate`` and ``pamdp example``.

``pamdp solve INSTANCE.json [-o SOLUTION.json] [--exact] [--commitment] [ties flags]``
    One call of :func:`solvers.solve.solve` (backward induction for episodic instances, the
    meta-algorithm for discounted ones), with the tie rule, tolerances and margin from the
    flags. Exit 0 on an SPE, 1 when the meta-algorithm did not converge (the reason is
    printed and the last iterate is still written, marked as not converged), 2 on invalid
    input. ``--commitment`` also computes the principal's optimum with commitment
    (:mod:`solvers.commitment`, small episodic instances) and prints it next to the SPE.
``pamdp generate tree|three-state|random ... -o FILE``
    Write a generated instance (FORMAT.md v1); flags that do not apply to the family are
    refused.
``pamdp example``
    The main job: the three-state example and a depth-10 paper tree.
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from typing import Any

import numpy as np

from pamdp.common import (
    EXIT_NO,
    EXIT_OK,
    Formatter,
    InvalidInput,
    add_output_argument,
    add_ties_arguments,
    check_output,
    integer_arg,
    load_instance_arg,
    number_arg,
    ties_from_args,
    write_json_document,
)

#: The largest paper tree ``pamdp example`` / ``pamdp generate tree`` build (2^22 − 1 states).
MAX_TREE_DEPTH = 22


def _fmt(value: Any, exact: bool = False) -> str:
    if exact and isinstance(value, Fraction):
        return f"{value} (≈ {float(value):.6g})" if value.denominator != 1 else str(value)
    return f"{float(value):.6g}"


def summary(model: Any, result: Any, *, max_table: int = 40) -> str:
    """The text report of a solve: settings, values at s0, shares, and a per-state table."""
    solution, exact = result.solution, result.exact
    lines = [
        f"instance   : {model.name or '(unnamed)'}",
        f"size       : {model.n_states} states, {model.n_actions} actions, "
        f"{model.n_outcomes} outcomes, γ = {model.discount:g}"
        + (", observed action" if model.observed_action else ", hidden action"),
        f"method     : {result.label()}; {result.status()}",
        f"ties       : {result.ties.describe()}",
        f"solve time : {result.seconds:.3f} s",
    ]
    s0 = model.initial_state
    lines.append(f"V^p(s0)    : {_fmt(solution.principal_values[s0], exact)}")
    lines.append(f"V^a(s0)    : {_fmt(solution.agent_values[s0], exact)}")
    counts = np.bincount(solution.recommended, minlength=model.n_actions)
    share = ", ".join(
        f"{a}: {c / model.n_states:.1%}" for a, c in zip(model.actions, counts, strict=True)
    )
    lines.append(f"recommended: {share} of states")
    if model.n_states <= max_table:
        lines.append("")
        lines.append(f"{'state':>8} {'action':>8} {'V^p':>12} {'V^a':>12}  contract")
        for s in range(model.n_states):
            contract = ", ".join(
                f"{model.outcomes[o]}={_fmt(x, exact)}"
                for o, x in enumerate(solution.contracts[s])
                if x != 0
            )
            lines.append(
                f"{model.states[s]:>8} {model.actions[solution.recommended[s]]:>8} "
                f"{float(solution.principal_values[s]):>12.6g} "
                f"{float(solution.agent_values[s]):>12.6g}  {contract or 'none'}"
            )
    return "\n".join(lines)


def add_solve_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pamdp solve``."""
    parser.add_argument(
        "instance", help="instance file: JSON (pamdp/instance@1) or its .npz companion"
    )
    add_output_argument(parser, "the FORMAT.md v1 solution (.npz: the binary companion)")
    parser.add_argument(
        "--exact", action="store_true", help="exact rational arithmetic (episodic instances)"
    )
    parser.add_argument(
        "--max-iterations",
        type=integer_arg(minimum=1, maximum=10**7),
        default=1000,
        help="meta-algorithm cap (discounted instances)",
    )
    parser.add_argument(
        "--tol",
        type=number_arg("tolerance", minimum=0, maximum=1),
        default=Fraction(1, 10**9),
        help="meta-algorithm stopping tolerance: contracts within it are unchanged",
    )
    parser.add_argument(
        "--commitment",
        action="store_true",
        help="also compute the principal's optimum with commitment (small episodic "
        "instances) and print it next to the SPE value",
    )
    parser.add_argument(
        "--commitment-output",
        metavar="PATH",
        help="with --commitment: write the committed policy as a solution file here",
    )
    add_ties_arguments(parser)
    add_quiet_argument(parser)


class Progress:
    """One short standard-error line per phase of a command (``loading tree18.json (28.7 MB)…
    0.9 s``), printed only when the phase is slow (:attr:`SLOW_SECONDS`) or the work is large
    (:meth:`large`), so small runs stay silent; never with ``quiet``."""

    #: A phase this slow is always reported.
    SLOW_SECONDS = 2.0
    #: Instances with this many states, or files this large, are "large".
    LARGE_STATES = 50_000
    LARGE_BYTES = 5_000_000

    def __init__(self, quiet: bool = False, stream: Any = None) -> None:
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.is_large = False

    def large(self, *, states: int = 0, nbytes: int = 0) -> None:
        """Mark the work as large (from here on, every phase is reported)."""
        if states >= self.LARGE_STATES or nbytes >= self.LARGE_BYTES:
            self.is_large = True

    def phase(self, label: str) -> Any:
        """A context manager timing one phase."""
        import contextlib

        @contextlib.contextmanager
        def timed() -> Any:
            start = time.perf_counter()
            yield
            seconds = time.perf_counter() - start
            if not self.quiet and (self.is_large or seconds >= self.SLOW_SECONDS):
                print(f"{label}… {seconds:.1f} s", file=self.stream, flush=True)

        return timed()

    def file_phase(self, verb: str, path: str) -> Any:
        """:meth:`phase` for reading a file, labelled with its size (and marking it large)."""
        import os

        try:
            size = os.path.getsize(path)
        except OSError:
            return self.phase(f"{verb} {path}")
        self.large(nbytes=size)
        return self.phase(f"{verb} {path} ({size / 1e6:.1f} MB)")


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress lines (:class:`Progress`)."""
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress lines on standard error (they appear only for large instances or "
        "steps slower than 2 s)",
    )


def run_solve(args: argparse.Namespace) -> int:
    """``pamdp solve``: exit 0 (an SPE), 1 (not converged), 2 (invalid input)."""
    from solvers.solve import solve
    from theory.fastjson import write_solution

    ties = ties_from_args(args)
    check_output(args.output)
    if args.commitment_output and not args.commitment:
        raise InvalidInput("--commitment-output needs --commitment")
    check_output(args.commitment_output)
    progress = Progress(quiet=args.quiet)
    with progress.file_phase("loading", args.instance):
        model = load_instance_arg(args.instance)
    progress.large(states=model.n_states)
    try:
        with progress.phase(
            f"solving ({model.n_states} states" + (", exact)" if args.exact else ")")
        ):
            result = solve(
                model,
                exact=args.exact,
                ties=ties,
                max_iterations=args.max_iterations,
                tol=float(args.tol),
            )
    except ValueError as error:
        raise InvalidInput(f"{args.instance}: {error}") from None
    to_stdout = args.output == "-"
    report = sys.stderr if to_stdout else sys.stdout
    print(summary(model, result), file=report)
    solution = result.solution
    if args.commitment:
        _print_commitment(model, result, args, report)
    if args.output:
        with progress.phase(f"writing {args.output}"):
            write_solution(
                args.output,
                model,
                solution.recommended,
                solution.contracts,
                principal_values=solution.principal_values,
                agent_values=solution.agent_values,
                exact=result.exact,
                extra={"solver": result.settings()},
                indent=1 if model.n_states <= 1000 else None,
            )
        if not to_stdout:
            print(f"\nsolution written to {args.output}")
    if not result.converged:
        print(
            f"pamdp solve: {result.status()}; the policy "
            + ("written is" if args.output else "shown is")
            + " the last iterate, not an SPE. For small discounted instances `pamdp "
            "equilibria INSTANCE` enumerates the exact equilibria.",
            file=sys.stderr,
        )
        return EXIT_NO
    return EXIT_OK


def _print_commitment(model: Any, result: Any, args: argparse.Namespace, out: Any) -> None:
    from solvers.commitment import commitment_policy
    from theory.format import solution_to_dict

    try:
        committed = commitment_policy(model)
    except ValueError as error:
        raise InvalidInput(f"--commitment: {error}") from None
    s0 = model.initial_state
    spe_value = float(result.solution.principal_values[s0])
    gap = committed.value - spe_value
    print("", file=out)
    print("commitment (the principal commits to its whole policy; PAPER.md §2)", file=out)
    print(f"  V^p(s0) with commitment : {committed.value:.10g}", file=out)
    print(f"  V^p(s0) of the SPE      : {spe_value:.10g}", file=out)
    print(
        f"  commitment − SPE        : {gap:.6g}"
        + (f" ({gap / abs(spe_value):.2%} of the SPE value)" if spe_value else ""),
        file=out,
    )
    print(f"  V^a(s0) with commitment : {committed.agent_values[s0]:.10g}", file=out)
    print(
        f"  profiles enumerated     : {committed.profiles} ({committed.feasible} implementable)",
        file=out,
    )
    if args.commitment_output:
        document = solution_to_dict(
            model,
            committed.recommended,
            committed.contracts,
            principal_values=committed.principal_values,
            agent_values=committed.agent_values,
            extra={"solver": {"method": "commitment optimum (solvers.commitment)"}},
        )
        write_json_document(document, args.commitment_output)
        if args.commitment_output != "-":
            print(f"  committed policy written to {args.commitment_output}", file=out)


# ------------------------------------------------------------------------------ generate
def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pamdp generate``."""
    parser.add_argument("family", choices=["tree", "three-state", "random"])
    parser.add_argument(
        "--depth",
        type=integer_arg(minimum=1, maximum=MAX_TREE_DEPTH),
        default=None,
        help="tree: depth D (2^D − 1 states; default 10)",
    )
    parser.add_argument("--seed", type=integer_arg(minimum=0, maximum=2**63), default=0)
    parser.add_argument(
        "--states", type=integer_arg(minimum=1, maximum=10**6), default=None, help="random (6)"
    )
    parser.add_argument(
        "--actions", type=integer_arg(minimum=1, maximum=1000), default=None, help="random (2)"
    )
    parser.add_argument(
        "--outcomes", type=integer_arg(minimum=1, maximum=1000), default=None, help="random (2)"
    )
    parser.add_argument(
        "--discounted", action="store_true", help="random: allow cycles (needs γ < 1)"
    )
    parser.add_argument(
        "--discount",
        type=number_arg("discount", minimum=0, maximum=1),
        default=None,
        help="γ in [0, 1], a number or rational string (three-state default 1; random "
        "default 1, or 9/10 with --discounted)",
    )
    parser.add_argument("--observed-action", action="store_true")
    add_output_argument(parser, "the instance", required=True)
    add_quiet_argument(parser)


_FAMILY_FLAGS = {
    "tree": {"depth"},
    "three-state": {"discount"},
    "random": {"states", "actions", "outcomes", "discounted", "discount"},
}


def run_generate(args: argparse.Namespace) -> int:
    """``pamdp generate``."""
    from theory.format import save_instance
    from theory.generators import paper_tree, random_instance, three_state_example

    given = {
        name
        for name in ("depth", "states", "actions", "outcomes", "discount")
        if getattr(args, name) is not None
    } | ({"discounted"} if args.discounted else set())
    foreign = sorted(given - _FAMILY_FLAGS[args.family])
    if foreign:
        flags = ", ".join("--" + name for name in foreign)
        raise InvalidInput(f"{flags} does not apply to the {args.family} family")
    check_output(args.output)
    try:
        if args.family == "tree":
            model = paper_tree(
                args.depth if args.depth is not None else 10,
                args.seed,
                observed_action=args.observed_action,
            )
        elif args.family == "three-state":
            model = three_state_example(
                observed_action=args.observed_action,
                discount=args.discount if args.discount is not None else 1,
            )
        else:
            model = random_instance(
                args.states if args.states is not None else 6,
                args.actions if args.actions is not None else 2,
                args.outcomes if args.outcomes is not None else 2,
                seed=args.seed,
                episodic=not args.discounted,
                discount=args.discount,
                observed_action=args.observed_action,
            )
    except (ValueError, ZeroDivisionError) as error:
        raise InvalidInput(str(error)) from None
    progress = Progress(quiet=args.quiet)
    progress.large(states=model.n_states)
    with progress.phase(f"writing {args.output}"):
        save_instance(model, args.output)  # float models: the vectorised streaming writer
    if args.output != "-":
        print(f"wrote {model.name} ({model.n_states} states) to {args.output}")
    return EXIT_OK


# ------------------------------------------------------------------------------- example
def add_example_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pamdp example``."""
    parser.add_argument("--depth", type=integer_arg(minimum=1, maximum=MAX_TREE_DEPTH), default=10)
    parser.add_argument("--seed", type=integer_arg(minimum=0, maximum=2**63), default=0)


def run_example(args: argparse.Namespace) -> int:
    """``pamdp example``: the three-state example and a paper tree."""
    from solvers.solve import solve
    from theory.generators import paper_tree, three_state_example

    print("Three-state example (PAPER.md §7), exact backward induction")
    print(
        f"{'variant':<22}{'γ':>5}{'V^p(s0)':>10}{'V^a(s0)':>10}{'V^p(sL)':>10}"
        f"{'V^a(sL)':>10}{'meta iters':>12}{'time':>10}"
    )
    for label, kwargs in (
        ("hidden action", {"discount": 1}),
        ("hidden action", {"discount": Fraction(9, 10)}),
        ("observed action", {"observed_action": True, "discount": 1}),
    ):
        model = three_state_example(**kwargs)
        exact = solve(model, exact=True)
        solution = exact.solution
        meta = solve(model, method="meta_algorithm")
        print(
            f"{label:<22}{kwargs['discount']!s:>5}{solution.principal_values[0]!s:>10}"
            f"{solution.agent_values[0]!s:>10}{solution.principal_values[1]!s:>10}"
            f"{solution.agent_values[1]!s:>10}{meta.iterations:>12}"
            f"{exact.seconds * 1e3:>8.1f}ms"
        )
    print()
    print(f"Paper tree (PAPER.md §6), depth {args.depth}, seed {args.seed}")
    start = time.perf_counter()
    tree = paper_tree(args.depth, args.seed)
    float_result = solve(tree)
    exact_result = solve(tree, exact=True)
    meta = solve(tree, method="meta_algorithm")
    v_exact = exact_result.solution.principal_values[0]
    solution = float_result.solution
    print(f"  states                      : {tree.n_states}")
    print(
        f"  V^p(s0), V^a(s0) float      : {solution.principal_values[0]:.12f}, "
        f"{solution.agent_values[0]:.12f}   ({float_result.seconds * 1e3:.1f} ms)"
    )
    print(
        f"  V^p(s0) exact (as float)    : {float(v_exact):.12f}   ({exact_result.seconds:.2f} s, "
        f"denominator {v_exact.denominator.bit_length()} bits)"
    )
    print(
        f"  meta-algorithm              : {meta.iterations} iterations "
        f"(bound T + 1 = {args.depth + 1}), "
        f"V^p(s0) = {meta.solution.principal_values[0]:.12f}   ({meta.seconds:.2f} s)"
    )
    share = float(np.mean(solution.recommended == 1))
    print(f"  costly action recommended   : {share:.1%} of states")
    print(f"  total                       : {time.perf_counter() - start:.2f} s")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``solve``, ``generate`` and ``example`` to the ``pamdp`` subcommands."""
    for name, help_text, add, run in (
        ("solve", "solve an instance file (FORMAT.md v1)", add_solve_arguments, run_solve),
        ("generate", "write a generated instance", add_generate_arguments, run_generate),
        (
            "example",
            "solve the three-state example and a paper tree (the main job)",
            add_example_arguments,
            run_example,
        ),
    ):
        parser = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=Formatter
        )
        add(parser)
        parser.set_defaults(handler=run)
