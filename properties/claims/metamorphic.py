"""Claim family *metamorphic*: an instance and its transform have related SPEs (PAPER.md §1–2).

* observed action (:func:`check_observed_action`): the observed counterpart's principal earns
  first-best welfare minus the agent's outside value, at least the hidden-action value;
* scaling every reward by ``c > 0`` scales the SPE (:func:`check_reward_scaling`);
* relabelling states, actions and outcomes permutes it (:func:`check_relabelling`).

The transforms themselves are pure instance → instance functions in :mod:`theory.transforms`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import (
    _EPISODIC,
    _SMALL,
    DEFAULT_TOL,
    Claim,
    Draw,
    SPESolver,
    _model_only,
)
from properties.claims.equilibrium import default_spe_solver
from properties.claims.meta_algorithm import meta_tolerance
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from solvers.backward_induction import SPESolution, solve_backward_induction
from theory.model import PrincipalAgentMDP, to_fraction
from theory.ties import Ties
from theory.transforms import (
    first_best_values,
    no_contract_agent_values,
    observed_counterpart,
    relabel,
    scale_rewards,
)


def check_observed_action(
    model: PrincipalAgentMDP,
    *,
    solver: Callable[[PrincipalAgentMDP], SPESolution | None] = default_spe_solver,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Observed action: the principal earns first-best welfare minus the agent's outside value.

    Claim (PAPER.md §1, "Observed action" [D]): with observed actions the minimal contract pays
    ``max_a Q̄(s, a) − Q̄(s, a^p)`` on ``a^p`` only, the agent earns its no-contract value in
    every state, hence the principal's SPE value is ``W*(s) − V^a_0(s)`` (first-best welfare
    minus the agent's no-contract value) and at least the hidden-action SPE value of the same
    instance (more information cannot hurt the principal).

    Definition. For a hidden-action ``model`` let ``M_obs`` = :func:`observed_counterpart`
    (same expected rewards and dynamics). Checked, within ``tol``: at every state of
    ``M_obs``, ``V^p(s) = W*(s) − V^a_0(s)`` and ``V^a(s) = V^a_0(s)`` (exact
    :func:`first_best_values`, :func:`no_contract_agent_values`); and
    ``V^p_obs(s0) ≥ V^p_hidden(s0) − tol``. An observed-action ``model`` is its own
    counterpart (the second part is then skipped). ``solver`` returns an SPE or ``None``
    (meta-algorithm did not converge: the comparison is skipped).
    """
    claim = "observed-action"
    observed = model if model.observed_action else observed_counterpart(model)
    solution = solver(observed)
    if solution is None:
        return _not_applicable(claim, "no SPE computed for the observed counterpart")
    welfare = first_best_values(observed)
    outside = no_contract_agent_values(observed)
    out: list[str] = []
    # values computed by the meta-algorithm (discounted instances) are precise to
    # meta_tolerance; backward induction's to tol
    precision = tol if observed.is_episodic else meta_tolerance(observed, tol)
    for s in range(observed.n_states):
        expected = welfare[s] - outside[s]
        if abs(float(solution.principal_values[s]) - float(expected)) > precision:
            out.append(
                f"{observed.states[s]}: V^p = {_f(solution.principal_values[s])} but "
                f"W* − V^a_0 = {_f(welfare[s])} − {_f(outside[s])} = {_f(expected)}"
            )
        if abs(float(solution.agent_values[s]) - float(outside[s])) > precision:
            out.append(
                f"{observed.states[s]}: V^a = {_f(solution.agent_values[s])} but the "
                f"agent's no-contract value is {_f(outside[s])}"
            )
    gap = float("nan")
    if not model.observed_action:
        hidden = solver(model)
        if hidden is not None:
            s0 = model.initial_state
            gap = float(solution.principal_values[s0]) - float(hidden.principal_values[s0])
            if gap < -precision:
                out.append(
                    f"observed-action V^p(s0) = {_f(solution.principal_values[s0])} < "
                    f"hidden-action V^p(s0) = {_f(hidden.principal_values[s0])}"
                )
    return _result(claim, out, information_gain=gap)


