"""The principal-agent MDP (PAPER.md §1; Ivanov et al. 2024, §2).

M = (S, s0, A, B, O, 𝒪, r, r^p, T, γ):

* ``S`` finite states, ``s0`` the initial state, ``A`` the agent's actions (the same set in
  every state), ``O`` finite observable outcomes;
* ``𝒪(s, a) ∈ Δ(O)`` the outcome distribution of the hidden action ``a`` in state ``s``;
* ``r(s, a)`` the agent's own reward, ``r^p(s, o)`` the principal's reward (it depends on the
  outcome only);
* ``T(s, o) ∈ Δ(S)`` the next state, which depends on the **outcome**; an empty distribution
  ends the episode;
* ``γ`` the discount: ``γ = 1`` is allowed only when no cycle is reachable from ``s0``.

Contracts ``b : O → ℝ≥0`` are chosen per state by the principal (limited liability). In the
*observed-action* special case the outcomes are the actions (``O = A``, ``𝒪(s, a) = δ_a``).

The model is immutable. Numbers are stored as float64 arrays for the vectorised solvers and,
optionally, as exact rationals (:class:`ExactData`) for the exact solvers. A float-only model
has an exact view too: each float is read as the shortest decimal that prints as it
(``Fraction(repr(x))``), which is exactly what the interchange format writes, so saving and
re-loading never changes the exact instance.
"""

from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from theory.exact_backend import coprime_fraction
from theory.numbers import excerpt, to_fraction

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

#: Default tolerance for "sums to 1" checks on float input.
PROBABILITY_TOLERANCE = 1e-9


class InstanceError(ValueError):
    """A malformed principal-agent MDP. The message names the field, the indices and the value."""

    def __init__(
        self,
        field_name: str,
        message: str,
        *,
        index: tuple[int, ...] | None = None,
        value: Any = None,
    ) -> None:
        self.field_name = field_name
        self.index = index
        self.value = value
        where = field_name + ("".join(f"[{i}]" for i in index) if index else "")
        shown = f" (value: {excerpt(value)})" if value is not None else ""
        super().__init__(f"{where}: {message}{shown}")


