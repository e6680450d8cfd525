"""Exact subgame-perfect equilibrium by backward induction (PAPER.md §2; Ivanov et al. §3).

For an episodic instance (acyclic state graph) the SPE is computed from the episode ends
upwards. At a state ``s`` whose successors are solved, with continuation values

    W^p(s, o) = r^p(s, o) + γ Σ_{s'} T(s, o)(s') V^p(s')       (principal, per outcome)
    W^a(s, o) =             γ Σ_{s'} T(s, o)(s') V^a(s')       (agent, per outcome)

the agent's truncated Q is ``Q̄(s, a) = r(s, a) + Σ_o 𝒪(s, a)(o) W^a(s, o)``, every action's
minimal implementation ``b*(s, a)`` follows from ``Q̄(s, ·)`` (PAPER.md §1), and the principal's
contractual Q is

    q(s, a) = Σ_o 𝒪(s, a)(o) [W^p(s, o) − b*(s, a)(o)]            (−∞ if a is unimplementable).

The principal recommends ``a^p(s) ∈ argmax_a q(s, a)``, and ``V^p(s) = q(s, a^p)``,
``V^a(s) = Q̄(s, a^p) + E_{𝒪(s, a^p)}[b*(s, a^p)]``. The agent's best response to any other
contract at ``s`` is ``argmax_a E_a[b] + Q̄(s, a)`` (ties to the recommendation), so ``Q̄``
describes the agent's whole SPE strategy.

Unimplementable states: without nudging (ξ = 0) the agent's no-contract best response is always
implementable at cost 0, so every state has an implementable action. With ξ > 0 a state can have
none (e.g. two actions with identical outcome distributions can never be separated by a strict
margin). There the principal offers the zero contract and recommends the agent's no-contract
best response (lowest index among ties), which the agent then plays: it is marked implementable
(with contract 0) in the result, see :func:`with_no_contract_fallback`.

Ties, tolerances and the nudging margin come from one :class:`theory.ties.Ties` object. Principal
ties (several actions with the same q) change the agent's value and hence the agent's
incentives upstream; ``ties.principal_rule`` picks among them (``"lowest_index"``, the default;
``"agent_best"`` / ``"agent_worst"``: the maximiser giving the agent the most / least value,
then the lowest index), through :func:`theory.ties.argmax_with_ties`.

In float mode maximisers are the actions within ``ties.principal_tol`` of the maximum and the
contract LP counts incentive violations up to ``ties.agent_tol`` as ties; in exact mode every
comparison is exact and the margin ``ties.margin`` is used as the exact rational it holds (a
float margin such as 0.1 is read as 1/10, never as its binary expansion). Float mode
processes one *level* (states of equal height) at a time, vectorised, with the batched
contract solver; exact mode runs in rationals state by state with ``theory.exact_contracts``.

Exact mode has two implementations giving the same Fractions (``tests/test_exact_backend.py``):
the reference ``exact_backend="python"`` (Fractions, every action's contract by the exact LP
with its certificate) and ``"flint"`` (python-flint ``fmpq``, the default when python-flint is
installed). The flint path solves two actions with two outcomes (the paper's trees, hidden or
observed action) level by level in closed form on object arrays of ``fmpq``
(:func:`_solve_exact_flint_pair`; about 11× the reference on the depth-10 tree,
``benchmarks/bench_exact.py``), and any other shape state by state with the two-outcome closed
form :func:`theory.exact_contracts.two_outcome_contract` where it applies and the exact LP
otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from solvers.contracts import ContractSolution, minimal_contracts_all_actions
from theory.exact_backend import (
    distinct_objects,
    fraction_of,
    resolve_backend,
    to_fmpq,
    to_fmpq_array,
)
from theory.model import PrincipalAgentMDP
from theory.ties import DEFAULT_TIES, Ties, argmax_with_ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

_ZERO = Fraction(0)


@dataclass(frozen=True, eq=False)
class SPESolution:
    """An SPE with everything the solvers know about it, per state.

    Arrays are float64 in float mode and object arrays of :class:`fractions.Fraction` in exact
    mode (``exact=True``); unimplementable entries of ``principal_q`` are ``-inf`` (float) or
    ``None`` (exact), and their ``contracts_all`` rows are zero.

    Attributes
    ----------
    recommended : (S,) recommended action per state.
    contracts : (S, O) the minimal contract offered in each state.
    principal_values, agent_values : (S,) V^p and V^a.
    q_bar : (S, A) agent truncated Q-values.
    principal_q : (S, A) the principal's contractual q.
    implementable : (S, A) whether each action can be implemented.
    contracts_all : (S, A, O) the minimal contract of every action.
    exact : whether the numbers are exact rationals.
    iterations : number of iterations (1 for backward induction).
    """

    recommended: IntArray
    contracts: npt.NDArray[np.float64] | ObjectArray
    principal_values: npt.NDArray[np.float64] | ObjectArray
    agent_values: npt.NDArray[np.float64] | ObjectArray
    q_bar: npt.NDArray[np.float64] | ObjectArray
    principal_q: npt.NDArray[np.float64] | ObjectArray
    implementable: BoolArray
    contracts_all: npt.NDArray[np.float64] | ObjectArray
    exact: bool = False
    iterations: int = 1

    def value_at(self, state: int) -> tuple[float | Fraction, float | Fraction]:
        """``(V^p(s), V^a(s))``."""
        return self.principal_values[state], self.agent_values[state]


def with_no_contract_fallback(q_bar: FloatArray, solution: ContractSolution) -> ContractSolution:
    """Rows with no implementable action get the zero contract for the no-contract best
    response ``argmax_a Q̄(s, a)`` (module docstring). Only possible with a margin ξ > 0."""
    empty = ~solution.implementable.any(axis=1)
    if not empty.any():
        return solution
    implementable = solution.implementable.copy()
    contracts = solution.contracts.copy()
    payment = solution.expected_payment.copy()
    rows = np.flatnonzero(empty)
    fallback = np.argmax(q_bar[rows], axis=1)
    implementable[rows, fallback] = True
    contracts[rows, fallback] = 0.0
    payment[rows, fallback] = 0.0
    return ContractSolution(contracts, implementable, payment)


def _require_episodic(model: PrincipalAgentMDP) -> npt.NDArray[np.int64]:
    model.require_defined_values()
    heights = model.heights
    if heights is None:
        raise ValueError(
            "backward induction needs an episodic instance (an acyclic state graph); this "
            f"instance has a cycle (discount {model.discount}); use the meta-algorithm"
        )
    return heights


def solve_backward_induction(
    model: PrincipalAgentMDP,
    *,
    exact: bool = False,
    ties: Ties = DEFAULT_TIES,
    contract_method: str = "auto",
    exact_backend: str | None = None,
) -> SPESolution:
    """Solve an episodic instance for its SPE by backward induction (see the module docstring).

    Parameters
    ----------
    model : an episodic instance (acyclic state graph; any γ ≤ 1).
    exact : compute in exact rationals (``model.exact_data()``) instead of float64.
    ties : the principal's tie rule, the float tolerances and the nudging margin ξ ≥ 0 in the
        minimal contracts (module docstring; ξ = 0 is the exact minimal implementation).
    contract_method : float mode only: ``"auto"``, ``"closed_form"`` or ``"lp"``.
    exact_backend : exact mode only: ``"flint"``, ``"python"`` or ``None`` (the default of
        :mod:`theory.exact_backend`); the same Fractions either way.

    Most callers should use :func:`solvers.solve.solve`, the one entry point that picks the
    method from the horizon and records every setting in its result.
    """
    heights = _require_episodic(model)
    if exact:
        if resolve_backend(exact_backend) == "flint":
            return _solve_exact_flint(model, heights, ties)
        return _solve_exact(model, heights, ties)
    return _solve_float(model, heights, ties, contract_method)


def _solve_float(
    model: PrincipalAgentMDP,
    heights: npt.NDArray[np.int64],
    ties: Ties,
    contract_method: str,
) -> SPESolution:
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    gamma = model.discount
    probs = model.outcome_probs
    matrix = model.transition_matrix
    v_p = np.zeros(n_s)
    v_a = np.zeros(n_s)
    q_bar = np.zeros((n_s, n_a))
    principal_q = np.full((n_s, n_a), -np.inf)
    implementable = np.zeros((n_s, n_a), dtype=bool)
    contracts_all = np.zeros((n_s, n_a, n_o))
    recommended = np.zeros(n_s, dtype=np.int64)
    order = np.argsort(heights, kind="stable")
    bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
    for level in range(heights.max() + 1):
        states = order[bounds[level] : bounds[level + 1]]
        rows = (states[:, None] * n_o + np.arange(n_o)).ravel()
        sub = matrix[rows]
        cont_p = (gamma * (sub @ v_p)).reshape(-1, n_o) + model.principal_reward[states]
        cont_a = (gamma * (sub @ v_a)).reshape(-1, n_o)
        p = probs[states]
        qb = model.agent_reward[states] + np.einsum("sao,so->sa", p, cont_a)
        solution = with_no_contract_fallback(
            qb,
            minimal_contracts_all_actions(qb, p, ties=ties, method=contract_method),
        )
        payment = np.nan_to_num(solution.expected_payment, nan=0.0)
        q = np.einsum("sao,so->sa", p, cont_p) - payment
        q = np.where(solution.implementable, q, -np.inf)
        agent_if = qb + payment
        rec = argmax_with_ties(
            q,
            solution.implementable,
            agent_if,
            rule=ties.principal_rule,
            tol=ties.principal_tol_float,
        )
        idx = np.arange(len(states))
        v_p[states] = q[idx, rec]
        v_a[states] = agent_if[idx, rec]
        q_bar[states] = qb
        principal_q[states] = q
        implementable[states] = solution.implementable
        contracts_all[states] = solution.contracts
        recommended[states] = rec
    contracts = contracts_all[np.arange(n_s), recommended]
    return SPESolution(
        recommended,
        contracts,
        v_p,
        v_a,
        q_bar,
        principal_q,
        implementable,
        contracts_all,
        exact=False,
    )


def _solve_exact(
    model: PrincipalAgentMDP, heights: npt.NDArray[np.int64], ties: Ties
) -> SPESolution:
    from theory.exact_contracts import minimal_contracts_exact_all_actions

    margin = ties.margin
    data = model.exact_data()
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    gamma = data.discount
    zero = Fraction(0)
    v_p = np.full(n_s, zero, dtype=object)
    v_a = np.full(n_s, zero, dtype=object)
    q_bar = np.full((n_s, n_a), zero, dtype=object)
    principal_q = np.full((n_s, n_a), None, dtype=object)
    implementable = np.zeros((n_s, n_a), dtype=bool)
    contracts_all = np.full((n_s, n_a, n_o), zero, dtype=object)
    recommended = np.zeros(n_s, dtype=np.int64)
    offsets, nxt, tprob = model.transition_offsets, model.transition_next, data.transition_prob
    for s in np.argsort(heights, kind="stable"):
        s = int(s)
        cont_p, cont_a = [], []
        for o in range(n_o):
            row = s * n_o + o
            lo, hi = offsets[row], offsets[row + 1]
            ev_p = sum((tprob[k] * v_p[nxt[k]] for k in range(lo, hi)), zero)
            ev_a = sum((tprob[k] * v_a[nxt[k]] for k in range(lo, hi)), zero)
            cont_p.append(data.principal_reward[s, o] + gamma * ev_p)
            cont_a.append(gamma * ev_a)
        probs = data.outcome_probs[s]
        qb = [
            data.agent_reward[s, a] + sum((probs[a, o] * cont_a[o] for o in range(n_o)), zero)
            for a in range(n_a)
        ]
        results = minimal_contracts_exact_all_actions(qb, probs.tolist(), margin=margin)
        feasible = [result.implementable for result in results]
        contracts_s = [list(result.contract) for result in results]
        payments = [result.expected_payment for result in results]
        if not any(feasible):  # only with a margin: zero contract, no-contract best response
            fallback = qb.index(max(qb))
            feasible[fallback] = True
            contracts_s[fallback] = [zero] * n_o
            payments[fallback] = zero
        q_values: list[Fraction | None] = []
        agent_if: list[Fraction] = []
        for a in range(n_a):
            if feasible[a]:
                payment = payments[a]
                assert payment is not None
                q_values.append(sum((probs[a, o] * cont_p[o] for o in range(n_o)), zero) - payment)
                agent_if.append(qb[a] + payment)
            else:
                q_values.append(None)
                agent_if.append(zero)
        rec = int(
            argmax_with_ties(
                np.array([q_values], dtype=object),
                np.array([feasible]),
                np.array([agent_if], dtype=object),
                rule=ties.principal_rule,
                tol=0,
            )[0]
        )
        recommended[s] = rec
        v_p[s] = q_values[rec]
        v_a[s] = agent_if[rec]
        q_bar[s] = qb
        for a in range(n_a):
            principal_q[s, a] = q_values[a]
            implementable[s, a] = feasible[a]
            contracts_all[s, a] = contracts_s[a]
    contracts = contracts_all[np.arange(n_s), recommended]
    return SPESolution(
        recommended,
        contracts,
        v_p,
        v_a,
        q_bar,
        principal_q,
        implementable,
        contracts_all,
        exact=True,
    )


def _solve_exact_flint(
    model: PrincipalAgentMDP, heights: npt.NDArray[np.int64], ties: Ties
) -> SPESolution:
    """:func:`_solve_exact` in python-flint ``fmpq`` (module docstring), Fractions out."""
    from theory.exact_contracts import minimal_contracts_exact_all_actions, two_outcome_contract

    data = model.exact_data()
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    if n_a == 2 and n_o == 2:
        return _solve_exact_flint_pair(model, heights, ties)
    probs_exact = data.outcome_probs.tolist()
    num = to_fmpq
    zero = num(0)
    gamma, margin = num(data.discount), num(ties.margin)
    undiscounted = gamma == 1
    probs = [[[num(p) for p in row] for row in state] for state in probs_exact]
    distinct = {tuple(row) for state in probs for row in state}
    if any(sum(row, zero) != 1 or min(row) < 0 for row in distinct):
        return _solve_exact(model, heights, ties)  # it raises the reference's message
    agent_reward = [[num(r) for r in state] for state in data.agent_reward.tolist()]
    principal_reward = [[num(r) for r in state] for state in data.principal_reward.tolist()]
    offsets = model.transition_offsets.tolist()
    pairs = list(zip(model.transition_next.tolist(), map(num, data.transition_prob), strict=True))
    successors = [pairs[lo:hi] for lo, hi in itertools.pairwise(offsets)]
    v_p: list[Any] = [zero] * n_s
    v_a: list[Any] = [zero] * n_s
    q_bar: list[list[object]] = [[]] * n_s
    principal_q: list[list[object]] = [[]] * n_s
    implementable = np.zeros((n_s, n_a), dtype=bool)
    contracts_all: list[list[tuple[object, ...]]] = [[]] * n_s
    recommended = np.zeros(n_s, dtype=np.int64)
    order = np.argsort(heights, kind="stable")
    bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
    for level in range(heights.max() + 1):
        states = order[bounds[level] : bounds[level + 1]].tolist()
        agent_rows: list[list[object]] = []
        feasible_rows: list[list[bool]] = []
        for s in states:
            cont_p, cont_a = [], []
            for o in range(n_o):
                succ = successors[s * n_o + o]
                if len(succ) == 1 and succ[0][1] == 1:  # a sure successor (trees): no products
                    ev_p, ev_a = v_p[succ[0][0]], v_a[succ[0][0]]
                else:
                    ev_p, ev_a = zero, zero
                    for t, q in succ:
                        ev_p += q * v_p[t]
                        ev_a += q * v_a[t]
                if not undiscounted:
                    ev_p, ev_a = gamma * ev_p, gamma * ev_a
                cont_p.append(principal_reward[s][o] + ev_p)
                cont_a.append(ev_a)
            p_s = probs[s]
            if n_o == 2:  # the same sums, unrolled (exact: the order does not matter)
                a0, a1 = cont_a
                qb = [r + p[0] * a0 + p[1] * a1 for r, p in zip(agent_reward[s], p_s, strict=True)]
                results = [two_outcome_contract(qb, p_s, a, margin, zero) for a in range(n_a)]
            else:
                qb = [
                    agent_reward[s][a] + sum((p_s[a][o] * cont_a[o] for o in range(n_o)), zero)
                    for a in range(n_a)
                ]
                results = [
                    (
                        tuple(num(x) for x in r.contract),
                        r.implementable,
                        None if r.expected_payment is None else num(r.expected_payment),
                    )
                    for r in minimal_contracts_exact_all_actions(
                        [fraction_of(x) for x in qb], probs_exact[s], margin=ties.margin
                    )
                ]
            contracts_s, feasible, payments = (
                list(column) for column in zip(*results, strict=True)
            )
            if not any(feasible):  # only with a margin: zero contract, no-contract best response
                fallback = qb.index(max(qb))
                feasible[fallback] = True
                contracts_s[fallback] = (zero,) * n_o
                payments[fallback] = zero
            q_values: list[object] = []
            agent_if: list[object] = []
            for a in range(n_a):
                payment = payments[a]
                if feasible[a]:
                    p = p_s[a]
                    if n_o == 2:
                        gain = p[0] * cont_p[0] + p[1] * cont_p[1]
                    else:
                        gain = sum((p[o] * cont_p[o] for o in range(n_o)), zero)
                    q_values.append(gain - payment)
                    agent_if.append(qb[a] + payment)
                else:
                    q_values.append(None)
                    agent_if.append(zero)
            q_bar[s], principal_q[s], contracts_all[s] = qb, q_values, contracts_s
            feasible_rows.append(feasible)
            agent_rows.append(agent_if)
        implementable[states] = feasible_rows
        choice = argmax_with_ties(
            _object_array([principal_q[s] for s in states]),
            implementable[states],
            _object_array(agent_rows),
            rule=ties.principal_rule,
            tol=0,
        ).tolist()
        for s, rec, agent_if in zip(states, choice, agent_rows, strict=True):
            recommended[s] = rec
            v_p[s] = principal_q[s][rec]
            v_a[s] = agent_if[rec]
    out = fraction_of
    contracts_out = _object_array(
        [[[out(x) for x in contract] for contract in state] for state in contracts_all]
    )
    return SPESolution(
        recommended,
        contracts_out[np.arange(n_s), recommended],
        _object_array([out(v) for v in v_p]),
        _object_array([out(v) for v in v_a]),
        _object_array([[out(x) for x in row] for row in q_bar]),
        _object_array([[None if x is None else out(x) for x in row] for row in principal_q]),
        implementable,
        contracts_out,
        exact=True,
    )


def _solve_exact_flint_pair(
    model: PrincipalAgentMDP, heights: npt.NDArray[np.int64], ties: Ties
) -> SPESolution:
    """:func:`_solve_exact_flint` for two actions and two outcomes (the paper's trees, hidden
    or observed action) in closed form, one level (states of equal height) at a time, every
    step an operation on object arrays of ``fmpq``.

    Write ``p_a = 𝒪(s, a)(o1)`` (so ``𝒪(s, a)(o0) = 1 − p_a`` exactly), ``W^a``, ``W^p`` for
    the continuation values of the module docstring and ``g = p_0 − p_1``. Then
    ``Q̄(a) = r(a) + W^a(o0) + p_a (W^a(o1) − W^a(o0))``, the principal's gain is
    ``W^p(o0) + p_a (W^p(o1) − W^p(o0))``, and with ``D = Q̄(1) − Q̄(0)`` the closed form of
    :func:`theory.exact_contracts.two_outcome_contract` reads: for ``g ≠ 0`` both actions are
    implementable, action 0 with the bound ``d_0 = (D + ξ) / g`` on ``b(o1) − b(o0)`` (a lower
    bound if ``g > 0``, an upper one if ``g < 0``) and action 1 with ``d_1 = (D − ξ) / g`` (an
    upper bound if ``g > 0``, a lower one if ``g < 0``); a lower bound ``d > 0`` is paid as
    ``(0, d)`` at cost ``p_a d``, an upper bound ``d < 0`` as ``(−d, 0)`` at cost
    ``(1 − p_a)(−d)``, any other bound costs nothing (contract 0). For ``g = 0`` action 0 is
    implementable (by 0) iff ``D + ξ ≤ 0`` and action 1 iff ``ξ − D ≤ 0``. Strict maxima of
    the principal's q are chosen directly, ties by :func:`theory.ties.argmax_with_ties`; a
    state with neither action implementable falls back as in :func:`_solve_exact`.
    """
    data = model.exact_data()
    n_s = model.n_states
    zero = to_fmpq(0)
    probs, distributions = _distribution_pairs(data.outcome_probs)
    if any(x < 0 or y < 0 or x + y != 1 for x, y in distributions):
        return _solve_exact(model, heights, ties)  # it raises the reference's message
    gamma, margin = to_fmpq(data.discount), to_fmpq(ties.margin)
    p_0, p_1 = probs[:, 0, 1], probs[:, 1, 1]  # P(o1 | a0), P(o1 | a1)
    q_0, q_1 = probs[:, 0, 0], probs[:, 1, 0]  # their complements, P(o0 | a)
    gap, sign, inverse_gap = _gaps(probs[:, :, 1], zero)
    agent = _columns(data.agent_reward)
    principal = _columns(data.principal_reward)
    # D = Q̄(1) − Q̄(0) = Δr − g ΔW^a with Δr = r(1) − r(0): d = D / g = Δr / g − ΔW^a
    spread = _plus(agent[1], slice(None), -agent[0]) if agent[0] is not None else agent[1]
    if spread is None:
        spread = np.full(n_s, zero, dtype=object)
    spread_over_gap = spread * inverse_gap
    shift = margin * inverse_gap if margin else None  # ξ / g: d_0 = d + ξ/g, d_1 = d − ξ/g
    expect = _Expectation(model, data, zero)
    v_p = np.full(n_s + 1, zero, dtype=object)  # slot n_s: the value after the episode ends
    v_a = np.full(n_s + 1, zero, dtype=object)
    q_bar = np.empty((n_s, 2), dtype=object)
    principal_q = np.full((n_s, 2), None, dtype=object)
    contracts = np.full((n_s, 2, 2), _ZERO, dtype=object)
    paid = np.zeros((n_s, 2, 2), dtype=bool)
    implementable = np.ones((n_s, 2), dtype=bool)
    recommended = np.zeros(n_s, dtype=np.int64)
    order = np.argsort(heights, kind="stable")
    bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2)).tolist()
    for lo, hi in itertools.pairwise(bounds):
        states = order[lo:hi]
        e_p0, e_a0 = expect(2 * states, v_p, v_a)
        e_p1, e_a1 = expect(2 * states + 1, v_p, v_a)
        if gamma != 1:
            e_p0, e_a0, e_p1, e_a1 = e_p0 * gamma, e_a0 * gamma, e_p1 * gamma, e_a1 * gamma
        w_p0 = _plus(principal[0], states, e_p0)
        rise_p = _plus(principal[1], states, e_p1) - w_p0
        rise_a = e_a1 - e_a0
        g = gap[states]
        qb0 = _plus(agent[0], states, e_a0) + p_0[states] * rise_a
        d = spread_over_gap[states] - rise_a
        qb1 = qb0 + g * d
        gain0 = w_p0 + p_0[states] * rise_p
        gain1 = gain0 - g * rise_p
        d0, d1 = (d, d) if shift is None else (d + shift[states], d - shift[states])
        pq0, agent0 = gain0.copy(), qb0.copy()
        pq1, agent1 = gain1.copy(), qb1.copy()
        positive0, negative0 = _signs(d0)
        positive1, negative1 = (positive0, negative0) if shift is None else _signs(d1)
        up, down = sign[states] > 0, sign[states] < 0
        for action, pays, outcome, bound, p, pq, agent_if in (
            (0, up & positive0, 1, d0, p_0, pq0, agent0),
            (0, down & negative0, 0, d0, q_0, pq0, agent0),
            (1, down & positive1, 1, d1, p_1, pq1, agent1),
            (1, up & negative1, 0, d1, q_1, pq1, agent1),
        ):
            rows = np.flatnonzero(pays)
            if len(rows):
                amount = bound[rows] if outcome else -bound[rows]
                contracts[states[rows], action, outcome] = amount
                paid[states[rows], action, outcome] = True
                payment = p[states[rows]] * amount
                pq[rows] -= payment
                agent_if[rows] += payment
        ok = np.ones((len(states), 2), dtype=bool)
        for row in np.flatnonzero(~(up | down)).tolist():  # g = 0: D = Δr, nothing is paid
            diff = spread[states[row]]
            qb1[row] = agent1[row] = qb0[row] + diff
            ok[row] = diff + margin <= 0, margin - diff <= 0
            if not ok[row].any():  # only with a margin: no-contract best response, paid 0
                ok[row] = diff <= 0, diff > 0
        both = ok.all(axis=1)
        choice = np.where(ok[:, 0], 0, 1)
        if both.any():
            better, worse = _signs(pq0 - pq1)
            choice[both & worse] = 1
            tied = np.flatnonzero(both & ~better & ~worse)
            if len(tied):
                choice[tied] = argmax_with_ties(
                    np.stack([pq0[tied], pq1[tied]], axis=1),
                    ok[tied],
                    np.stack([agent0[tied], agent1[tied]], axis=1),
                    rule=ties.principal_rule,
                    tol=0,
                )
        first = choice == 0
        v_p[states] = np.where(first, pq0, pq1)
        v_a[states] = np.where(first, agent0, agent1)
        q_bar[states, 0], q_bar[states, 1] = qb0, qb1
        principal_q[states, 0] = np.where(ok[:, 0], pq0, None)
        principal_q[states, 1] = np.where(ok[:, 1], pq1, None)
        implementable[states] = ok
        recommended[states] = choice
    # Fractions out, each distinct number converted once: V^p(s) is q(s, a^p), V^a(s) is
    # Q̄(s, a^p) unless a^p is paid, contracts are 0 except where paid
    every = np.arange(n_s)
    q_out = np.full((n_s, 2), None, dtype=object)
    q_out[implementable] = _fractions(principal_q[implementable])
    contracts_out = np.full((n_s, 2, 2), _ZERO, dtype=object)
    contracts_out[paid] = _fractions(contracts[paid])
    q_bar_out = _fractions(q_bar.reshape(-1)).reshape(n_s, 2)
    agent_out = q_bar_out[every, recommended]
    rec_paid = paid[every, recommended].any(axis=1)
    agent_out[rec_paid] = _fractions(v_a[:n_s][rec_paid])
    return SPESolution(
        recommended,
        contracts_out[every, recommended],
        q_out[every, recommended],
        agent_out,
        q_bar_out,
        q_out,
        implementable,
        contracts_out,
        exact=True,
    )


def _columns(values: ObjectArray) -> list[ObjectArray | None]:
    """The columns of an (S, 2) array of Fractions as ``fmpq`` arrays, ``None`` for a column
    of zeros (skipped by :func:`_plus`)."""
    converted = to_fmpq_array(values)
    return [None if not converted[:, k].any() else converted[:, k] for k in range(2)]


def _plus(column: ObjectArray | None, states: IntArray | slice, values: ObjectArray) -> ObjectArray:
    """``column[states] + values``, with no additions for a column of zeros (``None``)."""
    return values if column is None else column[states] + values


def _signs(values: ObjectArray) -> tuple[BoolArray, BoolArray]:
    """Which entries of an ``fmpq`` array are positive and which negative."""
    positive = np.fromiter((x.p > 0 for x in values), dtype=bool, count=len(values))
    return positive, values.astype(bool) & ~positive


def _fractions(values: ObjectArray) -> ObjectArray:
    """A 1-d object array of ``fmpq`` as Fractions."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(map(fraction_of, values.tolist()))
    return out


