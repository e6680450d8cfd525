"""Tests of solvers/solve.py: the one solve entry point."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from solvers.solve import solve
from theory.generators import paper_tree, random_instance, three_state_example
from theory.ties import Ties


def test_auto_dispatches_on_the_horizon_and_records_settings():
    episodic = solve(three_state_example(), exact=True)
    assert episodic.method == "backward_induction" and episodic.converged
    assert episodic.solution.principal_values[0] == 1  # PAPER.md §7
    assert episodic.settings()["ties"]["principal_rule"] == "lowest_index"
    discounted = solve(random_instance(4, 2, 2, seed=1, episodic=False))
    assert discounted.method == "meta_algorithm"
    assert discounted.settings()["max_iterations"] == 1000
    assert discounted.meta is not None and discounted.iterations == discounted.meta.iterations


@pytest.mark.parametrize("margin", [Fraction(1, 10), 0.1, "0.1"])
def test_exact_margin_is_read_as_the_decimal_it_prints(margin):
    """Three-state example with margin ξ = 1/10 (PAPER.md §7 shape, derived by hand): at sL,
    sR implementing aL needs b(L) with 0.8 b(L) ≥ 4/5 + 1/10, b(L) = 9/8, paid w.p. 9/10:
    payment 81/80, principal 9/10 · 14/9 − 81/80 = 31/80, agent −4/5 + 81/80 = 17/80. At s0
    the agent's continuation is 17/80 on both outcomes, so Q̄ differ by 4/5 again and the same
    contract applies: V^p(s0) = 31/80 + 31/80 = 31/40, V^a(s0) = 17/80 + 17/80 = 17/40. A
    float 0.1 read as its binary expansion gave 111689270758788299/144115188075855872."""
    result = solve(three_state_example(), exact=True, ties=Ties(margin=margin))
    assert result.solution.principal_values[0] == Fraction(31, 40)
    assert result.solution.agent_values[0] == Fraction(17, 40)


def test_float_and_exact_agree_and_ties_reach_the_contract_solver():
    tree = paper_tree(5, 2)
    fast, exact = solve(tree), solve(tree, exact=True)
    assert np.array_equal(fast.solution.recommended, exact.solution.recommended)
    assert (
        abs(fast.solution.principal_values[0] - float(exact.solution.principal_values[0])) < 1e-12
    )
    nudged = solve(tree, ties=Ties(margin=0.05))
    assert nudged.solution.principal_values[0] < fast.solution.principal_values[0]


def test_errors_name_the_value():
    with pytest.raises(ValueError, match="method must be one of"):
        solve(three_state_example(), method="simplex")
    discounted = random_instance(3, 2, 2, seed=0, episodic=False)
    with pytest.raises(ValueError, match="exact arithmetic needs an episodic"):
        solve(discounted, exact=True)
    with pytest.raises(ValueError, match="max_iterations must be"):
        solve(discounted, max_iterations=0)
    with pytest.raises(ValueError, match="episodic"):
        solve(discounted, method="backward_induction")


def test_meta_polish_removes_the_reported_value_jump():
    """tests/regressions/meta-reported-value-jump.json: stopped at tol = 1e-7 the raw
    meta-algorithm keeps contracts minimal for the previous round's Q̄, the agent deviates at
    the 1e-9 tie tolerance and the raw V^p(s0) (≈ 10.53) is not the value of the followed
    recommendation (≈ 13.72). After the polish both stopping tolerances report the value of the
    exact self-consistent minimal contracts of the same recommendations, and those pass the
    exact SPE check with tolerance 0 (an independent verdict)."""
    from pathlib import Path

    from solvers.equilibria import profile_fixed_point
    from theory.format import load_instance
    from theory.spe import check_spe
    from theory.ties import EXACT_TIES

    model = load_instance(
        Path(__file__).resolve().parent / "regressions" / "meta-reported-value-jump.json"
    )
    loose = solve(model, max_iterations=200, tol=1e-7)
    tight = solve(model, max_iterations=200)
    assert loose.meta is not None and tight.meta is not None
    raw_jump = tight.meta.solution.principal_values[0] - loose.meta.solution.principal_values[0]
    assert raw_jump > 3  # the raw iterate still jumps
    assert loose.polished is not None and loose.settings()["polished"] is True
    assert np.array_equal(loose.solution.recommended, tight.solution.recommended)
    assert np.allclose(loose.solution.principal_values, tight.solution.principal_values, atol=1e-12)
    fixed = profile_fixed_point(model, loose.solution.recommended.tolist())
    assert fixed == loose.polished
    check = check_spe(model, fixed.recommended, [list(c) for c in fixed.contracts], ties=EXACT_TIES)
    assert check.ok
    exact_values = [float(c.principal_value) for c in check.states]
    assert np.allclose(loose.solution.principal_values, exact_values, rtol=0, atol=1e-12)
    assert loose.solution.principal_values[0] > 13.7


def test_meta_polish_can_be_switched_off_and_skips_cycles():
    from pathlib import Path

    from theory.format import load_instance

    model = load_instance(
        Path(__file__).resolve().parent / "regressions" / "meta-reported-value-jump.json"
    )
    raw = solve(model, max_iterations=200, tol=1e-7, polish=False)
    assert raw.polished is None and raw.solution is raw.meta.solution  # type: ignore[union-attr]
    cycling = solve(
        load_instance(
            Path(__file__).resolve().parents[1] / "examples" / "no_pure_stationary_spe.json"
        ),
        max_iterations=50,
    )
    assert not cycling.converged and cycling.polished is None
    with pytest.raises(ValueError, match="polish must be"):
        solve(model, polish="yes")
