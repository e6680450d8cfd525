"""Tests of the compatibility facade properties/theorems.py.

The properties moved to properties/claims/ (tests: tests/test_claims*.py), PropertyResult to
properties/results.py, the transforms to theory/transforms.py and the commitment optimum to
solvers/commitment.py; ``properties.theorems`` re-exports the names code imported from it.
"""

from __future__ import annotations

import importlib

import pytest

import properties
from properties import theorems as th

#: Where each re-exported name is defined now.
HOMES = {
    "properties.claims": ["CLAIMS", "Claim", "claim"],
    "properties.claims.common": [
        "DEFAULT_TOL",
        "FIXED_POINT_ITERATIONS",
        "META_LEVERAGE",
        "META_MAX_ITERATIONS",
        "META_TOL",
        "R1_DISCOUNTS",
    ],
    "properties.claims.contracts": ["check_minimal_contract"],
    "properties.claims.equilibrium": ["check_spe", "default_spe_solver", "spe_violations"],
    "properties.claims.meta_algorithm": [
        "check_meta_convergence",
        "check_meta_uniqueness",
        "check_theorem_3_3",
        "horizon",
        "meta_tolerance",
        "starting_policies",
    ],
    "properties.claims.operator": ["check_contraction", "check_operator_fixed_point"],
    "properties.claims.metamorphic": [
        "check_observed_action",
        "check_relabelling",
        "check_reward_scaling",
    ],
    "properties.claims.commitment": ["check_commitment"],
    "properties.claims.symbolic": ["check_kkt_proof", "check_symbolic"],
    "properties.results": ["PropertyResult"],
    "solvers.commitment": ["CommitmentOptimum", "commitment_optimum"],
    "theory.transforms": [
        "first_best_values",
        "no_contract_agent_values",
        "observed_counterpart",
        "relabel",
        "scale_rewards",
    ],
}


def test_the_facade_exports_exactly_the_moved_names():
    assert sorted(th.__all__) == sorted(name for names in HOMES.values() for name in names)


@pytest.mark.parametrize("module,name", [(m, n) for m, ns in HOMES.items() for n in ns])
def test_every_facade_name_is_the_object_of_its_new_home(module, name):
    assert getattr(th, name) is getattr(importlib.import_module(module), name)


def test_the_package_level_exports_still_resolve():
    for name in ("CLAIMS", "PropertyResult", "spe_violations", "check_commitment"):
        assert getattr(properties, name) is getattr(th, name)
    assert properties.commitment_optimum is th.commitment_optimum
