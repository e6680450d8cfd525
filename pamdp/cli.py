"""The ``pamdp`` command line: solve, generate, example, and the tools of the other layers.

Subcommands
-----------
``pamdp solve INSTANCE.json [-o SOLUTION.json] [--exact]``
    Episodic instances by backward induction, discounted ones by the meta-algorithm.
``pamdp generate tree|three-state|random ... -o FILE``
    Write a generated instance (FORMAT.md v1).
``pamdp example``
    Solve the three-state example and a depth-10 paper tree; print values, iteration counts
    and solve times.
``pamdp verify``, ``pamdp fuzz``, ``pamdp theorems``, ``pamdp train tree|coin``
    Delegated to the modules of ``properties/`` and ``solvers/`` (each exposes
    ``add_arguments`` and ``run``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

# subcommands implemented elsewhere: name -> (module, help)
_DELEGATED: dict[str, tuple[str, str]] = {
    "verify": ("properties.verify_cli", "check a solution file against an instance, exactly"),
    "fuzz": ("properties.fuzz_cli", "differentially fuzz an external solver command"),
    "theorems": ("properties.theorems_cli", "run every theorem property and print a report"),
}
_TRAINERS: dict[str, tuple[str, str]] = {
    "tree": ("solvers.deep.cli", "Algorithm 2 (deep Q-learning) on the paper's binary tree"),
    "coin": ("solvers.coin.cli", "Algorithm 3 on the Coin Game"),
}


def _fmt(value: Any, exact: bool = False) -> str:
    if exact and isinstance(value, Fraction):
        return f"{value} (≈ {float(value):.6g})" if value.denominator != 1 else str(value)
    return f"{float(value):.6g}"


def _summary(
    model: Any,
    solution: Any,
    *,
    method: str,
    seconds: float,
    exact: bool,
    iterations: int | None = None,
    converged: bool | None = None,
    max_table: int = 40,
) -> str:
    lines = [
        f"instance   : {model.name or '(unnamed)'}",
        f"size       : {model.n_states} states, {model.n_actions} actions, "
        f"{model.n_outcomes} outcomes, γ = {model.discount:g}"
        + (", observed action" if model.observed_action else ", hidden action"),
        f"method     : {method}"
        + (f", {iterations} iterations" if iterations else "")
        + ("" if converged is None else (", converged" if converged else ", NOT converged")),
        f"solve time : {seconds:.3f} s",
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
        header = f"{'state':>8} {'action':>8} {'V^p':>12} {'V^a':>12}  contract"
        lines.append(header)
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


def solve_instance(
    model: Any, *, exact: bool = False, max_iterations: int = 1000
) -> tuple[Any, dict[str, Any]]:
    """Solve by backward induction (episodic) or the meta-algorithm (discounted)."""
    from solvers.backward_induction import solve_backward_induction
    from solvers.meta_algorithm import meta_algorithm

    start = time.perf_counter()
    if model.is_episodic:
        solution = solve_backward_induction(model, exact=exact)
        info: dict[str, Any] = {"method": "backward induction" + (" (exact)" if exact else "")}
    else:
        if exact:
            raise SystemExit(
                "pamdp solve: --exact needs an episodic instance (the "
                "meta-algorithm for discounted instances runs in floats)"
            )
        result = meta_algorithm(model, max_iterations=max_iterations)
        solution = result.solution
        info = {
            "method": "meta-algorithm (Algorithm 1)",
            "iterations": result.iterations,
            "converged": result.converged,
        }
    info["seconds"] = time.perf_counter() - start
    return solution, info


def _cmd_solve(args: argparse.Namespace) -> int:
    from theory.format import dump_json, load_instance, solution_to_dict
    from theory.model import InstanceError

    try:
        model = load_instance(args.instance)
        model.require_defined_values()
    except (InstanceError, OSError) as error:
        print(f"pamdp solve: invalid instance {args.instance}: {error}", file=sys.stderr)
        return 2
    solution, info = solve_instance(model, exact=args.exact, max_iterations=args.max_iterations)
    print(_summary(model, solution, exact=args.exact, **info))
    if info.get("converged") is False:
        print(
            f"pamdp solve: warning: the meta-algorithm did not converge in "
            f"{info['iterations']} iterations; the policy written is its last iterate, not "
            "an SPE (check it with `pamdp verify`)",
            file=sys.stderr,
        )
    if args.output:
        extra = {"solver": {key: value for key, value in info.items() if key != "seconds"}}
        document = solution_to_dict(
            model,
            solution.recommended,
            solution.contracts,
            principal_values=solution.principal_values,
            agent_values=solution.agent_values,
            exact=args.exact,
            extra=extra,
        )
        dump_json(document, args.output, indent=1 if model.n_states <= 1000 else None)
        print(f"\nsolution written to {args.output}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from theory.format import save_instance
    from theory.generators import paper_tree, random_instance, three_state_example

    try:
        discount = None if args.discount is None else Fraction(args.discount)
    except (ValueError, ZeroDivisionError):
        print(
            f"pamdp generate: --discount must be a number such as 0.9 or 9/10 (value: "
            f"{args.discount!r})",
            file=sys.stderr,
        )
        return 2
    try:
        if args.family == "tree":
            model = paper_tree(args.depth, args.seed, observed_action=args.observed_action)
        elif args.family == "three-state":
            model = three_state_example(
                observed_action=args.observed_action,
                discount=discount if discount is not None else 1,
            )
        else:
            model = random_instance(
                args.states,
                args.actions,
                args.outcomes,
                seed=args.seed,
                episodic=not args.discounted,
                discount=discount,
                observed_action=args.observed_action,
            )
    except (ValueError, ZeroDivisionError) as error:
        print(f"pamdp generate: {error}", file=sys.stderr)
        return 2
    save_instance(model, args.output)
    print(f"wrote {model.name} ({model.n_states} states) to {args.output}")
    return 0


def _cmd_example(args: argparse.Namespace) -> int:
    from solvers.backward_induction import solve_backward_induction
    from solvers.meta_algorithm import meta_algorithm
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
        start = time.perf_counter()
        solution = solve_backward_induction(model, exact=True)
        seconds = time.perf_counter() - start
        meta = meta_algorithm(model)
        print(
            f"{label:<22}{kwargs['discount']!s:>5}{solution.principal_values[0]!s:>10}"
            f"{solution.agent_values[0]!s:>10}{solution.principal_values[1]!s:>10}"
            f"{solution.agent_values[1]!s:>10}{meta.iterations:>12}"
            f"{seconds * 1e3:>8.1f}ms"
        )
    print()
    print(f"Paper tree (PAPER.md §6), depth {args.depth}, seed {args.seed}")
    tree = paper_tree(args.depth, args.seed)
    start = time.perf_counter()
    solution = solve_backward_induction(tree)
    bi_seconds = time.perf_counter() - start
    start = time.perf_counter()
    exact = solve_backward_induction(tree, exact=True)
    exact_seconds = time.perf_counter() - start
    start = time.perf_counter()
    meta = meta_algorithm(tree)
    meta_seconds = time.perf_counter() - start
    v_exact = exact.principal_values[0]
    print(f"  states                      : {tree.n_states}")
    print(
        f"  V^p(s0), V^a(s0) float      : {solution.principal_values[0]:.12f}, "
        f"{solution.agent_values[0]:.12f}   ({bi_seconds * 1e3:.1f} ms)"
    )
    print(
        f"  V^p(s0) exact (as float)    : {float(v_exact):.12f}   ({exact_seconds:.2f} s, "
        f"denominator {v_exact.denominator.bit_length()} bits)"
    )
    print(
        f"  meta-algorithm              : {meta.iterations} iterations "
        f"(bound T + 1 = {args.depth + 1}), V^p(s0) = {meta.solution.principal_values[0]:.12f}"
        f"   ({meta_seconds:.2f} s)"
    )
    share = float(np.mean(solution.recommended == 1))
    print(f"  costly action recommended   : {share:.1%} of states")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pamdp",
        description="Principal-agent MDPs with contracts: exact solvers, "
        "theorem properties and verification (Ivanov et al. 2024).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    solve = sub.add_parser("solve", help="solve an instance file (FORMAT.md v1)")
    solve.add_argument("instance", help="instance JSON file")
    solve.add_argument("-o", "--output", help="write the FORMAT.md v1 solution here")
    solve.add_argument(
        "--exact", action="store_true", help="exact rational arithmetic (episodic instances)"
    )
    solve.add_argument(
        "--max-iterations",
        type=int,
        default=1000,
        help="meta-algorithm cap for discounted instances (default 1000)",
    )
    solve.set_defaults(handler=_cmd_solve)

    generate = sub.add_parser("generate", help="write a generated instance")
    generate.add_argument("family", choices=["tree", "three-state", "random"])
    generate.add_argument("--depth", type=int, default=10, help="tree depth (2^depth − 1 states)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--states", type=int, default=6, help="random: number of states")
    generate.add_argument("--actions", type=int, default=2, help="random: number of actions")
    generate.add_argument("--outcomes", type=int, default=2, help="random: number of outcomes")
    generate.add_argument(
        "--discounted", action="store_true", help="random: allow cycles (needs γ < 1)"
    )
    generate.add_argument(
        "--discount",
        default=None,
        help="γ as a number or rational string (three-state default 1, random default 1 or 9/10)",
    )
    generate.add_argument("--observed-action", action="store_true")
    generate.add_argument("-o", "--output", required=True)
    generate.set_defaults(handler=_cmd_generate)

    example = sub.add_parser("example", help="solve the three-state example and a paper tree")
    example.add_argument("--depth", type=int, default=10)
    example.add_argument("--seed", type=int, default=0)
    example.set_defaults(handler=_cmd_example)

    for name, (module, help_text) in _DELEGATED.items():
        _add_delegated(sub, name, module, help_text)
    train = sub.add_parser("train", help="deep-learning trainers")
    train_sub = train.add_subparsers(dest="trainer", required=True)
    for name, (module, help_text) in _TRAINERS.items():
        _add_delegated(train_sub, name, module, help_text)
    return parser


def _add_delegated(sub: Any, name: str, module_name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:  # e.g. an optional dependency is missing
        reason = str(error)

        def unavailable(args: argparse.Namespace) -> int:
            print(f"pamdp {name}: unavailable ({reason})", file=sys.stderr)
            return 2

        parser.set_defaults(handler=unavailable)
        return
    module.add_arguments(parser)
    parser.set_defaults(handler=module.run)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser()
    args = parser.parse_args(list(argv))
    result: int = args.handler(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
