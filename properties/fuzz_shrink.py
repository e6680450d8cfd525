"""Structural shrinking of a failing instance (issue 4, issue 12; used by :mod:`properties.fuzz`).

After Hypothesis' own shrinking of the random choices, :func:`shrink_structurally` repeatedly
tries smaller instances built directly from the current one — the subgame rooted at one state,
deleting a state, folding a leaf into its parents' rewards (exact for the SPE of the rest),
deleting an action, merging two outcomes, zeroing a reward — and keeps any that still fails
the same way (the caller's predicate: in the fuzzer, the same failure class *and* message
signature). The result is 1-minimal for these moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction

from theory.model import PrincipalAgentMDP
from theory.transforms import InstanceFields, size_key, size_text

__all__ = ["shrink_structurally", "size_key", "size_text"]


def _leaf_values(leaf: PrincipalAgentMDP) -> tuple[Fraction, Fraction]:
    """A one-state instance's exact SPE values, from the one solve entry point."""
    from solvers.solve import solve

    spe = solve(leaf, exact=True).solution
    return spe.principal_values[0], spe.agent_values[0]


def shrink_structurally(
    model: PrincipalAgentMDP,
    still_fails: Callable[[PrincipalAgentMDP], bool],
    *,
    deadline: float | None = None,
) -> tuple[PrincipalAgentMDP, bool]:
    """Greedy structural shrinking after Hypothesis' own (module docstring).

    Repeatedly tries, on the current instance: the subgame rooted at each state; deleting a
    state (transitions into it are dropped and renormalised); folding a leaf into its parents'
    rewards (:meth:`theory.transforms.InstanceFields.fold_leaf`, the leaf's values from exact
    backward induction); deleting an action; merging two outcomes; zeroing one
    reward — and keeps the first candidate that is smaller and still
    fails in the same way, until none does (a 1-minimal instance for these moves) or the
    ``deadline`` (``time.monotonic()``) passes. Returns the instance and whether it finished.
    """
    current = model
    progress = True
    while progress:
        progress = False
        for candidate in InstanceFields.of(current).candidates(_leaf_values):
            if deadline is not None and time.monotonic() > deadline:
                return current, False
            smaller = candidate.build()
            if smaller is None or size_key(smaller) >= size_key(current):
                continue
            if still_fails(smaller):
                current = smaller
                progress = True
                break
    return current, True
