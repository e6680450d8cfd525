"""The one entry point that solves an instance for an SPE (PAPER.md §2–3).

Every caller that needs "the SPE pamdp computes" — the command line, ``pamdp verify``'s
reference, the fuzzer's reference solution, the theorem properties, the deep backend's
validation — calls :func:`solve`; nothing else dispatches on the horizon. The result records
the method, the tie rule and every tolerance used (the shape of QuantEcon's ``DPSolveResult``),
so a number can always be traced to the settings that produced it.

Methods
-------
``"backward_induction"``
    Exact SPE of an episodic instance (acyclic state graph), from the episode ends upwards
    (:func:`solvers.backward_induction.solve_backward_induction`). No iteration: one pass.
``"meta_algorithm"``
    Algorithm 1 (:func:`solvers.meta_algorithm.meta_algorithm`): alternate agent and principal
    best responses from ρ₀ (zero contracts) until the policy stops changing (contracts within
    ``tol``, sup-norm) or ``max_iterations`` rounds; a bitwise repeat of an earlier iterate is
    reported as a cycle. For γ < 1 it need not converge (docs/THEOREMS.md); ``converged`` says
    whether it did, and a non-converged result is *not* an SPE. **Polish**: when it converges
    (and ``polish`` allows), its last contracts — minimal for the previous round's Q̄, so up
    to ``tol`` short for the final one — are replaced by the exact self-consistent minimal
    contracts of its final recommendations (:func:`solvers.equilibria.profile_fixed_point`,
    the unique fixed point for γ < 1), and every reported value, Q̄ and contractual q comes
    from those: the values then belong to the recommendation actually followed, whatever the
    stopping tolerance (tests/regressions/meta-reported-value-jump.json). When it cycles,
    ``pamdp equilibria`` enumerates the exact equilibria of small instances.
``"auto"`` (default)
    Backward induction when the instance is episodic, else the meta-algorithm.

Ties and tolerances travel in one :class:`theory.ties.Ties` object, passed unchanged to the
contract solver. ``exact=True`` computes in rationals (backward induction only; exact
arithmetic compares exactly and uses the margin as the rational it holds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from solvers.backward_induction import SPESolution, solve_backward_induction
from solvers.equilibria import ProfileFixedPoint, profile_fixed_point
from solvers.meta_algorithm import (
    MetaAlgorithmResult,
    PrincipalPolicy,
    meta_algorithm,
    principal_step,
)
from theory.model import PrincipalAgentMDP
from theory.ties import DEFAULT_TIES, Ties

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_TOL",
    "METHODS",
    "Method",
    "SolveResult",
    "solve",
]

Method = Literal["auto", "backward_induction", "meta_algorithm"]
METHODS: tuple[str, ...] = ("auto", "backward_induction", "meta_algorithm")
#: The meta-algorithm's default iteration cap.
DEFAULT_MAX_ITERATIONS = 1000
#: The meta-algorithm's default stopping tolerance (contracts within this are unchanged).
DEFAULT_TOL = 1e-9
#: ``polish="auto"`` polishes converged runs on instances with at most this many states.
POLISH_MAX_STATES = 500

_LABELS = {
    "backward_induction": "backward induction",
    "meta_algorithm": "meta-algorithm (Algorithm 1)",
}


@dataclass(frozen=True, eq=False)
class SolveResult:
    """An SPE (or the meta-algorithm's last iterate) and every setting that produced it.

    Attributes
    ----------
    solution : the policy with its values, Q̄ and contractual q per state.
    method : ``"backward_induction"`` or ``"meta_algorithm"`` (never ``"auto"``).
    exact : whether the numbers are exact rationals.
    ties : the tie rules, tolerances and margin used.
    converged : True for backward induction; for the meta-algorithm whether ρ stopped changing.
    iterations : rounds run (1 for backward induction).
    max_iterations, tol : the meta-algorithm's cap and stopping tolerance (``None`` for
        backward induction, which has neither).
    cycle_start : the index of the iterate a cycling run revisited, else ``None``.
    seconds : wall time of the solve.
    meta : the meta-algorithm's full trace (every iterate), else ``None``.
    polished : the exact self-consistent minimal contracts that replaced the meta-algorithm's
        last contracts (module docstring), else ``None``.
    """

    solution: SPESolution
    method: str
    exact: bool
    ties: Ties
    converged: bool
    iterations: int
    max_iterations: int | None
    tol: float | None
    cycle_start: int | None
    seconds: float
    meta: MetaAlgorithmResult | None = None
    polished: ProfileFixedPoint | None = None

    @property
    def is_spe(self) -> bool:
        """Whether the solver's own stopping rule certifies an SPE (backward induction, or a
        converged meta-algorithm); ``pamdp verify`` checks it independently."""
        return self.converged

    def label(self) -> str:
        """The method for people, e.g. ``"backward induction (exact)"``."""
        return _LABELS[self.method] + (" (exact)" if self.exact else "")

    def settings(self) -> dict[str, Any]:
        """Every setting, JSON-ready (written into solution files as ``"solver"``)."""
        out: dict[str, Any] = {
            "method": self.label(),
            "exact": self.exact,
            "ties": self.ties.to_dict(),
        }
        if self.method == "meta_algorithm":
            out.update(
                iterations=self.iterations,
                converged=self.converged,
                max_iterations=self.max_iterations,
                tol=self.tol,
            )
            if self.cycle_start is not None:
                out["cycle_start"] = self.cycle_start
            out["polished"] = self.polished is not None
        return out

    def status(self) -> str:
        """One line: converged, cycling or stopped at the cap."""
        if self.method == "backward_induction":
            return "exact SPE by backward induction"
        if self.converged:
            return f"converged in {self.iterations} iterations"
        if self.cycle_start is not None:
            period = self.iterations - self.cycle_start
            return (
                f"did NOT converge: the iterates cycle (iterate {self.iterations} repeats "
                f"iterate {self.cycle_start}, period {period})"
            )
        return f"did NOT converge within {self.max_iterations} iterations"


def solve(
    model: PrincipalAgentMDP,
    *,
    method: Method | str = "auto",
    exact: bool = False,
    ties: Ties = DEFAULT_TIES,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tol: float = DEFAULT_TOL,
    initial_policy: PrincipalPolicy | None = None,
    contract_method: str = "auto",
    polish: bool | str = "auto",
) -> SolveResult:
    """Solve ``model`` for an SPE (module docstring).

    Parameters
    ----------
    model : the instance.
    method : ``"auto"``, ``"backward_induction"`` or ``"meta_algorithm"``.
    exact : rational arithmetic (backward induction only).
    ties : tie rules, tolerances and nudging margin (:class:`theory.ties.Ties`).
    max_iterations, tol : the meta-algorithm's cap (≥ 1) and stopping tolerance (≥ 0).
    initial_policy : the meta-algorithm's ρ₀ (default: zero contracts, no recommendation).
    contract_method : float backward induction's contract solver (``"auto"``,
        ``"closed_form"`` or ``"lp"``).
    polish : replace a converged meta-algorithm run's last contracts by the exact
        self-consistent minimal contracts of its recommendations (module docstring): ``True``,
        ``False``, or ``"auto"`` (when the instance has at most :data:`POLISH_MAX_STATES`
        states: the exact fixed point solves rational linear systems).

    Raises
    ------
    ValueError
        An unknown method, backward induction on an instance with a cycle, exact arithmetic
        with the meta-algorithm, or a cap / tolerance out of range (each naming the value).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (value: {method!r})")
    if method == "auto":
        method = "backward_induction" if model.is_episodic else "meta_algorithm"
    start = time.perf_counter()
    if method == "backward_induction":
        solution = solve_backward_induction(
            model, exact=exact, ties=ties, contract_method=contract_method
        )
        return SolveResult(
            solution=solution,
            method="backward_induction",
            exact=exact,
            ties=ties,
            converged=True,
            iterations=1,
            max_iterations=None,
            tol=None,
            cycle_start=None,
            seconds=time.perf_counter() - start,
        )
    if exact:
        raise ValueError(
            "exact arithmetic needs an episodic instance (backward induction); the "
            "meta-algorithm for discounted instances runs in floats — use `pamdp equilibria` "
            "for exact equilibria of small discounted instances"
        )
    if not isinstance(max_iterations, int) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a whole number ≥ 1 (value: {max_iterations!r})")
    if not tol >= 0:
        raise ValueError(f"tol must be a non-negative number (value: {tol!r})")
    if polish not in (True, False, "auto"):
        raise ValueError(f"polish must be True, False or 'auto' (value: {polish!r})")
    result = meta_algorithm(
        model,
        initial_policy=initial_policy,
        max_iterations=max_iterations,
        tol=tol,
        ties=ties,
    )
    solution, polished = result.solution, None
    if result.converged and (
        polish is True or (polish == "auto" and model.n_states <= POLISH_MAX_STATES)
    ):
        solution, polished = _polish(model, result.solution, ties)
    return SolveResult(
        solution=solution,
        method="meta_algorithm",
        exact=False,
        ties=ties,
        converged=result.converged,
        iterations=result.iterations,
        max_iterations=max_iterations,
        tol=tol,
        cycle_start=result.cycle_start,
        seconds=time.perf_counter() - start,
        meta=result,
        polished=polished,
    )


