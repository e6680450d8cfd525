"""The paper's claims as executable properties (PAPER.md §1–3; issue 3).

Every property is a plain function ``check_*(model, ...) -> PropertyResult`` usable outside
pytest: it states its claim, the paper reference and the exact definition it checks in its
docstring, and returns a frozen :class:`PropertyResult` listing every violation it found (an
empty list means the claim holds on this instance) together with measurements (iteration
counts, gaps, ...). The code under test is always a parameter (``solver=``, ``meta=``,
``operator=``, ...), so the same property runs against a deliberately broken variant in the
tests, and against another implementation in another project.

Checks are made against *independent* computations, never against the solver itself:

* minimal contracts against the exact simplex of :mod:`theory.exact_contracts`, whose dual /
  Farkas certificate is re-verified exactly (:meth:`ExactContract.verify`);
* equilibria against the exact best-responding agent of :mod:`theory.exact_evaluation`
  (rational arithmetic; the agent's continuation is its optimal one, ties go to the
  recommendation within the tolerance ``tol``), with every principal deviation priced by its
  exact minimal contract;
* the commitment optimum by a joint HiGHS LP per recommended-action profile
  (:func:`commitment_optimum`), its policy re-checked exactly.

Tolerances are explicit parameters (``tol``, default :data:`DEFAULT_TOL`): float solvers meet
the agent's indifference points only up to rounding, so "no profitable deviation" means "no
deviation gaining more than ``tol``". Exact solutions can be checked with ``tol=0``.

:data:`CLAIMS` lists the claims with their Hypothesis strategies; :mod:`properties.report`
runs them (``pamdp theorems``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from hypothesis import strategies as st
from scipy.optimize import linprog

from properties import strategies as pst
from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.contracts import ContractSolution, best_response, minimal_contracts
from solvers.evaluation import PolicyEvaluation, evaluate_policy
from solvers.meta_algorithm import (
    MetaAlgorithmResult,
    PrincipalPolicy,
    agent_q_bar_minimal,
    greedy,
    meta_algorithm,
    principal_q_operator,
    principal_step,
    sup_norm_distance,
)
from theory.exact_contracts import minimal_contract_exact
from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP, build_model, to_fraction

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default absolute tolerance of every property (values in generated instances are O(10)).
DEFAULT_TOL = 1e-7
#: Iteration cap of the meta-algorithm in the discounted properties.
META_MAX_ITERATIONS = 200
#: Convergence tolerance of the meta-algorithm in the discounted properties (contracts within
#: this count as unchanged). The library default (1e-9) equals its tie tolerance: the agent
#: step's ties within 1e-9 inject noise of that order, which the rent feedback of a discounted
#: cycle amplifies; iterates can converge geometrically to ~2.5e-9 and wander there forever
#: (tests/regressions/meta-tolerance-stall.json). 1e-7 leaves a factor 100 above the tie
#: tolerance. Exact repeats are still reported as cycles.
META_TOL = 1e-7
#: Likelihood-ratio leverage allowed when a contract error becomes a value error (see
#: :func:`meta_tolerance`).
META_LEVERAGE = 10.0
#: Iteration cap when searching a fixed point of the principal-Q operator (reading R1).
FIXED_POINT_ITERATIONS = 200

#: Discounts of the reading-R1 claims: γ near 0 and moderate γ. The library finds R1's inner
#: fixed point Q̄_q by successive approximation, about log(tol)/log(γ) steps (≈ 2,700 at
#: γ = 0.99), which at ≥ 10,000 instances is out of budget; γ near 1 is covered by R2.
R1_DISCOUNTS: tuple[Fraction, ...] = (
    Fraction(1, 2),
    Fraction(9, 10),
    Fraction(3, 4),
    Fraction(0),
    Fraction(1, 1000),
)

_ZERO = Fraction(0)


# =============================================================================== results
@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property on one instance.

    Attributes
    ----------
    claim : the claim's key (see :data:`CLAIMS`).
    holds : True when no violation was found (or the instance is out of scope).
    violations : one human-readable line per violation (state, action, values).
    measurements : numbers recorded on the way (iteration counts, depth, gaps, ...).
    applicable : False when the instance is outside the claim's scope (e.g. a cyclic instance
        for a finite-horizon claim); such instances are not counted as tried.
    """

    claim: str
    holds: bool
    violations: tuple[str, ...] = ()
    measurements: Mapping[str, Any] = field(default_factory=dict)
    applicable: bool = True

    def explain(self) -> str:
        """One paragraph: the verdict and the first few violations."""
        if not self.applicable:
            return f"{self.claim}: not applicable"
        if self.holds:
            return f"{self.claim}: holds"
        shown = "; ".join(self.violations[:5])
        more = f" (+{len(self.violations) - 5} more)" if len(self.violations) > 5 else ""
        return f"{self.claim}: FAILS — {shown}{more}"


def _result(claim: str, violations: Sequence[str], **measurements: Any) -> PropertyResult:
    return PropertyResult(claim, not violations, tuple(violations), dict(measurements))


def _not_applicable(claim: str, why: str) -> PropertyResult:
    return PropertyResult(claim, True, (), {"skipped": why}, applicable=False)


def _f(value: Any) -> str:
    """Short display of a number."""
    return f"{float(value):.6g}"


# ===================================================================== exact building blocks
def _fractions(values: Any) -> list[Fraction]:
    return [to_fraction(v) for v in np.asarray(values, dtype=object).ravel().tolist()]


def _exact_probs(model: PrincipalAgentMDP) -> list[list[list[Fraction]]]:
    probs: list[list[list[Fraction]]] = model.exact_data().outcome_probs.tolist()
    return probs


