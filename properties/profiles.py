"""Hypothesis profiles of pamdp, in one place: ``dev``, ``ci`` and ``thorough``.

=========  ==============  =========================================================
profile    instances/claim use
=========  ==============  =========================================================
dev        30              local test runs (the default): fast, random, example database
ci         150             continuous integration and ``pamdp theorems --profile ci``:
                           derandomized (the same instances on every run), no database
thorough   10,000          the run that generates docs/THEOREMS.md (≥ 10,000 instances per
                           claim), seeded by ``--seed``
=========  ==============  =========================================================

All profiles disable the per-example deadline (solver times vary with the machine's load) and
the ``too_slow`` / ``data_too_large`` health checks (instances are drawn element by element).
The profiles are registered with Hypothesis under their names on import
(``settings.load_profile("ci")`` works afterwards); :func:`profile_settings` returns one
without loading it globally, and :func:`selected_profile` reads ``PAMDP_PROFILE`` (then
``HYPOTHESIS_PROFILE``), so CI selects ``ci`` with ``PAMDP_PROFILE=ci``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings

#: Environment variables read by :func:`selected_profile`, in order.
PROFILE_ENVIRONMENT = ("PAMDP_PROFILE", "HYPOTHESIS_PROFILE")
#: The profile used when none is selected.
DEFAULT_PROFILE = "dev"


@dataclass(frozen=True)
class Profile:
    """A named test budget.

    Attributes
    ----------
    name : ``"dev"``, ``"ci"`` or ``"thorough"``.
    max_examples : instances per claim (per Hypothesis test).
    derandomize : draw the same instances on every run.
    use_database : keep failing examples in Hypothesis' example database.
    description : one line for reports.
    """

    name: str
    max_examples: int
    derandomize: bool
    use_database: bool
    description: str

    def settings(self, **overrides: object) -> settings:
        """The Hypothesis settings of this profile (``overrides`` replace fields)."""
        values: dict[str, object] = {
            "max_examples": self.max_examples,
            "derandomize": self.derandomize,
            "deadline": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
            "print_blob": True,
            "phases": tuple(Phase),
        }
        if not self.use_database:
            values["database"] = None
        values.update(overrides)
        return settings(**values)  # type: ignore[arg-type]


PROFILES: dict[str, Profile] = {
    "dev": Profile("dev", 30, False, True, "local runs: 30 instances per claim"),
    "ci": Profile("ci", 150, True, False, "CI: 150 derandomized instances per claim"),
    "thorough": Profile(
        "thorough", 10_000, False, False, "docs/THEOREMS.md: 10,000 instances per claim"
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; :class:`ValueError` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; use one of {sorted(PROFILES)}") from None


def selected_profile() -> Profile:
    """The profile named by ``PAMDP_PROFILE`` or ``HYPOTHESIS_PROFILE`` (default ``dev``)."""
    for variable in PROFILE_ENVIRONMENT:
        name = os.environ.get(variable)
        if name and name in PROFILES:
            return PROFILES[name]
    return PROFILES[DEFAULT_PROFILE]


def profile_settings(name: str | None = None, **overrides: object) -> settings:
    """Settings of the named profile (default: :func:`selected_profile`), for decorating a
    single test: ``@profile_settings()``."""
    profile = get_profile(name) if name is not None else selected_profile()
    return profile.settings(**overrides)


def register_profiles() -> None:
    """Register every profile with Hypothesis under its name (idempotent)."""
    for profile in PROFILES.values():
        settings.register_profile(profile.name, profile.settings())


def load_profile(name: str | None = None) -> Profile:
    """Register the profiles and load one globally (default: :func:`selected_profile`)."""
    register_profiles()
    profile = get_profile(name) if name is not None else selected_profile()
    settings.load_profile(profile.name)
    return profile


register_profiles()

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "get_profile",
    "load_profile",
    "profile_settings",
    "register_profiles",
    "selected_profile",
]
