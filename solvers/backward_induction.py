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
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from solvers.contracts import ContractSolution, minimal_contracts_all_actions
from theory.model import PrincipalAgentMDP
from theory.ties import DEFAULT_TIES, Ties, argmax_with_ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]


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
) -> SPESolution:
    """Solve an episodic instance for its SPE by backward induction (see the module docstring).

    Parameters
    ----------
    model : an episodic instance (acyclic state graph; any γ ≤ 1).
    exact : compute in exact rationals (``model.exact_data()``) instead of float64.
    ties : the principal's tie rule, the float tolerances and the nudging margin ξ ≥ 0 in the
        minimal contracts (module docstring; ξ = 0 is the exact minimal implementation).
    contract_method : float mode only: ``"auto"``, ``"closed_form"`` or ``"lp"``.

    Most callers should use :func:`solvers.solve.solve`, the one entry point that picks the
    method from the horizon and records every setting in its result.
    """
    heights = _require_episodic(model)
    if exact:
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
