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

from properties.claims.commitment import (
    check_commitment,
    check_commitment_tree,
    survey_paper_trees,
    tree_mechanism,
)
from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.commitment import (
    MAX_COMMITMENT_PROFILES,
    TreeCommitment,
    check_commitment_size,
    commitment_optimum,
    commitment_policy,
    commitment_profiles,
    exact_profile_value,
    tree_commitment,
    tree_profiles,
    tree_shape_problem,
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


# ------------------------------------------- minimal contracts suffice; trees (issue 13)
def test_every_profiles_lp_optimum_is_its_minimal_contract_value():
    """The lemma of solvers/commitment.py, on every profile of two depth-3 trees: the joint LP
    of each profile (HiGHS) and the bottom-up minimal-contract value agree to 1e-12, and a
    sample of profiles re-evaluated exactly (profile_fixed_point, a third method) agrees too."""
    for seed in (4, 5):
        model = paper_tree(depth=3, seed=seed)
        tree = tree_profiles(model)
        assert tree.actions.shape == (128, 7) and tree.states.tolist() == list(range(7))
        lp = commitment_optimum(model, profiles=[tuple(row) for row in tree.actions])
        assert lp.values.shape == (128,)
        assert np.max(np.abs(lp.values - tree.principal_values)) < 1e-12
        for k in (0, 37, 100, 127):
            exact, _ = exact_profile_value(model, tree.profile(k, model.n_states))
            assert float(exact) == pytest.approx(tree.principal_values[k], abs=1e-12)


def test_tree_commitment_is_the_exact_brute_force_optimum():
    """On paper_tree(3, 5) the LP-free optimum equals the exact brute force of this module
    (exact LPs over the payments) *exactly*, with the same profile, and the gap over exact
    backward induction is TREE_GAP."""
    model = paper_tree(depth=3, seed=5)
    value, profile = exact_commitment_value(model)
    tree = tree_commitment(model)
    assert tree.value == value and tree.recommended.tolist() == list(profile)
    spe = solve_backward_induction(model, exact=True).principal_values[model.initial_state]
    assert tree.value - spe == TREE_GAP
    assert tree.candidates[0] == int(np.argmax(tree.profiles.principal_values))


def test_tree_profiles_on_depth_four_agree_with_the_exact_fixed_point():
    """Depth 4 (2**15 profiles, beyond the LP's limit): sampled profiles' float values equal
    their exact self-consistent minimal-contract values, and the 8 best agree with the LP."""
    model = paper_tree(depth=4, seed=29)
    tree = tree_profiles(model)
    assert tree.actions.shape == (2**15, 15)
    rng = np.random.default_rng(0)
    for k in rng.choice(2**15, size=6, replace=False):
        exact, _ = exact_profile_value(model, tree.profile(int(k), model.n_states))
        assert float(exact) == pytest.approx(tree.principal_values[k], abs=1e-12)
    best = np.argsort(-tree.principal_values)[:8]
    lp = commitment_optimum(model, profiles=[tuple(tree.actions[k]) for k in best])
    assert np.max(np.abs(lp.values - tree.principal_values[best])) < 1e-12
    optimum = tree_commitment(model)
    assert float(optimum.value) == pytest.approx(lp.value, abs=1e-12)


def test_tree_profiles_by_hand_on_the_three_state_example():
    """THREE (states s0, sL, sR; action 0 = aL costs 4/5 and gives L w.p. 9/10, aR free with
    L w.p. 1/10; r^p(L) = 14/9). All aR: nothing paid, 14/90 expected at s0 and 14/90 at the
    child, 14/45. (aL, aR, aR): unpaid children give the agent 0, so at s0 Δ = 0 − (−4/5) and
    b(L) = (4/5)/(9/10 − 1/10) = 1, costing 9/10 against 9/10 · 14/9 = 7/5: 1/2, plus 14/90
    from the child, 59/90. The best, (aL, aL, aR), earns 19/18 (tests above)."""
    tree = tree_profiles(THREE)
    rows = {
        tuple(int(a) for a in row): v
        for row, v in zip(tree.actions, tree.principal_values, strict=True)
    }
    assert len(rows) == 8
    assert rows[(1, 1, 1)] == pytest.approx(14 / 45, abs=1e-12)
    assert rows[(0, 1, 1)] == pytest.approx(59 / 90, abs=1e-12)
    assert max(rows.values()) == pytest.approx(19 / 18, abs=1e-12)
    assert tree_commitment(THREE).value == Fraction(19, 18)


def test_tree_functions_refuse_what_they_cannot_do():
    diamond = build_model(  # s0 → s1 (o0) or s2 (o1); s1 → s2: s2 has two parents
        states=["s0", "s1", "s2"],
        actions=["a0", "a1"],
        outcomes=["o0", "o1"],
        initial_state=0,
        discount=1,
        outcome_probs=[[["1/2", "1/2"], ["1/4", "3/4"]]] * 3,
        agent_reward=[[0, -1]] * 3,
        principal_reward=[[0, 1]] * 3,
        transitions=[[[[1, 1]], [[2, 1]]], [[[2, 1]], [[2, 1]]], [[], []]],
        exact=True,
    )
    assert "more than one parent" in str(tree_shape_problem(diamond))
    assert "3 actions" in str(tree_shape_problem(random_instance(3, 3, 2, seed=0)))
    assert "not episodic" in str(
        tree_shape_problem(random_instance(3, 2, 2, seed=0, episodic=False))
    )
    with pytest.raises(ValueError, match="more than the limit of 64"):
        tree_profiles(paper_tree(depth=3, seed=0), max_profiles=64)
    with pytest.raises(ValueError, match=r"profile \[0, 1\] is not one action index"):
        commitment_optimum(THREE, profiles=[(0, 1)])
    with pytest.raises(ValueError, match="0 profiles given"):
        commitment_optimum(THREE, profiles=[])


def test_commitment_tree_claim_measures_the_non_credible_recommendation():
    """paper_tree(3, 5): the commitment optimum recommends a0 at s3 (left child of s1, reached
    by o0), where the principal — and the SPE — would implement a1 given the committed values
    below; a0 leaves the agent less rent there."""
    model = paper_tree(depth=3, seed=5)
    result = check_commitment_tree(model)
    assert result.holds, result.explain()
    m = result.measurements
    assert m["gap"] == pytest.approx(float(TREE_GAP), abs=1e-15)
    assert (m["non_credible"], m["non_credible_less_rent"], m["non_credible_level2"]) == (1, 1, 1)
    assert m["lp_profiles"] == 128 and m["lp_max_difference"] < 1e-12
    optimum = tree_commitment(model)
    spe = solve_backward_induction(model, exact=True)
    _, states = tree_mechanism(model, optimum, spe.recommended)
    assert [(n.name, n.committed, n.preferred, n.spe_action) for n in states] == [("s3", 0, 1, 1)]
    assert states[0].gain > 0 and states[0].rent_saved > 0
    assert check_commitment_tree(paper_tree(depth=3, seed=0)).measurements["non_credible"] == 0


def test_commitment_tree_claim_catches_planted_errors():
    model = paper_tree(depth=3, seed=5)

    def inflated(m: PrincipalAgentMDP) -> TreeCommitment:
        return replace(tree_commitment(m), value=tree_commitment(m).value + Fraction(1, 100))

    def spe_profile(m: PrincipalAgentMDP) -> TreeCommitment:
        """Claims the SPE profile is the optimum (its value with the SPE's contracts)."""
        spe = solve_backward_induction(m, exact=True)
        value, contracts = exact_profile_value(m, spe.recommended)
        return replace(
            tree_commitment(m),
            value=value,
            recommended=np.asarray(spe.recommended),
            contracts=contracts,
        )

    assert not check_commitment_tree(model, commitment=inflated).holds
    assert not check_commitment_tree(model, commitment=spe_profile).holds  # LP optimum is higher
    myopic = functools.partial(commitment_optimum, myopic_agent=True)
    assert not check_commitment_tree(model, lp=myopic).holds
    assert not check_commitment_tree(random_instance(3, 2, 2, seed=0, episodic=False)).applicable


def test_survey_of_paper_trees_records_each_tree():
    """The fixed-seed survey behind docs/theorems_run/commitment-trees.jsonl: seeds 4 and 5 of
    depth 3 both have a positive gap, each from one non-credible a0 where a1 is preferred."""
    records = list(survey_paper_trees([3], [4, 5]))
    assert [(r["depth"], r["seed"], r["holds"]) for r in records] == [(3, 4, True), (3, 5, True)]
    assert Fraction(records[1]["commitment_value"]) - Fraction(records[1]["spe_value"]) == TREE_GAP
    assert [n["state"] for n in records[1]["non_credible"]] == ["s3"]
    for r in records:
        assert r["measurements"]["beats_depth3"] == 1.0
        assert [(n["committed"], n["preferred"]) for n in r["non_credible"]] == [("a0", "a1")]
