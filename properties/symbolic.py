"""Symbolic checks with sympy (issue 3, item 3; PAPER.md §1).

Two checks that do not sample the claim but derive it:

1. **Symbolic backward induction** (:func:`symbolic_backward_induction`). On a small episodic
   instance with one number kept symbolic — the discount γ or one reward — backward induction
   (PAPER.md §2) is carried out in sympy. Minimal contracts use the closed forms of PAPER.md §1
   (two outcomes, or observed action), the principal's choice among actions becomes a
   ``Piecewise`` over the conditions under which each action is implementable and best
   (lowest index first on ties, as :func:`solvers.backward_induction.solve_backward_induction`),
   so every value is a piecewise expression in the parameter. :func:`check_symbolic_agreement`
   substitutes sampled values and compares with the *numeric* solvers — exactly with the
   exact-rational backward induction (whose contracts come from the exact simplex, not from
   the closed form), and within a tolerance with the float one.

2. **The two-outcome closed form is the LP optimum** (:func:`prove_two_outcome_closed_form`).
   For one recommended action and up to ``max_deviations`` other actions, every case of the
   closed form — each deviation's ``Δ_a = p_{a^p} − p_a`` positive, zero or negative, which
   ratio ``c_a / Δ_a`` binds, and where the interval ``[d_low, d_high]`` lies relative to 0 —
   is parameterised by non-negative symbols, and the KKT conditions of the LP

       min  (1 − p) b(o0) + p b(o1)   s.t.  Δ_a (b(o1) − b(o0)) ≥ c_a  (a ≠ a^p),  b ≥ 0

   (primal feasibility, a dual solution with dual feasibility, equal objectives — hence
   optimality by weak duality; or a Farkas ray when infeasible) are verified *symbolically*:
   each inequality simplifies to an expression sympy proves non-negative from the symbols'
   signs, each equality to 0. Nothing is sampled; a case that cannot be proven is reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from properties.results import PropertyResult
from solvers.backward_induction import SPESolution, solve_backward_induction
from theory.model import PrincipalAgentMDP, to_fraction

Parameter = tuple[Any, ...]
#: Parameters accepted by :func:`symbolic_backward_induction`.
PARAMETER_KINDS = ("discount", "agent_reward", "principal_reward")


# ============================================================================ closed forms
def closed_form_two_outcomes(
    p_rec: Any, deviations: Sequence[tuple[Any, Any]]
) -> tuple[Any, Any, Any]:
    """The minimal contract for two outcomes (PAPER.md §1 [D], any ordering of the
    probabilities), as sympy expressions.

    Parameters
    ----------
    p_rec : ``p = P(o1 | a^p)``.
    deviations : ``(Δ_a, c_a)`` per other action, ``Δ_a = p − P(o1 | a)`` and
        ``c_a = Q̄(a) − Q̄(a^p)``; the sign of every ``Δ_a`` must be decidable.

    Returns
    -------
    (b0, b1, implementable)
        With ``d_low = max_{Δ_a > 0} c_a / Δ_a``, ``d_high = min_{Δ_a < 0} c_a / Δ_a``:
        implementable iff ``d_low ≤ d_high`` and ``c_a ≤ 0`` whenever ``Δ_a = 0``; the
        contract pays ``d⁺`` on o1 and ``d⁻`` on o0 with ``d = max(d_low, min(0, d_high))``,
        the point of ``[d_low, d_high]`` closest to 0.
    """
    del p_rec  # the contract does not depend on p; its cost does
    lows, highs, equal = [], [], []
    for delta, c in deviations:
        delta = sympy.sympify(delta)
        if delta.is_positive:
            lows.append(c / delta)
        elif delta.is_negative:
            highs.append(c / delta)
        elif delta.is_zero:
            equal.append(c)
        else:
            raise ValueError(f"the sign of Δ = {delta} is not decidable")
    d_low = sympy.Max(*lows) if lows else -sympy.oo
    d_high = sympy.Min(*highs) if highs else sympy.oo
    implementable = sympy.And(sympy.Le(d_low, d_high), *[sympy.Le(c, 0) for c in equal])
    d = sympy.Max(d_low, sympy.Min(0, d_high))
    return sympy.Max(-d, 0), sympy.Max(d, 0), implementable


def closed_form_observed(q_bar: Sequence[Any], recommended: int) -> Any:
    """Observed action (PAPER.md §1 [D]): pay ``max_a Q̄(a) − Q̄(a^p)`` (at least 0) on
    ``a^p`` only; always implementable."""
    others = [q_bar[a] - q_bar[recommended] for a in range(len(q_bar)) if a != recommended]
    return sympy.Max(0, *others)


# ================================================================== symbolic backward induction
@dataclass(frozen=True)
class SymbolicSolution:
    """Backward induction with one symbolic number.

    Each state's values are stored *locally*: expressions in θ and in placeholder symbols
    ``P_j``, ``A_j`` standing for the successors' principal and agent values (composing them
    eagerly makes sympy canonicalise nested ``Piecewise``/``Max`` conditions, which is
    exponentially slow). :meth:`at` evaluates bottom-up; :meth:`principal_value` /
    :meth:`agent_value` compose the full expression in θ alone.

    Attributes
    ----------
    symbol : the parameter's symbol θ.
    parameter : ``("discount",)``, ``("agent_reward", s, a)`` or ``("principal_reward", s, o)``.
    order : states in backward-induction order (successors first).
    local_principal, local_agent : per state, V^p and V^a in θ and the placeholders.
    local_recommended : per state, the recommended action index as a ``Piecewise``.
    principal_placeholders, agent_placeholders : the symbols ``P_j``, ``A_j``.
    """

    symbol: sympy.Symbol
    parameter: Parameter
    order: tuple[int, ...]
    local_principal: tuple[Any, ...]
    local_agent: tuple[Any, ...]
    local_recommended: tuple[Any, ...]
    principal_placeholders: tuple[sympy.Symbol, ...]
    agent_placeholders: tuple[sympy.Symbol, ...]

    def at(self, value: Any) -> tuple[list[Fraction], list[Fraction], list[int]]:
        """Exact ``(V^p, V^a, recommended)`` per state at ``θ = value``."""
        theta = sympy.Rational(str(to_fraction(value)))
        known: dict[Any, Any] = {self.symbol: theta}
        n = len(self.order)
        v_p: list[Fraction] = [Fraction(0)] * n
        v_a: list[Fraction] = [Fraction(0)] * n
        rec = [0] * n
        for s in self.order:
            p = _rational(self.local_principal[s], known)
            a = _rational(self.local_agent[s], known)
            rec[s] = int(_rational(self.local_recommended[s], known))
            known[self.principal_placeholders[s]] = sympy.Rational(p.numerator, p.denominator)
            known[self.agent_placeholders[s]] = sympy.Rational(a.numerator, a.denominator)
            v_p[s], v_a[s] = p, a
        return v_p, v_a, rec

    def _composed(self, local: tuple[Any, ...], state: int) -> Any:
        replacements: dict[Any, Any] = {}
        for s in self.order:
            replacements[self.principal_placeholders[s]] = self.local_principal[s].xreplace(
                replacements
            )
            replacements[self.agent_placeholders[s]] = self.local_agent[s].xreplace(replacements)
            if s == state:
                break
        return local[state].xreplace(replacements)

    def principal_value(self, state: int) -> Any:
        """V^p(state) as one expression in θ (nested ``Piecewise``, unevaluated)."""
        return self._composed(self.local_principal, state)

    def agent_value(self, state: int) -> Any:
        """V^a(state) as one expression in θ (nested ``Piecewise``, unevaluated)."""
        return self._composed(self.local_agent, state)

    def pieces(
        self, state: int, *, which: str = "principal", domain: sympy.Set | None = None
    ) -> list[tuple[Any, sympy.Set]]:
        """``V^p(state)`` (or ``V^a`` with ``which="agent"``) as ``(expression, set)`` pairs
        partitioning ``domain`` (default: [0, 1] for γ, the real line for a reward).

        Folding nested conditions is costly: meant for small instances."""
        expr = self.principal_value(state) if which == "principal" else self.agent_value(state)
        if domain is None:
            domain = sympy.Interval(0, 1) if self.parameter[0] == "discount" else sympy.S.Reals
        folded = sympy.piecewise_fold(expr.doit().rewrite(sympy.Piecewise))
        if not isinstance(folded, sympy.Piecewise):
            return [(sympy.simplify(folded), domain)]
        pairs = folded.as_expr_set_pairs(domain)
        return [(sympy.simplify(e), s) for e, s in pairs if s != sympy.S.EmptySet]


def _rational(expr: Any, values: dict[Any, Any]) -> Fraction:
    """Evaluate ``expr`` at ``values`` (every free symbol given) to an exact Fraction."""
    result = expr.xreplace(values).doit()
    if not result.is_Rational:
        result = sympy.simplify(result)
    if not result.is_Rational:
        raise ValueError(f"expression did not evaluate to a rational: {result}")
    return Fraction(int(result.p), int(result.q))


def _check_parameter(model: PrincipalAgentMDP, parameter: Parameter) -> Parameter:
    if not parameter or parameter[0] not in PARAMETER_KINDS:
        raise ValueError(f"parameter must start with one of {PARAMETER_KINDS}, got {parameter!r}")
    if parameter[0] == "discount":
        return ("discount",)
    if len(parameter) != 3:
        raise ValueError(f"parameter {parameter!r} needs (kind, state, index)")
    _, s, i = parameter
    limit = model.n_actions if parameter[0] == "agent_reward" else model.n_outcomes
    if not (0 <= s < model.n_states and 0 <= i < limit):
        raise ValueError(f"parameter {parameter!r}: index out of range")
    return (parameter[0], int(s), int(i))


def substitute(model: PrincipalAgentMDP, parameter: Parameter, value: Any) -> PrincipalAgentMDP:
    """The instance with the parameter's number set to ``value`` (exact)."""
    parameter = _check_parameter(model, parameter)
    data = model.exact_data()
    v = to_fraction(value)
    if parameter[0] == "discount":
        if not 0 <= v <= 1:
            raise ValueError(f"a discount must lie in [0, 1], got {v}")
        return replace(model, discount=float(v), exact=replace(data, discount=v))
    kind, s, i = parameter
    array = getattr(data, kind).copy()
    array[s, i] = v
    floats = np.array(array.tolist(), dtype=np.float64)
    if kind == "agent_reward":
        return replace(model, agent_reward=floats, exact=replace(data, agent_reward=array))
    return replace(model, principal_reward=floats, exact=replace(data, principal_reward=array))


