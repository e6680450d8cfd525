"""The outcome of a property on one instance (:class:`PropertyResult`) and its helpers.

Every property of :mod:`properties.claims` returns a :class:`PropertyResult`; the helpers build
one (:func:`result`, :func:`not_applicable`) and format numbers in violation messages
(:func:`fmt`). This module imports nothing from the rest of ``properties``, so the claim families,
:mod:`properties.symbolic` and :mod:`properties.report` all use it without an import circle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property on one instance.

    Attributes
    ----------
    claim : the claim's key (see :data:`properties.claims.CLAIMS`).
    holds : True when no violation was found (or the instance is out of scope).
    violations : one human-readable line per violation (state, action, values).
    measurements : numbers recorded on the way (iteration counts, depth, gaps, ...).
    applicable : False when the instance is outside the claim's scope (e.g. a cyclic instance
        for a finite-horizon claim); such instances are not counted as tried.
    """

    claim: str
    holds: bool
    violations: tuple[str, ...] = ()
    measurements: Mapping[str, Any] = field(default_factory=dict)
    applicable: bool = True

    def explain(self) -> str:
        """One paragraph: the verdict and the first few violations."""
        if not self.applicable:
            return f"{self.claim}: not applicable"
        if self.holds:
            return f"{self.claim}: holds"
        shown = "; ".join(self.violations[:5])
        more = f" (+{len(self.violations) - 5} more)" if len(self.violations) > 5 else ""
        return f"{self.claim}: FAILS — {shown}{more}"


def result(claim: str, violations: Sequence[str], **measurements: Any) -> PropertyResult:
    """A result listing ``violations`` (it holds when there are none) and ``measurements``."""
    return PropertyResult(claim, not violations, tuple(violations), dict(measurements))


def not_applicable(claim: str, why: str) -> PropertyResult:
    """The result for an instance outside the claim's scope (``why`` is recorded)."""
    return PropertyResult(claim, True, (), {"skipped": why}, applicable=False)


def fmt(value: Any) -> str:
    """Short display of a number."""
    return f"{float(value):.6g}"


__all__ = ["PropertyResult", "fmt", "not_applicable", "result"]
