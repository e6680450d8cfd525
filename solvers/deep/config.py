"""Hyperparameters of the deep backend (Algorithm 2; PAPER.md §4 and §6, tree experiment).

One frozen dataclass, :class:`DeepConfig`, in the shape of CleanRL's ``Args``: every field has
a docstring under it, the defaults are the paper's values for the tree MDP of Fig. 3, and the
fields the paper leaves open carry the value we chose with the reason (docs/DEEP.md lists every
such reading). The strict (de)serialisation, the validation of the hyperparameters shared with
the Coin Game trainer (same names there) and the schedules come from
:class:`solvers.rl.config.RLConfig`. This module imports no torch, so the CLI can parse options
without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

from solvers.rl.config import ConfigError, RLConfig

AgentMode = Literal["network", "exact"]
AGENT_MODES: tuple[str, ...] = ("network", "exact")


@dataclass(frozen=True)
class DeepConfig(RLConfig):
    """Algorithm 2's hyperparameters (paper defaults for the tree, PAPER.md §6)."""

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = (
        "iterations",
        "interactions_per_iteration",
        "validate_every",
        *RLConfig.POSITIVE_INTS,
    )

    iterations: int = 20_000
    """Training iterations; each is ``interactions_per_iteration`` environment steps followed by
    one gradient step (PAPER.md §6: 20,000)."""

    interactions_per_iteration: int = 8
    """Environment interactions per iteration (PAPER.md §6: 8). They are made by this many
    parallel copies of the environment, one step each (our reading, docs/DEEP.md)."""

    batch_size: int = 128
    """Transitions per gradient step, drawn uniformly with replacement (PAPER.md §6: 128)."""

    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer widths of both Q-networks, ReLU activations (PAPER.md §6: 2 × 256)."""

    target_update_every: int = 100
    """Hard copy of the online networks into the target networks every this many iterations
    (PAPER.md §6: 100)."""

    learning_rate_start: float = 1e-3
    """Adam learning rate at the first gradient step (PAPER.md §6: 1e-3)."""

    learning_rate_end: float = 1e-4
    """Learning rate reached at the last iteration; the decay is exponential in the iteration
    (PAPER.md §6: 1e-4)."""

    epsilon_start: float = 1.0
    """Exploration rate of the principal's ε-greedy recommendation at iteration 0 (PAPER.md §6)."""

    epsilon_end: float = 0.0
    """Exploration rate reached at the end of the decay (PAPER.md §6: 0)."""

    epsilon_fraction: float = 1.0
    """Share of the iterations over which ε decays linearly, then stays at ``epsilon_end``
    (the paper decays over the whole run: 1.0)."""

    gamma: float | None = None
    """Discount used in the targets; ``None`` = the instance's γ (1 for the paper's tree,
    PAPER.md §6). Validation always uses the instance's γ."""

    nudge: float = 0.0
    """Nudging margin ξ ≥ 0 of the contracts (PAPER.md §3, Proposition 4.1): the agent must
    prefer the recommended action by at least ξ. The paper's tree result uses none (0)."""

    buffer_size: int = 160_000
    """Replay buffer capacity. Not stated by the paper for the tree; the default keeps every
    transition of a default run (20,000 × 8), docs/DEEP.md."""

    learning_starts: int = 128
    """Gradient steps begin once the buffer holds this many transitions (at least one batch;
    not stated by the paper)."""

    episode_length: int | None = None
    """Restart an environment copy at ``s0`` after this many steps of its episode (a truncation:
    the targets still bootstrap, :mod:`solvers.deep.environment`). ``None``: an episodic
    instance's episodes end by themselves (the tree: 10 steps); a cyclic (discounted) one gets
    :func:`default_episode_length` — ``max(|S|, ⌈1/(1 − γ)⌉)`` steps."""

    agent: AgentMode = "network"
    """``"network"``: the agent's truncated Q is the learned network Q̄_φ (Algorithm 2).
    ``"exact"``: Q̄ is the exact truncated Q of the agent when the principal implements its
    current greedy recommendations minimally (the meta-algorithm's agent step, PAPER.md §3),
    recomputed at every target copy; used to cross-validate the principal's learning."""

    validate_every: int = 200
    """Validate against the exact best-responding agent every this many iterations (and at
    iterations 0 and ``iterations``)."""

    checkpoint_every: int = 5_000
    """Write a resumable checkpoint every this many iterations (0 = never periodically; a
    Ctrl-C still writes one where the trainer is given a checkpoint path)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.hidden_sizes or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden_sizes
        ):
            raise ConfigError(f"hidden_sizes must be positive integers, got {self.hidden_sizes!r}")
        if self.gamma is not None and not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma must be in [0, 1] or None, got {self.gamma!r}")
        if self.agent not in AGENT_MODES:
            raise ConfigError(f"agent must be one of {AGENT_MODES}, got {self.agent!r}")
        if self.episode_length is not None and (
            isinstance(self.episode_length, bool)
            or not isinstance(self.episode_length, int)
            or self.episode_length < 1
        ):
            raise ConfigError(
                f"episode_length must be a positive integer or None, got {self.episode_length!r}"
            )
        if self.learning_starts > self.buffer_size:
            raise ConfigError(
                f"learning_starts ({self.learning_starts}) exceeds buffer_size ({self.buffer_size})"
            )

    # ---------------------------------------------------------------- schedules
    def learning_rate(self, iteration: float) -> float:
        """Exponential decay ``lr_t = lr_0 (lr_end / lr_0)^(t / (T − 1))``, ``t = 0..T−1``
        (:func:`solvers.rl.schedules.exponential`)."""
        return self.learning_rate_at(iteration, self.iterations)

    def epsilon(self, iteration: float) -> float:
        """Linear decay from ``epsilon_start`` to ``epsilon_end`` over the first
        ``epsilon_fraction · (T − 1)`` iterations, constant afterwards
        (:func:`solvers.rl.schedules.linear`)."""
        return self.epsilon_at(iteration, self.iterations)


def default_episode_length(n_states: int, discount: float | Fraction) -> int:
    """The episode length of a cyclic instance when :attr:`DeepConfig.episode_length` is
    ``None``: ``max(|S|, ⌈1/(1 − γ)⌉)``.

    ``1/(1 − γ)`` is the discount's effective horizon (the expected length of a game that ends
    with probability ``1 − γ`` per step, whose value is the discounted one); at least ``|S|``
    steps so that every state reachable from ``s0`` can be reached within one episode (a
    shortest path visits each state at most once). Computed exactly (a float γ is read as its
    shortest decimal, so γ = 0.9 gives 10, not ⌈10.000000000000002⌉ = 11).
    """
    gamma = discount if isinstance(discount, Fraction) else Fraction(repr(float(discount)))
    if not 0 <= gamma < 1:
        raise ValueError(f"a cyclic instance needs a discount in [0, 1), got {discount!r}")
    return max(int(n_states), math.ceil(1 / (1 - gamma)))
