"""The meta-algorithm (Algorithm 1) and the principal-Q operator (PAPER.md §3; Ivanov et al. §3).

Algorithm 1 alternates best responses, starting from a principal policy ρ_0 (default: zero
contracts and no recommendation):

    repeat for k = 1, 2, ...:
        agent step:     Q̄_k = the agent's truncated Q under ρ_{k−1}          (its MDP given ρ)
        principal step: ρ_k = (a^p_k, b*(·, a^p_k | Q̄_k)), where a^p_k solves the principal's
                        MDP in which recommending a at s pays the minimal contract for Q̄_k and
                        earns Σ_o 𝒪(s,a)(o) [r^p(s,o) − b*(s,a|Q̄_k)(o)]
    until ρ_k = ρ_{k−1} (same recommendations, contracts within ``tol``).

Stopping rule: ρ stops changing, or ``max_iterations`` (then ``converged=False``); a policy
that repeats an earlier non-adjacent iterate is reported as a cycle. The principal step is
solved exactly: level by level for episodic instances, by policy iteration for discounted ones.
Ties, tolerances and the margin come from one :class:`theory.ties.Ties`, as in backward
induction; every argmax goes through :func:`theory.ties.argmax_with_ties`.

The principal-Q operator (Theorem 3.4; its exact form is open, PAPER.md §3) is

    J(q)(s,a) = Σ_o 𝒪(s,a)(o) [r^p(s,o) − b*(s,a|Q̄)(o) + γ Σ_{s'} T(s,o)(s') max_{a'} q(s',a')]

with ``J(q)(s, a) = −∞`` for unimplementable actions, and two readings of ``Q̄``:

* **R1** — ``Q̄ = Q̄_q``: the agent's truncated Q when the principal implements greedy(q)
  minimally everywhere (a self-consistent agent value, computed by :func:`agent_q_bar_minimal`);
* **R2** — ``Q̄`` held fixed (from the previous meta-algorithm iteration): a Bellman operator
  with fixed rewards.

Norm: the sup-norm over implementable (s, a) pairs (−∞ entries must coincide). Value iteration
stops when ``‖J q − q‖∞ ≤ tol (1 − γ) / (2γ)``, which guarantees ``‖q − q*‖∞ ≤ tol/2`` for a
γ-contraction (the standard ε-optimality rule, Puterman 1994 Thm 6.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers.backward_induction import SPESolution, with_no_contract_fallback
from solvers.contracts import ContractSolution, minimal_contracts, minimal_contracts_all_actions
from solvers.evaluation import evaluate_policy, state_action_transitions
from theory.model import PrincipalAgentMDP
from theory.ties import DEFAULT_TIES, Ties, argmax_with_ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Reading = Literal["R1", "R2"]


@dataclass(frozen=True, eq=False)
class PrincipalPolicy:
    """A principal policy: a recommended action (−1 = none) and a contract per state."""

    recommended: IntArray
    contracts: FloatArray

    def same_as(self, other: PrincipalPolicy, tol: float) -> bool:
        return bool(
            np.array_equal(self.recommended, other.recommended)
            and np.allclose(self.contracts, other.contracts, rtol=0.0, atol=tol)
        )


@dataclass(frozen=True, eq=False)
class MetaAlgorithmResult:
    """Every iterate of Algorithm 1 and the final solution.

    Attributes
    ----------
    policies : ρ_0, ρ_1, ..., ρ_K (ρ_0 is the starting policy).
    q_bars : Q̄_1, ..., Q̄_K, the agent step of each iteration.
    iterations : K, the number of (agent, principal) rounds run.
    converged : whether ρ_K = ρ_{K−1}.
    cycle_start : if a non-converged run revisited an earlier policy, that iterate's index.
    solution : the last policy ρ_K with its values against the exact best-responding agent.
        Its ``q_bar`` is the agent's Q̄ under ρ_K, while ``principal_q``, ``implementable``
        and ``contracts_all`` come from the last principal step (computed from Q̄ under
        ρ_{K−1}); the two coincide when the run converged (ρ_K = ρ_{K−1}).
    """

    policies: tuple[PrincipalPolicy, ...]
    q_bars: tuple[FloatArray, ...]
    iterations: int
    converged: bool
    solution: SPESolution
    cycle_start: int | None = None
    principal_values_per_iteration: tuple[float, ...] = field(default=())


def principal_step(
    model: PrincipalAgentMDP,
    q_bar: FloatArray,
    *,
    ties: Ties = DEFAULT_TIES,
    max_iterations: int = 10_000,
) -> tuple[PrincipalPolicy, FloatArray, FloatArray, ContractSolution]:
    """The principal's best response to an agent described by ``Q̄`` (Algorithm 1, step 2).

    Returns the policy, the principal's optimal q (−∞ where unimplementable), its values, and
    the minimal contracts of every action. Episodic: level by level; discounted: policy
    iteration (switch on a strict improvement > ``ties.principal_tol``), then the tie rule at
    the optimum.
    """
    tie_tol = ties.principal_tol_float
    n_s, n_a = model.n_states, model.n_actions
    gamma = model.discount
    probs = model.outcome_probs
    contracts = with_no_contract_fallback(
        q_bar, minimal_contracts_all_actions(q_bar, probs, ties=ties)
    )
    payment = np.nan_to_num(contracts.expected_payment, nan=0.0)
    immediate = np.einsum("sao,so->sa", probs, model.principal_reward) - payment
    agent_if = q_bar + payment
    states = np.arange(n_s)
    p_sa = state_action_transitions(model)
    if model.is_episodic:
        heights = model.heights
        assert heights is not None
        values = np.zeros(n_s)
        q = np.full((n_s, n_a), -np.inf)
        rec = np.zeros(n_s, dtype=np.int64)
        order = np.argsort(heights, kind="stable")
        bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
        for level in range(heights.max() + 1):
            level_states = order[bounds[level] : bounds[level + 1]]
            rows = (level_states[:, None] * n_a + np.arange(n_a)).ravel()
            cont = (p_sa[rows] @ values).reshape(-1, n_a)
            q_level = np.where(
                contracts.implementable[level_states],
                immediate[level_states] + gamma * cont,
                -np.inf,
            )
            r = argmax_with_ties(
                q_level,
                contracts.implementable[level_states],
                agent_if[level_states],
                rule=ties.principal_rule,
                tol=tie_tol,
            )
            q[level_states] = q_level
            rec[level_states] = r
            values[level_states] = q_level[np.arange(len(level_states)), r]
    else:
        identity = sp.identity(n_s, format="csr")
        safe_immediate = np.where(contracts.implementable, immediate, -np.inf)
        policy = argmax_with_ties(safe_immediate, contracts.implementable)
        for _ in range(max_iterations):
            rows = states * n_a + policy
            values = spla.spsolve(
                (identity - gamma * p_sa[rows]).tocsc(), immediate[states, policy]
            )
            q = np.where(
                contracts.implementable,
                immediate + gamma * (p_sa @ values).reshape(n_s, n_a),
                -np.inf,
            )
            better = q.max(axis=1) > q[states, policy] + tie_tol
            if not better.any():
                break
            policy = np.where(better, argmax_with_ties(q, contracts.implementable), policy)
        else:  # pragma: no cover
            raise RuntimeError("principal policy iteration did not converge")
        rec = argmax_with_ties(
            q, contracts.implementable, agent_if, rule=ties.principal_rule, tol=tie_tol
        )
        if not np.array_equal(rec, policy):
            rows = states * n_a + rec
            values = spla.spsolve((identity - gamma * p_sa[rows]).tocsc(), immediate[states, rec])
    policy_out = PrincipalPolicy(rec, contracts.contracts[states, rec])
    return policy_out, q, values, contracts


def meta_algorithm(
    model: PrincipalAgentMDP,
    *,
    initial_policy: PrincipalPolicy | None = None,
    max_iterations: int = 1000,
    tol: float = 1e-9,
    ties: Ties = DEFAULT_TIES,
) -> MetaAlgorithmResult:
    """Run Algorithm 1 (module docstring) and return every iterate.

    Parameters
    ----------
    model : any instance (episodic or discounted).
    initial_policy : ρ_0; default zero contracts with no recommendation.
    max_iterations : cap on the number of rounds.
    tol : the stopping rule's tolerance: contracts within ``tol`` (sup-norm) count as
        unchanged.
    ties : tie rules, tolerances and margin, as in backward induction.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1 (value: {max_iterations})")
    n_s, n_o = model.n_states, model.n_outcomes
    model.require_defined_values()
    if initial_policy is None:
        initial_policy = PrincipalPolicy(np.full(n_s, -1, dtype=np.int64), np.zeros((n_s, n_o)))
    policies = [initial_policy]
    q_bars: list[FloatArray] = []
    values_trace: list[float] = []
    converged = False
    cycle_start: int | None = None
    last = None
    for _ in range(max_iterations):
        current = policies[-1]
        evaluation = evaluate_policy(model, current.recommended, current.contracts, ties=ties)
        q_bar = np.asarray(evaluation.q_bar, dtype=np.float64)
        q_bars.append(q_bar)
        new_policy, q, values, contracts = principal_step(model, q_bar, ties=ties)
        last = (q, contracts, q_bar)
        policies.append(new_policy)
        values_trace.append(float(values[model.initial_state]))
        if new_policy.same_as(current, tol):
            converged = True
            break
        # A cycle is an *exact* repeat: each round is a deterministic function of the
        # policy, so a bitwise repeat proves periodicity. Comparing within ``tol`` instead
        # misreports a damped oscillation (ρ_k − ρ* ≈ c(−λ)^k with λ near 1, as rents
        # propagate around a discounted cycle) as a cycle before it converges.
        for index, earlier in enumerate(policies[:-2]):
            if new_policy.same_as(earlier, 0.0):
                cycle_start = index
                break
        if cycle_start is not None:
            break
    assert last is not None
    q, contracts, q_bar = last
    final = policies[-1]
    evaluation = evaluate_policy(model, final.recommended, final.contracts, ties=ties)
    solution = SPESolution(
        recommended=final.recommended,
        contracts=final.contracts,
        principal_values=np.asarray(evaluation.principal_values, dtype=np.float64),
        agent_values=np.asarray(evaluation.agent_values, dtype=np.float64),
        q_bar=np.asarray(evaluation.q_bar, dtype=np.float64),
        principal_q=q,
        implementable=contracts.implementable,
        contracts_all=contracts.contracts,
        exact=False,
        iterations=len(policies) - 1,
    )
    return MetaAlgorithmResult(
        tuple(policies),
        tuple(q_bars),
        len(policies) - 1,
        converged,
        solution,
        cycle_start,
        tuple(values_trace),
    )


