"""Exact equilibria of small instances: pure and mixed stationary, and periodic (PAPER.md §2–3).

For γ < 1 the meta-algorithm can cycle and a pure stationary SPE need not exist (PAPER.md §3),
so "the SPE" is not a well-defined output there. This module enumerates, in exact rational
arithmetic, the equilibria of three classes, and says precisely what it searched:

1. **Pure stationary** (one contract per state): every recommendation profile ``g : S → A``
   whose recommendations are all implementable, each with the unique self-consistent minimal
   contracts (:func:`profile_fixed_point`), judged by the one SPE checker
   :func:`theory.spe.check_spe` with tolerance 0. A profile that fails carries its profitable
   one-shot deviations as the certificate.
2. **Mixed stationary** (:func:`solvers.equilibria_search.mixed_stationary`): one mixing
   state, support of size two, every other state pure.
3. **Time-dependent** (:func:`solvers.equilibria_search.time_dependent`): the finite-horizon
   SPE recursion from zero
   continuation values, until its action sequence settles on a period whose exact orbit is an
   SPE of the discounted game.

:func:`equilibria` runs all three and returns an :class:`EquilibriumReport`.

The fixed point of a profile
----------------------------
Fix ``g``. Write ``W(s, o) = Σ_{s'} T(s, o)(s') V(s')`` for the agent's continuation after
outcome ``o``, so ``Q̄(s, a) = r(s, a) + γ E_{𝒪(s, a)}[W(s, ·)]`` (PAPER.md §1). The agent's
value under the minimal contract for ``g(s)`` is ``Φ(V)(s) = Q̄(s, g(s)) + E_{𝒪(s, g(s))}[b*]``.
Substituting ``z(o) = b(o) + γ W(s, o)`` (what the agent gets after ``o``),

    Φ(V)(s) = r(s, g) + min { E_{𝒪(s, g)}[z] : z ≥ γ W(s, ·),
                              r(s, g) + E_{𝒪(s, g)}[z] ≥ r(s, a) + E_{𝒪(s, a)}[z] + ξ  ∀ a ≠ g }.

The incentive constraints do not involve ``V``, and adding a constant to ``z`` keeps them
(distributions sum to one). Hence:

* **implementability does not depend on V**: ``g(s)`` is implementable for some ``V`` iff for
  every ``V`` (profiles with an unimplementable recommendation are pruned once and for all);
* **Φ is monotone** (a larger ``V`` raises ``W`` and shrinks the feasible set) and
  **translation-equivariant with modulus γ**: ``Φ(V + c·1) = Φ(V) + γ c·1``.

By Blackwell's sufficient conditions Φ is a γ-contraction in the sup norm, so for γ < 1 its
fixed point — the agent's value when ``g`` is implemented minimally everywhere — is **unique**
(for episodic instances it is unique by backward induction). By LP duality
``Φ(V)(s) = max_λ [Q̄(s, g) + Σ_a λ_a (Q̄(s, a) − Q̄(s, g) + ξ)]`` over the (V-independent) dual
polytope of the minimal-contract LP (:mod:`theory.exact_contracts`), and each piece is
``Σ_a λ_a (r(s, a) + ξ) + (1 − Σλ) r(s, g) + γ E_μ[W]`` with ``μ = (1 − Σλ) 𝒪(s, g) + Σ_a λ_a
𝒪(s, a)`` a probability distribution (dual feasibility is exactly ``μ ≥ 0``). So Φ is the
Bellman operator of an MDP whose actions are the dual vertices ("which incentive constraints
bind"), and :func:`profile_fixed_point` finds its fixed point by exact policy iteration over
those regimes (Howard; Puterman 1994 §6.4): take the optimal duals at the current ``V``, solve
the regime's linear system with :func:`theory.exact_evaluation.solve_linear_exact`, repeat
until ``Φ(V) = V`` exactly. The result is verified with the closed-form contracts of
:func:`theory.spe.minimal_contract` before it is returned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from theory.exact_contracts import minimal_contract_exact
from theory.exact_evaluation import ExactPolicyData, SparseRow, solve_linear_exact
from theory.model import PrincipalAgentMDP, build_model
from theory.rational import ONE, ZERO, dot, exact_string, format_rational
from theory.spe import PRINCIPAL_DEVIATION, SPECheck, check_spe, minimal_contract, reachable_states
from theory.ties import EXACT_TIES, Ties

if TYPE_CHECKING:
    from solvers.equilibria_search import MixedEquilibrium, TimeDependentResult

__all__ = [
    "MAX_PROFILES",
    "MAX_STATES",
    "Deviation",
    "EquilibriaTooLarge",
    "EquilibriumReport",
    "ProfileFixedPoint",
    "ProfileResult",
    "agent_value_map",
    "continuations",
    "derived_model",
    "equilibria",
    "implementable_actions",
    "pareto",
    "profile_fixed_point",
    "pure_stationary",
    "q_bar_of",
]

#: The most candidate profiles (after pruning) enumerated unless the caller allows more.
MAX_PROFILES = 4096
#: The most states of an instance the enumeration accepts (exact rational linear algebra).
MAX_STATES = 64


class EquilibriaTooLarge(ValueError):
    """The instance is beyond the documented size limit of the enumeration."""


@dataclass(frozen=True)
class ProfileFixedPoint:
    """The self-consistent minimal contracts of one recommendation profile (module docstring).

    Attributes
    ----------
    recommended : ``g(s)`` per state.
    contracts : the minimal contract of ``g(s)`` under the fixed point's ``Q̄`` per state.
    agent_values : the unique fixed point ``V = Φ(V)``.
    q_bar : ``Q̄(s, ·)`` at the fixed point.
    regime : the optimal dual multipliers per state (one per action; "which constraints bind").
    rounds : policy-iteration rounds (linear solves) used.
    """

    recommended: tuple[int, ...]
    contracts: tuple[tuple[Fraction, ...], ...]
    agent_values: tuple[Fraction, ...]
    q_bar: tuple[tuple[Fraction, ...], ...]
    regime: tuple[tuple[Fraction, ...], ...]
    rounds: int


@dataclass(frozen=True)
class Deviation:
    """A profitable one-shot deviation of the principal (the certificate of "not an SPE")."""

    state: int
    state_name: str
    action: str
    gain: Fraction
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "state": self.state_name,
            "action": self.action,
            "gain": exact_string(self.gain),
            "message": self.message,
        }


@dataclass(frozen=True, eq=False)
class ProfileResult:
    """One candidate profile: its fixed point, the shared checker's verdict and reachability."""

    fixed_point: ProfileFixedPoint
    check: SPECheck
    reachable: tuple[bool, ...]

    @property
    def is_spe(self) -> bool:
        """Whether :func:`theory.spe.check_spe` finds no violation."""
        return self.check.ok

    @property
    def principal_values(self) -> tuple[Fraction, ...]:
        """``V^p(s)`` per state."""
        return tuple(c.principal_value for c in self.check.states)

    @property
    def agent_values(self) -> tuple[Fraction, ...]:
        """``V^a(s)`` per state."""
        return tuple(c.agent_value for c in self.check.states)

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """The principal's profitable one-shot deviations (empty for an SPE)."""
        model_actions = self._action_names
        return tuple(
            Deviation(
                v.state if v.state is not None else -1,
                v.state_name,
                model_actions[self.check.states[v.state].best_action]
                if v.state is not None
                else "",
                v.amount,
                v.message,
            )
            for v in self.check.violations
            if v.kind == PRINCIPAL_DEVIATION
        )

    _action_names: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- helpers
