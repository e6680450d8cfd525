"""Hypothesis entry point: registers pamdp's strategies (``[project.entry-points.hypothesis]``).

Hypothesis calls :func:`_register` when it is imported, so in any test suite where pamdp is
installed ``st.from_type(PrincipalAgentMDP)`` draws from :func:`properties.strategies.instances`
(every family, hidden and observed action, with deliberate degeneracy). The import is kept
cheap and failure-proof: a broken pamdp install must never break Hypothesis itself.
"""

from __future__ import annotations


def _register() -> None:
    """Register :func:`properties.strategies.instances` for ``PrincipalAgentMDP``."""
    from hypothesis import strategies as st

    from properties.strategies import instances
    from theory.model import PrincipalAgentMDP

    st.register_type_strategy(PrincipalAgentMDP, instances())
