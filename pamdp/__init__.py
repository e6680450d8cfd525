"""pamdp: principal-agent MDPs — solve, verify, fuzz, train (README.md).

The command line is :mod:`pamdp.cli`. The public Python API for building instances from your
own model is re-exported here (lazily, so that ``pamdp --help`` stays fast):

* :func:`instance_from_arrays`, :func:`instance_from_states`, :func:`instance_from_tree`
  (:mod:`theory.builders`; docs/VALIDATING.md, "Building instances");
* :class:`Instance` — the model type they return (:class:`theory.model.PrincipalAgentMDP`);
* :func:`load_instance`, :func:`save_instance` (FORMAT.md v1 files), :class:`InstanceError`;
* :func:`verify_policy` (:mod:`properties.verify`), :func:`check_solver` and
  :class:`Unsupported` (:mod:`properties.fuzz`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY: dict[str, tuple[str, str]] = {
    "instance_from_arrays": ("theory.builders", "instance_from_arrays"),
    "instance_from_states": ("theory.builders", "instance_from_states"),
    "instance_from_tree": ("theory.builders", "instance_from_tree"),
    "Instance": ("theory.model", "PrincipalAgentMDP"),
    "InstanceError": ("theory.model", "InstanceError"),
    "load_instance": ("theory.format", "load_instance"),
    "save_instance": ("theory.format", "save_instance"),
    "verify_policy": ("properties.verify", "verify_policy"),
    "check_solver": ("properties.fuzz", "check_solver"),
    "Unsupported": ("properties.fuzz", "Unsupported"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'pamdp' has no attribute {name!r}")
    value = getattr(import_module(target[0]), target[1])
    globals()[name] = value
    return value