def _dot(u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    return sum((a * b for a, b in zip(u, v, strict=True)), _ZERO)


def _principal_continuations(
    model: PrincipalAgentMDP, v_p: Sequence[Fraction]
) -> list[list[Fraction]]:
    """``W^p(s, o) = r^p(s, o) + γ Σ_{s'} T(s, o)(s') V^p(s')`` exactly."""
    data = model.exact_data()
    gamma = data.discount
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    n_o = model.n_outcomes
    out = []
    for s in range(model.n_states):
        row = []
        for o in range(n_o):
            lo, hi = offsets[s * n_o + o], offsets[s * n_o + o + 1]
            row.append(
                data.principal_reward[s, o]
                + gamma * sum((tprob[k] * v_p[nxt[k]] for k in range(lo, hi)), _ZERO)
            )
        out.append(row)
    return out


def _principal_prefers(
    probs: Sequence[Sequence[Fraction]],
    w_p: Sequence[Fraction],
    pay: Sequence[Fraction],
    actions: Sequence[int],
) -> Fraction:
    """The principal's best value among ``actions`` (ties resolved for the principal)."""
    return max(_dot(probs[a], [w - b for w, b in zip(w_p, pay, strict=True)]) for a in actions)


def spe_violations(
    model: PrincipalAgentMDP,
    recommended: Sequence[int] | IntArray,
    contracts: Any,
    *,
    claimed_principal_values: Any = None,
    claimed_agent_values: Any = None,
    claimed_q_bar: Any = None,
    offpath: Sequence[tuple[int, Sequence[Any]]] = (),
    states: Sequence[int] | None = None,
    tol: float = DEFAULT_TOL,
) -> tuple[list[str], dict[str, Any]]:
    """Every way the principal policy ``(recommended, contracts)`` fails to be an SPE.

    Definition (PAPER.md §2, one-shot deviation principle, exact arithmetic). Let π be the
    exact best-responding agent (:func:`theory.exact_evaluation.evaluate_policy_exact` with
    tie tolerance ``tol``), ``Q̄`` its truncated Q, ``V^a, V^p`` the values, and
    ``W^p(s, o) = r^p(s, o) + γ E_{T(s,o)} V^p``. The policy is an SPE when, at every state s:

    1. *agent, on path*: the recommended action is a best response to ``ρ(s)``:
       ``E_{a^p}[b_s] + Q̄(s, a^p) ≥ max_a E_a[b_s] + Q̄(s, a) − tol``;
    2. *agent, off path*: for each sampled contract ``b`` in ``offpath``, the action the
       solution's agent strategy takes (``argmax_a E_a[b] + claimed_q_bar(s, a)``) is a best
       response to ``b`` under the true ``Q̄`` within ``tol`` (skipped without
       ``claimed_q_bar``);
    3. *principal*: no action ``a`` with its exact minimal contract ``b*(s, a | Q̄)`` does
       better: ``E_a[W^p − b*] ≤ V^p(s) + tol``; and no sampled contract does better against
       the exact best response (exact ties resolved for the principal — a tie *tolerance* here
       would let a contract short by ``tol`` in the agent's utility save the principal up to
       ``tol`` times the likelihood-ratio leverage, a spurious gain);
    4. *claims*: values and ``Q̄`` the solver reports equal the true ones within ``tol``.

    Returns
    -------
    (violations, measurements)
    """
    tolerance = to_fraction(tol)
    rec = [int(a) for a in np.asarray(recommended).tolist()]
    evaluation: PolicyEvaluation = evaluate_policy_exact(
        model, rec, contracts, tie_tolerance=tolerance
    )
    v_p = list(evaluation.principal_values)
    v_a = list(evaluation.agent_values)
    q_bar = [list(row) for row in evaluation.q_bar]
    probs = _exact_probs(model)
    pay = [_fractions(row) for row in np.asarray(contracts, dtype=object)]
    w_p = _principal_continuations(model, v_p)
    check_states = range(model.n_states) if states is None else states
    out: list[str] = []
    best_deviation = _ZERO
    for s in check_states:
        name = model.states[s]
        if any(b < 0 for b in pay[s]):
            out.append(f"{name}: negative payment {[_f(b) for b in pay[s]]} (limited liability)")
        agent_q = [q_bar[s][a] + _dot(probs[s][a], pay[s]) for a in range(model.n_actions)]
        best = max(agent_q)
        if rec[s] < 0 or agent_q[rec[s]] < best - tolerance:
            deviation = agent_q.index(best)
            out.append(
                f"{name}: agent deviates from the recommendation "
                f"{rec[s]} to {deviation} and gains "
                f"{_f(best - (agent_q[rec[s]] if rec[s] >= 0 else best))}"
            )
        # principal: every action with its exact minimal contract
        for a in range(model.n_actions):
            exact = minimal_contract_exact(q_bar[s], probs[s], a)
            if not exact.implementable:
                continue
            value = _dot(probs[s][a], [w - b for w, b in zip(w_p[s], exact.contract, strict=True)])
            gain = value - v_p[s]
            best_deviation = max(best_deviation, gain)
            if gain > tolerance:
                out.append(
                    f"{name}: principal gains {_f(gain)} by implementing action {a} "
                    f"minimally (value {_f(value)} > V^p = {_f(v_p[s])})"
                )
        if (
            claimed_principal_values is not None
            and abs(to_fraction(claimed_principal_values[s]) - v_p[s]) > tolerance
        ):
            out.append(
                f"{name}: claimed V^p = {_f(claimed_principal_values[s])} but the "
                f"policy earns {_f(v_p[s])}"
            )
        if (
            claimed_agent_values is not None
            and abs(to_fraction(claimed_agent_values[s]) - v_a[s]) > tolerance
        ):
            out.append(
                f"{name}: claimed V^a = {_f(claimed_agent_values[s])} but the agent "
                f"earns {_f(v_a[s])}"
            )
        if claimed_q_bar is not None:
            worst = max(
                abs(to_fraction(claimed_q_bar[s][a]) - q_bar[s][a]) for a in range(model.n_actions)
            )
            if worst > tolerance:
                out.append(f"{name}: claimed Q̄ is off by {_f(worst)}")
    for s, contract in offpath:
        if states is not None and s not in states:
            continue
        name = model.states[s]
        b = _fractions(contract)
        agent_q = [q_bar[s][a] + _dot(probs[s][a], b) for a in range(model.n_actions)]
        best = max(agent_q)
        if claimed_q_bar is not None:
            claimed = np.asarray(claimed_q_bar[s], dtype=np.float64)
            action = int(
                best_response(
                    claimed[None],
                    model.outcome_probs[s][None],
                    np.asarray(b, dtype=np.float64)[None],
                )[0]
            )
            if agent_q[action] < best - tolerance:
                out.append(
                    f"{name}: off-path contract {[_f(x) for x in b]}: the solution's "
                    f"agent plays {action}, losing {_f(best - agent_q[action])}"
                )
        # exact ties only: with ties within tol the principal could "save" up to tol times the
        # likelihood-ratio leverage p_a / (p_a − p_a') on a contract the agent barely accepts
        responders = [a for a in range(model.n_actions) if agent_q[a] == best]
        value = _principal_prefers(probs[s], w_p[s], b, responders)
        if value - v_p[s] > tolerance:
            out.append(
                f"{name}: principal gains {_f(value - v_p[s])} by offering {[_f(x) for x in b]}"
            )
    return out, {
        "principal_value": float(v_p[model.initial_state]),
        "largest_principal_gain": float(best_deviation),
    }


def _offpath_contracts(
    model: PrincipalAgentMDP,
    recommended: Sequence[int],
    contracts: Any,
    contracts_all: Any,
    seed: int,
    n_random: int,
) -> list[tuple[int, list[float]]]:
    """Off-path contracts per state: zero pay, the on-path contract 1% short and 1% over,
    every other action's minimal contract, and ``n_random`` random grid contracts."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, list[float]]] = []
    on_path = np.asarray(contracts, dtype=np.float64)
    every = np.asarray(contracts_all, dtype=np.float64) if contracts_all is not None else None
    for s in range(model.n_states):
        candidates = [np.zeros(model.n_outcomes), on_path[s] * 0.99, on_path[s] * 1.01]
        if every is not None:
            candidates += [every[s, a] for a in range(model.n_actions) if a != recommended[s]]
        candidates += [rng.integers(0, 41, model.n_outcomes) / 10 for _ in range(n_random)]
        out += [(s, [float(x) for x in c]) for c in candidates]
    return out


# ============================================================================ properties
ContractSolver = Callable[..., ContractSolution]
SPESolver = Callable[[PrincipalAgentMDP], SPESolution]
MetaSolver = Callable[..., MetaAlgorithmResult]
Operator = Callable[..., FloatArray]


def _candidate_q_bars(model: PrincipalAgentMDP) -> list[list[list[Fraction]]]:
    """Exact Q̄ tables to test contracts on: ``r`` itself and ``r + γ E[max_a r(s', a)]``."""
    data = model.exact_data()
    reward = data.agent_reward.tolist()
    best = [max(row) for row in reward]
    probs = _exact_probs(model)
    w = _principal_continuations(
        replace(
            model,
            exact=replace(
                data, principal_reward=np.full(data.principal_reward.shape, _ZERO, dtype=object)
            ),
        ),
        best,
    )
    lookahead = [
        [reward[s][a] + _dot(probs[s][a], w[s]) for a in range(model.n_actions)]
        for s in range(model.n_states)
    ]
    return [reward, lookahead]


def check_minimal_contract(
    model: PrincipalAgentMDP,
    *,
    solver: ContractSolver = minimal_contracts,
    methods: Sequence[str] = ("auto", "lp"),
    q_bars: Sequence[Sequence[Sequence[Any]]] | None = None,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Minimal contracts are incentive compatible, non-negative and cheapest (PAPER.md §1).

    Claim (PAPER.md §1, "Minimal implementation"): ``b*(s, a^p)`` is the cheapest
    non-negative contract making ``a^p`` a best response, and ``a^p`` is implementable exactly
    when the LP is feasible.

    Definition checked, for every state ``s``, every action ``a^p`` and every test table
    ``Q̄`` (by default ``r`` and ``r + γ E[max_a r(s', a)]``, exact rationals), for each
    ``method`` of ``solver``:

    * ``implementable`` equals the exact LP's feasibility, proven by the exact certificate of
      :func:`theory.exact_contracts.minimal_contract_exact` (dual solution or Farkas ray,
      re-verified with :meth:`ExactContract.verify`);
    * when implementable: ``b ≥ 0``; ``E_{a^p}[b] + Q̄(a^p) ≥ E_a[b] + Q̄(a) − tol`` for all
      ``a``; ``|E_{a^p}[b] − OPT| ≤ tol`` where ``OPT`` is certified optimal; and the solver's
      ``expected_payment`` equals ``E_{a^p}[b]`` within ``tol``.
    """
    claim = "minimal-contract"
    tables = [
        [[to_fraction(x) for x in row] for row in table]
        for table in (q_bars if q_bars is not None else _candidate_q_bars(model))
    ]
    probs = _exact_probs(model)
    out: list[str] = []
    n_problems = 0
    tolerance = to_fraction(tol)
    for t, table in enumerate(tables):
        q_float = np.array([[float(x) for x in row] for row in table], dtype=np.float64)
        for s in range(model.n_states):
            references = [
                minimal_contract_exact(table[s], probs[s], a) for a in range(model.n_actions)
            ]
            for ref in references:
                ref.verify()
            rec = np.arange(model.n_actions)
            for method in methods:
                if method == "closed_form" and model.n_outcomes != 2:
                    continue
                if method == "auto" and model.n_outcomes != 2 and "lp" in methods:
                    continue  # "auto" is the LP for ≠ 2 outcomes: already checked
                got = solver(
                    np.repeat(q_float[s][None], model.n_actions, axis=0),
                    np.repeat(model.outcome_probs[s][None], model.n_actions, axis=0),
                    rec,
                    method=method,
                )
                for a, ref in enumerate(references):
                    n_problems += 1
                    where = f"table {t}, {model.states[s]}, a^p={a}, method {method}"
                    if bool(got.implementable[a]) != ref.implementable:
                        out.append(
                            f"{where}: solver says implementable="
                            f"{bool(got.implementable[a])}, exact LP says "
                            f"{ref.implementable}"
                        )
                        continue
                    if not ref.implementable:
                        continue
                    assert ref.expected_payment is not None
                    b = _fractions(got.contracts[a])
                    if any(x < 0 for x in b):
                        out.append(f"{where}: negative payment {[_f(x) for x in b]}")
                    paid = _dot(probs[s][a], b)
                    mine = table[s][a] + paid
                    for other in range(model.n_actions):
                        theirs = table[s][other] + _dot(probs[s][other], b)
                        if theirs > mine + tolerance:
                            out.append(
                                f"{where}: not incentive compatible — action {other} "
                                f"beats a^p by {_f(theirs - mine)}"
                            )
                    if abs(paid - ref.expected_payment) > tolerance:
                        out.append(
                            f"{where}: pays {_f(paid)} in expectation, the certified "
                            f"optimum is {_f(ref.expected_payment)}"
                        )
                    reported = float(got.expected_payment[a])
                    if not abs(reported - float(paid)) <= tol:
                        out.append(
                            f"{where}: reports expected payment {_f(reported)} but its "
                            f"contract pays {_f(paid)}"
                        )
    return _result(claim, out, problems=n_problems)


def check_spe(
    model: PrincipalAgentMDP,
    *,
    solver: SPESolver = solve_backward_induction,
    offpath_seed: int = 0,
    n_offpath: int = 2,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Backward induction returns a subgame-perfect equilibrium (PAPER.md §2).

    Claim (PAPER.md §2): the solver's policy and agent strategy form an SPE: the agent
    best-responds at every ``(s, b)``, on and off the path, and the principal's contract
    maximises its value at every state given the agent's strategy.

    Definition: :func:`spe_violations` at every state, with the solver's claimed ``V^p``,
    ``V^a`` and ``Q̄``, and off-path contracts per state: zero pay, the on-path contract 1%
    short and 1% over, every other action's minimal contract, and ``n_offpath`` random grid
    contracts (seeded by ``offpath_seed``). Episodic instances only.
    """
    claim = "spe"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance (backward induction needs a DAG)")
    solution = solver(model)
    offpath = _offpath_contracts(
        model,
        solution.recommended.tolist(),
        solution.contracts,
        solution.contracts_all,
        offpath_seed,
        n_offpath,
    )
    out, measured = spe_violations(
        model,
        solution.recommended,
        solution.contracts,
        claimed_principal_values=solution.principal_values,
        claimed_agent_values=solution.agent_values,
        claimed_q_bar=solution.q_bar,
        offpath=offpath,
        tol=tol,
    )
    return _result(claim, out, offpath_contracts=len(offpath), **measured)


def horizon(model: PrincipalAgentMDP) -> int:
    """The horizon ``T`` of an episodic instance: the number of decision levels
    (``1 + max height``; a state that ends the episode after acting has height 0)."""
    heights = model.heights
    if heights is None:
        raise ValueError("the horizon is defined for episodic instances only")
    return int(heights.max()) + 1


def check_theorem_3_3(
    model: PrincipalAgentMDP,
    *,
    meta: MetaSolver = meta_algorithm,
    reference: SPESolver = solve_backward_induction,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Theorem 3.3: on episodic instances the meta-algorithm reaches the SPE in ≤ T + 1 rounds.

    Claim (PAPER.md §3, Theorem 3.3 [P number, U wording]): with finite horizon ``T`` the
    meta-algorithm reaches an SPE in a number of iterations linear in ``T``; read as *at most
    T + 1* (T rounds to fix the T levels, one more to observe that ρ stopped changing).

    Definition: ``T`` = :func:`horizon`; run Algorithm 1 from its default start (zero
    contracts, no recommendation). It must (i) stop with ``converged``; (ii) after at most
    ``T + 1`` rounds; (iii) with the reference SPE's values (``V^p``, ``V^a`` at every state
    within ``tol``) and recommendations. The mechanism is checked as well: (iv) after ``k``
    rounds, every state of height ``< k`` has the reference's recommendation and contract
    (within ``tol``). Measurements: ``depth`` (= T) and ``iterations``.
    """
    claim = "theorem-3.3"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    depth = horizon(model)
    heights = model.heights
    assert heights is not None
    result = meta(model)
    ref = reference(model)
    out: list[str] = []
    if not result.converged:
        out.append(f"did not converge in {result.iterations} rounds (T = {depth})")
    if result.iterations > depth + 1:
        out.append(f"needed {result.iterations} rounds > T + 1 = {depth + 1}")
    final = result.solution
    for s in range(model.n_states):
        for label, got, want in (
            ("V^p", final.principal_values[s], ref.principal_values[s]),
            ("V^a", final.agent_values[s], ref.agent_values[s]),
        ):
            if abs(float(got) - float(want)) > tol:
                out.append(
                    f"{model.states[s]}: meta-algorithm {label} = {_f(got)}, SPE "
                    f"{label} = {_f(want)}"
                )
    ref_contracts = np.asarray(ref.contracts, dtype=np.float64)
    for k, policy in enumerate(result.policies[1:], start=1):
        for s in np.flatnonzero(heights < k).tolist():
            if (
                policy.recommended[s] != ref.recommended[s]
                or np.max(np.abs(policy.contracts[s] - ref_contracts[s])) > tol
            ):
                out.append(
                    f"mechanism: after {k} rounds state {model.states[s]} (height "
                    f"{heights[s]}) has not reached the SPE"
                )
                break
    return _result(claim, out, depth=depth, iterations=result.iterations)


def _zero_contract_q_bar(model: PrincipalAgentMDP) -> FloatArray:
    """Q̄ of the agent facing zero contracts (the meta-algorithm's first agent step)."""
    evaluation = evaluate_policy(
        model, np.full(model.n_states, -1), np.zeros((model.n_states, model.n_outcomes))
    )
    return np.asarray(evaluation.q_bar, dtype=np.float64)


def check_contraction(
    model: PrincipalAgentMDP,
    q1: FloatArray,
    q2: FloatArray,
    *,
    reading: str = "R2",
    operator: Operator = principal_q_operator,
    agent_q_bar: FloatArray | None = None,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Theorem 3.4, part 1: the principal-Q operator is a γ-contraction in the sup-norm.

    Claim (PAPER.md §3, Theorem 3.4 [P in substance, U operator and modulus]): for γ < 1,
    ``‖J q1 − J q2‖∞ ≤ γ ‖q1 − q2‖∞``.

    Definition: ``J`` is :func:`solvers.meta_algorithm.principal_q_operator` with the given
    reading. R1: the agent's ``Q̄`` is re-solved for ``greedy(q)`` implemented minimally
    everywhere; R2: ``Q̄`` is held fixed (default: the agent's ``Q̄`` facing zero contracts,
    the meta-algorithm's first agent step). The norm is the sup-norm over implementable
    pairs; if the unimplementable (−∞) patterns of ``J q1`` and ``J q2`` differ the distance
    is ∞. Holds when ``‖J q1 − J q2‖∞ ≤ γ ‖q1 − q2‖∞ + tol``. When R1 fails, the report
    also says whether the inner fixed point ``Q̄_q`` was found (J well defined at q).
    """
    claim = f"theorem-3.4-contraction-{reading}"
    gamma = model.discount
    if gamma >= 1:
        return _not_applicable(claim, "γ = 1")
    fixed = None
    out: list[str] = []
    if reading == "R2":
        fixed = agent_q_bar if agent_q_bar is not None else _zero_contract_q_bar(model)
    j1 = operator(model, q1, reading=reading, agent_q_bar=fixed)
    j2 = operator(model, q2, reading=reading, agent_q_bar=fixed)
    lhs = sup_norm_distance(j1, j2)
    distance = float(np.max(np.abs(q1 - q2)))
    rhs = gamma * distance
    ratio = lhs / distance if distance > 0 else (0.0 if lhs == 0 else float("inf"))
    if not lhs <= rhs + tol:
        what = (
            "the unimplementable patterns of J q1 and J q2 differ"
            if lhs == float("inf")
            else f"‖J q1 − J q2‖∞ = {_f(lhs)}"
        )
        out.append(
            f"{what} > γ‖q1 − q2‖∞ = {_f(gamma)}·{_f(distance)} = {_f(rhs)} "
            f"(greedy q1 {greedy(q1).tolist()}, greedy q2 {greedy(q2).tolist()})"
        )
        if reading == "R1":  # say whether J was well defined (the inner fixed point found)
            for label, q in (("q1", q1), ("q2", q2)):
                if not agent_q_bar_minimal(model, greedy(q))[1]:
                    out.append(
                        f"J undefined at {label}: no fixed point found for the agent's "
                        f"Q̄ when greedy({label}) is implemented minimally"
                    )
    return _result(claim, out, ratio=ratio, gamma=gamma)


def _policy_of(
    model: PrincipalAgentMDP, recommended: IntArray, q_bar: FloatArray
) -> tuple[IntArray, FloatArray]:
    """``recommended`` with its minimal contracts for ``q_bar`` (zero where unimplementable)."""
    solution = minimal_contracts(q_bar, model.outcome_probs, recommended)
    return recommended, np.asarray(solution.contracts, dtype=np.float64)


def check_operator_fixed_point(
    model: PrincipalAgentMDP,
    *,
    reading: str = "R2",
    operator: Operator = principal_q_operator,
    meta: MetaSolver = meta_algorithm,
    tol: float = DEFAULT_TOL,
    fixed_point_iterations: int = FIXED_POINT_ITERATIONS,
) -> PropertyResult:
    """Theorem 3.4, part 2: J's fixed point gives an SPE, the meta-algorithm's.

    Claim (PAPER.md §3, Theorem 3.4): for γ < 1 the meta-algorithm is equivalent to iterating
    a contraction on the principal's Q-function and converges to an SPE.

    Definition. Run Algorithm 1 (default start, ``META_MAX_ITERATIONS`` rounds, tolerance
    :data:`META_TOL`); let ``Q̄*``
    be its last agent step and ``ρ*`` its final policy.

    * R2 (``Q̄`` fixed at ``Q̄*``): ``q*`` = the principal's optimal contractual Q for
      ``Q̄*`` (policy iteration, :func:`solvers.meta_algorithm.principal_step`). Checked:
      ``‖J q* − q*‖∞ ≤ tol`` (``q*`` is J's fixed point);
    * R1: starting from the meta-algorithm's ``q``, iterate ``q ← J q`` (at most
      ``fixed_point_iterations`` times) until ``‖J q − q‖∞ ≤ tol``; failing to reach a fixed
      point is a violation.

    Then, at the meta-algorithm's precision :func:`meta_tolerance`, the fixed point's greedy
    policy with its minimal contracts (for ``Q̄*`` under R2, for
    ``Q̄_q`` under R1) must be an SPE (:func:`spe_violations`, all states) and agree with the
    meta-algorithm: the same ``V^p`` and ``V^a`` at every state within ``tol``. A
    meta-algorithm that does not converge is a violation (no fixed point to agree with).
    """
    claim = f"theorem-3.4-fixed-point-{reading}"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    result = meta(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    out: list[str] = []
    if not result.converged:
        return _result(
            claim,
            [
                f"the meta-algorithm did not converge ({result.iterations} "
                f"rounds, cycle start {result.cycle_start})"
            ],
            iterations=0,
        )
    q_bar_star = np.asarray(result.q_bars[-1], dtype=np.float64)
    iterations = 0
    if reading == "R2":
        _, q, _, _ = principal_step(model, q_bar_star)
        residual = sup_norm_distance(operator(model, q, reading="R2", agent_q_bar=q_bar_star), q)
        if not residual <= tol:
            out.append(
                f"the principal's optimal q for the fixed Q̄ is not a fixed point of "
                f"J: ‖J q − q‖∞ = {_f(residual)}"
            )
        q_bar_used = q_bar_star
    else:
        q = np.asarray(result.solution.principal_q, dtype=np.float64)
        residual = float("inf")
        while iterations < fixed_point_iterations:
            new_q = operator(model, np.where(np.isfinite(q), q, -1e300), reading="R1")
            residual = sup_norm_distance(new_q, q)
            q = new_q
            iterations += 1
            if residual <= tol:
                break
        if not residual <= tol:
            out.append(
                f"iterating J (R1) from the meta-algorithm's q reached no fixed point "
                f"in {iterations} steps (last ‖J q − q‖∞ = {_f(residual)})"
            )
            return _result(claim, out, iterations=iterations)
        q_bar_used, _ = agent_q_bar_minimal(model, greedy(q))
    rec, pay = _policy_of(model, greedy(q), q_bar_used)
    precision = meta_tolerance(model, tol)
    violations, _ = spe_violations(model, rec, pay, tol=precision)
    out += [f"greedy policy of the fixed point: {v}" for v in violations]
    exact = evaluate_policy_exact(model, rec, pay, tie_tolerance=to_fraction(precision))
    meta_p, meta_a = _followed_values(model, result.policies[-1], precision)
    for s in range(model.n_states):
        for label, got, want in (
            ("V^p", exact.principal_values[s], meta_p[s]),
            ("V^a", exact.agent_values[s], meta_a[s]),
        ):
            if abs(float(got) - float(want)) > precision:
                out.append(
                    f"{model.states[s]}: fixed point {label} = {_f(got)}, "
                    f"meta-algorithm {label} = {_f(want)}"
                )
    return _result(claim, out, iterations=iterations)


def meta_tolerance(model: PrincipalAgentMDP, tol: float = DEFAULT_TOL) -> float:
    """The precision of values and incentives derived from a meta-algorithm run.

    Algorithm 1 stops when contracts move by at most :data:`META_TOL`; such a contract error
    reaches values through the effective horizon ``1/(1 − γ)`` and minimal contracts through the
    likelihood-ratio leverage (bounded by :data:`META_LEVERAGE`). Comparisons of meta-algorithm
    outputs use ``(tol + META_LEVERAGE · META_TOL) / (1 − γ)`` — e.g. 1.0e-5 at γ = 9/10,
    1.0e-3 at γ = 999/1000; the findings of the report differ by 0.1 or more.
    """
    return (tol + META_LEVERAGE * META_TOL) / (1.0 - model.discount)


def _followed_values(
    model: PrincipalAgentMDP, policy: PrincipalPolicy, precision: float
) -> tuple[list[float], list[float]]:
    """``(V^p, V^a)`` of a meta-algorithm policy with the recommendation followed wherever the
    agent loses at most ``precision`` by following (exact evaluation).

    The library reports values at its tie tolerance 1e-9; a run stopped at :data:`META_TOL`
    leaves contracts minimal for the *previous* round's Q̄, a few 1e-9 short, so its agent can
    deviate by a hair and the reported values jump (values are discontinuous in the contract at
    the agent's indifference). Comparisons use these values instead.
    """
    exact = evaluate_policy_exact(
        model, policy.recommended, policy.contracts, tie_tolerance=to_fraction(precision)
    )
    return ([float(x) for x in exact.principal_values], [float(x) for x in exact.agent_values])


def check_meta_convergence(
    model: PrincipalAgentMDP,
    *,
    meta: MetaSolver = meta_algorithm,
    max_iterations: int = META_MAX_ITERATIONS,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """The meta-algorithm converges on discounted instances, to an SPE (PAPER.md §3).

    Claim (PAPER.md §3, Theorem 3.4 and "Also open for γ < 1"): Algorithm 1 converges (ρ
    stops changing) and its limit is an SPE.

    Definition: run Algorithm 1 from its default start for at most ``max_iterations`` rounds,
    contracts within :data:`META_TOL` counting as unchanged. Violations: not converged (a cycle
    is reported with its start and length); the final policy fails :func:`spe_violations` at
    some state, at the run's precision :func:`meta_tolerance`. Measurements: ``iterations`` and
    ``reported_value_jump``, the largest gap between the library's reported V^p (agent at tie
    tolerance 1e-9) and V^p with the recommendation followed (:func:`_followed_values`).
    """
    claim = "meta-convergence"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    result = meta(model, max_iterations=max_iterations, tol=META_TOL)
    out: list[str] = []
    if not result.converged:
        if result.cycle_start is not None:
            out.append(
                f"cycles: policy {result.iterations} repeats policy "
                f"{result.cycle_start} (period {result.iterations - result.cycle_start})"
            )
        else:
            out.append(f"no convergence within {result.iterations} rounds")
        return _result(claim, out, iterations=result.iterations)
    final = result.policies[-1]
    precision = meta_tolerance(model, tol)
    violations, _ = spe_violations(model, final.recommended, final.contracts, tol=precision)
    out += [f"limit is not an SPE: {v}" for v in violations]
    followed_p, _ = _followed_values(model, final, precision)
    jump = max(
        abs(float(x) - y) for x, y in zip(result.solution.principal_values, followed_p, strict=True)
    )
    return _result(claim, out, iterations=result.iterations, reported_value_jump=jump)


def starting_policies(
    model: PrincipalAgentMDP, seed: int = 0, n_random: int = 1
) -> list[tuple[str, PrincipalPolicy | None]]:
    """Starting policies for Algorithm 1: its default (zero pay, no recommendation), the last
    action recommended everywhere with zero pay, a generous flat contract (2 on every outcome,
    recommending action 0), and ``n_random`` random policies (seeded)."""
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    rng = np.random.default_rng(seed)
    starts: list[tuple[str, PrincipalPolicy | None]] = [("default", None)]
    starts.append(
        (
            f"recommend a{n_a - 1}",
            PrincipalPolicy(np.full(n_s, n_a - 1, dtype=np.int64), np.zeros((n_s, n_o))),
        )
    )
    starts.append(
        ("flat pay 2", PrincipalPolicy(np.zeros(n_s, dtype=np.int64), np.full((n_s, n_o), 2.0)))
    )
    for i in range(n_random):
        starts.append(
            (
                f"random {seed}/{i}",
                PrincipalPolicy(
                    rng.integers(0, n_a, n_s).astype(np.int64), rng.integers(0, 21, (n_s, n_o)) / 10
                ),
            )
        )
    return starts


def check_meta_uniqueness(
    model: PrincipalAgentMDP,
    *,
    start_seed: int = 0,
    meta: MetaSolver = meta_algorithm,
    max_iterations: int = META_MAX_ITERATIONS,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """The meta-algorithm reaches the same values from every starting policy (PAPER.md §3).

    Claim (PAPER.md §3, Theorem 3.4: convergence of a contraction implies a unique limit;
    PAPER.md notes the SPE need not be unique for γ < 1): Algorithm 1 started from different
    principal policies ends at the same values.

    Definition: run Algorithm 1 (tolerance :data:`META_TOL`) from every policy of
    :func:`starting_policies`; among the runs
    that converge, ``V^p`` and ``V^a`` (of each limit policy with its recommendation followed
    up to the runs' precision :func:`meta_tolerance`) must agree at every state. Runs that do
    not converge are counted (measurement ``not_converged``), not judged here (see
    :func:`check_meta_convergence`).
    """
    claim = "meta-uniqueness"
    if model.discount >= 1:
        return _not_applicable(claim, "γ = 1")
    outcomes: list[tuple[str, MetaAlgorithmResult, tuple[list[float], list[float]]]] = []
    not_converged = 0
    precision = meta_tolerance(model, tol)
    for label, start in starting_policies(model, start_seed):
        result = meta(model, initial_policy=start, max_iterations=max_iterations, tol=META_TOL)
        if result.converged:
            outcomes.append(
                (label, result, _followed_values(model, result.policies[-1], precision))
            )
        else:
            not_converged += 1
    out: list[str] = []
    if outcomes:
        base_label, base, (base_p, base_a) = outcomes[0]
        for label, other, (other_p, other_a) in outcomes[1:]:
            for s in range(model.n_states):
                for name, x, y in (("V^p", base_p[s], other_p[s]), ("V^a", base_a[s], other_a[s])):
                    if abs(x - y) > precision:
                        out.append(
                            f"{model.states[s]}: start '{base_label}' gives {name} = "
                            f"{_f(x)} (recommending {base.solution.recommended.tolist()})"
                            f", start '{label}' gives {_f(y)} (recommending "
                            f"{other.solution.recommended.tolist()})"
                        )
    return _result(claim, out, not_converged=not_converged, starts=len(outcomes))


# ------------------------------------------------------------------------ observed action
def observed_counterpart(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """The observed-action version of a hidden-action instance, with the same expectations.

    Outcomes become the actions; ``r^p(s, a) = Σ_o 𝒪(s, a)(o) r^p(s, o)`` and
    ``T(s, a) = Σ_o 𝒪(s, a)(o) T(s, o)`` (PAPER.md §7 builds its observed variant this way).
    Where some outcomes of ``a`` end the episode and others do not, the ending probability is
    sent to an extra absorbing state ``end`` (zero rewards, ends the episode), since FORMAT.md
    transitions either end or sum to 1. Exact rationals throughout.
    """
    data = model.exact_data()
    n_s, n_a, n_o = model.n_states, model.n_actions, model.n_outcomes
    probs = data.outcome_probs
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    transitions: list[list[list[list[Any]]]] = []
    needs_end = False
    end = n_s
    for s in range(n_s):
        row = []
        for a in range(n_a):
            dist: dict[int, Fraction] = {}
            ending = _ZERO
            for o in range(n_o):
                p = probs[s, a, o]
                lo, hi = offsets[s * n_o + o], offsets[s * n_o + o + 1]
                if hi == lo:
                    ending += p
                for k in range(lo, hi):
                    dist[nxt[k]] = dist.get(nxt[k], _ZERO) + p * tprob[k]
            if dist and ending:
                dist[end] = ending
                needs_end = True
            row.append([[t, p] for t, p in sorted(dist.items()) if p])
        transitions.append(row)
    principal = [
        [_dot(probs[s, a].tolist(), data.principal_reward[s].tolist()) for a in range(n_a)]
        for s in range(n_s)
    ]
    agent = data.agent_reward.tolist()
    states = list(model.states)
    if needs_end:
        states.append("end" if "end" not in states else f"end{n_s}")
        principal.append([_ZERO] * n_a)
        agent.append([_ZERO] * n_a)
        transitions.append([[] for _ in range(n_a)])
    n = len(states)
    return build_model(
        states=states,
        actions=list(model.actions),
        outcomes=list(model.actions),
        initial_state=model.initial_state,
        discount=data.discount,
        outcome_probs=[[[int(o == a) for o in range(n_a)] for a in range(n_a)] for _ in range(n)],
        agent_reward=agent,
        principal_reward=principal,
        transitions=transitions,
        observed_action=True,
        name=f"{model.name} (observed counterpart)",
        exact=True,
    )


def first_best_values(model: PrincipalAgentMDP) -> list[Fraction]:
    """First-best welfare ``W*(s)``: the optimal value of ``r(s, a) + E_{𝒪(s,a)}[r^p]``
    when a planner chooses the actions (exact)."""
    data = model.exact_data()
    welfare = [
        [
            data.agent_reward[s, a]
            + _dot(data.outcome_probs[s, a].tolist(), data.principal_reward[s].tolist())
            for a in range(model.n_actions)
        ]
        for s in range(model.n_states)
    ]
    planner = replace(
        model,
        exact=replace(data, agent_reward=np.array(welfare, dtype=object)),
        agent_reward=np.array([[float(x) for x in row] for row in welfare]),
    )
    return no_contract_agent_values(planner)


def no_contract_agent_values(model: PrincipalAgentMDP) -> list[Fraction]:
    """The agent's optimal value when it is never paid (exact)."""
    evaluation = evaluate_policy_exact(
        model, [-1] * model.n_states, [[0] * model.n_outcomes] * model.n_states
    )
    return [to_fraction(v) for v in evaluation.agent_values]


def default_spe_solver(model: PrincipalAgentMDP) -> SPESolution | None:
    """Backward induction on episodic instances, the converged meta-algorithm otherwise
    (``None`` when it does not converge)."""
    if model.is_episodic:
        return solve_backward_induction(model)
    result = meta_algorithm(model, max_iterations=META_MAX_ITERATIONS, tol=META_TOL)
    return result.solution if result.converged else None


def check_observed_action(
    model: PrincipalAgentMDP,
    *,
    solver: Callable[[PrincipalAgentMDP], SPESolution | None] = default_spe_solver,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Observed action: the principal earns first-best welfare minus the agent's outside value.

    Claim (PAPER.md §1, "Observed action" [D]): with observed actions the minimal contract pays
    ``max_a Q̄(s, a) − Q̄(s, a^p)`` on ``a^p`` only, the agent earns its no-contract value in
    every state, hence the principal's SPE value is ``W*(s) − V^a_0(s)`` (first-best welfare
    minus the agent's no-contract value) and at least the hidden-action SPE value of the same
    instance (more information cannot hurt the principal).

    Definition. For a hidden-action ``model`` let ``M_obs`` = :func:`observed_counterpart`
    (same expected rewards and dynamics). Checked, within ``tol``: at every state of
    ``M_obs``, ``V^p(s) = W*(s) − V^a_0(s)`` and ``V^a(s) = V^a_0(s)`` (exact
    :func:`first_best_values`, :func:`no_contract_agent_values`); and
    ``V^p_obs(s0) ≥ V^p_hidden(s0) − tol``. An observed-action ``model`` is its own
    counterpart (the second part is then skipped). ``solver`` returns an SPE or ``None``
    (meta-algorithm did not converge: the comparison is skipped).
    """
    claim = "observed-action"
    observed = model if model.observed_action else observed_counterpart(model)
    solution = solver(observed)
    if solution is None:
        return _not_applicable(claim, "no SPE computed for the observed counterpart")
    welfare = first_best_values(observed)
    outside = no_contract_agent_values(observed)
    out: list[str] = []
    # values computed by the meta-algorithm (discounted instances) are precise to
    # meta_tolerance; backward induction's to tol
    precision = tol if observed.is_episodic else meta_tolerance(observed, tol)
    for s in range(observed.n_states):
        expected = welfare[s] - outside[s]
        if abs(float(solution.principal_values[s]) - float(expected)) > precision:
            out.append(
                f"{observed.states[s]}: V^p = {_f(solution.principal_values[s])} but "
                f"W* − V^a_0 = {_f(welfare[s])} − {_f(outside[s])} = {_f(expected)}"
            )
        if abs(float(solution.agent_values[s]) - float(outside[s])) > precision:
            out.append(
                f"{observed.states[s]}: V^a = {_f(solution.agent_values[s])} but the "
                f"agent's no-contract value is {_f(outside[s])}"
            )
    gap = float("nan")
    if not model.observed_action:
        hidden = solver(model)
        if hidden is not None:
            s0 = model.initial_state
            gap = float(solution.principal_values[s0]) - float(hidden.principal_values[s0])
            if gap < -precision:
                out.append(
                    f"observed-action V^p(s0) = {_f(solution.principal_values[s0])} < "
                    f"hidden-action V^p(s0) = {_f(hidden.principal_values[s0])}"
                )
    return _result(claim, out, information_gain=gap)


# ----------------------------------------------------------------------------- metamorphic
def scale_rewards(model: PrincipalAgentMDP, factor: Any) -> PrincipalAgentMDP:
    """The instance with every reward (agent's and principal's) multiplied by ``factor``."""
    c = to_fraction(factor)
    data = model.exact_data()
    agent = data.agent_reward * c
    principal = data.principal_reward * c
    return replace(
        model,
        agent_reward=np.array(agent.tolist(), dtype=np.float64),
        principal_reward=np.array(principal.tolist(), dtype=np.float64),
        exact=replace(data, agent_reward=agent, principal_reward=principal),
        name=f"{model.name} (rewards × {c})",
    )


def check_reward_scaling(
    model: PrincipalAgentMDP,
    factor: Any = 2,
    *,
    solver: SPESolver = solve_backward_induction,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Scaling every reward by ``c > 0`` scales contracts and values by ``c``.

    Justification: with all rewards multiplied by ``c``, ``Q̄`` scales by ``c``; the
    minimal-contract LP (PAPER.md §1) has right-hand sides ``Q̄(a) − Q̄(a^p)`` scaled by ``c``
    and the same constraint matrix, so its optimal contracts scale by ``c`` (and
    implementability is unchanged); the principal's contractual q scales by ``c``, so the same
    actions are optimal. By induction over levels the SPE scales (no reference to a paper
    theorem: this is a consistency property of the definitions of PAPER.md §1–2).

    Definition (episodic instances, ``solver`` on both): same recommendations, and
    ``V^p``, ``V^a`` at every state and every contract entry scaled by ``c`` within
    ``tol · max(1, c)``.
    """
    claim = "metamorphic-scaling"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    c = to_fraction(factor)
    if c <= 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    base = solver(model)
    scaled = solver(scale_rewards(model, c))
    bound = tol * max(1.0, float(c))
    out: list[str] = []
    for s in range(model.n_states):
        name = model.states[s]
        if base.recommended[s] != scaled.recommended[s]:
            out.append(
                f"{name}: recommends {base.recommended[s]}, after scaling by {c} "
                f"{scaled.recommended[s]}"
            )
            continue
        for label, x, y in (
            ("V^p", base.principal_values[s], scaled.principal_values[s]),
            ("V^a", base.agent_values[s], scaled.agent_values[s]),
        ):
            if abs(float(c) * float(x) - float(y)) > bound:
                out.append(
                    f"{name}: {label} = {_f(x)}, after scaling by {c}: {_f(y)} "
                    f"(expected {_f(float(c) * float(x))})"
                )
        diff = np.max(
            np.abs(
                float(c) * np.asarray(base.contracts[s], dtype=np.float64)
                - np.asarray(scaled.contracts[s], dtype=np.float64)
            )
        )
        if diff > bound:
            out.append(
                f"{name}: contract {np.asarray(base.contracts[s], float).tolist()} "
                f"scaled by {c} differs from "
                f"{np.asarray(scaled.contracts[s], float).tolist()}"
            )
    return _result(claim, out, factor=float(c))


def relabel(
    model: PrincipalAgentMDP,
    state_order: Sequence[int],
    action_order: Sequence[int],
    outcome_order: Sequence[int] | None = None,
) -> PrincipalAgentMDP:
    """The same instance with states, actions and outcomes listed in a new order.

    ``state_order[i]`` is the old index of the new state ``i`` (likewise for actions and
    outcomes); names travel with their elements. With observed action the outcomes follow
    the actions.
    """
    data = model.exact_data()
    s_ord, a_ord = list(state_order), list(action_order)
    o_ord = (
        a_ord
        if model.observed_action
        else list(outcome_order if outcome_order is not None else range(model.n_outcomes))
    )
    new_of_old = {old: new for new, old in enumerate(s_ord)}
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    n_o = model.n_outcomes
    transitions = []
    for old_s in s_ord:
        row = []
        for old_o in o_ord:
            lo, hi = offsets[old_s * n_o + old_o], offsets[old_s * n_o + old_o + 1]
            row.append(sorted([[new_of_old[nxt[k]], tprob[k]] for k in range(lo, hi)]))
        transitions.append(row)
    probs = data.outcome_probs[np.ix_(s_ord, a_ord, o_ord)]
    return build_model(
        states=[model.states[s] for s in s_ord],
        actions=[model.actions[a] for a in a_ord],
        outcomes=[model.outcomes[o] for o in o_ord],
        initial_state=new_of_old[model.initial_state],
        discount=data.discount,
        outcome_probs=probs.tolist(),
        agent_reward=data.agent_reward[np.ix_(s_ord, a_ord)].tolist(),
        principal_reward=data.principal_reward[np.ix_(s_ord, o_ord)].tolist(),
        transitions=transitions,
        observed_action=model.observed_action,
        name=f"{model.name} (relabelled)",
        exact=True,
    )


def check_relabelling(
    model: PrincipalAgentMDP,
    state_order: Sequence[int],
    action_order: Sequence[int],
    outcome_order: Sequence[int] | None = None,
    *,
    solver: SPESolver | None = None,
    tie_break: str = "agent_best",
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Relabelling states, actions or outcomes permutes the SPE.

    Justification: PAPER.md §1–2 define the model and the SPE without reference to the order
    in which states, actions and outcomes are listed, so a solver must return the permuted
    solution — *up to the principal's choice among equally good actions*. Such ties matter
    (the tied actions can leave the agent different values, which changes incentives
    upstream), so the property is stated for a label-independent tie rule (``tie_break``:
    ``"agent_best"`` / ``"agent_worst"``, see :mod:`solvers.backward_induction`) and also run,
    as its own claim, with the default ``"lowest_index"`` rule, which is label-dependent.

    Definition (episodic instances): ``V^p`` and ``V^a`` of every state equal those of its
    image within ``tol``; where the principal's best action is unique (no other action within
    ``tol`` of its q), the recommendations correspond and the contracts cost the same. (The
    contract *vectors* need not be permutations of each other: the minimal contract is not
    unique when two outcomes are equally informative, and the thorough run found exactly that,
    tests/regressions/relabelling-contract-not-unique.json.)
    """
    claim = f"metamorphic-relabelling-{tie_break}"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")

    def default(m: PrincipalAgentMDP) -> SPESolution:
        return solve_backward_induction(m, principal_tie_break=tie_break)  # type: ignore[arg-type]

    run = solver if solver is not None else default
    o_ord = (
        list(action_order)
        if model.observed_action
        else list(outcome_order if outcome_order is not None else range(model.n_outcomes))
    )
    other = relabel(model, state_order, action_order, o_ord)
    base, permuted = run(model), run(other)
    out: list[str] = []
    for new_s, old_s in enumerate(state_order):
        name = model.states[old_s]
        for label, x, y in (
            ("V^p", base.principal_values[old_s], permuted.principal_values[new_s]),
            ("V^a", base.agent_values[old_s], permuted.agent_values[new_s]),
        ):
            if abs(float(x) - float(y)) > tol:
                out.append(f"{name}: {label} = {_f(x)}, after relabelling {_f(y)}")
        q = np.asarray(base.principal_q[old_s], dtype=np.float64)
        best = q[base.recommended[old_s]]
        unique = int(np.sum(q >= best - tol)) == 1
        if unique:
            mapped = action_order[int(permuted.recommended[new_s])]
            if mapped != base.recommended[old_s]:
                out.append(
                    f"{name}: recommends {model.actions[base.recommended[old_s]]}, "
                    f"after relabelling {model.actions[mapped]}"
                )
            else:
                # the minimal contract's *cost* is unique, the vector need not be (several
                # LP vertices can be optimal, and which one a solver returns depends on the
                # order of the outcomes): compare expected payments
                rec_old = int(base.recommended[old_s])
                want = float(
                    model.outcome_probs[old_s, rec_old]
                    @ np.asarray(base.contracts[old_s], dtype=np.float64)
                )
                got = float(
                    other.outcome_probs[new_s, int(permuted.recommended[new_s])]
                    @ np.asarray(permuted.contracts[new_s], dtype=np.float64)
                )
                if abs(want - got) > tol:
                    out.append(f"{name}: expected payment {_f(want)} becomes {_f(got)}")
    return _result(claim, out)


# ------------------------------------------------------------------------ commitment vs SPE
@dataclass(frozen=True)
class CommitmentOptimum:
    """The best principal policy with commitment (one joint LP per recommended profile).

    Attributes
    ----------
    value : the principal's optimal value at the initial state.
    recommended : (S,) the optimal profile (−1 on states unreachable from the initial state).
    contracts : (S, O) its contracts (zeros on unreachable states).
    profiles : number of profiles enumerated.
    feasible : number of profiles some contract implements.
    """

    value: float
    recommended: IntArray
    contracts: FloatArray
    profiles: int
    feasible: int


def _profile_blocks(
    model: PrincipalAgentMDP, states: IntArray, limited_liability: bool, myopic: bool
) -> tuple[list[IntArray], list[Any]]:
    """LP data (one block per profile) of the commitment problem; see
    :func:`commitment_optimum`."""
    import itertools

    n_r, n_a, n_o = len(states), model.n_actions, model.n_outcomes
    gamma = 0.0 if myopic else model.discount
    index = {int(s): i for i, s in enumerate(states)}
    # P[i, a, j]: probability of moving from states[i] to states[j] under action a
    trans = model.transition_matrix.toarray().reshape(model.n_states, n_o, model.n_states)
    big_p = np.einsum("iao,ioj->iaj", model.outcome_probs[states], trans[states][:, :, states])
    profiles = [np.array(p, dtype=np.int64) for p in itertools.product(range(n_a), repeat=n_r)]
    blocks = []
    start = index[int(model.initial_state)]
    for g in profiles:
        rows = np.arange(n_r)
        n_b = n_r * n_o
        width = n_b + n_r  # b(s, o) then V(s)
        # equality: V(s) − Σ_o p(s,g,o) b(s,o) − γ Σ_j P(s,g,j) V(j) = r(s,g)
        a_eq = np.zeros((n_r, width))
        for i in range(n_r):
            a_eq[i, i * n_o : (i + 1) * n_o] = -model.outcome_probs[states[i], g[i]]
        a_eq[:, n_b:] = np.eye(n_r) - gamma * big_p[rows, g]
        b_eq = model.agent_reward[states, g]
        # IC: Σ_o p(s,a,o) b(s,o) + γ Σ_j P(s,a,j) V(j) − V(s) ≤ −r(s,a), a ≠ g(s)
        ic_rows, ic_rhs = [], []
        for i in range(n_r):
            for a in range(n_a):
                if a == g[i]:
                    continue
                row = np.zeros(width)
                row[i * n_o : (i + 1) * n_o] = model.outcome_probs[states[i], a]
                row[n_b:] = gamma * big_p[i, a]
                row[n_b + i] -= 1.0
                ic_rows.append(row)
                ic_rhs.append(-model.agent_reward[states[i], a])
        a_ub = np.array(ic_rows).reshape(-1, width)
        b_ub = np.array(ic_rhs)
        # occupancy from the initial state under g (discounted)
        occupancy = np.linalg.solve(
            (np.eye(n_r) - model.discount * big_p[rows, g]).T, np.eye(n_r)[start]
        )
        cost = np.zeros(width)
        for i in range(n_r):
            cost[i * n_o : (i + 1) * n_o] = occupancy[i] * model.outcome_probs[states[i], g[i]]
        reward = float(
            occupancy
            @ np.einsum("io,io->i", model.outcome_probs[states, g], model.principal_reward[states])
        )
        bounds = [(0.0 if limited_liability else None, None)] * n_b + [(None, None)] * n_r
        blocks.append((a_eq, b_eq, a_ub, b_ub, cost, reward, bounds))
    return profiles, blocks


def commitment_optimum(
    model: PrincipalAgentMDP,
    *,
    feasibility_tol: float = 1e-9,
    limited_liability: bool = True,
    myopic_agent: bool = False,
) -> CommitmentOptimum:
    """The principal's optimal value with commitment on an episodic instance (PAPER.md §2).

    With commitment the principal announces a Markov policy (a recommended action and a
    contract per state) and the agent best-responds to the *whole* policy; contracts need not
    be minimal state by state (paying more downstream can make upstream incentives cheaper).
    For each profile ``g`` of recommended actions on the states reachable from ``s0`` one LP:

        min_{b ≥ 0, V}  Σ_s d_g(s) Σ_o 𝒪(s, g(s))(o) b(s, o)
        s.t.  V(s) = r(s, g(s)) + Σ_o 𝒪(s, g(s))(o) [b(s, o) + γ Σ_{s'} T(s, o)(s') V(s')]
              r(s, a) + Σ_o 𝒪(s, a)(o) [b(s, o) + γ Σ_{s'} T(s, o)(s') V(s')] ≤ V(s)  ∀ a ≠ g(s)

    where ``d_g`` is the discounted occupancy from ``s0`` under ``g``: the equalities make
    ``V`` the agent's value of following, the inequalities (one-shot deviations, which suffice
    in an MDP) make following optimal, with ties resolved for the principal. The principal's
    value is ``Σ_s d_g(s) E[r^p] −`` the optimum. All profiles' LPs are stacked block-diagonally
    and solved by HiGHS in two phases (feasibility with slacks on the incentive rows, then
    cost), as in :func:`solvers.contracts.batched_lp`. ``limited_liability`` and
    ``myopic_agent`` (γ dropped from the agent's constraints) exist to plant errors in tests.
    """
    if not model.is_episodic:
        raise ValueError("commitment_optimum needs an episodic instance")
    states = np.flatnonzero(model.reachable).astype(np.int64)
    profiles, blocks = _profile_blocks(model, states, limited_liability, myopic_agent)
    n_r, n_o = len(states), model.n_outcomes
    width = n_r * n_o + n_r
    n_ic = blocks[0][2].shape[0]
    # phase 1: min Σ t  s.t. A_ub x − t ≤ b_ub, A_eq x = b_eq
    ub = sp.block_diag(
        [
            sp.hstack([sp.csr_matrix(b[2]), -sp.identity(n_ic)])
            if n_ic
            else sp.csr_matrix((0, width))
            for b in blocks
        ],
        format="csr",
    )
    n_blocks = len(blocks)
    block_width = width + n_ic

    a_eq = sp.block_diag(
        [sp.hstack([sp.csr_matrix(b[0]), sp.csr_matrix((n_r, n_ic))]) for b in blocks], format="csr"
    )
    b_eq = np.concatenate([b[1] for b in blocks])
    b_ub = np.concatenate([b[3] for b in blocks]) if n_ic else np.zeros(0)
    bounds = []
    for b in blocks:
        bounds += list(b[6]) + [(0.0, None)] * n_ic
    cost1 = np.tile(np.r_[np.zeros(width), np.ones(n_ic)], n_blocks)
    options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    phase1 = linprog(
        cost1,
        A_ub=ub if n_ic else None,
        b_ub=b_ub if n_ic else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
        options=options,
    )
    if phase1.status != 0:  # pragma: no cover - phase 1 is always feasible and bounded
        raise RuntimeError(f"commitment phase 1 failed: {phase1.message}")
    x1 = phase1.x.reshape(n_blocks, block_width)
    slack = x1[:, width:]
    feasible = slack.sum(axis=1) <= feasibility_tol
    if not limited_liability:
        # without limited liability the cost is unbounded below unless payments are capped
        bounds = [(lo if lo is not None else -1e3, hi) for lo, hi in bounds]
    bounds2 = []
    for k in range(n_blocks):
        bounds2 += bounds[k * block_width : k * block_width + width]
        bounds2 += [(0.0, float(t)) for t in slack[k]]
    cost2 = np.concatenate(
        [
            np.r_[b[4] if feasible[k] else np.zeros(width), np.zeros(n_ic)]
            for k, b in enumerate(blocks)
        ]
    )
    phase2 = linprog(
        cost2,
        A_ub=ub if n_ic else None,
        b_ub=b_ub if n_ic else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds2,
        method="highs",
        options=options,
    )
    if phase2.status != 0:  # pragma: no cover
        raise RuntimeError(f"commitment phase 2 failed: {phase2.message}")
    x2 = phase2.x.reshape(n_blocks, block_width)
    values = np.array(
        [
            b[5] - float(b[4] @ x2[k, :width]) if feasible[k] else -np.inf
            for k, b in enumerate(blocks)
        ]
    )
    best = int(np.argmax(values))
    recommended = np.full(model.n_states, -1, dtype=np.int64)
    recommended[states] = profiles[best]
    contracts = np.zeros((model.n_states, n_o))
    pay = x2[best, : n_r * n_o].reshape(n_r, n_o)
    contracts[states] = pay if not limited_liability else np.maximum(pay, 0.0)
    return CommitmentOptimum(
        float(values[best]), recommended, contracts, len(profiles), int(feasible.sum())
    )


def check_commitment(
    model: PrincipalAgentMDP,
    *,
    spe_solver: SPESolver = solve_backward_induction,
    commitment: Callable[[PrincipalAgentMDP], CommitmentOptimum] = commitment_optimum,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Commitment vs SPE: the SPE value never exceeds the commitment optimum (PAPER.md §2).

    Claim (PAPER.md §2, note [D]): a principal who can commit can do at least as well as in the
    SPE (the SPE policy is one policy it could commit to), and sometimes strictly better.

    Definition (episodic instances, states reachable from ``s0``): ``V^p_SPE(s0) ≤ C + tol``
    where ``C`` is :func:`commitment_optimum`; and ``C`` is genuine: its policy, evaluated
    exactly against the best-responding agent (tie tolerance ``tol``), is followed at every
    reachable state, pays nothing negative and earns ``C`` within ``tol``. Measurement: the gap
    ``C − V^p_SPE(s0)``.
    """
    claim = "commitment-vs-spe"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    spe = spe_solver(model)
    best = commitment(model)
    s0 = model.initial_state
    out: list[str] = []
    spe_value = float(spe.principal_values[s0])
    if spe_value > best.value + tol:
        out.append(f"SPE value {_f(spe_value)} exceeds the commitment optimum {_f(best.value)}")
    reachable = np.flatnonzero(model.reachable)
    rec = np.where(best.recommended >= 0, best.recommended, 0)
    if np.any(best.contracts < 0):
        out.append(f"the commitment policy pays negative amounts: {best.contracts.tolist()}")
    evaluation = evaluate_policy_exact(model, rec, best.contracts, tie_tolerance=to_fraction(tol))
    for s in reachable:
        if not evaluation.followed[s]:
            out.append(f"commitment policy: the agent does not follow at {model.states[s]}")
    earned = float(evaluation.principal_values[s0])
    if abs(earned - best.value) > tol:
        out.append(f"commitment policy earns {_f(earned)}, not the claimed {_f(best.value)}")
    return _result(
        claim,
        out,
        gap=best.value - spe_value,
        profiles=best.profiles,
        feasible_profiles=best.feasible,
    )


# ================================================================================ claims
Draw = Callable[[st.SearchStrategy[Any]], Any]

#: Instance sizes of the claims: at least two actions and two outcomes (one action or one
#: outcome leaves no incentive problem), small enough for ≥ 10,000 instances per claim.
_EPISODIC: dict[str, Any] = {
    "max_states": 5,
    "min_actions": 2,
    "max_actions": 3,
    "min_outcomes": 2,
    "max_outcomes": 3,
}
_SMALL: dict[str, Any] = {"max_states": 3, "min_actions": 2, "max_actions": 3, "min_outcomes": 2}


@dataclass(frozen=True)
class Claim:
    """One claim of the report: what it says, where, how it is checked, on which instances.

    Attributes
    ----------
    key : short identifier (used in tables and counterexample file names).
    statement : the claim in words.
    paper_ref : where the paper (PAPER.md) states it.
    definition : the exact definition checked (one line; the docstring of ``check`` has all).
    cases : Hypothesis strategy of keyword arguments for ``check`` (always with ``model``).
    check : the property.
    expected : ``"holds"``, ``"fails"`` (a known finding: the claim read literally is false)
        or ``"open"`` (PAPER.md leaves it open; either outcome is a result). ``pamdp
        theorems`` exits non-zero only when an outcome contradicts this.
    witness : a measurement whose largest value's instance the report keeps (e.g. the
        commitment gap), or ``None``.
    """

    key: str
    statement: str
    paper_ref: str
    definition: str
    cases: st.SearchStrategy[dict[str, Any]]
    check: Callable[..., PropertyResult]
    expected: str = "holds"
    witness: str | None = None

    def run(self, case: Mapping[str, Any], **overrides: Any) -> PropertyResult:
        """Run the property on one drawn case (``overrides`` replace keyword arguments)."""
        return self.check(**{**case, **overrides})


def _model_only(models: st.SearchStrategy[PrincipalAgentMDP]) -> st.SearchStrategy[dict[str, Any]]:
    return models.map(lambda m: {"model": m})


@st.composite
def _with_seed(
    draw: Draw, models: st.SearchStrategy[PrincipalAgentMDP], key: str
) -> dict[str, Any]:
    return {"model": draw(models), key: draw(st.integers(0, 2**16))}


@st.composite
def _contraction_cases(draw: Draw, reading: str) -> dict[str, Any]:
    if reading == "R1":  # cost: Q̄_q is found by successive approximation (≈ 1/(1−γ) steps)
        model = draw(
            pst.discounted_instances(
                **_SMALL, max_outcomes=2, observed_action=False, discounts=R1_DISCOUNTS
            )
        )
    else:
        model = draw(pst.discounted_instances(**_SMALL))
    q1, q2 = draw(pst.q_pairs(model.n_states, model.n_actions))
    return {"model": model, "q1": q1, "q2": q2, "reading": reading}


@st.composite
def _scaling_cases(draw: Draw) -> dict[str, Any]:
    model = draw(pst.episodic_instances(**_EPISODIC))
    factor = draw(
        st.sampled_from([Fraction(2), Fraction(1, 2), Fraction(3), Fraction(10), Fraction(1, 10)])
    )
    return {"model": model, "factor": factor}


@st.composite
def _relabel_cases(draw: Draw, tie_break: str) -> dict[str, Any]:
    model = draw(pst.episodic_instances(**_EPISODIC))
    return {
        "model": model,
        "state_order": draw(st.permutations(range(model.n_states))),
        "action_order": draw(st.permutations(range(model.n_actions))),
        "outcome_order": draw(st.permutations(range(model.n_outcomes))),
        "tie_break": tie_break,
    }


@st.composite
def _symbolic_cases(draw: Draw) -> dict[str, Any]:
    model = draw(
        pst.episodic_instances(
            max_states=3, min_actions=2, max_actions=3, min_outcomes=2, max_outcomes=2, exact=True
        )
    )
    kind = draw(st.sampled_from(["discount", "agent_reward", "principal_reward"]))
    if kind == "discount":
        parameter: tuple[Any, ...] = ("discount",)
        values = [Fraction(0), Fraction(9, 10), Fraction(1)]
        values.append(draw(st.fractions(0, 1, max_denominator=12)))
    else:
        size = model.n_actions if kind == "agent_reward" else model.n_outcomes
        parameter = (kind, draw(st.integers(0, model.n_states - 1)), draw(st.integers(0, size - 1)))
        values = [Fraction(-2), Fraction(0), Fraction(3)]
        values.append(draw(st.fractions(-3, 3, max_denominator=12)))
    return {"model": model, "parameter": parameter, "values": values}


def check_symbolic(
    model: PrincipalAgentMDP, parameter: tuple[Any, ...], values: Sequence[Any], **kwargs: Any
) -> PropertyResult:
    """:func:`properties.symbolic.check_symbolic_agreement` (imported lazily: the symbolic
    module imports this one)."""
    from properties.symbolic import check_symbolic_agreement

    return check_symbolic_agreement(model, parameter, values, **kwargs)


def check_kkt_proof(max_deviations: int = 3, **kwargs: Any) -> PropertyResult:
    """:func:`properties.symbolic.check_closed_form_proof` (a proof: no instances)."""
    from properties.symbolic import check_closed_form_proof

    return check_closed_form_proof(max_deviations=max_deviations, **kwargs)


def _claims() -> tuple[Claim, ...]:
    episodic = pst.episodic_instances(**_EPISODIC)
    deep = pst.episodic_instances(**{**_EPISODIC, "max_states": 6})
    discounted = pst.discounted_instances(**_SMALL)
    claims = [
        Claim(
            "minimal-contract",
            "minimal contracts are IC, non-negative and cheapest; implementable iff the LP "
            "is feasible",
            "§1 Minimal implementation",
            "fast solver (closed form and HiGHS LP) vs exact simplex with verified dual/Farkas "
            "certificate, on Q̄ = r and Q̄ = r + γE[max r]",
            _model_only(pst.instances(**_SMALL)),
            check_minimal_contract,
        ),
        Claim(
            "spe",
            "backward induction returns an SPE",
            "§2 Solution concept",
            "exact best-responding agent; no agent gain > tol at the offered and at sampled "
            "off-path contracts; no principal gain from any action's exact minimal contract "
            "or a sampled contract; claimed V^p, V^a, Q̄ exact",
            _with_seed(episodic, "offpath_seed"),
            check_spe,
        ),
        Claim(
            "theorem-3.3",
            "episodic: the meta-algorithm reaches the SPE in ≤ T + 1 rounds",
            "§3 Theorem 3.3",
            "T = 1 + max height; default start; converged, rounds ≤ T + 1, V^p/V^a equal to "
            "backward induction; after k rounds levels < k are SPE",
            _model_only(deep),
            check_theorem_3_3,
        ),
        Claim(
            "theorem-3.4-contraction-R1",
            "J is a γ-contraction (reading R1: Q̄ re-solved for greedy(q))",
            "§3 Theorem 3.4",
            "‖Jq1 − Jq2‖∞ ≤ γ‖q1 − q2‖∞ + tol over implementable pairs; 2 outcomes",
            _contraction_cases("R1"),
            check_contraction,
            expected="fails",
        ),
        Claim(
            "theorem-3.4-contraction-R2",
            "J is a γ-contraction (reading R2: Q̄ fixed)",
            "§3 Theorem 3.4",
            "‖Jq1 − Jq2‖∞ ≤ γ‖q1 − q2‖∞ + tol, Q̄ = agent's Q̄ facing zero pay",
            _contraction_cases("R2"),
            check_contraction,
        ),
        Claim(
            "theorem-3.4-fixed-point-R1",
            "J's fixed point (R1) is an SPE and agrees with the meta-algorithm",
            "§3 Theorem 3.4",
            "iterate J from the meta-algorithm's q to ‖Jq − q‖∞ ≤ tol; greedy policy passes "
            "the SPE check; V^p, V^a equal the meta-algorithm's",
            _model_only(
                pst.discounted_instances(
                    **_SMALL, max_outcomes=2, observed_action=False, discounts=R1_DISCOUNTS
                )
            ).map(lambda c: {**c, "reading": "R1"}),
            check_operator_fixed_point,
            expected="open",
        ),
        Claim(
            "theorem-3.4-fixed-point-R2",
            "J's fixed point (R2) is an SPE and agrees with the meta-algorithm",
            "§3 Theorem 3.4",
            "q* = principal's optimal q for the meta-algorithm's final Q̄; Jq* = q*; greedy "
            "policy passes the SPE check; V^p, V^a equal the meta-algorithm's",
            _model_only(discounted).map(lambda c: {**c, "reading": "R2"}),
            check_operator_fixed_point,
            expected="open",
        ),
        Claim(
            "meta-convergence",
            "discounted: the meta-algorithm converges, to an SPE",
            "§3 Theorem 3.4; open",
            f"default start, ≤ {META_MAX_ITERATIONS} rounds, contracts stable within "
            f"{META_TOL:g}; no cycle; limit passes the SPE check",
            _model_only(discounted),
            check_meta_convergence,
            expected="open",
        ),
        Claim(
            "meta-uniqueness",
            "discounted: the meta-algorithm reaches the same values from every start",
            "§3 Theorem 3.4; open",
            "starts: default, last action with zero pay, flat pay 2, one random policy; "
            "converged runs agree on V^p, V^a at every state",
            _with_seed(discounted, "start_seed"),
            check_meta_uniqueness,
            expected="open",
        ),
        Claim(
            "observed-action",
            "observed action: V^p = W* − V^a_0 everywhere, and ≥ the hidden-action V^p",
            "§1 Observed action [D]",
            "observed counterpart (same expectations); exact first best and no-contract "
            "values; SPE by backward induction / converged meta-algorithm",
            _model_only(pst.instances(**_SMALL, max_outcomes=3, observed_action=False)),
            check_observed_action,
        ),
        Claim(
            "metamorphic-scaling",
            "scaling all rewards by c > 0 scales contracts and values by c",
            "§1 definitions (consistency)",
            "c ∈ {2, 1/2, 3, 10, 1/10}; same recommendations; V^p, V^a, contracts × c",
            _scaling_cases(),
            check_reward_scaling,
        ),
        Claim(
            "metamorphic-relabelling-agent_best",
            "relabelling states, actions, outcomes permutes the SPE (label-free tie rule)",
            "§1–2 definitions (consistency)",
            "tie rule agent_best; V^p, V^a per state equal; strict choices permuted with "
            "equal contract cost",
            _relabel_cases("agent_best"),
            check_relabelling,
        ),
        Claim(
            "metamorphic-relabelling-lowest_index",
            "relabelling permutes the SPE (default lowest-index tie rule)",
            "§1–2 definitions (consistency)",
            "tie rule lowest_index; as above",
            _relabel_cases("lowest_index"),
            check_relabelling,
            expected="open",
        ),
        Claim(
            "commitment-vs-spe",
            "SPE value ≤ commitment optimum (the gap can be positive)",
            "§2 note [D]",
            "enumerate profiles on reachable states, one stacked HiGHS LP each; optimum's "
            "policy re-checked exactly; V^p_SPE(s0) ≤ C + tol",
            _model_only(pst.episodic_instances(**{**_EPISODIC, "max_states": 4, "max_actions": 2})),
            check_commitment,
            witness="gap",
        ),
        Claim(
            "symbolic-backward-induction",
            "backward induction is the piecewise expression sympy derives with γ or one "
            "reward symbolic",
            "§1 closed forms [D], §2",
            "sympy BI (2 outcomes or observed action) at 4 parameter values vs exact BI "
            "(exactly, incl. recommendations) and float BI (tol)",
            _symbolic_cases(),
            check_symbolic,
        ),
        Claim(
            "closed-form-kkt",
            "the 2-outcome closed-form contract is the LP optimum",
            "§1 closed form [D]",
            "symbolic KKT/Farkas certificate for every case with ≤ 3 deviations "
            "(signs of Δ, binding ratio, region); a proof, not a sample",
            st.just({"max_deviations": 3}),
            check_kkt_proof,
        ),
    ]
    return tuple(claims)


#: Every claim of the report, in report order.
CLAIMS: tuple[Claim, ...] = _claims()


def claim(key: str) -> Claim:
    """The claim with this key."""
    for c in CLAIMS:
        if c.key == key:
            return c
    raise KeyError(f"unknown claim {key!r}; known: {[c.key for c in CLAIMS]}")


__all__ = [
    "CLAIMS",
    "DEFAULT_TOL",
    "META_LEVERAGE",
    "META_TOL",
    "Claim",
    "CommitmentOptimum",
    "PropertyResult",
    "check_commitment",
    "check_contraction",
    "check_kkt_proof",
    "check_meta_convergence",
    "check_meta_uniqueness",
    "check_minimal_contract",
    "check_observed_action",
    "check_operator_fixed_point",
    "check_relabelling",
    "check_reward_scaling",
    "check_spe",
    "check_symbolic",
    "check_theorem_3_3",
    "claim",
    "commitment_optimum",
    "first_best_values",
    "horizon",
    "meta_tolerance",
    "no_contract_agent_values",
    "observed_counterpart",
    "relabel",
    "scale_rewards",
    "spe_violations",
    "starting_policies",
]