def fraction_array(values: Any) -> ObjectArray:
    """An object array of :class:`fractions.Fraction` with the shape of ``values``.

    Each number is read by :func:`theory.numbers.to_fraction`. A finite float array is read
    value by value over its *distinct* values only (``np.unique``), each one as the shortest
    decimal that prints as it (``Fraction(repr(x))``, computed through
    :class:`decimal.Decimal`, which is exact) and indexed back, so equal floats share one
    Fraction: the same Fractions, several times faster on instances with repeated numbers.
    """
    if (
        isinstance(values, np.ndarray)
        and values.dtype.kind == "f"
        and values.size
        and bool(np.isfinite(values).all())
    ):
        distinct, inverse = np.unique(values, return_inverse=True)
        converted = np.empty(len(distinct), dtype=object)
        converted[:] = _float_fractions(distinct.tolist())
        return converted[inverse.reshape(-1)].reshape(values.shape)
    array = np.asarray(values, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for index, value in np.ndenumerate(array):
        out[index] = to_fraction(value)
    return out


def _float_fraction(value: float) -> Fraction:
    """``Fraction(repr(value))`` for a finite float: the decimal of ``repr`` read by
    :class:`decimal.Decimal`, whose ``as_integer_ratio`` is in lowest terms."""
    return coprime_fraction(*Decimal(repr(value)).as_integer_ratio())


def _float_fractions(values: list[float]) -> list[Fraction]:
    """``[Fraction(repr(x)) for x in values]`` for finite floats, in bulk.

    ``repr`` writes a finite float as ``[-]digits.digits`` (exactly one point), or with an
    exponent for ``|x| < 10⁻⁴`` or ``|x| ≥ 10¹⁶``. Without an exponent the number is the integer
    written with the point removed over ``10**k``, ``k`` the number of digits after the point;
    dividing both by their gcd gives lowest terms. Every step runs over the whole list at once
    (one joined string, ``map`` of C functions); numbers with an exponent go through
    :func:`_float_fraction`. ``tests/test_exact_backend.py`` checks the identity.
    """
    texts = list(map(repr, values))
    exponent = [i for i, text in enumerate(texts) if "e" in text]
    for i in exponent:
        texts[i] = "0.0"
    joined = " ".join(texts)
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    points = np.flatnonzero(chars == ord("."))
    ends = np.append(np.flatnonzero(chars == ord(" ")), len(chars))
    numerators = list(map(int, joined.replace(".", "").split(" ")))
    denominators = list(map(pow, itertools.repeat(10), (ends - points - 1).tolist()))
    common = list(map(math.gcd, numerators, denominators))
    out = list(
        map(
            coprime_fraction,
            map(operator.floordiv, numerators, common),
            map(operator.floordiv, denominators, common),
        )
    )
    for i in exponent:
        out[i] = _float_fraction(values[i])
    return out


def _fraction_rows(values: FloatArray) -> ObjectArray:
    """:func:`fraction_array` of the rows of a 2-d float array, each row divided by its exact
    sum as :func:`normalise_exact_rows` does; the work is done once per distinct row (rows
    compared as bytes, so ``-0.0`` and ``0.0`` make two rows with the same Fractions)."""
    if not values.size or not bool(np.isfinite(values).all()):
        out = fraction_array(values)
        normalise_exact_rows(out)
        return out
    values = np.ascontiguousarray(values)
    keys = values.view(np.dtype((np.void, values.dtype.itemsize * values.shape[1])))
    _, first, inverse = np.unique(keys.reshape(-1), return_index=True, return_inverse=True)
    rows = fraction_array(values[first])
    normalise_exact_rows(rows)
    return rows[inverse.reshape(-1)]


def _fraction_groups(values: FloatArray, offsets: IntArray) -> ObjectArray:
    """:func:`fraction_array` of CSR values with :func:`normalise_exact_groups` applied,
    groups of equal length done as the rows of one array by :func:`_fraction_rows`."""
    out = fraction_array(values) if values.size else np.empty(0, dtype=object)
    lengths = np.diff(offsets)
    for length in np.unique(lengths[lengths > 0]).tolist():
        positions = offsets[:-1][lengths == length][:, None] + np.arange(length)
        out[positions] = _fraction_rows(values[positions])
    return out


@dataclass(frozen=True, eq=False)
class ExactData:
    """Exact rational copies of every number of a :class:`PrincipalAgentMDP`.

    Arrays are numpy object arrays of :class:`fractions.Fraction` with the same shapes as the
    float arrays of the model.
    """

    discount: Fraction
    outcome_probs: ObjectArray
    agent_reward: ObjectArray
    principal_reward: ObjectArray
    transition_prob: ObjectArray


@dataclass(frozen=True, eq=False)
class PrincipalAgentMDP:
    """An immutable principal-agent MDP (PAPER.md §1).

    Transitions are stored sparsely in CSR form over the rows ``s * |O| + o``: the entries of
    ``T(s, o)`` are ``transition_next[k]`` with probability ``transition_prob[k]`` for ``k`` in
    ``transition_offsets[s*|O|+o] : transition_offsets[s*|O|+o+1]``. An empty row ends the
    episode.

    Attributes
    ----------
    states, actions, outcomes
        Names; an element's index is its position.
    initial_state
        Index of ``s0``.
    discount
        γ in [0, 1].
    outcome_probs
        ``(S, A, O)`` array, 𝒪(s, a)(o).
    agent_reward
        ``(S, A)`` array, r(s, a).
    principal_reward
        ``(S, O)`` array, r^p(s, o).
    transition_offsets, transition_next, transition_prob
        CSR storage of T, see above.
    observed_action
        True when outcomes are the actions (𝒪(s, a) is the point mass on a).
    name
        Free text.
    exact
        Exact rational numbers when the instance was given exactly; ``None`` for float-only
        instances (see :meth:`exact_data`).
    """

    states: tuple[str, ...]
    actions: tuple[str, ...]
    outcomes: tuple[str, ...]
    initial_state: int
    discount: float
    outcome_probs: FloatArray
    agent_reward: FloatArray
    principal_reward: FloatArray
    transition_offsets: IntArray
    transition_next: IntArray
    transition_prob: FloatArray
    observed_action: bool = False
    name: str = ""
    exact: ExactData | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # immutability: private read-only copies, so neither the caller nor a solver can
        # change a validated model (and cached properties can never go stale)
        for name in (
            "outcome_probs",
            "agent_reward",
            "principal_reward",
            "transition_offsets",
            "transition_next",
            "transition_prob",
        ):
            array = np.array(getattr(self, name), copy=True)
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if self.exact is not None:
            for name in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
                getattr(self.exact, name).flags.writeable = False
        validate_model(self)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    @property
    def n_outcomes(self) -> int:
        return len(self.outcomes)

    # ------------------------------------------------------------ transitions
    @cached_property
    def transition_matrix(self) -> sp.csr_matrix:
        """Sparse ``(S*O, S)`` matrix with entry ``[s*O + o, s']`` = T(s, o)(s')."""
        n_rows = self.n_states * self.n_outcomes
        return sp.csr_matrix(
            (self.transition_prob, self.transition_next, self.transition_offsets),
            shape=(n_rows, self.n_states),
        )

    def successors(self, state: int, outcome: int) -> list[tuple[int, float]]:
        """T(s, o) as a list of ``(next_state, probability)``."""
        row = state * self.n_outcomes + outcome
        lo, hi = self.transition_offsets[row], self.transition_offsets[row + 1]
        return [
            (int(n), float(p))
            for n, p in zip(self.transition_next[lo:hi], self.transition_prob[lo:hi], strict=True)
        ]

    @cached_property
    def state_graph(self) -> sp.csr_matrix:
        """Boolean ``(S, S)`` adjacency: s → s' when some outcome of s leads to s' with positive
        probability. (An outcome that no action produces still counts: the graph is built from
        T alone, so such an edge can make an instance cyclic.)"""
        rows = np.repeat(
            np.arange(self.n_states * self.n_outcomes) // self.n_outcomes,
            np.diff(self.transition_offsets),
        )
        positive = self.transition_prob > 0
        data = np.ones(int(positive.sum()), dtype=bool)
        graph = sp.csr_matrix(
            (data, (rows[positive], self.transition_next[positive])),
            shape=(self.n_states, self.n_states),
        )
        graph.sum_duplicates()
        return graph

    @cached_property
    def heights(self) -> IntArray | None:
        """Longest path (in steps) from each state to an episode end; ``None`` if cyclic.

        States of height 0 end the episode after acting; a state of height h depends only on
        states of height < h, which is the level structure backward induction follows.
        """
        return _heights(self.state_graph)

    @property
    def is_episodic(self) -> bool:
        """True when the state graph is acyclic (every episode ends), whatever γ."""
        return self.heights is not None

    @cached_property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """States reachable from the initial state (including it)."""
        return _reachable(self.state_graph, self.initial_state)

    # ------------------------------------------------------------------ exact
    def exact_data(self) -> ExactData:
        """Exact rationals: the stored ones, or the floats read as their shortest decimals.

        In the second case a probability row that sums to 1 only within the tolerance is
        divided by its exact sum (see :func:`normalise_exact_rows`).
        """
        if self.exact is not None:
            return self.exact
        return self._exact_view

    @cached_property
    def _exact_view(self) -> ExactData:
        probs = _fraction_rows(self.outcome_probs.reshape(-1, self.n_outcomes)).reshape(
            self.outcome_probs.shape
        )
        transition = _fraction_groups(self.transition_prob, self.transition_offsets)
        return ExactData(
            discount=to_fraction(self.discount),
            outcome_probs=probs,
            agent_reward=fraction_array(self.agent_reward),
            principal_reward=fraction_array(self.principal_reward),
            transition_prob=transition,
        )

    def require_defined_values(self) -> None:
        """Raise :class:`InstanceError` when values are undefined: γ = 1 and a cycle.

        FORMAT.md allows γ = 1 with a cycle among states unreachable from the initial state;
        the document is valid, but undiscounted values on that cycle are not defined, so
        pamdp's solvers refuse such an instance with this message.
        """
        if self.discount >= 1 and not self.is_episodic:
            cyclic = np.flatnonzero(~self.reachable)
            names = ", ".join(self.states[s] for s in cyclic[:5])
            raise InstanceError(
                "discount",
                "γ = 1 and the state graph has a cycle among states unreachable "
                f"from the initial state ({names}{', …' if len(cyclic) > 5 else ''}): their "
                "values are undefined; remove those states or use γ < 1",
                value=1,
            )

    def state_index(self, name: str) -> int:
        try:
            return self.states.index(name)
        except ValueError:
            raise InstanceError("states", "unknown state name", value=name) from None

    def action_index(self, name: str) -> int:
        try:
            return self.actions.index(name)
        except ValueError:
            raise InstanceError("actions", "unknown action name", value=name) from None


def normalise_exact_rows(rows: ObjectArray, tolerance: float = PROBABILITY_TOLERANCE) -> None:
    """In place: divide each row of Fractions by its exact sum when that sum is within
    ``tolerance`` of 1 but not 1 (rows further off are left for validation to reject).

    This is how a distribution written with finitely many decimals (``0.3333333333333333``
    three times) becomes an exact distribution (here exactly 1/3 each).
    """
    one = Fraction(1)
    for i in range(rows.shape[0]):
        total = sum(rows[i], Fraction(0))
        if total != one and total > 0 and abs(total - one) <= tolerance:
            rows[i] = [x / total for x in rows[i]]


def normalise_exact_groups(
    values: ObjectArray, offsets: IntArray, tolerance: float = PROBABILITY_TOLERANCE
) -> None:
    """:func:`normalise_exact_rows` for the CSR groups ``values[offsets[k]:offsets[k+1]]``."""
    one = Fraction(1)
    for k in range(len(offsets) - 1):
        lo, hi = int(offsets[k]), int(offsets[k + 1])
        if hi > lo:
            total = sum(values[lo:hi], Fraction(0))
            if total != one and total > 0 and abs(total - one) <= tolerance:
                values[lo:hi] = [x / total for x in values[lo:hi]]


def _heights(graph: sp.csr_matrix) -> IntArray | None:
    """Longest-path heights of a DAG by Kahn's algorithm on the reversed graph; None if cyclic."""
    n = graph.shape[0]
    out_degree = np.diff(graph.indptr).astype(np.int64)
    reverse = graph.T.tocsr()
    heights = np.zeros(n, dtype=np.int64)
    frontier = np.flatnonzero(out_degree == 0)
    remaining = out_degree.copy()
    processed = 0
    level = 0
    while frontier.size:
        heights[frontier] = level
        processed += frontier.size
        # predecessors of the frontier lose one pending successor per edge
        preds = reverse[frontier].indices
        np.subtract.at(remaining, preds, 1)
        candidates = np.unique(preds)
        frontier = candidates[remaining[candidates] == 0]
        level += 1
    if processed != n:
        return None
    return heights


def _reachable(graph: sp.csr_matrix, start: int) -> npt.NDArray[np.bool_]:
    seen = np.zeros(graph.shape[0], dtype=bool)
    seen[start] = True
    frontier = np.array([start])
    while frontier.size:
        nxt = np.unique(graph[frontier].indices)
        nxt = nxt[~seen[nxt]]
        seen[nxt] = True
        frontier = nxt
    return seen


def _cycle_witness(graph: sp.csr_matrix, mask: npt.NDArray[np.bool_]) -> list[int] | None:
    """A cycle among the states in ``mask`` (as a list of states), or None."""
    sub = graph[mask][:, mask]
    if _heights(sub) is None:
        index = np.flatnonzero(mask)
        # peel off states that cannot be on a cycle, then walk within the remainder
        alive = np.ones(sub.shape[0], dtype=bool)
        changed = True
        while changed:
            out = np.asarray(sub[:, alive][alive].sum(axis=1)).ravel()
            inn = np.asarray(sub[alive][:, alive].sum(axis=0)).ravel()
            dead = (out == 0) | (inn == 0)
            changed = bool(dead.any())
            alive[np.flatnonzero(alive)[dead]] = False
        core = np.flatnonzero(alive)
        state = int(core[0])
        path: list[int] = []
        seen: dict[int, int] = {}
        while state not in seen:
            seen[state] = len(path)
            path.append(state)
            succ = [int(j) for j in sub[state].indices if alive[j]]
            state = succ[0]
        return [int(index[s]) for s in path[seen[state] :]]
    return None


def validate_model(model: PrincipalAgentMDP, tolerance: float = PROBABILITY_TOLERANCE) -> None:
    """Reject a malformed model with an :class:`InstanceError` naming field, indices and value.

    Checks: non-empty name lists without duplicates, array shapes, finiteness, probabilities in
    [0, 1] summing to 1 (within ``tolerance``; exactly when exact data is present), valid
    state indices, γ ∈ [0, 1], γ = 1 only without a cycle reachable from the initial state, and
    the observed-action structure.
    """
    n_s, n_a, n_o = len(model.states), len(model.actions), len(model.outcomes)
    for field_name, names in (
        ("states", model.states),
        ("actions", model.actions),
        ("outcomes", model.outcomes),
    ):
        if not names:
            raise InstanceError(field_name, "must not be empty", value=list(names))
        if set(map(type, names)) == {str} and len(set(names)) == len(names):
            continue
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if not isinstance(name, str):
                raise InstanceError(field_name, "names must be strings", index=(i,), value=name)
            if name in seen:
                raise InstanceError(
                    field_name,
                    f"duplicate name (also at index {seen[name]})",
                    index=(i,),
                    value=name,
                )
            seen[name] = i
    if not 0 <= model.initial_state < n_s:
        raise InstanceError("initial_state", "not a state index", value=model.initial_state)
    if not (0.0 <= model.discount <= 1.0):
        raise InstanceError("discount", "must be in [0, 1]", value=model.discount)
    expected = {
        "outcome_probs": (n_s, n_a, n_o),
        "agent_reward": (n_s, n_a),
        "principal_reward": (n_s, n_o),
    }
    for field_name, shape in expected.items():
        array = getattr(model, field_name)
        if array.shape != shape:
            raise InstanceError(field_name, f"wrong shape {array.shape}, expected {shape}")
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            index = tuple(int(i) for i in bad[0])
            raise InstanceError(
                field_name, "not a finite number", index=index, value=float(array[index])
            )
    probs = model.outcome_probs
    negative = np.argwhere(probs < 0)
    if negative.size:
        index = tuple(int(i) for i in negative[0])
        raise InstanceError(
            "outcome_probs",
            "negative probability",
            index=index,
            value=_shown(model, "outcome_probs", index),
        )
    sums = probs.sum(axis=2)
    off = np.argwhere(np.abs(sums - 1.0) > tolerance)
    if off.size:
        index = tuple(int(i) for i in off[0])
        raise InstanceError(
            "outcome_probs", "row does not sum to 1", index=index, value=float(sums[index])
        )
    if model.observed_action:
        if n_o != n_a or model.outcomes != model.actions:
            raise InstanceError(
                "outcomes",
                "with observed_action, outcomes must equal actions",
                value=list(model.outcomes),
            )
        identity = np.broadcast_to(np.eye(n_a), probs.shape)
        wrong = np.argwhere(probs != identity)
        if wrong.size:
            index = tuple(int(i) for i in wrong[0])
            raise InstanceError(
                "outcome_probs",
                "with observed_action, 𝒪(s, a) must be the point mass on a",
                index=index,
                value=float(probs[index]),
            )
    offsets, nxt, tprob = model.transition_offsets, model.transition_next, model.transition_prob
    if offsets.shape != (n_s * n_o + 1,) or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
        raise InstanceError("transitions", "malformed transition offsets")
    if nxt.shape != tprob.shape or nxt.shape != (int(offsets[-1]),):
        raise InstanceError("transitions", "malformed transition arrays")
    for k in np.flatnonzero((nxt < 0) | (nxt >= n_s)):
        s, o, j = _transition_position(model, int(k))
        raise InstanceError(
            "transitions", "dangling state index", index=(s, o, j, 0), value=int(nxt[k])
        )
    for k in np.flatnonzero(~np.isfinite(tprob) | (tprob < 0) | (tprob > 1 + tolerance)):
        s, o, j = _transition_position(model, int(k))
        raise InstanceError(
            "transitions",
            "probability must be in [0, 1]",
            index=(s, o, j, 1),
            value=float(tprob[k]),
        )
    lengths = np.diff(offsets)
    entry_rows = np.repeat(np.arange(n_s * n_o), lengths)
    row_sums = np.bincount(entry_rows, weights=tprob, minlength=n_s * n_o)
    row_sums = np.where(lengths > 0, row_sums, 1.0)
    off_rows = np.flatnonzero(np.abs(row_sums - 1.0) > tolerance)
    if off_rows.size:
        row = int(off_rows[0])
        raise InstanceError(
            "transitions",
            "non-empty distribution does not sum to 1",
            index=(row // n_o, row % n_o),
            value=float(row_sums[row]),
        )
    if model.exact is not None:
        _validate_exact(model)
    discount_is_one = (
        (model.exact.discount == 1) if model.exact is not None else model.discount == 1.0
    )
    if discount_is_one:
        mask = model.reachable
        cycle = _cycle_witness(model.state_graph, mask)
        if cycle is not None:
            cycle_names = [model.states[s] for s in cycle]
            raise InstanceError(
                "discount",
                f"γ = 1 but the cycle {' → '.join(cycle_names)} → "
                f"{cycle_names[0]} is reachable from the initial state",
                value=1,
            )


def _shown(model: PrincipalAgentMDP, field_name: str, index: tuple[int, ...]) -> Any:
    if model.exact is not None:
        return str(getattr(model.exact, field_name)[index])
    return float(getattr(model, field_name)[index])


def _transition_position(model: PrincipalAgentMDP, k: int) -> tuple[int, int, int]:
    row = int(np.searchsorted(model.transition_offsets, k, side="right") - 1)
    return row // model.n_outcomes, row % model.n_outcomes, k - int(model.transition_offsets[row])


def _validate_exact(model: PrincipalAgentMDP) -> None:
    exact = model.exact
    assert exact is not None
    for field_name in ("outcome_probs", "agent_reward", "principal_reward", "transition_prob"):
        if getattr(exact, field_name).shape != getattr(model, field_name).shape:
            raise InstanceError(field_name, "exact and float arrays differ in shape")
    for field_name in ("outcome_probs", "transition_prob"):
        values = getattr(exact, field_name)
        for index, value in np.ndenumerate(values):
            if value < 0:
                if field_name == "outcome_probs":
                    raise InstanceError(
                        "outcome_probs",
                        "negative probability",
                        index=tuple(int(i) for i in index),
                        value=str(value),
                    )
                s, o, j = _transition_position(model, int(index[0]))
                raise InstanceError(
                    "transitions", "negative probability", index=(s, o, j, 1), value=str(value)
                )
    one = Fraction(1)
    for (s, a), row in np.ndenumerate(exact.outcome_probs.sum(axis=2)):
        if row != one:
            raise InstanceError(
                "outcome_probs", "row does not sum to 1 exactly", index=(s, a), value=str(row)
            )
    offsets = model.transition_offsets
    for row in range(len(offsets) - 1):
        lo, hi = offsets[row], offsets[row + 1]
        if hi > lo:
            total = sum(exact.transition_prob[lo:hi], Fraction(0))
            if total != one:
                raise InstanceError(
                    "transitions",
                    "distribution does not sum to 1 exactly",
                    index=(row // model.n_outcomes, row % model.n_outcomes),
                    value=str(total),
                )


def build_model(
    *,
    states: list[str] | tuple[str, ...],
    actions: list[str] | tuple[str, ...],
    outcomes: list[str] | tuple[str, ...],
    initial_state: int | str,
    discount: Any,
    outcome_probs: Any,
    agent_reward: Any,
    principal_reward: Any,
    transitions: Any,
    observed_action: bool = False,
    name: str = "",
    exact: bool = False,
) -> PrincipalAgentMDP:
    """Build a model from nested lists (the interchange format's layout).

    ``transitions[s][o]`` is a list of ``(next_state, probability)``. With ``exact=True`` every
    number is read exactly (:func:`to_fraction`) and kept alongside the floats.
    """
    names = tuple(states), tuple(actions), tuple(outcomes)
    states, actions, outcomes = names
    if isinstance(initial_state, str):
        if initial_state not in states:
            raise InstanceError("initial_state", "unknown state name", value=initial_state)
        initial_state = states.index(initial_state)
    n_s, n_o = len(states), len(outcomes)
    if not isinstance(transitions, list | tuple) or len(transitions) != n_s:
        raise InstanceError(
            "transitions",
            f"expected {n_s} rows (one per state)",
            value=None if not isinstance(transitions, list | tuple) else len(transitions),
        )
    offsets = [0]
    nxt: list[int] = []
    probs: list[Any] = []
    for s, row in enumerate(transitions):
        if not isinstance(row, list | tuple) or len(row) != n_o:
            raise InstanceError(
                "transitions",
                f"expected {n_o} entries (one per outcome)",
                index=(s,),
                value=len(row) if isinstance(row, list | tuple) else row,
            )
        for o, entries in enumerate(row):
            if not isinstance(entries, list | tuple):
                raise InstanceError(
                    "transitions",
                    "expected a list of [next_state, probability]",
                    index=(s, o),
                    value=entries,
                )
            for j, entry in enumerate(entries):
                if not isinstance(entry, list | tuple) or len(entry) != 2:
                    raise InstanceError(
                        "transitions",
                        "expected [next_state, probability]",
                        index=(s, o, j),
                        value=entry,
                    )
                target, prob = entry
                if isinstance(target, bool) or not isinstance(target, int | np.integer):
                    raise InstanceError(
                        "transitions",
                        "next state must be an integer index",
                        index=(s, o, j, 0),
                        value=target,
                    )
                if not 0 <= target < n_s:
                    raise InstanceError(
                        "transitions",
                        "dangling state index",
                        index=(s, o, j, 0),
                        value=int(target),
                    )
                nxt.append(int(target))
                probs.append(prob)
            offsets.append(len(nxt))

    def as_float(field_name: str, values: Any) -> FloatArray:
        try:
            return np.array(_float_nested(values), dtype=np.float64)
        except OverflowError:
            raise InstanceError(
                field_name,
                f"a number is too large for a 64-bit float (|x| > {np.finfo(np.float64).max:.3g})",
            ) from None
        except (TypeError, ValueError, ZeroDivisionError) as error:
            raise InstanceError(field_name, f"not an array of numbers ({error})") from None

    exact_data = None
    if exact:

        def as_exact(field_name: str, values: Any) -> ObjectArray:
            try:
                return fraction_array(values) if len(values) else np.empty(0, dtype=object)
            except (TypeError, ValueError, ZeroDivisionError) as error:
                raise InstanceError(field_name, f"not an array of numbers ({error})") from None

        try:
            exact_discount = to_fraction(discount)
        except (TypeError, ValueError, ZeroDivisionError):
            raise InstanceError("discount", "not a number", value=discount) from None
        exact_probs = as_exact("outcome_probs", outcome_probs)
        exact_transitions = as_exact("transitions", probs)
        if exact_probs.ndim == 3:
            normalise_exact_rows(exact_probs.reshape(-1, exact_probs.shape[2]))
        normalise_exact_groups(exact_transitions, np.array(offsets))
        exact_data = ExactData(
            discount=exact_discount,
            outcome_probs=exact_probs,
            agent_reward=as_exact("agent_reward", agent_reward),
            principal_reward=as_exact("principal_reward", principal_reward),
            transition_prob=exact_transitions,
        )
    try:
        float_discount = float(to_fraction(discount))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise InstanceError("discount", "not a number", value=discount) from None
    return PrincipalAgentMDP(
        states=states,
        actions=actions,
        outcomes=outcomes,
        initial_state=int(initial_state),
        discount=float_discount,
        outcome_probs=as_float("outcome_probs", outcome_probs),
        agent_reward=as_float("agent_reward", agent_reward),
        principal_reward=as_float("principal_reward", principal_reward),
        transition_offsets=np.array(offsets, dtype=np.int64),
        transition_next=np.array(nxt, dtype=np.int64),
        transition_prob=as_float("transitions", probs) if probs else np.zeros(0),
        observed_action=observed_action,
        name=name,
        exact=exact_data,
    )


def _float_nested(values: Any) -> Any:
    if isinstance(values, list | tuple):
        return [_float_nested(v) for v in values]
    if isinstance(values, np.ndarray) and values.dtype == object:
        return [_float_nested(v) for v in values.tolist()]
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, bool):
        raise TypeError(f"boolean {values!r} is not a number")
    return float(to_fraction(values))
