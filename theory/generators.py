"""Instance generators: the paper's tree, the three-state example and random instances.

Every stochastic generator takes a ``seed`` (an int or a :class:`numpy.random.Generator`) and is
repeatable bit for bit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from theory.model import PrincipalAgentMDP, build_model, fraction_array, to_fraction

SeedLike = int | np.random.Generator | None


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def paper_tree(
    depth: int, seed: SeedLike = 0, *, observed_action: bool = False
) -> PrincipalAgentMDP:
    """The random binary tree of the paper's Fig. 3 experiment (PAPER.md §6).

    A complete binary tree with ``2**depth − 1`` decision states in heap order (state ``i`` has
    children ``2i+1`` and ``2i+2``); γ = 1; actions ``a0`` (cheap) and ``a1`` (costly);
    outcomes ``o0`` (→ left child) and ``o1`` (→ right child); the last level ends the episode.
    In every state ``P(o1 | a0) = 0.1``, ``P(o1 | a1) = 0.9``, ``r(s, a0) = 0``,
    ``r^p(s, o0) = 0``, ``r(s, a1) = −u`` with ``v ~ U[0, 1]``, ``u ~ U[0, 1 − v]``, and
    ``r^p(s, o1) = u'`` with ``v' ~ U[0, 2]``, ``u' ~ U[0, 2 − v']``.

    Random numbers are drawn in this order, one vector per quantity over all states:
    ``v, u, v', u'`` (each ``u`` as ``U[0,1] · (bound − v)``).

    With ``observed_action=True`` the outcomes are the actions (O = A) and every expectation of
    the hidden-action tree is kept, as in :func:`three_state_example`: the principal's reward
    for the action-outcome ``a`` is ``Σ_o 𝒪(a)(o) r^p(o)`` (``0.1 u'`` for ``a0``, ``0.9 u'``
    for ``a1``) and ``a`` leads to the children with ``𝒪(a)``'s probabilities (``a0`` → left
    w.p. 0.9). The two trees are then the same economy, the principal seeing more.
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if depth > 24:
        raise ValueError(f"depth must be at most 24 (2**depth states), got {depth}")
    rng = _rng(seed)
    n = 2**depth - 1
    v_agent = rng.uniform(0.0, 1.0, n)
    u_agent = rng.uniform(0.0, 1.0, n) * (1.0 - v_agent)
    v_principal = rng.uniform(0.0, 2.0, n)
    u_principal = rng.uniform(0.0, 1.0, n) * (2.0 - v_principal)
    agent_reward = np.zeros((n, 2))
    agent_reward[:, 1] = -u_agent
    principal_reward = np.zeros((n, 2))
    principal_reward[:, 1] = u_principal
    if observed_action:  # expected outcome reward of each action (see docstring)
        principal_reward = np.stack([0.1 * u_principal, 0.9 * u_principal], axis=1)
    internal = np.arange(n) < 2 ** (depth - 1) - 1
    idx = np.flatnonzero(internal)
    if observed_action:
        probs = np.broadcast_to(np.eye(2), (n, 2, 2)).copy()
        # action-outcome a0 leads left w.p. 0.9, right w.p. 0.1; a1 the reverse
        counts = np.where(internal, 2, 0)
        offsets = np.zeros(2 * n + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.repeat(counts, 2))
        left, right = 2 * idx + 1, 2 * idx + 2
        nxt = np.stack([left, right, left, right], axis=1).ravel()
        tprob = np.tile([0.9, 0.1, 0.1, 0.9], len(idx))
        names_o: tuple[str, ...] = ("a0", "a1")
    else:
        probs = np.empty((n, 2, 2))
        probs[:, 0] = (0.9, 0.1)
        probs[:, 1] = (0.1, 0.9)
        counts = np.where(internal, 1, 0)
        offsets = np.zeros(2 * n + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.repeat(counts, 2))
        nxt = np.stack([2 * idx + 1, 2 * idx + 2], axis=1).ravel()
        tprob = np.ones(len(nxt))
        names_o = ("o0", "o1")
    return PrincipalAgentMDP(
        states=tuple(f"s{i}" for i in range(n)),
        actions=("a0", "a1"),
        outcomes=names_o,
        initial_state=0,
        discount=1.0,
        outcome_probs=probs,
        agent_reward=agent_reward,
        principal_reward=principal_reward,
        transition_offsets=offsets,
        transition_next=nxt.astype(np.int64),
        transition_prob=tprob,
        observed_action=observed_action,
        name=f"paper tree depth={depth} seed={seed if isinstance(seed, int) else 'rng'}"
        + (" observed" if observed_action else ""),
    )


