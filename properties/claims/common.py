"""What the claim families share: tolerances, exact building blocks, case helpers, the claim.

* the tolerances and iteration caps of the properties (:data:`DEFAULT_TOL`,
  :data:`META_TOL`, ...);
* exact (rational) building blocks: outcome probabilities, dot products and the principal's
  continuation ``W^p(s, o) = r^p(s, o) + γ E_{T(s,o)} V^p``;
* the types of the code under test (``solver=``, ``meta=``, ``operator=``);
* :class:`Claim` (one row of the report) and the instance sizes and Hypothesis case helpers the
  families' case strategies are built from.

The registry itself (:data:`properties.claims.CLAIMS`) lives in :mod:`properties.claims`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from properties.results import PropertyResult
from solvers.backward_induction import SPESolution
from solvers.contracts import ContractSolution
from solvers.meta_algorithm import MetaAlgorithmResult
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import ZERO as _ZERO

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


def _fractions(values: Any) -> list[Fraction]:
    return [to_fraction(v) for v in np.asarray(values, dtype=object).ravel().tolist()]


def _exact_probs(model: PrincipalAgentMDP) -> list[list[list[Fraction]]]:
    probs: list[list[list[Fraction]]] = model.exact_data().outcome_probs.tolist()
    return probs


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


ContractSolver = Callable[..., ContractSolution]
SPESolver = Callable[[PrincipalAgentMDP], SPESolution]
MetaSolver = Callable[..., MetaAlgorithmResult]
Operator = Callable[..., FloatArray]


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
