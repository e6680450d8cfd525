"""Ties and tolerances: one value object for every tie rule, tolerance and nudging margin.

The principal-agent model breaks ties in two places, and float code needs a tolerance for each
(PAPER.md §1–3):

* **Agent ties.** At indifference the agent takes the recommended action (PAPER.md §1). Minimal
  contracts make the agent *exactly* indifferent, so float code treats a shortfall of at most
  ``agent_tol`` as indifference: an incentive constraint violated by at most ``agent_tol`` is
  met (the contract LP's feasibility tolerance), and the agent follows a recommendation that
  costs it at most ``agent_tol`` (an ``agent_tol``-best response).
* **Principal ties.** Several actions can share the principal's best contractual q. They differ
  in the agent's rent and hence in the incentives needed upstream, so the rule is a parameter,
  ``principal_rule``:

  - ``"lowest_index"`` (default): the lowest-index maximiser;
  - ``"agent_best"`` / ``"agent_worst"``: among the maximisers the one leaving the agent the
    most (least) value, then the lowest index.

  Float code counts actions within ``principal_tol`` of the maximum as maximisers (and, for
  the agent-value rules, agent values within ``principal_tol`` as equal).
* **Nudging.** ``margin`` ξ ≥ 0 is added to every incentive constraint of the minimal contract
  (PAPER.md §3, Proposition 4.1): the agent must prefer the recommendation by at least ξ.
* **Identical outcome distributions.** ``probability_tol``: two actions whose outcome
  probabilities differ by at most this are treated as having the same distribution (the
  two-outcome closed form divides by their difference).

Every number is held **exactly** (a :class:`fractions.Fraction`; floats are read as the
shortest decimal that prints as them, so ``0.1`` is exactly 1/10) with a float view for float
code (``*_float``). Exact solvers compare exactly (the tolerances are for float arithmetic and
for checking float solutions); the margin is used exactly there, which is why it must not be
read as a binary expansion.

:func:`argmax_with_ties` is the one implementation of "the principal's choice with ties" used by
every solver, in float and in exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from theory.model import to_fraction

__all__ = [
    "DEFAULT_TIES",
    "EXACT_TIES",
    "TIE_RULES",
    "TieRule",
    "Ties",
    "argmax_with_ties",
    "best_response",
]

TieRule = Literal["lowest_index", "agent_best", "agent_worst"]
#: The principal's tie rules, in the order the docs list them.
TIE_RULES: tuple[str, ...] = ("lowest_index", "agent_best", "agent_worst")

#: Largest tolerance or margin accepted (instances' values are O(1)–O(100)); bounds every
#: number read from a command line or a file.
_LIMIT = Fraction(10**6)


def _exact(name: str, value: Any) -> Fraction:
    try:
        number = to_fraction(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise ValueError(f"{name}: not a finite number (value: {str(value)[:40]!r})") from None
    if number < 0 or number > _LIMIT:
        raise ValueError(f"{name} must lie in [0, {_LIMIT}] (value: {str(value)[:40]})")
    return number


@dataclass(frozen=True, init=False)
class Ties:
    """The tie rules, tolerances and nudging margin of a computation (module docstring).

    Construct with any numbers (floats, ints, decimal or rational strings, Fractions); they are
    stored exactly. ``Ties(margin=0.1).margin == Fraction(1, 10)``.

    Attributes
    ----------
    agent_tol : the agent's indifference tolerance in float code (default 1e-9).
    principal_rule : ``"lowest_index"``, ``"agent_best"`` or ``"agent_worst"``.
    principal_tol : the principal's tie tolerance in float code (default 1e-9).
    margin : nudging ξ ≥ 0 (default 0: the exact minimal implementation).
    probability_tol : outcome distributions this close count as identical (default 1e-12).
    """

    agent_tol: Fraction
    principal_rule: TieRule
    principal_tol: Fraction
    margin: Fraction
    probability_tol: Fraction

    def __init__(
        self,
        agent_tol: Any = Fraction(1, 10**9),
        principal_rule: str = "lowest_index",
        principal_tol: Any = Fraction(1, 10**9),
        margin: Any = Fraction(0),
        probability_tol: Any = Fraction(1, 10**12),
    ) -> None:
        if principal_rule not in TIE_RULES:
            raise ValueError(
                f"principal_rule must be one of {', '.join(TIE_RULES)} "
                f"(value: {str(principal_rule)[:40]!r})"
            )
        object.__setattr__(self, "principal_rule", principal_rule)
        for name, value in (
            ("agent_tol", agent_tol),
            ("principal_tol", principal_tol),
            ("margin", margin),
            ("probability_tol", probability_tol),
        ):
            object.__setattr__(self, name, _exact(name, value))

    # float views ---------------------------------------------------------------------------
    @cached_property
    def agent_tol_float(self) -> float:
        """``agent_tol`` as a float."""
        return float(self.agent_tol)

    @cached_property
    def principal_tol_float(self) -> float:
        """``principal_tol`` as a float."""
        return float(self.principal_tol)

    @cached_property
    def margin_float(self) -> float:
        """``margin`` as a float."""
        return float(self.margin)

    @cached_property
    def probability_tol_float(self) -> float:
        """``probability_tol`` as a float."""
        return float(self.probability_tol)

    # variants ------------------------------------------------------------------------------
    def with_(self, **changes: Any) -> Ties:
        """A copy with some fields replaced (validated like the constructor)."""
        fields = {
            "agent_tol": self.agent_tol,
            "principal_rule": self.principal_rule,
            "principal_tol": self.principal_tol,
            "margin": self.margin,
            "probability_tol": self.probability_tol,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Ties has no field(s) {', '.join(sorted(unknown))}")
        return Ties(**{**fields, **changes})

    def with_tolerance(self, tolerance: Any) -> Ties:
        """A copy whose agent and principal tolerances are both ``tolerance``."""
        return self.with_(agent_tol=tolerance, principal_tol=tolerance)

    def to_dict(self) -> dict[str, Any]:
        """Every field, numbers as exact strings (for result files and reports)."""
        return {
            "agent_tol": str(self.agent_tol),
            "principal_rule": self.principal_rule,
            "principal_tol": str(self.principal_tol),
            "margin": str(self.margin),
            "probability_tol": str(self.probability_tol),
        }

    def describe(self) -> str:
        """One line for people."""
        margin = f", margin ξ = {self.margin}" if self.margin else ""
        return (
            f"principal ties: {self.principal_rule} (tolerance {float(self.principal_tol):g}), "
            f"agent tie tolerance {float(self.agent_tol):g}{margin}"
        )


#: The defaults of every solver.
DEFAULT_TIES = Ties()
#: Strict exact comparison: no tolerance anywhere (for checking exact solutions).
EXACT_TIES = Ties(agent_tol=0, principal_tol=0)


def argmax_with_ties(
    values: npt.NDArray[Any],
    eligible: npt.NDArray[np.bool_],
    agent_values: npt.NDArray[Any] | None = None,
    *,
    rule: str = "lowest_index",
    tol: float | Fraction = 0.0,
) -> npt.NDArray[np.int64]:
    """The principal's choice per row: the argmax of ``values`` over eligible actions, with ties.

    Definition: with ``m = max_{a eligible} values[i, a]``, the maximisers of row ``i`` are the
    eligible ``a`` with ``values[i, a] ≥ m − tol``. Among them ``rule`` picks (module
    docstring): ``"lowest_index"`` the first; ``"agent_best"`` (``"agent_worst"``) those whose
    ``agent_values[i, a]`` is within ``tol`` of the largest (smallest), then the first.

    Works on float arrays and on object arrays of :class:`~fractions.Fraction` alike (pass
    ``tol=0`` for exact comparison). Rows with no eligible action return the lowest index among
    all actions (callers guarantee one exists: the agent's no-contract best response is always
    implementable at cost 0).

    Parameters
    ----------
    values : (M, A) the principal's q per action.
    eligible : (M, A) which actions can be chosen (implementable ones).
    agent_values : (M, A) the agent's value if ``a`` is recommended (needed by the agent rules).
    rule : the tie rule.
    tol : the tie tolerance (≥ 0).
    """
    if rule not in TIE_RULES:
        raise ValueError(f"principal tie rule must be one of {TIE_RULES}, got {rule!r}")
    eligible = np.asarray(eligible, dtype=bool)
    exact = np.asarray(values).dtype == object
    q = np.asarray(values)
    if exact:
        # None / -inf can stand for "unimplementable": never compared, masked by ``eligible``
        choice = np.zeros(q.shape[0], dtype=np.int64)
        for i in range(q.shape[0]):
            candidates = [a for a in range(q.shape[1]) if eligible[i, a]]
            if not candidates:
                continue
            best = max(q[i, a] for a in candidates)
            tied = [a for a in candidates if q[i, a] >= best - tol]
            if rule != "lowest_index":
                assert agent_values is not None, "the agent tie rules need agent_values"
                scores = [agent_values[i, a] for a in tied]
                top = max(scores) if rule == "agent_best" else min(scores)
                tied = [a for a, x in zip(tied, scores, strict=True) if abs(x - top) <= tol]
            choice[i] = tied[0]
        return choice
    masked = np.where(eligible, q.astype(np.float64), -np.inf)
    best = masked.max(axis=1, keepdims=True)
    maximisers = eligible & (masked >= best - float(tol))
    if rule == "lowest_index":
        return np.argmax(maximisers, axis=1).astype(np.int64)
    if agent_values is None:
        raise ValueError(f"the tie rule {rule!r} needs agent_values")
    sign = 1.0 if rule == "agent_best" else -1.0
    score = np.where(maximisers, sign * np.asarray(agent_values, dtype=np.float64), -np.inf)
    top = score.max(axis=1, keepdims=True)
    chosen = maximisers & (score >= top - float(tol))
    return np.argmax(chosen, axis=1).astype(np.int64)


def best_response(
    q_bar: npt.ArrayLike,
    outcome_probs: npt.ArrayLike,
    contracts: npt.ArrayLike,
    recommended: npt.ArrayLike | None = None,
    *,
    ties: Ties = DEFAULT_TIES,
) -> npt.NDArray[np.int64]:
    """The agent's best response ``π(s, b) = argmax_a E_{𝒪(s,a)}[b] + Q̄(s, a)`` (PAPER.md §1).

    Ties (within ``ties.agent_tol``) go to the recommended action when it is among the maximisers
    (PAPER.md §1), else to the lowest action index. ``recommended`` entries of ``-1`` (or
    ``recommended=None`` for all rows) mean no recommendation. Float arithmetic; the one agent
    best response of float code (solvers, and the checker's replay of a solver's own agent in
    :func:`theory.spe.check_spe`), re-exported by :mod:`solvers.contracts`.

    Parameters
    ----------
    q_bar : (M, A) the agent's continuation-inclusive values ``Q̄(s, a)`` of M rows.
    outcome_probs : (M, A, O) outcome distributions.
    contracts : (M, O) payments.
    recommended : optional (M,) recommended actions.
    ties : ``agent_tol`` is the indifference tolerance.
    """
    q = np.asarray(q_bar, dtype=np.float64)
    probs = np.asarray(outcome_probs, dtype=np.float64)
    pay = np.asarray(contracts, dtype=np.float64)
    utility = np.einsum("mao,mo->ma", probs, pay) + q
    best = utility.max(axis=1, keepdims=True)
    maximisers = utility >= best - ties.agent_tol_float
    choice = np.argmax(maximisers, axis=1).astype(np.int64)
    if recommended is not None:
        rec = np.asarray(recommended, dtype=np.int64)
        valid = rec >= 0
        rows = np.flatnonzero(valid)
        take = maximisers[rows, rec[rows]]
        choice[rows[take]] = rec[rows[take]]
    return choice
