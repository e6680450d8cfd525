"""Validation of a learned principal with the exact best-responding agent (PAPER.md §4).

Algorithm 2 is validated "throughout training" by pairing the learned principal with an exact
agent: the principal's policy — recommend ``a^p(s) = argmax_a q_θ(s, a)`` and offer the minimal
contract ``b*(s, a^p | Q̄_φ)`` computed from the learned agent network — is frozen, the agent
solves its MDP against these contracts exactly (``solvers.evaluation.evaluate_policy``, ties to
the recommendation) and both parties' utilities are compared with the SPE optimum
(``solvers.backward_induction``). The metrics of one :class:`ValidationRecord`:

* ``principal_ratio = V^p_learned(s0) / V^p_SPE(s0)`` — may exceed 1: a principal that commits
  to a non-subgame-perfect policy can beat the SPE (PAPER.md §2), and we report it uncapped;
* ``agent_ratio = V^a_learned(s0) / V^a_SPE(s0)`` (``nan`` when the SPE agent value is 0);
* ``accuracy`` — the share of **all** states whose recommended action equals the SPE action
  (in the paper's tree every state is reachable with positive probability, so "all" and
  "reachable" coincide; docs/DEEP.md);
* ``accuracy_weighted`` — the same, weighted by the probability that the exact play visits
  the state (a secondary view: mistakes deep in the tree weigh little there);
* ``follow_rate`` — the share of states where the exact agent takes the recommended action:
  below 1 when the learned contracts under-pay (the discontinuity of PAPER.md §3);
* ``agent_q_error = max |Q̄_used − Q̄_exact|`` over all state-action pairs: the error ``E_t`` of
  the agent estimate that produced the contracts against the exact agent's truncated Q under
  the same principal policy (Proposition 4.1 suggests nudging with ξ = 2 E_t);
* ``expected_payment`` — the principal's expected total payment along the exact play;
* ``exact_contract_principal_ratio``, ``exact_contract_agent_ratio`` — the same ratios when
  the learned *recommendations* are implemented with the exact minimal contracts (computed
  from the exact agent's truncated Q when the principal implements them minimally
  everywhere, reading R1 of PAPER.md §3, no nudge). This isolates the principal network's
  learning from the agent network's error: the gap between the two principal ratios is what
  the learned contracts cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from solvers.backward_induction import SPESolution
from solvers.contracts import minimal_contracts
from solvers.evaluation import PolicyEvaluation, evaluate_policy
from solvers.meta_algorithm import agent_q_bar_minimal
from solvers.solve import SolveResult, solve
from theory.model import PrincipalAgentMDP

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ValidationRecord:
    """The validation metrics after ``iteration`` training iterations (module docstring)."""

    iteration: int
    principal_utility: float
    agent_utility: float
    principal_ratio: float
    agent_ratio: float
    accuracy: float
    accuracy_weighted: float
    follow_rate: float
    agent_q_error: float
    expected_payment: float
    exact_contract_principal_ratio: float
    exact_contract_agent_ratio: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationRecord:
        return cls(**data)


class Validator:
    """Holds an instance's SPE reference and scores principal policies against it.

    Parameters
    ----------
    model : an instance (episodic or cyclic).
    reference : its SPE (default: :func:`solvers.solve.solve` without nudging — backward
        induction for an episodic instance, the SPE optimum; the meta-algorithm for a cyclic
        one, whose pure stationary SPEs :mod:`solvers.deep.ground_truth` adds).
    """

    def __init__(self, model: PrincipalAgentMDP, reference: SPESolution | None = None) -> None:
        self.model = model
        #: how the reference was computed (``None`` when it was passed in)
        self.solve_result: SolveResult | None = None
        if reference is None:
            self.solve_result = solve(model)
            reference = self.solve_result.solution
        self.reference = reference
        s0 = model.initial_state
        self.spe_principal = float(self.reference.principal_values[s0])
        self.spe_agent = float(self.reference.agent_values[s0])
        self.spe_recommended = np.asarray(self.reference.recommended, dtype=np.int64)
        n_s, n_o = model.n_states, model.n_outcomes
        # sums the rows s*O + o of T over o: (S, S*O)
        self._group = sp.csr_matrix(
            (np.ones(n_s * n_o), (np.repeat(np.arange(n_s), n_o), np.arange(n_s * n_o))),
            shape=(n_s, n_s * n_o),
        )
        heights = model.heights
        if heights is None:  # cyclic: discounted visits and fixed-point values (see below)
            self._steps = 0
            self._levels: list[IntArray] = []
            return
        self._steps = int(heights.max()) + 1
        order = np.argsort(heights, kind="stable")
        bounds = np.searchsorted(heights[order], np.arange(heights.max() + 2))
        self._levels = [order[bounds[h] : bounds[h + 1]] for h in range(int(heights.max()) + 1)]

    def visit_probabilities(self, actions: IntArray) -> FloatArray:
        """Expected visits of each state by the play starting at ``s0`` when the agent takes
        ``actions``: for episodic instances the probability of a visit (a finite sum over at
        most ``max height + 1`` steps); for cyclic ones the discounted visits
        ``Σ_t γ^t P(s_t = s) = [(I − γ Pᵀ)^{-1} e_{s0}](s)``."""
        model = self.model
        n_s = model.n_states
        weights = model.outcome_probs[np.arange(n_s), actions].ravel()  # (S*O,)
        step = self._group @ sp.diags(weights) @ model.transition_matrix  # (S, S)
        step_t = step.T.tocsr()
        if model.heights is None:
            start = np.zeros(n_s)
            start[model.initial_state] = 1.0
            system = sp.identity(n_s, format="csc") - model.discount * step_t.tocsc()
            return np.asarray(spsolve(system, start), dtype=np.float64).reshape(n_s)
        current = np.zeros(n_s)
        current[model.initial_state] = 1.0
        total = current.copy()
        for _ in range(self._steps):
            current = step_t @ current
            total += current
        return total

    def minimal_implementation_values(self, recommended: IntArray) -> tuple[float, float]:
        """``(V^p(s0), V^a(s0))`` when ``recommended`` is implemented with the exact minimal
        contracts everywhere (reading R1's ``Q̄_q``; the agent ignores an unimplementable
        recommendation and takes its best action, ties to the lowest index).

        Level by level from the episode ends, like ``solvers.backward_induction`` with the
        principal's choice fixed; equals ``solvers.meta_algorithm.agent_q_bar_minimal``
        followed by ``evaluate_policy`` (a test checks it), an order of magnitude faster. A
        cyclic instance takes that route (the fixed point of reading R1, then the exact agent).
        """
        model = self.model
        if model.heights is None:
            q_bar_exact, _ = agent_q_bar_minimal(model, recommended)
            contracts = minimal_contracts(q_bar_exact, model.outcome_probs, recommended).contracts
            evaluation = evaluate_policy(model, recommended, contracts)
            s0 = model.initial_state
            return float(evaluation.principal_values[s0]), float(evaluation.agent_values[s0])
        n_o = model.n_outcomes
        gamma = model.discount
        matrix = model.transition_matrix
        v_p = np.zeros(model.n_states)
        v_a = np.zeros(model.n_states)
        for states in self._levels:
            rows = (states[:, None] * n_o + np.arange(n_o)).ravel()
            sub = matrix[rows]
            cont_p = (gamma * (sub @ v_p)).reshape(-1, n_o) + model.principal_reward[states]
            cont_a = (gamma * (sub @ v_a)).reshape(-1, n_o)
            probs = model.outcome_probs[states]
            q_bar = model.agent_reward[states] + np.einsum("sao,so->sa", probs, cont_a)
            rec = recommended[states]
            solution = minimal_contracts(q_bar, probs, rec)
            contracts = solution.contracts
            actions = np.where(solution.implementable, rec, np.argmax(q_bar, axis=1))
            index = np.arange(len(states))
            taken = probs[index, actions]
            v_a[states] = q_bar[index, actions] + np.einsum("so,so->s", taken, contracts)
            v_p[states] = np.einsum("so,so->s", taken, cont_p - contracts)
        s0 = model.initial_state
        return float(v_p[s0]), float(v_a[s0])

    def evaluate(
        self,
        recommended: IntArray,
        contracts: FloatArray,
        q_bar_used: FloatArray | None = None,
        *,
        iteration: int = 0,
    ) -> tuple[ValidationRecord, PolicyEvaluation]:
        """Score the principal policy ``(recommended, contracts)`` with the exact agent.

        ``q_bar_used`` is the agent estimate that produced the contracts (for
        ``agent_q_error``; ``nan`` when omitted).
        """
        model = self.model
        s0 = model.initial_state
        evaluation = evaluate_policy(model, recommended, contracts)
        v_p = float(evaluation.principal_values[s0])
        v_a = float(evaluation.agent_values[s0])
        actions = np.asarray(evaluation.agent_actions, dtype=np.int64)
        visits = self.visit_probabilities(actions)
        correct = recommended == self.spe_recommended
        taken_probs = model.outcome_probs[np.arange(model.n_states), actions]
        payment = float(np.einsum("s,so,so->", visits, taken_probs, contracts))
        if q_bar_used is None:
            error = math.nan
        else:
            error = float(
                np.max(
                    np.abs(
                        np.asarray(q_bar_used, dtype=np.float64)
                        - np.asarray(evaluation.q_bar, dtype=np.float64)
                    )
                )
            )
        exact_p, exact_a = self.minimal_implementation_values(recommended)
        record = ValidationRecord(
            iteration=int(iteration),
            principal_utility=v_p,
            agent_utility=v_a,
            principal_ratio=_ratio(v_p, self.spe_principal),
            agent_ratio=_ratio(v_a, self.spe_agent),
            accuracy=float(np.mean(correct)),
            accuracy_weighted=float(np.sum(visits * correct) / np.sum(visits)),
            follow_rate=float(np.mean(evaluation.followed)),
            agent_q_error=error,
            expected_payment=payment,
            exact_contract_principal_ratio=_ratio(exact_p, self.spe_principal),
            exact_contract_agent_ratio=_ratio(exact_a, self.spe_agent),
        )
        return record, evaluation


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference != 0 else math.nan
