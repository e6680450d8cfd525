"""The one exact check of "is this principal policy a subgame-perfect equilibrium" (PAPER.md §2).

Every verdict pamdp gives on a policy — ``pamdp verify``, the fuzzer, the theorem properties
(the ``spe`` claim and the meta-algorithm claims), the equilibrium enumeration — comes from
:func:`check_spe`. Given an instance and a principal policy ρ (a recommended action ``a^p(s)``,
or none, and a contract ``b_s`` in every state), everything is recomputed from the instance and
the policy alone, in rational arithmetic; values a solver reports are claims to check.

1. **The agent.** :func:`theory.exact_evaluation.evaluate_policy_exact` solves the agent's MDP
   given ρ exactly: its truncated Q ``Q̄*(s, ·)``, the action ``π(s)`` it takes (ties to the
   recommendation within ``τ_a``), and the values ``V^p(s)``, ``V^a(s)``.
2. **Per state** ``s`` (every state, on and off the path: subgame perfection), the violations:

   * ``not_followed`` — the agent does not take ``a^p(s)``: following costs it more than
     ``τ_a``, ``max_a Q*((s, b_s), a) − Q*((s, b_s), a^p) > τ_a``;
   * ``negative_payment`` — ``b_s(o) < −τ_a`` (limited liability);
   * ``overpayment`` — the agent follows but ``E_{𝒪(s, a^p)}[b_s]`` exceeds the cost of the
     minimal implementation ``b*_ξ(s, a^p)`` under ``Q̄*(s, ·)`` by more than ``τ_p`` (the LP
     of PAPER.md §1 with the declared nudging margin ξ, solved exactly);
   * ``principal_deviation`` — a one-shot deviation helps the principal: with
     ``W(s, o) = r^p(s, o) + γ Σ_{s'} T(s, o)(s') V^p(s')``, recommending ``a`` with its
     minimal contract earns ``q(s, a) = Σ_o 𝒪(s, a)(o) W(s, o) − E[b*_ξ(s, a)]``, and
     ``max_a q(s, a) − V^p(s) > τ_p`` for some ``a`` other than a followed ``a^p``; also any
     sampled off-path contract (``offpath``) that earns more than ``V^p(s) + τ_p`` against
     the exact best response (exact ties resolved for the principal);
   * ``off_path_response`` — for a sampled off-path contract, the action the solver's own
     agent strategy takes (``argmax_a E_a[b] + claimed Q̄(s, a)``) loses more than ``τ_a``
     against the true best response;
   * ``claimed_value`` — a claimed ``V^p(s)``, ``V^a(s)`` or ``Q̄(s, ·)`` differs from the
     true one by more than the tolerance.

**Why this decides SPE.** The agent's strategy is its exact best response to ρ at every
``(s, b)``; given it, the principal's problem is an MDP whose action at ``s`` is a contract, and
the best contract inducing ``a`` is its minimal implementation, so ``max_a q(s, a)`` is the best
one-step deviation. By the one-shot deviation principle (backward induction when episodic; the
policy-improvement theorem, Puterman 1994 Thm 6.2.6 / §6.4, when γ < 1) ρ is optimal for the
principal at every state iff no state has a one-step gain. Hence *no violation ⇔ (ρ, π) is an
SPE* within the tolerances. A different SPE can exist (docs/THEOREMS.md), so a gap to a
reference SPE is information, not a violation.

**The three settled choices** (the checker used to exist twice, disagreeing on each):

* *Negative pay* is a violation only below ``−τ_a``: every check reports a violation only when
  its size exceeds the tolerance, so a float solver's ``−1e−17`` (a rounded 0, worth at most
  ``1e−17`` to anybody) is accepted within τ; ``τ = 0`` makes it strict.
* *A gain from the recommended action itself*, when the agent follows, is an ``overpayment``,
  not a ``principal_deviation``: the principal's better one-shot deviation is the same action
  with a cheaper contract, and naming it overpayment says what to fix. (Both readings flag
  exactly the same policies: when the agent follows, that gain *is* the overpayment.)
* *Tolerances* come from one :class:`theory.ties.Ties` (``τ_a = ties.agent_tol``,
  ``τ_p = ties.principal_tol``, ``ξ = ties.margin``), default 1e−9 for both: float solutions
  of O(1)-valued instances miss indifference points by ~1e−15. The theorem properties pass
  1e−7 explicitly (generated instances carry values up to O(10) through likelihood-ratio
  leverage up to ~10, and judge the library's own float solvers at that precision).
  ``EXACT_TIES`` (τ = 0) is the strict exact check.

The arithmetic is always exact; the tolerances only decide which sizes count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory.exact_contracts import minimal_contract_exact, two_outcome_contract
from theory.exact_evaluation import ExactPolicyData, PolicyEvaluation, evaluate_policy_exact
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import ZERO, dot, exact_string, format_rational
from theory.ties import DEFAULT_TIES, Ties, best_response

__all__ = [
    "CLAIMED_VALUE",
    "NEGATIVE_PAYMENT",
    "NOT_FOLLOWED",
    "OFF_PATH_RESPONSE",
    "OVERPAYMENT",
    "PRINCIPAL_DEVIATION",
    "VIOLATION_KINDS",
    "MinimalContract",
    "SPECheck",
    "StateCheck",
    "Violation",
    "check_spe",
    "minimal_contract",
    "reachable_states",
]

NOT_FOLLOWED = "not_followed"
NEGATIVE_PAYMENT = "negative_payment"
OVERPAYMENT = "overpayment"
PRINCIPAL_DEVIATION = "principal_deviation"
OFF_PATH_RESPONSE = "off_path_response"
CLAIMED_VALUE = "claimed_value"
#: Every kind of violation, in the order they are listed per state.
VIOLATION_KINDS: tuple[str, ...] = (
    NOT_FOLLOWED,
    NEGATIVE_PAYMENT,
    OVERPAYMENT,
    PRINCIPAL_DEVIATION,
    OFF_PATH_RESPONSE,
    CLAIMED_VALUE,
)


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
        """JSON-ready, the amount as an exact string and a float."""
        return {
            "kind": self.kind,
            "state": self.state_name or None,
            "index": self.state,
            "amount": exact_string(self.amount),
            "amount_float": float(self.amount),
            "message": self.message,
        }


@dataclass(frozen=True)
class StateCheck:
    """Everything checked in one state (module docstring, item 2).

    Attributes
    ----------
    state, name : index and name.
    recommended : ``a^p(s)`` (−1 = no recommendation).
    agent_action : the action the exact agent takes.
    on_path : whether the state is reached from the initial state with positive probability
        under the agent's actual behaviour.
    contract : the offered payments ``b_s(o)``.
    expected_payment : ``E_{𝒪(s, π(s))}[b_s]``, what the principal pays in expectation.
    follow_deficit : ``max_a Q*((s, b_s), a) − Q*((s, b_s), a^p) ≥ 0``.
    minimal_payment : the cost of the (ξ-nudged) minimal implementation of ``a^p`` under
        ``Q̄*(s, ·)`` (``None``: no recommendation, or ``a^p`` cannot be implemented).
    overpayment : ``E_{𝒪(s, a^p)}[b_s] − minimal_payment`` when the agent follows, else None.
    nudge : with a margin ξ > 0, the cost of the ξ-nudged minimal contract minus the unnudged
        one (what declared nudging may cost here); ``None`` without a margin.
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
    nudge: Fraction | None = None

    @property
    def ok(self) -> bool:
        """No violation in this state."""
        return not self.violations


