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

   * ``not_followed`` — the agent does not take ``a^p(s)``: its best alternative beats following
     by more than the tolerance, ``max_a Q*((s, b_s), a) − Q*((s, b_s), a^p) > τ``;
   * ``negative_payment`` — ``b_s(o) < −τ`` (limited liability, PAPER.md §1);
   * ``overpayment`` — the agent follows but ``E_{𝒪(s, a^p)}[b_s]`` exceeds the cost of the
     minimal implementation ``b*(s, a^p)`` under ``Q̄*(s, ·)`` by more than τ (the LP of
     PAPER.md §1, solved exactly by :mod:`theory.exact_contracts`);
   * ``principal_deviation`` — a one-shot deviation helps the principal: with continuation
     ``W(s, o) = r^p(s, o) + γ Σ_{s'} T(s, o)(s') V^p(s')``, recommending ``a`` with its minimal
     contract earns ``q(s, a) = Σ_o 𝒪(s, a)(o) W(s, o) − E[b*(s, a)]``, and
     ``max_a q(s, a) − V^p(s) > τ`` for some ``a`` other than a followed ``a^p`` (a gain from
     ``a^p`` itself is exactly the overpayment and is reported as such);
   * ``claimed_value`` — a ``principal_value`` / ``agent_value`` given in the solution differs
     from the true value by more than τ.

3. **Utilities** ``V^p(s0)``, ``V^a(s0)`` and their gap to a reference SPE: exact backward
   induction for episodic instances (:func:`solvers.backward_induction.solve_backward_induction`,
   principal ties to the lowest index), the meta-algorithm (floats) for discounted ones.

**Why this decides SPE.** The agent's strategy is its exact best response to ρ at every
``(s, b)``; the principal's problem given that strategy is an MDP whose action at ``s`` is a
contract, and the best contract that induces ``a`` is its minimal implementation (PAPER.md §1),
so ``max_a q(s, a)`` is the best one-step deviation. By the one-shot deviation principle
(backward induction when episodic; the policy-improvement theorem, Puterman 1994 Thm 6.2.6 /
§6.4, when γ < 1) ρ is optimal for the principal at every state iff no state has a one-step gain.
Hence: *no violation ⇔ (ρ, π) is an SPE* (within τ). An SPE need not be unique — principal ties
change the agent's rents upstream, and for γ < 1 rents couple states (PAPER.md §3) — so a
non-zero gap to the reference is information, not a violation.

**Tolerance.** τ (default :data:`DEFAULT_TOLERANCE` = 10⁻⁹, absolute) is how far a float
solution may miss: the agent follows when following costs it at most τ (its continuation is its
optimal value, see :mod:`theory.exact_evaluation`), and each violation is reported only when its
size exceeds τ. The arithmetic is always exact; ``tolerance=0`` is a strict exact check (then a
float contract that misses the indifference point by 10⁻¹⁷ is, correctly, not followed).

Negative payments are reported as violations rather than rejected as malformed input:
:func:`parse_solution` reads them (everything else is validated by
:func:`theory.format.solution_from_dict`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

import solvers.evaluation  # noqa: F401  (PolicyEvaluation; imported here, not in the timing)
from theory.exact_contracts import minimal_contract_exact
from theory.exact_evaluation import ExactPolicyData, evaluate_policy_exact
from theory.format import SolutionDocument, SolutionError, solution_from_dict
from theory.model import PrincipalAgentMDP, to_fraction

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

#: Default absolute tolerance: float solutions are accepted when they miss by at most this.
DEFAULT_TOLERANCE = Fraction(1, 10**9)

NOT_FOLLOWED = "not_followed"
NEGATIVE_PAYMENT = "negative_payment"
OVERPAYMENT = "overpayment"
PRINCIPAL_DEVIATION = "principal_deviation"
CLAIMED_VALUE = "claimed_value"
#: Every kind of violation, in the order they are listed per state.
VIOLATION_KINDS: tuple[str, ...] = (
    NOT_FOLLOWED,
    NEGATIVE_PAYMENT,
    OVERPAYMENT,
    PRINCIPAL_DEVIATION,
    CLAIMED_VALUE,
)

_ZERO = Fraction(0)


def _fmt(value: Fraction | None) -> str:
    """A rational for people: exact when short, else a 10-digit decimal."""
    if value is None:
        return "—"
    if value.denominator == 1:
        return str(value.numerator)
    if value.denominator <= 10**6 and abs(value.numerator) <= 10**9:
        return f"{value.numerator}/{value.denominator}"
    return f"{float(value):.10g}"


def _short(value: Fraction | None) -> str:
    """A rational in at most 11 characters: exact when it fits, else 6 significant digits."""
    if value is None:
        return "—"
    text = _fmt(value)
    return text if len(text) <= 11 else f"{float(value):.6g}"


def _exact_str(value: Fraction | None) -> str | None:
    if value is None:
        return None
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


# --------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Violation:
    """One failed check.

    Attributes
    ----------
    kind : one of :data:`VIOLATION_KINDS`.
    state : the state's index, or ``None`` for a claim about the initial state's utility.
    state_name : the state's name (``""`` when ``state`` is None).
    amount : the size of the violation (always > the tolerance).
    message : what is wrong, naming the state, the actions and the numbers.
    """

    kind: str
    state: int | None
    state_name: str
    amount: Fraction
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": self.state_name or None,
            "index": self.state,
            "amount": _exact_str(self.amount),
            "amount_float": float(self.amount),
            "message": self.message,
        }


@dataclass(frozen=True)
class StateCheck:
    """Everything verified in one state (module docstring, item 2).

    Attributes
    ----------
    state, name : index and name.
    recommended : ``a^p(s)`` (−1 = no recommendation).
    agent_action : the action the exact agent takes.
    on_path : whether the state is reached from the initial state with positive probability
        under the agent's actual behaviour.
    contract : the offered payments ``b_s(o)``.
    expected_payment : ``E_{𝒪(s, π(s))}[b_s]``, what the principal pays in expectation.
    follow_deficit : ``max_a Q*((s, b_s), a) − Q*((s, b_s), a^p) ≥ 0``: what following costs the
        agent (0 = it is among its best actions).
    minimal_payment : the cost of the minimal implementation of ``a^p`` under ``Q̄*(s, ·)``
        (``None``: no recommendation, or ``a^p`` cannot be implemented by any contract).
    overpayment : ``E_{𝒪(s, a^p)}[b_s] − minimal_payment`` when the agent follows, else None.
    best_action : the principal's best one-step action (``agent_action`` when no deviation
        gains anything).
    deviation_gain : ``max(0, max_a q(s, a) − V^p(s))``, the best one-shot deviation's gain.
    principal_value, agent_value : the true ``V^p(s)`` and ``V^a(s)``.
    claimed_principal_value, claimed_agent_value : the solution's claims (None if absent).
    violations : the failed checks of this state.
    """

    state: int
    name: str
    recommended: int
    agent_action: int
    on_path: bool
    contract: tuple[Fraction, ...]
    expected_payment: Fraction
    follow_deficit: Fraction
    minimal_payment: Fraction | None
    overpayment: Fraction | None
    best_action: int
    deviation_gain: Fraction
    principal_value: Fraction
    agent_value: Fraction
    claimed_principal_value: Fraction | None = None
    claimed_agent_value: Fraction | None = None
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


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
    """

    principal: Fraction
    agent: Fraction
    method: str
    exact: bool
    note: str = ""


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

    # ------------------------------------------------------------------------ rendering
    def summary(self, *, max_states: int = 30, max_violations: int = 50) -> str:
        """A readable report: verdict, utilities and gap, violations, a per-state table."""
        lines = [
            f"pamdp verify: {self.instance_name or '(unnamed instance)'}",
            f"  instance    : {self.n_states} states, {self.n_actions} actions, "
            f"{self.n_outcomes} outcomes, γ = {_fmt(self.discount)}, "
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
                f"  verdict     : NOT an SPE — {len(violations)} violation(s) in "
                f"{n_bad} of {self.n_states} state(s)"
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
        lines.append(
            f"  {'state':<10} {'rec':>5} {'agent':>5} {'path':>4} {'E[pay]':>11} "
            f"{'minimal':>11} {'V^p':>11} {'V^a':>11} {'dev.gain':>11}  ok"
        )
        for c in shown:
            lines.append(
                f"  {c.name:<10} {self.action_name(c.recommended):>5} "
                f"{self.action_name(c.agent_action):>5} "
                f"{'yes' if c.on_path else 'no':>4} {_short(c.expected_payment):>11} "
                f"{_short(c.minimal_payment):>11} {_short(c.principal_value):>11} "
                f"{_short(c.agent_value):>11} {_short(c.deviation_gain):>11}  "
                + ("yes" if c.ok else "NO")
            )
        lines.append(f"\n(verified in {self.seconds:.3f} s)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (``"format": "pamdp/verification@1"``); numbers are exact
        ``"p/q"`` strings, with ``*_float`` companions for the utilities."""
        ref = self.reference
        return {
            "format": "pamdp/verification@1",
            "instance": self.instance_name,
            "ok": self.ok,
            "tolerance": _exact_str(self.tolerance),
            "principal_utility": _exact_str(self.principal_utility),
            "agent_utility": _exact_str(self.agent_utility),
            "principal_utility_float": float(self.principal_utility),
            "agent_utility_float": float(self.agent_utility),
            "reference": None
            if ref is None
            else {
                "principal": _exact_str(ref.principal),
                "agent": _exact_str(ref.agent),
                "principal_float": float(ref.principal),
                "agent_float": float(ref.agent),
                "method": ref.method,
                "exact": ref.exact,
                "note": ref.note,
            },
            "principal_gap": _exact_str(self.principal_gap),
            "agent_gap": _exact_str(self.agent_gap),
            "counts": self.counts(),
            "violations": [v.to_dict() for v in self.violations],
            "warnings": list(self.warnings),
            "states": [
                {
                    "state": c.name,
                    "index": c.state,
                    "recommended": self.action_name(c.recommended) if c.recommended >= 0 else None,
                    "agent_action": self.action_name(c.agent_action),
                    "on_path": c.on_path,
                    "contract": [_exact_str(x) for x in c.contract],
                    "expected_payment": _exact_str(c.expected_payment),
                    "follow_deficit": _exact_str(c.follow_deficit),
                    "minimal_payment": _exact_str(c.minimal_payment),
                    "overpayment": _exact_str(c.overpayment),
                    "best_action": self.action_name(c.best_action),
                    "deviation_gain": _exact_str(c.deviation_gain),
                    "principal_value": _exact_str(c.principal_value),
                    "agent_value": _exact_str(c.agent_value),
                    "ok": c.ok,
                }
                for c in self.states
            ],
            "seconds": self.seconds,
        }


def _gap_text(gap: Fraction | None, reference: ReferenceValues | None, who: str) -> str:
    if gap is None or reference is None:
        return ""
    value = reference.principal if who == "principal" else reference.agent
    return f"; reference SPE {_fmt(value)}; gap {_fmt(gap)}"


# ------------------------------------------------------------------------ verification
def _with_exact(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """The model carrying its exact view, so it is built once for every exact computation."""
    return model if model.exact is not None else replace(model, exact=model.exact_data())


def reference_values(model: PrincipalAgentMDP) -> ReferenceValues:
    """A reference SPE's utilities at the initial state (module docstring, item 3).

    Episodic: exact backward induction (principal ties to the lowest index). Discounted: the
    meta-algorithm in floats (an SPE need not be unique there, PAPER.md §3).
    """
    s0 = model.initial_state
    if model.is_episodic:
        from solvers.backward_induction import solve_backward_induction

        spe = solve_backward_induction(model, exact=True)
        return ReferenceValues(
            spe.principal_values[s0],
            spe.agent_values[s0],
            "exact backward induction, principal ties to the lowest index",
            True,
        )
    from solvers.meta_algorithm import meta_algorithm

    result = meta_algorithm(model)
    note = "" if result.converged else f"did NOT converge in {result.iterations} iterations"
    return ReferenceValues(
        to_fraction(float(result.solution.principal_values[s0])),
        to_fraction(float(result.solution.agent_values[s0])),
        f"meta-algorithm (floats, {result.iterations} iterations)",
        False,
        note,
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
    tolerance: Any = DEFAULT_TOLERANCE,
    reference: bool | ReferenceValues = True,
    warnings: tuple[str, ...] = (),
) -> VerificationReport:
    """Verify a principal policy exactly (module docstring).

    Parameters
    ----------
    model : the instance (its exact view is used).
    recommended : (S,) recommended action per state (−1 = none: the follow and overpayment
        checks are skipped there).
    contracts : (S, O) payments, read exactly (Fractions, ints, strings, floats as their
        shortest decimals); negative entries are reported, not rejected.
    principal_values, agent_values : optional (S,) claimed values (entries may be None).
    claimed_principal_utility, claimed_agent_utility : optional claims at the initial state.
    tolerance : τ ≥ 0 (default :data:`DEFAULT_TOLERANCE`); 0 = strict exact check.
    reference : compute the reference SPE for the gap (True), skip it (False), or use the
        given :class:`ReferenceValues`.
    warnings : remarks to carry into the report.

    Returns
    -------
    VerificationReport
        ``report.ok`` is True iff the policy is an SPE within τ and every claim holds.

    Raises
    ------
    ValueError
        A malformed policy or claim (naming the field, index and value) or a negative τ.
    """
    start = time.perf_counter()
    tau = to_fraction(tolerance)
    if tau < 0:
        raise ValueError(f"tolerance must be non-negative (value: {tolerance!r})")
    model = _with_exact(model)
    data = ExactPolicyData(model)
    evaluation = evaluate_policy_exact(model, recommended, contracts, tie_tolerance=tau, data=data)
    n_s, n_a, n_o = data.n_states, data.n_actions, data.n_outcomes
    rec = [int(a) for a in np.asarray(recommended).tolist()]
    pay = [[to_fraction(x) for x in row] for row in np.asarray(contracts, dtype=object).tolist()]
    claims_p = _claims("principal_values", principal_values, n_s)
    claims_a = _claims("agent_values", agent_values, n_s)
    v_p: list[Fraction] = evaluation.principal_values.tolist()
    v_a: list[Fraction] = evaluation.agent_values.tolist()
    q_bar: list[list[Fraction]] = evaluation.q_bar.tolist()
    agent_q: list[list[Fraction]] = evaluation.agent_q.tolist()
    actions: list[int] = evaluation.agent_actions.tolist()
    on_path = _on_path(data, actions, model.initial_state)
    gamma = data.gamma
    checks: list[StateCheck] = []
    for s in range(n_s):
        name = model.states[s]
        probs = data.probs[s]
        b = pay[s]
        a_rec, act = rec[s], actions[s]
        found: list[Violation] = []
        # -- the agent
        best_agent = max(agent_q[s])
        deficit = best_agent - agent_q[s][a_rec] if a_rec >= 0 else _ZERO
        lp_rec = _minimal(q_bar[s], probs, a_rec) if a_rec >= 0 else None
        if a_rec >= 0 and act != a_rec:
            alt = model.actions[act]
            why = (
                ""
                if lp_rec is None or lp_rec.implementable
                else f"; no contract can make {model.actions[a_rec]} a best response here"
            )
            found.append(
                Violation(
                    NOT_FOLLOWED,
                    s,
                    name,
                    deficit,
                    f"state {name}: the agent does not take the recommended action "
                    f"{model.actions[a_rec]}: under the contract {_contract_text(model, b)} it "
                    f"prefers {alt} by {_fmt(deficit)} ({model.actions[a_rec]} is worth "
                    f"{_fmt(agent_q[s][a_rec])} to it, {alt} {_fmt(agent_q[s][act])}){why}",
                )
            )
        # -- limited liability
        for o, x in enumerate(b):
            if x < -tau:
                found.append(
                    Violation(
                        NEGATIVE_PAYMENT,
                        s,
                        name,
                        -x,
                        f"state {name}: contract[{model.outcomes[o]}] = {_fmt(x)} is negative "
                        "(limited liability: payments must be ≥ 0)",
                    )
                )
        # -- overpayment
        minimal = None if lp_rec is None or not lp_rec.implementable else lp_rec.expected_payment
        overpayment = None
        if minimal is not None and act == a_rec:
            overpayment = _dot(probs[a_rec], b) - minimal
            if overpayment > tau:
                found.append(
                    Violation(
                        OVERPAYMENT,
                        s,
                        name,
                        overpayment,
                        f"state {name}: pays {_fmt(overpayment)} more than the minimal "
                        f"implementation of {model.actions[a_rec]} (expected payment "
                        f"{_fmt(_dot(probs[a_rec], b))}, minimal {_fmt(minimal)} with contract "
                        f"{_contract_text(model, lp_rec.contract if lp_rec else ())})",
                    )
                )
        # -- one-shot principal deviations
        cont = [
            data.principal_reward[s][o]
            + (
                gamma * sum((p * v_p[t] for t, p in data.successors[s][o]), _ZERO)
                if data.successors[s][o]
                else _ZERO
            )
            for o in range(n_o)
        ]
        best_action, best_q = act, v_p[s]
        for a in range(n_a):
            upper = _dot(probs[a], cont)  # q(s, a) with a free contract: an upper bound
            if upper <= best_q:
                continue
            lp = lp_rec if a == a_rec and lp_rec is not None else _minimal(q_bar[s], probs, a)
            if not lp.implementable:
                continue
            assert lp.expected_payment is not None
            q = upper - lp.expected_payment
            if q > best_q:
                best_action, best_q = a, q
        gain = best_q - v_p[s]
        if gain > tau and not (best_action == a_rec == act):
            lp_best = _minimal(q_bar[s], probs, best_action)
            found.append(
                Violation(
                    PRINCIPAL_DEVIATION,
                    s,
                    name,
                    gain,
                    f"state {name}: the principal gains {_fmt(gain)} by recommending "
                    f"{model.actions[best_action]} with its minimal contract "
                    f"{_contract_text(model, lp_best.contract)} instead: q = {_fmt(best_q)} "
                    f"against V^p = {_fmt(v_p[s])} (under the current policy the agent takes "
                    f"{model.actions[act]})",
                )
            )
        # -- claims
        for label, claim, true in (
            ("principal_value", claims_p[s], v_p[s]),
            ("agent_value", claims_a[s], v_a[s]),
        ):
            if claim is not None and abs(claim - true) > tau:
                found.append(
                    Violation(
                        CLAIMED_VALUE,
                        s,
                        name,
                        abs(claim - true),
                        f"state {name}: claimed {label} {_fmt(claim)} but the true value is "
                        f"{_fmt(true)} (off by {_fmt(abs(claim - true))})",
                    )
                )
        checks.append(
            StateCheck(
                state=s,
                name=name,
                recommended=a_rec,
                agent_action=act,
                on_path=on_path[s],
                contract=tuple(b),
                expected_payment=_dot(probs[act], b),
                follow_deficit=deficit,
                minimal_payment=minimal,
                overpayment=overpayment,
                best_action=best_action,
                deviation_gain=max(gain, _ZERO),
                principal_value=v_p[s],
                agent_value=v_a[s],
                claimed_principal_value=claims_p[s],
                claimed_agent_value=claims_a[s],
                violations=tuple(found),
            )
        )
    s0 = model.initial_state
    top: list[Violation] = []
    claimed_p = _claim("principal_value", claimed_principal_utility)
    claimed_a = _claim("agent_value", claimed_agent_utility)
    for label, claim, true in (
        ("principal_value", claimed_p, v_p[s0]),
        ("agent_value", claimed_a, v_a[s0]),
    ):
        if claim is not None and abs(claim - true) > tau:
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
        ref = reference_values(model)
    else:
        ref = None
    return VerificationReport(
        instance_name=model.name,
        n_states=n_s,
        n_actions=n_a,
        n_outcomes=n_o,
        discount=gamma,
        observed_action=model.observed_action,
        initial_state=s0,
        tolerance=tau,
        states=tuple(checks),
        principal_utility=v_p[s0],
        agent_utility=v_a[s0],
        claimed_principal_utility=claimed_p,
        claimed_agent_utility=claimed_a,
        top_violations=tuple(top),
        reference=ref,
        warnings=tuple(warnings),
        actions=model.actions,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class _Minimal:
    """The minimal implementation of one action: contract, implementability, cost."""

    contract: tuple[Fraction, ...]
    implementable: bool
    expected_payment: Fraction | None


def _minimal(q_bar: list[Fraction], probs: list[list[Fraction]], action: int) -> _Minimal:
    """The minimal implementation of ``action`` under ``Q̄`` (PAPER.md §1).

    Two outcomes: the exact closed form of PAPER.md §1 ("Closed form for 2 outcomes", any
    ordering of the probabilities). With ``p_a = 𝒪(a)(o1)``, ``d = b(o1) − b(o0)`` and
    ``c_a = Q̄(a) − Q̄(a^p)``, every incentive constraint reads ``(p_{a^p} − p_a) d ≥ c_a``, so
    ``d`` ranges over ``[max_{p_a < p_{a^p}} c_a / (p_{a^p} − p_a),
    min_{p_a > p_{a^p}} c_a / (p_{a^p} − p_a)]``, actions with ``p_a = p_{a^p}`` need
    ``c_a ≤ 0`` (equality is a tie, resolved for the principal), and the cost of the cheapest
    contract with a given ``d`` (pay only on o1 when ``d > 0``, only on o0 when ``d < 0``) is
    V-shaped in ``d`` with its minimum at 0: the optimum is the point of the interval closest to
    0. Any other number of outcomes: the exact simplex of :mod:`theory.exact_contracts` (the
    tests check the two agree).
    """
    if len(probs[action]) != 2:
        lp = minimal_contract_exact(q_bar, probs, action)
        return _Minimal(lp.contract, lp.implementable, lp.expected_payment)
    p_rec = probs[action][1]
    low: Fraction | None = None
    high: Fraction | None = None
    for a, row in enumerate(probs):
        if a == action:
            continue
        c = q_bar[a] - q_bar[action]
        gap = p_rec - row[1]
        if gap > 0:
            bound = c / gap
            low = bound if low is None or bound > low else low
        elif gap < 0:
            bound = c / gap
            high = bound if high is None or bound < high else high
        elif c > 0:
            return _Minimal((_ZERO, _ZERO), False, None)
    if low is not None and high is not None and low > high:
        return _Minimal((_ZERO, _ZERO), False, None)
    if low is not None and low > 0:
        return _Minimal((_ZERO, low), True, p_rec * low)
    if high is not None and high < 0:
        return _Minimal((-high, _ZERO), True, probs[action][0] * -high)
    return _Minimal((_ZERO, _ZERO), True, _ZERO)


def _dot(u: Any, v: Any) -> Fraction:
    total = _ZERO
    for x, y in zip(u, v, strict=True):
        if x:
            total += x * y
    return total


def _contract_text(model: PrincipalAgentMDP, contract: Any) -> str:
    parts = [f"{model.outcomes[o]}: {_fmt(to_fraction(x))}" for o, x in enumerate(contract)]
    return "(" + ", ".join(parts) + ")"


def _claim(label: str, value: Any) -> Fraction | None:
    if value is None:
        return None
    try:
        return to_fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"{label}: not a finite number (value: {value!r})") from None


def _claims(label: str, values: Any, n_states: int) -> list[Fraction | None]:
    if values is None:
        return [None] * n_states
    items = list(values)
    if len(items) != n_states:
        raise ValueError(f"{label}: expected {n_states} entries (one per state), got {len(items)}")
    return [_claim(f"{label}[{s}]", v) for s, v in enumerate(items)]


def _on_path(data: ExactPolicyData, actions: list[int], start: int) -> list[bool]:
    seen = [False] * data.n_states
    seen[start] = True
    stack = [start]
    while stack:
        s = stack.pop()
        for o, p in enumerate(data.probs[s][actions[s]]):
            if p:
                for t, q in data.successors[s][o]:
                    if q and not seen[t]:
                        seen[t] = True
                        stack.append(t)
    return seen


# ------------------------------------------------------------------------- documents
def parse_solution(data: Any, model: PrincipalAgentMDP) -> SolutionDocument:
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
    document = solution_from_dict(clean, model)
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
    tolerance: Any = DEFAULT_TOLERANCE,
    reference: bool | ReferenceValues = True,
) -> VerificationReport:
    """Verify a FORMAT.md v1 solution (a parsed document or its JSON dict) against ``model``.

    Raises
    ------
    theory.format.SolutionError
        The document is malformed (other than negative payments, which are violations).
    """
    document = (
        solution if isinstance(solution, SolutionDocument) else parse_solution(solution, model)
    )
    warnings = []
    if document.instance_name and model.name and document.instance_name != model.name:
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
        tolerance=tolerance,
        reference=reference,
        warnings=tuple(warnings),
    )


def verify_files(
    instance_path: Any,
    solution_path: Any,
    *,
    tolerance: Any = DEFAULT_TOLERANCE,
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

    from theory.format import load_instance, read_json

    model = load_instance(instance_path)
    try:
        data = read_json(solution_path)
    except json.JSONDecodeError as error:
        raise SolutionError(f"<document>: invalid JSON: {error}") from None
    return verify_solution(model, data, tolerance=tolerance, reference=reference)
