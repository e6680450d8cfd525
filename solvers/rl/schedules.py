"""Exploration and learning-rate schedules of both trainers (PAPER.md §6).

Convention (one for every schedule): a phase runs the iterations ``t = 0, 1, …, T − 1`` and a
schedule **starts at its first iteration and reaches its end value at its last one**,
``t = T − 1`` — the last gradient step uses the end learning rate, the last interaction the
end ε. Iterations past the end (and before the start) are clamped. A phase of one iteration
uses the start value.

* linear (ε):           ``v_t = v_0 + (v_end − v_0) · min(1, t / (f · (T − 1)))``, where ``f`` is
  the share of the phase over which it decays (``f = 0``: the end value throughout);
* exponential (lr):     ``v_t = v_0 · (v_end / v_0)^(min(t, T − 1) / (T − 1))``.

Before the shared module the Coin Game trainer ended its schedules at ``t = T`` (a value never
used); docs/COIN.md states the change.
"""

from __future__ import annotations

__all__ = ["exponential", "linear"]


def linear(start: float, end: float, t: float, total: int, fraction: float = 1.0) -> float:
    """Linear decay from ``start`` to ``end`` over the first ``fraction · (total − 1)``
    iterations of a phase of ``total`` iterations, then constant (module docstring)."""
    span = fraction * max(total - 1, 1)
    if span <= 0:
        return float(end)
    frac = min(max(t, 0) / span, 1.0)
    return float(start + (end - start) * frac)


def exponential(start: float, end: float, t: float, total: int) -> float:
    """Exponential decay from ``start`` at ``t = 0`` to ``end`` at ``t = total − 1``
    (module docstring); ``start`` and ``end`` must be positive."""
    span = max(total - 1, 1)
    frac = min(max(t, 0), span) / span
    return float(start * (end / start) ** frac)