def continuations(data: ExactPolicyData, values: Sequence[Fraction]) -> list[list[Fraction]]:
    """``W(s, o) = Σ_{s'} T(s, o)(s') values(s')`` (0 where the episode ends)."""
    return [
        [
            sum((q * values[t] for t, q in data.successors[s][o]), ZERO)
            for o in range(data.n_outcomes)
        ]
        for s in range(data.n_states)
    ]


def q_bar_of(data: ExactPolicyData, values: Sequence[Fraction]) -> list[list[Fraction]]:
    """The agent's truncated Q ``Q̄(s, a) = r(s, a) + γ E_{𝒪(s, a)}[W(s, ·)]`` for values V."""
    w = continuations(data, values)
    return [
        [
            data.agent_reward[s][a] + data.gamma * dot(data.probs[s][a], w[s])
            for a in range(data.n_actions)
        ]
        for s in range(data.n_states)
    ]


def implementable_actions(data: ExactPolicyData, margin: Fraction = ZERO) -> list[list[int]]:
    """Per state, the actions some contract implements (independent of the agent's values,
    module docstring; decided at ``V = 0``)."""
    q = q_bar_of(data, [ZERO] * data.n_states)
    return [
        [
            a
            for a in range(data.n_actions)
            if minimal_contract(q[s], data.probs[s], a, margin).implementable
        ]
        for s in range(data.n_states)
    ]


