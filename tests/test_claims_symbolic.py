"""Tests of the symbolic claim family (properties/claims/symbolic.py)."""

from __future__ import annotations

from claims_helpers import claim_run


def test_the_closed_form_proof_is_a_claim():
    outcome = claim_run("closed-form-kkt")
    assert outcome.holds and outcome.tried == 1 and outcome.summary["cases"]["max"] > 100
