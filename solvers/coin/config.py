"""Hyperparameters of a Coin Game run (PAPER.md §6; re-exported by :mod:`solvers.coin.train`).

The defaults are the paper's (1,000,000 iterations of one environment step and one gradient
step on a batch of 128, target copy every 100 iterations, learning rate 5e-4 → 1e-4, ε 0.4 → 0,
γ = 0.99, prioritized replay of 100,000 with α = 0.4, β = 0, ε = 1e-7, α_principal = 0.1,
metrics over 80 episodes). Readings the paper leaves open are marked [U] and documented in
docs/COIN.md. The strict (de)serialisation, the validation of the hyperparameters shared with
the deep trainer (the same names there: ``learning_rate_start``, ``epsilon_start``,
``target_update_every``, ...) and the schedules come from :class:`solvers.rl.config.RLConfig`;
a config file still using a former name (``lr_start``, ``eps_start``, ``target_every``, ...) is
refused with the new name.

:data:`QUICK_3X3` is the default of ``pamdp train coin``: the 3×3 preset with a budget that
finishes in a few minutes on a laptop CPU; ``Config()`` itself holds the paper's budgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from solvers.rl.config import ConfigError, RLConfig

#: the former field names (before the names were shared with the deep trainer)
RENAMED: dict[str, str] = {
    "target_every": "target_update_every",
    "lr_start": "learning_rate_start",
    "lr_end": "learning_rate_end",
    "eps_start": "epsilon_start",
    "eps_end": "epsilon_end",
    "eps_fraction": "epsilon_fraction",
}


@dataclass(frozen=True)
class Config(RLConfig):
    """One Coin Game experiment: Algorithm 3 (training + validation) and the baselines."""

    RENAMED: ClassVar[dict[str, str]] = RENAMED

    preset: str = "paper-7x7"
    """Environment preset (:data:`solvers.coin.env.PRESETS`)."""
    seed: int = 0
    """Seed of everything (environments, exploration, replay sampling, initialisation)."""
    iterations: int = 1_000_000
    """Training-phase iterations; each: every game takes one step, then one gradient step."""
    validation_iterations: int = 1_000_000
    """Validation-phase iterations (fresh agents trained from scratch) [U: paper's count]."""
    baseline_iterations: int = 1_000_000
    """Iterations of each baseline (selfish, cooperative, constant proportion)."""
    num_games: int = 1
    """Games stepped in parallel per iteration (paper: 1). More games = more data per update."""
    batch_size: int = 128
    """Transitions per gradient step."""
    target_update_every: int = 100
    """Hard target-network copy every this many iterations."""
    learning_rate_start: float = 5e-4
    """Adam learning rate at a phase's first iteration."""
    learning_rate_end: float = 1e-4
    """Learning rate at a phase's last iteration (exponential decay,
    :func:`solvers.rl.schedules.exponential`)."""
    epsilon_start: float = 0.4
    """Exploration rate (ε-greedy) at a phase's first iteration."""
    epsilon_end: float = 0.0
    """Exploration rate reached at the end of the decay (linear,
    :func:`solvers.rl.schedules.linear`)."""
    epsilon_fraction: float = 1.0
    """Fraction of a phase over which ε decays (then stays at ``epsilon_end``) [U]."""
    gamma: float = 0.99
    """Discount factor of every learner."""
    buffer_size: int = 100_000
    """Replay capacity (transitions of one game-step each)."""
    per_alpha: float = 0.4
    """Priority exponent of prioritized replay."""
    per_eps: float = 1e-7
    """Additive priority constant (β = 0: no importance weights)."""
    learning_starts: int = 1_000
    """Transitions stored before the first gradient step [U]."""
    principal_alpha: float = 0.1
    """α of the principal's reward ``(1/α) Σ_i r_i − Σ_i b_i`` (Algorithm 3)."""
    follow_prob: float = 0.5
    """Probability that an agent's follow bit ``f_i`` is 1 in a training episode [U]."""
    nudge: float = 0.0
    """Nudging margin ξ added to every incentive constraint (PAPER.md §3, Prop. 4.1)."""
    time_limit_bootstrap: bool = True
    """Bootstrap through the episode's time limit (observations carry no clock) [U]."""
    channels: int = 32
    """Convolution output channels."""
    hidden: int = 64
    """Width of the two fully connected layers."""
    kernel: int = 4
    """Convolution kernel (shrunk to the board when the board is smaller)."""
    eval_every: int = 10_000
    """Evaluate the metrics every this many iterations of each phase."""
    eval_episodes: int = 80
    """Episodes per evaluation (all played at once)."""
    exact_ratios: bool = True
    """Compute the SPE and IC ratios by exact DP over the state space (feasible up to 7×7)."""
    exact_optimum: bool = True
    """Compute the exact welfare optimum by DP (up to 7×7; about 30 s of CPU there)."""
    baselines: tuple[str, ...] = ("selfish", "cooperative", "constant")
    """Baselines to run after Algorithm 3 (``constant`` is budget-matched to its payments)."""
    checkpoint_every: int = 50_000
    """Write a checkpoint every this many iterations (0: only at phase ends and on Ctrl-C)."""
    device: str = "cpu"
    """Torch device (``cuda`` for the 7×7 run)."""
    output: str = "runs/coin"
    """Output folder (results JSON, checkpoint, plots)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form notes stored with the results (e.g. the command that produced them)."""

    POSITIVE_INTS: ClassVar[tuple[str, ...]] = (
        "num_games",
        "eval_every",
        "eval_episodes",
        *RLConfig.POSITIVE_INTS,
    )
    NON_NEGATIVE_INTS: ClassVar[tuple[str, ...]] = (
        "iterations",
        "validation_iterations",
        "baseline_iterations",
        *RLConfig.NON_NEGATIVE_INTS,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.follow_prob <= 1.0:
            raise ConfigError(f"follow_prob must be in [0, 1], got {self.follow_prob!r}")
        if not self.principal_alpha > 0:
            raise ConfigError(f"principal_alpha must be positive, got {self.principal_alpha!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma!r}")
        unknown = set(self.baselines) - {"selfish", "cooperative", "constant"}
        if unknown:
            raise ConfigError(f"unknown baselines {sorted(unknown)}")
        if not isinstance(self.extra, dict):
            raise ConfigError(f"extra must be a JSON object, got {self.extra!r}")

    def phases(self) -> list[tuple[str, int]]:
        """``(phase name, iterations)`` in the order a run executes them."""
        return [
            ("train", self.iterations),
            ("validate", self.validation_iterations),
            *((name, self.baseline_iterations) for name in self.baselines),
        ]


QUICK_3X3 = Config(
    preset="paper-3x3",
    iterations=6_000,
    validation_iterations=6_000,
    baseline_iterations=3_000,
    num_games=16,
    nudge=0.1,
    eval_every=1_000,
    checkpoint_every=1_000,
    extra={
        "note": "pamdp train coin default: 3x3 preset, reduced budget (a few minutes on a "
        "laptop CPU); --paper-budget for the paper's 1,000,000 iterations per phase"
    },
)
"""Default of ``pamdp train coin``: ``configs/paper_3x3.json``'s settings at half its budget
(16 games per iteration, ξ = 0.1); about 3 minutes on one laptop CPU core."""
