"""Deep backend: Algorithm 2 of Ivanov et al. (2024), PAPER.md §4, on PyTorch.

Modules (one concern each):

* :mod:`solvers.deep.config` — :class:`DeepConfig`, the hyperparameters with the paper's tree
  defaults (PAPER.md §6); no torch import;
* :mod:`solvers.deep.networks` — the principal's contractual Q-network and the agent's
  truncated Q-network (one-hot state input, realised as a lookup);
* :mod:`solvers.deep.environment` — a vectorised simulator of an episodic instance;
* :mod:`solvers.deep.replay` — the uniform replay buffer;
* :mod:`solvers.deep.validation` — scoring against the exact best-responding agent and the SPE;
* :mod:`solvers.deep.trainer` — :class:`DeepTrainer`, the training loop, checkpoints, resume
  (any finite instance: any numbers of actions and outcomes, episodic or discounted);
* :mod:`solvers.deep.ensemble` — :class:`~solvers.deep.ensemble.EnsembleTrainer`, K trials as
  one batched computation;
* :mod:`solvers.deep.ground_truth` — ``solve()`` plus the exact pure stationary SPEs, and the
  one a learned policy is closest to;
* :mod:`solvers.deep.presets` — the paper's tree (Fig. 3) as a preset of the instance trainer.

The seeding, schedules, replay storage, checkpoints and it/s metric are shared with the Coin
Game trainer (:mod:`solvers.rl`); the command lines are ``pamdp train tree`` (:mod:`pamdp.train`)
and ``pamdp train instance`` (:mod:`pamdp.train_instance`).

Importing this package does not import torch; ``DeepTrainer`` and ``TrialResult`` are loaded on
first access. Reading choices are documented in docs/DEEP.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solvers.deep.config import DeepConfig

if TYPE_CHECKING:
    from solvers.deep.trainer import DeepTrainer, TrialResult

__all__ = ["DeepConfig", "DeepTrainer", "TrialResult"]


def __getattr__(name: str) -> Any:
    if name in ("DeepTrainer", "TrialResult"):
        from solvers.deep import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'solvers.deep' has no attribute {name!r}")
