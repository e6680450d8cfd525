"""Exact policy evaluation in rationals: a fixed principal policy against the exact agent.

A principal policy ρ gives, in every state ``s``, a recommended action ``a^p(s)`` (or none) and a
contract ``b_s : O → ℚ``. The agent best-responds to ρ (PAPER.md §1, "Agent value functions"):

    Q̄*(s, a)        = r(s, a) + γ Σ_o 𝒪(s, a)(o) Σ_{s'} T(s, o)(s') V*(s')       (truncated Q)
    Q*((s, b_s), a)  = Σ_o 𝒪(s, a)(o) b_s(o) + Q̄*(s, a)
    V*(s)            = max_a Q*((s, b_s), a)

and in each state takes the recommended action whenever it attains the maximum — the tie rule
of PAPER.md §1 ("at indifference the agent takes the action the principal prefers") and of
FORMAT.md ("at exact indifference takes ``recommended_action``") — and otherwise the
lowest-index maximiser. Write π(s) for that action. The principal's value under π is

    V^p(s) = Σ_o 𝒪(s, π(s))(o) [ r^p(s, o) − b_s(o) + γ Σ_{s'} T(s, o)(s') V^p(s') ].

These are the semantics of :func:`solvers.evaluation.evaluate_policy`; this module computes them
with no rounding at all, in :class:`fractions.Fraction`:

* **Episodic** instances (acyclic state graph, PAPER.md §1 "finite horizon"): one pass from the
  episode ends upwards in order of :attr:`~theory.model.PrincipalAgentMDP.heights`; each state
  needs only its successors' values.
* **Discounted** instances (γ < 1, cycles): exact *policy iteration* for the agent (Howard
  1960; Puterman 1994, §6.4). Start from the recommended actions; evaluate the current policy by
  solving ``(I − γ P_π) V = R_π`` exactly (:func:`solve_linear_exact`, Gaussian elimination in
  rationals); switch a state's action only on a *strict* improvement of ``Q`` (to the
  recommended action if it is among the maximisers, else the lowest index). Every switch
  strictly improves the policy's value, so no policy repeats and the loop ends at an optimal
  policy after finitely many steps; its value is the unique ``V*``. The tie rule is then applied
  to ``Q*`` and the principal's values follow from one more exact linear solve.

``I − γ P_π`` is strictly diagonally dominant for γ < 1 (each row of ``P_π`` sums to 1, or to 0
where the episode ends), so it is non-singular and elimination never meets a zero pivot.

**Tolerance.** ``tie_tolerance = τ ≥ 0`` widens the tie rule: the agent takes ``a^p(s)`` when
``Q*((s, b_s), a^p) ≥ V*(s) − τ``, i.e. when following costs it at most τ (an ε-best response;
this is what a checker needs for float solutions whose contracts miss the indifference point by
a rounding error). The agent's incentives are always measured against its *optimal*
continuation ``V*`` (so ``q_bar`` is ``Q̄*``), in both families; ``agent_values`` are the values
of the behaviour π actually taken. With ``τ = 0`` (the default) π is optimal, so
``agent_values = V*``: exactly the semantics above.

**Backends.** The same algorithm runs over either implementation of ℚ of
:mod:`theory.exact_backend` (``backend="flint"``: python-flint ``fmpq`` with block-triangular
dense FLINT solves, the default when installed; ``backend="python"``: Fractions and the sparse
elimination below, the readable reference). Only the number type and the linear solver differ,
plus one saving where a dense solve with two right-hand sides costs about as much as one: the
flint path evaluates the principal alongside the agent for every policy of the iteration and
reuses those values when the behaviour finally taken is one of them (the solution of a linear
system is unique, so this changes no number). Outputs are Fractions either way and identical
(``tests/test_exact_backend.py``).

References: PAPER.md §1 (model, agent value functions, ties), §2 (best responses at every
state, on and off the path), §7 (the hand-derived three-state example used in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from theory.exact_backend import (
    fraction_of,
    resolve_backend,
    solve_linear_flint,
    to_fmpq,
)
from theory.model import PrincipalAgentMDP, to_fraction

__all__ = [
    "ExactPolicyData",
    "PolicyEvaluation",
    "evaluate_policy_exact",
    "exact_policy_data",
    "solve_linear_exact",
]

_ZERO = Fraction(0)
_ONE = Fraction(1)

SparseRow = dict[int, Fraction]


@dataclass(frozen=True, eq=False)
class PolicyEvaluation:
    """The agent's exact best response to a principal policy and both parties' values.

    Shared by the float evaluator (:func:`solvers.evaluation.evaluate_policy`) and the exact one
    here, so it lives in the lower layer.

    Attributes
    ----------
    agent_actions : (S,) the action the agent takes in each state.
    followed : (S,) whether it is the recommended action.
    principal_values, agent_values : (S,) V^p and V^a.
    q_bar : (S, A) the agent's truncated Q under the policy.
    agent_q : (S, A) ``E_{𝒪(s,a)}[b_s] + Q̄(s, a)``, the agent's Q at the offered contract.
    exact : whether the numbers are exact rationals (object arrays of Fraction).
    """

    agent_actions: npt.NDArray[np.int64]
    followed: npt.NDArray[np.bool_]
    principal_values: npt.NDArray[Any]
    agent_values: npt.NDArray[Any]
    q_bar: npt.NDArray[Any]
    agent_q: npt.NDArray[Any]
    exact: bool = False

    def principal_utility(self, state: int) -> float | Fraction:
        """``V^p(state)``."""
        return self.principal_values[state]


# ------------------------------------------------------------------------- linear algebra
def solve_linear_exact(
    rows: Sequence[SparseRow], rhs: Sequence[Fraction], *, backend: str | None = None
) -> list[Fraction]:
    """Solve ``M x = rhs`` exactly by sparse Gaussian elimination over the rationals.

    Parameters
    ----------
    rows : ``M`` as one ``{column: value}`` dict per row (zeros may be omitted); square.
    rhs : the right-hand side, one entry per row.
    backend : ``"python"`` (the elimination below), ``"flint"`` (block-triangular dense
        ``fmpq_mat`` solves, :func:`theory.exact_backend.solve_linear_flint`) or ``None`` (the
        default backend). The solution is unique, so both return the same Fractions.

    Returns
    -------
    list of Fraction
        The unique solution.

    Raises
    ------
    ValueError
        If ``M`` is singular (naming the column with no pivot) or the shapes disagree.

    Notes
    -----
    Columns are eliminated in order; the pivot of column ``k`` is, among the rows not yet used,
    one with a non-zero entry in ``k`` and the fewest non-zeros (a Markowitz-style choice that
    keeps fill-in low: a tree-shaped system is solved with no fill-in at all). In exact
    arithmetic any non-zero pivot is correct, so no numerical pivoting is needed.
    """
    _check_system(rows, rhs)
    if resolve_backend(backend) == "flint":
        fast = solve_linear_flint(
            [{j: to_fmpq(v) for j, v in row.items() if v} for row in rows], [_fmpqs(rhs)]
        )
        if fast is not None:
            return [fraction_of(v) for v in fast[0]]
        # singular: the reference elimination names the column with no pivot
    return _eliminate(rows, rhs)


def _fmpqs(values: Sequence[Fraction]) -> list[Any]:
    return [to_fmpq(v) for v in values]


def _check_system(rows: Sequence[SparseRow], rhs: Sequence[Any]) -> None:
    n = len(rows)
    if len(rhs) != n:
        raise ValueError(f"rhs has {len(rhs)} entries, expected {n} (one per row)")
    for i, row in enumerate(rows):
        bad = [j for j, v in row.items() if v and not 0 <= j < n]
        if bad:
            raise ValueError(f"rows[{i}]: column {bad[0]} out of range [0, {n})")


def _eliminate(rows: Sequence[SparseRow], rhs: Sequence[Fraction]) -> list[Fraction]:
    """:func:`solve_linear_exact` in Fractions on a checked system (the reference)."""
    n = len(rows)
    work = [{j: v for j, v in row.items() if v} for row in rows]
    b = list(rhs)
    # column -> rows (not yet pivoted) with a non-zero there
    where: list[set[int]] = [set() for _ in range(n)]
    for i, row in enumerate(work):
        for j in row:
            where[j].add(i)
    pivot_row = [-1] * n
    used = [False] * n
    for k in range(n):
        candidates = [i for i in where[k] if not used[i]]
        if not candidates:
            raise ValueError(f"singular system: column {k} has no pivot")
        p = min(candidates, key=lambda i: (len(work[i]), i))
        used[p] = True
        pivot_row[k] = p
        prow = work[p]
        pivot = prow[k]
        for i in candidates:
            if i == p:
                continue
            row = work[i]
            factor = row[k] / pivot
            for j, v in prow.items():
                new = row.get(j, _ZERO) - factor * v
                if new:
                    if j not in row:
                        where[j].add(i)
                    row[j] = new
                else:
                    row.pop(j, None)
                    where[j].discard(i)
            b[i] -= factor * b[p]
        for j in prow:
            where[j].discard(p)
    x = [_ZERO] * n
    for k in range(n - 1, -1, -1):
        p = pivot_row[k]
        prow = work[p]
        total = b[p]
        for j, v in prow.items():
            if j != k:
                total -= v * x[j]
        x[k] = total / prow[k]
    return x


# -------------------------------------------------------------------------------- numbers
class _Field:
    """One implementation of ℚ (:mod:`theory.exact_backend`): its zero, the conversion of a
    Fraction into it and of its numbers back, and the linear solver ``M X = [b_1 … b_k]``."""

    __slots__ = ("batched", "name", "number", "out", "zero")

    def __init__(self, name: str) -> None:
        self.name = name
        fast = name == "flint"
        self.zero: Any = to_fmpq(0) if fast else _ZERO
        self.number: Any = to_fmpq if fast else _same
        self.out: Any = fraction_of if fast else _same
        #: whether one solve with several right-hand sides costs about as much as one
        self.batched = fast

    def solve(self, rows: list[dict[int, Any]], columns: list[list[Any]]) -> list[list[Any]]:
        if self.name == "flint":
            fast = solve_linear_flint(rows, columns)
            if fast is not None:
                return fast
            plain = [{j: fraction_of(v) for j, v in row.items()} for row in rows]
            _eliminate(plain, [fraction_of(v) for v in columns[0]])  # raises, naming a column
            raise AssertionError("flint found a singular system the elimination solved")
        return [_eliminate(rows, column) for column in columns]


def _same(value: Any) -> Any:
    return value


def _field(backend: str | None) -> _Field:
    return _Field(resolve_backend(backend))


# ------------------------------------------------------------------------- instance data
class ExactPolicyData:
    """The exact numbers of an instance as plain Python lists (fast scalar access).

    Attributes
    ----------
    n_states, n_actions, n_outcomes : sizes.
    gamma : γ.
    probs : ``probs[s][a][o]`` = 𝒪(s, a)(o).
    agent_reward : ``agent_reward[s][a]`` = r(s, a).
    principal_reward : ``principal_reward[s][o]`` = r^p(s, o).
    successors : ``successors[s][o]`` = list of ``(s', T(s, o)(s'))``.

    All numbers are Fractions; :meth:`in_field` gives the same data in a backend's numbers.
    """

    __slots__ = (
        "_fast",
        "agent_reward",
        "gamma",
        "n_actions",
        "n_outcomes",
        "n_states",
        "principal_reward",
        "probs",
        "successors",
    )

    def __init__(self, model: PrincipalAgentMDP | None = None) -> None:
        self._fast: ExactPolicyData | None = None
        if model is None:  # filled in by in_field
            return
        data = model.exact_data()
        self.n_states, self.n_actions, self.n_outcomes = (
            model.n_states,
            model.n_actions,
            model.n_outcomes,
        )
        self.gamma: Any = data.discount
        self.probs: list[list[list[Any]]] = data.outcome_probs.tolist()
        self.agent_reward: list[list[Any]] = data.agent_reward.tolist()
        self.principal_reward: list[list[Any]] = data.principal_reward.tolist()
        offsets = model.transition_offsets.tolist()
        nxt = model.transition_next.tolist()
        tprob = data.transition_prob.tolist()
        n_o = self.n_outcomes
        self.successors: list[list[list[tuple[int, Any]]]] = [
            [
                [(nxt[k], tprob[k]) for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1])]
                for o in range(n_o)
            ]
            for s in range(self.n_states)
        ]

    def in_field(self, field: _Field) -> ExactPolicyData:
        """The same data in ``field``'s numbers (itself for Fractions; built once for flint)."""
        if field.name == "python":
            return self
        if self._fast is None:
            num = field.number
            fast = ExactPolicyData()
            fast.n_states, fast.n_actions, fast.n_outcomes = (
                self.n_states,
                self.n_actions,
                self.n_outcomes,
            )
            fast.gamma = num(self.gamma)
            fast.probs = [[[num(p) for p in row] for row in s] for s in self.probs]
            fast.agent_reward = [[num(r) for r in s] for s in self.agent_reward]
            fast.principal_reward = [[num(r) for r in s] for s in self.principal_reward]
            fast.successors = [
                [[(t, num(p)) for t, p in succ] for succ in s] for s in self.successors
            ]
            self._fast = fast
        return self._fast


