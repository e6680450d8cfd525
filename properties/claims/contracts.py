"""Claim family *contracts*: minimal contracts are IC, non-negative and cheapest (PAPER.md §1).

:func:`check_minimal_contract` compares the fast contract solver with the exact simplex of
:mod:`theory.exact_contracts`, whose dual / Farkas certificate is re-verified exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from properties import strategies as pst
from properties.claims.common import (
    _SMALL,
    _ZERO,
    DEFAULT_TOL,
    Claim,
    ContractSolver,
    _exact_probs,
    _fractions,
    _model_only,
    _principal_continuations,
)
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import result as _result
from solvers.contracts import minimal_contracts
from theory.exact_contracts import minimal_contract_exact
from theory.model import PrincipalAgentMDP, to_fraction
from theory.rational import dot as _dot


def _candidate_q_bars(model: PrincipalAgentMDP) -> list[list[list[Fraction]]]:
    """Exact Q̄ tables to test contracts on: ``r`` itself and ``r + γ E[max_a r(s', a)]``."""
    data = model.exact_data()
    reward = data.agent_reward.tolist()
    best = [max(row) for row in reward]
    probs = _exact_probs(model)
    w = _principal_continuations(
        replace(
            model,
            exact=replace(
                data, principal_reward=np.full(data.principal_reward.shape, _ZERO, dtype=object)
            ),
        ),
        best,
    )
    lookahead = [
        [reward[s][a] + _dot(probs[s][a], w[s]) for a in range(model.n_actions)]
        for s in range(model.n_states)
    ]
    return [reward, lookahead]


def check_minimal_contract(
    model: PrincipalAgentMDP,
    *,
    solver: ContractSolver = minimal_contracts,
    methods: Sequence[str] = ("auto", "lp"),
    q_bars: Sequence[Sequence[Sequence[Any]]] | None = None,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Minimal contracts are incentive compatible, non-negative and cheapest (PAPER.md §1).

    Claim (PAPER.md §1, "Minimal implementation"): ``b*(s, a^p)`` is the cheapest
    non-negative contract making ``a^p`` a best response, and ``a^p`` is implementable exactly
    when the LP is feasible.

    Definition checked, for every state ``s``, every action ``a^p`` and every test table
    ``Q̄`` (by default ``r`` and ``r + γ E[max_a r(s', a)]``, exact rationals), for each
    ``method`` of ``solver``:

    * ``implementable`` equals the exact LP's feasibility, proven by the exact certificate of
      :func:`theory.exact_contracts.minimal_contract_exact` (dual solution or Farkas ray,
      re-verified with :meth:`ExactContract.verify`);
    * when implementable: ``b ≥ 0``; ``E_{a^p}[b] + Q̄(a^p) ≥ E_a[b] + Q̄(a) − tol`` for all
      ``a``; ``|E_{a^p}[b] − OPT| ≤ tol`` where ``OPT`` is certified optimal; and the solver's
      ``expected_payment`` equals ``E_{a^p}[b]`` within ``tol``.
    """
    claim = "minimal-contract"
    tables = [
        [[to_fraction(x) for x in row] for row in table]
        for table in (q_bars if q_bars is not None else _candidate_q_bars(model))
    ]
    probs = _exact_probs(model)
    out: list[str] = []
    n_problems = 0
    tolerance = to_fraction(tol)
    for t, table in enumerate(tables):
        q_float = np.array([[float(x) for x in row] for row in table], dtype=np.float64)
        for s in range(model.n_states):
            references = [
                minimal_contract_exact(table[s], probs[s], a) for a in range(model.n_actions)
            ]
            for ref in references:
                ref.verify()
            rec = np.arange(model.n_actions)
            for method in methods:
                if method == "closed_form" and model.n_outcomes != 2:
                    continue
                if method == "auto" and model.n_outcomes != 2 and "lp" in methods:
                    continue  # "auto" is the LP for ≠ 2 outcomes: already checked
                got = solver(
                    np.repeat(q_float[s][None], model.n_actions, axis=0),
                    np.repeat(model.outcome_probs[s][None], model.n_actions, axis=0),
                    rec,
                    method=method,
                )
                for a, ref in enumerate(references):
                    n_problems += 1
                    where = f"table {t}, {model.states[s]}, a^p={a}, method {method}"
                    if bool(got.implementable[a]) != ref.implementable:
                        out.append(
                            f"{where}: solver says implementable="
                            f"{bool(got.implementable[a])}, exact LP says "
                            f"{ref.implementable}"
                        )
                        continue
                    if not ref.implementable:
                        continue
                    assert ref.expected_payment is not None
                    b = _fractions(got.contracts[a])
                    if any(x < 0 for x in b):
                        out.append(f"{where}: negative payment {[_f(x) for x in b]}")
                    paid = _dot(probs[s][a], b)
                    mine = table[s][a] + paid
                    for other in range(model.n_actions):
                        theirs = table[s][other] + _dot(probs[s][other], b)
                        if theirs > mine + tolerance:
                            out.append(
                                f"{where}: not incentive compatible — action {other} "
                                f"beats a^p by {_f(theirs - mine)}"
                            )
                    if abs(paid - ref.expected_payment) > tolerance:
                        out.append(
                            f"{where}: pays {_f(paid)} in expectation, the certified "
                            f"optimum is {_f(ref.expected_payment)}"
                        )
                    reported = float(got.expected_payment[a])
                    if not abs(reported - float(paid)) <= tol:
                        out.append(
                            f"{where}: reports expected payment {_f(reported)} but its "
                            f"contract pays {_f(paid)}"
                        )
    return _result(claim, out, problems=n_problems)


MINIMAL_CONTRACT = Claim(
    "minimal-contract",
    "minimal contracts are IC, non-negative and cheapest; implementable iff the LP is feasible",
    "§1 Minimal implementation",
    "fast solver (closed form and HiGHS LP) vs exact simplex with verified dual/Farkas "
    "certificate, on Q̄ = r and Q̄ = r + γE[max r]",
    _model_only(pst.instances(**_SMALL)),
    check_minimal_contract,
)

__all__ = ["MINIMAL_CONTRACT", "check_minimal_contract"]