def symbolic_backward_induction(
    model: PrincipalAgentMDP,
    parameter: Parameter = ("discount",),
    *,
    symbol: sympy.Symbol | None = None,
) -> SymbolicSolution:
    """Backward induction (PAPER.md §2) with ``parameter`` kept symbolic (module docstring).

    Parameters
    ----------
    model : an episodic instance with two outcomes (hidden action) or observed action.
    parameter : ``("discount",)``, ``("agent_reward", s, a)`` or ``("principal_reward", s, o)``.
    symbol : the symbol to use (default ``θ``; non-negative for the discount).
    """
    parameter = _check_parameter(model, parameter)
    heights = model.heights
    if heights is None:
        raise ValueError("symbolic backward induction needs an episodic instance")
    if not model.observed_action and model.n_outcomes != 2:
        raise ValueError(
            "symbolic minimal contracts need two outcomes or observed action, got "
            f"{model.n_outcomes} outcomes"
        )
    theta = (
        symbol
        if symbol is not None
        else sympy.Symbol("θ", nonnegative=True)
        if parameter[0] == "discount"
        else sympy.Symbol("θ", real=True)
    )
    data = model.exact_data()

    def rational(x: Fraction) -> sympy.Rational:
        return sympy.Rational(x.numerator, x.denominator)

    gamma = theta if parameter[0] == "discount" else rational(data.discount)
    agent = [[rational(x) for x in row] for row in data.agent_reward.tolist()]
    principal = [[rational(x) for x in row] for row in data.principal_reward.tolist()]
    if parameter[0] == "agent_reward":
        agent[parameter[1]][parameter[2]] = theta
    elif parameter[0] == "principal_reward":
        principal[parameter[1]][parameter[2]] = theta
    probs = [[[rational(x) for x in row] for row in state] for state in data.outcome_probs.tolist()]
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = [rational(x) for x in data.transition_prob.tolist()]
    v_p: list[Any] = list(sympy.symbols(f"P0:{n_s}", real=True))
    v_a: list[Any] = list(sympy.symbols(f"A0:{n_s}", real=True))
    local_p: list[Any] = [sympy.S.Zero] * n_s
    local_a: list[Any] = [sympy.S.Zero] * n_s
    rec: list[Any] = [sympy.S.Zero] * n_s
    order = np.argsort(heights, kind="stable").tolist()
    for s in order:
        w_a, w_p = [], []
        for o in range(n_o):
            lo, hi = offsets[s * n_o + o], offsets[s * n_o + o + 1]
            w_a.append(gamma * sum((tprob[k] * v_a[nxt[k]] for k in range(lo, hi)), sympy.S.Zero))
            w_p.append(
                principal[s][o]
                + gamma * sum((tprob[k] * v_p[nxt[k]] for k in range(lo, hi)), sympy.S.Zero)
            )
        q_bar = [
            agent[s][a] + sum((probs[s][a][o] * w_a[o] for o in range(n_o)), sympy.S.Zero)
            for a in range(n_a)
        ]
        q, agent_if, implementable = [], [], []
        for g in range(n_a):
            if model.observed_action:
                cost = closed_form_observed(q_bar, g)
                ok: Any = sympy.true
            else:
                p = probs[s][g][1]
                b0, b1, ok = closed_form_two_outcomes(
                    p, [(p - probs[s][a][1], q_bar[a] - q_bar[g]) for a in range(n_a) if a != g]
                )
                cost = (1 - p) * b0 + p * b1
            q.append(sum((probs[s][g][o] * w_p[o] for o in range(n_o)), sympy.S.Zero) - cost)
            agent_if.append(q_bar[g] + cost)
            implementable.append(ok)
        conditions = []
        for g in range(n_a):
            parts = [implementable[g]]
            parts += [sympy.Or(sympy.Not(implementable[h]), sympy.Lt(q[h], q[g])) for h in range(g)]
            parts += [
                sympy.Or(sympy.Not(implementable[h]), sympy.Le(q[h], q[g]))
                for h in range(g + 1, n_a)
            ]
            conditions.append(sympy.And(*parts))
        # unevaluated and in terms of the successors' placeholders (see SymbolicSolution)
        local_p[s] = sympy.Piecewise(*[(q[g], conditions[g]) for g in range(n_a)], evaluate=False)
        local_a[s] = sympy.Piecewise(
            *[(agent_if[g], conditions[g]) for g in range(n_a)], evaluate=False
        )
        rec[s] = sympy.Piecewise(
            *[(sympy.Integer(g), conditions[g]) for g in range(n_a)], evaluate=False
        )
    return SymbolicSolution(
        theta,
        parameter,
        tuple(order),
        tuple(local_p),
        tuple(local_a),
        tuple(rec),
        tuple(v_p),
        tuple(v_a),
    )


