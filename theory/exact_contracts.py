"""Exact minimal-implementation contracts with certificates (PAPER.md §1).

In one state, write ``p_a = 𝒪(s, a) ∈ Δ(O)`` for the outcome distribution of action ``a``,
``Q̄(a) = Q̄*(s, a | ρ)`` for the agent's truncated Q-value (PAPER.md §1: it excludes the current
payment) and ``ξ ≥ 0`` for the nudging margin (PAPER.md §3, Proposition 4.1; ``ξ = 0`` is the
exact minimal implementation). The **minimal implementation** of the recommended action ``a^p``
is the linear programme (PAPER.md §1)::

    (P)   min_{b ∈ ℝ^O, b ≥ 0}   Σ_o p_{a^p}(o) b(o)
          s.t.  Σ_o (p_{a^p}(o) − p_a(o)) b(o)  ≥  Q̄(a) − Q̄(a^p) + ξ      for every a ≠ a^p.

Each constraint says that the agent's total value ``E_{p_{a^p}}[b] + Q̄(a^p)`` of following the
recommendation is at least that of deviating to ``a`` (plus ξ). Limited liability is ``b ≥ 0``.

**Tie rule** (PAPER.md §1, "Ties"): at indifference the agent takes the recommended action, so
the constraints are *weak* inequalities: a contract meeting one with equality implements
``a^p``. In particular an action ``a ≠ a^p`` with the same outcome distribution and the same
``Q̄`` (with ``ξ = 0``) gives the constraint ``0 ≥ 0`` and does not block ``a^p``. Everything here
is exact rational arithmetic, so equality is decided exactly, with no tolerance.

**Dual** (one multiplier ``λ_a ≥ 0`` per deviation ``a ≠ a^p``)::

    (D)   max_{λ ≥ 0}   Σ_{a ≠ a^p} λ_a (Q̄(a) − Q̄(a^p) + ξ)
          s.t.  Σ_{a ≠ a^p} λ_a (p_{a^p}(o) − p_a(o))  ≤  p_{a^p}(o)      for every o.

**Certificates** (checked by :meth:`ExactContract.verify` with no re-solving; see
:mod:`theory.exact_lp` for the general statements):

* *implementable* — the contract ``b`` is feasible for (P) and ``λ`` feasible for (D) with equal
  objective values, ``Σ_o p_{a^p}(o) b(o) = Σ_a λ_a (Q̄(a) − Q̄(a^p) + ξ)``; by weak duality no
  non-negative contract implementing ``a^p`` is cheaper. ``λ_a > 0`` only for deviations the
  contract leaves the agent exactly indifferent to (complementary slackness).
* *unimplementable* — Farkas multipliers ``λ ≥ 0`` with
  ``Σ_a λ_a (p_{a^p} − p_a) ≤ 0`` componentwise and ``Σ_a λ_a (Q̄(a) − Q̄(a^p) + ξ) > 0``. Scaled
  to ``μ = λ / Σλ`` (distributions sum to one, so the first condition holds with equality)
  this reads ``p_{a^p} = Σ_a μ_a p_a`` and ``Q̄(a^p) < Σ_a μ_a Q̄(a) + ξ``: the recommended
  action's outcome distribution is a mixture of other actions' that the agent strictly prefers
  (for ξ = 0), or does not dislike by ξ — the obstruction PAPER.md §1 names. Any contract pays
  ``a^p`` exactly the μ-average of what it pays those actions, so none implements ``a^p``.

The multipliers are reported per action, with ``λ_{a^p} = 0``. The LP is always bounded below
(costs ``p_{a^p} ≥ 0``, ``b ≥ 0``), so only the two cases above occur.

Numbers may be given as ints, Fractions, rational or decimal strings, or floats (read with
:func:`theory.model.to_fraction`, i.e. as their shortest decimal). Every ``𝒪(s, a)`` must be a
probability distribution *exactly* (non-negative, summing to exactly 1; PAPER.md §1:
``𝒪(s, a) ∈ Δ(O)``), else :class:`ValueError`. The check matters: with rows that sum to
``1 ± 10⁻¹⁶`` (floats read as decimals, say) paying the same large amount on every outcome
creates a spurious incentive, and the exact LP would return payments of order ``10¹⁵`` for an
action that is really unimplementable.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, SupportsIndex

from theory.exact_lp import (
    CertificateError,
    Matrix,
    Number,
    Vector,
    infeasibility_violations,
    optimality_violations,
    solve_exact_lp,
)
from theory.model import to_fraction

__all__ = [
    "CertificateError",
    "ExactContract",
    "contract_lp",
    "minimal_contract_exact",
    "minimal_contracts_exact_all_actions",
    "two_outcome_contract",
]

_ZERO = Fraction(0)


def _inputs(
    q_bar: Iterable[Number], outcome_probs: Iterable[Iterable[Number]], margin: Number
) -> tuple[Vector, Matrix, Fraction]:
    q = tuple(to_fraction(v) for v in q_bar)
    probs = tuple(tuple(to_fraction(v) for v in row) for row in outcome_probs)
    xi = to_fraction(margin)
    if not q:
        raise ValueError("q_bar must have at least one action")
    if len(probs) != len(q):
        raise ValueError(f"outcome_probs has {len(probs)} rows but q_bar has {len(q)} actions")
    n_o = len(probs[0])
    if n_o == 0:
        raise ValueError("outcome_probs must have at least one outcome")
    for a, row in enumerate(probs):
        if len(row) != n_o:
            raise ValueError(f"outcome_probs[{a}] has {len(row)} outcomes, expected {n_o}")
        for o, value in enumerate(row):
            if value < 0:
                raise ValueError(f"outcome_probs[{a}][{o}] is negative: {value}")
        total = sum(row, _ZERO)
        if total != 1:
            raise ValueError(
                f"outcome_probs[{a}] sums to {total}, not exactly 1 (an exact "
                "solve of rounded distributions would answer another problem)"
            )
    if xi < 0:
        raise ValueError(f"margin must be non-negative, got {xi}")
    return q, probs, xi


def _action(recommended: SupportsIndex, n_actions: int) -> int:
    if isinstance(recommended, bool):
        raise TypeError(f"recommended must be an action index, got {recommended!r}")
    index = operator.index(recommended)
    if not 0 <= index < n_actions:
        raise ValueError(f"recommended action {index} out of range [0, {n_actions})")
    return index


def contract_lp(
    q_bar: Iterable[Number],
    outcome_probs: Iterable[Iterable[Number]],
    recommended: SupportsIndex,
    *,
    margin: Number = _ZERO,
) -> tuple[Vector, Matrix, Vector, tuple[int, ...]]:
    """The minimal-implementation LP (P) in the form ``min c·b s.t. D b ≥ g, b ≥ 0``.

    Returns
    -------
    c : ``p_{a^p}``, the costs.
    D : one row ``p_{a^p} − p_a`` per deviation ``a ≠ a^p``.
    g : ``Q̄(a) − Q̄(a^p) + ξ`` per deviation.
    deviations : the action ``a`` of each row, in increasing order.
    """
    q, probs, xi = _inputs(q_bar, outcome_probs, margin)
    return _lp(q, probs, _action(recommended, len(q)), xi)


def _lp(
    q: Vector, probs: Matrix, rec: int, xi: Fraction
) -> tuple[Vector, Matrix, Vector, tuple[int, ...]]:
    p_rec = probs[rec]
    deviations = tuple(a for a in range(len(q)) if a != rec)
    rows = tuple(tuple(pr - pa for pr, pa in zip(p_rec, probs[a], strict=True)) for a in deviations)
    rhs = tuple(q[a] - q[rec] + xi for a in deviations)
    return p_rec, rows, rhs, deviations


@dataclass(frozen=True)
class ExactContract:
    """The exact minimal implementation of one recommended action, with its certificate.

    Attributes
    ----------
    recommended
        The recommended action ``a^p``.
    contract
        ``b(o)`` per outcome: a cheapest contract implementing ``a^p`` (an optimal vertex of
        (P), with ``b(o) = 0`` wherever ``p_{a^p}(o) = 0``: nothing is paid on outcomes ``a^p``
        cannot produce); all zeros when unimplementable. The cheapest contract need not be
        unique; its cost is.
    implementable
        Whether some non-negative contract makes ``a^p`` a best response (ties count).
    expected_payment
        ``E_{p_{a^p}}[b]``, the LP optimum (unique even when ``contract`` is not); ``None``
        when unimplementable.
    certificate
        One multiplier per action (``λ_{a^p} = 0``): the optimal dual solution of (D) when
        implementable, the Farkas multipliers when not (module docstring).
    q_bar, outcome_probs, margin
        The exact inputs, kept so that :meth:`verify` needs no arguments.
    """

    recommended: int
    contract: tuple[Fraction, ...]
    implementable: bool
    expected_payment: Fraction | None
    certificate: tuple[Fraction, ...]
    q_bar: tuple[Fraction, ...] = field(repr=False)
    outcome_probs: tuple[tuple[Fraction, ...], ...] = field(repr=False)
    margin: Fraction = field(default=_ZERO, repr=False)

    def violations(self) -> list[str]:
        """Every condition of the certificate that fails (empty when it proves the answer)."""
        q, probs, xi = _inputs(self.q_bar, self.outcome_probs, self.margin)
        c, rows, rhs, deviations = _lp(q, probs, _action(self.recommended, len(q)), xi)
        out: list[str] = []
        if len(self.contract) != len(c):
            return [f"contract has {len(self.contract)} entries, expected {len(c)}"]
        if len(self.certificate) != len(self.q_bar):
            return [f"certificate has {len(self.certificate)} entries, expected {len(self.q_bar)}"]
        if self.certificate[self.recommended] != 0:
            out.append(
                f"multiplier of the recommended action is "
                f"{self.certificate[self.recommended]}, expected 0"
            )
        multipliers = tuple(self.certificate[a] for a in deviations)
        if self.implementable:
            out += optimality_violations(c, rows, rhs, self.contract, multipliers)
            paid = sum((ci * bi for ci, bi in zip(c, self.contract, strict=True)), _ZERO)
            if self.expected_payment != paid:
                out.append(f"expected_payment {self.expected_payment} ≠ E[b] = {paid}")
        else:
            if any(self.contract):
                out.append(f"unimplementable but the contract is not zero: {self.contract}")
            if self.expected_payment is not None:
                out.append("unimplementable but expected_payment is set")
            # no deviation at all: (P) is trivially feasible, so no Farkas ray can exist
            out += (
                infeasibility_violations(rows, rhs, multipliers)
                if rows
                else ["unimplementable without any deviation"]
            )
        return out

    def verify(self) -> bool:
        """Check the certificate exactly (no LP is solved); return True or raise.

        Implementable: ``b ≥ 0`` meets every incentive constraint (weakly: ties go to
        ``a^p``), ``λ ≥ 0`` is dual feasible and ``E_{p_{a^p}}[b] = Σ λ_a g_a``.
        Unimplementable: ``λ`` is a Farkas ray (module docstring).

        Raises
        ------
        CertificateError
            Listing every violated condition.
        """
        problems = self.violations()
        if problems:
            raise CertificateError(
                f"contract for action {self.recommended} "
                f"({'implementable' if self.implementable else 'unimplementable'}): "
                + "; ".join(problems)
            )
        return True


def minimal_contract_exact(
    q_bar: Iterable[Number],
    outcome_probs: Iterable[Iterable[Number]],
    recommended: SupportsIndex,
    *,
    margin: Number = _ZERO,
) -> ExactContract:
    """Exact minimal implementation of ``recommended`` in one state (PAPER.md §1).

    Solves (P) of the module docstring by the exact simplex method of
    :func:`theory.exact_lp.solve_exact_lp` and returns the contract with its certificate.

    Parameters
    ----------
    q_bar : length-A truncated agent Q-values ``Q̄(s, ·)``.
    outcome_probs : A × O outcome distributions ``𝒪(s, a)(o)``.
    recommended : the action ``a^p`` to implement.
    margin : nudging ξ ≥ 0 (PAPER.md §3): the agent must prefer ``a^p`` by at least ξ.

    Returns
    -------
    ExactContract
        ``verify()`` re-checks its certificate exactly.

    Examples
    --------
    PAPER.md §7, state s0: ``Q̄ = (−7/10, 1/10)``, ``𝒪(aL) = (9/10, 1/10)``,
    ``𝒪(aR) = (1/10, 9/10)``. Implementing aL needs ``(4/5) b(L) − (4/5) b(R) ≥ 4/5``, so the
    cheapest contract is ``b = (1, 0)`` paying ``9/10`` in expectation; the multiplier
    ``λ_aR = 9/8`` certifies it (``(9/8)(4/5) = 9/10`` and ``(9/8)(4/5, −4/5) ≤ (9/10, 1/10)``).

    >>> r = minimal_contract_exact(["-7/10", "1/10"], [["9/10", "1/10"], ["1/10", "9/10"]], 0)
    >>> r.contract, r.expected_payment, r.certificate
    ((Fraction(1, 1), Fraction(0, 1)), Fraction(9, 10), (Fraction(0, 1), Fraction(9, 8)))
    >>> r.verify()
    True
    """
    q, probs, xi = _inputs(q_bar, outcome_probs, margin)
    return _solve(q, probs, _action(recommended, len(q)), xi)


def _solve(q: Vector, probs: Matrix, rec: int, xi: Fraction) -> ExactContract:
    """:func:`minimal_contract_exact` on validated inputs."""
    c, rows, rhs, deviations = _lp(q, probs, rec, xi)
    multipliers = [_ZERO] * len(q)
    if all(g <= 0 for g in rhs):
        # No incentive constraint binds at b = 0: b = 0 with λ = 0 is optimal and certified
        # (0 ≥ g_a, 0 ≤ p_{a^p}, 0 = 0). This is what the simplex returns too, only faster.
        return ExactContract(
            rec, tuple(_ZERO for _ in c), True, _ZERO, tuple(multipliers), q, probs, xi
        )
    result = solve_exact_lp(c, rows, rhs)
    if result.status == "optimal":
        assert result.x is not None and result.dual is not None
        for a, lam in zip(deviations, result.dual, strict=True):
            multipliers[a] = lam
        # Canonical form: no payment on an outcome that a^p never produces. Such a payment
        # costs nothing but only raises deviations' pay (its row coefficient is −p_a(o) ≤ 0),
        # so dropping it keeps b feasible, the cost and the certificate unchanged.
        contract = tuple(b if p > 0 else _ZERO for b, p in zip(result.x, c, strict=True))
        return ExactContract(
            rec, contract, True, result.objective, tuple(multipliers), q, probs, xi
        )
    if result.status != "infeasible":  # pragma: no cover - (P) is bounded below by 0
        raise RuntimeError(f"minimal-implementation LP reported {result.status}")
    assert result.farkas is not None
    for a, lam in zip(deviations, result.farkas, strict=True):
        multipliers[a] = lam
    return ExactContract(
        rec, tuple(_ZERO for _ in c), False, None, tuple(multipliers), q, probs, xi
    )


def minimal_contracts_exact_all_actions(
    q_bar: Iterable[Number], outcome_probs: Iterable[Iterable[Number]], margin: Number = _ZERO
) -> list[ExactContract]:
    """:func:`minimal_contract_exact` for every action of one state, in action order."""
    q, probs, xi = _inputs(q_bar, outcome_probs, margin)
    return [_solve(q, probs, a, xi) for a in range(len(q))]


def two_outcome_contract(
    q_bar: Sequence[Any], probs: Sequence[Sequence[Any]], action: int, margin: Any, zero: Any
) -> tuple[tuple[Any, Any], bool, Any]:
    """The minimal implementation (P) with two outcomes in closed form, in any exact numbers.

    The same answer as :func:`minimal_contract_exact` (contract, implementable, expected
    payment; no certificate) for exact distributions over two outcomes, with no LP: write
    ``p_a = 𝒪(a)(o1)``, ``d = b(o1) − b(o0)`` and ``c_a = Q̄(a) − Q̄(a^p) + ξ``. Every
    constraint of (P) reads ``(p_{a^p} − p_a) d ≥ c_a``, so ``d ∈ [low, high]`` with
    ``low = max_{p_a < p_{a^p}} c_a / (p_{a^p} − p_a)`` and
    ``high = min_{p_a > p_{a^p}} c_a / (p_{a^p} − p_a)``; an action with ``p_a = p_{a^p}``
    needs ``c_a ≤ 0``. The cheapest contract with a given ``d`` pays only on o1 (``d > 0``)
    or only on o0 (``d < 0``) at cost ``p_{a^p} d`` resp. ``(1 − p_{a^p}) (−d)``, V-shaped
    with minimum 0 at ``d = 0``; so the optimum is ``b = 0`` if ``0 ∈ [low, high]``,
    ``(0, low)`` if ``low > 0``, ``(−high, 0)`` if ``high < 0``.

    It is the contract the simplex returns: ``low > 0`` needs some ``p_a < p_{a^p}``, so
    ``p_{a^p} > 0`` and ``b(o0) = 0`` is forced (``b(o1) − b(o0) ≥ low`` at cost
    ``b(o1) = low`` leaves ``b(o0) ≤ 0``), and symmetrically for ``high < 0``; the optimum
    ``b = 0`` is unique up to payments on an outcome ``a^p`` never produces, which the
    canonical form of :func:`minimal_contract_exact` sets to 0. (``tests/test_exact_backend.py``
    checks the agreement on random two-outcome states with and without a margin.)

    Parameters
    ----------
    q_bar : ``Q̄(s, ·)``; probs : rows ``(𝒪(a)(o0), 𝒪(a)(o1))``; action : ``a^p``;
    margin : ξ; zero : the number type's zero (``Fraction(0)`` or ``fmpq(0)``).

    Returns
    -------
    ``(contract, implementable, expected_payment)``; ``(zero, zero), False, None`` when
    unimplementable.
    """
    p_rec = probs[action][1]
    low: Any = None
    high: Any = None
    for a, row in enumerate(probs):
        if a == action:
            continue
        c = q_bar[a] - q_bar[action] + margin
        gap = p_rec - row[1]
        if gap > 0:
            bound = c / gap
            low = bound if low is None or bound > low else low
        elif gap < 0:
            bound = c / gap
            high = bound if high is None or bound < high else high
        elif c > 0:
            return (zero, zero), False, None
    if low is not None and high is not None and low > high:
        return (zero, zero), False, None
    if low is not None and low > 0:
        return (zero, low), True, p_rec * low
    if high is not None and high < 0:
        return (-high, zero), True, probs[action][0] * -high
    return (zero, zero), True, zero