def agent_value_map(
    data: ExactPolicyData,
    recommended: Sequence[int],
    values: Sequence[Fraction],
    margin: Fraction = ZERO,
) -> list[Fraction]:
    """Φ(V) of the module docstring: the agent's value in each state when ``recommended`` is
    implemented there by its (ξ-nudged) minimal contract under ``Q̄`` computed from ``values``
    (closed form / exact LP of :func:`theory.spe.minimal_contract`)."""
    return _agent_value_map(data, recommended, values, margin)[0]


def _agent_value_map(
    data: ExactPolicyData, rec: Sequence[int], values: Sequence[Fraction], margin: Fraction
) -> tuple[list[Fraction], list[list[Fraction]], list[tuple[Fraction, ...]]]:
    q = q_bar_of(data, values)
    image, contracts = [], []
    for s in range(data.n_states):
        lp = minimal_contract(q[s], data.probs[s], rec[s], margin)
        if not lp.implementable:
            raise ValueError(f"recommended[{s}] = {rec[s]} cannot be implemented")
        image.append(q[s][rec[s]] + (lp.expected_payment or ZERO))
        contracts.append(lp.contract)
    return image, q, contracts


def profile_fixed_point(
    model: PrincipalAgentMDP,
    recommended: Sequence[int],
    *,
    margin: Fraction = ZERO,
    data: ExactPolicyData | None = None,
    max_rounds: int = 10_000,
    start: Sequence[Fraction] | None = None,
) -> ProfileFixedPoint:
    """The unique ``V = Φ(V)`` of a profile and its minimal contracts, exactly (module docstring).

    ``start`` is the agent-value vector whose optimal duals open the policy iteration (default
    0); by uniqueness the result does not depend on it.

    Raises
    ------
    ValueError
        A recommendation that is unimplementable, or out of range.
    RuntimeError
        If policy iteration over the regimes does not end (cannot happen for γ < 1 or an
        episodic instance: each round strictly raises V and there are finitely many regimes).
    """
    d = data if data is not None else ExactPolicyData(model)
    n_s, n_a = d.n_states, d.n_actions
    rec = [int(a) for a in recommended]
    if len(rec) != n_s or any(not 0 <= a < n_a for a in rec):
        raise ValueError(f"recommended: expected {n_s} action indices in [0, {n_a}), got {rec}")
    gamma = d.gamma
    values = [ZERO] * n_s if start is None else [Fraction(v) for v in start]
    for rounds in range(1, max_rounds + 1):
        q = q_bar_of(d, values)
        regime: list[tuple[Fraction, ...]] = []
        rows: list[SparseRow] = []
        rhs: list[Fraction] = []
        for s in range(n_s):
            g = rec[s]
            lp = minimal_contract_exact(q[s], d.probs[s], g, margin=margin)
            if not lp.implementable:
                raise ValueError(
                    f"recommended[{s}] = {g}: action {model.actions[g]} cannot be implemented "
                    f"in state {model.states[s]}"
                )
            lam = lp.certificate
            regime.append(lam)
            total = sum(lam, ZERO)
            mu = [
                (ONE - total) * d.probs[s][g][o]
                + sum((lam[a] * d.probs[s][a][o] for a in range(n_a)), ZERO)
                for o in range(d.n_outcomes)
            ]
            reward = (ONE - total) * d.agent_reward[s][g] + sum(
                (lam[a] * (d.agent_reward[s][a] + margin) for a in range(n_a)), ZERO
            )
            row: SparseRow = {s: ONE}
            for o, weight in enumerate(mu):
                if weight:
                    for t, p in d.successors[s][o]:
                        row[t] = row.get(t, ZERO) - gamma * weight * p
            rows.append(row)
            rhs.append(reward)
        new = solve_linear_exact(rows, rhs)
        image, q_new, contracts = _agent_value_map(d, rec, new, margin)
        if image == new:
            return ProfileFixedPoint(
                tuple(rec),
                tuple(contracts),
                tuple(new),
                tuple(tuple(row) for row in q_new),
                tuple(regime),
                rounds,
            )
        values = new
    raise RuntimeError(f"profile {rec}: no fixed point after {max_rounds} regime rounds")