@dataclass(frozen=True, eq=False)
class SPECheck:
    """The result of :func:`check_spe`.

    Attributes
    ----------
    states : one :class:`StateCheck` per checked state, in state order.
    evaluation : the exact agent's behaviour and both parties' values.
    ties : the tolerances and margin used.
    """

    states: tuple[StateCheck, ...]
    evaluation: PolicyEvaluation
    ties: Ties

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Every violation, per state in state order."""
        return tuple(v for check in self.states for v in check.violations)

    @property
    def ok(self) -> bool:
        """True iff the policy is an SPE within the tolerances (and every claim holds)."""
        return not any(check.violations for check in self.states)

    @property
    def largest_principal_gain(self) -> Fraction:
        """The largest one-shot deviation gain over the checked states (≥ 0)."""
        return max((check.deviation_gain for check in self.states), default=ZERO)


@dataclass(frozen=True)
class MinimalContract:
    """The minimal implementation of one action: contract, implementability, cost."""

    contract: tuple[Fraction, ...]
    implementable: bool
    expected_payment: Fraction | None


def minimal_contract(
    q_bar: Sequence[Fraction],
    probs: Sequence[Sequence[Fraction]],
    action: int,
    margin: Fraction = ZERO,
) -> MinimalContract:
    """The exact minimal implementation of ``action`` under ``Q̄`` with margin ξ (PAPER.md §1).

    Two outcomes: the exact closed form of PAPER.md §1 ("Closed form for 2 outcomes", any
    ordering of the probabilities). With ``p_a = 𝒪(a)(o1)``, ``d = b(o1) − b(o0)`` and
    ``c_a = Q̄(a) − Q̄(a^p) + ξ``, every incentive constraint reads ``(p_{a^p} − p_a) d ≥ c_a``,
    so ``d`` ranges over ``[max_{p_a < p_{a^p}} c_a / (p_{a^p} − p_a),
    min_{p_a > p_{a^p}} c_a / (p_{a^p} − p_a)]``; actions with ``p_a = p_{a^p}`` need
    ``c_a ≤ 0`` (equality is a tie, resolved for the principal); the cost of the cheapest
    contract with a given ``d`` (pay only on o1 when ``d > 0``, only on o0 when ``d < 0``) is
    V-shaped in ``d`` with its minimum at 0, so the optimum is the point of the interval
    closest to 0: :func:`theory.exact_contracts.two_outcome_contract`, the one implementation
    of this closed form. Any other number of outcomes: the exact simplex of
    :mod:`theory.exact_contracts` (the tests check the two agree).
    """
    if len(probs[action]) != 2:
        lp = minimal_contract_exact(
            list(q_bar), [list(row) for row in probs], action, margin=margin
        )
        return MinimalContract(lp.contract, lp.implementable, lp.expected_payment)
    contract, implementable, payment = two_outcome_contract(q_bar, probs, action, margin, ZERO)
    return MinimalContract(contract, implementable, payment)


def reachable_states(data: ExactPolicyData, actions: Sequence[int], start: int) -> list[bool]:
    """Which states the initial state reaches with positive probability when the agent plays
    ``actions`` (outcomes of positive probability, successors of positive probability)."""
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


def _claims(label: str, values: Any, n_states: int) -> list[Fraction | None]:
    if values is None:
        return [None] * n_states
    items = list(values)
    if len(items) != n_states:
        raise ValueError(f"{label}: expected {n_states} entries (one per state), got {len(items)}")
    out: list[Fraction | None] = []
    for s, value in enumerate(items):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(to_fraction(value))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            raise ValueError(
                f"{label}[{s}]: not a finite number (value: {str(value)[:40]!r})"
            ) from None
    return out


def _contract_text(outcomes: Sequence[str], contract: Sequence[Fraction]) -> str:
    parts = [f"{outcomes[o]}: {format_rational(x)}" for o, x in enumerate(contract)]
    return "(" + ", ".join(parts) + ")"


def _solver_response(
    claimed_q_bar: Sequence[Any], probs: Sequence[Sequence[Fraction]], contract: Sequence[Any]
) -> int:
    """The action a solver's own agent strategy takes at a contract, in float arithmetic as the
    solver would: :func:`theory.ties.best_response` with the default agent tolerance and no
    recommendation (lowest index among the maximisers)."""
    q = np.asarray([[float(x) for x in claimed_q_bar]])
    p = np.asarray([[[float(x) for x in row] for row in probs]])
    return int(best_response(q, p, np.asarray([[float(x) for x in contract]]))[0])


def check_spe(
    model: PrincipalAgentMDP,
    recommended: Any,
    contracts: Any,
    *,
    ties: Ties = DEFAULT_TIES,
    principal_values: Any = None,
    agent_values: Any = None,
    claimed_q_bar: Any = None,
    offpath: Sequence[tuple[int, Sequence[Any]]] = (),
    states: Sequence[int] | None = None,
    data: ExactPolicyData | None = None,
) -> SPECheck:
    """Check a principal policy exactly for subgame perfection (module docstring).

    Parameters
    ----------
    model : the instance (its exact view is used).
    recommended : (S,) recommended action per state (−1 = none: the follow and overpayment
        checks are skipped there).
    contracts : (S, O) payments, read exactly (Fractions, ints, strings, floats as their
        shortest decimals); negative entries are reported, not rejected.
    ties : ``agent_tol`` (τ_a), ``principal_tol`` (τ_p) and the declared margin ξ.
    principal_values, agent_values : optional (S,) claimed values (entries may be None).
    claimed_q_bar : optional (S, A) claimed agent Q̄ (checked, and used to find the solver's
        own agent response to the off-path contracts).
    offpath : ``(state, contract)`` pairs of off-path contracts to check.
    states : check only these states (default: all; the agent is always solved everywhere).
    data : the instance as :class:`ExactPolicyData`, to skip re-reading it.

    Raises
    ------
    ValueError
        A malformed policy or claim (naming the field, index and value).
    """
    tau_a, tau_p, xi = ties.agent_tol, ties.principal_tol, ties.margin
    d = data if data is not None else ExactPolicyData(model)
    evaluation = evaluate_policy_exact(model, recommended, contracts, tie_tolerance=tau_a, data=d)
    n_s, n_a, n_o = d.n_states, d.n_actions, d.n_outcomes
    rec = [int(a) for a in np.asarray(recommended).tolist()]
    pay = [[to_fraction(x) for x in row] for row in np.asarray(contracts, dtype=object).tolist()]
    claims_p = _claims("principal_values", principal_values, n_s)
    claims_a = _claims("agent_values", agent_values, n_s)
    v_p: list[Fraction] = evaluation.principal_values.tolist()
    v_a: list[Fraction] = evaluation.agent_values.tolist()
    q_bar: list[list[Fraction]] = evaluation.q_bar.tolist()
    agent_q: list[list[Fraction]] = evaluation.agent_q.tolist()
    actions: list[int] = evaluation.agent_actions.tolist()
    on_path = reachable_states(d, actions, model.initial_state)
    gamma = d.gamma
    names, action_names = model.states, model.actions
    offpath_by_state: dict[int, list[Sequence[Any]]] = {}
    for s, contract in offpath:
        offpath_by_state.setdefault(int(s), []).append(contract)
    checks: list[StateCheck] = []
    for s in range(n_s) if states is None else sorted(set(states)):
        name = names[s]
        probs = d.probs[s]
        b = pay[s]
        a_rec, act = rec[s], actions[s]
        found: list[Violation] = []
        # -- the agent
        best_agent = max(agent_q[s])
        deficit = best_agent - agent_q[s][a_rec] if a_rec >= 0 else ZERO
        lp_rec = minimal_contract(q_bar[s], probs, a_rec, xi) if a_rec >= 0 else None
        if a_rec >= 0 and act != a_rec:
            alt = action_names[act]
            why = (
                ""
                if lp_rec is None or lp_rec.implementable
                else f"; no contract can make {action_names[a_rec]} a best response here"
            )
            found.append(
                Violation(
                    NOT_FOLLOWED,
                    s,
                    name,
                    deficit,
                    f"state {name}: the agent does not take the recommended action "
                    f"{action_names[a_rec]}: under the contract "
                    f"{_contract_text(model.outcomes, b)} it prefers {alt} by "
                    f"{format_rational(deficit)} ({action_names[a_rec]} is worth "
                    f"{format_rational(agent_q[s][a_rec])} to it, {alt} "
                    f"{format_rational(agent_q[s][act])}){why}",
                )
            )
        # -- limited liability
        for o, x in enumerate(b):
            if x < -tau_a:
                found.append(
                    Violation(
                        NEGATIVE_PAYMENT,
                        s,
                        name,
                        -x,
                        f"state {name}: contract[{model.outcomes[o]}] = {format_rational(x)} is "
                        "negative (limited liability: payments must be ≥ 0)",
                    )
                )
        # -- overpayment (against the ξ-nudged minimal contract when a margin is declared)
        minimal = None if lp_rec is None or not lp_rec.implementable else lp_rec.expected_payment
        nudge: Fraction | None = None
        if xi and a_rec >= 0 and minimal is not None:
            plain = minimal_contract(q_bar[s], probs, a_rec)
            if plain.expected_payment is not None:
                nudge = minimal - plain.expected_payment
        overpayment = None
        if minimal is not None and act == a_rec:
            overpayment = dot(probs[a_rec], b) - minimal
            if overpayment > tau_p:
                assert lp_rec is not None
                found.append(
                    Violation(
                        OVERPAYMENT,
                        s,
                        name,
                        overpayment,
                        f"state {name}: pays {format_rational(overpayment)} more than the "
                        f"minimal implementation of {action_names[a_rec]}"
                        + (f" with margin ξ = {format_rational(xi)}" if xi else "")
                        + f" (expected payment {format_rational(dot(probs[a_rec], b))}, minimal "
                        f"{format_rational(minimal)} with contract "
                        f"{_contract_text(model.outcomes, lp_rec.contract)})",
                    )
                )
        # -- one-shot principal deviations
        cont = [
            d.principal_reward[s][o]
            + (
                gamma * sum((p * v_p[t] for t, p in d.successors[s][o]), ZERO)
                if d.successors[s][o]
                else ZERO
            )
            for o in range(n_o)
        ]
        best_action, best_q = act, v_p[s]
        for a in range(n_a):
            upper = dot(probs[a], cont)  # q(s, a) with a free contract: an upper bound
            if upper <= best_q:
                continue
            lp = (
                lp_rec
                if a == a_rec and lp_rec is not None
                else minimal_contract(q_bar[s], probs, a, xi)
            )
            if not lp.implementable:
                continue
            assert lp.expected_payment is not None
            q = upper - lp.expected_payment
            if q > best_q:
                best_action, best_q = a, q
        gain = best_q - v_p[s]
        if gain > tau_p and not (best_action == a_rec == act):
            lp_best = minimal_contract(q_bar[s], probs, best_action, xi)
            found.append(
                Violation(
                    PRINCIPAL_DEVIATION,
                    s,
                    name,
                    gain,
                    f"state {name}: the principal gains {format_rational(gain)} by recommending "
                    f"{action_names[best_action]} with its minimal contract "
                    f"{_contract_text(model.outcomes, lp_best.contract)} instead: q = "
                    f"{format_rational(best_q)} against V^p = {format_rational(v_p[s])} (under "
                    f"the current policy the agent takes {action_names[act]})",
                )
            )
        # -- sampled off-path contracts
        for contract in offpath_by_state.get(s, ()):
            off = [to_fraction(x) for x in contract]
            utility = [q_bar[s][a] + dot(probs[a], off) for a in range(n_a)]
            best_u = max(utility)
            shown = _contract_text(model.outcomes, off)
            if claimed_q_bar is not None:
                taken = _solver_response(claimed_q_bar[s], probs, off)
                if utility[taken] < best_u - tau_a:
                    found.append(
                        Violation(
                            OFF_PATH_RESPONSE,
                            s,
                            name,
                            best_u - utility[taken],
                            f"state {name}: off-path contract {shown}: the solution's agent "
                            f"plays {action_names[taken]}, losing "
                            f"{format_rational(best_u - utility[taken])}",
                        )
                    )
            # exact ties only: a tie *tolerance* here would let a contract short by τ in the
            # agent's utility save the principal up to τ times the likelihood-ratio leverage
            responders = [a for a in range(n_a) if utility[a] == best_u]
            value = max(
                dot(probs[a], [w - x for w, x in zip(cont, off, strict=True)]) for a in responders
            )
            if value - v_p[s] > tau_p:
                found.append(
                    Violation(
                        PRINCIPAL_DEVIATION,
                        s,
                        name,
                        value - v_p[s],
                        f"state {name}: the principal gains {format_rational(value - v_p[s])} "
                        f"by offering {shown}",
                    )
                )
        # -- claims
        for label, claim, true, tol in (
            ("principal_value", claims_p[s], v_p[s], tau_p),
            ("agent_value", claims_a[s], v_a[s], tau_a),
        ):
            if claim is not None and abs(claim - true) > tol:
                found.append(
                    Violation(
                        CLAIMED_VALUE,
                        s,
                        name,
                        abs(claim - true),
                        f"state {name}: claimed {label} {format_rational(claim)} but the true "
                        f"value is {format_rational(true)} (off by "
                        f"{format_rational(abs(claim - true))})",
                    )
                )
        if claimed_q_bar is not None:
            worst = max(abs(to_fraction(claimed_q_bar[s][a]) - q_bar[s][a]) for a in range(n_a))
            if worst > tau_a:
                found.append(
                    Violation(
                        CLAIMED_VALUE,
                        s,
                        name,
                        worst,
                        f"state {name}: claimed Q̄ is off by {format_rational(worst)}",
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
                expected_payment=dot(probs[act], b),
                follow_deficit=deficit,
                minimal_payment=minimal,
                overpayment=overpayment,
                best_action=best_action,
                deviation_gain=max(gain, ZERO),
                principal_value=v_p[s],
                agent_value=v_a[s],
                claimed_principal_value=claims_p[s],
                claimed_agent_value=claims_a[s],
                violations=tuple(found),
                nudge=nudge,
            )
        )
    return SPECheck(tuple(checks), evaluation, ties)
