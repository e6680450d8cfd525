"""Policy evaluation: a fixed principal policy against the exact best-responding agent.

Given a principal policy ρ — a recommended action ``a^p(s)`` and a contract ``b_s`` in every
state — the agent solves its own MDP (PAPER.md §1):

    Q*((s, b_s), a) = r(s, a) + Σ_o 𝒪(s, a)(o) [ b_s(o) + γ Σ_{s'} T(s, o)(s') V^a(s') ]
    V^a(s)          = max_a Q*((s, b_s), a)

taking ``a^p(s)`` whenever it attains the maximum (ties to the recommendation, within
``ties.agent_tol`` in float mode and in exact mode alike), else the lowest-index maximiser. The
principal's value under the resulting behaviour π is

    V^p(s) = Σ_o 𝒪(s, π(s))(o) [ r^p(s, o) − b_s(o) + γ Σ_{s'} T(s, o)(s') V^p(s') ].

The agent's truncated Q under ρ, ``Q̄(s, a) = r(s, a) + γ Σ_o 𝒪(s,a)(o) Σ_{s'} T V^a(s')``, is
returned as well: it is the agent step of the meta-algorithm (Algorithm 1).

Episodic instances are evaluated level by level (vectorised); discounted ones by policy
iteration for the agent (exact linear solves, switching an action only on a strict improvement
larger than ``ties.agent_tol``, then re-applying the tie rule at the optimum) followed by a linear
solve for the principal.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers.contracts import best_response
from theory.exact_evaluation import PolicyEvaluation
from theory.model import PrincipalAgentMDP, to_fraction
from theory.ties import DEFAULT_TIES, Ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]


def _check_policy(
    model: PrincipalAgentMDP, recommended: npt.ArrayLike, contracts: npt.ArrayLike
) -> tuple[IntArray, np.ndarray]:
    rec = np.asarray(recommended, dtype=np.int64)
    pay = np.asarray(contracts)
    if rec.shape != (model.n_states,):
        raise ValueError(f"recommended: expected shape ({model.n_states},), got {rec.shape}")
    if pay.shape != (model.n_states, model.n_outcomes):
        raise ValueError(
            f"contracts: expected shape ({model.n_states}, {model.n_outcomes}), got {pay.shape}"
        )
    bad = np.flatnonzero((rec < -1) | (rec >= model.n_actions))
    if bad.size:
        raise ValueError(f"recommended[{bad[0]}]: not an action index (value: {rec[bad[0]]})")
    if pay.dtype == object:  # exact payments (Fractions, ints, strings): compare exactly
        for (s, o), value in np.ndenumerate(pay):
            if to_fraction(value) < 0:
                raise ValueError(
                    f"contracts[{s}][{o}]: payments must be non-negative "
                    f"(limited liability) (value: {value!r})"
                )
    else:
        numeric = pay.astype(np.float64)
        bad_pay = np.argwhere(~(numeric >= 0) | ~np.isfinite(numeric))  # ~(x >= 0): NaN too
        if bad_pay.size:
            s, o = (int(i) for i in bad_pay[0])
            raise ValueError(
                f"contracts[{s}][{o}]: payments must be finite and non-negative "
                f"(limited liability) (value: {pay[s, o]!r})"
            )
    model.require_defined_values()
    return rec, pay


def evaluate_policy(
    model: PrincipalAgentMDP,
    recommended: npt.ArrayLike,
    contracts: npt.ArrayLike,
    *,
    exact: bool = False,
    ties: Ties = DEFAULT_TIES,
    max_iterations: int = 10_000,
) -> PolicyEvaluation:
    """Evaluate a principal policy against the exact best-responding agent (module docstring).

    Parameters
    ----------
    model : the instance.
    recommended : (S,) recommended action per state (``-1`` = no recommendation).
    contracts : (S, O) non-negative payments per state and outcome.
    exact : compute in rationals (contracts are read exactly: Fractions, ints, strings or
        floats as their shortest decimals). Exact mode for discounted instances solves the
        agent's MDP by exact policy iteration.
    ties : ``ties.agent_tol`` is the agent's indifference tolerance, in float and exact mode
        (pass :data:`theory.ties.EXACT_TIES` for the exact tie rule).
    max_iterations : policy-iteration cap (discounted instances).
    """
    rec, pay = _check_policy(model, recommended, contracts)
    if exact:
        from theory.exact_evaluation import evaluate_policy_exact

        return evaluate_policy_exact(
            model, rec, pay, max_iterations=max_iterations, tie_tolerance=ties.agent_tol
        )
    pay = pay.astype(np.float64)
    if model.is_episodic:
        return _evaluate_episodic(model, rec, pay, ties)
    return _evaluate_discounted(model, rec, pay, ties, max_iterations)


def _evaluate_episodic(
    model: PrincipalAgentMDP, rec: IntArray, pay: FloatArray, ties: Ties
) -> PolicyEvaluation:
    heights = model.heights
    assert heights is not None
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    gamma = model.discount
    matrix = model.transition_matrix
    v_p, v_a = np.zeros(n_s), np.zeros(n_s)
    q_bar = np.zeros((n_s, n_a))
    agent_q = np.zeros((n_s, n_a))
    actions = np.zeros(n_s, dtype=np.int64)
    order = np.argsort(heights, kind="stable")
    bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
    for level in range(heights.max() + 1):
        states = order[bounds[level] : bounds[level + 1]]
        rows = (states[:, None] * n_o + np.arange(n_o)).ravel()
        sub = matrix[rows]
        cont_p = (gamma * (sub @ v_p)).reshape(-1, n_o)
        cont_a = (gamma * (sub @ v_a)).reshape(-1, n_o)
        p = model.outcome_probs[states]
        qb = model.agent_reward[states] + np.einsum("sao,so->sa", p, cont_a)
        act = best_response(qb, p, pay[states], rec[states], ties=ties)
        idx = np.arange(len(states))
        taken = p[idx, act]
        v_a[states] = qb[idx, act] + np.einsum("so,so->s", taken, pay[states])
        v_p[states] = np.einsum(
            "so,so->s", taken, model.principal_reward[states] - pay[states] + cont_p
        )
        q_bar[states] = qb
        agent_q[states] = qb + np.einsum("sao,so->sa", p, pay[states])
        actions[states] = act
    return PolicyEvaluation(actions, actions == rec, v_p, v_a, q_bar, agent_q)


def state_action_transitions(model: PrincipalAgentMDP) -> sp.csr_matrix:
    """Sparse ``(S*A, S)`` matrix ``P[s*A + a, s'] = Σ_o 𝒪(s,a)(o) T(s,o)(s')``.

    ``P = B T`` with ``T`` the ``(S*O, S)`` transition matrix and ``B`` the block-diagonal
    ``(S*A, S*O)`` matrix whose block ``s`` is the ``(A, O)`` matrix ``𝒪(s, ·)(·)``: its entry
    ``(s*A + a, s*O + o)`` is ``𝒪(s, a)(o)``, built in one go from the positions of the non-zero
    probabilities (the same matrix as ``scipy.sparse.block_diag`` of the per-state blocks, which
    drop zeros too; ``tests/test_evaluation.py`` checks it).
    """
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    probs = model.outcome_probs.reshape(n_s * n_a, n_o)
    rows, outcomes = np.nonzero(probs)
    columns = (rows // n_a) * n_o + outcomes
    block = sp.csr_matrix((probs[rows, outcomes], (rows, columns)), shape=(n_s * n_a, n_s * n_o))
    return (block @ model.transition_matrix).tocsr()


def _evaluate_discounted(
    model: PrincipalAgentMDP, rec: IntArray, pay: FloatArray, ties: Ties, max_iterations: int
) -> PolicyEvaluation:
    n_s, n_a = model.n_states, model.n_actions
    gamma = model.discount
    probs = model.outcome_probs
    p_sa = state_action_transitions(model)
    expected_pay = np.einsum("sao,so->sa", probs, pay)
    reward = model.agent_reward + expected_pay
    identity = sp.identity(n_s, format="csr")
    states = np.arange(n_s)
    policy = np.where(rec >= 0, rec, np.argmax(reward, axis=1))
    for _ in range(max_iterations):
        rows = states * n_a + policy
        v_a = spla.spsolve((identity - gamma * p_sa[rows]).tocsc(), reward[states, policy])
        q = reward + gamma * (p_sa @ v_a).reshape(n_s, n_a)
        current = q[states, policy]
        better = q.max(axis=1) > current + ties.agent_tol_float
        if not better.any():
            break
        policy = np.where(better, np.argmax(q, axis=1), policy)
    else:  # pragma: no cover - policy iteration terminates in finitely many steps
        raise RuntimeError("agent policy iteration did not converge")
    q_bar = model.agent_reward + gamma * (p_sa @ v_a).reshape(n_s, n_a)
    actions = best_response(q_bar, probs, pay, rec, ties=ties)
    rows = states * n_a + actions
    principal_reward = np.einsum("so,so->s", probs[states, actions], model.principal_reward - pay)
    v_p = spla.spsolve((identity - gamma * p_sa[rows]).tocsc(), principal_reward)
    v_a = q_bar[states, actions] + expected_pay[states, actions]
    return PolicyEvaluation(
        actions, actions == rec, np.asarray(v_p), np.asarray(v_a), q_bar, q_bar + expected_pay
    )