def _polish(
    model: PrincipalAgentMDP, solution: SPESolution, ties: Ties
) -> tuple[SPESolution, ProfileFixedPoint | None]:
    """The converged run's recommendations with their exact self-consistent minimal contracts
    (module docstring): values from the exact evaluation, ``principal_q`` / ``implementable``
    / ``contracts_all`` from one principal step on the exact fixed point's Q̄. A profile the
    exact arithmetic finds unimplementable (a float boundary case) is left unpolished."""
    from theory.exact_evaluation import evaluate_policy_exact

    try:
        fixed = profile_fixed_point(model, solution.recommended.tolist(), margin=ties.margin)
    except ValueError:
        return solution, None
    contracts = [list(c) for c in fixed.contracts]
    exact = evaluate_policy_exact(model, solution.recommended, contracts)
    q_bar = np.array([[float(x) for x in row] for row in fixed.q_bar])
    _, q, _, all_contracts = principal_step(model, q_bar, ties=ties)
    polished = SPESolution(
        recommended=solution.recommended,
        contracts=np.array([[float(x) for x in c] for c in contracts]),
        principal_values=np.array([float(x) for x in exact.principal_values]),
        agent_values=np.array([float(x) for x in exact.agent_values]),
        q_bar=q_bar,
        principal_q=q,
        implementable=all_contracts.implementable,
        contracts_all=all_contracts.contracts,
        exact=False,
        iterations=solution.iterations,
    )
    return polished, fixed
