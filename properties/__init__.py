"""Properties, verification and fuzzing of principal-agent solvers.

Exports are loaded lazily (PEP 562), so that importing a light submodule such as
``properties.verify_cli`` does not pull in Hypothesis or the exact solvers.
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
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'properties' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
