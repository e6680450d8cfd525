"""Mixed stationary and time-dependent equilibria of small instances, exactly (PAPER.md §2–3).

The two searches of :func:`solvers.equilibria.equilibria` beyond pure stationary profiles:

* :func:`mixed_stationary` — one mixing state, support of size two (the principal offers the
  minimal contracts of two actions with probabilities ``p`` and ``1 − p``), every other state
  pure; the principal's indifference is solved exactly in ``p`` (sympy) and each root checked
  by the shared SPE checker on the instance with the mixing state split in two.
* :func:`time_dependent` — the finite-horizon SPE recursion from zero continuation values,
  until its actions settle on a period whose exact orbit, unrolled over its phases, passes the
  shared SPE checker.

Both reduce a non-stationary or mixed policy to a *stationary pure profile of a derived
instance* (:func:`solvers.equilibria.derived_model`), so that the one fixed-point routine
(:func:`solvers.equilibria.profile_fixed_point`) and the one SPE checker
(:func:`theory.spe.check_spe`) decide everything.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from solvers.equilibria import (
    MAX_PROFILES,
    EquilibriaTooLarge,
    ProfileFixedPoint,
    continuations,
    derived_model,
    implementable_actions,
    profile_fixed_point,
    q_bar_of,
)
from theory.exact_evaluation import ExactPolicyData
from theory.model import PrincipalAgentMDP
from theory.rational import ONE, ZERO, dot, exact_string
from theory.spe import SPECheck, check_spe, minimal_contract, reachable_states
from theory.ties import EXACT_TIES, Ties

__all__ = [
    "MAX_PERIOD",
    "MAX_STEPS",
    "MIXING_GRID",
    "MixedEquilibrium",
    "TimeDependentResult",
    "mixed_stationary",
    "recursion_step",
    "split_model",
    "time_dependent",
    "unrolled_model",
]

# ------------------------------------------------------------------------ mixed stationary
#: Mixing probabilities sampled to find the regimes of the indifference equation.
MIXING_GRID: tuple[Fraction, ...] = tuple(Fraction(k, 24) for k in range(1, 24))
#: Exact bisection steps on a sign change of the indifference gap between grid points.
_BISECTIONS = 16
#: How an irrational mixing probability is approximated for its (tolerance) check.
_IRRATIONAL_DIGITS = 40
_IRRATIONAL_TOL = Fraction(1, 10**20)


@dataclass(frozen=True, eq=False)
class MixedEquilibrium:
    """A stationary SPE in which the principal mixes at one state (:func:`mixed_stationary`).

    Attributes
    ----------
    state : the mixing state ``m``.
    support : ``(a, b)``: the minimal contract of ``a`` is offered with probability ``p``, that
        of ``b`` with ``1 − p``.
    probability : ``p`` when rational (exact), else ``None``.
    probability_text : ``p`` exactly: ``"11/15"``, or the root of its minimal polynomial.
    probability_float : ``p`` as a float.
    exact : whether the check was exact (rational ``p``); an irrational ``p`` is checked at a
        rational within ``10^-40`` of it with tolerance ``10^-20``.
    profile : the pure action at every other state (``-1`` at ``m``).
    contracts : per state the offered contract; at ``m`` the two contracts ``(b_a, b_b)``.
    principal_values, agent_values : per original state; at ``m`` the value before the
        contract is drawn, ``p·V(m, a) + (1 − p)·V(m, b)``.
    reachable : per original state, reached from the initial state with positive probability.
    check : the shared checker's verdict on the split instance (see :func:`mixed_stationary`).
    """

    state: int
    support: tuple[int, int]
    probability: Fraction | None
    probability_text: str
    probability_float: float
    exact: bool
    profile: tuple[int, ...]
    contracts: tuple[tuple[tuple[Fraction, ...], ...], ...]
    principal_values: tuple[Fraction, ...]
    agent_values: tuple[Fraction, ...]
    reachable: tuple[bool, ...]
    check: SPECheck

    @property
    def complement_text(self) -> str:
        """``1 − p`` exactly (for the second action of the support)."""
        if self.probability is not None:
            return exact_string(ONE - self.probability) or ""
        return f"1 − ({self.probability_text})"


def split_model(
    model: PrincipalAgentMDP,
    data: ExactPolicyData,
    state: int,
    support: tuple[int, int],
    p: Fraction,
) -> PrincipalAgentMDP:
    """The instance in which ``state`` is split into two copies, entered with probabilities
    ``p`` and ``1 − p``: state ``state`` is the copy where the principal offers ``support[0]``'s
    contract, the new last state the copy for ``support[1]``. A stationary profile of it is the
    mixed policy of the original (the contract is drawn before the agent acts, and the agent
    best-responds to the contract it sees)."""
    n = data.n_states
    names = [(s, model.states[s]) for s in range(n)]
    a, b = (model.actions[x] for x in support)
    names[state] = (state, f"{model.states[state]}[{a}]")
    names.append((state, f"{model.states[state]}[{b}]"))

    def successors(x: int, o: int) -> list[tuple[int, Fraction]]:
        out: list[tuple[int, Fraction]] = []
        for t, q in data.successors[names[x][0]][o]:
            out += [(t, q * p), (n, q * (ONE - p))] if t == state else [(t, q)]
        return out

    return derived_model(
        model, data, names, successors, model.initial_state, model.name + " (split)"
    )


def _regime_gap(
    data: ExactPolicyData,
    state: int,
    profile: Sequence[int],
    regime: Sequence[Sequence[Fraction]],
    margin: Fraction,
) -> tuple[Any, Any, Any]:
    """The principal's indifference gap ``V^p(m, a) − V^p(m, b)`` of the split instance as a
    rational function of ``p``, when every state's binding constraints are those of ``regime``.

    The same two linear systems as :func:`profile_fixed_point`, with ``p`` symbolic: the agent's
    values ``v`` solve ``(I − γ M(p)) v = r`` (``M`` the regime's mixture of the outcome
    distributions, split at ``m``), then ``Q̄`` and the minimal-contract costs follow from ``v``,
    and the principal's values solve ``(I − γ P_g(p)) v^p = R − cost``. Both systems are solved
    fraction-free over ``ℚ[p]`` (sympy ``DomainMatrix.solve_den``: ``A x = d b`` with ``x`` and
    the scalar ``d`` polynomials), so every quantity stays a polynomial over one known
    denominator and nothing is simplified as a generic expression. Returns the symbol ``p`` and
    the gap's numerator and denominator as coprime :class:`sympy.Poly` (gcd cancelled).
    """
    import sympy
    from sympy.polys.matrices import DomainMatrix

    p = sympy.Symbol("p")
    ring = sympy.QQ[p]
    p_el = ring.gens[0]

    def r(x: Fraction) -> Any:
        return ring.convert(sympy.QQ(x.numerator, x.denominator))

    zero, one = ring.zero, ring.one
    n = data.n_states + 1
    orig = [*range(data.n_states), state]
    gamma = r(data.gamma)

    def succ(x: int, o: int) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        for t, q in data.successors[orig[x]][o]:
            out += [(t, r(q) * p_el), (n - 1, r(q) * (one - p_el))] if t == state else [(t, r(q))]
        return out

    successors = [[succ(x, o) for o in range(data.n_outcomes)] for x in range(n)]
    lhs = [[zero] * n for _ in range(n)]
    rhs = [[zero] for _ in range(n)]
    for x in range(n):
        s, g, lam = orig[x], profile[x], regime[x]
        total = sum(lam, ZERO)
        mu = [
            (ONE - total) * data.probs[s][g][o]
            + sum((lam[c] * data.probs[s][c][o] for c in range(data.n_actions)), ZERO)
            for o in range(data.n_outcomes)
        ]
        rhs[x][0] = r(
            (ONE - total) * data.agent_reward[s][g]
            + sum(
                (lam[c] * (data.agent_reward[s][c] + margin) for c in range(data.n_actions)), ZERO
            )
        )
        lhs[x][x] += one
        for o, w in enumerate(mu):
            for y, wt in successors[x][o]:
                lhs[x][y] -= gamma * r(w) * wt
    v_num, v_den = DomainMatrix(lhs, (n, n), ring).solve_den(DomainMatrix(rhs, (n, 1), ring))
    v = [v_num[y, 0].element for y in range(n)]
    d = v_den  # v = v_num / d

    def q_bar_num(x: int, c: int) -> Any:
        """``Q̄(x, c) · d``, a polynomial."""
        s = orig[x]
        total = r(data.agent_reward[s][c]) * d
        for o in range(data.n_outcomes):
            for y, wt in successors[x][o]:
                total += gamma * r(data.probs[s][c][o]) * wt * v[y]
        return total

    plhs = [[zero] * n for _ in range(n)]
    prhs = [[zero] for _ in range(n)]
    for x in range(n):
        s, g, lam = orig[x], profile[x], regime[x]
        base = q_bar_num(x, g)
        cost = zero
        for c in range(data.n_actions):
            if lam[c]:
                cost += r(lam[c]) * (q_bar_num(x, c) - base + r(margin) * d)
        prhs[x][0] = r(dot(data.probs[s][g], data.principal_reward[s])) * d - cost
        plhs[x][x] += one
        for o in range(data.n_outcomes):
            for y, wt in successors[x][o]:
                plhs[x][y] -= gamma * r(data.probs[s][g][o]) * wt
    w_num, w_den = DomainMatrix(plhs, (n, n), ring).solve_den(DomainMatrix(prhs, (n, 1), ring))
    numerator, denominator = (w_num[state, 0].element - w_num[n - 1, 0].element).cancel(w_den * d)
    return p, sympy.Poly(numerator.as_expr(), p), sympy.Poly(denominator.as_expr(), p)


def _roots_in_unit_interval(p: Any, numerator: Any, denominator: Any) -> list[Any]:
    """The real roots of the gap's numerator in the open interval (0, 1) where its denominator
    does not vanish, exact (sympy :meth:`~sympy.Poly.real_roots`: rationals or ``CRootOf``)."""
    if numerator.is_zero:
        return []
    out = []
    for root in sorted(set(numerator.real_roots())):
        if 0 < root < 1 and denominator.eval(root) != 0:
            out.append(root)
    return out


def _root_text(p: Any, root: Any) -> tuple[Fraction | None, str, float]:
    import sympy

    if root.is_rational:
        value = Fraction(int(root.p), int(root.q))
        return value, exact_string(value) or "", float(value)
    poly = sympy.minimal_polynomial(root, p)
    approx = float(sympy.N(root, 30))
    return None, f"the root near {approx:.12g} of {sympy.sstr(poly)} = 0", approx


def mixed_stationary(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = EXACT_TIES,
    max_profiles: int = MAX_PROFILES,
    data: ExactPolicyData | None = None,
) -> tuple[list[MixedEquilibrium], dict[str, Any]]:
    """Stationary SPEs with one mixing state and a support of two actions, exactly.

    For every state ``m``, every pair ``a < b`` of implementable actions at ``m`` and every
    pure profile of the other states: in the split instance (:func:`split_model`) the
    profile is implemented minimally (:func:`profile_fixed_point`). The principal must be
    indifferent, ``V^p(m, a) = V^p(m, b)``: this gap is continuous in ``p``, and rational in
    ``p`` on each regime of binding constraints. The regimes met at the grid
    :data:`MIXING_GRID` and, by exact bisection, next to each sign change of the gap between
    grid points (and at each root found) are solved symbolically (:func:`_regime_gap`), and
    every root in (0, 1) is then **checked independently**: the split instance at that ``p``
    goes through :func:`profile_fixed_point` and :func:`theory.spe.check_spe`. Why that check
    decides the mixed policy: the split instance's stationary profile *is* the mixed policy
    (the agent sees the drawn contract), its check verifies the agent's best responses and the
    minimal contracts, and the no-deviation conditions at the two copies of ``m`` are
    ``q(m, b) ≤ V^p(m, a)`` and ``q(m, a) ≤ V^p(m, b)`` plus every other action below both:
    together, exactly the principal's indifference and that no contract beats the lottery.

    Searched: the supports above, nothing else (no mixing at two states, no supports of size
    three, no mixing over non-minimal contracts); roots in regimes the grid and bisection do
    not meet (a tangential root inside one grid interval) can be missed. A gap identically 0
    on a regime (a continuum of mixed SPEs) is reported through its grid points only.
    """
    d = data if data is not None else ExactPolicyData(model)
    allowed = implementable_actions(d, ties.margin)
    n = d.n_states
    found: dict[tuple[Any, ...], MixedEquilibrium] = {}
    regimes_solved = 0
    combos = 0
    for m in range(n):
        others = [allowed[s] if s != m else [-1] for s in range(n)]
        count = math.prod(len(x) for x in others) * (len(allowed[m]) * (len(allowed[m]) - 1) // 2)
        if combos + count > max_profiles:
            raise EquilibriaTooLarge(
                f"more than {max_profiles} (mixing state, support, profile) combinations: the "
                "mixed search is for small instances"
            )
        combos += count
        for a, b in itertools.combinations(allowed[m], 2):
            for rest in itertools.product(*others):
                aug = [*rest[:m], a, *rest[m + 1 :], b]

                regimes: dict[tuple[Any, ...], None] = {}

                def evaluate(
                    p: Fraction,
                    tol: Ties = ties,
                    m: int = m,
                    a: int = a,
                    b: int = b,
                    aug: Any = aug,
                    regimes: dict[tuple[Any, ...], None] = regimes,
                ) -> tuple[ProfileFixedPoint, SPECheck, Fraction]:
                    fp, check, gap = _evaluate_split(model, d, m, (a, b), aug, p, tol)
                    regimes.setdefault(fp.regime)
                    return fp, check, gap

                def record(
                    p: Fraction,
                    fp: ProfileFixedPoint,
                    check: SPECheck,
                    text: str,
                    approx: float,
                    exact: bool,
                    key: tuple[Any, ...] = (m, a, b, tuple(rest)),
                ) -> None:
                    m_, a_, b_, rest_ = key
                    found.setdefault(
                        (*key, text),
                        _mixed_result(
                            model, d, m_, (a_, b_), p, text, approx, exact, rest_, fp, check
                        ),
                    )

                previous: tuple[Fraction, Fraction] | None = None
                for p in MIXING_GRID:
                    fp, check, gap = evaluate(p)
                    if check.ok:
                        record(p, fp, check, exact_string(p) or "", float(p), True)
                    if previous is not None and (previous[1] < 0 < gap or gap < 0 < previous[1]):
                        low, high, low_gap = previous[0], p, previous[1]
                        for _ in range(_BISECTIONS):
                            mid = (low + high) / 2
                            _, _, mid_gap = evaluate(mid)
                            if (mid_gap < 0) == (low_gap < 0):
                                low, low_gap = mid, mid_gap
                            else:
                                high = mid
                    previous = (p, gap)
                done: set[tuple[Any, ...]] = set()
                while len(done) < len(regimes):
                    regime = next(r for r in regimes if r not in done)
                    done.add(regime)
                    regimes_solved += 1
                    symbol, numerator, denominator = _regime_gap(d, m, aug, regime, ties.margin)
                    for root in _roots_in_unit_interval(symbol, numerator, denominator):
                        value, text, approx = _root_text(symbol, root)
                        if value is not None:
                            fp, check, _ = evaluate(value)
                            if check.ok:
                                record(value, fp, check, text, approx, True)
                        else:
                            near = Fraction(str(sympy_n(root))).limit_denominator(
                                10**_IRRATIONAL_DIGITS
                            )
                            loose = ties.with_tolerance(_IRRATIONAL_TOL)
                            fp, check, _ = evaluate(near, loose)
                            if check.ok:
                                record(near, fp, check, text, approx, False)
    searched = {
        "mixing_states": "each state in turn, one at a time",
        "support_size": 2,
        "supports": "every pair of implementable actions at the mixing state, each offered "
        "with its minimal contract",
        "other_states": "every pure profile of implementable actions",
        "combinations": combos,
        "regimes_solved": regimes_solved,
        "grid": f"p = k/{len(MIXING_GRID) + 1}, k = 1..{len(MIXING_GRID)}, with {_BISECTIONS} "
        "exact bisections at each sign change of the indifference gap",
        "not_searched": "two or more mixing states, supports of size 3 or more, mixing over "
        "non-minimal contracts",
    }
    return list(found.values()), searched


def _evaluate_split(
    model: PrincipalAgentMDP,
    data: ExactPolicyData,
    state: int,
    support: tuple[int, int],
    profile: Sequence[int],
    p: Fraction,
    ties: Ties,
) -> tuple[ProfileFixedPoint, SPECheck, Fraction]:
    """The split instance at ``p``: its profile's fixed point, the checker's verdict and the
    indifference gap ``V^p(m, a) − V^p(m, b)``."""
    split = split_model(model, data, state, support, p)
    fp = profile_fixed_point(split, profile, margin=ties.margin)
    check = check_spe(split, list(profile), [list(c) for c in fp.contracts], ties=ties)
    gap = check.states[state].principal_value - check.states[data.n_states].principal_value
    return fp, check, gap


def sympy_n(root: Any) -> Any:
    """``root`` to :data:`_IRRATIONAL_DIGITS` + 5 significant digits (sympy)."""
    import sympy

    return sympy.N(root, _IRRATIONAL_DIGITS + 5)


def _mixed_result(
    model: PrincipalAgentMDP,
    data: ExactPolicyData,
    m: int,
    support: tuple[int, int],
    p: Fraction,
    text: str,
    approx: float,
    exact: bool,
    rest: Sequence[int],
    fp: ProfileFixedPoint,
    check: SPECheck,
) -> MixedEquilibrium:
    n = data.n_states
    weight = p
    v_p = [c.principal_value for c in check.states]
    v_a = [c.agent_value for c in check.states]
    v_p[m] = weight * v_p[m] + (ONE - weight) * v_p[n]
    v_a[m] = weight * v_a[m] + (ONE - weight) * v_a[n]
    actions = check.evaluation.agent_actions.tolist()
    split_data = ExactPolicyData(split_model(model, data, m, support, weight))
    starts = [model.initial_state] + ([n] if model.initial_state == m else [])
    seen = [False] * (n + 1)
    for start in starts:
        seen = [
            x or y for x, y in zip(seen, reachable_states(split_data, actions, start), strict=True)
        ]
    reach = seen[:n]
    reach[m] = seen[m] or seen[n]
    contracts: list[tuple[tuple[Fraction, ...], ...]] = [(c,) for c in fp.contracts[:n]]
    contracts[m] = (fp.contracts[m], fp.contracts[n])
    return MixedEquilibrium(
        m,
        support,
        p if exact else None,
        text,
        approx,
        exact,
        tuple(rest),
        tuple(contracts),
        tuple(v_p[:n]),
        tuple(v_a[:n]),
        tuple(reach),
        check,
    )


# -------------------------------------------------------------------------- time-dependent
#: Default cap on the steps of the finite-horizon recursion and on the period searched.
MAX_STEPS = 400
MAX_PERIOD = 12


@dataclass(frozen=True, eq=False)
class TimeDependentResult:
    """What the finite-horizon recursion from zero continuation values converged to.

    Attributes
    ----------
    found : whether an exact periodic orbit (period 1 = stationary) passed the SPE check.
    period : its period (``None`` when not found).
    steps : recursion steps run.
    actions : per time ``t = 0, …, period − 1`` the recommended action per state (the policy
        then repeats with the period).
    contracts, principal_values, agent_values : per time and state, exact.
    strict : whether every choice of the recursion's last period was strict (no principal
        tie).
    check : the shared checker's verdict on the phase-unrolled instance (``None`` if none).
    """

    found: bool
    period: int | None
    steps: int
    actions: tuple[tuple[int, ...], ...] = ()
    contracts: tuple[tuple[tuple[Fraction, ...], ...], ...] = ()
    principal_values: tuple[tuple[Fraction, ...], ...] = ()
    agent_values: tuple[tuple[Fraction, ...], ...] = ()
    strict: bool = False
    check: SPECheck | None = None


def recursion_step(
    data: ExactPolicyData,
    agent_next: Sequence[Fraction],
    principal_next: Sequence[Fraction],
    ties: Ties,
) -> tuple[list[int], list[Fraction], list[Fraction], list[bool]]:
    """One step of the finite-horizon SPE recursion (backward induction, PAPER.md §2): given
    the continuation values, the agent's Q̄, every action's minimal contract, the principal's
    contractual q and its choice (``ties.principal_rule``, exact comparison). Returns the
    actions, the new agent and principal values and whether each choice was strict."""
    import numpy as np

    from theory.ties import argmax_with_ties

    q = q_bar_of(data, agent_next)
    w = continuations(data, principal_next)
    actions, v_a, v_p, strict = [], [], [], []
    for s in range(data.n_states):
        outcome_value = [
            data.principal_reward[s][o] + data.gamma * w[s][o] for o in range(data.n_outcomes)
        ]
        values = np.empty((1, data.n_actions), dtype=object)
        agent = np.empty((1, data.n_actions), dtype=object)
        eligible = np.zeros((1, data.n_actions), dtype=bool)
        for a in range(data.n_actions):
            lp = minimal_contract(q[s], data.probs[s], a, ties.margin)
            if lp.implementable:
                cost = lp.expected_payment or ZERO
                values[0, a] = dot(data.probs[s][a], outcome_value) - cost
                agent[0, a] = q[s][a] + cost
                eligible[0, a] = True
        if not eligible.any():  # only with a margin: the agent's unpaid choice (backward induction)
            best = q[s].index(max(q[s]))
            actions.append(best)
            v_a.append(q[s][best])
            v_p.append(dot(data.probs[s][best], outcome_value))
            strict.append(True)
            continue
        choice = int(argmax_with_ties(values, eligible, agent, rule=ties.principal_rule, tol=0)[0])
        top = values[0, choice]
        actions.append(choice)
        v_a.append(agent[0, choice])
        v_p.append(top)
        strict.append(
            sum(1 for a in range(data.n_actions) if eligible[0, a] and values[0, a] == top) == 1
        )
    return actions, v_a, v_p, strict


def unrolled_model(
    model: PrincipalAgentMDP, data: ExactPolicyData, period: int
) -> PrincipalAgentMDP:
    """The instance on (state, phase) pairs: phase ``j`` moves to phase ``j − 1 (mod period)``.
    Node ``j·S + s`` is ``(s, j)``; the initial node is ``(s0, period − 1)``. A stationary
    profile of it is a periodic policy of the original (the phase is the time modulo the
    period, known to both players), so its SPEs are the periodic SPEs of the original."""
    n = data.n_states
    nodes = [(s, f"{model.states[s]}@{j}") for j in range(period) for s in range(n)]

    def successors(x: int, o: int) -> list[tuple[int, Fraction]]:
        s, j = x % n, x // n
        back = ((j - 1) % period) * n
        return [(back + t, q) for t, q in data.successors[s][o]]

    return derived_model(
        model,
        data,
        nodes,
        successors,
        (period - 1) * n + model.initial_state,
        model.name + " (unrolled)",
    )


def time_dependent(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = EXACT_TIES,
    max_steps: int = MAX_STEPS,
    max_period: int = MAX_PERIOD,
    data: ExactPolicyData | None = None,
) -> TimeDependentResult:
    """Iterate the finite-horizon SPE recursion exactly from zero continuation values.

    After each step, if the recursion's actions have repeated with some period ``P ≤
    max_period`` over the last ``3P`` steps, the periodic policy that plays the last ``P``
    choices in reverse order of computation (time ``t`` uses the choice computed ``t`` steps
    before the last) is unrolled over its phases (:func:`unrolled_model`), its exact
    self-consistent minimal contracts are computed (:func:`profile_fixed_point`: the *exact*
    periodic orbit the iterates converge to, not an iterate) and it is judged by
    :func:`theory.spe.check_spe` as a stationary profile of the unrolled instance, i.e. as a
    time-dependent policy of the discounted game. The first that passes is returned.
    """
    d = data if data is not None else ExactPolicyData(model)
    n = d.n_states
    v_a = [ZERO] * n
    v_p = [ZERO] * n
    history: list[tuple[int, ...]] = []
    strictness: list[bool] = []
    tried: set[tuple[tuple[int, ...], ...]] = set()
    for step in range(1, max_steps + 1):
        actions, v_a, v_p, strict = recursion_step(d, v_a, v_p, ties)
        history.append(tuple(actions))
        strictness.append(all(strict))
        for period in range(1, max_period + 1):
            if len(history) < 3 * period:
                break
            tail = history[-3 * period :]
            if any(tail[k] != tail[k + period] for k in range(2 * period)):
                continue
            phases = tuple(history[-period:])
            if phases in tried:
                continue
            tried.add(phases)
            unrolled = unrolled_model(model, d, period)
            profile = [a for phase in phases for a in phase]
            fp = profile_fixed_point(unrolled, profile, margin=ties.margin)
            check = check_spe(unrolled, profile, [list(c) for c in fp.contracts], ties=ties)
            if not check.ok:
                continue
            order = [(period - 1 - t) % period for t in range(period)]
            return TimeDependentResult(
                True,
                period,
                step,
                tuple(phases[j] for j in order),
                tuple(tuple(fp.contracts[j * n + s] for s in range(n)) for j in order),
                tuple(
                    tuple(check.states[j * n + s].principal_value for s in range(n)) for j in order
                ),
                tuple(tuple(check.states[j * n + s].agent_value for s in range(n)) for j in order),
                all(strictness[-period:]),
                check,
            )
    return TimeDependentResult(False, None, max_steps)
