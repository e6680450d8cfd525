"""Hypothesis strategies for principal-agent MDPs (PAPER.md §1; issue 3).

The strategies generate every shape of instance the theorems of PAPER.md §3 talk about:

* **episodic** instances (an acyclic state graph, any γ ≤ 1): *trees* (every state but the
  initial one has exactly one parent (state, outcome); all states reachable) and *DAGs* (every
  (state, outcome) ends the episode or leads to up to two later states);
* **discounted** instances (cycles allowed, γ < 1);
* **hidden** or **observed** action (FORMAT.md ``observed_action``: outcomes are the actions);
* optionally **exact** rationals (the model carries :class:`theory.model.ExactData`).

Every number is a small rational on a grid (probabilities are compositions of a denominator,
rewards multiples of ``1/denominator``). About half of the instances draw their numbers and
transitions one by one through Hypothesis (shrinkable, and prone to zeros, point masses and
ties); the others generate them from a drawn seed (Dirichlet distributions on a 1/20 grid,
like :func:`theory.generators.random_instance`), which gives generic instances with interior
probabilities, limited-liability rents and long episodes. Shrinking moves towards the first
kind. In float mode the denominators divide a power of ten,
so each float's shortest decimal *is* the drawn rational and the exact view of a float instance
(``model.exact_data()``) is the instance that was drawn; in exact mode any small denominator
is used. Hypothesis shrinks integers towards 0, so failing examples shrink towards few states,
few actions, zero rewards, point-mass outcome distributions and terminal transitions.

Deliberate degeneracy (``degenerate=True``, the default) switches on, each with its own drawn
flag (on about one time in four, so that most instances stay generic), the cases where float
solvers and sloppy definitions break:

* **ties** for the agent (two actions with the same reward in a state) and for the principal
  (two outcomes with the same principal reward);
* **zero rewards** (all agent rewards, or all principal rewards, zero);
* **identical outcome distributions** for two actions of a state;
* **unimplementable actions**: an action whose outcome distribution equals another's (or is the
  mixture of two others') at a strictly lower agent reward, so no non-negative contract makes
  it a best response;
* **γ near 0 and near 1** (``0``, ``1/1000``, ``99/100``, ``999/1000``).

Size arguments are keyword-only and validated eagerly: a bad value raises
:class:`hypothesis.errors.InvalidArgument` naming the argument when the strategy is *built*,
not when it is first drawn from (the convention of Hypothesis' own ``extra`` modules).

The strategies are registered for :class:`theory.model.PrincipalAgentMDP` through the
``hypothesis`` entry point (``properties._hypothesis_plugin``), so ``st.from_type`` works in any
test suite that installs pamdp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from theory.model import PrincipalAgentMDP, build_model

Family = Literal["episodic", "discounted", "all"]
Shape = Literal["tree", "dag", "any"]
FloatArray = npt.NDArray[np.float64]

FAMILIES: tuple[str, ...] = ("episodic", "discounted", "all")
SHAPES: tuple[str, ...] = ("tree", "dag", "any")

#: Probability/reward denominators in float mode: they divide a power of ten, so the floats are
#: exact decimals and the model's exact view equals the drawn rationals. First = shrink target.
FLOAT_DENOMINATORS: tuple[int, ...] = (10, 2, 4, 5, 8, 20)
#: Denominators in exact mode (any small denominator).
EXACT_DENOMINATORS: tuple[int, ...] = (10, 2, 3, 4, 5, 6, 7, 12, 20)
#: Discounts of episodic instances; degenerate ones add γ near 0 and near 1.
EPISODIC_DISCOUNTS: tuple[Fraction, ...] = (Fraction(1), Fraction(9, 10), Fraction(1, 2))
#: Discounts of discounted instances (all < 1).
DISCOUNTED_DISCOUNTS: tuple[Fraction, ...] = (Fraction(9, 10), Fraction(1, 2), Fraction(3, 4))
#: γ near 0 and near 1, added when ``degenerate=True``.
DEGENERATE_DISCOUNTS: tuple[Fraction, ...] = (
    Fraction(0),
    Fraction(1, 1000),
    Fraction(99, 100),
    Fraction(999, 1000),
)
#: Agent rewards lie in [AGENT_REWARD_RANGE[0], AGENT_REWARD_RANGE[1]], principal rewards in
#: PRINCIPAL_REWARD_RANGE (both in units of the reward denominator).
AGENT_REWARD_RANGE: tuple[int, int] = (-2, 1)
PRINCIPAL_REWARD_RANGE: tuple[int, int] = (-1, 3)
#: Most successors of one (state, outcome).
MAX_BRANCHING = 2
#: Denominator of the numbers of seeded ("generic") instances: a power-of-ten divisor, so
#: float and exact views agree.
RANDOM_DENOMINATOR = 20


# ----------------------------------------------------------------------------- validation
def _check_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise InvalidArgument(f"{name} must be at least {low}, got {value!r}")
    return int(value)


def _check_bool(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        expected = "True, False or None" if allow_none else "True or False"
        raise InvalidArgument(f"{name} must be {expected}, got {value!r}")
    return value


def _check_sizes(
    min_states: Any,
    max_states: Any,
    min_actions: Any,
    max_actions: Any,
    min_outcomes: Any,
    max_outcomes: Any,
) -> tuple[int, int, int, int, int, int]:
    lo_s = _check_int("min_states", min_states)
    hi_s = _check_int("max_states", max_states)
    if lo_s > hi_s:
        raise InvalidArgument(f"min_states={lo_s} must not exceed max_states={hi_s}")
    lo_a = _check_int("min_actions", min_actions)
    hi_a = _check_int("max_actions", max_actions)
    if lo_a > hi_a:
        raise InvalidArgument(f"min_actions={lo_a} must not exceed max_actions={hi_a}")
    lo_o = _check_int("min_outcomes", min_outcomes)
    hi_o = _check_int("max_outcomes", max_outcomes)
    if lo_o > hi_o:
        raise InvalidArgument(f"min_outcomes={lo_o} must not exceed max_outcomes={hi_o}")
    return lo_s, hi_s, lo_a, hi_a, lo_o, hi_o


# ------------------------------------------------------------------------------- drawing
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _sometimes(draw: Draw, times_in_four: int = 1) -> bool:
    """A flag that is on ``times_in_four`` times in four (roughly; Hypothesis biases its
    integers) and shrinks to off."""
    return bool(draw(st.integers(0, 3)) >= 4 - times_in_four)


def _composition(draw: Draw, total: int, parts: int) -> list[int]:
    """Non-negative integers summing to ``total``; shrinks to all mass on the last part."""
    out: list[int] = []
    remaining = total
    for _ in range(parts - 1):
        value = draw(st.integers(0, remaining))
        out.append(value)
        remaining -= value
    out.append(remaining)
    return out


def _distribution(draw: Draw, denominator: int, parts: int) -> list[Fraction]:
    return [Fraction(k, denominator) for k in _composition(draw, denominator, parts)]


def _successors(draw: Draw, pool: Sequence[int], denominator: int) -> list[list[Any]]:
    """A distribution over 1..MAX_BRANCHING distinct states of ``pool`` (no zero entries)."""
    targets = draw(
        st.lists(
            st.sampled_from(list(pool)),
            min_size=1,
            max_size=min(MAX_BRANCHING, len(pool)),
            unique=True,
        )
    )
    targets = sorted(targets)
    if len(targets) == 1:
        return [[targets[0], Fraction(1)]]
    weights = _composition(draw, denominator - len(targets), len(targets))
    # every target keeps at least 1/denominator: no pointless zero-probability entries
    return [[t, Fraction(w + 1, denominator)] for t, w in zip(targets, weights, strict=True)]


def _tree_transitions(
    draw: Draw, n_states: int, n_outcomes: int, denominator: int
) -> list[list[list[list[Any]]]]:
    """Each state ``s > 0`` hangs below one (parent < s, outcome); siblings share a slot."""
    slots: dict[tuple[int, int], list[int]] = {}
    for child in range(1, n_states):
        # shrinks towards the previous state: minimal trees are chains (deep, not wide)
        parent = child - 1 - draw(st.integers(0, child - 1))
        outcome = draw(st.integers(0, n_outcomes - 1))
        slots.setdefault((parent, outcome), []).append(child)
    transitions: list[list[list[list[Any]]]] = []
    for s in range(n_states):
        row: list[list[list[Any]]] = []
        for o in range(n_outcomes):
            children = slots.get((s, o), [])
            if not children:
                row.append([])
            elif len(children) == 1:
                row.append([[children[0], Fraction(1)]])
            else:
                total = denominator
                while total < len(children):  # keep float-mode numbers exact decimals
                    total *= 10
                weights = _composition(draw, total - len(children), len(children))
                row.append(
                    [[c, Fraction(w + 1, total)] for c, w in zip(children, weights, strict=True)]
                )
        transitions.append(row)
    return transitions


def _dag_transitions(
    draw: Draw, n_states: int, n_outcomes: int, denominator: int
) -> list[list[list[list[Any]]]]:
    """Every (s, o) ends the episode or leads to up to two *later* states (acyclic)."""
    transitions: list[list[list[list[Any]]]] = []
    for s in range(n_states):
        row: list[list[list[Any]]] = []
        for _ in range(n_outcomes):
            later = range(s + 1, n_states)
            if len(later) and _sometimes(draw, 3):  # continue 3 times in 4
                row.append(_successors(draw, later, max(denominator, MAX_BRANCHING)))
            else:
                row.append([])
        transitions.append(row)
    return transitions


def _cyclic_transitions(
    draw: Draw, n_states: int, n_outcomes: int, denominator: int
) -> list[list[list[list[Any]]]]:
    """Every (s, o) leads to up to two arbitrary states, or (rarely drawn) ends the episode."""
    transitions: list[list[list[list[Any]]]] = []
    for _ in range(n_states):
        row: list[list[list[Any]]] = []
        for _ in range(n_outcomes):
            row.append(_successors(draw, range(n_states), max(denominator, MAX_BRANCHING)))
        transitions.append(row)
    return transitions


def _random_distribution(rng: np.random.Generator, denominator: int, parts: int) -> list[Fraction]:
    """A Dirichlet(1) distribution rounded to multiples of ``1/denominator``."""
    counts = np.floor(rng.dirichlet(np.ones(parts)) * denominator).astype(int)
    counts[rng.integers(parts)] += denominator - counts.sum()
    return [Fraction(int(c), denominator) for c in counts]


def _random_successors(
    rng: np.random.Generator, pool: Sequence[int], denominator: int
) -> list[list[Any]]:
    k = int(rng.integers(1, min(MAX_BRANCHING, len(pool)) + 1))
    targets = sorted(int(t) for t in rng.choice(np.asarray(pool), size=k, replace=False))
    if k == 1:
        return [[targets[0], Fraction(1)]]
    weights = _random_distribution(rng, denominator - k, k)
    return [
        [t, (w * (denominator - k) + 1) / denominator]
        for t, w in zip(targets, weights, strict=True)
    ]


def _random_transitions(
    rng: np.random.Generator, shape: str, n_states: int, n_outcomes: int, denominator: int
) -> list[list[list[list[Any]]]]:
    """Seeded transitions of the given shape (``tree``, ``dag`` or ``cyclic``)."""
    if shape == "tree":
        slots: dict[tuple[int, int], list[int]] = {}
        for child in range(1, n_states):
            slots.setdefault((int(rng.integers(child)), int(rng.integers(n_outcomes))), []).append(
                child
            )
        rows: list[list[list[list[Any]]]] = []
        for s in range(n_states):
            row: list[list[list[Any]]] = []
            for o in range(n_outcomes):
                children = slots.get((s, o), [])
                if len(children) <= 1:
                    row.append([[children[0], Fraction(1)]] if children else [])
                    continue
                total = denominator
                while total < len(children):
                    total *= 10
                weights = _random_distribution(rng, total - len(children), len(children))
                row.append(
                    [
                        [c, (w * (total - len(children)) + 1) / total]
                        for c, w in zip(children, weights, strict=True)
                    ]
                )
            rows.append(row)
        return rows
    out: list[list[list[list[Any]]]] = []
    for s in range(n_states):
        pool = list(range(n_states)) if shape == "cyclic" else list(range(s + 1, n_states))
        out.append(
            [
                _random_successors(rng, pool, denominator)
                if pool and (shape == "cyclic" or rng.random() < 0.75)
                else []
                for _ in range(n_outcomes)
            ]
        )
    return out


def _apply_degeneracy(
    draw: Draw,
    probs: list[list[list[Fraction]]],
    agent: list[list[Fraction]],
    principal: list[list[Fraction]],
    observed: bool,
    reward_den: int,
) -> list[str]:
    """Edit the drawn numbers in place to plant ties and unimplementable actions."""
    n_s, n_a, n_o = len(probs), len(probs[0]), len(probs[0][0])
    planted: list[str] = []
    if _sometimes(draw):  # zero rewards
        which = draw(st.sampled_from(["agent", "principal", "both"]))
        if which in ("agent", "both"):
            for row in agent:
                row[:] = [Fraction(0)] * n_a
        if which in ("principal", "both"):
            for row in principal:
                row[:] = [Fraction(0)] * n_o
        planted.append(f"zero-{which}-rewards")
    if n_a >= 2 and _sometimes(draw):  # agent tie
        s = draw(st.integers(0, n_s - 1))
        a, b = draw(st.lists(st.integers(0, n_a - 1), min_size=2, max_size=2, unique=True))
        agent[s][b] = agent[s][a]
        planted.append(f"agent-tie@s{s}")
    if n_o >= 2 and _sometimes(draw):  # principal tie
        s = draw(st.integers(0, n_s - 1))
        o, p = draw(st.lists(st.integers(0, n_o - 1), min_size=2, max_size=2, unique=True))
        principal[s][p] = principal[s][o]
        planted.append(f"principal-tie@s{s}")
    if not observed and n_a >= 2 and _sometimes(draw):  # identical outcome distributions
        s = draw(st.integers(0, n_s - 1))
        a, b = draw(st.lists(st.integers(0, n_a - 1), min_size=2, max_size=2, unique=True))
        probs[s][b] = list(probs[s][a])
        planted.append(f"identical-outcomes@s{s}")
    if not observed and n_a >= 2 and _sometimes(draw):  # unimplementable action
        s = draw(st.integers(0, n_s - 1))
        if n_a >= 3 and draw(st.booleans()):
            a, b, c = draw(st.lists(st.integers(0, n_a - 1), min_size=3, max_size=3, unique=True))
            probs[s][c] = [(x + y) / 2 for x, y in zip(probs[s][a], probs[s][b], strict=True)]
            agent[s][c] = min(agent[s][a], agent[s][b]) - Fraction(1, reward_den)
            planted.append(f"unimplementable-mixture@s{s}")
        else:
            a, b = draw(st.lists(st.integers(0, n_a - 1), min_size=2, max_size=2, unique=True))
            probs[s][b] = list(probs[s][a])
            agent[s][b] = agent[s][a] - Fraction(1, reward_den)
            planted.append(f"unimplementable-copy@s{s}")
    return planted


@st.composite
def _instances(
    draw: Draw,
    *,
    family: str,
    shape: str,
    min_states: int,
    max_states: int,
    min_actions: int,
    max_actions: int,
    min_outcomes: int,
    max_outcomes: int,
    observed_action: bool | None,
    exact: bool,
    degenerate: bool,
    discounts: tuple[Fraction, ...] | None,
) -> PrincipalAgentMDP:
    observed = _sometimes(draw) if observed_action is None else observed_action
    if family == "all":
        family = draw(st.sampled_from(["episodic", "discounted"]))
    if family == "episodic" and shape == "any":
        shape = draw(st.sampled_from(["dag", "tree"]))
    n_s = draw(st.integers(min_states, max_states))
    n_a = draw(st.integers(min_actions, max_actions))
    n_o = n_a if observed else draw(st.integers(min_outcomes, max_outcomes))
    dens = EXACT_DENOMINATORS if exact else FLOAT_DENOMINATORS
    # numbers: drawn one by one (shrinkable, degenerate-prone), or — about half the time —
    # generated from a drawn seed (generic: interior probabilities, rents, deep episodes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1))) if _sometimes(draw, 2) else None
    prob_den = draw(st.sampled_from(dens)) if rng is None else RANDOM_DENOMINATOR
    reward_den = draw(st.sampled_from(dens)) if rng is None else RANDOM_DENOMINATOR
    lo_a, hi_a = AGENT_REWARD_RANGE
    lo_p, hi_p = PRINCIPAL_REWARD_RANGE
    if observed:
        probs = [
            [[Fraction(int(o == a)) for o in range(n_o)] for a in range(n_a)] for _ in range(n_s)
        ]
    elif rng is None:
        probs = [[_distribution(draw, prob_den, n_o) for _ in range(n_a)] for _ in range(n_s)]
    else:
        probs = [[_random_distribution(rng, prob_den, n_o) for _ in range(n_a)] for _ in range(n_s)]
    if rng is None:
        agent = [
            [
                Fraction(draw(st.integers(lo_a * reward_den, hi_a * reward_den)), reward_den)
                for _ in range(n_a)
            ]
            for _ in range(n_s)
        ]
        principal = [
            [
                Fraction(draw(st.integers(lo_p * reward_den, hi_p * reward_den)), reward_den)
                for _ in range(n_o)
            ]
            for _ in range(n_s)
        ]
    else:
        numerators_a: list[list[int]] = rng.integers(
            lo_a * reward_den, hi_a * reward_den + 1, (n_s, n_a)
        ).tolist()
        numerators_p: list[list[int]] = rng.integers(
            lo_p * reward_den, hi_p * reward_den + 1, (n_s, n_o)
        ).tolist()
        agent = [[Fraction(k, reward_den) for k in row] for row in numerators_a]
        principal = [[Fraction(k, reward_den) for k in row] for row in numerators_p]
    if family == "episodic":
        if rng is not None:
            transitions = _random_transitions(rng, shape, n_s, n_o, prob_den)
        else:
            build = _tree_transitions if shape == "tree" else _dag_transitions
            transitions = build(draw, n_s, n_o, prob_den)
        pool = discounts or (EPISODIC_DISCOUNTS + (DEGENERATE_DISCOUNTS if degenerate else ()))
    else:
        transitions = (
            _cyclic_transitions(draw, n_s, n_o, prob_den)
            if rng is None
            else _random_transitions(rng, "cyclic", n_s, n_o, prob_den)
        )
        pool = discounts or (DISCOUNTED_DISCOUNTS + (DEGENERATE_DISCOUNTS if degenerate else ()))
    gamma = draw(st.sampled_from(pool))
    planted = (
        _apply_degeneracy(draw, probs, agent, principal, observed, reward_den) if degenerate else []
    )
    label = family if family == "discounted" else f"episodic-{shape}"
    extra = f" [{', '.join(planted)}]" if planted else ""
    return build_model(
        states=[f"s{i}" for i in range(n_s)],
        actions=[f"a{i}" for i in range(n_a)],
        outcomes=[f"a{i}" for i in range(n_a)] if observed else [f"o{i}" for i in range(n_o)],
        initial_state=0,
        discount=gamma,
        outcome_probs=probs,
        agent_reward=agent,
        principal_reward=principal,
        transitions=transitions,
        observed_action=observed,
        name=f"hypothesis {label}{' observed' if observed else ''} S={n_s} A={n_a} O={n_o}{extra}",
        exact=exact,
    )


def _check_discounts(discounts: Any, *, episodic: bool) -> tuple[Fraction, ...] | None:
    if discounts is None:
        return None
    try:
        values = tuple(
            Fraction(d) if not isinstance(d, float) else Fraction(repr(d)) for d in discounts
        )
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"discounts must be numbers, got {discounts!r} ({error})") from None
    if not values:
        raise InvalidArgument("discounts must not be empty")
    top = Fraction(1) if episodic else Fraction(1) - Fraction(1, 10**12)
    for d in values:
        if not 0 <= d <= top:
            limit = "[0, 1]" if episodic else "[0, 1)"
            raise InvalidArgument(f"discounts must lie in {limit}, got {d}")
    return values


def instances(
    *,
    family: Family = "all",
    min_states: int = 1,
    max_states: int = 4,
    min_actions: int = 1,
    max_actions: int = 3,
    min_outcomes: int = 1,
    max_outcomes: int = 3,
    observed_action: bool | None = None,
    exact: bool = False,
    degenerate: bool = True,
    shape: Shape = "any",
    discounts: Sequence[Any] | None = None,
) -> st.SearchStrategy[PrincipalAgentMDP]:
    """Principal-agent MDPs (PAPER.md §1) of the requested family and size.

    Parameters
    ----------
    family : ``"episodic"`` (acyclic, any γ ≤ 1), ``"discounted"`` (cycles, γ < 1) or ``"all"``.
    min_states, max_states : bounds on ``|S|`` (≥ 1).
    min_actions, max_actions : bounds on ``|A|`` (≥ 1).
    min_outcomes, max_outcomes : bounds on ``|O|`` for hidden action (ignored with observed
        action, where ``O = A``).
    observed_action : ``None`` draws both cases (observed about one time in four),
        ``True`` / ``False`` fixes one.
    exact : attach exact rationals to the model (any small denominators); otherwise the
        numbers are floats whose shortest decimals are the drawn rationals.
    degenerate : plant ties, zero rewards, identical outcome distributions, unimplementable
        actions and γ near 0 / 1 (module docstring), each under its own drawn flag.
    shape : episodic only: ``"tree"``, ``"dag"`` or ``"any"``.
    discounts : the discounts to draw from (default: see the module constants).

    Raises
    ------
    hypothesis.errors.InvalidArgument
        Immediately, naming the offending argument.
    """
    if family not in FAMILIES:
        raise InvalidArgument(f"family must be one of {FAMILIES}, got {family!r}")
    if shape not in SHAPES:
        raise InvalidArgument(f"shape must be one of {SHAPES}, got {shape!r}")
    lo_s, hi_s, lo_a, hi_a, lo_o, hi_o = _check_sizes(
        min_states, max_states, min_actions, max_actions, min_outcomes, max_outcomes
    )
    observed = _check_bool("observed_action", observed_action, allow_none=True)
    exact_flag = _check_bool("exact", exact)
    degenerate_flag = _check_bool("degenerate", degenerate)
    if discounts is not None and family == "all":
        raise InvalidArgument("discounts needs family='episodic' or family='discounted'")
    gammas = _check_discounts(discounts, episodic=family == "episodic")
    return _instances(
        family=family,
        shape=shape,
        min_states=lo_s,
        max_states=hi_s,
        min_actions=lo_a,
        max_actions=hi_a,
        min_outcomes=lo_o,
        max_outcomes=hi_o,
        observed_action=observed,
        exact=bool(exact_flag),
        degenerate=bool(degenerate_flag),
        discounts=gammas,
    )


def episodic_instances(
    *,
    shape: Shape = "any",
    min_states: int = 1,
    max_states: int = 4,
    min_actions: int = 1,
    max_actions: int = 3,
    min_outcomes: int = 1,
    max_outcomes: int = 3,
    observed_action: bool | None = None,
    exact: bool = False,
    degenerate: bool = True,
    discounts: Sequence[Any] | None = None,
) -> st.SearchStrategy[PrincipalAgentMDP]:
    """Episodic instances (trees and DAGs, γ ≤ 1); see :func:`instances`."""
    return instances(
        family="episodic",
        shape=shape,
        min_states=min_states,
        max_states=max_states,
        min_actions=min_actions,
        max_actions=max_actions,
        min_outcomes=min_outcomes,
        max_outcomes=max_outcomes,
        observed_action=observed_action,
        exact=exact,
        degenerate=degenerate,
        discounts=discounts,
    )


def discounted_instances(
    *,
    min_states: int = 1,
    max_states: int = 4,
    min_actions: int = 1,
    max_actions: int = 3,
    min_outcomes: int = 1,
    max_outcomes: int = 3,
    observed_action: bool | None = None,
    exact: bool = False,
    degenerate: bool = True,
    discounts: Sequence[Any] | None = None,
) -> st.SearchStrategy[PrincipalAgentMDP]:
    """Discounted instances with cycles (γ < 1); see :func:`instances`."""
    return instances(
        family="discounted",
        min_states=min_states,
        max_states=max_states,
        min_actions=min_actions,
        max_actions=max_actions,
        min_outcomes=min_outcomes,
        max_outcomes=max_outcomes,
        observed_action=observed_action,
        exact=exact,
        degenerate=degenerate,
        discounts=discounts,
    )


# ------------------------------------------------------------------- auxiliary strategies
def contracts(
    n_outcomes: int, *, max_payment: int = 4, denominator: int = 10
) -> st.SearchStrategy[FloatArray]:
    """Non-negative contracts ``b : O → ℝ≥0`` on a grid (for off-path deviation checks).

    Payments are multiples of ``1/denominator`` in ``[0, max_payment]``; shrinks to zero pay.
    """
    n = _check_int("n_outcomes", n_outcomes)
    top = _check_int("max_payment", max_payment, low=0)
    den = _check_int("denominator", denominator)
    return st.lists(st.integers(0, top * den), min_size=n, max_size=n).map(
        lambda ks: np.asarray(ks, dtype=np.float64) / den
    )


def q_tables(
    n_states: int, n_actions: int, *, magnitude: int = 10, denominator: int = 100
) -> st.SearchStrategy[FloatArray]:
    """Finite principal-Q tables ``(S, A)`` on a grid in ``[−magnitude, magnitude]``."""
    n_s = _check_int("n_states", n_states)
    n_a = _check_int("n_actions", n_actions)
    mag = _check_int("magnitude", magnitude)
    den = _check_int("denominator", denominator)
    return st.lists(st.integers(-mag * den, mag * den), min_size=n_s * n_a, max_size=n_s * n_a).map(
        lambda ks: np.asarray(ks, dtype=np.float64).reshape(n_s, n_a) / den
    )


@st.composite
def _q_pairs(draw: Draw, n_s: int, n_a: int, magnitude: int) -> tuple[FloatArray, FloatArray]:
    q1 = draw(q_tables(n_s, n_a, magnitude=magnitude))
    kind = draw(st.sampled_from(["independent", "perturbed", "tie-flip", "shift"]))
    if kind == "perturbed":
        # q2 differs from q1 by a small amount, possibly flipping the greedy policy
        scale = draw(st.sampled_from([1e-3, 1e-6, 1e-1]))
        delta = draw(q_tables(n_s, n_a, magnitude=1)) * scale
        return q1, q1 + delta
    if kind == "tie-flip" and n_a >= 2:
        # q1 ties two actions of one state (greedy takes the lower index); q2 breaks the tie
        # the other way by ε: the greedy policies differ while ‖q1 − q2‖∞ = ε
        s = draw(st.integers(0, n_s - 1))
        a, b = sorted(draw(st.lists(st.integers(0, n_a - 1), min_size=2, max_size=2, unique=True)))
        top = float(np.max(q1[s]))
        q1 = q1.copy()
        q1[s, a] = q1[s, b] = top
        q2 = q1.copy()
        q2[s, b] = top + draw(st.sampled_from([1e-3, 1e-6]))
        return q1, q2
    if kind == "shift":
        # q2 = q1 + c: the sup-norm distance is attained everywhere (a sharp test of γ)
        return q1, q1 + draw(st.sampled_from([1.0, -0.5, 1e-3]))
    return q1, draw(q_tables(n_s, n_a, magnitude=magnitude))


def q_pairs(
    n_states: int, n_actions: int, *, magnitude: int = 10
) -> st.SearchStrategy[tuple[FloatArray, FloatArray]]:
    """Pairs ``(q1, q2)`` of principal-Q tables for contraction checks (PAPER.md §3).

    Four kinds: independent tables; ``q2`` a small perturbation of ``q1``; a *tie flip*
    (``q1`` ties two actions of a state, ``q2`` breaks the tie the other way by ε, so the
    greedy policies differ at distance ε — the near-tie jumps of reading R1); and a constant
    *shift* ``q2 = q1 + c`` (the distance is attained at every state, which detects a wrong
    modulus).
    """
    return _q_pairs(
        _check_int("n_states", n_states),
        _check_int("n_actions", n_actions),
        _check_int("magnitude", magnitude),
    )


__all__ = [
    "DEGENERATE_DISCOUNTS",
    "FAMILIES",
    "SHAPES",
    "contracts",
    "discounted_instances",
    "episodic_instances",
    "instances",
    "q_pairs",
    "q_tables",
]