def exact_policy_data(model: PrincipalAgentMDP) -> ExactPolicyData:
    """:class:`ExactPolicyData` of ``model`` (exact numbers as nested lists)."""
    return ExactPolicyData(model)


def _read_policy(
    model: PrincipalAgentMDP, recommended: Any, contracts: Any
) -> tuple[list[int], list[list[Fraction]]]:
    rec_array = np.asarray(recommended)
    if rec_array.shape != (model.n_states,):
        raise ValueError(f"recommended: expected shape ({model.n_states},), got {rec_array.shape}")
    rec: list[int] = []
    for s, value in enumerate(rec_array.tolist()):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not -1 <= value < model.n_actions
        ):
            raise ValueError(
                f"recommended[{s}]: not an action index in [-1, "
                f"{model.n_actions}) (value: {value!r})"
            )
        rec.append(value)
    pay_array = np.asarray(contracts, dtype=object)
    if pay_array.shape != (model.n_states, model.n_outcomes):
        raise ValueError(
            f"contracts: expected shape ({model.n_states}, {model.n_outcomes}), "
            f"got {pay_array.shape}"
        )
    pay: list[list[Fraction]] = []
    for s, row in enumerate(pay_array.tolist()):
        out = []
        for o, value in enumerate(row):
            try:
                out.append(to_fraction(value))
            except (TypeError, ValueError, ZeroDivisionError):
                raise ValueError(
                    f"contracts[{s}][{o}]: not a finite number (value: {value!r})"
                ) from None
        pay.append(out)
    return rec, pay


