"""Tests of the Hypothesis profiles (properties/profiles.py)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from properties.profiles import (
    PROFILES,
    get_profile,
    load_profile,
    profile_settings,
    selected_profile,
)


def test_three_profiles_in_one_place():
    assert set(PROFILES) == {"dev", "ci", "thorough"}
    assert PROFILES["thorough"].max_examples >= 10_000
    assert PROFILES["dev"].max_examples < PROFILES["ci"].max_examples
    assert PROFILES["ci"].derandomize and not PROFILES["ci"].use_database


@pytest.mark.parametrize("name", ["dev", "ci", "thorough"])
def test_profiles_are_registered_with_hypothesis(name):
    registered = settings.get_profile(name)
    assert registered.max_examples == PROFILES[name].max_examples
    assert registered.deadline is None


def test_profile_settings_override():
    config = profile_settings("ci", max_examples=7)
    assert config.max_examples == 7 and config.derandomize and config.database is None


def test_selected_profile_reads_the_environment(monkeypatch):
    monkeypatch.delenv("PAMDP_PROFILE", raising=False)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    assert selected_profile().name == "dev"
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "thorough")
    assert selected_profile().name == "thorough"
    monkeypatch.setenv("PAMDP_PROFILE", "ci")
    assert selected_profile().name == "ci"
    monkeypatch.setenv("PAMDP_PROFILE", "nonsense")
    assert selected_profile().name == "thorough"


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(ValueError, match="ci"):
        get_profile("fast")


def test_load_profile_sets_the_global_default():
    previous = getattr(settings, "_current_profile", None) or "default"
    try:
        assert load_profile("ci").name == "ci"
        assert settings.default.max_examples == PROFILES["ci"].max_examples
    finally:
        settings.load_profile(previous)  # leave the suite's profile as it was