def _distribution_pairs(values: ObjectArray) -> tuple[ObjectArray, list[tuple[Any, Any]]]:
    """An (S, 2, 2) array of Fractions as ``fmpq`` and its distinct rows (by identity)."""
    distinct, inverse = distinct_objects(values)
    converted = np.empty(len(distinct), dtype=object)
    converted[:] = [to_fmpq(x) for x in distinct.tolist()]
    pairs = inverse.reshape(-1, 2)
    _, first = np.unique(pairs[:, 0] * len(distinct) + pairs[:, 1], return_index=True)
    rows = [(converted[i], converted[j]) for i, j in pairs[first].tolist()]
    return converted[inverse].reshape(values.shape), rows


def _gaps(p: ObjectArray, zero: Any) -> tuple[ObjectArray, IntArray, ObjectArray]:
    """Per state, ``g = p[s, 0] − p[s, 1]``, its sign and ``1 / g`` (0 for ``g = 0``), computed
    once per distinct pair of (shared) numbers."""
    distinct, inverse = distinct_objects(p)
    pairs = inverse.reshape(-1, 2)
    _, first, index = np.unique(
        pairs[:, 0] * len(distinct) + pairs[:, 1], return_index=True, return_inverse=True
    )
    gap = np.full(len(first), zero, dtype=object)
    sign = np.zeros(len(first), dtype=np.int64)
    inverse_gap = np.full(len(first), zero, dtype=object)
    for k, s in enumerate(first.tolist()):
        gap[k] = g = p[s, 0] - p[s, 1]
        if g:
            sign[k] = 1 if g.p > 0 else -1
            inverse_gap[k] = 1 / g
    index = index.reshape(-1)
    return gap[index], sign[index], inverse_gap[index]


