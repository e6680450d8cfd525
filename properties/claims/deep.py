"""Claim family *deep*: the deep backend (Algorithm 2) cross-validated against ground truth.

PAPER.md §4 validates Algorithm 2 with an exact best-responding agent; the design card promises
Hypothesis properties that cross-validate "an included deep-learning backend against ground
truth". Three properties, on generated small instances (2–4 actions and outcomes, trees and
DAGs of depth ≤ 4, :mod:`properties.strategies`):

* :func:`check_deep_exact_agent` — with the exact agent (``DeepConfig(agent="exact")``: the
  meta-algorithm's agent step in place of the agent network) the learned principal's greedy
  recommendations, implemented minimally, earn exactly the SPE value (backward induction);
* :func:`check_deep_learned_agent` — with both networks learned, a short seeded budget reaches
  an exact-contract ratio and an accuracy above thresholds that a documented sweep shows the
  method reliably reaches;
* :func:`check_deep_discounted` — on discounted instances with a unique pure stationary SPE
  (:func:`solvers.equilibria.pure_stationary`, exact), exact-agent mode reaches it.

Each property takes the trainer class (``trainer=``) so a planted error can be substituted:
:class:`MyopicAgentTrainer` is a principal that ignores the agent's continuation (it prices
contracts as if the agent cared only for its immediate reward), and the tests show every
property fails on it.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from properties import strategies as pst
from properties.claims.common import DEFAULT_TOL, Claim
from properties.results import PropertyResult
from properties.results import fmt as _f
from properties.results import not_applicable as _not_applicable
from properties.results import result as _result
from theory.model import PrincipalAgentMDP

__all__ = [
    "DEEP_CLAIMS",
    "DEEP_DISCOUNTED",
    "DEEP_EXACT_AGENT",
    "DEEP_LEARNED_AGENT",
    "EXACT_BUDGET",
    "LEARNED_BUDGET",
    "LEARNED_MIN_ACCURACY",
    "LEARNED_MIN_EXACT_RATIO",
    "MyopicAgentTrainer",
    "check_deep_discounted",
    "check_deep_exact_agent",
    "check_deep_learned_agent",
    "continuation_trap",
    "deep_cases",
    "discounted_cases",
]

#: exact-agent mode: the budget of :func:`check_deep_exact_agent` (the tree test's networks and
#: batches; 3,000 iterations — 1,500 missed the SPE on 1 of 9 sweep instances, see there)
EXACT_BUDGET: dict[str, Any] = {
    "iterations": 3000,
    "hidden_sizes": (64, 64),
    "batch_size": 128,
    "learning_starts": 128,
    "target_update_every": 100,
    "validate_every": 3000,
}
#: learned-agent mode: the short seeded budget of :func:`check_deep_learned_agent`
LEARNED_BUDGET: dict[str, Any] = {**EXACT_BUDGET, "iterations": 1500, "validate_every": 1500}
#: thresholds of :func:`check_deep_learned_agent` (from the sweep in its docstring)
LEARNED_MIN_EXACT_RATIO = 0.95
LEARNED_MIN_ACCURACY = 0.5
#: the margin ξ of the learned-agent property (Proposition 4.1: learned contracts need one)
LEARNED_NUDGE = 0.02

#: the instance family: episodic, 2–4 actions and outcomes, depth ≤ 4 (≤ 5 states), trees
#: and DAGs, no planted degeneracies (ties make "the" SPE action ambiguous, not wrong)
_FAMILY: dict[str, Any] = {
    "min_states": 2,
    "max_states": 5,
    "min_actions": 2,
    "max_actions": 4,
    "min_outcomes": 2,
    "max_outcomes": 4,
    "degenerate": False,
}


def _trainer_class() -> Any:
    from solvers.deep.trainer import DeepTrainer

    return DeepTrainer


def _myopic_class() -> Any:
    from solvers.deep.trainer import DeepTrainer

    class MyopicAgent(DeepTrainer):
        """PLANTED ERROR: a principal that ignores the agent's continuation — its contracts
        are computed from ``Q̄(s, a) = r(s, a)``, the agent's immediate reward only
        (``γ E V^a(s')`` dropped): in exact-agent mode the exact table is replaced by ``r``,
        with an agent network its targets are ``y^a = r(s, a)``."""

        def _agent_targets(self, batch: Any, q_next: Any) -> Any:
            return self._agent_reward[batch.states, batch.actions]

        def _sync_targets(self) -> None:
            super()._sync_targets()
            if self.agent is None:
                self._exact_q_bar = np.asarray(self.model.agent_reward, dtype=np.float64).copy()
                self._contract_table = None

    return MyopicAgent


class _LazyTrainer:
    """A class-like object created on first use (keeps torch out of the import)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._cls: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._cls is None:
            self._cls = self._factory()
        return self._cls(*args, **kwargs)


#: the planted error of the tests (a trainer class, built lazily)
MyopicAgentTrainer = _LazyTrainer(_myopic_class)
_DEFAULT_TRAINER = _LazyTrainer(_trainer_class)


def _train(model: PrincipalAgentMDP, seed: int, trainer: Any, **config: Any) -> tuple[Any, Any]:
    import torch

    from solvers.deep.config import DeepConfig

    torch.set_num_threads(1)
    instance = trainer(model, DeepConfig(**config), seed=seed)
    result = instance.train()
    return instance, result


def _optimal_share(model: PrincipalAgentMDP, recommended: Any, tol: float) -> tuple[float, int]:
    """Share of the states reachable from s0 (under some policy) whose recommendation is an
    SPE-optimal action (``q^p_SPE(s, a) ≥ max q^p_SPE(s, ·) − tol`` with backward induction's
    contractual q, i.e. the SPE's continuation), and the number of such states."""
    from solvers.deep.ground_truth import graph_reachable
    from solvers.solve import solve

    solution = solve(model).solution
    q = np.where(solution.implementable, np.asarray(solution.principal_q, dtype=float), -np.inf)
    best = q.max(axis=1)
    rec = np.asarray(recommended, dtype=np.int64)
    good = q[np.arange(model.n_states), rec] >= best - tol
    reach = graph_reachable(model)
    return float(np.mean(good[reach])), int(reach.sum())


def check_deep_exact_agent(
    model: PrincipalAgentMDP,
    *,
    seed: int = 0,
    trainer: Any = _DEFAULT_TRAINER,
    tol: float = DEFAULT_TOL,
    budget: dict[str, Any] | None = None,
) -> PropertyResult:
    """Exact-agent mode reaches the SPE value (PAPER.md §3–4).

    With the agent network replaced by the exact truncated Q of the agent when the principal
    implements its current greedy recommendations minimally (the meta-algorithm's agent step,
    reading R1), Algorithm 2 is the meta-algorithm with a learned principal step. Checked:
    the final greedy recommendations ``argmax q_θ(s, ·)``, implemented with the exact minimal
    contracts everywhere and played against the exact agent, earn the SPE principal value at
    ``s0`` (backward induction) to within ``tol``.

    Budget :data:`EXACT_BUDGET` (3,000 iterations, 2 × 64 networks, batches of 128, target copy
    every 100). Sweep (``theory.generators.random_instance`` DAGs, 2–5 states, 2–4 actions and
    outcomes drawn from ``default_rng(seed)``, training seed = instance seed): at this budget the
    value matched the SPE to 1e-7 on all 20 instances of seeds 100–119; at 1,500 iterations it
    missed on 1 of 9 (seeds 0–8: seed 7, 5 states × 3 actions × 4 outcomes, the smallest
    principal q-gap of the sweep, 0.066; V^p = 2.1601 vs 2.1716), which 3,000 iterations fix.
    The planted :class:`MyopicAgentTrainer` fails on :func:`continuation_trap`.
    """
    claim = "deep-exact-agent"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance (the episodic property)")
    from solvers.deep.validation import Validator

    config = {**EXACT_BUDGET, **(budget or {}), "agent": "exact"}
    instance, _ = _train(model, seed, trainer, **config)
    recommended = instance.greedy_policy()[0]
    validator: Validator = instance.validator
    value, _ = validator.minimal_implementation_values(recommended)
    spe = validator.spe_principal
    violations = []
    if abs(value - spe) > tol:
        violations.append(
            f"greedy recommendations {recommended.tolist()} implemented minimally earn "
            f"V^p(s0) = {_f(value)}, the SPE earns {_f(spe)} (difference {_f(value - spe)})"
        )
    return _result(claim, violations, value=value, spe_value=spe)


def check_deep_learned_agent(
    model: PrincipalAgentMDP,
    *,
    seed: int = 0,
    trainer: Any = _DEFAULT_TRAINER,
    min_exact_ratio: float = LEARNED_MIN_EXACT_RATIO,
    min_accuracy: float = LEARNED_MIN_ACCURACY,
    budget: dict[str, Any] | None = None,
) -> PropertyResult:
    """Algorithm 2 with a learned agent clears its reliable level on a short seeded budget.

    Budget :data:`LEARNED_BUDGET` (1,500 iterations, 2 × 64 networks, batches of 128, nudge
    ξ = 0.02). Checked on the final greedy principal:

    * **exact-contract ratio** ``V^p(s0)`` of its recommendations implemented with the exact
      minimal contracts ÷ ``V^p_SPE(s0)`` ≥ :data:`LEARNED_MIN_EXACT_RATIO` (0.95) — when the
      SPE value is positive; otherwise the value must be within 0.1·max(1, |V_SPE|) of it;
    * **accuracy** — the share of the states reachable from ``s0`` whose recommendation is an
      SPE-optimal action (backward induction's contractual q, ties within 1e-7 count as
      optimal) ≥ :data:`LEARNED_MIN_ACCURACY` (0.5).

    The thresholds are the method's reliable level, not its typical one. Sweep (the
    ``random_instance`` DAGs of :func:`check_deep_exact_agent`'s sweep, 29 instances: seeds 0–8
    and 100–119, this budget, training seed = instance seed): exact-contract ratio minimum
    0.9942, median 1.0; accuracy minimum 0.75 (one of four states), median 1.0; failure rate at
    these thresholds 0 of 29. The thresholds leave a margin below the minima (a 5-state
    instance with two wrong states scores 0.6).
    """
    claim = "deep-learned-agent"
    if not model.is_episodic:
        return _not_applicable(claim, "cyclic instance (the episodic property)")
    config = {**LEARNED_BUDGET, **(budget or {}), "agent": "network", "nudge": LEARNED_NUDGE}
    instance, _ = _train(model, seed, trainer, **config)
    recommended = instance.greedy_policy()[0]
    value, _ = instance.validator.minimal_implementation_values(recommended)
    spe = instance.validator.spe_principal
    accuracy, reachable = _optimal_share(model, recommended, DEFAULT_TOL)
    violations = []
    if spe > 0:
        ratio = value / spe
        if ratio < min_exact_ratio:
            violations.append(
                f"exact-contract ratio {_f(ratio)} < {min_exact_ratio} "
                f"(V^p = {_f(value)}, SPE {_f(spe)})"
            )
    else:
        ratio = float("nan")
        if abs(value - spe) > 0.1 * max(1.0, abs(spe)):
            violations.append(f"V^p = {_f(value)} is far from the SPE value {_f(spe)}")
    if accuracy < min_accuracy:
        violations.append(
            f"accuracy {_f(accuracy)} < {min_accuracy} over {reachable} reachable states"
        )
    return _result(claim, violations, exact_ratio=ratio, accuracy=accuracy, value=value)


def check_deep_discounted(
    model: PrincipalAgentMDP,
    *,
    seed: int = 0,
    trainer: Any = _DEFAULT_TRAINER,
    tol: float = 1e-6,
    budget: dict[str, Any] | None = None,
) -> PropertyResult:
    """Discounted instances with a unique pure stationary SPE: exact-agent mode reaches it.

    The pure stationary SPEs are enumerated exactly (:func:`solvers.equilibria.pure_stationary`,
    tolerance 0); instances with none or several are out of scope (not applicable). Episodes
    restart at ``s0`` after ``max(|S|, ⌈1/(1 − γ)⌉)`` steps (:mod:`solvers.deep.environment`).
    Checked: the final greedy recommendations equal the SPE's on every state reachable from
    ``s0`` (the states a run can visit), and, implemented minimally (the fixed point of reading
    R1), earn the SPE's ``V^p(s0)`` within ``tol`` (the fixed point is found by successive
    approximation to 1e-12).
    """
    claim = "deep-discounted"
    if model.is_episodic:
        return _not_applicable(claim, "episodic instance (the discounted property)")
    from solvers.deep.ground_truth import ground_truth

    truth = ground_truth(model, max_profiles=64)
    if truth.pure_spes is None or len(truth.pure_spes) != 1:
        count = "unknown" if truth.pure_spes is None else len(truth.pure_spes)
        return _not_applicable(claim, f"{count} pure stationary SPEs (the claim needs one)")
    spe = truth.pure_spes[0]
    config = {**EXACT_BUDGET, **(budget or {}), "agent": "exact"}
    instance, _ = _train(model, seed, trainer, **config)
    recommended = instance.greedy_policy()[0]
    comparison = truth.closest(recommended)
    value, _ = instance.validator.minimal_implementation_values(recommended)
    violations = []
    closest = comparison["closest_pure_spe"]
    if not closest["equal_on_reachable_states"]:
        violations.append(
            f"greedy recommendations {recommended.tolist()} differ from the unique pure "
            f"stationary SPE {list(spe.recommended)} at {closest['disagreements_reachable']} "
            "reachable state(s)"
        )
    if abs(value - spe.principal_value) > tol:
        violations.append(
            f"implemented minimally they earn V^p(s0) = {_f(value)}, the SPE "
            f"{_f(spe.principal_value)}"
        )
    return _result(claim, violations, value=value, spe_value=spe.principal_value)


# ---------------------------------------------------------------------------- cases
def deep_cases() -> st.SearchStrategy[dict[str, Any]]:
    """Episodic instances of the family (trees and DAGs) with a training seed."""
    models = st.one_of(
        pst.episodic_instances(shape="tree", **_FAMILY),
        pst.episodic_instances(shape="dag", **_FAMILY),
    )
    return st.fixed_dictionaries({"model": models, "seed": st.integers(0, 2**16)})


def discounted_cases() -> st.SearchStrategy[dict[str, Any]]:
    """Small discounted instances (2–3 states, 2–3 actions and outcomes, γ = 1/2) and a seed."""
    models = pst.discounted_instances(
        min_states=2,
        max_states=3,
        min_actions=2,
        max_actions=3,
        min_outcomes=2,
        max_outcomes=3,
        degenerate=False,
        discounts=[Fraction(1, 2)],
    )
    return st.fixed_dictionaries({"model": models, "seed": st.integers(0, 2**16)})


DEEP_EXACT_AGENT = Claim(
    key="deep-exact-agent",
    statement="Algorithm 2 with the exact agent learns recommendations that, implemented "
    "minimally, earn exactly the SPE value",
    paper_ref="PAPER.md §4 (Algorithm 2; validation with an exact agent), §3 (Theorem 3.3)",
    definition="|V^p(s0) of argmax q_θ implemented minimally − V^p_SPE(s0)| ≤ 1e-7 after "
    "3,000 iterations, agent='exact'",
    cases=deep_cases(),
    check=check_deep_exact_agent,
)
DEEP_LEARNED_AGENT = Claim(
    key="deep-learned-agent",
    statement="Algorithm 2 with a learned agent reaches the reliable level on a short budget",
    paper_ref="PAPER.md §4, §6 (tree experiment: ≈ 98% of the SPE, ≈ 90% accuracy)",
    definition="exact-contract ratio ≥ 0.95 and SPE-optimal share of reachable states ≥ 0.5 "
    "after 1,500 iterations, ξ = 0.02",
    cases=deep_cases(),
    check=check_deep_learned_agent,
)
DEEP_DISCOUNTED = Claim(
    key="deep-discounted",
    statement="On discounted instances with a unique pure stationary SPE, Algorithm 2 with "
    "the exact agent reaches it",
    paper_ref="PAPER.md §3 (γ < 1: the meta-algorithm's fixed points), §4",
    definition="argmax q_θ equals the unique pure stationary SPE on reachable states and earns "
    "its V^p(s0) within 1e-6",
    cases=discounted_cases(),
    check=check_deep_discounted,
)
DEEP_CLAIMS: tuple[Claim, ...] = (DEEP_EXACT_AGENT, DEEP_LEARNED_AGENT, DEEP_DISCOUNTED)


# ---------------------------------------------------------------------------- witnesses
def continuation_trap(discounted: bool = False) -> PrincipalAgentMDP:
    """An instance on which ignoring the agent's continuation is costly (the planted error's
    witness, derived by hand).

    In ``s0`` the costly action ``a1`` (reward −1) makes outcome ``o1`` likely (9/10), which
    pays the principal 3 and ends the episode; ``a0`` (reward 0) makes ``o0`` likely, which
    leads to ``s1``, where the agent collects 5 and nothing else happens (episodic: ``s1``
    ends the episode; discounted, γ = 1/2: ``s1`` repeats, its agent value is 5/(1 − 1/2) =
    10, and its second action is unimplementable: same outcome, reward 4 < 5).

    Truth (episodic): ``V^a(s1) = 5``, so ``Q̄(s0, a0) = 0 + 0.9·5 = 4.5``, ``Q̄(s0, a1) = −1 +
    0.1·5 = −0.5``; implementing ``a1`` needs ``0.8·b(o1) ≥ 5``, ``b(o1) = 6.25``, expected
    payment ``0.9 · 6.25 = 5.625`` against an expected reward ``2.7``: the SPE recommends
    ``a0`` everywhere and earns ``V^p(s0) = 0.1 · 3 = 0.3``. A principal that prices with
    ``Q̄ = r`` believes ``a1`` costs ``b(o1) = 1/0.8 = 1.25`` (expected 1.125 < 2.7),
    recommends it, and implemented exactly it earns ``2.7 − 5.625 = −2.925``.
    """
    from theory.format import instance_from_dict

    s1_next: list[Any] = [[[1, 1]], [[1, 1]]] if discounted else [[], []]
    return instance_from_dict(
        {
            "format": "pamdp/instance@1",
            "name": "continuation trap" + (" (discounted)" if discounted else ""),
            "states": ["s0", "s1"],
            "initial_state": "s0",
            "actions": ["a0", "a1"],
            "outcomes": ["o0", "o1"],
            "discount": "1/2" if discounted else 1,
            "outcome_probs": [
                [["9/10", "1/10"], ["1/10", "9/10"]],
                [[1, 0], [1, 0]],
            ],
            "agent_reward": [[0, -1], [5, 4]],
            "principal_reward": [[0, 3], [0, 0]],
            "transitions": [[[[1, 1]], []], s1_next],
        }
    )