def _choose(agent_q: list[Any], rec: int, tolerance: Any) -> int:
    """The agent's action: ``rec`` if within ``tolerance`` of the best, else the first best."""
    best = max(agent_q)
    if rec >= 0 and agent_q[rec] >= best - tolerance:
        return rec
    return agent_q.index(best)


# ------------------------------------------------------------------------------ evaluation
def evaluate_policy_exact(
    model: PrincipalAgentMDP,
    recommended: Any,
    contracts: Any,
    *,
    max_iterations: int = 10_000,
    tie_tolerance: Any = 0,
    data: ExactPolicyData | None = None,
    backend: str | None = None,
) -> PolicyEvaluation:
    """Evaluate a principal policy exactly against the best-responding agent (module docstring).

    Parameters
    ----------
    model : the instance; its exact view (:meth:`~theory.model.PrincipalAgentMDP.exact_data`)
        is used, so a float instance is read as the shortest decimals of its floats.
    recommended : (S,) recommended action per state; ``-1`` means no recommendation.
    contracts : (S, O) payments per state and outcome, read exactly (Fractions, ints,
        rational or decimal strings, floats as their shortest decimals). Negative payments are
        evaluated as given (a checker reports them; the agent simply sees them).
    max_iterations : cap on policy-iteration rounds (discounted instances).
    tie_tolerance : τ ≥ 0, see the module docstring (0 = the exact tie rule).
    data : the instance as :class:`ExactPolicyData`, to skip re-reading it (optional).
    backend : the exact backend (:mod:`theory.exact_backend`; ``None`` = the default). The
        result is the same either way.

    Returns
    -------
    PolicyEvaluation
        With ``exact=True`` and object arrays of :class:`~fractions.Fraction`.

    Raises
    ------
    ValueError
        A malformed policy (naming the field, index and value), a negative ``tie_tolerance``,
        an unknown backend, or γ = 1 on an instance whose state graph has a cycle (its values
        are undefined).
    """
    field = _field(backend)
    rec, pay_exact = _read_policy(model, recommended, contracts)
    tolerance_exact = to_fraction(tie_tolerance)
    if tolerance_exact < 0:
        raise ValueError(f"tie_tolerance must be non-negative (value: {tie_tolerance!r})")
    d = (data if data is not None else ExactPolicyData(model)).in_field(field)
    num = field.number
    pay = [[num(x) for x in row] for row in pay_exact]
    tolerance = num(tolerance_exact)
    if model.is_episodic:
        actions, v_a, v_p, q_bar = _episodic(model, d, rec, pay, tolerance, field.zero)
    else:
        if d.gamma >= 1:
            raise ValueError(
                "discount: γ = 1 but the state graph has a cycle (unreachable "
                "from the initial state); values on it are undefined"
            )
        actions, v_a, v_p, q_bar = _discounted(d, rec, pay, tolerance, max_iterations, field)
    n_s, n_a = d.n_states, d.n_actions
    out = field.out
    q_array = np.empty((n_s, n_a), dtype=object)
    agent_q = np.empty((n_s, n_a), dtype=object)
    zero = field.zero
    for s in range(n_s):
        for a in range(n_a):
            q_array[s, a] = out(q_bar[s][a])
            agent_q[s, a] = out(q_bar[s][a] + _dot(d.probs[s][a], pay[s], zero))
    act = np.array(actions, dtype=np.int64)
    rec_array = np.array(rec, dtype=np.int64)
    return PolicyEvaluation(
        act,
        act == rec_array,
        _objects([out(v) for v in v_p]),
        _objects([out(v) for v in v_a]),
        q_array,
        agent_q,
        exact=True,
    )