def derived_model(
    model: PrincipalAgentMDP,
    data: ExactPolicyData,
    nodes: Sequence[tuple[int, str]],
    successors: Callable[[int, int], list[tuple[int, Fraction]]],
    initial: int,
    name: str,
) -> PrincipalAgentMDP:
    """An instance whose states are copies of ``model``'s (``nodes[x] = (original, name)``),
    with the original's actions, outcomes and rewards and the transitions ``successors(x, o)``
    (used to split a mixing state and to unroll a periodic policy over its phases)."""
    transitions = []
    for x in range(len(nodes)):
        row = []
        for o in range(data.n_outcomes):
            merged: dict[int, Fraction] = {}
            for y, w in successors(x, o):
                if w:
                    merged[y] = merged.get(y, ZERO) + w
            row.append([[y, w] for y, w in sorted(merged.items())])
        transitions.append(row)
    return build_model(
        states=[n for _, n in nodes],
        actions=list(model.actions),
        outcomes=list(model.outcomes),
        initial_state=initial,
        discount=data.gamma,
        outcome_probs=[data.probs[s] for s, _ in nodes],
        agent_reward=[data.agent_reward[s] for s, _ in nodes],
        principal_reward=[data.principal_reward[s] for s, _ in nodes],
        transitions=transitions,
        observed_action=model.observed_action,
        name=name,
        exact=True,
    )


def pareto(
    first: tuple[Sequence[Fraction], Sequence[Fraction]],
    second: tuple[Sequence[Fraction], Sequence[Fraction]],
    states: Sequence[int],
) -> str:
    """Compare two equilibria's ``(V^p, V^a)`` over ``states``: ``"equal"``, ``"first"`` /
    ``"second"`` (that one Pareto-dominates: weakly better for both players everywhere, strictly
    somewhere) or ``"incomparable"``."""
    diffs = [first[k][s] - second[k][s] for k in (0, 1) for s in states]
    if all(x == 0 for x in diffs):
        return "equal"
    if all(x >= 0 for x in diffs):
        return "first"
    if all(x <= 0 for x in diffs):
        return "second"
    return "incomparable"


def pure_stationary(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = EXACT_TIES,
    max_profiles: int = MAX_PROFILES,
    data: ExactPolicyData | None = None,
) -> tuple[list[ProfileResult], dict[str, Any]]:
    """Every pure stationary candidate, its fixed point and the shared checker's verdict.

    Returns the results (one per profile with implementable recommendations, in
    lexicographic order) and what was searched. ``ties`` gives the checker's tolerances
    (default 0: exact) and the margin ξ of the minimal contracts.

    Raises
    ------
    EquilibriaTooLarge
        More than ``max_profiles`` candidate profiles, or more than :data:`MAX_STATES`
        states.
    """
    if model.n_states > MAX_STATES:
        raise EquilibriaTooLarge(
            f"{model.n_states} states exceed the limit of {MAX_STATES}: the enumeration is "
            "for small instances"
        )
    d = data if data is not None else ExactPolicyData(model)
    allowed = implementable_actions(d, ties.margin)
    total = d.n_actions**d.n_states
    candidates = math.prod(len(a) for a in allowed)
    if candidates > max_profiles:
        raise EquilibriaTooLarge(
            f"{candidates} candidate profiles (of {total}) exceed the limit of {max_profiles}: "
            f"the enumeration is for small instances (raise max_profiles to allow more)"
        )
    results = []
    for profile in itertools.product(*allowed):
        fp = profile_fixed_point(model, profile, margin=ties.margin, data=d)
        check = check_spe(model, list(profile), [list(c) for c in fp.contracts], ties=ties, data=d)
        reach = reachable_states(d, check.evaluation.agent_actions.tolist(), model.initial_state)
        results.append(ProfileResult(fp, check, tuple(reach), tuple(model.actions)))
    searched = {
        "profiles": total,
        "candidates": candidates,
        "pruned": total - candidates,
        "implementable": {
            model.states[s]: [model.actions[a] for a in allowed[s]] for s in range(d.n_states)
        },
    }
    return results, searched


