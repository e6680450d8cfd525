"""Tests of the contracts claim family (properties/claims/contracts.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from claims_helpers import THREE, one_state

from properties.claims.contracts import check_minimal_contract
from solvers.contracts import ContractSolution, minimal_contracts
from theory.ties import Ties


def test_minimal_contract_holds_on_the_three_state_example():
    result = check_minimal_contract(THREE)
    assert result.holds, result.explain()
    assert result.measurements["problems"] == 2 * 3 * 2 * 2


def test_minimal_contract_reports_unimplementable_actions():
    # a1 has a0's distribution at a lower reward: unimplementable, certified by Farkas
    model = one_state([0, "-1/2"], [["1/2", "1/2"], ["1/2", "1/2"]])
    assert check_minimal_contract(model).holds


@pytest.mark.parametrize(
    "broken", ["1% short", "ties against the principal", "always implementable"]
)
def test_minimal_contract_catches_planted_errors(broken):
    def solver(q: Any, p: Any, rec: Any, **kwargs: Any) -> ContractSolution:
        if broken == "ties against the principal":
            return minimal_contracts(q, p, rec, ties=Ties(margin=1e-3), **kwargs)
        good = minimal_contracts(q, p, rec, **kwargs)
        if broken == "1% short":
            return ContractSolution(
                good.contracts * 0.99, good.implementable, good.expected_payment * 0.99
            )
        return ContractSolution(
            good.contracts, np.ones_like(good.implementable), np.nan_to_num(good.expected_payment)
        )

    model = (
        one_state([0, "-1/2"], [["1/2", "1/2"], ["1/2", "1/2"]])
        if broken == "always implementable"
        else THREE
    )
    result = check_minimal_contract(model, solver=solver)
    assert not result.holds