def check_symbolic_agreement(
    model: PrincipalAgentMDP,
    parameter: Parameter,
    values: Sequence[Any],
    *,
    float_solver: Callable[[PrincipalAgentMDP], SPESolution] = solve_backward_induction,
    exact_solver: Callable[[PrincipalAgentMDP], SPESolution] | None = None,
    symbolic: Callable[..., SymbolicSolution] = symbolic_backward_induction,
    tol: float = 1e-9,
) -> PropertyResult:
    """The symbolic SPE agrees with the numeric solvers at sampled parameter values.

    Claim: backward induction (PAPER.md §2) with the minimal contracts of PAPER.md §1 is the
    piecewise expression :func:`symbolic_backward_induction` derives.

    Definition: for each value θ, with ``M_θ`` = :func:`substitute` ``(model, parameter, θ)``:
    ``V^p``, ``V^a`` and the recommendation at every state equal those of the exact solver
    (default: ``solve_backward_induction(M_θ, exact=True)``) *exactly*, and ``V^p``, ``V^a``
    equal the float solver's within ``tol``.
    """
    claim = "symbolic-backward-induction"
    solution = symbolic(model, parameter)
    exact = (
        exact_solver
        if exact_solver is not None
        else (lambda m: solve_backward_induction(m, exact=True))
    )
    out: list[str] = []
    for value in values:
        instance = substitute(model, parameter, value)
        v_p, v_a, rec = solution.at(value)
        reference = exact(instance)
        numeric = float_solver(instance)
        for s in range(model.n_states):
            name = model.states[s]
            if v_p[s] != reference.principal_values[s] or v_a[s] != reference.agent_values[s]:
                out.append(
                    f"θ = {value}, {name}: symbolic (V^p, V^a) = ({v_p[s]}, {v_a[s]}), "
                    f"exact solver ({reference.principal_values[s]}, "
                    f"{reference.agent_values[s]})"
                )
            if rec[s] != int(reference.recommended[s]):
                out.append(
                    f"θ = {value}, {name}: symbolic recommends {rec[s]}, exact solver "
                    f"{int(reference.recommended[s])}"
                )
            if (
                abs(float(v_p[s]) - float(numeric.principal_values[s])) > tol
                or abs(float(v_a[s]) - float(numeric.agent_values[s])) > tol
            ):
                out.append(
                    f"θ = {value}, {name}: symbolic (V^p, V^a) = ({float(v_p[s]):.9g}, "
                    f"{float(v_a[s]):.9g}), float solver "
                    f"({float(numeric.principal_values[s]):.9g}, "
                    f"{float(numeric.agent_values[s]):.9g})"
                )
    return PropertyResult(claim, not out, tuple(out), {"values": len(values)})