def _objects(values: list[Fraction]) -> npt.NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _dot(u: Sequence[Any], v: Sequence[Any], zero: Any) -> Any:
    total = zero
    for x, y in zip(u, v, strict=True):
        if x:
            total += x * y
    return total


def _expect(successors: list[tuple[int, Any]], values: list[Any], zero: Any) -> Any:
    total = zero
    for t, p in successors:
        total += p * values[t]
    return total


def _episodic(
    model: PrincipalAgentMDP,
    d: ExactPolicyData,
    rec: list[int],
    pay: list[list[Any]],
    tolerance: Any,
    zero: Any,
) -> tuple[list[int], list[Any], list[Any], list[list[Any]]]:
    heights = model.heights
    assert heights is not None
    n_s, n_a, n_o = d.n_states, d.n_actions, d.n_outcomes
    gamma = d.gamma
    v_star = [zero] * n_s
    v_beh = v_star if tolerance == 0 else [zero] * n_s
    v_p = [zero] * n_s
    q_bar: list[list[Any]] = [[] for _ in range(n_s)]
    actions = [0] * n_s
    for s in np.argsort(heights, kind="stable").tolist():
        succ = d.successors[s]
        cont_star = [
            gamma * _expect(succ[o], v_star, zero) if succ[o] else zero for o in range(n_o)
        ]
        probs = d.probs[s]
        b = pay[s]
        qb = [d.agent_reward[s][a] + _dot(probs[a], cont_star, zero) for a in range(n_a)]
        agent_q = [qb[a] + _dot(probs[a], b, zero) for a in range(n_a)]
        act = _choose(agent_q, rec[s], tolerance)
        v_star[s] = max(agent_q)
        if tolerance:
            cont_beh = [
                gamma * _expect(succ[o], v_beh, zero) if succ[o] else zero for o in range(n_o)
            ]
            v_beh[s] = d.agent_reward[s][act] + sum(
                (probs[act][o] * (b[o] + cont_beh[o]) for o in range(n_o) if probs[act][o]), zero
            )
        rp = d.principal_reward[s]
        v_p[s] = sum(
            (
                probs[act][o]
                * (rp[o] - b[o] + (gamma * _expect(succ[o], v_p, zero) if succ[o] else zero))
                for o in range(n_o)
                if probs[act][o]
            ),
            zero,
        )
        q_bar[s] = qb
        actions[s] = act
    return actions, v_beh, v_p, q_bar