class _Expectation:
    """``E_{T(s, o)}[V^p]`` and ``E_{T(s, o)}[V^a]`` for a batch of rows ``s·|O| + o``, in
    ``fmpq``: a sure transition (one entry of probability exactly 1) is a lookup, an empty row
    gives 0 (the slot ``n_s`` of the value arrays), any other row a sum of products."""

    def __init__(self, model: PrincipalAgentMDP, data: Any, zero: Any) -> None:
        offsets = model.transition_offsets
        self.offsets, self.next = offsets, model.transition_next
        lengths = np.diff(offsets)
        n_s = model.n_states
        self.probs = np.full(len(self.next), zero, dtype=object)
        sure = np.zeros(len(lengths), dtype=bool)
        if len(self.next):
            self.probs = to_fmpq_array(data.transition_prob)
            distinct, inverse = distinct_objects(data.transition_prob)
            one = np.array([x == 1 for x in distinct.tolist()], dtype=bool)[inverse]
            sure = (lengths == 1) & one[np.minimum(offsets[:-1], len(one) - 1)]
        self.target = np.where(lengths == 0, n_s, -1)
        self.target[sure] = self.next[offsets[:-1][sure]]

    def __call__(
        self, rows: IntArray, v_p: ObjectArray, v_a: ObjectArray
    ) -> tuple[ObjectArray, ObjectArray]:
        target = self.target[rows]
        mixed = target < 0
        if not mixed.any():
            return v_p[target], v_a[target]
        target[mixed] = len(v_p) - 1
        e_p, e_a = v_p[target], v_a[target]
        lo, hi = self.offsets[rows[mixed]], self.offsets[rows[mixed] + 1]
        lengths = hi - lo
        starts = np.cumsum(lengths) - lengths
        entries = np.repeat(lo - starts, lengths) + np.arange(int(lengths.sum()))
        q, nxt = self.probs[entries], self.next[entries]
        e_p[mixed] = np.add.reduceat(q * v_p[nxt], starts)
        e_a[mixed] = np.add.reduceat(q * v_a[nxt], starts)
        return e_p, e_a


def _object_array(values: Sequence[object]) -> ObjectArray:
    """A (nested) list of numbers or None as an object array of the same shape."""
    return np.array(values, dtype=object)
