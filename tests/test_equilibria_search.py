"""Tests of solvers/equilibria_search.py internals: the symbolic indifference gap (issue 13).

The mixed search solves the principal's indifference ``V^p(m, a) − V^p(m, b) = 0`` as a
rational function of the mixing probability ``p`` on each regime of binding constraints
(``_regime_gap``, fraction-free over ℚ[p]). Its expected values come from an independent
method: the split instance at a rational ``p``, built as an ordinary instance and solved by
the exact fixed-point routine and the shared SPE checker (``_evaluate_split``). Wherever that
evaluation lands in a regime, the regime's rational function at ``p`` must equal the exact gap.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from solvers.equilibria import implementable_actions
from solvers.equilibria_search import MIXING_GRID, _evaluate_split, _regime_gap
from theory.exact_evaluation import ExactPolicyData
from theory.format import load_instance
from theory.ties import EXACT_TIES

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = [
    ROOT / "examples" / "no_pure_stationary_spe.json",
    ROOT / "tests" / "regressions" / "meta-cycle-no-pure-spe.json",
    # 3 states × 3 actions × 3 outcomes, no pure stationary SPE (the shrunk counterexample
    # of the pure-stationary-spe claim): the instance the generic-expression solve took
    # minutes on
    ROOT / "tests" / "regressions" / "pure-stationary-spe.json",
]


def _gap_at(p: Fraction, numerator: sympy.Poly, denominator: sympy.Poly) -> Fraction:
    value = numerator.eval(sympy.Rational(p.numerator, p.denominator)) / denominator.eval(
        sympy.Rational(p.numerator, p.denominator)
    )
    return Fraction(int(value.p), int(value.q))


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.name)
def test_symbolic_gap_equals_the_exact_gap_of_the_split_instance(path):
    """For the first mixing state's first support and (at most) 3 profiles of the others, at
    every third grid point: the regime that the exact evaluation lands in, solved
    symbolically, gives exactly the evaluation's gap at that ``p``; numerator and denominator
    are coprime."""
    model = load_instance(path)
    data = ExactPolicyData(model)
    allowed = implementable_actions(data, EXACT_TIES.margin)
    m = next(s for s in range(data.n_states) if len(allowed[s]) >= 2)
    a, b = allowed[m][:2]
    others = [allowed[s] if s != m else [-1] for s in range(data.n_states)]
    checked = 0
    for rest in itertools.islice(itertools.product(*others), 3):
        aug = [*rest[:m], a, *rest[m + 1 :], b]
        cache: dict[tuple, tuple] = {}
        for p in MIXING_GRID[::3]:
            fp, _, gap = _evaluate_split(model, data, m, (a, b), aug, p, EXACT_TIES)
            if fp.regime not in cache:
                cache[fp.regime] = _regime_gap(data, m, aug, fp.regime, EXACT_TIES.margin)
            _, numerator, denominator = cache[fp.regime]
            assert sympy.gcd(numerator, denominator).degree() == 0
            assert _gap_at(p, numerator, denominator) == gap
            checked += 1
    assert checked >= 8
