"""Q-networks for the Coin Game (PAPER.md §6: 1 conv layer 4×4, 4→32 channels, then 2 fully
connected layers of 64 and the output, ReLU).

:class:`QNet` holds ``E`` independent *members* with stacked parameters, so that two
independent learners (the validation agents, the baselines) run in one batched matrix product,
and one member serves shared-parameter learners (Algorithm 3's principal and agents). The
convolution is written as ``unfold`` + batched matmul for that reason. On boards smaller than
the kernel the kernel shrinks to the board (3×3 on the 3×3 grid) [U: the paper does not say how
a 4×4 kernel is applied to a 3×3 board]. Extra inputs (follow bits, a one-hot recommendation)
are concatenated to the flattened convolution features [U].

Observations are built in torch from compact states ``(red, blue, coin, colour)`` by
:func:`encode`, with the channel order of :func:`solvers.coin.env.observe`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from solvers.coin.env import NUM_ACTIONS, NUM_AGENTS


def encode(states: torch.Tensor, grid_size: int) -> torch.Tensor:
    """``(M, 2, 4, N, N)`` float observations of ``(M, 4)`` long compact states.

    Agent ``i`` sees: own cell, other's cell, coin if of colour ``i``, coin if of the other
    colour (the same layout as :func:`solvers.coin.env.observe`).
    """
    m = states.shape[0]
    cells = grid_size * grid_size
    red, blue, coin, colour = states[:, 0], states[:, 1], states[:, 2], states[:, 3]
    out = torch.zeros(m, NUM_AGENTS, 4 * cells, device=states.device)
    for i, (own, other) in enumerate(((red, blue), (blue, red))):
        coin_channel = 2 + (colour != i).long()
        idx = torch.stack([own, cells + other, coin_channel * cells + coin], dim=1)
        out[:, i].scatter_(1, idx, 1.0)
    return out.view(m, NUM_AGENTS, 4, grid_size, grid_size)


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> nn.Parameter:
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)


class QNet(nn.Module):
    """``E`` stacked Q-networks: conv(k×k, 4→C) → ReLU → [features ‖ extra] → 64 → 64 → A.

    Parameters
    ----------
    grid_size
        ``N``.
    extra_dim
        Width of the extra input concatenated after the convolution (0 for none).
    members
        Number ``E`` of independent parameter sets.
    seed
        Seed of the parameter initialisation (PyTorch's default uniform ±1/√fan_in).
    channels, hidden, kernel
        Paper: 32, 64, 4.
    num_actions
        Output width (4 moves).
    """

    def __init__(
        self,
        grid_size: int,
        extra_dim: int = 0,
        *,
        members: int = 1,
        seed: int = 0,
        channels: int = 32,
        hidden: int = 64,
        kernel: int = 4,
        num_actions: int = NUM_ACTIONS,
    ) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.grid_size = grid_size
        self.kernel = min(kernel, grid_size)
        self.extra_dim = extra_dim
        self.members = members
        side = grid_size - self.kernel + 1
        self.positions = side * side
        fan_conv = 4 * self.kernel * self.kernel
        feat = self.positions * channels + extra_dim
        self.conv_w = _uniform((members, fan_conv, channels), fan_conv, g)
        self.conv_b = _uniform((members, 1, channels), fan_conv, g)
        self.w1 = _uniform((members, feat, hidden), feat, g)
        self.b1 = _uniform((members, 1, hidden), feat, g)
        self.w2 = _uniform((members, hidden, hidden), hidden, g)
        self.b2 = _uniform((members, 1, hidden), hidden, g)
        self.w3 = _uniform((members, hidden, num_actions), hidden, g)
        self.b3 = _uniform((members, 1, num_actions), hidden, g)

    def forward(
        self,
        obs: torch.Tensor,
        extra: torch.Tensor | None = None,
        member: int | slice | None = None,
    ) -> torch.Tensor:
        """Q-values ``(E, M, A)`` of observations ``(E, M, 4, N, N)`` and extras ``(E, M, X)``.

        With ``member = k`` only that member runs, on inputs with leading dimension 1; with a
        slice of members, those members run, on inputs with leading dimension their number.
        """
        if member is None:
            sl = slice(None)
        elif isinstance(member, slice):
            sl = member
        else:
            sl = slice(member, member + 1)
        e, m = obs.shape[0], obs.shape[1]
        n = self.grid_size
        if self.kernel == n:
            patches = obs.reshape(e, m, 4 * n * n)  # one position: unfold is a reshape
        else:
            cols = F.unfold(obs.reshape(e * m, 4, n, n), self.kernel)  # (E·M, 4k², L)
            patches = cols.transpose(1, 2).reshape(e, m * self.positions, -1)
        # ReLUs in place: the same numbers without a new tensor (baddbmm keeps its inputs,
        # not its output, for the backward pass)
        h = torch.baddbmm(self.conv_b[sl], patches, self.conv_w[sl]).relu_()
        h = h.reshape(e, m, -1)
        if self.extra_dim:
            if extra is None:
                extra = torch.zeros(e, m, self.extra_dim, device=obs.device)
            h = torch.cat([h, extra], dim=2)
        h = torch.baddbmm(self.b1[sl], h, self.w1[sl]).relu_()
        h = torch.baddbmm(self.b2[sl], h, self.w2[sl]).relu_()
        return torch.baddbmm(self.b3[sl], h, self.w3[sl])

    def fast(
        self,
        obs: torch.Tensor,
        extra: torch.Tensor | None = None,
        member: slice | None = None,
    ) -> torch.Tensor:
        """:meth:`forward` computed faster on the CPU, equal to it to float rounding (not bit
        for bit): the narrow output layer as ``(W₃ᵀ hᵀ)ᵀ``
        (:class:`TransposedHead`), which multiplies in the wide layout. Members stay
        independent (each is its own matrix product). Used by the batched training phase
        (:mod:`solvers.coin.ensemble`), whose agreement with a single run is statistical."""
        sl = slice(None) if member is None else member
        e, m = obs.shape[0], obs.shape[1]
        n = self.grid_size
        if self.kernel == n:
            patches = obs.reshape(e, m, 4 * n * n)
        else:
            cols = F.unfold(obs.reshape(e * m, 4, n, n), self.kernel)
            patches = cols.transpose(1, 2).reshape(e, m * self.positions, -1)
        h = torch.baddbmm(self.conv_b[sl], patches, self.conv_w[sl]).relu_().reshape(e, m, -1)
        if self.extra_dim:
            if extra is None:
                extra = torch.zeros(e, m, self.extra_dim, device=obs.device)
            h = torch.cat([h, extra], dim=2)
        h = torch.baddbmm(self.b1[sl], h, self.w1[sl]).relu_()
        h = torch.baddbmm(self.b2[sl], h, self.w2[sl]).relu_()
        out: torch.Tensor = TransposedHead.apply(h, self.w3[sl], self.b3[sl])
        return out


class TransposedHead(torch.autograd.Function):
    """``h W + b`` for ``h (E, M, H)``, ``W (E, H, A)`` with few outputs ``A``, multiplied as
    ``(Wᵀ hᵀ)ᵀ`` and with the weight gradient as ``(gᵀ h)ᵀ``: the same products, summed in
    another order, several times faster for ``A = 4`` than ``baddbmm``'s layout."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(h, w)
        out = torch.baddbmm(b.transpose(1, 2), w.transpose(1, 2), h.transpose(1, 2))
        return out.transpose(1, 2).contiguous()

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h, w = ctx.saved_tensors
        grad_h = torch.bmm(g, w.transpose(1, 2))
        grad_w = torch.bmm(g.transpose(1, 2), h).transpose(1, 2)
        return grad_h, grad_w, g.sum(1, keepdim=True)


def gather_members(parts: Sequence[tuple[QNet, int]]) -> QNet:
    """A new :class:`QNet` whose member ``j`` is a copy of member ``parts[j][1]`` of
    ``parts[j][0]`` (all of one architecture): how an ensemble stacks the networks of several
    seeds (:mod:`solvers.coin.ensemble`) and takes one seed's networks back out."""
    first = parts[0][0]
    net = QNet(
        first.grid_size,
        first.extra_dim,
        members=len(parts),
        channels=first.conv_w.shape[2],
        hidden=first.w1.shape[2],
        kernel=first.kernel,
        num_actions=first.w3.shape[2],
    ).to(first.conv_w.device)
    copy_members(parts, net)
    return net


def copy_members(parts: Sequence[tuple[QNet, int]], dst: QNet) -> None:
    """Set member ``j`` of ``dst`` to (a copy of) member ``parts[j][1]`` of ``parts[j][0]``."""
    if len(parts) != dst.members:
        raise ValueError(f"{len(parts)} members given for a QNet of {dst.members}")
    with torch.no_grad():
        for name, param in dst.named_parameters():
            param.copy_(torch.stack([getattr(src, name)[k] for src, k in parts]))


class Member:
    """One member of a :class:`QNet` as a callable ``(obs (1, M, …), extra) -> (1, M, A)``.

    Algorithm 3's principal and agent networks are members 0 and 1 of one stacked ``QNet`` so
    that a gradient step runs one forward and one backward pass for both; a member whose role
    has no extra input is fed zeros there (weights on constant-zero inputs get zero gradients,
    so this is the same network as one without the input).
    """

    def __init__(self, net: QNet, index: int) -> None:
        self.net = net
        self.index = index

    def __call__(self, obs: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Q-values of this member."""
        return self.net(obs, extra, member=self.index)


def minimal_payment(q_bar: torch.Tensor, recommended: torch.Tensor, nudge: float) -> torch.Tensor:
    """Observed-action minimal contract with nudging (PAPER.md §1 and §5).

    ``b*(s, a^p) = max(0, max_{a ≠ a^p} Q̄(s, a) − Q̄(s, a^p) + ξ)``: the cheapest payment on
    ``a^p`` that makes it a best response by margin ``ξ`` (ties resolved for the principal). With
    ``ξ = 0`` this is Algorithm 3's ``max_a Q̄((s,1), a) − Q̄((s,1), a_i)``.

    Parameters
    ----------
    q_bar
        ``(..., A)`` the agent's truncated Q-values.
    recommended
        ``(...)`` long recommended actions.
    nudge
        ``ξ ≥ 0``.
    """
    q_rec = q_bar.gather(-1, recommended.unsqueeze(-1)).squeeze(-1)
    mask = F.one_hot(recommended, q_bar.shape[-1]).bool()
    best_other = q_bar.masked_fill(mask, float("-inf")).max(dim=-1).values
    return torch.clamp(best_other - q_rec + nudge, min=0.0)
