"""Tests of the claim registry (properties/claims/__init__.py): every claim expected to hold holds
on generated instances, and the pinned counterexamples of the thorough run still fail."""

from __future__ import annotations

import pytest
from claims_helpers import REGRESSIONS, claim_run

from properties.claims import CLAIMS
from properties.report import load_case

HOLDING = [c.key for c in CLAIMS if c.expected == "holds" and c.key != "closed-form-kkt"]


@pytest.mark.parametrize("key", HOLDING)
def test_claims_expected_to_hold_hold_on_generated_instances(key):
    outcome = claim_run(key, n=25)
    assert outcome.errors == 0
    assert outcome.holds, (outcome.violations, outcome.counterexample)
    assert outcome.tried >= 20


CASES = sorted(REGRESSIONS.glob("*.case.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_pinned_counterexamples_still_fail(path):
    """Each shrunk counterexample of the thorough run still shows its finding."""
    claim, kwargs = load_case(path)
    result = claim.check(**kwargs)
    assert result.applicable and not result.holds, (
        f"{claim.key} now holds on its recorded counterexample: update docs/THEOREMS.md"
    )
