"""Network passes of the batched Coin Game ensembles without autograd (issue 15).

:mod:`solvers.coin.ensemble` trains ``K`` seeds' stacked :class:`~solvers.coin.networks.QNet`
members as one computation; this module holds the passes it runs and its optimiser:

* :func:`fast_forward`: :meth:`QNet.fast <solvers.coin.networks.QNet.fast>` (the narrow
  output layer multiplied in the transposed layout, ``transposed=True``) or
  :meth:`QNet.forward <solvers.coin.networks.QNet.forward>` (``transposed=False``) of a slice
  of members on flat observations, under ``torch.no_grad``, returning the activations the
  backward pass needs;
* :func:`fast_backward`: the weight gradients of that pass for a given output gradient,
  written straight into the optimiser's flat gradient buffer;
* :func:`chunked_forward`: :func:`fast_forward`'s Q-values on many rows, a chunk of
  :data:`CHUNK_ROWS` rows per member at a time (how the ensemble computes its lookup tables
  of frozen networks);
* :class:`FlatAdam`: ``torch.optim.Adam`` over one flat buffer of all stacked parameters.

**Why bit for bit equal to autograd.** :func:`fast_forward` calls the same tensor operations
on the same operands in the same order as ``QNet.fast`` / ``QNet.forward`` (``F.unfold`` for
the convolution's patches, ``baddbmm`` per layer, ``relu_``), so it returns the same bits.
:func:`fast_backward` runs the operations autograd's engine runs for that graph, in its order:
``baddbmm``'s backward formulas (``grad_mat1 = g·mat2ᵀ``, ``grad_mat2 = mat1ᵀ·g``, the bias
gradient ``g`` summed over the broadcast row dimension as ``sum_to`` does), ``relu_``'s
(``threshold_backward(grad, result, 0)``) and :class:`TransposedHead
<solvers.coin.networks.TransposedHead>`'s (the weight gradient as ``(gᵀ h)ᵀ``). Two details
are needed for equality and handled by the caller or checked:

* autograd *adds* each gradient into a zeroed ``.grad``; ``0 + g`` turns ``−0`` into ``+0``,
  so the caller adds ``0.0`` to the buffer after :func:`fast_backward` (``FlatAdam.grad``);
* the input gradient of the first fully connected layer is computed for the convolution's
  columns only (the extra inputs need none). That these columns are the same bits as the
  corresponding columns of the full product is a property of the matrix library, measured
  on this machine's CPU (PyTorch 2.13 with MKL 2024.2, AVX-512), not a guarantee.

``tests/test_coin_passes.py`` compares :func:`fast_forward` / :func:`fast_backward` with
``QNet.fast`` / ``QNet.forward`` and ``.backward()`` bit for bit, for both layouts, 3×3 and 7×7
boards, with and without extra inputs.

**Row independence (the lookup tables' assumption).** The ensemble replaces the passes of its
frozen networks (the target networks between two target updates, the validation phase's
principals and agent networks) by tables, computed once per target period or phase, over every
row they can be asked for: the target networks' Q-values (with :func:`chunked_forward`) and
the validation phase's recommendations and payments (one plain pass of every state). A
looked-up row equals the row computed inside the batch of a gradient step only if a row of a
pass is a function of that row alone: the same sums of the same products whatever the other
rows of the batch, their number and the row's position. Nothing in PyTorch promises this (a
BLAS may block or vectorise a product differently for another number of rows). It was measured
on this machine's CPU with its MKL for every pass shape the ensemble uses (32 to 11,664 rows
per member, member slices, both layouts); ``tests/test_coin_passes.py`` checks it for
:func:`chunked_forward` and ``tests/test_coin_ensemble.py`` end to end (phases with tables
equal phases without, bit for bit, one thread). On another CPU, BLAS or thread count, or on a
GPU, this must be measured again; the ensemble uses tables only on the CPU by default
(``memo=None``), and ``memo=False`` turns them off.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from solvers.coin.networks import QNet

__all__ = ["CHUNK_ROWS", "FlatAdam", "Saved", "chunked_forward", "fast_backward", "fast_forward"]

_threshold_backward = torch.ops.aten.threshold_backward


def _patches(net: QNet, obs: torch.Tensor) -> torch.Tensor:
    """``(E, M, 4·N·N)`` flat observations → the convolution's patches (as :meth:`QNet.fast`)."""
    e, m, n = obs.shape[0], obs.shape[1], net.grid_size
    if net.kernel == n:
        return obs  # one position: the patch is the observation
    cols = F.unfold(obs.reshape(e * m, 4, n, n), net.kernel)
    return cols.transpose(1, 2).reshape(e, m * net.positions, -1)


#: what :func:`fast_forward` keeps for :func:`fast_backward`: the patches and every layer's
#: activations ``(patches, h0, hc, h1, h2)``
Saved = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def fast_forward(
    net: QNet,
    obs: torch.Tensor,
    extra: torch.Tensor | None,
    members: slice = slice(None),
    *,
    transposed: bool = True,
) -> tuple[torch.Tensor, Saved]:
    """:meth:`QNet.fast <solvers.coin.networks.QNet.fast>` (``transposed``) or
    :meth:`QNet.forward` of ``members`` on flat observations ``(E, M, 4·N·N)`` and extras
    ``(E, M, X)`` (``None`` for a network without extra inputs): the same operations on the
    same operands, so the same numbers, without autograd. Returns the Q-values ``(E, M, A)``
    and what :func:`fast_backward` needs."""
    e, m, sl = obs.shape[0], obs.shape[1], members
    patches = _patches(net, obs)
    h0 = torch.baddbmm(net.conv_b[sl], patches, net.conv_w[sl]).relu_()
    hc = h0.view(e, m, -1)
    if net.extra_dim:
        if extra is None:
            extra = torch.zeros(e, m, net.extra_dim, device=obs.device)
        hc = torch.cat([hc, extra], dim=2)
    h1 = torch.baddbmm(net.b1[sl], hc, net.w1[sl]).relu_()
    h2 = torch.baddbmm(net.b2[sl], h1, net.w2[sl]).relu_()
    w3, b3 = net.w3[sl], net.b3[sl]
    if not transposed:
        return torch.baddbmm(b3, h2, w3), (patches, h0, hc, h1, h2)
    q = torch.baddbmm(b3.transpose(1, 2), w3.transpose(1, 2), h2.transpose(1, 2))
    return q.transpose(1, 2).contiguous(), (patches, h0, hc, h1, h2)


