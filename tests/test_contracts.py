"""Tests of the fast minimal-contract path, and agreement of the three implementations.

The minimal implementation of ``a^p`` (PAPER.md §1) is the LP

    min_{b ≥ 0} p_{a^p}·b   s.t.   (p_{a^p} − p_a)·b ≥ Q̄(a) − Q̄(a^p) + ξ   for all a ≠ a^p.

The first part checks :mod:`solvers.contracts` on cases derived by hand in the docstrings. The
second part (``test_agreement_*``) is the issue's "three implementations agree" check: the fast
vectorised path, the cvxpy reference (:mod:`solvers.contracts_reference`) and the exact rational
solver (:mod:`theory.exact_contracts`) on 10,000 seeded random states built to be degenerate
(small-denominator rationals, so ties are exact). Exact and fast run on all 10,000 states with
every action recommended in turn (about 40,000 problems; the fast path batched per shape);
cvxpy, at milliseconds per LP, runs on a seeded subset of 1,000 states. The last part holds
Hypothesis properties.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.contracts import (
    ContractSolution,
    best_response,
    minimal_contracts,
    minimal_contracts_all_actions,
    two_outcome_closed_form,
)
from solvers.contracts_reference import minimal_contract_cvxpy
from theory.exact_contracts import ExactContract, minimal_contracts_exact_all_actions
from theory.ties import Ties

FloatArray = npt.NDArray[np.float64]

#: Agreement tolerance of the issue ("float to 1e-9, exact vs float to 1e-9").
AGREEMENT_TOL = 1e-9
#: Incentive compatibility of a float contract is checked to this absolute tolerance.
IC_TOL = 1e-9

TENTH, NINE_TENTHS = 0.1, 0.9


def _ic_violation(
    q_bar: FloatArray, probs: FloatArray, contract: FloatArray, rec: int, margin: float = 0.0
) -> float:
    """Largest ``(E_a[b] + Q̄(a) + ξ) − (E_{a^p}[b] + Q̄(a^p))`` over ``a ≠ a^p`` (≤ 0 is IC)."""
    utility = probs @ contract + q_bar
    others = np.delete(utility, rec)
    return float(np.max(others + margin - utility[rec])) if others.size else -np.inf


# ------------------------------------------------------------------------------------------
# Hand-derived cases
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_three_state_example_s0_pays_one_on_L(method: str) -> None:
    """PAPER.md §7, state s0 (hidden action, γ = 1).

    sL and sR each give the agent 1/10 (PAPER.md §7), so Q̄(s0, aL) = −4/5 + 1/10 = −7/10 and
    Q̄(s0, aR) = 0 + 1/10 = 1/10. Implementing aL needs
    (9/10 − 1/10) b(L) + (1/10 − 9/10) b(R) ≥ 1/10 − (−7/10) = 4/5, i.e. b(L) − b(R) ≥ 1;
    the cheapest is b = (1, 0), costing 9/10·1 = 9/10. Implementing aR needs
    −(4/5)(b(L) − b(R)) ≥ −4/5, met by b = 0.
    """
    q = [-0.7, 0.1]
    probs = [[NINE_TENTHS, TENTH], [TENTH, NINE_TENTHS]]
    al = minimal_contracts(q, probs, 0, method=method)
    assert al.implementable
    np.testing.assert_allclose(al.contracts, [1.0, 0.0], atol=1e-12)
    assert al.expected_payment == pytest.approx(0.9, abs=1e-12)
    ar = minimal_contracts(q, probs, 1, method=method)
    assert ar.implementable
    np.testing.assert_allclose(ar.contracts, [0.0, 0.0], atol=1e-12)
    assert ar.expected_payment == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_three_state_example_leaf_pays_one_on_L(method: str) -> None:
    """PAPER.md §7, state sL: terminal, so Q̄ = r = (−4/5, 0).

    aL needs (4/5)(b(L) − b(R)) ≥ 4/5, so b = (1, 0) and the agent gets −4/5 + 9/10 = 1/10,
    the V^agent(sL) = 1/10 of the table.
    """
    q = np.array([-0.8, 0.0])
    probs = np.array([[NINE_TENTHS, TENTH], [TENTH, NINE_TENTHS]])
    sol = minimal_contracts(q, probs, 0, method=method)
    np.testing.assert_allclose(sol.contracts, [1.0, 0.0], atol=1e-12)
    assert float(probs[0] @ sol.contracts + q[0]) == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_closed_form_either_ordering_of_probabilities(method: str) -> None:
    """Swap the outcomes of the §7 example: 𝒪(aL) = (1/10, 9/10), 𝒪(aR) = (9/10, 1/10).

    Now aL makes the *second* outcome likely, so its minimal contract must pay there:
    (4/5)(b(o1) − b(o0)) ≥ 4/5 gives b = (0, 1), cost 9/10. A closed form that always paid on
    o1 of "the higher-p action" or always on o1 would get one of the orderings wrong.
    """
    q = [-0.7, 0.1]
    swapped = [[TENTH, NINE_TENTHS], [NINE_TENTHS, TENTH]]
    sol = minimal_contracts(q, swapped, 0, method=method)
    np.testing.assert_allclose(sol.contracts, [0.0, 1.0], atol=1e-12)
    assert sol.expected_payment == pytest.approx(0.9, abs=1e-12)
    original = [[NINE_TENTHS, TENTH], [TENTH, NINE_TENTHS]]
    sol = minimal_contracts(q, original, 0, method=method)
    np.testing.assert_allclose(sol.contracts, [1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_closed_form_recommended_in_the_middle(method: str) -> None:
    """Three actions with p = P(o1) = (1/5, 1/2, 4/5); recommend the middle one, a1.

    The constraints read (1/2 − 1/5) d ≥ Q̄(a0) − Q̄(a1) and (1/2 − 4/5) d ≥ Q̄(a2) − Q̄(a1)
    with d = b(o1) − b(o0). a1's distribution is the even mixture of a0's and a2's.

    * Q̄ = (0, −3/10, 0): d ≥ 1 and d ≤ −1: unimplementable (a mixture that is costlier).
    * Q̄ = (0, 0, 0): d = 0 works, with both constraints tight: the tie goes to a1.
    * Q̄ = (0, −3/10, −3/5): d ≥ 1 and d ≤ 1, so d = 1, b = (0, 1), cost 1/2.
    """
    probs = [[0.8, 0.2], [0.5, 0.5], [0.2, 0.8]]
    blocked = minimal_contracts([0.0, -0.3, 0.0], probs, 1, method=method)
    assert not blocked.implementable
    assert np.isnan(blocked.expected_payment)
    np.testing.assert_array_equal(blocked.contracts, [0.0, 0.0])
    tie = minimal_contracts([0.0, 0.0, 0.0], probs, 1, method=method)
    assert tie.implementable
    assert tie.expected_payment == pytest.approx(0.0, abs=1e-12)
    squeezed = minimal_contracts([0.0, -0.3, -0.6], probs, 1, method=method)
    assert squeezed.implementable
    np.testing.assert_allclose(squeezed.contracts, [0.0, 1.0], atol=1e-9)
    assert squeezed.expected_payment == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_identical_distributions_tie_rule_and_margin(method: str) -> None:
    """Two actions with the same distribution: the constraint is 0·b ≥ Q̄(a1) − Q̄(a0) + ξ.

    Equal Q̄ and ξ = 0 give 0 ≥ 0: implementable at zero cost (ties go to a^p, PAPER.md §1).
    A strictly better a1, or any margin ξ > 0, makes a0 unimplementable.
    """
    probs = [[0.3, 0.7], [0.3, 0.7]]
    assert minimal_contracts([0.5, 0.5], probs, 0, method=method).implementable
    assert not minimal_contracts([0.5, 0.75], probs, 0, method=method).implementable
    assert not minimal_contracts(
        [0.5, 0.5], probs, 0, method=method, ties=Ties(margin=0.125)
    ).implementable


@pytest.mark.parametrize("method", ["closed_form", "lp"])
def test_zero_probability_outcome_for_recommended(method: str) -> None:
    """p_{a^p} = P(o1 | a^p) = 0 < P(o1 | a1) = 1/2, Q̄ = (0, 1/4).

    Constraint: (0 − 1/2) d ≥ 1/4, so d ≤ −1/2: pay 1/2 on o0, which a^p makes certain;
    cost 1/2. (A closed form that only ever paid on o1 could not implement this.)
    """
    sol = minimal_contracts([0.0, 0.25], [[1.0, 0.0], [0.5, 0.5]], 0, method=method)
    assert sol.implementable
    np.testing.assert_allclose(sol.contracts, [0.5, 0.0], atol=1e-12)
    assert sol.expected_payment == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("margin", [0.0, 0.25])
def test_observed_action_pays_max_minus_own(margin: float) -> None:
    """Observed action (PAPER.md §1): outcomes are actions, 𝒪(s, a) = δ_a.

    The constraint for a ≠ a^p is b(a^p) − b(a) ≥ Q̄(a) − Q̄(a^p) + ξ; b(a) = 0 off a^p is
    optimal, so b(a^p) = max(0, max_{a≠a^p} Q̄(a) − Q̄(a^p) + ξ). With ξ = 0 that is
    max_a Q̄(a) − Q̄(a^p) (PAPER.md §1, "Observed action"). Q̄ = (0, 1/2, −1, 1/2).
    """
    q = np.array([0.0, 0.5, -1.0, 0.5])
    eye = np.eye(4)
    sol = minimal_contracts_all_actions(q[None], eye[None], ties=Ties(margin=margin))
    for a in range(4):
        expected = max(0.0, float(np.max(np.delete(q, a))) - q[a] + margin)
        want = np.zeros(4)
        want[a] = expected
        assert sol.implementable[0, a]
        np.testing.assert_allclose(sol.contracts[0, a], want, atol=1e-12)
        assert sol.expected_payment[0, a] == pytest.approx(expected, abs=1e-12)
    # with ξ = 0 the agent then earns max_a Q̄(a) whatever is recommended
    agent_value = sol.expected_payment[0] + q
    if margin == 0.0:
        np.testing.assert_allclose(agent_value, q.max(), atol=1e-12)


def test_single_action_needs_no_payment() -> None:
    """With one action there is no incentive constraint: b = 0 (both methods)."""
    for method, n_o in (("closed_form", 2), ("lp", 3)):
        probs = np.full((1, n_o), 1.0 / n_o)
        sol = minimal_contracts([5.0], probs, 0, method=method)
        assert sol.implementable
        np.testing.assert_array_equal(sol.contracts, np.zeros(n_o))


def test_shapes_and_batch_of_zero() -> None:
    """Single-state calls give (O,) contracts and scalars; a batch of 0 states gives empty
    arrays; ``minimal_contracts_all_actions`` gives (M, A, ...)."""
    single = minimal_contracts([0.0, 1.0], [[0.5, 0.5], [0.0, 1.0]], 1)
    assert single.contracts.shape == (2,)
    assert np.ndim(single.implementable) == 0 and np.ndim(single.expected_payment) == 0
    empty = minimal_contracts(np.zeros((0, 3)), np.zeros((0, 3, 4)), np.zeros(0, dtype=int))
    assert empty.contracts.shape == (0, 4) and empty.implementable.shape == (0,)
    every = minimal_contracts_all_actions(np.zeros((5, 3)), np.full((5, 3, 4), 0.25))
    assert every.contracts.shape == (5, 3, 4) and every.implementable.shape == (5, 3)


def test_input_errors() -> None:
    """Bad shapes, indices, margins and methods are rejected with a message saying what."""
    probs = [[0.5, 0.5], [0.2, 0.8]]
    with pytest.raises(ValueError, match="shapes do not match"):
        minimal_contracts([0.0, 1.0, 2.0], probs, 0)
    with pytest.raises(ValueError, match="out of range"):
        minimal_contracts([0.0, 1.0], probs, 2)
    with pytest.raises(ValueError, match="margin"):
        minimal_contracts([0.0, 1.0], probs, 0, ties=Ties(margin=-0.1))
    with pytest.raises(ValueError, match="unknown method"):
        minimal_contracts([0.0, 1.0], probs, 0, method="simplex")
    with pytest.raises(ValueError, match="needs 2 outcomes"):
        minimal_contracts([0.0, 1.0], [[0.5, 0.25, 0.25], [0.2, 0.4, 0.4]], 0, method="closed_form")


def test_best_response_ties_go_to_the_recommendation() -> None:
    """π(s, b) = argmax_a E_{𝒪(s,a)}[b] + Q̄(s, a), ties to a^p when a^p is a maximiser
    (PAPER.md §1), else to the lowest index.

    §7 s0 with b = (1, 0): aL gets 9/10 − 7/10 = 1/5 and aR gets 1/10 + 1/10 = 1/5: a tie.
    """
    q = np.array([[-0.7, 0.1]] * 3)
    probs = np.array([[[0.9, 0.1], [0.1, 0.9]]] * 3)
    pay = np.array([[1.0, 0.0]] * 3)
    np.testing.assert_array_equal(best_response(q, probs, pay, [0, 1, -1]), [0, 1, 0])
    np.testing.assert_array_equal(best_response(q, probs, pay), [0, 0, 0])
    pay_less = pay * 0.99  # aR strictly better now
    np.testing.assert_array_equal(best_response(q, probs, pay_less, [0, 0, 0]), [1, 1, 1])


# ------------------------------------------------------------------------------------------
# Agreement of the three implementations on 10,000 degenerate random states
# ------------------------------------------------------------------------------------------

N_STATES = 10_000
N_CVXPY = 1_000
SEED = 20_240_725
_MIX_WEIGHTS = (Fraction(1, 2), Fraction(1, 3), Fraction(2, 3))
_MIX_OFFSETS = (Fraction(-1, 4), Fraction(0), Fraction(0), Fraction(1, 4))


@dataclass(frozen=True)
class RandomState:
    """One random state: exact data, the nudging margin and how each action was built."""

    q_bar: tuple[Fraction, ...]
    outcome_probs: tuple[tuple[Fraction, ...], ...]
    margin: Fraction
    q_kind: str  # "zero" (no costs), "equal" (all Q̄ tied) or "grid"
    action_kinds: tuple[str, ...]  # per action, see random_state


def _random_distribution(rng: np.random.Generator, n_o: int) -> tuple[str, list[Fraction]]:
    if rng.random() < 0.15:
        point = [Fraction(0)] * n_o
        point[int(rng.integers(n_o))] = Fraction(1)
        return "point", point
    denominator = int(rng.choice([2, 3, 4, 6]))
    counts = rng.multinomial(denominator, rng.dirichlet(np.full(n_o, 0.7)))
    return "grid", [Fraction(int(c), denominator) for c in counts]


def random_state(rng: np.random.Generator) -> RandomState:
    """A random state with 2–6 actions and 2–6 outcomes, built to be degenerate.

    Everything is a small-denominator rational, so exact ties are real ties:

    * Q̄ on the grid k/4, |k| ≤ 6 (many ties between actions); 10% of states have all
      Q̄ = 0 ("zero costs") and 10% all Q̄ equal;
    * distributions on the grids k/2, k/3, k/4, k/6 (Dirichlet-weighted, so outcomes of
      probability zero are common), 15% point masses;
    * 20% of actions *copy* an earlier action's distribution (identical distributions; half of
      them also copy its Q̄: an exact tie, "copy_tie");
    * 20% of actions are a *mixture* w·p_{a1} + (1−w)·p_{a2} of two earlier actions with
      w ∈ {1/2, 1/3, 2/3} and Q̄ = w Q̄(a1) + (1−w) Q̄(a2) + δ, δ ∈ {−1/4, 0, 0, 1/4}: with
      δ < 0 the action is unimplementable, with δ = 0 ("mixture_tie") it is exactly on the
      boundary (implementable only because ties go to the recommended action);
    * 5% of states are observed-action states (O = A, 𝒪(s, a) = δ_a);
    * 20% of states carry a nudging margin ξ ∈ {1/8, 1/4}.

    Actions are shuffled so that copies and mixtures are not always last.
    """
    n_a, n_o = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    u = rng.random()
    if u < 0.1:
        q_kind, q = "zero", [Fraction(0)] * n_a
    elif u < 0.2:
        q_kind, q = "equal", [Fraction(int(rng.integers(-4, 5)), 4)] * n_a
    else:
        q_kind, q = "grid", [Fraction(int(k), 4) for k in rng.integers(-6, 7, n_a)]
    probs: list[list[Fraction]] = []
    kinds: list[str] = []
    if rng.random() < 0.05:
        n_o = n_a
        probs = [[Fraction(int(i == j)) for j in range(n_a)] for i in range(n_a)]
        kinds = ["observed"] * n_a
    else:
        for a in range(n_a):
            r = rng.random()
            if a >= 1 and r < 0.2:
                source = int(rng.integers(a))
                probs.append(list(probs[source]))
                if rng.random() < 0.5:
                    q[a] = q[source]
                    kinds.append("copy_tie")
                else:
                    kinds.append("copy")
            elif a >= 2 and r < 0.4:
                a1, a2 = (int(i) for i in rng.choice(a, 2, replace=False))
                w = _MIX_WEIGHTS[int(rng.integers(3))]
                probs.append(
                    [w * x + (1 - w) * y for x, y in zip(probs[a1], probs[a2], strict=True)]
                )
                offset = _MIX_OFFSETS[int(rng.integers(4))]
                q[a] = w * q[a1] + (1 - w) * q[a2] + offset
                kinds.append("mixture_tie" if offset == 0 else "mixture")
            else:
                kind, dist = _random_distribution(rng, n_o)
                probs.append(dist)
                kinds.append(kind)
        order = rng.permutation(n_a)
        probs, q, kinds = (
            [probs[i] for i in order],
            [q[i] for i in order],
            [kinds[i] for i in order],
        )
    margin = (
        Fraction(0)
        if rng.random() < 0.8
        else (Fraction(1, 8), Fraction(1, 4))[int(rng.integers(2))]
    )
    return RandomState(tuple(q), tuple(tuple(row) for row in probs), margin, q_kind, tuple(kinds))


@dataclass(frozen=True)
class Corpus:
    """The random states with every action's exact and fast answers.

    ``fast[i]`` is the fast path's :class:`ContractSolution` for state ``i`` with arrays of
    shape ``(A,)`` / ``(A, O)`` (one entry per recommended action).
    """

    states: list[RandomState]
    exact: list[list[ExactContract]]
    fast: list[ContractSolution]
    two_outcome_lp: dict[int, ContractSolution]


def _floats(state: RandomState) -> tuple[FloatArray, FloatArray]:
    return (
        np.array([float(v) for v in state.q_bar]),
        np.array([[float(v) for v in row] for row in state.outcome_probs]),
    )


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """10,000 seeded states; exact answers for every (state, action); fast path batched.

    The fast path runs batched: the states are grouped by (|A|, |O|, ξ) (arrays in one call
    must share a shape and the margin is one scalar per call), and each group — hundreds of
    states, every action recommended in turn — is one :func:`minimal_contracts_all_actions`
    call (closed form when |O| = 2, one stacked HiGHS LP per phase otherwise). The exact
    solver runs on every (state, action) pair, about 40,000 LPs.
    """
    rng = np.random.default_rng(SEED)
    states = [random_state(rng) for _ in range(N_STATES)]
    exact = [
        minimal_contracts_exact_all_actions(s.q_bar, s.outcome_probs, s.margin) for s in states
    ]
    groups: dict[tuple[int, int, Fraction], list[int]] = {}
    for i, s in enumerate(states):
        groups.setdefault((len(s.q_bar), len(s.outcome_probs[0]), s.margin), []).append(i)
    fast: list[ContractSolution | None] = [None] * N_STATES
    two_outcome_lp: dict[int, ContractSolution] = {}
    for (_, n_o, margin), members in groups.items():
        floats = [_floats(states[i]) for i in members]
        q = np.stack([f[0] for f in floats])
        probs = np.stack([f[1] for f in floats])
        sol = minimal_contracts_all_actions(q, probs, ties=Ties(margin=float(margin)))
        for k, i in enumerate(members):
            fast[i] = ContractSolution(
                sol.contracts[k], sol.implementable[k], sol.expected_payment[k]
            )
        if n_o == 2:  # the same problems through the batched LP, to compare with the closed form
            lp = minimal_contracts_all_actions(
                q, probs, ties=Ties(margin=float(margin)), method="lp"
            )
            for k, i in enumerate(members):
                two_outcome_lp[i] = ContractSolution(
                    lp.contracts[k], lp.implementable[k], lp.expected_payment[k]
                )
    assert all(f is not None for f in fast)
    return Corpus(states, exact, [f for f in fast if f is not None], two_outcome_lp)


def test_agreement_corpus_covers_the_degenerate_cases(corpus: Corpus) -> None:
    """The corpus really contains what the agreement claim is about (counts are for the
    seeded corpus; the thresholds are far below the expected numbers): every size 2–6 × 2–6,
    zero costs, identical distributions, exact ties, zero-probability outcomes, observed
    action, margins, unimplementable actions and boundary cases that are implementable only
    by the tie rule."""
    sizes = Counter((len(s.q_bar), len(s.outcome_probs[0])) for s in corpus.states)
    assert set(sizes) == {(a, o) for a in range(2, 7) for o in range(2, 7)}
    q_kinds = Counter(s.q_kind for s in corpus.states)
    assert q_kinds["zero"] >= 500 and q_kinds["equal"] >= 500
    assert sum(s.margin > 0 for s in corpus.states) >= 1000
    assert sum(s.action_kinds[0] == "observed" for s in corpus.states) >= 200
    problems = [
        (s, e) for s, answers in zip(corpus.states, corpus.exact, strict=True) for e in answers
    ]
    assert len(problems) >= 4 * N_STATES - 1000
    rec_kind = Counter(s.action_kinds[e.recommended] for s, e in problems)
    assert rec_kind["copy"] >= 1000 and rec_kind["copy_tie"] >= 1000
    assert rec_kind["mixture"] >= 1000 and rec_kind["point"] >= 1000
    unimplementable = sum(not e.implementable for _, e in problems)
    assert unimplementable >= 4000
    zero_outcome = sum(any(p == 0 for p in s.outcome_probs[e.recommended]) for s, e in problems)
    assert zero_outcome >= 10_000
    # a deviation with the same distribution and the same Q̄ (0·b ≥ 0): the tie decides
    identical_tie = sum(
        1
        for s, e in problems
        if s.margin == 0
        and e.implementable
        and any(
            a != e.recommended
            and s.outcome_probs[a] == s.outcome_probs[e.recommended]
            and s.q_bar[a] == s.q_bar[e.recommended]
            for a in range(len(s.q_bar))
        )
    )
    assert identical_tie >= 1000
    # a^p is a mixture of other actions with exactly the mixed Q̄: implementable only by the
    # tie rule; any ξ > 0 would make it unimplementable
    boundary = [
        e for s, e in problems if s.action_kinds[e.recommended] == "mixture_tie" and s.margin == 0
    ]
    assert sum(e.implementable for e in boundary) >= 300
    assert sum(e.implementable and e.expected_payment == 0 for _, e in problems) >= 5000
    assert sum(e.implementable and (e.expected_payment or 0) > 0 for _, e in problems) >= 5000


def test_agreement_exact_certificates_verify(corpus: Corpus) -> None:
    """Every exact answer (≈ 40,000) carries a certificate that checks exactly: dual
    multipliers proving optimality, or Farkas multipliers proving unimplementability."""
    for answers in corpus.exact:
        for answer in answers:
            assert answer.verify()


def test_agreement_fast_path_matches_exact(corpus: Corpus) -> None:
    """Fast path vs exact on all 10,000 states and every recommended action: identical
    implementability, expected payment within 1e-9, contract non-negative and incentive
    compatible within 1e-9 (on the float data), and the agent's best response to it (ties to
    a^p) is a^p."""
    for state, answers, fast in zip(corpus.states, corpus.exact, corpus.fast, strict=True):
        q, probs = _floats(state)
        margin = float(state.margin)
        for a, exact in enumerate(answers):
            assert bool(fast.implementable[a]) == exact.implementable, (state, a)
            contract = fast.contracts[a]
            if not exact.implementable:
                assert np.isnan(fast.expected_payment[a])
                continue
            assert exact.expected_payment is not None
            assert abs(fast.expected_payment[a] - float(exact.expected_payment)) <= AGREEMENT_TOL, (
                state,
                a,
            )
            assert np.all(contract >= 0.0), (state, a)
            assert _ic_violation(q, probs, contract, a, margin) <= IC_TOL, (state, a)
            assert (
                best_response(
                    q[None], probs[None], contract[None], [a], ties=Ties(agent_tol=IC_TOL)
                )[0]
                == a
            )


def test_agreement_two_outcome_contract_is_unique(corpus: Corpus) -> None:
    """|O| = 2 and 0 < p_{a^p}(o1) < 1: the cheapest contract is unique (pay on one outcome
    only, the smallest admissible d = b(o1) − b(o0) in absolute value), so the closed form,
    the batched LP and the exact vertex must give the same vector, not just the same cost."""
    checked = 0
    for i, lp in corpus.two_outcome_lp.items():
        state, answers, fast = corpus.states[i], corpus.exact[i], corpus.fast[i]
        np.testing.assert_array_equal(lp.implementable, fast.implementable)
        for a, exact in enumerate(answers):
            if exact.implementable and 0 < state.outcome_probs[a][1] < 1:
                want = np.array([float(v) for v in exact.contract])
                np.testing.assert_allclose(fast.contracts[a], want, atol=AGREEMENT_TOL, rtol=0)
                np.testing.assert_allclose(lp.contracts[a], want, atol=AGREEMENT_TOL, rtol=0)
                checked += 1
    assert len(corpus.two_outcome_lp) >= 1500 and checked >= 1500


def test_agreement_cvxpy_reference_on_seeded_subset(corpus: Corpus) -> None:
    """cvxpy (HiGHS) on a seeded subset of 1,000 of the 10,000 states, one seeded recommended
    action each (cvxpy costs milliseconds per LP): identical implementability with the exact
    and the fast answers, expected payment within 1e-9 of both, contract non-negative and
    incentive compatible within 1e-9."""
    rng = np.random.default_rng(SEED + 1)
    subset = rng.choice(N_STATES, size=N_CVXPY, replace=False)
    kinds: Counter[str] = Counter()
    for i in subset:
        state = corpus.states[int(i)]
        a = int(rng.integers(len(state.q_bar)))
        q, probs = _floats(state)
        ref = minimal_contract_cvxpy(q, probs, a, margin=float(state.margin))
        exact, fast = corpus.exact[int(i)][a], corpus.fast[int(i)]
        assert bool(ref.implementable) == exact.implementable == bool(fast.implementable[a]), (
            state,
            a,
        )
        kinds["implementable" if exact.implementable else "unimplementable"] += 1
        if exact.implementable:
            assert exact.expected_payment is not None
            assert (
                abs(float(ref.expected_payment) - float(exact.expected_payment)) <= AGREEMENT_TOL
            ), (state, a)
            assert (
                abs(float(ref.expected_payment) - float(fast.expected_payment[a])) <= AGREEMENT_TOL
            ), (state, a)
            assert np.all(ref.contracts >= 0.0)
            assert _ic_violation(q, probs, ref.contracts, a, float(state.margin)) <= IC_TOL
        else:
            assert np.isnan(ref.expected_payment)
            np.testing.assert_array_equal(ref.contracts, 0.0)
    assert kinds["implementable"] >= 500 and kinds["unimplementable"] >= 100


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------

_GRID = st.integers(-6, 6).map(lambda k: Fraction(k, 4))


@st.composite
def _small_states(draw: st.DrawFn) -> tuple[list[Fraction], list[list[Fraction]]]:
    n_a = draw(st.integers(1, 5))
    n_o = draw(st.integers(2, 5))
    denominator = draw(st.sampled_from([1, 2, 3, 4, 6]))
    probs = []
    for _ in range(n_a):
        cuts = sorted(
            draw(st.lists(st.integers(0, denominator), min_size=n_o - 1, max_size=n_o - 1))
        )
        edges = [0, *cuts, denominator]
        probs.append([Fraction(edges[k + 1] - edges[k], denominator) for k in range(n_o)])
    q = draw(st.lists(_GRID, min_size=n_a, max_size=n_a))
    return q, probs


@settings(max_examples=150, deadline=None)
@given(
    _small_states(),
    st.sampled_from([Fraction(0), Fraction(1, 8)]),
    st.sampled_from(["closed_form", "lp"]),
)
def test_property_fast_path_matches_exact(
    state: tuple[list[Fraction], list[list[Fraction]]], margin: Fraction, method: str
) -> None:
    """On any small rational state, the fast path (closed form when |O| = 2, else LP) agrees
    with the exact solver on implementability and cost (1e-9), for every action."""
    q, probs = state
    if method == "closed_form" and len(probs[0]) != 2:
        method = "lp"
    qf = np.array([[float(v) for v in q]])
    pf = np.array([[[float(v) for v in row] for row in probs]])
    fast = minimal_contracts_all_actions(qf, pf, ties=Ties(margin=float(margin)), method=method)
    for a, exact in enumerate(minimal_contracts_exact_all_actions(q, probs, margin)):
        assert bool(fast.implementable[0, a]) == exact.implementable
        if exact.implementable:
            assert exact.expected_payment is not None
            assert abs(fast.expected_payment[0, a] - float(exact.expected_payment)) <= AGREEMENT_TOL


@settings(max_examples=100, deadline=None)
@given(_small_states(), _GRID)
def test_property_shifting_q_bar_changes_nothing(
    state: tuple[list[Fraction], list[list[Fraction]]], shift: Fraction
) -> None:
    """Only differences Q̄(a) − Q̄(a^p) enter the LP, so adding a constant to every Q̄ leaves
    implementability and cost unchanged (PAPER.md §1)."""
    q, probs = state
    qf = np.array([[float(v) for v in q]])
    pf = np.array([[[float(v) for v in row] for row in probs]])
    base = minimal_contracts_all_actions(qf, pf)
    moved = minimal_contracts_all_actions(qf + float(shift), pf)
    np.testing.assert_array_equal(base.implementable, moved.implementable)
    np.testing.assert_allclose(base.expected_payment, moved.expected_payment, atol=1e-9)


def test_two_outcome_closed_form_direct_call() -> None:
    """The closed form called directly on a batch equals the LP path on the same batch
    (the §7 example in both outcome orders, and the middle-action example)."""
    q = np.array([[-0.7, 0.1, -5.0], [0.1, -0.7, -5.0], [0.0, -0.3, -0.6]])
    probs = np.array(
        [
            [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]],
            [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]],
            [[0.8, 0.2], [0.5, 0.5], [0.2, 0.8]],
        ]
    )
    rec = np.array([0, 1, 1])
    closed = two_outcome_closed_form(q, probs, rec)
    lp = minimal_contracts(q, probs, rec, method="lp")
    np.testing.assert_array_equal(closed.implementable, lp.implementable)
    np.testing.assert_allclose(closed.contracts, lp.contracts, atol=1e-9)
    np.testing.assert_allclose(closed.contracts, [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], atol=1e-9)


def test_closed_form_near_identical_irrelevant_action_does_not_loosen_feasibility():
    """Regression (review): the tolerance must be applied per constraint, not scaled by the
    smallest probability gap. Action a1's distribution is within 1e-11 of a^p = a0's but it is
    irrelevant (Q̄ = −100); a2 (p = 0.1, Q̄ = 0.8) forces d ≥ 0.8/0.4 = 2 while a3 (p = 0.9,
    Q̄ = −0.4) allows d ≤ −0.4/−0.4 = 1. The interval is empty: a0 is unimplementable (with
    d = 2 the agent gets 1.0 from a0 but 1.4 from a3)."""
    probs = [[0.5, 0.5], [0.5 - 1e-11, 0.5 + 1e-11], [0.9, 0.1], [0.1, 0.9]]
    q_bar = [0.0, -100.0, 0.8, -0.4]
    for method in ("closed_form", "lp"):
        result = minimal_contracts(q_bar, probs, 0, method=method)
        assert not bool(result.implementable), method


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_two_action_lean_path_is_bitwise_the_general_closed_form(seed: int) -> None:
    """The two-action short path (the deep backend's hot path) computes the same numbers by
    the same operations as the general closed form: compared bit for bit, including ties
    (equal probabilities, zero gaps), margins and unimplementable rows."""
    rng = np.random.default_rng(seed)
    m = 64
    q = rng.normal(size=(m, 2)).round(rng.integers(0, 3))
    p1 = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=(m, 2))
    p1[::7, 1] = p1[::7, 0]  # identical outcome distributions
    probs = np.stack([1.0 - p1, p1], axis=2)
    rec = rng.integers(0, 2, size=m)
    for margin in (0.0, 0.01):
        lean = two_outcome_closed_form(q, probs, rec, ties=Ties(margin=margin))
        general = two_outcome_closed_form(q, probs, rec, ties=Ties(margin=margin), lean=False)
        np.testing.assert_array_equal(lean.implementable, general.implementable)
        assert lean.contracts.tobytes() == general.contracts.tobytes()
        assert lean.expected_payment.tobytes() == general.expected_payment.tobytes()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused(bad: float) -> None:
    """A NaN agent value would pass every incentive comparison and read as "implementable,
    pays 0"; non-finite values and margins are refused with the field named."""
    probs = [[0.9, 0.1], [0.1, 0.9]]
    with pytest.raises(ValueError, match="q_bar"):
        minimal_contracts([0.0, bad], probs, 1)
    with pytest.raises(ValueError, match="margin"):
        minimal_contracts([0.0, -0.8], probs, 1, ties=Ties(margin=bad))
