"""Properties, verification and fuzzing of principal-agent solvers.

Exports are loaded lazily (PEP 562), so that importing a light submodule such as
``pamdp.verify`` does not pull in Hypothesis or the exact solvers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name -> module that defines it
_LAZY: dict[str, str] = {
    # issue 4: verification and differential fuzzing
    "check_solver": "properties.fuzz",
    "check_command": "properties.fuzz",
    "fuzz": "properties.fuzz",
    "SolverCheckError": "properties.fuzz",
    "verify_policy": "properties.verify",
    "verify_solution": "properties.verify",
    "verify_files": "properties.verify",
    "VerificationReport": "properties.verify",
    # issue 3: strategies, theorem properties, symbolic checks, profiles, report
    "instances": "properties.strategies",
    "episodic_instances": "properties.strategies",
    "discounted_instances": "properties.strategies",
    "q_pairs": "properties.strategies",
    "CLAIMS": "properties.theorems",
    "PropertyResult": "properties.theorems",
    "spe_violations": "properties.theorems",
    "check_minimal_contract": "properties.theorems",
    "check_spe": "properties.theorems",
    "check_theorem_3_3": "properties.theorems",
    "check_contraction": "properties.theorems",
    "check_operator_fixed_point": "properties.theorems",
    "check_meta_convergence": "properties.theorems",
    "check_meta_uniqueness": "properties.theorems",
    "check_observed_action": "properties.theorems",
    "check_reward_scaling": "properties.theorems",
    "check_relabelling": "properties.theorems",
    "check_commitment": "properties.theorems",
    "commitment_optimum": "properties.theorems",
    "symbolic_backward_induction": "properties.symbolic",
    "prove_two_outcome_closed_form": "properties.symbolic",
    "PROFILES": "properties.profiles",
    "profile_settings": "properties.profiles",
    "run_report": "properties.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'properties' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
