"""A vectorised simulator of a principal-agent MDP for Algorithm 2 (PAPER.md §1 and §4).

``n`` independent copies of an instance step together: the agent's actions (one per copy) draw
outcomes ``o ~ 𝒪(s, a)``, the outcomes draw next states ``s' ~ T(s, o)``, and a copy whose
``T(s, o)`` is empty ends its episode and restarts at ``s0`` (PAPER.md §1: an empty
distribution ends the episode). Rewards are looked up by the trainer from the instance's
tables (``r(s, a)``, ``r^p(s, o)``), so the simulator only moves indices.

**Restart rule of cyclic (discounted) instances.** Their episodes need not end, so a copy is
also restarted at ``s0`` after ``episode_length`` steps of its current episode. This is a
*truncation*, not a termination: the transition that reaches the limit is reported with its
real next state and ``done = False`` (the game goes on after it, so the targets still bootstrap
``γ · V(s')``); only the copy's position is reset. An episodic instance needs no limit (its
episodes end after at most ``1 + max height`` steps); one may still be given.

All randomness comes from the :class:`numpy.random.Generator` passed to :meth:`step` (two
uniform vectors per step), which keeps a training run repeatable and resumable bit for bit.

Sampling is vectorised without Python loops: the outcome is the first index whose cumulative
probability exceeds a uniform draw, and the next state is found by one ``searchsorted`` over a
global key ``row + (cumulative probability within the row)`` built once from the instance's
CSR transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from theory.model import PrincipalAgentMDP

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class StepResult:
    """What one vectorised step produced (arrays of length ``n``).

    Attributes
    ----------
    outcomes : o drawn from 𝒪(s, a).
    next_states : s' drawn from T(s, o); equal to ``states`` (a placeholder) where ``done``.
    done : whether T(s, o) is empty (the episode ends after this step).
    """

    outcomes: IntArray
    next_states: IntArray
    done: BoolArray


class VectorEnv:
    """``n`` copies of an episodic principal-agent MDP, stepped together.

    Parameters
    ----------
    model : an instance, e.g. ``theory.generators.paper_tree``.
    n : number of copies.
    episode_length : restart a copy at ``s0`` after this many steps of its episode (module
        docstring); required for a cyclic instance, optional for an episodic one.
    """

    def __init__(self, model: PrincipalAgentMDP, n: int, episode_length: int | None = None) -> None:
        if not model.is_episodic and episode_length is None:
            raise ValueError(
                "a cyclic (discounted) instance needs an episode_length: only the episodes of an "
                "episodic instance (acyclic states) end by themselves"
            )
        if n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if episode_length is not None and (
            isinstance(episode_length, bool)
            or not isinstance(episode_length, int)
            or episode_length < 1
        ):
            raise ValueError(f"episode_length must be a positive integer, got {episode_length!r}")
        self.model = model
        self.n = int(n)
        self.episode_length = None if episode_length is None else int(episode_length)
        #: steps taken in the current episode, per copy (only used with ``episode_length``)
        self.steps: IntArray = np.zeros(self.n, dtype=np.int64)
        n_o = model.n_outcomes
        cumulative = np.cumsum(model.outcome_probs, axis=2)
        cumulative[:, :, -1] = np.inf  # the last outcome absorbs float rounding
        self._outcome_cumulative = cumulative
        offsets = model.transition_offsets
        counts = np.diff(offsets)
        n_rows = model.n_states * n_o
        row_of_entry = np.repeat(np.arange(n_rows), counts)
        within = np.cumsum(model.transition_prob)
        starts = np.concatenate([[0.0], within])[offsets[:-1]]
        within = within - np.repeat(starts, counts)
        last = offsets[1:][counts > 0] - 1
        within[last] = 1.0  # each row's key ends exactly at row + 1
        self._key = row_of_entry + within
        self._offsets = offsets
        self._counts = counts
        self.states: IntArray = np.full(self.n, model.initial_state, dtype=np.int64)

    def reset(self) -> IntArray:
        """Put every copy at the initial state; returns the states."""
        self.states = np.full(self.n, self.model.initial_state, dtype=np.int64)
        self.steps = np.zeros(self.n, dtype=np.int64)
        return self.states

    def sample_outcomes(self, states: IntArray, actions: IntArray, uniform: FloatArray) -> IntArray:
        """``o ~ 𝒪(s, a)`` by inversion of the uniform draws."""
        cumulative = self._outcome_cumulative[states, actions]
        return np.argmax(uniform[:, None] < cumulative, axis=1).astype(np.int64)

    def sample_next(
        self, states: IntArray, outcomes: IntArray, uniform: FloatArray
    ) -> tuple[IntArray, BoolArray]:
        """``s' ~ T(s, o)`` by inversion; ``done`` where ``T(s, o)`` is empty."""
        rows = states * self.model.n_outcomes + outcomes
        done = self._counts[rows] == 0
        if self._key.size == 0:  # every state ends the episode
            return states.copy(), done
        position = np.searchsorted(self._key, rows + uniform, side="right")
        # rounding of row + u up to row + 1 would land in the next row: clamp into the row
        position = np.minimum(position, self._offsets[rows + 1] - 1)
        position = np.clip(position, 0, self._key.size - 1)  # finished rows: any valid index
        nxt = self.model.transition_next[position]
        return np.where(done, states, nxt).astype(np.int64), done

    def step(self, actions: IntArray, rng: np.random.Generator) -> StepResult:
        """Every copy takes its action; finished (or truncated) copies restart at ``s0``.

        Draws ``rng.random(n)`` for the outcomes, then ``rng.random(n)`` for the next states.
        """
        states = self.states
        outcomes = self.sample_outcomes(states, actions, rng.random(self.n))
        next_states, done = self.sample_next(states, outcomes, rng.random(self.n))
        restart = done
        if self.episode_length is not None:
            self.steps = self.steps + 1
            restart = done | (self.steps >= self.episode_length)
            self.steps = np.where(restart, 0, self.steps).astype(np.int64)
        self.states = np.where(restart, self.model.initial_state, next_states).astype(np.int64)
        return StepResult(outcomes, next_states, done)
