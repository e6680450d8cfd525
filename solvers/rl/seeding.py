"""The seeding block of both trainers and the capture / restore of generator states.

:func:`seed_everything` is CleanRL's seeding block: Python's, numpy's and torch's global
generators from one seed, deterministic cuDNN, and optionally deterministic CUDA kernels. The
trainers draw every random number of a run from explicit :class:`numpy.random.Generator`\\ s and
torch generators; the global seeds only guard against anything else.

Checkpoints store generator states with :func:`generator_state` (a numpy ``PCG64`` state with
its 128-bit integers as decimal strings, so a checkpoint loads with
``torch.load(weights_only=True)``) and :func:`torch_rng_state`; restoring them makes a resumed
run draw exactly the numbers an uninterrupted run draws.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

__all__ = [
    "FlushDenormals",
    "denormals_flushed",
    "generator_from_state",
    "generator_state",
    "restore_generator",
    "restore_torch_rng",
    "seed_everything",
    "torch_rng_state",
]


def seed_everything(
    seed: int,
    *,
    device: str = "cpu",
    deterministic_cuda: bool = False,
) -> np.random.Generator:
    """Seed Python, numpy and torch from ``seed``; return ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    seed : a non-negative integer.
    device : the run's torch device; with a CUDA device and ``deterministic_cuda`` the
        deterministic kernels are requested (warn-only: some operations have none).

    The flush-denormal mode is not set here: it is thread-global state, which a trainer sets
    only while it computes (:class:`FlushDenormals`).
    """
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    if deterministic_cuda and str(device).startswith("cuda"):
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """The state of a ``PCG64`` generator with its 128-bit integers as decimal strings."""
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"only PCG64 generators are supported, got {state['bit_generator']}")
    return {
        "bit_generator": state["bit_generator"],
        "state": str(state["state"]["state"]),
        "inc": str(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def restore_generator(rng: np.random.Generator, data: dict[str, Any]) -> None:
    """Set ``rng`` to a state captured by :func:`generator_state`."""
    rng.bit_generator.state = {
        "bit_generator": data["bit_generator"],
        "state": {"state": int(data["state"]), "inc": int(data["inc"])},
        "has_uint32": int(data["has_uint32"]),
        "uinteger": int(data["uinteger"]),
    }


def generator_from_state(data: dict[str, Any]) -> np.random.Generator:
    """A new generator in a state captured by :func:`generator_state`."""
    rng = np.random.default_rng()
    restore_generator(rng, data)
    return rng


def torch_rng_state() -> dict[str, Any]:
    """torch's global CPU generator state and, where CUDA is initialised, every device's."""
    import torch

    data: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        data["cuda"] = torch.cuda.get_rng_state_all()
    return data


def restore_torch_rng(data: dict[str, Any]) -> None:
    """Restore :func:`torch_rng_state` (a bare CPU state tensor is accepted too)."""
    import torch

    if isinstance(data, torch.Tensor):
        torch.set_rng_state(data)
        return
    torch.set_rng_state(data["cpu"])
    if "cuda" in data and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(data["cuda"])


def denormals_flushed() -> bool:
    """Whether this thread's CPU flushes subnormal floats to zero (torch's flush-denormal
    mode; it also applies to numpy)."""
    tiny = np.array([5e-324])
    return bool((tiny * 1.0)[0] == 0.0)


class FlushDenormals:
    """Context manager: flush-denormal mode ``enabled`` inside, the previous mode restored on
    exit (the mode is per thread and process-global otherwise, so a trainer must not leave it
    set for the code that runs after it)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._previous = False

    def __enter__(self) -> FlushDenormals:
        import torch

        self._previous = denormals_flushed()
        torch.set_flush_denormal(self.enabled)
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_flush_denormal(self._previous)