def check_reward_scaling(
    model: PrincipalAgentMDP,
    factor: Any = 2,
    *,
    solver: SPESolver = solve_backward_induction,
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Scaling every reward by ``c > 0`` scales contracts and values by ``c``.

    Justification: with all rewards multiplied by ``c``, ``Q̄`` scales by ``c``; the
    minimal-contract LP (PAPER.md §1) has right-hand sides ``Q̄(a) − Q̄(a^p)`` scaled by ``c``
    and the same constraint matrix, so its optimal contracts scale by ``c`` (and
    implementability is unchanged); the principal's contractual q scales by ``c``, so the same
    actions are optimal. By induction over levels the SPE scales (no reference to a paper
    theorem: this is a consistency property of the definitions of PAPER.md §1–2).

    Definition (episodic instances, ``solver`` on both): same recommendations, and
    ``V^p``, ``V^a`` at every state and every contract entry scaled by ``c`` within
    ``tol · max(1, c)``.
    """
    claim = "metamorphic-scaling"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")
    c = to_fraction(factor)
    if c <= 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    base = solver(model)
    scaled = solver(scale_rewards(model, c))
    bound = tol * max(1.0, float(c))
    out: list[str] = []
    for s in range(model.n_states):
        name = model.states[s]
        if base.recommended[s] != scaled.recommended[s]:
            out.append(
                f"{name}: recommends {base.recommended[s]}, after scaling by {c} "
                f"{scaled.recommended[s]}"
            )
            continue
        for label, x, y in (
            ("V^p", base.principal_values[s], scaled.principal_values[s]),
            ("V^a", base.agent_values[s], scaled.agent_values[s]),
        ):
            if abs(float(c) * float(x) - float(y)) > bound:
                out.append(
                    f"{name}: {label} = {_f(x)}, after scaling by {c}: {_f(y)} "
                    f"(expected {_f(float(c) * float(x))})"
                )
        diff = np.max(
            np.abs(
                float(c) * np.asarray(base.contracts[s], dtype=np.float64)
                - np.asarray(scaled.contracts[s], dtype=np.float64)
            )
        )
        if diff > bound:
            out.append(
                f"{name}: contract {np.asarray(base.contracts[s], float).tolist()} "
                f"scaled by {c} differs from "
                f"{np.asarray(scaled.contracts[s], float).tolist()}"
            )
    return _result(claim, out, factor=float(c))


def check_relabelling(
    model: PrincipalAgentMDP,
    state_order: Sequence[int],
    action_order: Sequence[int],
    outcome_order: Sequence[int] | None = None,
    *,
    solver: SPESolver | None = None,
    tie_break: str = "agent_best",
    tol: float = DEFAULT_TOL,
) -> PropertyResult:
    """Relabelling states, actions or outcomes permutes the SPE.

    Justification: PAPER.md §1–2 define the model and the SPE without reference to the order
    in which states, actions and outcomes are listed, so a solver must return the permuted
    solution — *up to the principal's choice among equally good actions*. Such ties matter
    (the tied actions can leave the agent different values, which changes incentives
    upstream), so the property is stated for a label-independent tie rule (``tie_break``:
    ``"agent_best"`` / ``"agent_worst"``, see :mod:`solvers.backward_induction`) and also run,
    as its own claim, with the default ``"lowest_index"`` rule, which is label-dependent.

    Definition (episodic instances): ``V^p`` and ``V^a`` of every state equal those of its
    image within ``tol``; where the principal's best action is unique (no other action within
    ``tol`` of its q), the recommendations correspond and the contracts cost the same. (The
    contract *vectors* need not be permutations of each other: the minimal contract is not
    unique when two outcomes are equally informative, and the thorough run found exactly that,
    tests/regressions/relabelling-contract-not-unique.json.)
    """
    claim = f"metamorphic-relabelling-{tie_break}"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance")

    def default(m: PrincipalAgentMDP) -> SPESolution:
        return solve_backward_induction(m, ties=Ties(principal_rule=tie_break))

    run = solver if solver is not None else default
    o_ord = (
        list(action_order)
        if model.observed_action
        else list(outcome_order if outcome_order is not None else range(model.n_outcomes))
    )
    other = relabel(model, state_order, action_order, o_ord)
    base, permuted = run(model), run(other)
    out: list[str] = []
    for new_s, old_s in enumerate(state_order):
        name = model.states[old_s]
        for label, x, y in (
            ("V^p", base.principal_values[old_s], permuted.principal_values[new_s]),
            ("V^a", base.agent_values[old_s], permuted.agent_values[new_s]),
        ):
            if abs(float(x) - float(y)) > tol:
                out.append(f"{name}: {label} = {_f(x)}, after relabelling {_f(y)}")
        q = np.asarray(base.principal_q[old_s], dtype=np.float64)
        best = q[base.recommended[old_s]]
        unique = int(np.sum(q >= best - tol)) == 1
        if unique:
            mapped = action_order[int(permuted.recommended[new_s])]
            if mapped != base.recommended[old_s]:
                out.append(
                    f"{name}: recommends {model.actions[base.recommended[old_s]]}, "
                    f"after relabelling {model.actions[mapped]}"
                )
            else:
                # the minimal contract's *cost* is unique, the vector need not be (several
                # LP vertices can be optimal, and which one a solver returns depends on the
                # order of the outcomes): compare expected payments
                rec_old = int(base.recommended[old_s])
                want = float(
                    model.outcome_probs[old_s, rec_old]
                    @ np.asarray(base.contracts[old_s], dtype=np.float64)
                )
                got = float(
                    other.outcome_probs[new_s, int(permuted.recommended[new_s])]
                    @ np.asarray(permuted.contracts[new_s], dtype=np.float64)
                )
                if abs(want - got) > tol:
                    out.append(f"{name}: expected payment {_f(want)} becomes {_f(got)}")
    return _result(claim, out)


@st.composite
def _scaling_cases(draw: Draw) -> dict[str, Any]:
    model = draw(pst.episodic_instances(**_EPISODIC))
    factor = draw(
        st.sampled_from([Fraction(2), Fraction(1, 2), Fraction(3), Fraction(10), Fraction(1, 10)])
    )
    return {"model": model, "factor": factor}


@st.composite
def _relabel_cases(draw: Draw, tie_break: str) -> dict[str, Any]:
    model = draw(pst.episodic_instances(**_EPISODIC))
    return {
        "model": model,
        "state_order": draw(st.permutations(range(model.n_states))),
        "action_order": draw(st.permutations(range(model.n_actions))),
        "outcome_order": draw(st.permutations(range(model.n_outcomes))),
        "tie_break": tie_break,
    }


OBSERVED_ACTION = Claim(
    "observed-action",
    "observed action: V^p = W* − V^a_0 everywhere, and ≥ the hidden-action V^p",
    "§1 Observed action [D]",
    "observed counterpart (same expectations); exact first best and no-contract "
    "values; SPE by backward induction / converged meta-algorithm",
    _model_only(pst.instances(**_SMALL, max_outcomes=3, observed_action=False)),
    check_observed_action,
)
SCALING = Claim(
    "metamorphic-scaling",
    "scaling all rewards by c > 0 scales contracts and values by c",
    "§1 definitions (consistency)",
    "c ∈ {2, 1/2, 3, 10, 1/10}; same recommendations; V^p, V^a, contracts × c",
    _scaling_cases(),
    check_reward_scaling,
)
RELABELLING_AGENT_BEST = Claim(
    "metamorphic-relabelling-agent_best",
    "relabelling states, actions, outcomes permutes the SPE (label-free tie rule)",
    "§1–2 definitions (consistency)",
    "tie rule agent_best; V^p, V^a per state equal; strict choices permuted with "
    "equal contract cost",
    _relabel_cases("agent_best"),
    check_relabelling,
)
RELABELLING_LOWEST_INDEX = Claim(
    "metamorphic-relabelling-lowest_index",
    "relabelling permutes the SPE (default lowest-index tie rule)",
    "§1–2 definitions (consistency)",
    "tie rule lowest_index; as above",
    _relabel_cases("lowest_index"),
    check_relabelling,
    expected="open",
)

__all__ = [
    "OBSERVED_ACTION",
    "RELABELLING_AGENT_BEST",
    "RELABELLING_LOWEST_INDEX",
    "SCALING",
    "check_observed_action",
    "check_relabelling",
    "check_reward_scaling",
]
