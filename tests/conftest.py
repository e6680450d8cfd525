"""Test-suite configuration: the Hypothesis profile comes from properties.profiles.

``PAMDP_PROFILE`` (or ``HYPOTHESIS_PROFILE``) selects it: ``dev`` by default, ``ci`` in CI
(``.ci/run`` sets it), ``thorough`` for long local runs.
"""

from __future__ import annotations

from properties.profiles import load_profile

load_profile()
