"""Presets of the deep trainer: the paper's tree experiment is one instance and one config.

:class:`~solvers.deep.trainer.DeepTrainer` runs Algorithm 2 on any finite instance; the tree
of Fig. 3 (PAPER.md §6) is the preset :func:`tree_preset` — ``paper_tree(depth, seed)`` with
the paper's hyperparameters, which are :class:`~solvers.deep.config.DeepConfig`'s defaults.
``pamdp train tree`` trains this preset; ``pamdp train instance FILE.json`` trains any
instance with :func:`instance_preset` (the same defaults; a cyclic instance's episode length
is filled in by the trainer, :func:`solvers.deep.trainer.episode_length_of`).
"""

from __future__ import annotations

from typing import Any

from solvers.deep.config import DeepConfig
from theory.model import PrincipalAgentMDP

#: the paper's tree depth (1023 states)
TREE_DEPTH = 10


def instance_preset(model: PrincipalAgentMDP, **overrides: Any) -> DeepConfig:
    """The configuration for ``model``: the paper's defaults, with ``overrides`` applied.

    The instance only matters through what the trainer derives from it (γ for the targets,
    the episode length of a cyclic instance); it is taken here so presets can grow rules
    that depend on it without changing callers.
    """
    del model  # no instance-dependent default yet (see the docstring)
    return DeepConfig(**overrides)


def tree_preset(
    depth: int = TREE_DEPTH, seed: int = 0, **overrides: Any
) -> tuple[PrincipalAgentMDP, DeepConfig]:
    """Fig. 3's setting: ``(paper_tree(depth, seed), the paper's configuration)``."""
    from theory.generators import paper_tree

    model = paper_tree(depth, seed)
    return model, instance_preset(model, **overrides)
