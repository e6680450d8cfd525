"""Hyperparameters of a Coin Game run (PAPER.md §6; re-exported by :mod:`solvers.coin.train`).

The defaults are the paper's (1,000,000 iterations of one environment step and one gradient
step on a batch of 128, target copy every 100 iterations, learning rate 5e-4 → 1e-4, ε 0.4 → 0,
γ = 0.99, prioritized replay of 100,000 with α = 0.4, β = 0, ε = 1e-7, α_principal = 0.1,
metrics over 80 episodes). Readings the paper leaves open are marked [U] and documented in
docs/COIN.md.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Config:
    """One Coin Game experiment: Algorithm 3 (training + validation) and the baselines."""

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
    target_every: int = 100
    """Hard target-network copy every this many iterations."""
    lr_start: float = 5e-4
    """Initial Adam learning rate."""
    lr_end: float = 1e-4
    """Final learning rate (exponential decay over the phase)."""
    eps_start: float = 0.4
    """Initial exploration rate (ε-greedy)."""
    eps_end: float = 0.0
    """Final exploration rate (linear decay)."""
    eps_fraction: float = 1.0
    """Fraction of a phase over which ε decays (then stays at ``eps_end``) [U]."""
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
    """Write a checkpoint every this many iterations (0: only at phase ends)."""
    device: str = "cpu"
    """Torch device (``cuda`` for the 7×7 run)."""
    output: str = "runs/coin"
    """Output folder (results JSON, checkpoint, plots)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form notes stored with the results (e.g. the command that produced them)."""

    def __post_init__(self) -> None:
        for name in ("iterations", "validation_iterations", "baseline_iterations"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")
        if self.num_games < 1:
            raise ValueError(f"num_games must be positive, got {self.num_games}")
        if not 0.0 <= self.follow_prob <= 1.0:
            raise ValueError(f"follow_prob must be in [0, 1], got {self.follow_prob}")
        if self.nudge < 0:
            raise ValueError(f"nudge must be non-negative, got {self.nudge}")
        if self.principal_alpha <= 0:
            raise ValueError(f"principal_alpha must be positive, got {self.principal_alpha}")
        unknown = set(self.baselines) - {"selfish", "cooperative", "constant"}
        if unknown:
            raise ValueError(f"unknown baselines {sorted(unknown)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        d = dataclasses.asdict(self)
        d["baselines"] = list(self.baselines)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown Config fields {sorted(unknown)}")
        d = dict(d)
        if "baselines" in d:
            d["baselines"] = tuple(d["baselines"])
        return cls(**d)

    @classmethod
    def from_json(cls, path: str) -> Config:
        """Load a JSON config file."""
        with open(path) as fh:
            return cls.from_dict(json.load(fh))
