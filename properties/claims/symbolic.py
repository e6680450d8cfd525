"""Claim family *symbolic*: sympy derivations checked against the numeric solvers (PAPER.md §1–2).

The derivations live in :mod:`properties.symbolic`; this module wraps them as claims. sympy is
slow to import, so :mod:`properties.symbolic` is imported when a check runs, not when the
registry is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import Claim, Draw
from properties.results import PropertyResult
from theory.model import PrincipalAgentMDP


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
    """:func:`properties.symbolic.check_symbolic_agreement` (imported lazily: sympy is slow to
    import)."""
    from properties.symbolic import check_symbolic_agreement

    return check_symbolic_agreement(model, parameter, values, **kwargs)


def check_kkt_proof(max_deviations: int = 3, **kwargs: Any) -> PropertyResult:
    """:func:`properties.symbolic.check_closed_form_proof` (a proof: no instances)."""
    from properties.symbolic import check_closed_form_proof

    return check_closed_form_proof(max_deviations=max_deviations, **kwargs)


SYMBOLIC_BACKWARD_INDUCTION = Claim(
    "symbolic-backward-induction",
    "backward induction is the piecewise expression sympy derives with γ or one reward symbolic",
    "§1 closed forms [D], §2",
    "sympy BI (2 outcomes or observed action) at 4 parameter values vs exact BI "
    "(exactly, incl. recommendations) and float BI (tol)",
    _symbolic_cases(),
    check_symbolic,
)
CLOSED_FORM_KKT = Claim(
    "closed-form-kkt",
    "the 2-outcome closed-form contract is the LP optimum",
    "§1 closed form [D]",
    "symbolic KKT/Farkas certificate for every case with ≤ 3 deviations "
    "(signs of Δ, binding ratio, region); a proof, not a sample",
    st.just({"max_deviations": 3}),
    check_kkt_proof,
)

__all__ = ["CLOSED_FORM_KKT", "SYMBOLIC_BACKWARD_INDUCTION", "check_kkt_proof", "check_symbolic"]