def _state_action_successors(d: ExactPolicyData, zero: Any = _ZERO) -> list[list[SparseRow]]:
    """``P[s][a]`` = {s': Σ_o 𝒪(s, a)(o) T(s, o)(s')}."""
    out: list[list[SparseRow]] = []
    for s in range(d.n_states):
        row: list[SparseRow] = []
        for a in range(d.n_actions):
            dist: SparseRow = {}
            for o, p in enumerate(d.probs[s][a]):
                if p:
                    for t, q in d.successors[s][o]:
                        dist[t] = dist.get(t, zero) + p * q
            row.append(dist)
        out.append(row)
    return out


def _policy_values(
    p_sa: list[list[SparseRow]],
    policy: list[int],
    rewards: list[list[Any]],
    gamma: Any,
    field: _Field,
) -> list[list[Any]]:
    """Solve ``(I − γ P_π) V = R`` exactly for each reward vector ``R`` in ``rewards``."""
    one = field.number(_ONE)
    rows: list[SparseRow] = []
    for s, a in enumerate(policy):
        row = {t: -gamma * p for t, p in p_sa[s][a].items()}
        row[s] = row.get(s, field.zero) + one
        rows.append(row)
    return field.solve(rows, rewards)


def _discounted(
    d: ExactPolicyData,
    rec: list[int],
    pay: list[list[Any]],
    tolerance: Any,
    max_iterations: int,
    field: _Field,
) -> tuple[list[int], list[Any], list[Any], list[list[Any]]]:
    n_s, n_a, n_o = d.n_states, d.n_actions, d.n_outcomes
    gamma, zero = d.gamma, field.zero
    p_sa = _state_action_successors(d, zero)
    expected_pay = [[_dot(d.probs[s][a], pay[s], zero) for a in range(n_a)] for s in range(n_s)]
    reward = [[d.agent_reward[s][a] + expected_pay[s][a] for a in range(n_a)] for s in range(n_s)]
    policy = [rec[s] if rec[s] >= 0 else reward[s].index(max(reward[s])) for s in range(n_s)]

    def principal_reward(actions: list[int]) -> list[Any]:
        return [
            sum(
                (
                    d.probs[s][actions[s]][o] * (d.principal_reward[s][o] - pay[s][o])
                    for o in range(n_o)
                ),
                zero,
            )
            for s in range(n_s)
        ]

    def q_values(values: list[Any]) -> list[list[Any]]:
        return [
            [
                reward[s][a] + gamma * _expect(list(p_sa[s][a].items()), values, zero)
                for a in range(n_a)
            ]
            for s in range(n_s)
        ]

    # A backend that solves several right-hand sides at the price of one also evaluates the
    # principal under each candidate policy and keeps both values per policy: the behaviour
    # finally taken is usually one of them (the recommendations, or the last policy).
    solved: dict[tuple[int, ...], tuple[list[Any], list[Any]]] = {}
    for _ in range(max_iterations):
        agent_rhs = [reward[s][policy[s]] for s in range(n_s)]
        if field.batched:
            v_star, v_p_policy = _policy_values(
                p_sa, policy, [agent_rhs, principal_reward(policy)], gamma, field
            )
            solved[tuple(policy)] = (v_star, v_p_policy)
        else:
            (v_star,) = _policy_values(p_sa, policy, [agent_rhs], gamma, field)
        q = q_values(v_star)
        changed = False
        for s in range(n_s):
            best = max(q[s])
            if best > q[s][policy[s]]:
                policy[s] = rec[s] if rec[s] >= 0 and q[s][rec[s]] == best else q[s].index(best)
                changed = True
        if not changed:
            break
    else:
        raise RuntimeError(
            f"agent policy iteration did not converge in {max_iterations} iterations"
        )
    q_bar = [[q[s][a] - expected_pay[s][a] for a in range(n_a)] for s in range(n_s)]
    actions = [_choose(q[s], rec[s], tolerance) for s in range(n_s)]
    behaviour_differs = bool(tolerance) and any(q[s][actions[s]] != v_star[s] for s in range(n_s))
    known = solved.get(tuple(actions))
    if known is not None:
        v_beh = known[0] if behaviour_differs else v_star
        v_p = known[1]
    elif behaviour_differs and field.batched:
        v_beh, v_p = _policy_values(
            p_sa,
            actions,
            [[reward[s][actions[s]] for s in range(n_s)], principal_reward(actions)],
            gamma,
            field,
        )
    else:
        if behaviour_differs:
            (v_beh,) = _policy_values(
                p_sa, actions, [[reward[s][actions[s]] for s in range(n_s)]], gamma, field
            )
        else:
            v_beh = v_star
        (v_p,) = _policy_values(p_sa, actions, [principal_reward(actions)], gamma, field)
    return actions, v_beh, v_p, q_bar
