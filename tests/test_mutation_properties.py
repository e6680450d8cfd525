"""Properties added to kill the mutants that survived the mutation run (docs/MUTATION.md).

``benchmarks/mutation.sh`` runs mutmut over ``theory/exact_contracts.py`` (every mutant) and a
fixed 1-in-10 sample of ``solvers/contracts.py``, ``solvers/backward_induction.py`` and
``theory/spe.py``. Each test below states the property it checks; this list names the
surviving mutants (mutmut's ``<module>.<function>__mutmut_<n>``) each one kills.
docs/MUTATION.md shows the diffs and the mutants classified as equivalent.

theory/exact_contracts.py

* :func:`test_exact_contract_records_its_inputs` — ``x__solve__mutmut_30`` (the b = 0
  shortcut recorded margin 0 instead of ξ).
* :func:`test_tampered_unimplementable_answers_are_refused` — ``violations__mutmut_57``,
  ``59``, ``60``, ``61``, ``62`` (``out +=`` → ``out =`` let an "unimplementable" answer with
  a non-zero contract or a set ``expected_payment`` verify) and, through ``_refusal``,
  ``verify__mutmut_2``, ``4`` … ``9``, ``11``.
* :func:`test_tampered_implementable_answers_are_refused` — ``verify__mutmut_2``, ``4`` …
  ``7`` on the implementable side.
* :func:`test_single_action_cannot_be_unimplementable` — ``violations__mutmut_65``, ``72``,
  ``73``.
* :func:`test_malformed_problems_are_refused_naming_the_field` — ``x__inputs__mutmut_11`` …
  ``13``, ``19`` … ``21``, ``37``, ``38``.

theory/spe.py

* :func:`test_exact_spe_passes_every_offpath_probe` — ``x__solver_response__mutmut_7`` and
  ``x_check_spe__mutmut_63``, ``73``, ``293``, ``303``, ``313``, ``333``, ``393``.
* :func:`test_violations_are_well_formed_for_any_policy` — ``x_check_spe__mutmut_83``,
  ``113``, ``153``, ``183``, ``253``, ``283``, ``363``, ``373`` and
  ``Violation.to_dict__mutmut_4``, ``14``.
* :func:`test_offpath_response_and_offpath_gain_by_hand` — ``x_check_spe__mutmut_323``,
  ``353``, ``393``, ``403`` and ``x__contract_text__mutmut_6``.

solvers/backward_induction.py

* :func:`test_backward_induction_principal_rule_by_definition` —
  ``x__solve_exact__mutmut_146`` (no agent values for the agent tie rules) and
  ``x__solve_float__mutmut_13`` (object-dtype ``principal_q``).

solvers/contracts.py

* :func:`test_probability_tolerance_boundary_counts_as_identical` —
  ``x_two_outcome_closed_form__mutmut_45`` (``gap > τ_prob`` → ``>=``).
* :func:`test_batched_lp_passes_only_options_highs_knows` — ``x__phase_one__mutmut_29``,
  ``x__phase_two__mutmut_24`` (a misspelt HiGHS option is ignored with a warning).
"""

from __future__ import annotations