# ====================================================================== KKT proof, 2 outcomes
@dataclass(frozen=True)
class KKTCase:
    """One case of the closed form with its symbolically verified certificate.

    Attributes
    ----------
    description : the case (signs of Δ, binding deviation, region of the interval).
    kind : ``"optimal"`` (dual certificate) or ``"infeasible"`` (Farkas ray).
    conditions : every condition with whether sympy proved it.
    """

    description: str
    kind: str
    conditions: tuple[tuple[str, bool], ...]

    @property
    def proven(self) -> bool:
        return all(ok for _, ok in self.conditions)


@dataclass(frozen=True)
class KKTProof:
    """All cases of :func:`prove_two_outcome_closed_form`."""

    cases: tuple[KKTCase, ...]

    @property
    def holds(self) -> bool:
        return all(case.proven for case in self.cases)

    def failures(self) -> list[str]:
        return [
            f"{case.description}: " + ", ".join(c for c, ok in case.conditions if not ok)
            for case in self.cases
            if not case.proven
        ]


def _nonnegative(expr: Any) -> bool:
    simplified = sympy.simplify(sympy.expand(expr))
    return bool(simplified.is_nonnegative)


def _positive(expr: Any) -> bool:
    simplified = sympy.simplify(sympy.expand(expr))
    return bool(simplified.is_positive)


