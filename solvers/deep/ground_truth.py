"""Ground truth for a learned principal on any finite instance (PAPER.md §2–3).

The deep backend's validation (:mod:`solvers.deep.validation`) scores a learned principal
against :func:`solvers.solve.solve` — backward induction on an episodic instance (the SPE
optimum, Theorem 3.3), the meta-algorithm on a cyclic one. For a cyclic (discounted) instance
the meta-algorithm need not converge and a pure stationary SPE need not exist (PAPER.md §3),
so this module adds the exact pure stationary SPEs of :func:`solvers.equilibria.pure_stationary`
(exact rationals, every recommendation profile judged by the one SPE checker) and says which
one a learned policy is closest to — or, honestly, that there is none.

"Closest" is the Hamming distance between recommendation profiles over the states that are
reachable from ``s0`` under *some* policy (the only states a training run can visit, the
reachable set of the instance's graph), ties broken by the distance over all states and then
by ``|V^p(s0) − V^p_SPE(s0)|``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from solvers.equilibria import MAX_PROFILES, EquilibriaTooLarge, pure_stationary
from solvers.solve import SolveResult, solve
from theory.model import PrincipalAgentMDP
from theory.ties import EXACT_TIES

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def graph_reachable(model: PrincipalAgentMDP) -> BoolArray:
    """States reachable from ``s0`` under some policy (any action, any outcome with a
    positive probability under some action, any successor with a positive probability)."""
    n_s, n_o = model.n_states, model.n_outcomes
    possible = np.any(model.outcome_probs > 0, axis=1)  # (S, O)
    seen = np.zeros(n_s, dtype=bool)
    seen[model.initial_state] = True
    stack = [model.initial_state]
    offsets, nxt, prob = model.transition_offsets, model.transition_next, model.transition_prob
    while stack:
        s = stack.pop()
        for o in np.flatnonzero(possible[s]):
            row = s * n_o + int(o)
            for k in range(offsets[row], offsets[row + 1]):
                t = int(nxt[k])
                if prob[k] > 0 and not seen[t]:
                    seen[t] = True
                    stack.append(t)
    return seen


@dataclass(frozen=True)
class PureSPE:
    """One exact pure stationary SPE: its profile and the values at ``s0`` (as floats)."""

    recommended: tuple[int, ...]
    principal_value: float
    agent_value: float


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """What a learned principal on ``model`` is compared with.

    Attributes
    ----------
    solve_result : :func:`solvers.solve.solve` (the validation's reference).
    pure_spes : the exact pure stationary SPEs (cyclic instances; ``None`` when not searched:
        episodic instances, or the enumeration was over its size limit — see ``note``).
    reachable : :func:`graph_reachable`.
    note : why the pure stationary SPEs were not searched, if they were not.
    """

    model: PrincipalAgentMDP
    solve_result: SolveResult
    pure_spes: tuple[PureSPE, ...] | None
    reachable: BoolArray
    note: str = ""

    def closest(self, recommended: Sequence[int] | IntArray) -> dict[str, Any]:
        """The comparison of a learned profile with the ground truth (JSON-ready).

        Episodic: agreement with the backward-induction SPE. Cyclic: agreement with the
        meta-algorithm's result and the closest pure stationary SPE (module docstring), or
        ``"no pure stationary SPE"``.
        """
        rec = np.asarray(recommended, dtype=np.int64)
        reach = self.reachable
        reference = np.asarray(self.solve_result.solution.recommended, dtype=np.int64)
        out: dict[str, Any] = {
            "reference": self.solve_result.label(),
            "reference_converged": bool(self.solve_result.converged),
            "reference_disagreements_reachable": int(np.sum((rec != reference) & reach)),
            "reference_disagreements_all": int(np.sum(rec != reference)),
            "reachable_states": int(reach.sum()),
        }
        if self.model.is_episodic:
            return out
        if self.pure_spes is None:
            out["pure_stationary_spes"] = None
            out["closest_pure_spe"] = f"not searched: {self.note}"
            return out
        out["pure_stationary_spes"] = len(self.pure_spes)
        if not self.pure_spes:
            out["closest_pure_spe"] = "no pure stationary SPE"
            return out
        s0 = self.model.initial_state
        v_p = float(self.solve_result.solution.principal_values[s0])

        def key(spe: PureSPE) -> tuple[int, int, float]:
            profile = np.asarray(spe.recommended)
            return (
                int(np.sum((profile != rec) & reach)),
                int(np.sum(profile != rec)),
                abs(spe.principal_value - v_p),
            )

        index = min(range(len(self.pure_spes)), key=lambda i: key(self.pure_spes[i]))  # type: ignore[index]
        best = self.pure_spes[index]
        distance = key(best)
        out["closest_pure_spe"] = {
            "index": index,
            "recommended": list(best.recommended),
            "principal_value_s0": best.principal_value,
            "agent_value_s0": best.agent_value,
            "disagreements_reachable": distance[0],
            "disagreements_all": distance[1],
            "equal_on_reachable_states": distance[0] == 0,
        }
        return out


def ground_truth(
    model: PrincipalAgentMDP,
    *,
    solve_result: SolveResult | None = None,
    max_profiles: int = MAX_PROFILES,
) -> GroundTruth:
    """The ground truth of ``model`` (module docstring); ``solve_result`` reuses a solve."""
    result = solve_result if solve_result is not None else solve(model)
    reach = graph_reachable(model)
    if model.is_episodic:
        return GroundTruth(model, result, None, reach, "episodic: backward induction is exact")
    try:
        found, _ = pure_stationary(model, ties=EXACT_TIES, max_profiles=max_profiles)
    except EquilibriaTooLarge as error:
        return GroundTruth(model, result, None, reach, str(error))
    s0 = model.initial_state
    spes = tuple(
        PureSPE(
            tuple(int(a) for a in r.fixed_point.recommended),
            float(r.principal_values[s0]),
            float(r.agent_values[s0]),
        )
        for r in found
        if r.is_spe
    )
    return GroundTruth(model, result, spes, reach)
