"""Minimal-implementation contracts, fast path (PAPER.md §1; Ivanov et al. 2024, §2.2).

Given the agent's truncated Q-values ``Q̄(s, ·)`` and the outcome distributions ``𝒪(s, ·, ·)``
of one state, the minimal implementation of a recommended action ``a^p`` is the LP

    b*(s, a^p) = argmin_{b ≥ 0}  Σ_o 𝒪(s, a^p)(o) b(o)
                 s.t.  Σ_o (𝒪(s, a^p)(o) − 𝒪(s, a)(o)) b(o) ≥ Q̄(s, a) − Q̄(s, a^p) + ξ
                       for every a ≠ a^p,

with the nudging margin ``ξ ≥ 0`` (PAPER.md §3, Proposition 4.1; ``ξ = 0`` is the exact
minimal implementation). Ties: at equality the agent takes the recommended action (PAPER.md §1),
which is why the constraints are weak inequalities. If the LP is infeasible the action is
*unimplementable* and is reported as such (never silently dropped).

Two vectorised implementations live here:

* :func:`two_outcome_closed_form` for ``|O| = 2`` (any ordering of the outcome probabilities);
* :func:`batched_lp` for any ``|O|``: all states' LPs stacked into one block-diagonal LP solved by
  HiGHS (scipy's ``linprog``), in two phases (feasibility, then cost).

:func:`minimal_contracts` dispatches between them. The readable reference is
``solvers.contracts_reference`` (cvxpy) and the exact one ``theory.exact_contracts``; tests
check the three agree.

The optimal *cost* of the LP is unique, the contract need not be (several vertices can share
the optimal cost). Values downstream depend on the cost only, so implementations are compared
on cost and implementability, and every contract is checked to be incentive compatible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from theory.ties import DEFAULT_TIES, Ties
from theory.ties import best_response as best_response  # re-exported: the agent's float response

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Tolerances come from one :class:`theory.ties.Ties` object: an incentive constraint violated by
# at most ``ties.agent_tol`` counts as met (a tie), so float noise at the agent's indifference
# point does not flip implementability; outcome distributions within ``ties.probability_tol``
# count as identical; ``ties.margin`` is the nudging ξ.


@dataclass(frozen=True)
class ContractSolution:
    """Minimal contracts for a batch of (state, recommended action) problems.

    Attributes
    ----------
    contracts
        ``(..., O)`` payments per outcome; all zeros where the action is unimplementable.
    implementable
        ``(...)`` whether the incentive constraints can be met with non-negative payments.
    expected_payment
        ``(...)`` the LP optimum ``E_{𝒪(s, a^p)}[b*]``; ``nan`` where unimplementable.
    """

    contracts: FloatArray
    implementable: BoolArray
    expected_payment: FloatArray


def incentive_rhs(q_bar: FloatArray, recommended: IntArray, margin: float = 0.0) -> FloatArray:
    """``c_a = Q̄(a) − Q̄(a^p) + ξ`` for every action (``(M, A)``; the ``a^p`` column is unused)."""
    rows = np.arange(q_bar.shape[0])
    return q_bar - q_bar[rows, recommended][:, None] + margin


def two_outcome_closed_form(
    q_bar: FloatArray,
    outcome_probs: FloatArray,
    recommended: IntArray,
    *,
    ties: Ties = DEFAULT_TIES,
    lean: bool = True,
) -> ContractSolution:
    """Closed-form minimal contract for two outcomes (PAPER.md §1, "Closed form for 2 outcomes").

    With ``p_a = 𝒪(s, a)(o1)`` and ``d = b(o1) − b(o0)``, every incentive constraint reads
    ``(p_{a^p} − p_a) d ≥ c_a``. Hence ``d`` must lie in ``[d_low, d_high]`` with

        d_low  = max_{a: p_a < p_{a^p}} c_a / (p_{a^p} − p_a)    (−∞ if none)
        d_high = min_{a: p_a > p_{a^p}} c_a / (p_{a^p} − p_a)    (+∞ if none)

    and actions with ``p_a = p_{a^p}`` need ``c_a ≤ 0`` (equality is the tie resolved for the
    principal). The cost ``p d⁺ + (1 − p) d⁻`` of the cheapest contract with a given ``d`` is
    minimised at the point of the interval closest to 0, paying only on ``o1`` when ``d > 0``
    and only on ``o0`` when ``d < 0``. This is right for any ordering of the probabilities:
    when ``a^p`` makes ``o0`` the more likely outcome the contract pays on ``o0``.

    Parameters
    ----------
    q_bar : (M, A) truncated agent Q-values.
    outcome_probs : (M, A, 2) outcome distributions.
    recommended : (M,) recommended action per problem.
    ties : ``ties.margin`` is the nudging ξ ≥ 0 added to every incentive constraint;
        violations up to ``ties.agent_tol`` are ties (implementable); ``|p_a − p_{a^p}|`` up to
        ``ties.probability_tol`` counts as equal probabilities.
    lean : with two actions, take the short path :func:`_two_action_closed_form` (bitwise the
        same numbers; ``False`` forces the general path, for tests and benchmarks).
    """
    m = q_bar.shape[0]
    margin, feasibility_tol = ties.margin_float, ties.agent_tol_float
    probability_tol = ties.probability_tol_float
    if lean and q_bar.shape[1] == 2:
        return _two_action_closed_form(
            q_bar,
            outcome_probs,
            recommended,
            margin=margin,
            feasibility_tol=feasibility_tol,
            probability_tol=probability_tol,
        )
    rows = np.arange(m)
    p = outcome_probs[:, :, 1]
    p_rec = p[rows, recommended]
    gap = p_rec[:, None] - p  # p_{a^p} − p_a
    c = incentive_rhs(q_bar, recommended, margin)
    others = np.ones_like(c, dtype=bool)
    others[rows, recommended] = False
    below = others & (gap > probability_tol)
    above = others & (gap < -probability_tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = c / gap
    d_low = np.max(np.where(below, ratio, -np.inf), axis=1)
    d_high = np.min(np.where(above, ratio, np.inf), axis=1)
    d = np.where(d_low > 0, d_low, np.where(d_high < 0, d_high, 0.0))
    # implementable iff the chosen d meets every constraint (p_{a^p} − p_a) d ≥ c_a up to the
    # tolerance, in the constraint's own units; this also covers equal probabilities (0 ≥ c_a)
    violation = np.where(others, c - gap * d[:, None], -np.inf)
    implementable = ~np.any(violation > feasibility_tol, axis=1)
    return _pay_difference(d, implementable, outcome_probs, recommended)


def _pay_difference(
    d: FloatArray, implementable: BoolArray, outcome_probs: FloatArray, recommended: IntArray
) -> ContractSolution:
    """The cheapest two-outcome contract with ``b(o1) − b(o0) = d``: pay ``d`` on o1 when
    ``d > 0``, ``−d`` on o0 when ``d < 0``; nothing where unimplementable (shared tail of both
    closed-form paths, so they stay bitwise identical)."""
    m = d.shape[0]
    d = np.where(implementable, d, 0.0)
    contracts = np.zeros((m, 2))
    contracts[:, 1] = np.maximum(d, 0.0)
    contracts[:, 0] = np.maximum(-d, 0.0)
    expected = np.einsum("mo,mo->m", outcome_probs[np.arange(m), recommended], contracts)
    return ContractSolution(contracts, implementable, np.where(implementable, expected, np.nan))


def _two_action_closed_form(
    q_bar: FloatArray,
    outcome_probs: FloatArray,
    recommended: IntArray,
    *,
    margin: float,
    feasibility_tol: float,
    probability_tol: float,
) -> ContractSolution:
    """:func:`two_outcome_closed_form` for two actions, with the same arithmetic.

    With one other action ``a`` there is one constraint ``g d ≥ c`` (``g = p_{a^p} − p_a``,
    ``c = Q̄(a) − Q̄(a^p) + ξ``): ``d = c / g`` when that ratio has the sign that binds
    (``d_low = c/g > 0`` for ``g > tol``, ``d_high = c/g < 0`` for ``g < −tol``), else 0.
    Every number is computed by the same operations as the general path, so the results are
    bitwise identical (tested); only the masks over "other actions" are skipped. This is the
    deep backend's hot path (the paper's tree has two actions), where per-call overhead
    dominates.
    """
    m = q_bar.shape[0]
    rows = np.arange(m)
    other = 1 - recommended
    p = outcome_probs[:, :, 1]
    gap = p[rows, recommended] - p[rows, other]
    c = q_bar[rows, other] - q_bar[rows, recommended] + margin
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = c / gap
    bind = ((gap > probability_tol) & (ratio > 0)) | ((gap < -probability_tol) & (ratio < 0))
    d = np.where(bind, ratio, 0.0)
    implementable = ~(c - gap * d > feasibility_tol)
    return _pay_difference(d, implementable, outcome_probs, recommended)


def batched_lp(
    q_bar: FloatArray,
    outcome_probs: FloatArray,
    recommended: IntArray,
    *,
    ties: Ties = DEFAULT_TIES,
) -> ContractSolution:
    """Minimal contracts for any number of outcomes as one block-diagonal HiGHS LP per phase.

    Problems whose answer needs no LP are settled first: ``b = 0`` when no constraint binds at
    zero payments (every ``c_a ≤ τ``, ``τ = ties.agent_tol``), and unimplementable when an action
    with an identical outcome distribution (within ``ties.probability_tol``) has ``c_a > τ``.
    The remaining problems are stacked into one LP per phase (the objective is separable, so
    the stacked optimum is the optimum of every block):

    * phase 1 (feasibility): ``min Σ t`` s.t. ``Δp_a·b + t_a ≥ c_a``, ``b, t ≥ 0``; a block is
      unimplementable when its ``Σ t > τ``;
    * phase 2 (cost), implementable blocks only: ``min p_{a^p}·b`` s.t.
      ``Δp_a·b ≥ c_a − t*_a``, ``b ≥ 0``, where ``t*`` (at most the tolerance) keeps phase 2
      feasible at float precision.

    Parameters are those of :func:`two_outcome_closed_form`.
    """
    m, n_a, n_o = outcome_probs.shape
    margin, feasibility_tol = ties.margin_float, ties.agent_tol_float
    probability_tol = ties.probability_tol_float
    rows = np.arange(m)
    p_rec = outcome_probs[rows, recommended]  # (M, O)
    delta = p_rec[:, None, :] - outcome_probs  # (M, A, O): Δp_a = p_{a^p} − p_a
    c = incentive_rhs(q_bar, recommended, margin)
    others = np.ones((m, n_a), dtype=bool)
    others[rows, recommended] = False
    identical = others & (np.max(np.abs(delta), axis=2) <= probability_tol)
    binding = others & ~identical  # constraints the LP must handle
    implementable = ~np.any(identical & (c > feasibility_tol), axis=1)
    needs_lp = implementable & np.any(binding & (c > feasibility_tol), axis=1)
    contracts = np.zeros((m, n_o))
    lp_rows = np.flatnonzero(needs_lp)
    if lp_rows.size:
        # keep only the constraints of each block that are not ties by construction
        active = binding[lp_rows]
        rhs = np.where(active, c[lp_rows], -1.0)  # an inactive row reads 0 ≥ −1
        coeff = np.where(active[:, :, None], delta[lp_rows], 0.0)
        feasible, slack = _phase_one(coeff, rhs, feasibility_tol)
        implementable[lp_rows[~feasible]] = False
        keep = np.flatnonzero(feasible)
        if keep.size:
            contracts[lp_rows[keep]] = _phase_two(
                coeff[keep], rhs[keep] - slack[keep], p_rec[lp_rows[keep]]
            )
    expected = np.einsum("mo,mo->m", p_rec, contracts)
    return ContractSolution(contracts, implementable, np.where(implementable, expected, np.nan))


def _block_matrix(coeff: FloatArray, n_extra: int) -> sp.csr_matrix:
    """Block-diagonal ``-[Δp | I]`` rows for ``m`` blocks of ``A`` rows and ``O + n_extra`` vars.

    The block of problem ``i`` uses variables ``i*(O+n_extra) : (i+1)*(O+n_extra)``.
    """
    m, n_a, n_o = coeff.shape
    width = n_o + n_extra
    block_rows = np.arange(m * n_a).reshape(m, n_a)
    row_idx = np.repeat(block_rows[:, :, None], n_o, axis=2)
    col_idx = (np.arange(m)[:, None, None] * width + np.arange(n_o)[None, None, :]).repeat(
        n_a, axis=1
    )
    data = [-coeff.ravel()]
    rows_all = [row_idx.ravel()]
    cols_all = [col_idx.ravel()]
    if n_extra:
        data.append(-np.ones(m * n_a))
        rows_all.append(block_rows.ravel())
        cols_all.append((np.arange(m)[:, None] * width + n_o + np.arange(n_a)[None, :]).ravel())
    return sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows_all), np.concatenate(cols_all))),
        shape=(m * n_a, m * width),
    )


def _phase_one(coeff: FloatArray, rhs: FloatArray, tol: float) -> tuple[BoolArray, FloatArray]:
    m, n_a, n_o = coeff.shape
    width = n_o + n_a
    cost = np.zeros((m, width))
    cost[:, n_o:] = 1.0
    result = linprog(
        cost.ravel(),
        A_ub=_block_matrix(coeff, n_a),
        b_ub=-rhs.ravel(),
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if result.status != 0:  # pragma: no cover - phase 1 is always feasible and bounded
        raise RuntimeError(f"HiGHS phase 1 failed: {result.message}")
    t = result.x.reshape(m, width)[:, n_o:]
    return t.sum(axis=1) <= tol, t


def _phase_two(coeff: FloatArray, rhs: FloatArray, p_rec: FloatArray) -> FloatArray:
    m, _n_a, n_o = coeff.shape
    result = linprog(
        p_rec.ravel(),
        A_ub=_block_matrix(coeff, 0),
        b_ub=-rhs.ravel(),
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if result.status != 0:  # pragma: no cover - feasible by phase 1, bounded below by 0
        raise RuntimeError(f"HiGHS phase 2 failed: {result.message}")
    return np.maximum(result.x.reshape(m, n_o), 0.0)


def minimal_contracts(
    q_bar: npt.ArrayLike,
    outcome_probs: npt.ArrayLike,
    recommended: npt.ArrayLike,
    *,
    ties: Ties = DEFAULT_TIES,
    method: str = "auto",
) -> ContractSolution:
    """Minimal implementation of ``recommended[i]`` in each of ``M`` states (PAPER.md §1).

    Parameters
    ----------
    q_bar : (M, A) agent truncated Q-values (or (A,) for one state).
    outcome_probs : (M, A, O) outcome distributions (or (A, O)).
    recommended : (M,) recommended action indices (or a scalar).
    ties : tolerances and the nudging margin ξ = ``ties.margin`` (the agent must prefer
        ``a^p`` by at least ξ, PAPER.md §3); see :func:`two_outcome_closed_form`.
    method : ``"auto"`` (closed form when ``O = 2``, else LP), ``"closed_form"`` or ``"lp"``.
    """
    q = np.asarray(q_bar, dtype=np.float64)
    probs = np.asarray(outcome_probs, dtype=np.float64)
    rec = np.asarray(recommended, dtype=np.int64)
    single = q.ndim == 1
    if single:
        q, probs, rec = q[None], probs[None], rec.reshape(1)
    if probs.ndim != 3 or q.shape != probs.shape[:2] or rec.shape != (q.shape[0],):
        raise ValueError(
            f"shapes do not match: q_bar {q.shape}, outcome_probs {probs.shape}, "
            f"recommended {rec.shape}"
        )
    if np.any((rec < 0) | (rec >= q.shape[1])):
        raise ValueError(f"recommended action out of range [0, {q.shape[1]}): {rec.tolist()}")
    if not np.all(np.isfinite(q)):
        # a NaN would pass every incentive test (comparisons with NaN are false) and come
        # back as "implementable, pays 0"; refuse it instead (e.g. a diverged agent network)
        bad = np.argwhere(~np.isfinite(q))[0]
        raise ValueError(f"q_bar must be finite: q_bar{bad.tolist()} = {q[tuple(bad)]}")
    if method == "auto":
        method = "closed_form" if probs.shape[2] == 2 else "lp"
    solver: Callable[..., ContractSolution]
    if method == "closed_form":
        if probs.shape[2] != 2:
            raise ValueError(f"the closed form needs 2 outcomes, got {probs.shape[2]}")
        solver = two_outcome_closed_form
    elif method == "lp":
        solver = batched_lp
    else:
        raise ValueError(f"unknown method {method!r}; use 'auto', 'closed_form' or 'lp'")
    if q.shape[0] == 0:
        return ContractSolution(np.zeros((0, probs.shape[2])), np.zeros(0, dtype=bool), np.zeros(0))
    result = solver(q, probs, rec, ties=ties)
    if single:
        return ContractSolution(
            result.contracts[0], result.implementable[0], result.expected_payment[0]
        )
    return result


def minimal_contracts_all_actions(
    q_bar: npt.ArrayLike,
    outcome_probs: npt.ArrayLike,
    *,
    ties: Ties = DEFAULT_TIES,
    method: str = "auto",
) -> ContractSolution:
    """Minimal contracts for every action of every state: arrays of shape ``(M, A, ...)``.

    ``ties`` and ``method`` are those of :func:`minimal_contracts`.
    """
    q = np.asarray(q_bar, dtype=np.float64)
    probs = np.asarray(outcome_probs, dtype=np.float64)
    m, n_a = q.shape
    rec = np.tile(np.arange(n_a), m)
    result = minimal_contracts(
        np.repeat(q, n_a, axis=0),
        np.repeat(probs, n_a, axis=0),
        rec,
        ties=ties,
        method=method,
    )
    return ContractSolution(
        result.contracts.reshape(m, n_a, -1),
        result.implementable.reshape(m, n_a),
        result.expected_payment.reshape(m, n_a),
    )
