"""Tests of solvers.meta_algorithm: Algorithm 1 and the principal-Q operator."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.backward_induction import solve_backward_induction
from solvers.evaluation import evaluate_policy
from solvers.meta_algorithm import (
    PrincipalPolicy,
    agent_q_bar_minimal,
    meta_algorithm,
    principal_q_operator,
    principal_q_value_iteration,
    principal_step,
    sup_norm_distance,
)
from theory.generators import paper_tree, random_instance, three_state_example


@pytest.mark.parametrize("seed", range(15))
def test_meta_algorithm_matches_backward_induction_on_episodic_instances(seed):
    """Backward induction and Algorithm 1 reach the same SPE values (same tie rule)."""
    rng = np.random.default_rng(100 + seed)
    model = random_instance(
        int(rng.integers(2, 10)), int(rng.integers(2, 4)), int(rng.integers(2, 4)), seed=seed
    )
    spe = solve_backward_induction(model)
    result = meta_algorithm(model)
    assert result.converged
    assert np.allclose(result.solution.principal_values, spe.principal_values, atol=1e-9)
    assert np.allclose(result.solution.agent_values, spe.agent_values, atol=1e-9)
    # Theorem 3.3 (as read in PAPER.md §3): at most T + 1 iterations, T the number of levels
    assert result.iterations <= int(model.heights.max()) + 2


def test_meta_algorithm_on_tree_within_depth_bound():
    tree = paper_tree(8, 0)
    result = meta_algorithm(tree)
    spe = solve_backward_induction(tree)
    assert result.converged and result.iterations <= 8 + 1
    assert np.allclose(result.solution.principal_values, spe.principal_values, atol=1e-9)
    assert len(result.policies) == result.iterations + 1
    assert len(result.q_bars) == result.iterations


def test_discounted_three_state_matches_exact_values():
    """γ = 9/10 three-state example: V^p(s0) = 19/20, V^a(s0) = 19/100 (PAPER.md §7)."""
    result = meta_algorithm(three_state_example(discount="9/10"))
    assert abs(result.solution.principal_values[0] - 0.95) < 1e-12
    assert abs(result.solution.agent_values[0] - 0.19) < 1e-12


@pytest.mark.parametrize("seed", [1, 9, 12])
def test_converged_discounted_policy_is_a_fixed_point(seed):
    """A converged run's last policy is followed everywhere by the best-responding agent,
    and the principal's best response to that agent's Q̄ is the same policy again."""
    model = random_instance(6, 3, 2, seed=seed, episodic=False)
    result = meta_algorithm(model, max_iterations=500)
    assert result.converged, f"seed {seed} did not converge: pick a converging instance"
    final = result.policies[-1]
    evaluation = evaluate_policy(model, final.recommended, final.contracts)
    assert evaluation.followed.all()
    again, _, values, _ = principal_step(model, np.asarray(evaluation.q_bar))
    assert again.same_as(final, 1e-9)
    assert np.allclose(values, result.solution.principal_values, atol=1e-9)


def test_no_pure_stationary_spe_instance_does_not_converge():
    """examples/no_pure_stationary_spe.json (found by pamdp fuzz; derivation in
    tests/test_verify.py): no pure stationary principal policy is an SPE (a mixed stationary
    and a period-3 one exist, tests/test_equilibria.py), and Algorithm 1 returns pure
    stationary policies, so it cannot converge there."""
    from pathlib import Path

    from theory.format import load_instance

    path = Path(__file__).resolve().parent.parent / "examples" / "no_pure_stationary_spe.json"
    result = meta_algorithm(load_instance(path), max_iterations=100)
    assert not result.converged
    assert result.cycle_start is not None


def test_initial_policy_is_respected():
    model = three_state_example()
    start = PrincipalPolicy(np.array([1, 1, 1]), np.zeros((3, 2)))
    result = meta_algorithm(model, initial_policy=start)
    assert result.policies[0] is start
    assert abs(result.solution.principal_values[0] - 1.0) < 1e-12


def test_r2_operator_is_a_gamma_contraction_on_random_pairs():
    """With Q̄ fixed (reading R2) J is a Bellman operator with fixed rewards, so
    ‖J q1 − J q2‖∞ ≤ γ ‖q1 − q2‖∞ (the standard argument: max is 1-Lipschitz)."""
    rng = np.random.default_rng(0)
    for seed in range(10):
        model = random_instance(6, 3, 3, seed=seed, episodic=False)
        q_bar = rng.normal(size=(6, 3))
        q1, q2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
        j1 = principal_q_operator(model, q1, reading="R2", agent_q_bar=q_bar)
        j2 = principal_q_operator(model, q2, reading="R2", agent_q_bar=q_bar)
        assert sup_norm_distance(j1, j2) <= model.discount * np.max(np.abs(q1 - q2)) + 1e-12


def test_value_iteration_fixed_point_in_observed_action_case():
    """Observed action: Q̄ does not depend on the principal (the agent earns its no-contract
    value), so R1 and R2 (with the no-contract Q̄) have the same fixed point, and its value
    equals the meta-algorithm's."""
    model = random_instance(5, 2, 2, seed=2, episodic=False, observed_action=True)
    meta = meta_algorithm(model)
    r1 = principal_q_value_iteration(model, reading="R1", tol=1e-10)
    q_bar, converged = agent_q_bar_minimal(model, np.argmax(r1.q, axis=1))
    r2 = principal_q_value_iteration(model, reading="R2", agent_q_bar=q_bar, tol=1e-10)
    assert converged and r1.converged and r2.converged
    assert sup_norm_distance(r1.q, r2.q) < 1e-9
    assert (
        abs(np.max(r1.q[model.initial_state]) - meta.solution.principal_values[model.initial_state])
        < 1e-8
    )


def test_operator_argument_errors():
    model = three_state_example(discount="1/2")
    with pytest.raises(ValueError, match="agent_q_bar"):
        principal_q_operator(model, np.zeros((3, 2)), reading="R2")
    with pytest.raises(ValueError, match="reading"):
        principal_q_operator(model, np.zeros((3, 2)), reading="R3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="discount"):
        principal_q_value_iteration(three_state_example(), agent_q_bar=np.zeros((3, 2)))
