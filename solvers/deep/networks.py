"""Q-networks of Algorithm 2 (PAPER.md §4): MLPs over discrete states, 2 × 256 ReLU by default.

Both the principal's contractual Q-network ``q_θ(s, ·)`` and the agent's truncated Q-network
``Q̄_φ(s, ·)`` take a state index and return one value per action. The paper feeds the state to
a dense network; for a finite state space the natural input is the one-hot vector ``e_s``, and

    relu(W₁ e_s + b₁) = relu(W₁[:, s] + b₁),

so the first dense layer on a one-hot input *is* a table lookup. :class:`QNetwork` stores
``W₁ᵀ`` as an embedding table and indexes it by the integer state: the same function, the same
parameters, the same gradients (the gradient of ``W₁`` is non-zero in the looked-up columns
only, in both forms) at a fraction of the cost. :class:`OneHotQNetwork` is the literal form,
kept as the reference for tests and the benchmark; :meth:`QNetwork.from_one_hot` converts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


def _dense_init(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """PyTorch's default ``nn.Linear`` initialisation, ``U(−1/√n_in, 1/√n_in)`` (weights, bias)."""
    layer = nn.Linear(n_in, n_out)
    return layer.weight.detach().clone(), layer.bias.detach().clone()


class QNetwork(nn.Module):
    """``Q(s, ·)``: one-hot state → hidden ReLU layers → one value per action, as a lookup.

    Parameters
    ----------
    n_states, n_actions : sizes of the state and action sets.
    hidden_sizes : widths of the hidden layers (at least one).

    The first layer's parameters are ``embedding`` (``(S, H₁)``, i.e. ``W₁ᵀ``) and
    ``first_bias``; initialisation draws ``W₁`` exactly as ``nn.Linear(S, H₁)`` would.
    """

    def __init__(
        self, n_states: int, n_actions: int, hidden_sizes: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        if not hidden_sizes:
            raise ValueError("hidden_sizes must have at least one layer")
        self.n_states = int(n_states)
        self.n_actions = int(n_actions)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        weight, bias = _dense_init(self.n_states, self.hidden_sizes[0])
        self.embedding = nn.Parameter(weight.t().contiguous())
        self.first_bias = nn.Parameter(bias)
        layers: list[nn.Linear] = []
        for n_in, n_out in zip(
            self.hidden_sizes, (*self.hidden_sizes[1:], self.n_actions), strict=True
        ):
            layers.append(nn.Linear(n_in, n_out))
        self.layers = nn.ModuleList(layers)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """``(B,)`` integer states → ``(B, A)`` values.

        When ``embedding.grad`` already holds a dense tensor (the trainer keeps gradients
        allocated and zeroes them in place), the lookup's backward produces the looked-up rows
        only and autograd adds them into that tensor — the same gradient as the dense
        ``W₁ᵀ e_s`` product, without materialising an ``(S, H₁)`` temporary every step.
        """
        grad = self.embedding.grad
        sparse = grad is not None and grad.layout == torch.strided
        hidden = F.relu(F.embedding(states, self.embedding, sparse=sparse) + self.first_bias)
        last = len(self.layers) - 1
        for index, module in enumerate(self.layers):
            # F.linear on the layer's own parameters: what layer(hidden) computes, without the
            # module-call overhead (this runs five times per training iteration)
            layer = cast(nn.Linear, module)
            hidden = F.linear(hidden, layer.weight, layer.bias)
            if index < last:
                hidden = F.relu(hidden)
        return hidden

    @classmethod
    def from_one_hot(cls, network: OneHotQNetwork) -> QNetwork:
        """The lookup form of a one-hot network, with identical parameters."""
        out = cls(network.n_states, network.n_actions, network.hidden_sizes)
        with torch.no_grad():
            out.embedding.copy_(network.first.weight.t())
            out.first_bias.copy_(network.first.bias)
            for mine, theirs in zip(out.layers, network.layers, strict=True):
                mine.load_state_dict(theirs.state_dict())
        return out


class OneHotQNetwork(nn.Module):
    """The literal form of :class:`QNetwork`: ``one_hot(s)`` through a dense first layer.

    Used as the straightforward reference (tests, ``benchmarks/bench_deep.py``).
    """

    def __init__(
        self, n_states: int, n_actions: int, hidden_sizes: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        if not hidden_sizes:
            raise ValueError("hidden_sizes must have at least one layer")
        self.n_states = int(n_states)
        self.n_actions = int(n_actions)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        self.first = nn.Linear(self.n_states, self.hidden_sizes[0])
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out)
            for n_in, n_out in zip(
                self.hidden_sizes, (*self.hidden_sizes[1:], self.n_actions), strict=True
            )
        )

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """``(B,)`` integer states → ``(B, A)`` values, through ``one_hot(s)``."""
        one_hot = F.one_hot(states, self.n_states).to(self.first.weight.dtype)
        hidden = F.relu(self.first(one_hot))
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            hidden = layer(hidden)
            if index < last:
                hidden = F.relu(hidden)
        return hidden
