"""Exact rational linear programming with checkable certificates (PAPER.md §1).

The minimal-implementation contract of PAPER.md §1 is a small linear programme. This module
solves such programmes exactly, in :class:`fractions.Fraction` arithmetic, and returns with every
answer a *certificate* that a few exact multiplications confirm without solving anything again.

The problem, in the inequality form used throughout pamdp::

    (P)   min  c·x          s.t.  A x ≥ b,   x ≥ 0                       (A is m × n)

and its dual::

    (D)   max  y·b          s.t.  yᵀA ≤ c,   y ≥ 0.

Certificates (linear programming duality, e.g. Schrijver 1986, *Theory of Linear and Integer
Programming*, §7.8 (Farkas) and §7.4 (duality)):

* **optimal** — a primal ``x`` and a dual ``y`` with ``x ≥ 0``, ``A x ≥ b``, ``y ≥ 0``,
  ``yᵀA ≤ c`` and ``c·x = y·b``. Weak duality (``c·x' ≥ (yᵀA)·x' ≥ y·b`` for every feasible
  ``x'``) then proves ``x`` optimal.
* **infeasible** — a Farkas ray ``y ≥ 0`` with ``yᵀA ≤ 0`` and ``y·b > 0``: any feasible ``x``
  would give ``0 ≥ (yᵀA)·x ≥ y·b > 0``.
* **unbounded** — a feasible ``x`` and a ray ``d ≥ 0`` with ``A d ≥ 0`` and ``c·d < 0``:
  ``x + t d`` is feasible for every ``t ≥ 0`` and its cost tends to −∞.

Algorithm: the dense two-phase primal simplex method on the tableau of the equality form
``A x − s = b`` (surplus ``s ≥ 0``), rows with ``b_i ≤ 0`` negated so that ``s_i`` starts basic
and rows with ``b_i > 0`` given an artificial variable. Pivots follow Bland's rule (smallest
eligible entering index, ties in the ratio test to the smallest basic index), which rules out
cycling, so the method terminates. The multipliers are read off the final objective row: the
reduced cost of the surplus column ``s_i`` equals ``y_i`` (phase 2: the optimal dual; phase 1:
the Farkas ray). Sizes in pamdp are tiny (≤ ~10 rows and columns), so a dense tableau is right.

The ``check_*`` functions are pure and independent of the solver: they take the problem data and
a claimed certificate and only evaluate the inequalities above, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from theory.model import to_fraction

Number = Fraction | int | str | float
Vector = tuple[Fraction, ...]
Matrix = tuple[Vector, ...]
LPStatus = Literal["optimal", "infeasible", "unbounded"]

_ZERO = Fraction(0)


class CertificateError(ValueError):
    """A certificate does not prove what it claims; the message lists every violated condition."""


@dataclass(frozen=True)
class ExactLPResult:
    """The exact answer to ``min c·x s.t. A x ≥ b, x ≥ 0`` with its certificate.

    Attributes
    ----------
    status
        ``"optimal"``, ``"infeasible"`` or ``"unbounded"``.
    x
        Optimal: an optimal vertex. Unbounded: a feasible vertex (the ray starts there).
        Infeasible: ``None``.
    objective
        ``c·x`` when optimal, else ``None``.
    dual
        Optimal: ``y ≥ 0`` (one per row of ``A``) with ``yᵀA ≤ c`` and ``y·b = c·x``.
        Otherwise ``None``.
    farkas
        Infeasible: ``y ≥ 0`` with ``yᵀA ≤ 0`` and ``y·b > 0``. Otherwise ``None``.
    ray
        Unbounded: ``d ≥ 0`` with ``A d ≥ 0`` and ``c·d < 0``. Otherwise ``None``.
    pivots
        Number of simplex pivots (both phases), for diagnostics.
    """

    status: LPStatus
    x: Vector | None
    objective: Fraction | None
    dual: Vector | None = None
    farkas: Vector | None = None
    ray: Vector | None = None
    pivots: int = 0


def _vector(values: Sequence[Number]) -> Vector:
    return tuple(to_fraction(v) for v in values)


def _matrix(rows: Sequence[Sequence[Number]], n_cols: int | None, name: str) -> Matrix:
    out = tuple(_vector(row) for row in rows)
    for i, row in enumerate(out):
        if n_cols is not None and len(row) != n_cols:
            raise ValueError(f"{name}[{i}] has {len(row)} entries, expected {n_cols}")
    return out


def _problem(
    c: Sequence[Number], A: Sequence[Sequence[Number]], b: Sequence[Number]
) -> tuple[Vector, Matrix, Vector]:
    cost = _vector(c)
    matrix = _matrix(A, len(cost), "A")
    rhs = _vector(b)
    if len(rhs) != len(matrix):
        raise ValueError(f"b has {len(rhs)} entries but A has {len(matrix)} rows")
    return cost, matrix, rhs


def _dot(u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    return sum((ui * vi for ui, vi in zip(u, v, strict=True) if ui and vi), _ZERO)


def _row_times(y: Sequence[Fraction], A: Matrix, n: int) -> Vector:
    """``yᵀA`` (length ``n``; ``n`` is needed when ``A`` has no rows)."""
    out = [_ZERO] * n
    for yi, row in zip(y, A, strict=True):
        if yi:
            for j, aij in enumerate(row):
                if aij:
                    out[j] += yi * aij
    return tuple(out)


class _Tableau:
    """Dense simplex tableau ``[B⁻¹M | B⁻¹b']`` plus an objective row of reduced costs.

    Every row is stored as integers over one positive common denominator (row ``r`` is
    ``num[r][j] / den[r]``), reduced by the gcd after each update: the same exact rationals as
    a table of :class:`~fractions.Fraction`, several times faster for these tiny tables. The
    objective row is the last row, ``[c_j − c_B·T_j | −c_B·rhs]``.
    """

    def __init__(self, rows: list[list[Fraction]], basis: list[int]) -> None:
        self.num: list[list[int]] = []
        self.den: list[int] = []
        for row in rows:
            self._append(row)
        self.basis = basis
        self.pivots = 0

    def _append(self, row: Sequence[Fraction]) -> None:
        den = math.lcm(*(v.denominator for v in row)) if row else 1
        self.num.append([v.numerator * (den // v.denominator) for v in row])
        self.den.append(den)

    def _reduce(self, k: int) -> None:
        g = math.gcd(self.den[k], *self.num[k])
        if g > 1:
            self.num[k] = [v // g for v in self.num[k]]
            self.den[k] //= g

    @property
    def n_rows(self) -> int:
        return len(self.basis)

    def entry(self, r: int, j: int) -> Fraction:
        """Tableau entry (``r = n_rows`` is the objective row; ``j = -1`` the last column)."""
        return Fraction(self.num[r][j], self.den[r])

    def set_cost(self, cost: Sequence[Fraction]) -> None:
        """Objective row ``[c_j − c_B·T_j | −c_B·rhs]`` for the current basis."""
        terms = [(cost[self.basis[r]], r) for r in range(self.n_rows) if cost[self.basis[r]]]
        den = math.lcm(
            *(v.denominator for v in cost), *(cb.denominator * self.den[r] for cb, r in terms)
        )
        row = [v.numerator * (den // v.denominator) for v in cost] + [0]
        for cb, r in terms:
            scale = cb.numerator * (den // (cb.denominator * self.den[r]))
            for j, v in enumerate(self.num[r]):
                if v:
                    row[j] -= scale * v
        del self.num[self.n_rows :], self.den[self.n_rows :]
        self.num.append(row)
        self.den.append(den)
        self._reduce(self.n_rows)

    def pivot(self, r: int, e: int) -> None:
        """Make column ``e`` basic in row ``r`` (``num[r][e] ≠ 0``), objective row included."""
        pivot_row = self.num[r]
        p = pivot_row[e]
        if p < 0:
            pivot_row = [-v for v in pivot_row]
            p = -p
        self.num[r], self.den[r] = pivot_row, p  # row r divided by its entry in column e
        self._reduce(r)
        pivot_row, p = self.num[r], self.den[r]
        nonzero = [j for j, v in enumerate(pivot_row) if v]
        for k in range(len(self.num)):
            factor = self.num[k][e]
            if k == r or not factor:
                continue
            row = self.num[k]
            # row/den_k − (factor/den_k)(pivot_row/p) = (p·row − factor·pivot_row)/(den_k·p)
            new = [v * p for v in row]
            for j in nonzero:
                new[j] -= factor * pivot_row[j]
            self.num[k] = new
            self.den[k] *= p
            self._reduce(k)
        self.basis[r] = e
        self.pivots += 1

    def entering(self, allowed: int) -> int | None:
        """Bland: the smallest column index ``< allowed`` with a negative reduced cost."""
        objective = self.num[self.n_rows]
        for j in range(allowed):
            if objective[j] < 0:
                return j
        return None

    def leaving(self, e: int) -> int | None:
        """Ratio test, ties to the smallest basic variable index (Bland); None = unbounded."""
        best: int | None = None
        best_ratio = _ZERO
        for r in range(self.n_rows):
            row = self.num[r]
            if row[e] > 0:
                ratio = Fraction(row[-1], row[e])  # the row denominators cancel
                if (
                    best is None
                    or ratio < best_ratio
                    or (ratio == best_ratio and self.basis[r] < self.basis[best])
                ):
                    best, best_ratio = r, ratio
        return best

    def run(self, allowed: int) -> int | None:
        """Pivot to optimality over columns ``< allowed``; return an unbounded column or None."""
        while True:
            e = self.entering(allowed)
            if e is None:
                return None
            r = self.leaving(e)
            if r is None:
                return e
            self.pivot(r, e)

    def values(self, width: int) -> list[Fraction]:
        out = [_ZERO] * width
        for r, j in enumerate(self.basis):
            out[j] = self.entry(r, -1)
        return out


def solve_exact_lp(
    c: Sequence[Number], A: Sequence[Sequence[Number]], b: Sequence[Number]
) -> ExactLPResult:
    """Solve ``min c·x s.t. A x ≥ b, x ≥ 0`` exactly and certify the answer.

    Parameters
    ----------
    c : length-n costs.
    A : m rows of length n (``m = 0`` allowed: then only ``x ≥ 0`` constrains).
    b : length-m right-hand sides.
        Entries may be ints, Fractions, rational/decimal strings or floats (read as the
        shortest decimal that prints as them, :func:`theory.model.to_fraction`).

    Returns
    -------
    ExactLPResult
        With ``dual`` (optimal), ``farkas`` (infeasible) or ``x`` and ``ray`` (unbounded); all
        certificates satisfy the conditions of the module docstring exactly, and
        :func:`verify_lp_result` re-checks them.

    Notes
    -----
    Two-phase simplex with Bland's rule (see the module docstring). Phase 1 minimises the sum
    of the artificial variables; a positive optimum proves infeasibility and its multipliers
    are the Farkas ray. Artificials left basic at level zero are pivoted out on any non-zero
    entry of their row among the structural and surplus columns (one always exists, since
    ``[A | −I]`` has full row rank; were there none, the row would be inert: an entering
    structural column has a zero there). Artificial columns never re-enter in phase 2.
    """
    cost, matrix, rhs = _problem(c, A, b)
    m, n = len(matrix), len(cost)
    needs_art = [rhs[i] > 0 for i in range(m)]
    n_art = sum(needs_art)
    width = n + m + n_art
    rows: list[list[Fraction]] = []
    basis: list[int] = []
    art_col = n + m
    for i in range(m):
        sign = 1 if needs_art[i] else -1
        row = [_ZERO] * (width + 1)
        for j in range(n):
            row[j] = sign * matrix[i][j]
        row[n + i] = Fraction(-sign)
        row[-1] = sign * rhs[i]
        if needs_art[i]:
            row[art_col] = Fraction(1)
            basis.append(art_col)
            art_col += 1
        else:
            basis.append(n + i)
        rows.append(row)
    tableau = _Tableau(rows, basis)

    if n_art:
        phase1_cost = [_ZERO] * (n + m) + [Fraction(1)] * n_art
        tableau.set_cost(phase1_cost)
        unbounded = tableau.run(width)
        assert unbounded is None, "phase 1 is bounded below by 0"
        infeasibility = -tableau.entry(m, -1)
        if infeasibility > 0:
            farkas = tuple(tableau.entry(m, n + i) for i in range(m))
            return ExactLPResult("infeasible", None, None, farkas=farkas, pivots=tableau.pivots)
        for r in range(m):
            if tableau.basis[r] >= n + m:  # an artificial left basic at level 0
                column = next((j for j in range(n + m) if tableau.num[r][j]), None)
                if column is not None:  # a degenerate pivot: the right-hand side is 0
                    tableau.pivot(r, column)

    tableau.set_cost([*cost, *([_ZERO] * (m + n_art))])
    unbounded_col = tableau.run(n + m)
    values = tableau.values(width)
    x = tuple(values[:n])
    if unbounded_col is not None:
        direction = [_ZERO] * width
        direction[unbounded_col] = Fraction(1)
        for r, j in enumerate(tableau.basis):
            direction[j] -= tableau.entry(r, unbounded_col)
        return ExactLPResult("unbounded", x, None, ray=tuple(direction[:n]), pivots=tableau.pivots)
    dual = tuple(tableau.entry(m, n + i) for i in range(m))
    return ExactLPResult("optimal", x, _dot(cost, x), dual=dual, pivots=tableau.pivots)


# ---------------------------------------------------------------------------------------------
# Certificate checks: pure, exact, no solving.
# ---------------------------------------------------------------------------------------------


def _nonnegative(v: Vector, name: str) -> list[str]:
    return [f"{name}[{i}] = {vi} < 0" for i, vi in enumerate(v) if vi < 0]


def _primal_feasibility(A: Matrix, b: Vector, x: Vector) -> list[str]:
    out = _nonnegative(x, "x")
    for i, row in enumerate(A):
        lhs = _dot(row, x)
        if lhs < b[i]:
            out.append(f"row {i}: (A x)[{i}] = {lhs} < b[{i}] = {b[i]}")
    return out


def optimality_violations(
    c: Sequence[Number],
    A: Sequence[Sequence[Number]],
    b: Sequence[Number],
    x: Sequence[Number],
    y: Sequence[Number],
) -> list[str]:
    """Every condition of the optimality certificate that ``(x, y)`` violates (empty = valid).

    Conditions: ``x ≥ 0``, ``A x ≥ b``, ``y ≥ 0``, ``yᵀA ≤ c``, ``c·x = y·b``.
    """
    cost, matrix, rhs = _problem(c, A, b)
    xv, yv = _vector(x), _vector(y)
    if len(xv) != len(cost) or len(yv) != len(rhs):
        return [
            f"wrong lengths: x has {len(xv)} (expected {len(cost)}), "
            f"y has {len(yv)} (expected {len(rhs)})"
        ]
    out = _primal_feasibility(matrix, rhs, xv) + _nonnegative(yv, "y")
    ya = _row_times(yv, matrix, len(cost))
    out += [
        f"column {j}: (yᵀA)[{j}] = {ya[j]} > c[{j}] = {cost[j]}"
        for j in range(len(cost))
        if ya[j] > cost[j]
    ]
    primal, dual = _dot(cost, xv), _dot(yv, rhs)
    if primal != dual:
        out.append(f"duality gap: c·x = {primal} ≠ y·b = {dual}")
    return out


def infeasibility_violations(
    A: Sequence[Sequence[Number]], b: Sequence[Number], y: Sequence[Number]
) -> list[str]:
    """Every condition of the Farkas certificate that ``y`` violates (empty = valid).

    Conditions: ``y ≥ 0``, ``yᵀA ≤ 0``, ``y·b > 0``.
    """
    rhs = _vector(b)
    n = len(A[0]) if len(A) else 0
    matrix = _matrix(A, n, "A")
    if len(rhs) != len(matrix):
        raise ValueError(f"b has {len(rhs)} entries but A has {len(matrix)} rows")
    yv = _vector(y)
    if len(yv) != len(rhs):
        return [f"wrong length: y has {len(yv)} entries, expected {len(rhs)}"]
    out = _nonnegative(yv, "y")
    ya = _row_times(yv, matrix, n)
    out += [f"column {j}: (yᵀA)[{j}] = {ya[j]} > 0" for j in range(n) if ya[j] > 0]
    yb = _dot(yv, rhs)
    if yb <= 0:
        out.append(f"y·b = {yb} is not positive")
    return out


def unboundedness_violations(
    c: Sequence[Number],
    A: Sequence[Sequence[Number]],
    b: Sequence[Number],
    x: Sequence[Number],
    ray: Sequence[Number],
) -> list[str]:
    """Every condition of the unboundedness certificate that ``(x, d)`` violates.

    Conditions: ``x ≥ 0``, ``A x ≥ b``, ``d ≥ 0``, ``A d ≥ 0``, ``c·d < 0``.
    """
    cost, matrix, rhs = _problem(c, A, b)
    xv, dv = _vector(x), _vector(ray)
    if len(xv) != len(cost) or len(dv) != len(cost):
        return [f"wrong lengths: x has {len(xv)}, ray has {len(dv)}, expected {len(cost)}"]
    out = _primal_feasibility(matrix, rhs, xv) + _nonnegative(dv, "ray")
    for i, row in enumerate(matrix):
        ad = _dot(row, dv)
        if ad < 0:
            out.append(f"row {i}: (A d)[{i}] = {ad} < 0")
    cd = _dot(cost, dv)
    if cd >= 0:
        out.append(f"c·d = {cd} is not negative")
    return out


def check_optimality_certificate(
    c: Sequence[Number],
    A: Sequence[Sequence[Number]],
    b: Sequence[Number],
    x: Sequence[Number],
    y: Sequence[Number],
) -> bool:
    """True iff ``x`` is feasible, ``y`` dual feasible and ``c·x = y·b`` — so ``x`` is optimal.

    Pure and exact: evaluates ``x ≥ 0, A x ≥ b, y ≥ 0, yᵀA ≤ c, c·x = y·b`` in rationals.
    """
    return not optimality_violations(c, A, b, x, y)


def check_infeasibility_certificate(
    A: Sequence[Sequence[Number]], b: Sequence[Number], y: Sequence[Number]
) -> bool:
    """True iff ``y`` is a Farkas ray (``y ≥ 0, yᵀA ≤ 0, y·b > 0``), proving ``A x ≥ b, x ≥ 0``
    infeasible. Pure and exact."""
    return not infeasibility_violations(A, b, y)


def check_unboundedness_certificate(
    c: Sequence[Number],
    A: Sequence[Sequence[Number]],
    b: Sequence[Number],
    x: Sequence[Number],
    ray: Sequence[Number],
) -> bool:
    """True iff ``x`` is feasible and ``d = ray`` satisfies ``d ≥ 0, A d ≥ 0, c·d < 0``.

    Pure and exact.
    """
    return not unboundedness_violations(c, A, b, x, ray)


def verify_lp_result(
    c: Sequence[Number], A: Sequence[Sequence[Number]], b: Sequence[Number], result: ExactLPResult
) -> None:
    """Check the certificate carried by ``result`` against the problem; raise if it fails.

    Raises
    ------
    CertificateError
        Listing every violated condition, or naming the missing certificate.
    """
    if result.status == "optimal":
        if result.x is None or result.dual is None or result.objective is None:
            raise CertificateError("optimal result without x, objective and dual")
        problems = optimality_violations(c, A, b, result.x, result.dual)
        cost = _vector(c)
        if result.objective != _dot(cost, result.x):
            problems.append(f"objective {result.objective} ≠ c·x = {_dot(cost, result.x)}")
    elif result.status == "infeasible":
        if result.farkas is None:
            raise CertificateError("infeasible result without a Farkas ray")
        problems = infeasibility_violations(A, b, result.farkas)
    elif result.status == "unbounded":
        if result.x is None or result.ray is None:
            raise CertificateError("unbounded result without x and ray")
        problems = unboundedness_violations(c, A, b, result.x, result.ray)
    else:
        raise CertificateError(f"unknown status {result.status!r}")
    if problems:
        raise CertificateError(f"{result.status} certificate fails: " + "; ".join(problems))