def describe_values(model: PrincipalAgentMDP, values: Sequence[Fraction]) -> str:
    """``s0 = 1/2, s1 = 3`` for people."""
    return ", ".join(f"{model.states[s]} = {format_rational(v)}" for s, v in enumerate(values))


# ---------------------------------------------------------------------------------- report
@dataclass(frozen=True, eq=False)
class EquilibriumReport:
    """Everything :func:`equilibria` found, and what it searched.

    Attributes
    ----------
    model : the instance.
    pure : every pure stationary candidate (SPE or not, with its certificate).
    mixed : the mixed stationary SPEs found (``None``: not searched).
    time_dependent : the recursion's periodic SPE (``None``: not searched).
    searched : per class, what was enumerated.
    ties : the checker's tolerances and margin.
    """

    model: PrincipalAgentMDP
    pure: tuple[ProfileResult, ...]
    mixed: tuple[MixedEquilibrium, ...] | None
    time_dependent: TimeDependentResult | None
    searched: dict[str, Any]
    ties: Ties

    @property
    def pure_spes(self) -> tuple[ProfileResult, ...]:
        """The pure stationary SPEs."""
        return tuple(r for r in self.pure if r.is_spe)

    def pareto(self) -> list[dict[str, Any]]:
        """Every pair of pure stationary SPEs compared at the initial state, over the states
        reachable under either, and over all states (:func:`pareto`)."""
        spes = self.pure_spes
        s0 = self.model.initial_state
        out = []
        for i, j in itertools.combinations(range(len(spes)), 2):
            x, y = spes[i], spes[j]
            vx, vy = (x.principal_values, x.agent_values), (y.principal_values, y.agent_values)
            reach = [s for s in range(self.model.n_states) if x.reachable[s] or y.reachable[s]]
            out.append(
                {
                    "first": i,
                    "second": j,
                    "at_initial_state": pareto(vx, vy, [s0]),
                    "over_reachable_states": pareto(vx, vy, reach),
                    "over_all_states": pareto(vx, vy, range(self.model.n_states)),
                    "differ_only_off_the_reachable_set": pareto(vx, vy, reach) == "equal"
                    and pareto(vx, vy, range(self.model.n_states)) != "equal",
                }
            )
        return out

    def to_document(self) -> dict[str, Any]:
        """The ``pamdp/equilibria@1`` document (every number an exact string)."""
        m = self.model
        names, acts = m.states, m.actions

        def values(vp: Sequence[Fraction], va: Sequence[Fraction]) -> dict[str, Any]:
            return {
                names[s]: {"principal": exact_string(vp[s]), "agent": exact_string(va[s])}
                for s in range(m.n_states)
            }

        def contract(c: Sequence[Fraction]) -> list[str | None]:
            return [exact_string(x) for x in c]

        def reachable(r: Sequence[bool]) -> list[str]:
            return [names[s] for s in range(m.n_states) if r[s]]

        pure = [
            {
                "profile": {names[s]: acts[a] for s, a in enumerate(r.fixed_point.recommended)},
                "contracts": {names[s]: contract(c) for s, c in enumerate(r.fixed_point.contracts)},
                "values": values(r.principal_values, r.agent_values),
                "reachable": reachable(r.reachable),
            }
            for r in self.pure_spes
        ]
        rejected = [
            {
                "profile": {names[s]: acts[a] for s, a in enumerate(r.fixed_point.recommended)},
                "largest_deviation_gain": exact_string(r.check.largest_principal_gain),
                "deviations": [dv.to_dict() for dv in r.deviations],
                "violations": [v.to_dict() for v in r.check.violations],
            }
            for r in self.pure
            if not r.is_spe
        ]
        doc: dict[str, Any] = {
            "format": "pamdp/equilibria@1",
            "instance": m.name,
            "initial_state": names[m.initial_state],
            "discount": exact_string(Fraction(m.exact_data().discount)),
            "ties": self.ties.to_dict(),
            "pure_stationary": pure,
            "pure_stationary_rejected": rejected,
            "pareto": self.pareto(),
        }
        if self.mixed is not None:
            doc["mixed_stationary"] = [
                {
                    "state": names[e.state],
                    "support": [acts[e.support[0]], acts[e.support[1]]],
                    "probability": e.probability_text,
                    "probability_float": e.probability_float,
                    "probabilities": {
                        acts[e.support[0]]: e.probability_text,
                        acts[e.support[1]]: e.complement_text,
                    },
                    "exact": e.exact,
                    "profile": {names[s]: acts[a] for s, a in enumerate(e.profile) if s != e.state},
                    "contracts": {
                        names[s]: [contract(c) for c in cs] for s, cs in enumerate(e.contracts)
                    },
                    "values": values(e.principal_values, e.agent_values),
                    "reachable": reachable(e.reachable),
                }
                for e in self.mixed
            ]
        else:
            doc["mixed_stationary"] = None
        t = self.time_dependent
        if t is None:
            doc["time_dependent"] = None
        else:
            doc["time_dependent"] = {
                "found": t.found,
                "period": t.period,
                "steps": t.steps,
                "strict": t.strict,
                "orbit": [
                    {
                        "time": k,
                        "actions": {names[s]: acts[a] for s, a in enumerate(t.actions[k])},
                        "contracts": {names[s]: contract(c) for s, c in enumerate(t.contracts[k])},
                        "values": values(t.principal_values[k], t.agent_values[k]),
                    }
                    for k in range(len(t.actions))
                ],
            }
        doc["searched"] = self.searched
        return doc