def three_state_example(*, observed_action: bool = False, discount: Any = 1) -> PrincipalAgentMDP:
    """The three-state example of PAPER.md §7 (the shape of the paper's Figure 1), exact.

    States ``s0 → {sL, sR}``; ``sL`` and ``sR`` end the episode after acting; actions
    ``aL, aR``; outcomes ``L, R`` with ``𝒪(aL) = (9/10, 1/10)``, ``𝒪(aR) = (1/10, 9/10)``,
    ``r(aL) = −4/5``, ``r(aR) = 0``, ``r^p(L) = 14/9``, ``r^p(R) = 0``; outcome L leads to sL and
    R to sR. With ``observed_action=True`` the outcomes are the actions and the action-outcome
    aL leads to sL w.p. 9/10 and to sR w.p. 1/10 (aR the reverse), and the principal's reward
    is ``14/9 · 𝒪(a)(L)`` in expectation (``r^p(aL) = 14/9 · 9/10``, ``r^p(aR) = 14/9 · 1/10``),
    so every quantity keeps its hidden-action expectation.
    """
    tenth, nine = Fraction(1, 10), Fraction(9, 10)
    cost, prize = Fraction(-4, 5), Fraction(14, 9)
    probs: Any
    principal: Any
    transitions: Any
    if observed_action:
        probs = [[[1, 0], [0, 1]]] * 3
        principal = [[prize * nine, prize * tenth]] * 3
        transitions = [[[(1, nine), (2, tenth)], [(1, tenth), (2, nine)]], [[], []], [[], []]]
        outcomes = ["aL", "aR"]
    else:
        probs = [[[nine, tenth], [tenth, nine]]] * 3
        principal = [[prize, 0]] * 3
        transitions = [[[(1, 1)], [(2, 1)]], [[], []], [[], []]]
        outcomes = ["L", "R"]
    return build_model(
        states=["s0", "sL", "sR"],
        actions=["aL", "aR"],
        outcomes=outcomes,
        initial_state="s0",
        discount=discount,
        outcome_probs=probs,
        agent_reward=[[cost, 0]] * 3,
        principal_reward=principal,
        transitions=[[list(map(list, entries)) for entries in row] for row in transitions],
        observed_action=observed_action,
        name="three-state example" + (" (observed action)" if observed_action else ""),
        exact=True,
    )


def random_instance(
    n_states: int,
    n_actions: int,
    n_outcomes: int,
    *,
    seed: SeedLike = 0,
    episodic: bool = True,
    discount: Any = None,
    observed_action: bool = False,
    denominator: int = 20,
    branching: int = 2,
    terminal_share: float = 0.3,
) -> PrincipalAgentMDP:
    """A random instance with exact rational numbers (denominators dividing ``denominator``).

    * Episodic: states are topologically ordered; every (state, outcome) leads to up to
      ``branching`` later states, or ends the episode (always for the last state, with
      probability ``terminal_share`` otherwise). Default γ = 1.
    * Discounted (``episodic=False``): every (state, outcome) leads to up to ``branching``
      arbitrary states (cycles allowed). Default γ = 9/10; γ must be < 1.

    Outcome distributions, transition probabilities and rewards are multiples of
    ``1/denominator``: agent rewards in [−1, 0.5], principal rewards in [0, 2]. Outcome
    distributions are drawn from a Dirichlet and rounded to the grid, so ties and zero
    probabilities occur naturally. With ``observed_action`` the outcomes are the actions
    (``n_outcomes`` is ignored).
    """
    for label, value, low in (
        ("n_states", n_states, 1),
        ("n_actions", n_actions, 1),
        ("n_outcomes", n_outcomes, 1),
        ("denominator", denominator, 1),
        ("branching", branching, 1),
    ):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{label} must be an integer ≥ {low}, got {value!r}")
    rng = _rng(seed)
    if discount is None:
        discount = Fraction(1) if episodic else Fraction(9, 10)
    discount = to_fraction(discount)
    if not episodic and discount >= 1:
        raise ValueError(f"discounted instances need discount < 1, got {discount}")
    if observed_action:
        n_outcomes = n_actions
    grid = denominator

    def simplex(size: int) -> list[Fraction]:
        weights = rng.dirichlet(np.ones(size))
        counts = np.floor(weights * grid).astype(int)
        counts[rng.integers(size)] += grid - counts.sum()
        return [Fraction(int(c), grid) for c in counts]

    probs: Any
    if observed_action:
        probs = [
            [[int(o == a) for o in range(n_outcomes)] for a in range(n_actions)]
            for _ in range(n_states)
        ]
    else:
        probs = [[simplex(n_outcomes) for _ in range(n_actions)] for _ in range(n_states)]
    agent = [
        [Fraction(int(rng.integers(-grid, grid // 2 + 1)), grid) for _ in range(n_actions)]
        for _ in range(n_states)
    ]
    principal = [
        [Fraction(int(rng.integers(0, 2 * grid + 1)), grid) for _ in range(n_outcomes)]
        for _ in range(n_states)
    ]
    transitions: list[list[list[list[Any]]]] = []
    for s in range(n_states):
        row: list[list[list[Any]]] = []
        for _ in range(n_outcomes):
            if episodic:
                later = np.arange(s + 1, n_states)
                if later.size == 0 or rng.random() < terminal_share:
                    row.append([])
                    continue
                pool = later
            else:
                pool = np.arange(n_states)
            k = int(rng.integers(1, min(branching, pool.size) + 1))
            targets = sorted(int(t) for t in rng.choice(pool, size=k, replace=False))
            weights = simplex(k) if k > 1 else [Fraction(1)]
            # a zero-probability entry is legal but pointless: drop it
            row.append(
                [[t, w] for t, w in zip(targets, weights, strict=True) if w > 0]
                or [[targets[0], Fraction(1)]]
            )
        transitions.append(row)
    names_a = [f"a{i}" for i in range(n_actions)]
    return build_model(
        states=[f"s{i}" for i in range(n_states)],
        actions=names_a,
        outcomes=names_a if observed_action else [f"o{i}" for i in range(n_outcomes)],
        initial_state=0,
        discount=discount,
        outcome_probs=probs,
        agent_reward=agent,
        principal_reward=principal,
        transitions=transitions,
        observed_action=observed_action,
        name=f"random {'episodic' if episodic else 'discounted'} S={n_states} A={n_actions} "
        f"O={n_outcomes}",
        exact=True,
    )


def exactify(model: PrincipalAgentMDP) -> PrincipalAgentMDP:
    """A copy of ``model`` carrying its exact view (floats read as shortest decimals)."""
    from dataclasses import replace

    return replace(model, exact=model.exact_data())


__all__ = ["exactify", "fraction_array", "paper_tree", "random_instance", "three_state_example"]
