"""Reinforcement-learning scaffolding shared by the deep tree trainer (:mod:`solvers.deep`) and
the Coin Game trainer (:mod:`solvers.coin`), in the shape of CleanRL's single-file trainers.

Modules (one concern each; only :mod:`~solvers.rl.seeding` and :mod:`~solvers.rl.checkpoint`
import torch, lazily):

* :mod:`solvers.rl.config` — :class:`~solvers.rl.config.RLConfig`, the frozen-dataclass base of
  both configurations: strict ``from_dict`` / ``to_dict`` / ``from_json`` (an unknown key is an
  error naming it, with the renamed or closest field), validation of the shared
  hyperparameters;
* :mod:`solvers.rl.schedules` — the linear ε and exponential learning-rate schedules, with one
  convention for where a schedule ends;
* :mod:`solvers.rl.seeding` — the seeding block and the capture / restore of generator states;
* :mod:`solvers.rl.replay` — :class:`~solvers.rl.replay.RingStorage`, the ring of named arrays
  both replay buffers specialise;
* :mod:`solvers.rl.checkpoint` — atomic file writes, checkpoint save / load, and the deferred
  Ctrl-C handler that lets a training loop stop at an iteration boundary;
* :mod:`solvers.rl.metrics` — iterations per second as a logged metric, remaining-time
  estimates, atomic JSON results.
"""