# --------------------------------------------------------------------------- operator
def agent_q_bar_minimal(
    model: PrincipalAgentMDP,
    recommended: IntArray,
    *,
    tol: float = 1e-12,
    max_iterations: int = 100_000,
    ties: Ties = DEFAULT_TIES,
) -> tuple[FloatArray, bool]:
    """Q̄_q of reading R1: the agent's truncated Q when ``recommended`` is implemented minimally.

    Fixed point of ``Q̄ = r + γ P V``, ``V(s) = Q̄(s, g(s)) + E_{𝒪(s,g(s))}[b*(s, g(s) | Q̄)]``
    (``V(s) = max_a Q̄(s, a)`` where ``g(s)`` is unimplementable under Q̄: the agent then
    ignores the contract). Computed level by level for episodic instances (exact in one
    sweep) and by successive approximation otherwise — the map need not be a contraction, so
    the second value reports whether ``‖ΔV‖∞ ≤ tol`` was reached within ``max_iterations``.
    ``ties`` gives the margin and tolerances of the minimal contracts.
    """
    n_s, n_a = model.n_states, model.n_actions
    gamma = model.discount
    p_sa = state_action_transitions(model)
    probs = model.outcome_probs
    states = np.arange(n_s)

    def values_from(q_bar: FloatArray, subset: IntArray) -> FloatArray:
        result = minimal_contracts(
            q_bar[subset],
            probs[subset],
            recommended[subset],
            ties=ties,
        )
        fallback = q_bar[subset].max(axis=1)
        chosen = q_bar[subset, recommended[subset]] + np.nan_to_num(result.expected_payment)
        return np.where(result.implementable, chosen, fallback)

    if model.is_episodic:
        heights = model.heights
        assert heights is not None
        v = np.zeros(n_s)
        q_bar = np.zeros((n_s, n_a))
        order = np.argsort(heights, kind="stable")
        bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
        for level in range(heights.max() + 1):
            level_states = order[bounds[level] : bounds[level + 1]]
            rows = (level_states[:, None] * n_a + np.arange(n_a)).ravel()
            q_bar[level_states] = model.agent_reward[level_states] + gamma * (
                p_sa[rows] @ v
            ).reshape(-1, n_a)
            v[level_states] = values_from(q_bar, level_states)
        return q_bar, True
    v = np.zeros(n_s)
    for _ in range(max_iterations):
        q_bar = model.agent_reward + gamma * (p_sa @ v).reshape(n_s, n_a)
        new_v = values_from(q_bar, states)
        if np.max(np.abs(new_v - v)) <= tol:
            return model.agent_reward + gamma * (p_sa @ new_v).reshape(n_s, n_a), True
        v = new_v
    return model.agent_reward + gamma * (p_sa @ v).reshape(n_s, n_a), False