import dataclasses
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties.strategies import contracts, episodic_instances, instances
from solvers.contracts import batched_lp, minimal_contracts, two_outcome_closed_form
from solvers.solve import solve
from theory.exact_contracts import (
    CertificateError,
    ExactContract,
    minimal_contract_exact,
    minimal_contracts_exact_all_actions,
)
from theory.exact_evaluation import ExactPolicyData
from theory.generators import three_state_example
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import dot, format_rational
from theory.spe import CLAIMED_VALUE, OFF_PATH_RESPONSE, PRINCIPAL_DEVIATION, check_spe
from theory.ties import DEFAULT_TIES, EXACT_TIES, Ties

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
    """The message of the CertificateError that ``answer.verify()`` must raise: the verdict
    under test, then every violated condition (``violations()``), joined by "; "."""
    problems = answer.violations()
    assert problems and all(isinstance(p, str) for p in problems)
    with pytest.raises(CertificateError) as caught:
        answer.verify()
    verdict = "implementable" if answer.implementable else "unimplementable"
    expected = f"contract for action {answer.recommended} ({verdict}): " + "; ".join(problems)
    assert str(caught.value) == expected
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
    pay nothing and state no expected payment (ExactContract docstring). Each edit below of a
    correct unimplementable answer keeps its (valid) Farkas ray, and ``verify()`` must still
    refuse it with a :class:`CertificateError` stating the verdict and each broken condition:

    * a non-zero contract (``pay`` on the first outcome);
    * ``expected_payment = 0``;
    * both at once (two conditions, both reported).
    """
    q, probs = state
    for answer in minimal_contracts_exact_all_actions(q, probs, margin):
        if answer.implementable:
            continue
        assert answer.verify() and not answer.violations()
        paid = (F(pay), *answer.contract[1:])
        not_zero = f"unimplementable but the contract is not zero: {paid}"
        assert dataclasses.replace(answer, contract=paid).violations() == [not_zero]
        priced = dataclasses.replace(answer, expected_payment=F(0))
        assert priced.violations() == ["unimplementable but expected_payment is set"]
        both = dataclasses.replace(answer, contract=paid, expected_payment=F(0))
        assert both.violations() == [not_zero, "unimplementable but expected_payment is set"]
        for wrong in (priced, both):
            _refusal(wrong)


@settings(max_examples=60, deadline=None)
@given(one_state(), MARGINS, st.integers(1, 4))
def test_tampered_implementable_answers_are_refused(
    state: State, margin: Fraction, extra: int
) -> None:
    """An implementable answer's ``expected_payment`` is ``E_{p_{a^p}}[b]`` exactly; raising it
    by ``extra`` must be refused, naming the verdict ("(implementable)") and the claim."""
    q, probs = state
    for answer in minimal_contracts_exact_all_actions(q, probs, margin):
        if not answer.implementable:
            continue
        assert answer.expected_payment is not None
        wrong = dataclasses.replace(answer, expected_payment=answer.expected_payment + extra)
        assert "(implementable)" in _refusal(wrong)


@pytest.mark.parametrize("q", [F(0), F(-3, 4), F(5)])
def test_single_action_cannot_be_unimplementable(q: Fraction) -> None:
    """With one action there is no incentive constraint, so (P) is feasible at b = 0 and no
    Farkas ray exists: a claim "unimplementable" is refused with exactly that reason."""
    answer = minimal_contract_exact([q], [[F(1, 2), F(1, 2)]], 0, margin=F(1, 8))
    assert answer.implementable and answer.expected_payment == 0 and answer.verify()
    claim = dataclasses.replace(answer, implementable=False, expected_payment=None)
    assert claim.violations() == ["unimplementable without any deviation"]
    _refusal(claim)


@pytest.mark.parametrize(
    ("q_bar", "probs", "message"),
    [
        ([], [], "q_bar must have at least one action"),
        ([0], [[]], "outcome_probs must have at least one outcome"),
        (
            [0, 1],
            [[F(1, 2), F(1, 2)], [F(1, 3), F(1, 3)]],
            "outcome_probs[1] sums to 2/3, not exactly 1 (an exact solve of rounded "
            "distributions would answer another problem)",
        ),
    ],
)
def test_malformed_problems_are_refused_naming_the_field(
    q_bar: list[Any], probs: list[list[Any]], message: str
) -> None:
    """Hostile input (docs/FORMAT.md): an empty action set, an empty outcome set or a row that
    is not exactly a distribution is a ValueError whose whole message names the field."""
    with pytest.raises(ValueError) as caught:
        minimal_contract_exact(q_bar, probs, 0)
    assert str(caught.value) == message


# ------------------------------------------------------------------------------------------
# theory/spe.py
# ------------------------------------------------------------------------------------------

THREE = three_state_example()
RULES = ("lowest_index", "agent_best", "agent_worst")


@st.composite
def spe_and_offpath(draw: st.DrawFn) -> tuple[PrincipalAgentMDP, Any, list[tuple[int, Any]]]:
    """A small episodic instance, its exact SPE and 1–4 sampled off-path contracts."""
    model = draw(episodic_instances(max_states=3, max_actions=3, max_outcomes=3, exact=True))
    solution = solve(model, exact=True).solution
    n_o = model.n_outcomes
    offpath = draw(
        st.lists(
            st.tuples(st.integers(0, model.n_states - 1), contracts(n_o, max_payment=2)),
            min_size=1,
            max_size=4,
        )
    )
    return model, solution, [(s, [to_fraction(x) for x in b]) for s, b in offpath]


@settings(max_examples=40, deadline=None)
@given(spe_and_offpath(), st.sampled_from([DEFAULT_TIES, EXACT_TIES]))
def test_exact_spe_passes_every_offpath_probe(
    case: tuple[PrincipalAgentMDP, Any, list[tuple[int, Any]]], ties: Ties
) -> None:
    """Subgame perfection (PAPER.md §2): at the exact SPE no contract the principal could
    offer instead — in particular no sampled off-path contract, answered by the agent's exact
    best response with ties resolved for the principal — earns more than ``V^p(s)``, and the
    solver's own agent strategy (``argmax_a E_a[b] + Q̄(s, a)`` from its claimed Q̄, which is
    the true Q̄) loses nothing against the true best response. So :func:`check_spe` with the
    solution's claims and the probes reports no violation, under the default tolerances and
    strictly. Checking a subset of states gives exactly the full check's entries for them, and
    passing the pre-read :class:`ExactPolicyData` changes nothing."""
    model, solution, offpath = case
    claims = {
        "principal_values": solution.principal_values,
        "agent_values": solution.agent_values,
        "claimed_q_bar": solution.q_bar,
        "offpath": offpath,
    }
    full = check_spe(model, solution.recommended, solution.contracts, ties=ties, **claims)
    assert full.ok, [v.message for v in full.violations]
    some = sorted({s for s, _ in offpath})
    part = check_spe(
        model, solution.recommended, solution.contracts, ties=ties, states=some, **claims
    )
    assert part.states == tuple(full.states[s] for s in some)
    again = check_spe(
        model,
        solution.recommended,
        solution.contracts,
        ties=ties,
        data=ExactPolicyData(model),
        **claims,
    )
    assert again.states == full.states


@st.composite
def any_policy(draw: st.DrawFn) -> tuple[PrincipalAgentMDP, list[int], list[Any]]:
    """A small instance (episodic or discounted) and an arbitrary principal policy: a
    recommendation in {−1 (none), 0, …, A−1} and a non-negative grid contract per state."""
    model = draw(instances(max_states=3, max_actions=3, max_outcomes=3, exact=True))
    rec = draw(
        st.lists(
            st.integers(-1, model.n_actions - 1), min_size=model.n_states, max_size=model.n_states
        )
    )
    pay = [
        [to_fraction(x) for x in draw(contracts(model.n_outcomes, max_payment=2))]
        for _ in range(model.n_states)
    ]
    return model, rec, pay


@settings(max_examples=60, deadline=None)
@given(any_policy(), st.sampled_from([F(0), F(1, 100)]), st.integers(1, 3))
def test_violations_are_well_formed_for_any_policy(
    case: tuple[PrincipalAgentMDP, list[int], list[Any]], tol: Fraction, wrong: int
) -> None:
    """For any policy (module docstring of theory/spe.py and the Violation / StateCheck
    docstrings):

    * every violation's amount exceeds its tolerance (τ_a for not_followed, negative_payment,
      off_path_response and the agent's claims; τ_p for the others) — so a zero one-shot gain
      is never a ``principal_deviation``, whatever the recommendation;
    * it sits in its state's StateCheck and names that state (index and name);
    * ``to_dict`` carries kind, state name, index, message and the exact amount;
    * with no recommendation (−1) the follow deficit is 0; without a margin there is no nudge;
    * a claimed value off by ``wrong`` is a ``claimed_value`` violation of exactly that size
      whose message names the claim (``principal_value`` / ``agent_value``);
    * a ``principal_deviation`` from a one-shot deviation states the true ``V^p(s)``.
    """
    model, rec, pay = case
    ties = Ties(agent_tol=tol, principal_tol=tol)
    truth = check_spe(model, rec, pay, ties=ties)
    v_p = truth.evaluation.principal_values.tolist()
    v_a = truth.evaluation.agent_values.tolist()
    check = check_spe(
        model,
        rec,
        pay,
        ties=ties,
        principal_values=[v + wrong for v in v_p],
        agent_values=[v - wrong for v in v_a],
    )
    for s, state in enumerate(check.states):
        assert state.state == s and state.name == model.states[s]
        if rec[s] == -1:
            assert state.follow_deficit == 0
        assert state.nudge is None
        claimed = [v for v in state.violations if v.kind == CLAIMED_VALUE]
        assert sorted(v.message.split(" claimed ")[1].split(" ")[0] for v in claimed) == [
            "agent_value",
            "principal_value",
        ]
        assert all(v.amount == wrong for v in claimed)
        for v in state.violations:
            assert v.amount > tol and v.state == s and v.state_name == model.states[s]
            record = v.to_dict()
            assert record["kind"] == v.kind and record["index"] == s
            assert record["state"] == model.states[s] and record["message"] == v.message
            assert F(record["amount"]) == v.amount
            if v.kind == PRINCIPAL_DEVIATION and "by recommending" in v.message:
                assert f"against V^p = {format_rational(v_p[s])} " in v.message
    assert [v for v in check.violations if v.kind != CLAIMED_VALUE] == list(truth.violations)


def test_offpath_response_and_offpath_gain_by_hand() -> None:
    """PAPER.md §7 instance (three_state_example): at sL, Q̄ = r = (−4/5, 0),
    𝒪(aL) = (9/10, 1/10), 𝒪(aR) = (1/10, 9/10), r^p = (14/9, 0) and sL is terminal.

    * Solver's agent: with a claimed Q̄(sL) = (1, 0) the solver's agent answers the off-path
      contract b = 0 with aL (1 > 0), but the true utilities are (−4/5, 0): it loses 4/5 —
      an ``off_path_response`` of 4/5.
    * Off-path gain: the policy pays b(sL) = (2, 0), so V^p(sL) = 9/10 (14/9 − 2) = −2/5.
      Offering (1, 0) instead leaves the agent indifferent (aL: −4/5 + 9/10 = 1/10, aR:
      1/10), the tie goes to the principal: 9/10 (14/9 − 1) = 1/2, a gain of 1/2 + 2/5 = 9/10.
    """
    spe = [[1, 0]] * 3
    q_bar = [[F(-7, 10), F(1, 10)], [F(1), F(0)], [F(-4, 5), F(0)]]
    check = check_spe(
        THREE, [0, 0, 0], spe, ties=EXACT_TIES, claimed_q_bar=q_bar, offpath=[(1, [0, 0])]
    )
    found = [(v.kind, v.state, v.amount) for v in check.violations]
    assert (OFF_PATH_RESPONSE, 1, F(4, 5)) in found
    assert all(v.kind in (OFF_PATH_RESPONSE, CLAIMED_VALUE) for v in check.violations)
    over = check_spe(THREE, [0, 0, 0], [[1, 0], [2, 0], [1, 0]], offpath=[(1, [1, 0])])
    gains = [v for v in over.violations if v.kind == PRINCIPAL_DEVIATION]
    assert [(v.state, v.amount) for v in gains] == [(1, F(9, 10))]
    assert "(L: 1, R: 0)" in gains[0].message


# ------------------------------------------------------------------------------------------
# solvers/backward_induction.py
# ------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    episodic_instances(max_states=3, max_actions=3, max_outcomes=3, exact=True),
    st.sampled_from(RULES),
)
def test_backward_induction_principal_rule_by_definition(
    model: PrincipalAgentMDP, rule: str
) -> None:
    """Backward induction (module docstring of solvers/backward_induction.py), exact and float:
    ``a^p(s)`` maximises ``q(s, ·)`` over implementable actions; among exact maximisers the
    rule picks the lowest index (``lowest_index``) or, first, the largest (``agent_best``) or
    smallest (``agent_worst``) agent value ``Q̄(s, a) + E_{𝒪(s,a)}[b*(s, a)]``;
    ``V^p(s) = q(s, a^p)`` and ``V^a(s)`` is that agent value. Float mode returns float64
    arrays with ``−inf`` for unimplementable q (SPESolution docstring) and the same values
    within 1e−9."""
    ties = DEFAULT_TIES.with_(principal_rule=rule)
    exact = solve(model, exact=True, ties=ties).solution
    for s in range(model.n_states):
        ok = [a for a in range(model.n_actions) if exact.implementable[s, a]]
        q = {a: exact.principal_q[s, a] for a in ok}
        agent = {
            a: exact.q_bar[s, a]
            + dot(model.exact_data().outcome_probs[s][a], exact.contracts_all[s, a])
            for a in ok
        }
        best = max(q.values())
        tied = [a for a in ok if q[a] == best]
        if rule == "agent_best":
            top = max(agent[a] for a in tied)
            tied = [a for a in tied if agent[a] == top]
        elif rule == "agent_worst":
            low = min(agent[a] for a in tied)
            tied = [a for a in tied if agent[a] == low]
        assert exact.recommended[s] == tied[0]
        assert exact.principal_values[s] == best and exact.agent_values[s] == agent[tied[0]]
    fast = solve(model, exact=False, ties=ties).solution
    for array in (fast.principal_q, fast.q_bar, fast.principal_values, fast.agent_values):
        assert array.dtype == np.float64
    unimplementable = np.asarray(fast.principal_q[~fast.implementable], dtype=np.float64)
    assert np.all(np.isneginf(unimplementable))
    assert np.allclose(fast.principal_values, exact.principal_values.astype(float), atol=1e-9)
    assert np.allclose(fast.agent_values, exact.agent_values.astype(float), atol=1e-9)


# ------------------------------------------------------------------------------------------
# solvers/contracts.py
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_probability_tolerance_boundary_counts_as_identical(sign: int, method: str) -> None:
    """``|p_a − p_{a^p}|`` *up to* ``ties.probability_tol`` counts as equal probabilities
    (two_outcome_closed_form / batched_lp docstrings), so at exactly the tolerance the
    deviation is an identical action. Take τ_prob = 1/8 (exact in binary), P(o1 | a^p) = 1/4
    and P(o1 | a) = 1/4 − sign/8, so |gap| = 1/8 exactly, with Q̄(a) − Q̄(a^p) = 1 > 0: an
    identical action the agent prefers blocks a^p — unimplementable in both methods (reading
    the gap as real would pay d = ±8 instead). A third action (P(o1) = 1, or 0, and Q̄ = −10)
    keeps the general closed-form path (not the two-action shortcut) and never binds."""
    ties = DEFAULT_TIES.with_(probability_tol=F(1, 8))
    p_a = 0.25 - sign * 0.125
    far = 1.0 if sign == 1 else 0.0
    probs = np.array([[[0.75, 0.25], [1 - p_a, p_a], [1 - far, far]]])
    q_bar = np.array([[0.0, 1.0, -10.0]])
    result = minimal_contracts(q_bar, probs, np.array([0]), ties=ties, method=method)
    assert not result.implementable[0]
    assert np.isnan(result.expected_payment[0]) and not result.contracts[0].any()
    general = two_outcome_closed_form(q_bar, probs, np.array([0]), ties=ties, lean=False)
    assert not general.implementable[0]


def test_batched_lp_passes_only_options_highs_knows() -> None:
    """The LP phases ask HiGHS for feasibility tolerances of 1e−10; HiGHS must accept every
    option (scipy warns ``OptimizeWarning`` and silently uses its 1e−7 defaults for an
    unknown one). Three outcomes force both LP phases: PAPER.md §7-like Q̄ = (−4/5, 0, 0)
    with a^p = 0 must be paid, and an infeasible second problem exercises phase 1 alone."""
    probs = np.array(
        [
            [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]],
            [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        ]
    )
    q_bar = np.array([[-0.8, 0.0, 0.0], [0.0, 1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = batched_lp(q_bar, probs, np.array([0, 0]))
    assert result.implementable.tolist() == [True, False]
    # a^p = 0 against each deviation: 0.7 (b0 − b1) ≥ 0.8 and 0.7 (b0 − b2) ≥ 0.8, cheapest
    # b = (8/7, 0, 0) at cost 0.8 · 8/7 = 32/35
    assert result.expected_payment[0] == pytest.approx(32 / 35, abs=1e-9)
