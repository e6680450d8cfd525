"""The principal's optimum with commitment on small episodic instances (PAPER.md §2, note [D]).

With commitment the principal announces a whole Markov policy — a recommended action and a
contract per state — and the agent best-responds to the *whole* policy. The SPE policy is one
policy the principal could commit to, so the optimum ``C`` bounds the SPE value from above. The
gain over the SPE comes only from the recommendations (the lemma below): committing to a
recommendation the principal would not choose in that state's subgame (a *non-credible* one),
never from paying more than the minimal contracts.

**Enumeration.** Let ``R`` be the states reachable from ``s0`` (other states never matter to
the value at ``s0``). Every *profile* ``g ∈ A^R`` of recommended actions is enumerated, in
:func:`itertools.product` order (lexicographic, state index order, lowest action first): there
are ``|A|^|R|`` profiles, which is why the method is limited to small instances
(:data:`MAX_COMMITMENT_PROFILES`) and to episodic ones (the occupancy below must be finite and
the discount may be 1).

**The LP of one profile** (variables ``b(s, o) ≥ 0`` and ``V(s)`` for ``s ∈ R``)::

    min_{b ≥ 0, V}  Σ_s d_g(s) Σ_o 𝒪(s, g(s))(o) b(s, o)
    s.t.  V(s) = r(s, g(s)) + Σ_o 𝒪(s, g(s))(o) [b(s, o) + γ Σ_{s'} T(s, o)(s') V(s')]
          r(s, a) + Σ_o 𝒪(s, a)(o) [b(s, o) + γ Σ_{s'} T(s, o)(s') V(s')] ≤ V(s)  ∀ a ≠ g(s)

``d_g`` is the discounted occupancy from ``s0`` under ``g``. The equalities make ``V`` the
agent's value of following ``g``; the inequalities (one-shot deviations, which suffice in an
MDP) make following optimal. The principal's value of the profile is
``Σ_s d_g(s) E_{𝒪(s, g(s))}[r^p(s, ·)]`` minus the optimum.

**Solving and stopping rule.** The profiles' LPs are stacked block-diagonally and solved by
HiGHS in two phases (as :func:`solvers.contracts.batched_lp`): phase 1 minimises the slack
needed on the incentive rows; a profile is *feasible* when its total slack is at most
``ties.agent_tol`` (default 1e-9); phase 2 minimises the expected payment with the slacks capped at
their phase-1 values (feasible profiles) and reports the cost. HiGHS runs with primal and dual
feasibility tolerances 1e-10. Nothing is iterated: every profile is solved once, the
enumeration is exhaustive.

**Ties.** The agent's ties are resolved for the principal (the incentive constraints are weak
inequalities: an agent indifferent between ``g(s)`` and a deviation follows ``g``). Among
profiles with the same value the first in enumeration order wins (``numpy.argmax``); negative
payments below HiGHS' tolerance are clipped to 0.

**Lemma (minimal contracts are optimal for every profile).** Fix ``g`` and a feasible
``(b, V)`` of its LP, and write ``W(s, o) = Σ_{s'} T(s, o)(s') V(s')`` and ``z(s, o) = b(s, o) +
γ W(s, o)``. At each state the constraints read ``z ≥ γ W`` (limited liability) and incentive
rows in ``z`` alone, and ``V(s) = r(s, g) + E_{𝒪(s, g)}[z]``; so ``V(s) ≥ Φ_g(V)(s)``, the
agent's value at ``s`` when ``g(s)`` is implemented by its minimal contract against the
continuation ``V`` (the map Φ of :mod:`solvers.equilibria`). Φ_g is monotone and, on an
episodic instance, ``Φ_g(V)(s)`` depends on ``V`` only at the successors of ``s``: induction
from the last states gives ``V ≥ V*_g``, the self-consistent minimal-contract values
(:func:`solvers.equilibria.profile_fixed_point`). Weighting the equalities by the occupancy,
the objective is ``Σ_s d_g(s) E[b(s, ·)] = V(s0) − Σ_s d_g(s) r(s, g(s)) ≥ V*_g(s0) − Σ_s
d_g(s) r(s, g(s))``, which the minimal contracts attain. Hence each profile's LP optimum is the
principal's value of that profile under its self-consistent minimal contracts, and ``C`` is
the largest of these. (The optimal *contracts* need not be unique: paying a constant more at a
state and correspondingly less at its parent on the outcome leading there costs the same; so
HiGHS may return contracts that differ from the minimal ones at the same value.)

**Tree-shaped instances** (:func:`tree_profiles`, :func:`tree_commitment`). By the lemma, ``C``
needs no LP: it is the best self-consistent minimal-contract value over all profiles. When the
reachable states form a tree (each has one parent) and there are two actions, the values of
every profile of a subtree depend only on that subtree's profile, so all ``2^|R|`` profiles are
evaluated bottom-up at once, vectorised in floats, with the two-action closed form of the
minimal contract: pay ``max(Δ, 0) / (p_g(o*) − p_h(o*))`` on the outcome ``o*`` maximising
``1 − p_h(o) / p_g(o)``, where ``Δ = Q̄(s, h) − Q̄(s, g)``. The profiles whose float value is
within ``window`` of the best are then re-evaluated exactly, which makes the optimum exact as
long as the float error of every value is below ``window`` (default 1e-9; values on the paper's
trees are sums of ~``|R|`` rounded terms below 10, with errors near 1e-15).

:func:`commitment_optimum` returns the optimum; :func:`commitment_policy` turns it into a full
policy with per-state values (the form a FORMAT.md v1 solution file needs).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from theory.exact_evaluation import evaluate_policy_exact
from theory.model import PrincipalAgentMDP
from theory.ties import DEFAULT_TIES, Ties

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Largest number of recommendation profiles ``|A|^|R|`` (``R``: the states reachable from
#: ``s0``) :func:`commitment_optimum` enumerates. Each profile is one LP block of
#: ``|R|(|O| + 1)`` variables and ``|R|(|A| − 1)`` incentive rows, and building the blocks is a
#: Python loop over profiles, so the time grows linearly in the number of profiles: 4,096
#: profiles (12 reachable states, 2 actions, 2 outcomes) took 16 s on the development machine,
#: 243 (6 states, 3 actions, 3 outcomes) 0.5 s. Beyond the limit, enumeration is not the right
#: tool.
#: Ties for re-checking the optimum's policy exactly: the LP meets the agent's indifference
#: points only to HiGHS's ~1e-10, so following is read within 1e-7 (the theorem properties'
#: tolerance, properties.claims.common.DEFAULT_TOL).
COMMITMENT_CHECK_TIES = Ties(agent_tol=Fraction(1, 10**7), principal_tol=Fraction(1, 10**7))

MAX_COMMITMENT_PROFILES = 2**12


def commitment_profiles(model: PrincipalAgentMDP) -> int:
    """The number of recommendation profiles ``|A|^|R|`` of ``model`` (``R``: the states
    reachable from the initial state)."""
    return int(model.n_actions) ** int(np.count_nonzero(model.reachable))


def check_commitment_size(
    model: PrincipalAgentMDP, max_profiles: int = MAX_COMMITMENT_PROFILES
) -> int:
    """The number of profiles of ``model``; raise ``ValueError`` if the commitment optimum is
    not available for it (a cyclic instance, or more than ``max_profiles`` profiles)."""
    if not model.is_episodic:
        raise ValueError(
            f"commitment optimum: instance {model.name!r} is not episodic (its state graph has "
            "a cycle); the commitment LP enumerates profiles on episodic instances only"
        )
    profiles = commitment_profiles(model)
    if profiles > max_profiles:
        reachable = int(np.count_nonzero(model.reachable))
        raise ValueError(
            f"commitment optimum: instance {model.name!r} has {profiles} recommendation "
            f"profiles ({model.n_actions} actions ^ {reachable} reachable states), more than "
            f"the limit of {max_profiles} profiles (MAX_COMMITMENT_PROFILES) for profile "
            "enumeration"
        )
    return profiles


@dataclass(frozen=True)
class CommitmentOptimum:
    """The best principal policy with commitment (one joint LP per recommended profile).

    Attributes
    ----------
    value : the principal's optimal value at the initial state.
    recommended : (S,) the optimal profile (−1 on states unreachable from the initial state).
    contracts : (S, O) its contracts (zeros on unreachable states).
    profiles : number of profiles enumerated.
    feasible : number of profiles some contract implements.
    values : (profiles,) the principal's value of every enumerated profile, in enumeration
        order (``−inf`` where no contract implements it).
    """

    value: float
    recommended: IntArray
    contracts: FloatArray
    profiles: int
    feasible: int
    values: FloatArray = field(default_factory=lambda: np.zeros(0))


def _profile_blocks(
    model: PrincipalAgentMDP,
    states: IntArray,
    limited_liability: bool,
    myopic: bool,
    only: Sequence[Sequence[int]] | None = None,
) -> tuple[list[IntArray], list[Any]]:
    """LP data (one block per profile) of the commitment problem; see the module docstring.
    ``only``: these profiles (actions on ``states``, in order) instead of all of them. Built
    for all profiles at once (arrays with a leading profile axis ``K``), the same numbers as
    one profile at a time."""
    n_r, n_a, n_o = len(states), model.n_actions, model.n_outcomes
    gamma = 0.0 if myopic else model.discount
    index = {int(s): i for i, s in enumerate(states)}
    # P[i, a, j]: probability of moving from states[i] to states[j] under action a
    trans = model.transition_matrix.toarray().reshape(model.n_states, n_o, model.n_states)
    big_p = np.einsum("iao,ioj->iaj", model.outcome_probs[states], trans[states][:, :, states])
    chosen = itertools.product(range(n_a), repeat=n_r) if only is None else only
    profiles = [np.array(p, dtype=np.int64) for p in chosen]
    g = np.array(profiles, dtype=np.int64).reshape(len(profiles), n_r)  # (K, n_r)
    n_k, rows = len(profiles), np.arange(n_r)
    n_b = n_r * n_o
    width = n_b + n_r  # b(s, o) then V(s)
    probs, agent_reward = model.outcome_probs[states], model.agent_reward[states]
    start = index[int(model.initial_state)]
    eye = np.eye(n_r)
    # equality: V(s) − Σ_o p(s,g,o) b(s,o) − γ Σ_j P(s,g,j) V(j) = r(s,g)
    a_eq = np.zeros((n_k, n_r, width))
    followed = probs[rows, g]  # (K, n_r, n_o): p(s, g(s), ·)
    for i in range(n_r):
        a_eq[:, i, i * n_o : (i + 1) * n_o] = -followed[:, i]
    a_eq[:, :, n_b:] = eye - gamma * big_p[rows, g]
    b_eq = agent_reward[rows, g]
    # IC: Σ_o p(s,a,o) b(s,o) + γ Σ_j P(s,a,j) V(j) − V(s) ≤ −r(s,a), a ≠ g(s); rows in the
    # order (state, then action)
    others = np.array([[a for a in range(n_a) if a != x] for x in range(n_a)], dtype=np.int64)
    dev = others[g]  # (K, n_r, n_a − 1): the deviations at each state
    a_ub = np.zeros((n_k, n_r, n_a - 1, width))
    for i in range(n_r):
        a_ub[:, i, :, i * n_o : (i + 1) * n_o] = probs[i][dev[:, i]]
    a_ub[:, :, :, n_b:] = gamma * big_p[rows[None, :, None], dev]
    a_ub[:, rows, :, n_b + rows] -= 1.0
    b_ub = -agent_reward[rows[None, :, None], dev]
    # occupancy from the initial state under g (discounted)
    occupancy = np.linalg.solve(
        np.transpose(eye - model.discount * big_p[rows, g], (0, 2, 1)),
        np.broadcast_to(eye[start], (n_k, n_r))[..., None],
    )[..., 0]
    cost = np.zeros((n_k, width))
    cost[:, :n_b] = (occupancy[:, :, None] * followed).reshape(n_k, n_b)
    immediate = np.einsum("kio,io->ki", followed, model.principal_reward[states])
    bounds = [(0.0 if limited_liability else None, None)] * n_b + [(None, None)] * n_r
    blocks = [
        (
            a_eq[k],
            b_eq[k],
            a_ub[k].reshape(-1, width),
            b_ub[k].reshape(-1),
            cost[k],
            float(occupancy[k] @ immediate[k]),
            bounds,
        )
        for k in range(n_k)
    ]
    return profiles, blocks


def _block_diagonal(blocks: FloatArray) -> Any:
    """The CSR block-diagonal matrix of ``K`` dense ``(r, c)`` blocks (a ``(K, r, c)`` array),
    built in one step (its nonzeros in row-major order, as :func:`scipy.sparse.block_diag`
    gives them) rather than one sparse conversion per block."""
    n_blocks, n_rows, n_cols = blocks.shape
    k, i, j = np.nonzero(blocks)
    return sp.csr_matrix(
        (blocks[k, i, j], (k * n_rows + i, k * n_cols + j)),
        shape=(n_blocks * n_rows, n_blocks * n_cols),
    )


def commitment_optimum(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = DEFAULT_TIES,
    limited_liability: bool = True,
    myopic_agent: bool = False,
    max_profiles: int = MAX_COMMITMENT_PROFILES,
    profiles: Sequence[Sequence[int]] | None = None,
) -> CommitmentOptimum:
    """The principal's optimal value with commitment on an episodic instance (PAPER.md §2).

    One LP per recommendation profile on the reachable states, stacked and solved by HiGHS in
    two phases; the best feasible profile wins, the first in enumeration order on ties (module
    docstring: the LP, the enumeration, the stopping rule and the tie rules).

    Parameters
    ----------
    model : an episodic instance with at most ``max_profiles`` profiles.
    ties : a profile is implementable when its phase-1 slack sum is at most ``ties.agent_tol``.
    limited_liability, myopic_agent : ``False`` / ``True`` drop ``b ≥ 0`` (payments are then
        capped at −1000) / drop γ from the agent's constraints; they exist to plant errors in
        tests.
    max_profiles : the size limit (default :data:`MAX_COMMITMENT_PROFILES`).
    profiles : enumerate only these profiles (each one action per reachable state, in state
        order), e.g. the best candidates of a larger instance; the optimum is then the best
        *among them*, and ``max_profiles`` bounds their number instead.

    Raises
    ------
    ValueError
        The instance is not episodic, or it has more than ``max_profiles`` profiles (the
        message names the number of profiles and the limit).
    """
    states = np.flatnonzero(model.reachable).astype(np.int64)
    if profiles is None:
        check_commitment_size(model, max_profiles)
    else:
        check_commitment_size(model, max(max_profiles, commitment_profiles(model)))
        if not 0 < len(profiles) <= max_profiles:
            raise ValueError(
                f"commitment optimum: {len(profiles)} profiles given, expected 1 to {max_profiles}"
            )
        for p in profiles:
            if len(p) != len(states) or any(not 0 <= int(a) < model.n_actions for a in p):
                raise ValueError(
                    f"commitment optimum: profile {list(p)} is not one action index in "
                    f"[0, {model.n_actions}) per reachable state ({len(states)} states)"
                )
    chosen, blocks = _profile_blocks(model, states, limited_liability, myopic_agent, profiles)
    n_r, n_o = len(states), model.n_outcomes
    width = n_r * n_o + n_r
    n_ic = blocks[0][2].shape[0]
    # phase 1: min Σ t  s.t. A_ub x − t ≤ b_ub, A_eq x = b_eq
    n_blocks = len(blocks)
    block_width = width + n_ic
    # each block's columns: its (b, V) variables, then its n_ic phase-1 slacks t
    ub = _block_diagonal(
        np.concatenate(
            [
                np.stack([b[2] for b in blocks]),
                np.broadcast_to(-np.eye(n_ic), (n_blocks, n_ic, n_ic)),
            ],
            axis=2,
        )
    )
    a_eq = _block_diagonal(
        np.concatenate([np.stack([b[0] for b in blocks]), np.zeros((n_blocks, n_r, n_ic))], axis=2)
    )
    b_eq = np.concatenate([b[1] for b in blocks])
    b_ub = np.concatenate([b[3] for b in blocks]) if n_ic else np.zeros(0)
    bounds = []
    for b in blocks:
        bounds += list(b[6]) + [(0.0, None)] * n_ic
    cost1 = np.tile(np.r_[np.zeros(width), np.ones(n_ic)], n_blocks)
    options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    phase1 = linprog(
        cost1,
        A_ub=ub if n_ic else None,
        b_ub=b_ub if n_ic else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
        options=options,
    )
    if phase1.status != 0:  # pragma: no cover - phase 1 is always feasible and bounded
        raise RuntimeError(f"commitment phase 1 failed: {phase1.message}")
    x1 = phase1.x.reshape(n_blocks, block_width)
    slack = x1[:, width:]
    feasible = slack.sum(axis=1) <= ties.agent_tol_float
    if not limited_liability:
        # without limited liability the cost is unbounded below unless payments are capped
        bounds = [(lo if lo is not None else -1e3, hi) for lo, hi in bounds]
    bounds2 = []
    for k in range(n_blocks):
        bounds2 += bounds[k * block_width : k * block_width + width]
        bounds2 += [(0.0, float(t)) for t in slack[k]]
    cost2 = np.concatenate(
        [
            np.r_[b[4] if feasible[k] else np.zeros(width), np.zeros(n_ic)]
            for k, b in enumerate(blocks)
        ]
    )
    phase2 = linprog(
        cost2,
        A_ub=ub if n_ic else None,
        b_ub=b_ub if n_ic else None,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds2,
        method="highs",
        options=options,
    )
    if phase2.status != 0:  # pragma: no cover
        raise RuntimeError(f"commitment phase 2 failed: {phase2.message}")
    x2 = phase2.x.reshape(n_blocks, block_width)
    values = np.array(
        [
            b[5] - float(b[4] @ x2[k, :width]) if feasible[k] else -np.inf
            for k, b in enumerate(blocks)
        ]
    )
    best = int(np.argmax(values))
    recommended = np.full(model.n_states, -1, dtype=np.int64)
    recommended[states] = chosen[best]
    contracts = np.zeros((model.n_states, n_o))
    pay = x2[best, : n_r * n_o].reshape(n_r, n_o)
    contracts[states] = pay if not limited_liability else np.maximum(pay, 0.0)
    return CommitmentOptimum(
        float(values[best]), recommended, contracts, len(chosen), int(feasible.sum()), values
    )


@dataclass(frozen=True)
class CommittedPolicy:
    """The commitment optimum as a full principal policy, with both parties' values.

    Attributes
    ----------
    value : the principal's commitment value at the initial state (the LP optimum ``C``).
    recommended : (S,) a recommended action at *every* state: the optimal profile on the
        reachable states; elsewhere (states that never matter at ``s0``) the agent's own best
        action when paid nothing, so that it follows everywhere.
    contracts : (S, O) the optimal contracts (zero pay on unreachable states).
    principal_values, agent_values : (S,) ``V^p`` and ``V^a`` of the policy against the exact
        best-responding agent (floats of the exact values); ``principal_values[s0]`` equals
        ``value`` up to the LP's tolerance.
    reachable : (S,) the states reachable from the initial state (where the profile was chosen).
    profiles, feasible : profiles enumerated / implementable (as in :class:`CommitmentOptimum`).
    """

    value: float
    recommended: IntArray
    contracts: FloatArray
    principal_values: FloatArray
    agent_values: FloatArray
    reachable: npt.NDArray[np.bool_]
    profiles: int
    feasible: int


def commitment_policy(
    model: PrincipalAgentMDP,
    *,
    ties: Ties = COMMITMENT_CHECK_TIES,
    optimum: CommitmentOptimum | None = None,
    max_profiles: int = MAX_COMMITMENT_PROFILES,
) -> CommittedPolicy:
    """The commitment optimum of ``model`` as a policy a FORMAT.md v1 solution file can hold.

    The optimum (:func:`commitment_optimum`, or ``optimum`` if given) fixes the recommendation
    and contract on the states reachable from ``s0``. On the other states the recommendation is
    the action the agent itself takes facing zero pay there (the exact best response to the
    whole policy), so every state has an action the agent follows. Values are those of the
    exact best-responding agent (:func:`theory.exact_evaluation.evaluate_policy_exact`) with
    the agent tie tolerance ``ties.agent_tol`` (default :data:`COMMITMENT_CHECK_TIES`, 1e-7):
    the LP makes the agent exactly indifferent where incentives bind, and HiGHS meets that only
    to ~1e-10, so the agent must be read as following within a tolerance (the default is that
    of the theorem properties, :data:`properties.claims.common.DEFAULT_TOL`).

    Raises
    ------
    ValueError
        As :func:`commitment_optimum` (not episodic, too many profiles).
    RuntimeError
        The agent does not follow the optimum at some reachable state within ``ties.agent_tol`` (the
        LP solution is not accurate enough for that tolerance).
    """
    best = optimum if optimum is not None else commitment_optimum(model, max_profiles=max_profiles)
    reachable = np.asarray(model.reachable, dtype=bool)
    tolerance = ties.agent_tol
    rec = np.where(reachable, best.recommended, -1).astype(np.int64)
    contracts = np.asarray(best.contracts, dtype=np.float64)
    first = evaluate_policy_exact(model, rec, contracts, tie_tolerance=tolerance)
    rec = np.where(reachable, rec, np.asarray(first.agent_actions, dtype=np.int64))
    evaluation = evaluate_policy_exact(model, rec, contracts, tie_tolerance=tolerance)
    astray = [model.states[s] for s in np.flatnonzero(~np.asarray(evaluation.followed, bool))]
    if astray:
        raise RuntimeError(
            f"commitment policy: the agent does not follow the recommendation at {astray} "
            f"within tie tolerance {float(ties.agent_tol):g}"
        )
    return CommittedPolicy(
        value=best.value,
        recommended=rec,
        contracts=contracts,
        principal_values=np.array([float(v) for v in evaluation.principal_values]),
        agent_values=np.array([float(v) for v in evaluation.agent_values]),
        reachable=reachable,
        profiles=best.profiles,
        feasible=best.feasible,
    )


#: Largest number of profiles :func:`tree_profiles` evaluates (``2^|R|`` rows of float arrays).
MAX_TREE_PROFILES = 2**20


@dataclass(frozen=True)
class TreeProfiles:
    """Every recommendation profile of a tree-shaped two-action instance, with its values.

    Attributes
    ----------
    states : (R,) the reachable states (the columns of ``actions``), in index order.
    actions : (K, R) ``actions[k, j]``: profile ``k``'s action at ``states[j]`` (a row is a
        profile as :func:`commitment_optimum` takes it); rows in depth-first mixed-radix order
        (the root's action slowest).
    principal_values, agent_values : (K,) ``V^p`` and ``V^a`` at the initial state when the
        profile is implemented with its self-consistent minimal contracts (floats; ``−inf`` /
        ``nan`` where some recommendation cannot be implemented).
    """

    states: IntArray
    actions: npt.NDArray[np.int8]
    principal_values: FloatArray
    agent_values: FloatArray

    def profile(self, k: int, n_states: int) -> IntArray:
        """Profile ``k`` as a recommendation per state (−1 off the reachable states)."""
        rec = np.full(n_states, -1, dtype=np.int64)
        rec[self.states] = self.actions[k]
        return rec


def tree_shape_problem(model: PrincipalAgentMDP) -> str | None:
    """Why :func:`tree_profiles` cannot handle ``model`` (``None`` when it can)."""
    if not model.is_episodic:
        return "not episodic"
    if model.n_actions != 2:
        return f"{model.n_actions} actions (the closed form needs two)"
    reachable = np.flatnonzero(model.reachable)
    graph = model.state_graph.tocsr()[reachable][:, reachable]
    parents = np.asarray((graph != 0).sum(axis=0)).ravel()
    if np.any(parents > 1):
        many = [model.states[reachable[i]] for i in np.flatnonzero(parents > 1)]
        return f"not a tree: states {many} have more than one parent"
    return None


def tree_profiles(model: PrincipalAgentMDP, max_profiles: int = MAX_TREE_PROFILES) -> TreeProfiles:
    """Every profile's minimal-contract values, bottom-up and vectorised (module docstring).

    Raises
    ------
    ValueError
        The instance is not a tree-shaped episodic instance with two actions, or it has more
        than ``max_profiles`` profiles.
    """
    problem = tree_shape_problem(model)
    if problem is not None:
        raise ValueError(f"tree profiles: instance {model.name!r} is {problem}")
    if commitment_profiles(model) > max_profiles:
        raise ValueError(
            f"tree profiles: instance {model.name!r} has {commitment_profiles(model)} "
            f"profiles, more than the limit of {max_profiles} (MAX_TREE_PROFILES)"
        )
    n_o, gamma = model.n_outcomes, float(model.discount)
    offsets, nxt, tprob = model.transition_offsets, model.transition_next, model.transition_prob
    probs, r_a, r_p = model.outcome_probs, model.agent_reward, model.principal_reward

    def node(s: int) -> tuple[list[int], Any, FloatArray, FloatArray, Any]:
        succ = [
            [
                (int(nxt[k]), float(tprob[k]))
                for k in range(offsets[s * n_o + o], offsets[s * n_o + o + 1])
            ]
            for o in range(n_o)
        ]
        children = sorted({t for row in succ for t, _ in row})
        cols: list[int] = []
        acts = np.zeros((1, 0), dtype=np.int8)
        va: dict[int, FloatArray] = {}
        vp: dict[int, FloatArray] = {}
        ok = np.ones(1, dtype=bool)
        for c in children:
            c_cols, c_acts, c_va, c_vp, c_ok = node(c)
            k, k_c = len(acts), len(c_acts)
            acts = np.hstack([np.repeat(acts, k_c, axis=0), np.tile(c_acts, (k, 1))])
            va = {t: np.repeat(v, k_c) for t, v in va.items()} | {c: np.tile(c_va, k)}
            vp = {t: np.repeat(v, k_c) for t, v in vp.items()} | {c: np.tile(c_vp, k)}
            ok = np.repeat(ok, k_c) & np.tile(c_ok, k)
            cols += c_cols
        size = len(acts)
        w = [sum((p * va[t] for t, p in row), np.zeros(size)) for row in succ]
        wp = [
            r_p[s, o] + gamma * sum((p * vp[t] for t, p in row), np.zeros(size))
            for o, row in enumerate(succ)
        ]
        q = [r_a[s, a] + gamma * sum(probs[s, a, o] * w[o] for o in range(n_o)) for a in (0, 1)]
        out_va, out_vp, out_ok = [], [], []
        for g in (0, 1):
            h = 1 - g
            delta = q[h] - q[g]
            lev = max(
                (1.0 - probs[s, h, o] / probs[s, g, o] for o in range(n_o) if probs[s, g, o] > 0),
                default=0.0,
            )
            implementable = (delta <= 0) if lev <= 0 else np.ones(size, dtype=bool)
            cost = np.maximum(delta, 0.0) / lev if lev > 0 else np.zeros(size)
            out_va.append(np.where(implementable, q[g] + cost, 0.0))
            out_vp.append(sum(probs[s, g, o] * wp[o] for o in range(n_o)) - cost)
            out_ok.append(ok & implementable)
        stacked = np.vstack(
            [np.hstack([np.full((size, 1), g, dtype=np.int8), acts]) for g in (0, 1)]
        )
        return (
            [s, *cols],
            stacked,
            np.concatenate(out_va),
            np.concatenate(out_vp),
            np.concatenate(out_ok),
        )

    cols, acts, va, vp, ok = node(int(model.initial_state))
    order = np.argsort(cols)
    return TreeProfiles(
        np.array(cols, dtype=np.int64)[order],
        acts[:, order],
        np.where(ok, vp, -np.inf),
        np.where(ok, va, np.nan),
    )


@dataclass(frozen=True)
class TreeCommitment:
    """The commitment optimum of a tree-shaped instance, exact (module docstring).

    Attributes
    ----------
    value : ``C`` exactly (the instance's numbers read as exact rationals).
    recommended : (S,) the optimal profile (−1 off the reachable states); the first in
        ``profiles.actions`` order among exact ties.
    contracts : (S, O) its self-consistent minimal contracts (exact).
    profiles : every profile's float values (:class:`TreeProfiles`).
    candidates : indices (into ``profiles``) of the profiles re-evaluated exactly, best first
        by float value: those within ``window`` of the float best.
    candidate_values : their exact values, in the same order.
    window : the float window.
    """

    value: Fraction
    recommended: IntArray
    contracts: tuple[tuple[Fraction, ...], ...]
    profiles: TreeProfiles
    candidates: tuple[int, ...]
    candidate_values: tuple[Fraction, ...]
    window: float


def exact_profile_value(
    model: PrincipalAgentMDP, recommended: Sequence[int] | IntArray
) -> tuple[Fraction, tuple[tuple[Fraction, ...], ...]]:
    """``V^p(s0)`` of a profile under its self-consistent minimal contracts, exactly, and those
    contracts (:func:`solvers.equilibria.profile_fixed_point`; the exact agent of
    :func:`theory.exact_evaluation.evaluate_policy_exact` follows at exact ties). States
    without a recommendation (−1) get the agent's own choice facing zero pay."""
    from solvers.equilibria import profile_fixed_point

    rec = [int(a) for a in recommended]
    if any(a < 0 for a in rec):
        zero = np.zeros((model.n_states, model.n_outcomes))
        first = evaluate_policy_exact(model, np.array(rec), zero, tie_tolerance=Fraction(0))
        rec = [a if a >= 0 else int(first.agent_actions[s]) for s, a in enumerate(rec)]
    point = profile_fixed_point(model, rec)
    evaluation = evaluate_policy_exact(
        model, np.array(rec), np.array(point.contracts, dtype=object), tie_tolerance=Fraction(0)
    )
    return Fraction(evaluation.principal_values[model.initial_state]), point.contracts


def tree_commitment(
    model: PrincipalAgentMDP, *, window: float = 1e-9, max_profiles: int = MAX_TREE_PROFILES
) -> TreeCommitment:
    """``C`` of a tree-shaped two-action instance without LPs: the best self-consistent
    minimal-contract value over every profile (the lemma of the module docstring), ranked in
    floats by :func:`tree_profiles` and decided exactly among the profiles within ``window``.

    Raises
    ------
    ValueError
        As :func:`tree_profiles`; or no profile is implementable.
    """
    profiles = tree_profiles(model, max_profiles)
    values = profiles.principal_values
    top = float(np.max(values))
    if not np.isfinite(top):
        raise ValueError(f"tree commitment: no profile of {model.name!r} is implementable")
    near = np.flatnonzero(values >= top - window)
    near = near[np.argsort(-values[near], kind="stable")]
    exact = []
    for k in near:
        exact.append(exact_profile_value(model, profiles.profile(int(k), model.n_states)))
    best = max(range(len(near)), key=lambda i: (exact[i][0], -i))
    rec = profiles.profile(int(near[best]), model.n_states)
    return TreeCommitment(
        exact[best][0],
        rec,
        exact[best][1],
        profiles,
        tuple(int(k) for k in near),
        tuple(v for v, _ in exact),
        window,
    )


__all__ = [
    "MAX_COMMITMENT_PROFILES",
    "MAX_TREE_PROFILES",
    "CommitmentOptimum",
    "CommittedPolicy",
    "TreeCommitment",
    "TreeProfiles",
    "check_commitment_size",
    "commitment_optimum",
    "commitment_policy",
    "commitment_profiles",
    "exact_profile_value",
    "tree_commitment",
    "tree_profiles",
    "tree_shape_problem",
]