def _zero(expr: Any) -> bool:
    return bool(sympy.simplify(sympy.expand(expr)) == 0)


def _is_true(condition: Any) -> bool:
    return bool(sympy.simplify(condition) == sympy.true)


def _is_false(condition: Any) -> bool:
    return bool(sympy.simplify(condition) == sympy.false)


ClosedForm = Callable[[Any, Sequence[tuple[Any, Any]]], tuple[Any, Any, Any]]


def _regions(has_low: bool, has_high: bool) -> list[str]:
    if has_low and has_high:
        return ["pay-o1", "pay-o0", "pay-nothing", "infeasible"]
    if has_low:
        return ["pay-o1", "pay-nothing"]
    if has_high:
        return ["pay-o0", "pay-nothing"]
    return ["pay-nothing"]


def prove_two_outcome_closed_form(
    *, max_deviations: int = 2, closed_form: ClosedForm = closed_form_two_outcomes
) -> KKTProof:
    """Prove symbolically that the two-outcome closed form is the LP optimum (module docstring).

    Parameterisation (all symbols non-negative, those marked ``+`` positive): costs
    ``C0 = 1 − p``, ``C1 = p`` (any non-negative pair: the proof does not need
    ``C0 + C1 = 1``); a deviation with ``Δ > 0`` has ``Δ = δ⁺`` and ``c = Δ·ρ``, one with
    ``Δ < 0`` has ``Δ = −δ⁺`` and ``c = Δ·ρ``, one with ``Δ = 0`` has ``c = −κ`` (tie) or
    ``c = κ⁺`` (blocking); the binding ratio is ``m = max ρ`` over ``Δ > 0`` (others
    ``m − s``) and ``M = min ρ`` over ``Δ < 0`` (others ``M + t``), with the region: pay on
    o1 (``m = μ⁺``, ``M = μ + ν``), pay on o0 (``M = −μ⁺``, ``m = M − ν``), pay nothing
    (``m = −μ1``, ``M = μ2``) or infeasible (``M = m − ν⁺``, ``m`` real).

    ``closed_form`` is the formula under test (default :func:`closed_form_two_outcomes`);
    a wrong one yields unproven cases.
    """
    if not isinstance(max_deviations, int) or max_deviations < 1:
        raise ValueError(f"max_deviations must be a positive integer, got {max_deviations!r}")
    c0, c1 = sympy.symbols("C0 C1", nonnegative=True)
    cases: list[KKTCase] = []
    for n in range(1, max_deviations + 1):
        for signs in itertools.product("+0-", repeat=n):
            plus = [i for i, sg in enumerate(signs) if sg == "+"]
            minus = [i for i, sg in enumerate(signs) if sg == "-"]
            zeros = [i for i, sg in enumerate(signs) if sg == "0"]
            for zero_kinds in itertools.product(("tie", "block"), repeat=len(zeros)):
                blocked = [z for z, k in zip(zeros, zero_kinds, strict=True) if k == "block"]
                regions = ["blocked"] if blocked else _regions(bool(plus), bool(minus))
                tops: list[int | None] = [*plus] or [None]
                bottoms: list[int | None] = [*minus] or [None]
                for top in tops:
                    for bottom in bottoms:
                        for region in regions:
                            cases.append(
                                _prove_case(
                                    signs,
                                    zeros,
                                    zero_kinds,
                                    top,
                                    bottom,
                                    region,
                                    c0,
                                    c1,
                                    closed_form,
                                )
                            )
    return KKTProof(tuple(cases))