def equilibria(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = EXACT_TIES,
    mixed: bool = True,
    periodic: bool = True,
    max_profiles: int = MAX_PROFILES,
    max_steps: int | None = None,
    max_period: int | None = None,
) -> EquilibriumReport:
    """Enumerate the exact equilibria of a small instance (module docstring).

    Parameters
    ----------
    model : any instance (episodic or discounted).
    ties : the checker's tolerances (default 0: exact), the margin ξ of the minimal contracts
        and the principal's tie rule of the time-dependent recursion.
    mixed, periodic : whether to search the mixed stationary and time-dependent classes.
    max_profiles : the size limit: candidate pure profiles, and (mixing state, support,
        profile) combinations, beyond which :class:`EquilibriaTooLarge` is raised.
    max_steps, max_period : the time-dependent recursion's caps (default
        :data:`solvers.equilibria_search.MAX_STEPS` and ``MAX_PERIOD``).
    """
    from solvers.equilibria_search import MAX_PERIOD, MAX_STEPS, mixed_stationary, time_dependent

    max_steps = MAX_STEPS if max_steps is None else max_steps
    max_period = MAX_PERIOD if max_period is None else max_period
    model.require_defined_values()
    data = ExactPolicyData(model)
    pure, searched_pure = pure_stationary(model, ties=ties, max_profiles=max_profiles, data=data)
    searched: dict[str, Any] = {"pure_stationary": searched_pure}
    found_mixed = None
    if mixed:
        found, searched["mixed_stationary"] = mixed_stationary(
            model, ties=ties, max_profiles=max_profiles, data=data
        )
        found_mixed = tuple(found)
    else:
        searched["mixed_stationary"] = None
    orbit = None
    if periodic:
        orbit = time_dependent(
            model, ties=ties, max_steps=max_steps, max_period=max_period, data=data
        )
        searched["time_dependent"] = {
            "start": "zero continuation values",
            "steps": orbit.steps,
            "max_steps": max_steps,
            "max_period": max_period,
            "principal_rule": ties.principal_rule,
        }
    else:
        searched["time_dependent"] = None
    return EquilibriumReport(model, tuple(pure), found_mixed, orbit, searched, ties)