def fast_backward(
    net: QNet, saved: Saved, g: torch.Tensor, grads: list[torch.Tensor], *, transposed: bool = True
) -> None:
    """The weight gradients of :func:`fast_forward` (all members) for the output gradient
    ``g``, written into ``grads`` (the parameters' order): the operations autograd runs for
    :meth:`QNet.fast` / :meth:`QNet.forward` (``baddbmm``'s, ``relu_``'s and
    :class:`TransposedHead <solvers.coin.networks.TransposedHead>`'s backward formulas, the
    bias gradients summed as ``sum_to`` does), in its order, so the same numbers. The input
    gradient of the first fully connected layer is computed for the convolution's columns
    only (the extra inputs need none; measured bit for bit the same columns as the full
    product)."""
    patches, h0, hc, h1, h2 = saved
    gw0, gb0, gw1, gb1, gw2, gb2, gw3, gb3 = grads
    grad_h2 = torch.bmm(g, net.w3.transpose(1, 2))
    if transposed:
        gw3.copy_(torch.bmm(g.transpose(1, 2), h2).transpose(1, 2))
    else:
        torch.bmm(h2.transpose(1, 2), g, out=gw3)
    torch.sum(g, 1, keepdim=True, out=gb3)
    g2 = _threshold_backward(grad_h2, h2, 0)
    torch.sum(g2, 1, keepdim=True, out=gb2)
    grad_h1 = torch.bmm(g2, net.w2.transpose(1, 2))
    torch.bmm(h1.transpose(1, 2), g2, out=gw2)
    g1 = _threshold_backward(grad_h1, h1, 0)
    torch.sum(g1, 1, keepdim=True, out=gb1)
    width = h0.shape[1] * h0.shape[2] // hc.shape[1]  # the convolution's features per row
    w1 = net.w1 if width == net.w1.shape[1] else net.w1[:, :width]
    grad_h0 = torch.bmm(g1, w1.transpose(1, 2)).view(h0.shape)
    torch.bmm(hc.transpose(1, 2), g1, out=gw1)
    g0 = _threshold_backward(grad_h0, h0, 0)
    torch.sum(g0, 1, keepdim=True, out=gb0)
    torch.bmm(patches.transpose(1, 2), g0, out=gw0)


#: rows per member of one pass of :func:`chunked_forward` (its activations stay in the cache)
CHUNK_ROWS = 512


def chunked_forward(
    net: QNet, obs: torch.Tensor, extra: torch.Tensor | None, members: slice, **kw: Any
) -> torch.Tensor:
    """:func:`fast_forward`'s Q-values on ``(E, M, …)`` rows, :data:`CHUNK_ROWS` rows per
    member at a time (a row's numbers do not depend on the other rows of its pass)."""
    parts = []
    for lo in range(0, obs.shape[1], CHUNK_ROWS):
        sl = slice(lo, lo + CHUNK_ROWS)
        parts.append(
            fast_forward(net, obs[:, sl], None if extra is None else extra[:, sl], members, **kw)[0]
        )
    return torch.cat(parts, 1)


class FlatAdam:
    """:class:`torch.optim.Adam` with its defaults (β = (0.9, 0.999), ε = 1e-8, no weight
    decay) over a module whose parameters and gradients are moved into one flat buffer each:
    the single-tensor update's operations in its order (``lerp_``, ``mul_``/``addcmul_``,
    ``sqrt``/``div``/``add_``, ``addcdiv_``), elementwise, so every parameter gets the numbers
    ``Adam`` gives it, in 7 operations instead of 7 per parameter tensor. Gradients accumulate
    into the flat buffer (:meth:`zero_grad` zeroes it; a zero gradient's sign may differ).
    ``param_groups[0]["lr"]`` is the learning rate, as for ``Adam``."""

    def __init__(self, module: torch.nn.Module, lr: float) -> None:
        params = list(module.parameters())
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in params])
        self.grad = torch.zeros_like(self.flat)
        offset = 0
        #: each parameter's gradient: a view into :attr:`grad`
        self.grads: list[torch.Tensor] = []
        for p in params:
            n = p.numel()
            p.data = self.flat[offset : offset + n].view_as(p)
            p.grad = self.grad[offset : offset + n].view_as(p)
            self.grads.append(p.grad)
            offset += n
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.param_groups: list[dict[str, float]] = [{"lr": lr}]
        self.steps = 0

    def zero_grad(self) -> None:
        """Zero the gradients (in place: autograd adds into the flat buffer)."""
        self.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step (torch.optim.adam._single_tensor_adam, non-capturable branch)."""
        beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, self.param_groups[0]["lr"]
        self.steps += 1
        step = float(self.steps)
        self.exp_avg.lerp_(self.grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        denom = (self.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-step_size)
