"""Tests of the commitment optimum (solvers/commitment.py) and its claim
(properties/claims/commitment.py)."""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from claims_helpers import REGRESSIONS, THREE

from properties.claims.commitment import check_commitment
from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.commitment import (
    MAX_COMMITMENT_PROFILES,
    check_commitment_size,
    commitment_optimum,
    commitment_policy,
    commitment_profiles,
)
from theory.exact_lp import solve_exact_lp
from theory.format import solution_from_dict, solution_to_dict, validate_against_schema
from theory.generators import paper_tree, random_instance
from theory.model import PrincipalAgentMDP, build_model


def test_commitment_beats_spe_on_the_three_state_example():
    result = check_commitment(THREE)
    assert result.holds, result.explain()
    assert result.measurements["gap"] == pytest.approx(1 / 18)


@pytest.mark.parametrize(
    "broken", ["no limited liability", "myopic agent", "SPE value without its payment"]
)
def test_commitment_catches_planted_errors(broken):
    model = THREE
    kwargs: dict[str, Any] = {}
    if broken == "no limited liability":
        kwargs["commitment"] = functools.partial(commitment_optimum, limited_liability=False)
    elif broken == "myopic agent":
        model = random_instance(3, 2, 2, seed=6)
        kwargs["commitment"] = functools.partial(commitment_optimum, myopic_agent=True)
    else:

        def overstated(m: PrincipalAgentMDP) -> SPESolution:
            solution = solve_backward_induction(m)
            paid = np.einsum(
                "so,so->s",
                m.outcome_probs[np.arange(m.n_states), solution.recommended],
                solution.contracts,
            )
            return replace(solution, principal_values=solution.principal_values + paid)

        kwargs["spe_solver"] = overstated
    assert not check_commitment(model, **kwargs).holds


def test_commitment_gap_witness():
    """The thorough run's largest commitment gap: SPE < commitment optimum, strictly."""
    from theory.format import load_instance

    result = check_commitment(load_instance(REGRESSIONS / "commitment-vs-spe.witness.json"))
    assert result.holds and result.measurements["gap"] > 1e-3


# ------------------------------------------------------- an independent exact brute force
def exact_commitment_value(model: PrincipalAgentMDP) -> tuple[Fraction, tuple[int, ...]]:
    """The commitment optimum by a second, independent method: exact rationals throughout.

    For every profile ``g`` on the reachable states, the agent's value ``V`` and the
    principal's value ``U`` are eliminated as affine functions of the payments ``b`` (by
    recursion from the leaves: ``V(s) = r(s, g) + Σ_o p(s, g, o)[b(s, o) + γ E V(s')]``, the
    same for ``U`` with ``r^p − b``), so the LP has the payments as its only variables; the
    one-shot-deviation constraints ``V(s) ≥ r(s, a) + Σ_o p(s, a, o)[b(s, o) + γ E V(s')]``
    become ``A b ≥ c`` and the exact simplex of :mod:`theory.exact_lp` maximises ``U(s0)``.
    Unlike :func:`solvers.commitment.commitment_optimum` it uses no float LP, no ``V``
    variables, no occupancy measure and no stacking. Returns ``(C, best profile)``.
    """
    data = model.exact_data()
    gamma = data.discount
    n_o, n_a = model.n_outcomes, model.n_actions
    heights = model.heights
    assert heights is not None
    states = [s for s in range(model.n_states) if model.reachable[s]]
    order = sorted(states, key=lambda s: int(heights[s]))  # successors first
    column = {(s, o): k for k, (s, o) in enumerate((s, o) for s in states for o in range(n_o))}
    zero = [Fraction(0)] * len(column)
    offsets, nxt = model.transition_offsets.tolist(), model.transition_next.tolist()
    tprob = data.transition_prob.tolist()
    Affine = tuple[list[Fraction], Fraction]

    def step(s: int, a: int, values: dict[int, Affine], reward: Fraction, sign: int) -> Affine:
        coef, const = list(zero), reward
        for o in range(n_o):
            p = data.outcome_probs[s, a, o]
            coef[column[s, o]] += sign * p
            for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1]):
                v_coef, v_const = values[nxt[k]]
                coef = [x + p * gamma * tprob[k] * y for x, y in zip(coef, v_coef, strict=True)]
                const += p * gamma * tprob[k] * v_const
        return coef, const

    best: tuple[Fraction, tuple[int, ...]] | None = None
    for profile in itertools.product(range(n_a), repeat=len(states)):
        rec = dict(zip(states, profile, strict=True))
        agent: dict[int, Affine] = {}
        principal: dict[int, Affine] = {}
        for s in order:
            agent[s] = step(s, rec[s], agent, data.agent_reward[s, rec[s]], +1)
            expected_reward = sum(
                (
                    data.outcome_probs[s, rec[s], o] * data.principal_reward[s, o]
                    for o in range(n_o)
                ),
                Fraction(0),
            )
            principal[s] = step(s, rec[s], principal, expected_reward, -1)
        rows, rhs = [], []
        for s in states:
            for a in range(n_a):
                if a != rec[s]:
                    d_coef, d_const = step(s, a, agent, data.agent_reward[s, a], +1)
                    rows.append([x - y for x, y in zip(agent[s][0], d_coef, strict=True)])
                    rhs.append(d_const - agent[s][1])
        u_coef, u_const = principal[model.initial_state]
        lp = solve_exact_lp([-x for x in u_coef], rows, rhs)
        if lp.status == "infeasible":
            continue
        assert lp.status == "optimal" and lp.objective is not None
        value = u_const - lp.objective
        if best is None or value > best[0]:
            best = (value, profile)
    assert best is not None
    return best


