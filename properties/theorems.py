"""Compatibility facade: the theorem properties now live in :mod:`properties.claims`.

The properties were split by claim family (issue 10): the registry in
:mod:`properties.claims`, the checks in ``properties/claims/<family>.py``,
:class:`PropertyResult` in :mod:`properties.results`, the instance transforms in
:mod:`theory.transforms` and the commitment optimum in :mod:`solvers.commitment`. This module
re-exports the names code and users imported from ``properties.theorems``; new code should
import from those modules.
"""

from __future__ import annotations

from properties.claims import CLAIMS, Claim, claim
from properties.claims.commitment import check_commitment
from properties.claims.common import (
    DEFAULT_TOL,
    FIXED_POINT_ITERATIONS,
    META_LEVERAGE,
    META_MAX_ITERATIONS,
    META_TOL,
    R1_DISCOUNTS,
)
from properties.claims.contracts import check_minimal_contract
from properties.claims.equilibrium import check_spe, default_spe_solver, spe_violations
from properties.claims.meta_algorithm import (
    check_meta_convergence,
    check_meta_uniqueness,
    check_theorem_3_3,
    horizon,
    meta_tolerance,
    starting_policies,
)
from properties.claims.metamorphic import (
    check_observed_action,
    check_relabelling,
    check_reward_scaling,
)
from properties.claims.operator import check_contraction, check_operator_fixed_point
from properties.claims.symbolic import check_kkt_proof, check_symbolic
from properties.results import PropertyResult
from solvers.commitment import CommitmentOptimum, commitment_optimum
from theory.transforms import (
    first_best_values,
    no_contract_agent_values,
    observed_counterpart,
    relabel,
    scale_rewards,
)

__all__ = [
    "CLAIMS",
    "DEFAULT_TOL",
    "FIXED_POINT_ITERATIONS",
    "META_LEVERAGE",
    "META_MAX_ITERATIONS",
    "META_TOL",
    "R1_DISCOUNTS",
    "Claim",
    "CommitmentOptimum",
    "PropertyResult",
    "check_commitment",
    "check_contraction",
    "check_kkt_proof",
    "check_meta_convergence",
    "check_meta_uniqueness",
    "check_minimal_contract",
    "check_observed_action",
    "check_operator_fixed_point",
    "check_relabelling",
    "check_reward_scaling",
    "check_spe",
    "check_symbolic",
    "check_theorem_3_3",
    "claim",
    "commitment_optimum",
    "default_spe_solver",
    "first_best_values",
    "horizon",
    "meta_tolerance",
    "no_contract_agent_values",
    "observed_counterpart",
    "relabel",
    "scale_rewards",
    "spe_violations",
    "starting_policies",
]
