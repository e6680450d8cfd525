"""Properties added to kill the mutants that survived the mutation run (docs/MUTATION.md).

``benchmarks/mutation.sh`` runs mutmut over ``theory/exact_contracts.py`` (every mutant) and a
fixed sample of ``solvers/contracts.py``, ``solvers/backward_induction.py`` and
``theory/spe.py``. Each test below states the property it checks and the surviving mutants
(mutmut names, ``<module>.<function>__mutmut_<n>``) it kills; docs/MUTATION.md lists them with
their diffs and the mutants classified as equivalent.

theory/exact_contracts.py
-------------------------
* :func:`test_exact_contract_records_its_inputs` — ``x__solve__mutmut_30`` (the b = 0 fast
  path recorded margin 0 instead of ξ).
* :func:`test_tampered_unimplementable_answers_are_refused` — ``violations__mutmut_57``,
  ``_59``, ``_60``, ``_61``, ``_62`` (``out +=`` → ``out =`` let an "unimplementable" answer
  with a non-zero contract or a set ``expected_payment`` verify) and the verdict-wording
  mutants ``verify__mutmut_2``, ``_4`` … ``_9``.
* :func:`test_tampered_implementable_answers_are_refused` — ``verify__mutmut_2``, ``_4`` …
  ``_7`` on the implementable side.
* :func:`test_single_action_cannot_be_unimplementable` — ``violations__mutmut_72``, ``_73``.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.exact_contracts import (
    CertificateError,
    ExactContract,
    minimal_contract_exact,
    minimal_contracts_exact_all_actions,
)

F = Fraction
State = tuple[list[Fraction], list[list[Fraction]]]


@st.composite
def one_state(draw: st.DrawFn, max_actions: int = 4, max_outcomes: int = 3) -> State:
    """One state's contract problem: 1–``max_actions`` actions, 2–``max_outcomes`` outcomes,
    distributions on the grid k/d (d ≤ 4, so identical rows and exact ties are common) and
    Q̄ on the grid k/4 in [−1, 1]."""
    n_a = draw(st.integers(1, max_actions))
    n_o = draw(st.integers(2, max_outcomes))
    d = draw(st.sampled_from([1, 2, 4]))
    probs: list[list[Fraction]] = []
    for _ in range(n_a):
        cuts = sorted(draw(st.lists(st.integers(0, d), min_size=n_o - 1, max_size=n_o - 1)))
        edges = [0, *cuts, d]
        probs.append([F(edges[k + 1] - edges[k], d) for k in range(n_o)])
    q = draw(st.lists(st.integers(-4, 4).map(lambda k: F(k, 4)), min_size=n_a, max_size=n_a))
    return q, probs


MARGINS = st.sampled_from([F(0), F(1, 8), F(1, 2)])


def _refusal(answer: ExactContract) -> str:
    """The message of the CertificateError that ``answer.verify()`` must raise."""
    with pytest.raises(CertificateError) as caught:
        answer.verify()
    return str(caught.value)


@settings(max_examples=60, deadline=None)
@given(one_state(), MARGINS)
def test_exact_contract_records_its_inputs(state: State, margin: Fraction) -> None:
    """An :class:`ExactContract` keeps the exact inputs it answers (its docstring: "kept so
    that verify() needs no arguments"): ``q_bar``, ``outcome_probs`` and ``margin`` equal
    the given ones on every path (the b = 0 shortcut, the simplex optimum, the Farkas case),
    so ``verify()`` checks the certificate of the LP that was asked, not of another one."""
    q, probs = state
    for answer in minimal_contracts_exact_all_actions(q, probs, margin):
        assert answer.q_bar == tuple(q)
        assert answer.outcome_probs == tuple(tuple(row) for row in probs)
        assert answer.margin == margin
        assert answer.verify()


@settings(max_examples=80, deadline=None)
@given(one_state(), MARGINS, st.integers(1, 4))
def test_tampered_unimplementable_answers_are_refused(
    state: State, margin: Fraction, pay: int
) -> None:
    """An unimplementable answer certifies that *no* contract implements ``a^p``, so it must
    pay nothing and state no expected payment (ExactContract docstring). Each of these edits
    of a correct unimplementable answer keeps its (valid) Farkas ray, and ``verify()`` must
    still refuse it with a :class:`CertificateError` whose message names the verdict under
    test ("(unimplementable)") and the offending field:

    * a non-zero contract (``pay`` on the first outcome) — the message names the contract;
    * ``expected_payment = 0`` — the message names ``expected_payment``.
    """
    q, probs = state
    for answer in minimal_contracts_exact_all_actions(q, probs, margin):
        if answer.implementable:
            continue
        assert answer.verify()
        paid = (F(pay), *answer.contract[1:])
        message = _refusal(dataclasses.replace(answer, contract=paid))
        assert "(unimplementable)" in message and "contract is not zero" in message
        message = _refusal(dataclasses.replace(answer, expected_payment=F(0)))
        assert "(unimplementable)" in message and "expected_payment is set" in message


@settings(max_examples=60, deadline=None)
@given(one_state(), MARGINS, st.integers(1, 4))
def test_tampered_implementable_answers_are_refused(
    state: State, margin: Fraction, extra: int
) -> None:
    """An implementable answer's ``expected_payment`` is ``E_{p_{a^p}}[b]`` exactly; raising it
    by ``extra`` must be refused, and the message names the verdict under test
    ("(implementable)") and ``expected_payment``."""
    q, probs = state
    for answer in minimal_contracts_exact_all_actions(q, probs, margin):
        if not answer.implementable:
            continue
        assert answer.expected_payment is not None
        wrong = dataclasses.replace(answer, expected_payment=answer.expected_payment + extra)
        message = _refusal(wrong)
        assert "(implementable)" in message and "expected_payment" in message


@pytest.mark.parametrize("q", [F(0), F(-3, 4), F(5)])
def test_single_action_cannot_be_unimplementable(q: Fraction) -> None:
    """With one action there is no incentive constraint, so (P) is feasible at b = 0 and no
    Farkas ray exists: a claim "unimplementable" is refused, saying there is no deviation."""
    answer = minimal_contract_exact([q], [[F(1, 2), F(1, 2)]], 0, margin=F(1, 8))
    assert answer.implementable and answer.expected_payment == 0 and answer.verify()
    claim = dataclasses.replace(answer, implementable=False, expected_payment=None)
    message = _refusal(claim)
    assert "unimplementable without any deviation" in message