#: The commitment gap C − V^p_SPE(s0) of ``paper_tree(depth=3, seed=5)``, exactly (the instance's
#: floats read as their shortest decimals): C = 44752458101514847849/10^20 by
#: :func:`exact_commitment_value`, V^p_SPE(s0) = 41892887272575751489/10^20 by exact backward
#: induction; their difference is 0.028595708289390964…
TREE_GAP = Fraction(71489270723477409, 2500000000000000000)


def test_commitment_gap_on_the_paper_tree():
    """``pamdp generate tree --depth 3 --seed 5``: the gap is 0.0285957…, the same by the HiGHS
    enumeration and by the exact brute force, both against exact backward induction."""
    model = paper_tree(depth=3, seed=5)
    spe = solve_backward_induction(model, exact=True).principal_values[model.initial_state]
    exact_value, exact_profile = exact_commitment_value(model)
    assert exact_value - spe == TREE_GAP
    assert float(TREE_GAP) == pytest.approx(0.0285957083, abs=1e-10)
    best = commitment_optimum(model)
    assert best.value == pytest.approx(float(exact_value), abs=1e-9)
    assert best.recommended.tolist() == list(exact_profile) == [0, 1, 0, 0, 1, 1, 0]
    assert (best.profiles, best.feasible) == (128, 128)
    result = check_commitment(model)
    assert result.holds and result.measurements["gap"] == pytest.approx(float(TREE_GAP), abs=1e-9)


def test_commitment_agrees_with_the_exact_brute_force_on_the_three_state_example():
    """By hand (test above): C − V^p_SPE = 1/18 with V^p_SPE = 1, so C = 19/18."""
    value, profile = exact_commitment_value(THREE)
    assert value == Fraction(19, 18)
    best = commitment_optimum(THREE)
    assert best.value == pytest.approx(19 / 18, abs=1e-9)
    assert best.recommended.tolist() == list(profile)


@pytest.mark.parametrize("seed", range(6))
def test_commitment_agrees_with_the_exact_brute_force_on_random_instances(seed):
    model = random_instance(4, 2, 2, seed=seed)
    value, _ = exact_commitment_value(model)
    assert commitment_optimum(model).value == pytest.approx(float(value), abs=1e-8)


# ------------------------------------------------------------------ size limit and scope
def test_commitment_refuses_instances_above_the_size_limit():
    model = paper_tree(depth=4, seed=5)  # 15 reachable states, 2 actions: 2**15 profiles
    assert commitment_profiles(model) == 2**15 > MAX_COMMITMENT_PROFILES
    with pytest.raises(ValueError, match=r"32768 recommendation profiles .* limit of 4096"):
        commitment_optimum(model)
    with pytest.raises(ValueError, match=r"8 recommendation profiles .* limit of 4 "):
        commitment_optimum(THREE, max_profiles=4)
    assert check_commitment_size(THREE) == 8


def test_commitment_refuses_cyclic_instances():
    model = random_instance(3, 2, 2, seed=0, episodic=False)
    with pytest.raises(ValueError, match="not episodic"):
        commitment_optimum(model)
    with pytest.raises(ValueError, match="not episodic"):
        commitment_policy(model)


# ------------------------------------------------------------------- the committed policy
def test_commitment_policy_is_a_valid_solution_document():
    model = paper_tree(depth=3, seed=5)
    policy = commitment_policy(model)
    best = commitment_optimum(model)
    assert policy.value == best.value and policy.recommended.tolist() == best.recommended.tolist()
    assert np.all(policy.contracts >= 0)
    assert policy.principal_values[model.initial_state] == pytest.approx(best.value, abs=1e-9)
    document = solution_to_dict(
        model,
        policy.recommended,
        policy.contracts,
        principal_values=policy.principal_values,
        agent_values=policy.agent_values,
    )
    validate_against_schema(document, "solution")
    parsed = solution_from_dict(json.loads(json.dumps(document)), model)
    assert parsed.recommended.tolist() == policy.recommended.tolist()


def test_commitment_policy_recommends_the_agents_choice_on_unreachable_states():
    """s0 ends the episode, so s1 is unreachable; unpaid, the agent prefers a1 at s1 (reward 1
    against 0) and follows that recommendation, earning 1 there; at s0 it prefers a0 (0 against
    −1), the principal gets E[r^p | a0] = 1/2 without paying, while a1 needs
    (3/4 − 1/2) b(o1) ≥ 1, i.e. b(o1) ≥ 4, costing 3 for E[r^p | a1] = 3/4: committing to a0
    unpaid is optimal."""
    model = build_model(
        states=["s0", "s1"],
        actions=["a0", "a1"],
        outcomes=["o0", "o1"],
        initial_state=0,
        discount=1,
        outcome_probs=[[["1/2", "1/2"], ["1/4", "3/4"]], [["1/2", "1/2"], ["1/2", "1/2"]]],
        agent_reward=[[0, -1], [0, 1]],
        principal_reward=[[0, 1], [0, 0]],
        transitions=[[[], []], [[], []]],
        exact=True,
    )
    policy = commitment_policy(model)
    assert policy.reachable.tolist() == [True, False]
    assert policy.recommended.tolist() == [0, 1]
    assert policy.contracts.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert policy.value == pytest.approx(0.5, abs=1e-9)
    assert policy.principal_values.tolist() == pytest.approx([0.5, 0.0])
    assert policy.agent_values.tolist() == pytest.approx([0.0, 1.0])