def _prove_case(
    signs: Sequence[str],
    zeros: Sequence[int],
    zero_kinds: Sequence[str],
    top: int | None,
    bottom: int | None,
    region: str,
    c0: Any,
    c1: Any,
    closed_form: ClosedForm,
) -> KKTCase:
    n = len(signs)
    pos: dict[str, bool] = {"positive": True}
    nonneg: dict[str, bool] = {"nonnegative": True}
    mu = sympy.Symbol("μ", **pos)
    nu_pos = sympy.Symbol("ν", **pos)
    nu = sympy.Symbol("ν", **nonneg)
    mu1, mu2 = sympy.symbols("μ1 μ2", **nonneg)
    m_real = sympy.Symbol("m", real=True)
    if region == "pay-o1":
        m, big_m = mu, mu + nu
    elif region == "pay-o0":
        big_m, m = -mu, -mu - nu
    elif region == "pay-nothing":
        m, big_m = -mu1, mu2
    elif region == "infeasible":
        m, big_m = m_real, m_real - nu_pos
    else:  # blocked by a Δ = 0 deviation; the ratios are unconstrained
        m, big_m = sympy.Symbol("m", real=True), sympy.Symbol("M", real=True)
    deltas, costs = [], []
    for i, sign in enumerate(signs):
        d = sympy.Symbol(f"δ{i}", positive=True)
        if sign == "+":
            ratio = m if i == top else m - sympy.Symbol(f"s{i}", nonnegative=True)
            deltas.append(d)
            costs.append(d * ratio)
        elif sign == "-":
            ratio = big_m if i == bottom else big_m + sympy.Symbol(f"t{i}", nonnegative=True)
            deltas.append(-d)
            costs.append(-d * ratio)
        else:
            kind = zero_kinds[list(zeros).index(i)]
            kappa = sympy.Symbol(f"κ{i}", **(pos if kind == "block" else nonneg))
            deltas.append(sympy.S.Zero)
            costs.append(-kappa if kind == "tie" else kappa)
    description = (
        f"signs {''.join(signs)}"
        + (f", zero deviations {list(zero_kinds)}" if zeros else "")
        + (f", max ratio at {top}" if top is not None else "")
        + (f", min ratio at {bottom}" if bottom is not None else "")
        + f", region {region}"
    )
    b0, b1, implementable = closed_form(c1, list(zip(deltas, costs, strict=True)))
    conditions: list[tuple[str, bool]] = []
    # LP rows (x = (b0, b1)): row a = (−Δ_a, Δ_a), rhs c_a
    if region in ("infeasible", "blocked"):
        conditions.append(("closed form says unimplementable", _is_false(implementable)))
        y = [sympy.S.Zero] * n
        if region == "blocked":
            y[next(z for z, k in zip(zeros, zero_kinds, strict=True) if k == "block")] = sympy.S.One
        else:
            assert top is not None and bottom is not None
            y[top] = 1 / deltas[top]
            y[bottom] = -1 / deltas[bottom]
        conditions += [(f"y[{i}] ≥ 0", _nonnegative(y[i])) for i in range(n)]
        col0 = sum((y[i] * -deltas[i] for i in range(n)), sympy.S.Zero)
        col1 = sum((y[i] * deltas[i] for i in range(n)), sympy.S.Zero)
        conditions += [
            ("(yᵀA)[o0] ≤ 0", _nonnegative(-col0)),
            ("(yᵀA)[o1] ≤ 0", _nonnegative(-col1)),
            ("y·c > 0", _positive(sum((y[i] * costs[i] for i in range(n)), sympy.S.Zero))),
        ]
        return KKTCase(description, "infeasible", tuple(conditions))
    conditions.append(("closed form says implementable", _is_true(implementable)))
    conditions += [("b(o0) ≥ 0", _nonnegative(b0)), ("b(o1) ≥ 0", _nonnegative(b1))]
    for i in range(n):
        conditions.append(
            (f"IC row {i}: Δ(b1 − b0) ≥ c", _nonnegative(deltas[i] * (b1 - b0) - costs[i]))
        )
    y = [sympy.S.Zero] * n
    if region == "pay-o1":
        assert top is not None
        y[top] = c1 / deltas[top]
    elif region == "pay-o0":
        assert bottom is not None
        y[bottom] = -c0 / deltas[bottom]
    conditions += [(f"y[{i}] ≥ 0", _nonnegative(y[i])) for i in range(n)]
    col0 = sum((y[i] * -deltas[i] for i in range(n)), sympy.S.Zero)
    col1 = sum((y[i] * deltas[i] for i in range(n)), sympy.S.Zero)
    conditions += [
        ("(yᵀA)[o0] ≤ C0", _nonnegative(c0 - col0)),
        ("(yᵀA)[o1] ≤ C1", _nonnegative(c1 - col1)),
        (
            "C·b = y·c (no duality gap)",
            _zero(c0 * b0 + c1 * b1 - sum((y[i] * costs[i] for i in range(n)), sympy.S.Zero)),
        ),
    ]
    return KKTCase(description, "optimal", tuple(conditions))


def check_closed_form_proof(
    *, max_deviations: int = 2, closed_form: ClosedForm = closed_form_two_outcomes
) -> PropertyResult:
    """:func:`prove_two_outcome_closed_form` as a :class:`PropertyResult`."""
    proof = prove_two_outcome_closed_form(max_deviations=max_deviations, closed_form=closed_form)
    return PropertyResult(
        "closed-form-kkt", proof.holds, tuple(proof.failures()), {"cases": len(proof.cases)}
    )


__all__ = [
    "KKTCase",
    "KKTProof",
    "SymbolicSolution",
    "check_closed_form_proof",
    "check_symbolic_agreement",
    "closed_form_observed",
    "closed_form_two_outcomes",
    "prove_two_outcome_closed_form",
    "substitute",
    "symbolic_backward_induction",
]