def greedy(q: FloatArray) -> IntArray:
    """Greedy policy of a principal q (lowest index among exact maximisers; ``-inf`` entries
    are unimplementable)."""
    return argmax_with_ties(q, np.isfinite(q))


def principal_q_operator(
    model: PrincipalAgentMDP,
    q: FloatArray,
    *,
    reading: Reading = "R2",
    agent_q_bar: FloatArray | None = None,
    ties: Ties = DEFAULT_TIES,
) -> FloatArray:
    """Apply the principal-Q operator J once (module docstring, Theorem 3.4).

    Parameters
    ----------
    model : the instance (any γ; the contraction claim concerns γ < 1).
    q : (S, A) principal Q; ``-inf`` marks unimplementable actions.
    reading : ``"R1"`` (Q̄ re-solved for greedy(q)) or ``"R2"`` (Q̄ fixed, ``agent_q_bar``).
    agent_q_bar : (S, A) the fixed Q̄ of reading R2 (required for R2).
    ties : tolerances and margin of the minimal contracts (and of R1's agent values).
    """
    if reading == "R2":
        if agent_q_bar is None:
            raise ValueError("reading R2 needs agent_q_bar (the fixed agent Q̄)")
        q_bar = agent_q_bar
    elif reading == "R1":
        q_bar, _ = agent_q_bar_minimal(model, greedy(q), ties=ties)
    else:
        raise ValueError(f"reading must be 'R1' or 'R2', got {reading!r}")
    n_s, _n_a = model.n_states, model.n_actions
    probs = model.outcome_probs
    contracts = minimal_contracts_all_actions(q_bar, probs, ties=ties)
    payment = np.nan_to_num(contracts.expected_payment, nan=0.0)
    v = np.max(q, axis=1)
    cont = model.transition_matrix @ np.where(np.isfinite(v), v, 0.0)
    inner = model.principal_reward + model.discount * cont.reshape(n_s, model.n_outcomes)
    result = np.einsum("sao,so->sa", probs, inner) - payment
    return np.where(contracts.implementable, result, -np.inf)


