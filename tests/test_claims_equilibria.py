"""Tests of the equilibria claim family (properties/claims/equilibria.py)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from properties.claims.equilibria import (
    check_meta_limit_among_spes,
    check_proposition_4_1,
    check_pure_stationary_spe,
    check_stationary_spe,
    nudged_policy,
)
from theory.format import load_instance
from theory.generators import three_state_example

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "tests" / "regressions"
NO_PURE = load_instance(ROOT / "examples" / "no_pure_stationary_spe.json")
TWO_SPE = load_instance(REGRESSIONS / "two-spe-pareto-ranked.json")
LEAF = load_instance(REGRESSIONS / "proposition-4.1-margin-below-2E.json")


def test_existence_claims_on_the_pinned_instances():
    """Derivations in tests/test_equilibria.py: the no-pure example has no pure stationary SPE
    but a mixed one (a2's contract w.p. 11/15); the two-SPE instance has two pure ones."""
    result = check_pure_stationary_spe(NO_PURE)
    assert result.applicable and not result.holds
    assert "3/55" in result.violations[0] and "3/50" in result.violations[0]
    assert check_pure_stationary_spe(TWO_SPE).measurements["pure_spes"] == 2
    mixed = check_stationary_spe(NO_PURE)
    assert mixed.holds and mixed.measurements == {"pure_spes": 0, "mixed_spes": 1}
    assert check_stationary_spe(TWO_SPE).measurements["mixed_spes"] is None
    assert not check_pure_stationary_spe(three_state_example()).applicable


def test_meta_limit_is_an_enumerated_spe_and_cycles_are_not_applicable():
    assert check_meta_limit_among_spes(TWO_SPE).holds
    assert not check_meta_limit_among_spes(NO_PURE).applicable  # Algorithm 1 cycles there


def test_proposition_4_1_margin_2e_versus_below_2e():
    """One leaf of PAPER.md §7 (𝒪(aL) = (9/10, 1/10), 𝒪(aR) = (1/10, 9/10), r(aL) = −4/5,
    r^p(L) = 14/9, terminal), true Q̄ = (−4/5, 0), E = 1/10, estimate Q̂ = Q̄ + (E, −E) (the
    recommended action overrated, the deviation underrated). The LP under Q̂ asks
    (4/5) b(L) ≥ Q̂(aR) − Q̂(aL) + ξ = 3/5 + ξ.

    * ξ = 2E = 1/5: b(L) = 1, the agent's true gain from aL is (4/5)·1 − 4/5 = 0: it follows
      (tie to the recommendation). Paid 9/10 ≤ c_ξ(Q̄) + 2EΛ = 9/8 + (1/5)(9/8) (Λ = 9/8, the
      dual of the single constraint).
    * ξ = 1/10 < 2E: b(L) = 7/8, the true gain is (4/5)(7/8) − 4/5 = −1/10 < 0: the agent
      takes aR, and the principal, who expected 14/10 − 63/80, gets 14/90 − 7/80 instead.
    """
    built = nudged_policy(LEAF, Fraction(1, 10), Fraction(1, 5), [8, -8])
    assert built["recommended"] == [0] and built["contracts"] == [[1, 0]]
    assert built["q_hat"] == [[Fraction(-7, 10), Fraction(-1, 10)]]
    assert check_proposition_4_1(LEAF, error=Fraction(1, 10), perturbation=[8, -8]).holds
    below = check_proposition_4_1(
        LEAF, error=Fraction(1, 10), perturbation=[8, -8], margin=Fraction(1, 10)
    )
    assert not below.holds and "does not follow" in below.violations[0]
    below_built = nudged_policy(LEAF, Fraction(1, 10), Fraction(1, 10), [8, -8])
    assert below_built["contracts"] == [[Fraction(7, 8), 0]]


def test_proposition_4_1_holds_on_the_three_state_example_for_every_corner():
    """Every ±E corner of the perturbation (2^6 of them) with ξ = 2E, E = 1/20: the agent
    follows and the per-state payment bound holds (the claim's derivation)."""
    model = three_state_example()
    for corner in range(64):
        signs = [8 if corner >> k & 1 else -8 for k in range(6)]
        result = check_proposition_4_1(model, error=Fraction(1, 20), perturbation=signs)
        assert result.holds, (signs, result.violations)
