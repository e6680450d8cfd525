"""Verify a principal policy against ground truth, exactly (PAPER.md §1–2; issue 4).

Given an instance and a principal policy — a recommended action ``a^p(s)`` and a contract
``b_s`` in every state, e.g. a FORMAT.md v1 solution file or a policy read off a network —
everything is recomputed from the instance and the policy alone, in rational arithmetic
(values written in the solution are claims to check, never inputs):

1. **The agent's behaviour.** :func:`theory.exact_evaluation.evaluate_policy_exact` solves the
   agent's MDP given ρ exactly and gives its truncated Q-values ``Q̄*(s, ·)`` (PAPER.md §1), the
   action ``π(s)`` it takes (ties to the recommendation), and both parties' values
   ``V^p(s)``, ``V^a(s)``.
2. **Per state** ``s`` (every state, on and off the path: subgame perfection, PAPER.md §2):
   the violations ``not_followed``, ``negative_payment``, ``overpayment``,
   ``principal_deviation`` and ``claimed_value``, from the one SPE checker
   :func:`theory.spe.check_spe`, whose docstring defines each kind, proves that *no violation
   ⇔ SPE* (one-shot deviation principle) and states the tolerances (``ties.agent_tol``,
   ``ties.principal_tol``, default 10⁻⁹; :data:`theory.ties.EXACT_TIES` is the strict exact
   check) and the declared nudging margin ξ (``ties.margin``: overpayment is measured against
   the ξ-nudged minimal contract, and the extra cost of nudging is reported per state).
3. **Utilities** ``V^p(s0)``, ``V^a(s0)``, their ratio to and gap from a reference SPE from
   :func:`solvers.solve.solve` with the same tie rule: exact backward induction for episodic
   instances, the meta-algorithm (floats) for discounted ones. An SPE need not be unique
   (docs/THEOREMS.md), so a non-zero gap is information, not a violation. The gap is
   *reference minus policy*: positive when the policy earns less than the reference SPE.
4. **A learned policy next to the SPE** (issue 12): the share of states where the policy
   recommends the reference's action (all states, on-path states, weighted by the discounted
   occupancy), the states where the agent deviates with the principal's shortfall there, and
   — with a declared margin ξ — the payments above the minimal contract within the margin,
   reported as *nudge* rather than overpayment.

Negative payments are reported as violations rather than rejected as malformed input:
:func:`parse_solution` reads them (everything else is validated by
:func:`theory.format.solution_from_dict`).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from solvers.solve import solve
from theory.exact_evaluation import ExactPolicyData
from theory.format import SolutionDocument, SolutionError, solution_from_dict
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import exact_string as _exact_str
from theory.rational import format_rational as _fmt
from theory.rational import short_rational as _short
from theory.spe import (
    CLAIMED_VALUE,
    OVERPAYMENT,
    VIOLATION_KINDS,
    StateCheck,
    Violation,
    check_spe,
)
from theory.ties import DEFAULT_TIES, Ties

__all__ = [
    "DEFAULT_TOLERANCE",
    "VIOLATION_KINDS",
    "ReferenceValues",
    "StateCheck",
    "VerificationReport",
    "Violation",
    "parse_solution",
    "reference_values",
    "verify_files",
    "verify_policy",
    "verify_solution",
]

#: ``progress(label)``: a context manager around one long step (``pamdp.solve.Progress.phase``).
Progress = Callable[[str], AbstractContextManager[Any]]


def _no_progress(label: str) -> AbstractContextManager[Any]:
    return contextlib.nullcontext()


#: Default absolute tolerance: float solutions are accepted when they miss by at most this
#: (the default :class:`~theory.ties.Ties`' agent and principal tolerances).
DEFAULT_TOLERANCE = DEFAULT_TIES.agent_tol


# --------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class ReferenceValues:
    """A reference SPE's utilities at the initial state, for the gap.

    Attributes
    ----------
    principal, agent : ``V^p(s0)`` and ``V^a(s0)`` of the reference (exact Fractions when
        ``exact``, else the floats read exactly).
    method : how the reference was computed.
    exact : whether it is exact.
    note : caveats (e.g. the meta-algorithm did not converge); ``""`` if none.
    recommended, principal_values : the reference's recommendation and ``V^p`` in every state
        (for the per-state comparison of a learned policy), None when unknown.
    """

    principal: Fraction
    agent: Fraction
    method: str
    exact: bool
    note: str = ""
    recommended: tuple[int, ...] | None = None
    principal_values: tuple[Fraction, ...] | None = None


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a principal policy (module docstring).

    Attributes
    ----------
    instance_name : the instance's name.
    n_states, n_actions, n_outcomes : sizes.
    discount : γ.
    observed_action : whether outcomes are the actions.
    tolerance : τ.
    states : one :class:`StateCheck` per state, in state order.
    principal_utility, agent_utility : ``V^p(s0)``, ``V^a(s0)`` (true, exact).
    claimed_principal_utility, claimed_agent_utility : the solution's top-level claims.
    top_violations : violations of the top-level claims.
    reference : the reference SPE (None when not computed or unavailable).
    warnings : remarks that are not violations (e.g. the solution names another instance).
    actions : the action names.
    seconds : wall time of the verification.
    ties : the tolerances and the declared nudging margin ξ.
    visits : per state, the discounted occupancy ``Σ_t γ^t Pr(s_t = s)`` from the initial state
        under the agent's actual behaviour (episodic γ = 1: the expected number of visits),
        in floats; the weights of :meth:`visit_weighted_accuracy`.
    """

    instance_name: str
    n_states: int
    n_actions: int
    n_outcomes: int
    discount: Fraction
    observed_action: bool
    initial_state: int
    tolerance: Fraction
    states: tuple[StateCheck, ...]
    principal_utility: Fraction
    agent_utility: Fraction
    claimed_principal_utility: Fraction | None = None
    claimed_agent_utility: Fraction | None = None
    top_violations: tuple[Violation, ...] = ()
    reference: ReferenceValues | None = None
    warnings: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    seconds: float = field(default=0.0, compare=False)
    ties: Ties = DEFAULT_TIES
    visits: tuple[float, ...] = ()

    def action_name(self, action: int) -> str:
        """An action's name (its index if the names are unknown; "—" for none)."""
        if action < 0:
            return "—"
        return self.actions[action] if action < len(self.actions) else str(action)

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Every violation: per state in state order, then the top-level claims."""
        return tuple(v for check in self.states for v in check.violations) + self.top_violations

    @property
    def ok(self) -> bool:
        """True iff the policy is an SPE within the tolerance and every claim holds."""
        return not self.violations

    @property
    def principal_gap(self) -> Fraction | None:
        """Reference SPE principal utility minus this policy's (may be negative: PAPER.md §2)."""
        return None if self.reference is None else self.reference.principal - self.principal_utility

    @property
    def agent_gap(self) -> Fraction | None:
        """Reference SPE agent utility minus this policy's."""
        return None if self.reference is None else self.reference.agent - self.agent_utility

    def violating_states(self) -> tuple[int, ...]:
        return tuple(check.state for check in self.states if check.violations)

    def counts(self) -> dict[str, int]:
        """Number of violations of each kind."""
        out = dict.fromkeys(VIOLATION_KINDS, 0)
        for v in self.violations:
            out[v.kind] += 1
        return out

    # ----------------------------------------------------- a learned policy vs the SPE
    @property
    def principal_ratio(self) -> Fraction | None:
        """``V^p(s0) ÷ V^p_SPE(s0)`` (None without a reference or when it is 0)."""
        ref = self.reference
        return None if ref is None or ref.principal == 0 else self.principal_utility / ref.principal

    @property
    def agent_ratio(self) -> Fraction | None:
        """``V^a(s0) ÷ V^a_SPE(s0)`` (None without a reference or when it is 0)."""
        ref = self.reference
        return None if ref is None or ref.agent == 0 else self.agent_utility / ref.agent

    def matches(self) -> list[bool] | None:
        """Per state: does the policy recommend the reference SPE's action? (None: unknown.)"""
        ref = None if self.reference is None else self.reference.recommended
        if ref is None:
            return None
        return [c.recommended == ref[c.state] for c in self.states]

    def accuracy(self, *, on_path: bool = False) -> tuple[int, int] | None:
        """(states recommending the reference SPE's action, states), over every state or only
        those on the path. The SPE need not be unique, so a mismatch is information."""
        matches = self.matches()
        if matches is None:
            return None
        kept = [m for m, c in zip(matches, self.states, strict=True) if c.on_path or not on_path]
        return sum(kept), len(kept)

    def visit_weighted_accuracy(self) -> float | None:
        """``Σ_s visits(s) [match(s)] ÷ Σ_s visits(s)`` (:attr:`visits`)."""
        matches = self.matches()
        if matches is None or not self.visits or sum(self.visits) <= 0:
            return None
        return sum(w for w, m in zip(self.visits, matches, strict=True) if m) / sum(self.visits)

    def deviations(self) -> list[tuple[StateCheck, Fraction | None]]:
        """States where the agent does not take the recommended action, each with the
        principal's shortfall there (reference ``V^p(s)`` minus the policy's; None if unknown).
        The agent's own gain from deviating is ``StateCheck.follow_deficit``."""
        ref = None if self.reference is None else self.reference.principal_values
        return [
            (c, None if ref is None else ref[c.state] - c.principal_value)
            for c in self.states
            if c.recommended >= 0 and c.agent_action != c.recommended
        ]

    def nudge_paid(self, check: StateCheck) -> Fraction | None:
        """What the state pays above the unnudged minimal contract, when that is within the
        declared margin ξ (a *nudge*, not a violation); None otherwise."""
        if check.nudge is None or check.overpayment is None or check.minimal_payment is None:
            return None
        above = check.overpayment + check.nudge
        if above <= 0 or check.overpayment > self.ties.principal_tol:
            return None
        return min(above, check.nudge)

    # ------------------------------------------------------------------------ rendering
    def summary(self, *, max_states: int = 30, max_violations: int = 50) -> str:
        """A readable report: verdict, utilities and gap, violations, a per-state table."""
        lines = [
            f"pamdp verify: {self.instance_name or '(unnamed instance)'}",
            f"  instance    : {_n(self.n_states, 'state')}, {_n(self.n_actions, 'action')}, "
            f"{_n(self.n_outcomes, 'outcome')}, γ = {_fmt(self.discount)}, "
            + ("observed action" if self.observed_action else "hidden action"),
            f"  tolerance   : {_fmt(self.tolerance)} (absolute; arithmetic exact)",
        ]
        violations = self.violations
        if self.ok:
            lines.append("  verdict     : OK — an SPE within tolerance; every claim holds")
        else:
            n_bad = len(self.violating_states())
            kinds = ", ".join(f"{k} ×{n}" for k, n in self.counts().items() if n)
            lines.append(
                f"  verdict     : NOT an SPE — {_n(len(violations), 'violation')} in "
                f"{n_bad} of {_n(self.n_states, 'state')}"
                + (" and the top-level claims" if self.top_violations else "")
                + f" ({kinds})"
            )
        lines.append(
            f"  principal   : V^p(s0) = {_fmt(self.principal_utility)}"
            + _gap_text(self.principal_gap, self.reference, "principal")
        )
        lines.append(
            f"  agent       : V^a(s0) = {_fmt(self.agent_utility)}"
            + _gap_text(self.agent_gap, self.reference, "agent")
        )
        if self.reference is not None:
            lines.append(
                f"  reference   : {self.reference.method}"
                + (f" ({self.reference.note})" if self.reference.note else "")
            )
            lines.append(
                "  gap         : reference minus policy (positive: the policy earns less than the "
                "reference SPE)"
            )
        lines.extend(_learned_lines(self))
        for warning in self.warnings:
            lines.append(f"  warning     : {warning}")
        if violations:
            lines.append("")
            lines.append("violations")
            for v in violations[:max_violations]:
                lines.append(f"  - [{v.kind}] {v.message}")
            if len(violations) > max_violations:
                lines.append(
                    f"  … and {len(violations) - max_violations} more (use --json for all)"
                )
            tiny = [v for v in violations if v.amount <= Fraction(1, 10**6)]
            if tiny and self.tolerance < Fraction(1, 10**6):
                lines.append(
                    f"  ({len(tiny)} of these are below 1e-6, e.g. "
                    f"{_fmt(tiny[0].amount)}: float rounding? For a float solver use "
                    "a larger --tolerance such as 1e-9; larger violations may be their "
                    "consequences, since an agent that deviates changes the values "
                    "upstream)"
                )
        lines.append("")
        shown = list(self.states)
        if len(shown) > max_states:
            bad = [c for c in shown if c.violations]
            shown = (bad + [c for c in shown if not c.violations])[:max_states]
            shown.sort(key=lambda c: c.state)
            lines.append(
                f"per state (showing {len(shown)} of {self.n_states}, violating states first)"
            )
        else:
            lines.append("per state")
        ref_rec = None if self.reference is None else self.reference.recommended
        lines.append(
            f"  {'state':<10} {'rec':>5} {'SPE':>5} {'agent':>5} {'path':>4} {'E[pay]':>11} "
            f"{'minimal':>11} {'nudge':>9} {'V^p':>11} {'V^a':>11} {'dev.gain':>11}  ok"
        )
        for c in shown:
            nudge = self.nudge_paid(c)
            lines.append(
                f"  {c.name:<10} {self.action_name(c.recommended):>5} "
                f"{'?' if ref_rec is None else self.action_name(ref_rec[c.state]):>5} "
                f"{self.action_name(c.agent_action):>5} "
                f"{'yes' if c.on_path else 'no':>4} {_short(c.expected_payment):>11} "
                f"{_short(c.minimal_payment):>11} {'' if nudge is None else _short(nudge):>9} "
                f"{_short(c.principal_value):>11} "
                f"{_short(c.agent_value):>11} {_short(c.deviation_gain):>11}  "
                + ("yes" if c.ok else "NO")
            )
        if self.ties.margin:
            lines.append(
                f"  (minimal: the ξ-nudged minimal contract, ξ = {_fmt(self.ties.margin)}; nudge: "
                "paid above the unnudged minimal contract, within the margin)"
            )
        lines.append(f"\n(verified in {self.seconds:.3f} s)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (``"format": "pamdp/verification@2"``): every number as
        ``{"exact": "p/q", "float": x}`` (:func:`_num`); ``gap_convention`` states the sign of
        the gaps (reference minus policy)."""
        ref = self.reference
        ref_rec = None if ref is None else ref.recommended
        accuracy, on_path = self.accuracy(), self.accuracy(on_path=True)
        return {
            "format": "pamdp/verification@2",
            "instance": self.instance_name,
            "ok": self.ok,
            "tolerance": _num(self.tolerance),
            "margin": _num(self.ties.margin),
            "principal_utility": _num(self.principal_utility),
            "agent_utility": _num(self.agent_utility),
            "reference": None
            if ref is None
            else {
                "principal": _num(ref.principal),
                "agent": _num(ref.agent),
                "method": ref.method,
                "exact": ref.exact,
                "note": ref.note,
            },
            "gap_convention": "reference minus policy: positive when the policy earns less "
            "than the reference SPE",
            "principal_gap": _num(self.principal_gap),
            "agent_gap": _num(self.agent_gap),
            "principal_ratio": _num(self.principal_ratio),
            "agent_ratio": _num(self.agent_ratio),
            "accuracy": None if accuracy is None else {"match": accuracy[0], "states": accuracy[1]},
            "accuracy_on_path": None
            if on_path is None
            else {"match": on_path[0], "states": on_path[1]},
            "visit_weighted_accuracy": self.visit_weighted_accuracy(),
            "deviations": [
                {
                    "state": c.name,
                    "recommended": self.action_name(c.recommended),
                    "agent_action": self.action_name(c.agent_action),
                    "agent_gain": _num(c.follow_deficit),
                    "principal_shortfall": _num(shortfall),
                }
                for c, shortfall in self.deviations()
            ],
            "counts": self.counts(),
            "violations": [{**v.to_dict(), "amount": _num(v.amount)} for v in self.violations],
            "warnings": list(self.warnings),
            "states": [
                {
                    "state": c.name,
                    "index": c.state,
                    "recommended": self.action_name(c.recommended) if c.recommended >= 0 else None,
                    "spe_recommended": None
                    if ref_rec is None
                    else self.action_name(ref_rec[c.state]),
                    "agent_action": self.action_name(c.agent_action),
                    "on_path": c.on_path,
                    "visits": self.visits[c.state] if self.visits else None,
                    "contract": [_num(x) for x in c.contract],
                    "expected_payment": _num(c.expected_payment),
                    "follow_deficit": _num(c.follow_deficit),
                    "minimal_payment": _num(c.minimal_payment),
                    "overpayment": _num(c.overpayment),
                    "nudge": _num(self.nudge_paid(c)),
                    "best_action": self.action_name(c.best_action),
                    "deviation_gain": _num(c.deviation_gain),
                    "principal_value": _num(c.principal_value),
                    "agent_value": _num(c.agent_value),
                    "ok": c.ok,
                }
                for c in self.states
            ],
            "seconds": self.seconds,
        }


def _n(count: int, noun: str) -> str:
    """``"1 state"``, ``"2 states"``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _num(value: Fraction | None) -> dict[str, Any] | None:
    """A number in the JSON report: ``{"exact": "p/q", "float": ...}`` (None stays None)."""
    return None if value is None else {"exact": _exact_str(value), "float": float(value)}


def _share(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "?"
    hit, total = pair
    return f"{hit} of {_n(total, 'state')}" + (f" ({100 * hit / total:.0f}%)" if total else "")


def _learned_lines(report: VerificationReport) -> list[str]:
    """The learned-policy comparison of :meth:`VerificationReport.summary`."""
    lines = []
    if report.reference is not None:
        ratios = [
            f"{who} ÷ SPE = {'—' if r is None else f'{float(r):.6g}'}"
            for who, r in (("V^p", report.principal_ratio), ("V^a", report.agent_ratio))
        ]
        lines.append("  ratio       : " + ", ".join(ratios))
    if report.matches() is not None:
        weighted = report.visit_weighted_accuracy()
        lines.append(
            f"  accuracy    : the reference SPE's action in {_share(report.accuracy())}; on the "
            f"path {_share(report.accuracy(on_path=True))}; visit-weighted "
            + ("—" if weighted is None else f"{100 * weighted:.1f}%")
        )
    deviations = report.deviations()
    if deviations:
        parts = []
        for c, shortfall in deviations[:10]:
            parts.append(
                f"{c.name} (recommended {report.action_name(c.recommended)}, takes "
                f"{report.action_name(c.agent_action)}, which it prefers by "
                f"{_fmt(c.follow_deficit)}"
                + ("" if shortfall is None else f"; principal short by {_fmt(shortfall)}")
                + ")"
            )
        more = f" and {len(deviations) - 10} more" if len(deviations) > 10 else ""
        lines.append(
            f"  deviations  : the agent deviates in {_n(len(deviations), 'state')}: "
            + "; ".join(parts)
            + more
        )
    nudged = [(c, x) for c in report.states if (x := report.nudge_paid(c)) is not None]
    if nudged:
        lines.append(
            f"  nudge       : {_n(len(nudged), 'state')} pay above the minimal contract within "
            f"the declared margin ξ = {_fmt(report.ties.margin)} (at most "
            f"{_fmt(max(x for _, x in nudged))} in expectation): reported, not violations"
        )
    elif not report.ties.margin and report.counts()[OVERPAYMENT]:
        lines.append(
            "  nudge       : none declared; if the overpayments are deliberate nudges, declare "
            "the margin with --margin ξ"
        )
    return lines


def _gap_text(gap: Fraction | None, reference: ReferenceValues | None, who: str) -> str:
    if gap is None or reference is None:
        return ""
    value = reference.principal if who == "principal" else reference.agent
    return f"; reference SPE {_fmt(value)}; gap {_fmt(gap)}"


# ------------------------------------------------------------------------ verification
def _with_exact(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """The model carrying its exact view, so it is built once for every exact computation."""
    return model if model.exact is not None else replace(model, exact=model.exact_data())


def reference_values(model: PrincipalAgentMDP, ties: Ties = DEFAULT_TIES) -> ReferenceValues:
    """A reference SPE's utilities at the initial state (module docstring, item 3), from
    :func:`solvers.solve.solve` with the same ``ties``.

    Episodic: exact backward induction. Discounted: the meta-algorithm in floats (an SPE need
    not be unique there, PAPER.md §3).
    """
    s0 = model.initial_state
    result = solve(model, exact=model.is_episodic, ties=ties)
    spe = result.solution
    recommended = tuple(int(a) for a in spe.recommended)
    if result.exact:
        return ReferenceValues(
            spe.principal_values[s0],
            spe.agent_values[s0],
            f"exact backward induction, principal ties: {ties.principal_rule}",
            True,
            recommended=recommended,
            principal_values=tuple(spe.principal_values),
        )
    note = "" if result.converged else result.status()
    return ReferenceValues(
        to_fraction(float(spe.principal_values[s0])),
        to_fraction(float(spe.agent_values[s0])),
        f"meta-algorithm (floats, {result.iterations} iterations)",
        False,
        note,
        recommended=recommended,
        principal_values=tuple(to_fraction(float(v)) for v in spe.principal_values),
    )


def verify_policy(
    model: PrincipalAgentMDP,
    recommended: Any,
    contracts: Any,
    *,
    principal_values: Any = None,
    agent_values: Any = None,
    claimed_principal_utility: Any = None,
    claimed_agent_utility: Any = None,
    ties: Ties = DEFAULT_TIES,
    reference: bool | ReferenceValues = True,
    warnings: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> VerificationReport:
    """Verify a principal policy exactly (module docstring).

    The per-state verdicts come from the one SPE checker, :func:`theory.spe.check_spe`; this
    function adds the top-level claims, the reference SPE and the report.

    Parameters
    ----------
    model : the instance (its exact view is used).
    recommended : (S,) recommended action per state (−1 = none: the follow and overpayment
        checks are skipped there).
    contracts : (S, O) payments, read exactly (Fractions, ints, strings, floats as their
        shortest decimals); negative entries are reported, not rejected.
    principal_values, agent_values : optional (S,) claimed values (entries may be None).
    claimed_principal_utility, claimed_agent_utility : optional claims at the initial state.
    ties : tolerances τ (``agent_tol``, ``principal_tol``; default 1e-9, ``EXACT_TIES`` for a
        strict exact check), the declared nudging margin ξ, and the reference's tie rule.
    reference : compute the reference SPE for the gap (True), skip it (False), or use the
        given :class:`ReferenceValues`.
    warnings : remarks to carry into the report.
    progress : optional ``progress(label)`` returning a context manager around each long step
        (the exact SPE check, the reference SPE), e.g. ``pamdp.solve.Progress.phase``.

    Returns
    -------
    VerificationReport
        ``report.ok`` is True iff the policy is an SPE within τ and every claim holds.

    Raises
    ------
    ValueError
        A malformed policy or claim (naming the field, index and value).
    """
    start = time.perf_counter()
    model = _with_exact(model)
    phase = progress if progress is not None else _no_progress
    data = ExactPolicyData(model)
    with phase(f"exact SPE check ({data.n_states} states)"):
        check = check_spe(
            model,
            recommended,
            contracts,
            ties=ties,
            principal_values=principal_values,
            agent_values=agent_values,
            data=data,
        )
    v_p = check.evaluation.principal_values
    v_a = check.evaluation.agent_values
    s0 = model.initial_state
    tau = ties.agent_tol
    top: list[Violation] = []
    claimed_p = _claim("principal_value", claimed_principal_utility)
    claimed_a = _claim("agent_value", claimed_agent_utility)
    for label, claim, true, tol in (
        ("principal_value", claimed_p, v_p[s0], ties.principal_tol),
        ("agent_value", claimed_a, v_a[s0], tau),
    ):
        if claim is not None and abs(claim - true) > tol:
            top.append(
                Violation(
                    CLAIMED_VALUE,
                    None,
                    "",
                    abs(claim - true),
                    f"top-level {label}: claimed {_fmt(claim)} but the true value at the initial "
                    f"state {model.states[s0]} is {_fmt(true)} (off by {_fmt(abs(claim - true))})",
                )
            )
    ref: ReferenceValues | None
    if isinstance(reference, ReferenceValues):
        ref = reference
    elif reference:
        with phase("reference SPE (for the utility gap)"):
            ref = reference_values(model, ties.with_(margin=0))
    else:
        ref = None
    return VerificationReport(
        visits=_visits(data, check.evaluation.agent_actions.tolist(), s0),
        instance_name=model.name,
        n_states=data.n_states,
        n_actions=data.n_actions,
        n_outcomes=data.n_outcomes,
        discount=data.gamma,
        observed_action=model.observed_action,
        initial_state=s0,
        tolerance=tau,
        states=check.states,
        principal_utility=v_p[s0],
        agent_utility=v_a[s0],
        claimed_principal_utility=claimed_p,
        claimed_agent_utility=claimed_a,
        top_violations=tuple(top),
        reference=ref,
        warnings=tuple(warnings),
        actions=model.actions,
        seconds=time.perf_counter() - start,
        ties=ties,
    )


def _visits(data: ExactPolicyData, actions: list[int], start: int) -> tuple[float, ...]:
    """The discounted occupancy ``x = e_{s0} + γ Pᵀ x`` of the states under the agent's actions
    (:attr:`VerificationReport.visits`), in floats; ``()`` if the system is singular.

    ``P`` is sparse (one row per state, its successors), so the system is solved sparsely:
    a dense ``n × n`` matrix would need 32 GiB at 65,535 states."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    n = data.n_states
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for s in range(n):
        for o, p_o in enumerate(data.probs[s][actions[s]]):
            if not p_o:
                continue
            for t, p in data.successors[s][o]:
                rows.append(s)
                cols.append(t)
                vals.append(float(p_o) * float(p))
    transition = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))  # duplicates are summed
    rhs = np.zeros(n)
    rhs[start] = 1.0
    system = (sp.identity(n, format="csc") - float(data.gamma) * transition.T).tocsc()
    with np.errstate(all="ignore"):
        try:
            x = spla.spsolve(system, rhs)
        except (RuntimeError, ValueError):
            return ()
    if not np.all(np.isfinite(x)):
        return ()
    return tuple(float(v) for v in x)


def _claim(label: str, value: Any) -> Fraction | None:
    if value is None:
        return None
    try:
        return to_fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"{label}: not a finite number (value: {value!r})") from None


# ------------------------------------------------------------------------- documents
def parse_solution(
    data: Any, model: PrincipalAgentMDP, *, allow_name_mismatch: bool = False
) -> SolutionDocument:
    """Parse a FORMAT.md v1 solution like :func:`theory.format.solution_from_dict`, except that
    negative payments are kept (so that :func:`verify_solution` reports them as violations).

    Raises
    ------
    theory.format.SolutionError
        Any other malformed field, naming the field, the index and the value.
    """
    negatives: dict[tuple[int, int], Fraction] = {}
    clean = data
    if isinstance(data, dict) and isinstance(data.get("policy"), list):
        clean = copy.copy(data)
        clean["policy"] = list(data["policy"])
        for s, item in enumerate(data["policy"]):
            if not isinstance(item, dict) or not isinstance(item.get("contract"), list):
                continue
            contract = list(item["contract"])
            for o, value in enumerate(contract):
                if isinstance(value, bool) or not isinstance(value, int | float | str | Fraction):
                    continue
                try:
                    number = to_fraction(value)
                except (TypeError, ValueError, ZeroDivisionError):
                    continue
                if number < 0:
                    negatives[(s, o)] = number
                    contract[o] = 0
            if any(key[0] == s for key in negatives):
                clean["policy"][s] = {**item, "contract": contract}
    document = solution_from_dict(clean, model, allow_name_mismatch=allow_name_mismatch)
    if not negatives:
        return document
    policy = list(document.policy)
    for (s, o), number in negatives.items():
        contract = list(policy[s].contract)
        contract[o] = number
        policy[s] = replace(policy[s], contract=tuple(contract))
    return replace(document, policy=tuple(policy))


def verify_solution(
    model: PrincipalAgentMDP,
    solution: SolutionDocument | dict[str, Any],
    *,
    ties: Ties = DEFAULT_TIES,
    reference: bool | ReferenceValues = True,
    allow_name_mismatch: bool = False,
    progress: Progress | None = None,
) -> VerificationReport:
    """Verify a FORMAT.md v1 solution (a parsed document or its JSON dict) against ``model``.

    A solution whose ``instance`` names another instance is refused unless
    ``allow_name_mismatch`` (then the report carries a warning): a file meant for another
    instance of the same shape would otherwise be judged silently. ``progress`` as in
    :func:`verify_policy`.

    Raises
    ------
    theory.format.SolutionError
        The document is malformed (other than negative payments, which are violations), or it
        names another instance.
    """
    document = (
        solution
        if isinstance(solution, SolutionDocument)
        else parse_solution(solution, model, allow_name_mismatch=allow_name_mismatch)
    )
    warnings = []
    if document.instance_name and model.name and document.instance_name != model.name:
        if not allow_name_mismatch:
            raise SolutionError(
                f"instance: the solution is for the instance {document.instance_name[:80]!r}, "
                f"but the instance file is {model.name[:80]!r} (pass --allow-name-mismatch to "
                "verify it anyway)"
            )
        warnings.append(
            f"the solution names the instance {document.instance_name!r}, the "
            f"instance file is {model.name!r}"
        )
    policy = document.policy
    contracts = np.empty((model.n_states, model.n_outcomes), dtype=object)
    for s, entry in enumerate(policy):
        for o, x in enumerate(entry.contract):
            contracts[s, o] = x
    return verify_policy(
        model,
        [entry.recommended_action for entry in policy],
        contracts,
        principal_values=[entry.principal_value for entry in policy],
        agent_values=[entry.agent_value for entry in policy],
        claimed_principal_utility=document.principal_value,
        claimed_agent_utility=document.agent_value,
        ties=ties,
        reference=reference,
        warnings=tuple(warnings),
        progress=progress,
    )


def verify_files(
    instance_path: Any,
    solution_path: Any,
    *,
    ties: Ties = DEFAULT_TIES,
    reference: bool = True,
) -> VerificationReport:
    """Load an instance and a solution file (FORMAT.md v1) and verify them.

    Raises
    ------
    theory.model.InstanceError
        The instance is malformed (or not valid JSON).
    theory.format.SolutionError
        The solution is malformed (or not valid JSON).
    OSError
        A file cannot be read.
    """
    import json

    from theory.format import DocumentError, load_instance, read_json

    model = load_instance(instance_path)
    try:
        data = read_json(solution_path)
    except DocumentError as error:  # binary, BOM, too deep, duplicate keys, ...
        raise SolutionError(f"{error.path or '<document>'}: {error.msg}") from None
    except json.JSONDecodeError as error:
        raise SolutionError(f"<document>: invalid JSON: {error}") from None
    return verify_solution(model, data, ties=ties, reference=reference)
