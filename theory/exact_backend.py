"""The number system behind pamdp's exact computations: python-flint when installed, else Fractions.

Every exact computation in pamdp (exact backward induction, exact policy evaluation and hence
``pamdp verify``, the exact linear solves) is defined over the rationals ℚ; which
implementation of ℚ runs it is a matter of speed only. Two backends exist:

* ``"python"`` — :class:`fractions.Fraction` and the sparse Gaussian elimination of
  :func:`theory.exact_evaluation.solve_linear_exact`: pure Python, the readable reference.
* ``"flint"`` — ``fmpq`` numbers and ``fmpz_mat`` solves of python-flint (FLINT; dense
  integer systems by Dixon p-adic lifting). Measured in ``benchmarks/bench_exact.py``: about
  11× faster on exact backward induction of the depth-10 paper tree (exact view included) and
  far more on discounted evaluation, whose dense solves the reference does with fill-in in
  Fractions (600 states: under 2 s of CPU instead of not finishing in 400 s).

Results are the same rationals either way (the tests in ``tests/test_exact_backend.py`` assert
identical :class:`~fractions.Fraction` outputs on hidden- and observed-action instances), and
every public function returns Fractions: the fast numbers are converted at the boundary.

Selection: the ``backend`` argument of the exact functions (``None`` = the default); the
default is ``$PAMDP_EXACT_BACKEND`` when set (``flint`` or ``python``), else ``flint`` when
python-flint is importable, else ``python``.

Linear systems (:func:`solve_linear_flint`). ``M x = B`` with ``M`` given as sparse rows is
solved block by block: the strongly connected components of the graph ``i → j`` for
``M[i, j] ≠ 0`` (Tarjan 1972) are found in reverse topological order, so permuting rows and
columns alike makes ``M`` block triangular (det M = ∏ det of the diagonal blocks, so every
block of a non-singular ``M`` is non-singular). Each block is solved densely, as an integer
system for ``fmpz_mat.solve`` (:func:`_dense_block`), after substituting the already known
unknowns it depends on; an acyclic (episodic) system is thus pure back substitution and a
strongly connected discounted one a single dense solve.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BACKENDS",
    "ENV_VAR",
    "coprime_fraction",
    "default_backend",
    "distinct_objects",
    "flint_available",
    "fraction_of",
    "fractions_of",
    "resolve_backend",
    "solve_linear_flint",
    "to_fmpq",
    "to_fmpq_array",
]

#: The exact backends, fast first.
BACKENDS: tuple[str, ...] = ("flint", "python")
#: Environment variable naming the default backend.
ENV_VAR = "PAMDP_EXACT_BACKEND"

_flint: Any
try:  # pragma: no branch - depends on the environment
    import flint as _flint

    _HAVE_FLINT = True
except ImportError:  # pragma: no cover - python-flint is a dependency
    _flint = None
    _HAVE_FLINT = False


def flint_available() -> bool:
    """Whether python-flint is importable."""
    return _HAVE_FLINT


def default_backend() -> str:
    """The backend used when none is given (module docstring).

    Raises
    ------
    ValueError
        ``$PAMDP_EXACT_BACKEND`` names an unknown backend, or ``flint`` when python-flint is
        not installed.
    """
    chosen = os.environ.get(ENV_VAR, "").strip()
    if not chosen:
        return "flint" if _HAVE_FLINT else "python"
    return _check(chosen, ENV_VAR)


def resolve_backend(backend: str | None) -> str:
    """``backend`` checked, or :func:`default_backend` for ``None``."""
    return default_backend() if backend is None else _check(backend, "backend")


def _check(name: str, label: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"{label}: unknown exact backend {name!r} (choose one of {BACKENDS})")
    if name == "flint" and not _HAVE_FLINT:
        raise ValueError(
            f"{label}: exact backend 'flint' needs python-flint (pip install python-flint)"
        )
    return name


# ---------------------------------------------------------------------------- conversions
def to_fmpq(value: Fraction | int) -> Any:
    """A Fraction (or int) as a python-flint ``fmpq``."""
    assert _flint is not None
    if type(value) is Fraction:  # the slots themselves: the properties cost a Python call
        return _flint.fmpq(value._numerator, value._denominator)  # type: ignore[attr-defined]
    return _flint.fmpq(value.numerator, value.denominator)


if sys.version_info >= (3, 12):  # pragma: no cover - depends on the interpreter
    coprime_fraction = Fraction._from_coprime_ints  # type: ignore[attr-defined]
else:

    def coprime_fraction(p: int, q: int) -> Fraction:
        """``Fraction(p, q)`` for coprime ints ``p``, ``q > 0`` (the caller guarantees it),
        without the gcd: what 3.12's ``Fraction._from_coprime_ints`` does (the two slots of a
        Fraction, set directly)."""
        out = object.__new__(Fraction)
        out._numerator = p  # type: ignore[attr-defined]
        out._denominator = q  # type: ignore[attr-defined]
        return out


_ZERO = Fraction(0)


def fraction_of(value: Any) -> Fraction:
    """An ``fmpq`` as a :class:`~fractions.Fraction` (``fmpq`` is always in lowest terms with a
    positive denominator, so no gcd is needed). Fractions pass through unchanged."""
    if type(value) is Fraction:
        return value
    if not value:
        return _ZERO
    return coprime_fraction(int(value.p), int(value.q))


def fractions_of(values: Iterable[Any]) -> list[Fraction]:
    """:func:`fraction_of` of each entry."""
    return [fraction_of(v) for v in values]


def distinct_objects(values: Any) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.intp]]:
    """The distinct objects of an object array *by identity*, and the index of each entry (in
    C order) among them. Exact views share one Fraction per distinct number
    (:func:`theory.model.fraction_array`), so this finds the distinct numbers without hashing
    or comparing any of them."""
    flat = np.asarray(values, dtype=object).reshape(-1)
    ids = np.fromiter(map(id, flat), dtype=np.uintp, count=flat.size)
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return flat[first], inverse.reshape(-1)


def to_fmpq_array(values: Any) -> npt.NDArray[np.object_]:
    """:func:`to_fmpq` of every entry of an object array of Fractions (or ints), same shape;
    each distinct object (:func:`distinct_objects`) is converted once."""
    distinct, inverse = distinct_objects(values)
    converted = np.empty(len(distinct), dtype=object)
    converted[:] = list(map(to_fmpq, distinct.tolist()))
    return converted[inverse].reshape(np.shape(values))


# -------------------------------------------------------------------------- linear solves
def _components(n: int, rows: Sequence[dict[int, Any]]) -> list[list[int]]:
    """Strongly connected components of ``i → j`` (``j`` in ``rows[i]``, ``j ≠ i``), each
    emitted after every component it reaches (Tarjan's algorithm, iterative)."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    adjacency = [[j for j in row if j != i] for i, row in enumerate(rows)]
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, k = work[-1]
            nbrs = adjacency[v]
            if k < len(nbrs):
                work[-1] = (v, k + 1)
                w = nbrs[k]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work and low[v] < low[work[-1][0]]:
                low[work[-1][0]] = low[v]
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component.append(w)
                    if w == v:
                        break
                out.append(component)
    return out


def solve_linear_flint(
    rows: Sequence[dict[int, Any]], rhs: Sequence[Sequence[Any]]
) -> list[list[Any]] | None:
    """Solve ``M X = B`` in ``fmpq`` (module docstring); ``None`` if ``M`` is singular.

    Parameters
    ----------
    rows : ``M`` as one ``{column: fmpq}`` dict per row, square, columns already checked to
        lie in range (no zero entries needed; zeros are harmless).
    rhs : the columns of ``B``, each one ``fmpq`` per row.

    Returns
    -------
    list of columns of ``X`` (lists of ``fmpq``), or ``None`` when ``M`` is singular (the
    caller reports which column, from the reference elimination).
    """
    assert _flint is not None
    n = len(rows)
    n_rhs = len(rhs)
    zero = _flint.fmpq(0)
    x: list[list[Any]] = [[zero] * n for _ in range(n_rhs)]
    for component in _components(n, rows):
        if len(component) == 1:
            i = component[0]
            row = rows[i]
            pivot = row.get(i, zero)
            if not pivot:
                return None
            for c in range(n_rhs):
                xc = x[c]
                total = rhs[c][i]
                for j, v in row.items():
                    if j != i:
                        total -= v * xc[j]
                xc[i] = total / pivot
            continue
        values = _dense_block(component, rows, rhs, x)
        if values is None:
            return None
        for p, i in enumerate(component):
            for c in range(n_rhs):
                x[c][i] = values[p * n_rhs + c]
    return x


def _dense_block(
    component: list[int],
    rows: Sequence[dict[int, Any]],
    rhs: Sequence[Sequence[Any]],
    x: list[list[Any]],
) -> list[Any] | None:
    """Solve one diagonal block densely, the known unknowns substituted; entries row-major
    (``n_rhs`` per row), or ``None`` if the block is singular.

    Each row is scaled to integers by the lcm of its denominators and the right-hand side by
    the lcm ``D`` of all of its denominators, so FLINT solves an integer system
    (``fmpz_mat.solve``, Dixon p-adic lifting; about twice as fast as ``fmpq_mat.solve`` on
    the same rationals) whose solution is ``D`` times the wanted one."""
    assert _flint is not None
    fmpz, fmpz_mat = _flint.fmpz, _flint.fmpz_mat
    n_rhs = len(rhs)
    k = len(component)
    position = {v: p for p, v in enumerate(component)}
    entries: list[Any] = [0] * (k * k)
    b_entries: list[Any] = [0] * (k * n_rhs)
    for p, i in enumerate(component):
        totals = [rhs[c][i] for c in range(n_rhs)]
        inside: list[tuple[int, Any]] = []
        for j, v in rows[i].items():
            q = position.get(j)
            if q is None:
                for c in range(n_rhs):
                    totals[c] -= v * x[c][j]
            elif v:
                inside.append((q, v))
        scale = fmpz(1)
        for _, v in inside:
            scale = scale.lcm(v.q)
        for q, v in inside:
            entries[p * k + q] = v.p * (scale // v.q)
        for c in range(n_rhs):
            b_entries[p * n_rhs + c] = totals[c] * scale
    common = fmpz(1)
    for v in b_entries:
        common = common.lcm(v.q)
    integral = [v.p * (common // v.q) for v in b_entries]
    try:
        solution = fmpz_mat(k, k, entries).solve(fmpz_mat(k, n_rhs, integral))
    except ZeroDivisionError:
        return None
    return [v / common for v in solution.entries()]