def sup_norm_distance(q1: FloatArray, q2: FloatArray) -> float:
    """‖q1 − q2‖∞ over entries finite in both; ``inf`` if the −∞ patterns differ."""
    finite1, finite2 = np.isfinite(q1), np.isfinite(q2)
    if not np.array_equal(finite1, finite2):
        return float("inf")
    if not finite1.any():
        return 0.0
    return float(np.max(np.abs(q1[finite1] - q2[finite1])))


@dataclass(frozen=True, eq=False)
class ValueIterationResult:
    """Result of iterating J: the last q, the iteration count, convergence and residuals."""

    q: FloatArray
    iterations: int
    converged: bool
    residuals: tuple[float, ...]


def principal_q_value_iteration(
    model: PrincipalAgentMDP,
    *,
    reading: Reading = "R2",
    agent_q_bar: FloatArray | None = None,
    q0: FloatArray | None = None,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    ties: Ties = DEFAULT_TIES,
) -> ValueIterationResult:
    """Iterate ``q ← J(q)`` from ``q0`` (default 0) until ``‖J q − q‖∞ ≤ tol(1−γ)/(2γ)``.

    For γ = 0 one application is exact. Requires γ < 1 for the stopping rule's guarantee.
    ``ties`` is passed to every application of :func:`principal_q_operator`.
    """
    gamma = model.discount
    if gamma >= 1:
        raise ValueError(f"value iteration on J needs discount < 1, got {gamma}")
    q = np.zeros((model.n_states, model.n_actions)) if q0 is None else np.array(q0, float)
    threshold = tol * (1 - gamma) / (2 * gamma) if gamma > 0 else np.inf
    residuals: list[float] = []
    for iteration in range(1, max_iterations + 1):
        new_q = principal_q_operator(model, q, reading=reading, agent_q_bar=agent_q_bar, ties=ties)
        residual = sup_norm_distance(new_q, q)
        residuals.append(residual)
        q = new_q
        if residual <= threshold:
            return ValueIterationResult(q, iteration, True, tuple(residuals))
    return ValueIterationResult(q, max_iterations, False, tuple(residuals))
