"""Hypothesis entry point: registers pamdp's strategies (``[project.entry-points.hypothesis]``).

Hypothesis calls :func:`_register` while it is being imported, so in any test suite where pamdp
is installed ``st.from_type(PrincipalAgentMDP)`` draws from
:func:`properties.strategies.instances` (every family, hidden and observed action, with
deliberate degeneracy).

The hook must not import :mod:`properties.strategies` itself: that module imports Hypothesis,
so a program that imports it *first* would re-enter it half-initialised. The strategy is
therefore registered as ``st.deferred``, resolved on first use. A failure here is turned into a
warning: a broken pamdp install must never break Hypothesis itself.
"""

from __future__ import annotations

import warnings


def _instances() -> object:
    from properties.strategies import instances

    return instances()


def _register() -> None:
    """Register :func:`properties.strategies.instances` for ``PrincipalAgentMDP`` (lazily)."""
    try:
        from hypothesis import strategies as st

        from theory.model import PrincipalAgentMDP

        st.register_type_strategy(PrincipalAgentMDP, st.deferred(_instances))  # type: ignore[arg-type]
    except Exception as error:  # pragma: no cover - depends on a broken installation
        warnings.warn(
            f"pamdp could not register its Hypothesis strategies: {error!r}", stacklevel=2
        )
