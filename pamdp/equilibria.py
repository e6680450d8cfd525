"""``pamdp equilibria INSTANCE.json``: the exact equilibria of a small instance (issue 13).

Enumerates, in exact rational arithmetic (:mod:`solvers.equilibria`,
:mod:`solvers.equilibria_search`):

* every **pure stationary** recommendation profile with implementable recommendations, its
  unique self-consistent minimal contracts, and the shared SPE checker's verdict — each SPE
  with its values per state, the states reachable from the initial state and a Pareto
  comparison; each rejected profile with its profitable one-shot deviation (the certificate
  of "no pure stationary SPE");
* **mixed stationary** SPEs with one mixing state and a support of two minimal contracts
  (exact mixing probability);
* the **time-dependent** SPE the finite-horizon recursion from zero continuation values
  converges to (its period, actions and values, checked as an SPE of the discounted game).

``--json`` prints the ``pamdp/equilibria@1`` document (``pure_stationary``,
``mixed_stationary``, ``time_dependent``, ``searched``). Every statement is about the classes
listed under ``searched``: "none found" in a class is never "none exists" beyond it.

Exit codes: **0** the report was produced (whatever it finds); **2** invalid input, or an
instance above the size limit (``--max-profiles`` candidate profiles, default
:data:`solvers.equilibria.MAX_PROFILES` = 4096, or more than
:data:`solvers.equilibria.MAX_STATES` = 64 states).
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from typing import Any

from pamdp.common import (
    EXIT_OK,
    InvalidInput,
    add_output_argument,
    check_output,
    integer_arg,
    load_instance_arg,
    number_arg,
    write_json_document,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pamdp equilibria`` arguments to ``parser``."""
    from solvers.equilibria import MAX_PROFILES
    from solvers.equilibria_search import MAX_PERIOD, MAX_STEPS
    from theory.ties import TIE_RULES

    parser.description = (
        "Enumerate the exact equilibria of a small instance: every pure stationary profile "
        "(with the certificate of each one that is not an SPE), mixed stationary SPEs with one "
        "mixing state and support size 2, and the periodic SPE of the finite-horizon "
        "recursion. Exit 0: report produced; 2: invalid input or too large."
    )
    parser.add_argument("instance", help="instance JSON file (pamdp/instance@1)")
    parser.add_argument("--json", action="store_true", help="print the pamdp/equilibria@1 document")
    add_output_argument(parser, "the pamdp/equilibria@1 document")
    parser.add_argument(
        "--margin",
        type=number_arg("margin", minimum=0, maximum=10**6),
        default=Fraction(0),
        metavar="XI",
        help="nudging margin ξ ≥ 0 of the minimal contracts (read exactly)",
    )
    parser.add_argument(
        "--principal-ties",
        choices=TIE_RULES,
        default="lowest_index",
        help="the principal's rule among exactly tied actions in the time-dependent recursion",
    )
    parser.add_argument(
        "--max-profiles",
        type=integer_arg(minimum=1, maximum=10**6),
        default=MAX_PROFILES,
        help="size limit: most candidate profiles (and mixed combinations) enumerated",
    )
    parser.add_argument(
        "--max-steps",
        type=integer_arg(minimum=1, maximum=100_000),
        default=MAX_STEPS,
        help="most steps of the time-dependent recursion",
    )
    parser.add_argument(
        "--max-period",
        type=integer_arg(minimum=1, maximum=1000),
        default=MAX_PERIOD,
        help="longest period of the time-dependent recursion tried",
    )
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed search")
    parser.add_argument(
        "--no-time-dependent", action="store_true", help="skip the time-dependent search"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``pamdp equilibria``; return the exit code (0 report produced, 2 invalid input)."""
    from solvers.equilibria import EquilibriaTooLarge, equilibria
    from theory.ties import EXACT_TIES

    check_output(args.output)
    model = load_instance_arg(args.instance)
    try:
        ties = EXACT_TIES.with_(margin=args.margin, principal_rule=args.principal_ties)
        report = equilibria(
            model,
            ties=ties,
            mixed=not args.no_mixed,
            periodic=not args.no_time_dependent,
            max_profiles=args.max_profiles,
            max_steps=args.max_steps,
            max_period=args.max_period,
        )
    except EquilibriaTooLarge as error:
        raise InvalidInput(f"{args.instance}: too large for `pamdp equilibria`: {error}") from None
    document = report.to_document()
    if args.json:
        write_json_document(document, "-")
    else:
        print(text_report(report))
    if args.output and not (args.json and args.output == "-"):
        write_json_document(document, args.output)
        if args.output != "-":
            print(
                f"\nreport written to {args.output}", file=sys.stderr if args.json else sys.stdout
            )
    return EXIT_OK


def _r(value: Fraction | None) -> str:
    from theory.rational import format_rational

    return format_rational(value)


def _contract(outcomes: Any, contract: Any) -> str:
    return "(" + ", ".join(f"{outcomes[o]}: {_r(x)}" for o, x in enumerate(contract)) + ")"


def text_report(report: Any) -> str:
    """The report for people: every class searched, what was found, and the certificates."""
    m = report.model
    names, acts, outs = m.states, m.actions, m.outcomes
    gamma = m.exact_data().discount
    searched = report.searched
    pure = searched["pure_stationary"]
    lines = [
        f"instance   : {m.name or '(unnamed)'}",
        f"size       : {m.n_states} states, {m.n_actions} actions, {m.n_outcomes} outcomes, "
        f"γ = {_r(Fraction(gamma))}; initial state {names[m.initial_state]}",
        f"arithmetic : exact (tolerance 0), margin ξ = {_r(report.ties.margin)}",
        "",
        f"PURE STATIONARY: {pure['candidates']} candidate profiles of {pure['profiles']} "
        f"({pure['pruned']} pruned: a recommendation no contract implements)",
    ]
    spes = report.pure_spes
    lines.append(f"  pure stationary SPEs: {len(spes)}")
    for k, r in enumerate(spes, 1):
        profile = ", ".join(
            f"{names[s]} → {acts[a]}" for s, a in enumerate(r.fixed_point.recommended)
        )
        lines.append(f"  SPE {k}: {profile}")
        for s in range(m.n_states):
            lines.append(
                f"    {names[s]:<8} {'reachable' if r.reachable[s] else 'unreachable':<12}"
                f"contract {_contract(outs, r.fixed_point.contracts[s])}  "
                f"V^p = {_r(r.principal_values[s])}  V^a = {_r(r.agent_values[s])}"
            )
    for pair in report.pareto():
        lines.append(
            f"  SPE {pair['first'] + 1} vs SPE {pair['second'] + 1}: at "
            f"{names[m.initial_state]} {_pareto_text(pair['at_initial_state'], pair)}; over "
            f"the reachable states {_pareto_text(pair['over_reachable_states'], pair)}; over all "
            f"states {_pareto_text(pair['over_all_states'], pair)}"
            + (
                " (they differ only off the reachable set)"
                if pair["differ_only_off_the_reachable_set"]
                else ""
            )
        )
    rejected = [r for r in report.pure if not r.is_spe]
    if rejected:
        lines.append(
            "  not SPEs (each with its profitable one-shot deviation):"
            if spes
            else "  none: every candidate has a profitable one-shot deviation (the certificate):"
        )
    for r in rejected:
        profile = ", ".join(
            f"{names[s]} → {acts[a]}" for s, a in enumerate(r.fixed_point.recommended)
        )
        for dev in r.deviations or ():
            lines.append(
                f"    {profile}: at {dev.state_name} recommending {dev.action} gains {_r(dev.gain)}"
            )
        if not r.deviations:
            lines.append(f"    {profile}: " + "; ".join(v.message for v in r.check.violations))
    lines.append("")
    mixed = searched["mixed_stationary"]
    if mixed is None:
        lines.append("MIXED STATIONARY: not searched")
    else:
        lines.append(
            f"MIXED STATIONARY (one mixing state, support size 2, minimal contracts; "
            f"{mixed['combinations']} combinations, {mixed['regimes_solved']} regimes solved): "
            f"{len(report.mixed)} found"
        )
        for e in report.mixed:
            a, b = e.support
            rest = ", ".join(
                f"{names[s]} → {acts[x]}" for s, x in enumerate(e.profile) if s != e.state
            )
            lines.append(
                f"  at {names[e.state]}: {acts[a]} with probability {e.probability_text}, "
                f"{acts[b]} with probability {e.complement_text}"
                + (f"; elsewhere {rest}" if rest else "")
                + ("" if e.exact else " (irrational: checked at a rational within 1e-40)")
            )
            lines.append(
                f"    contracts at {names[e.state]}: {acts[a]} "
                f"{_contract(outs, e.contracts[e.state][0])}, {acts[b]} "
                f"{_contract(outs, e.contracts[e.state][1])}"
            )
            for s in range(m.n_states):
                lines.append(
                    f"    {names[s]:<8} {'reachable' if e.reachable[s] else 'unreachable':<12}"
                    f"V^p = {_r(e.principal_values[s])}  V^a = {_r(e.agent_values[s])}"
                )
    lines.append(
        f"  searched: {mixed['supports'] if mixed else '—'}; not searched: "
        f"{mixed['not_searched'] if mixed else '—'}"
    )
    lines.append("")
    t = report.time_dependent
    if t is None:
        lines.append("TIME-DEPENDENT: not searched")
    elif not t.found:
        lines.append(
            f"TIME-DEPENDENT (finite-horizon recursion from zero values): no periodic SPE "
            f"found within {t.steps} steps and period ≤ {searched['time_dependent']['max_period']}"
        )
    else:
        lines.append(
            f"TIME-DEPENDENT (finite-horizon recursion from zero values): period {t.period} "
            f"after {t.steps} steps, "
            + ("every choice strict" if t.strict else "some choices are principal ties")
            + "; the exact orbit is an SPE of the discounted game"
        )
        for k in range(t.period or 0):
            moves = ", ".join(f"{names[s]} → {acts[a]}" for s, a in enumerate(t.actions[k]))
            lines.append(f"  t ≡ {k} (mod {t.period}): {moves}")
            for s in range(m.n_states):
                lines.append(
                    f"    {names[s]:<8} contract {_contract(outs, t.contracts[k][s])}  "
                    f"V^p = {_r(t.principal_values[k][s])}  V^a = {_r(t.agent_values[k][s])}"
                )
    return "\n".join(lines)


def _pareto_text(verdict: str, pair: dict[str, Any]) -> str:
    if verdict == "first":
        return f"SPE {pair['first'] + 1} Pareto-dominates"
    if verdict == "second":
        return f"SPE {pair['second'] + 1} Pareto-dominates"
    return verdict
