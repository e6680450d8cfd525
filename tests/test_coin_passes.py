"""The ensemble's passes without autograd (solvers.coin.passes) against autograd and Adam.

Everything here is compared bit for bit (the raw bits of float32, so even the sign of a zero),
with one CPU thread: the batched ensemble's claim to reproduce the single-seed trainers' numbers
rests on these passes running exactly autograd's and ``torch.optim.Adam``'s operations.
"""

from __future__ import annotations

import pytest
import torch

from solvers.coin.networks import QNet
from solvers.coin.passes import CHUNK_ROWS, FlatAdam, chunked_forward, fast_backward, fast_forward


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def bits(x: torch.Tensor) -> torch.Tensor:
    """The float32 tensor's raw bits (``torch.equal`` alone would let ``-0.0 == 0.0``)."""
    return x.detach().contiguous().view(torch.int32)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(bits(a), bits(b))


def _inputs(grid: int, extra_dim: int, e: int, m: int, seed: int):
    """One-hot-like observations ``(E, M, 4, N, N)``, 0/1 extras (or ``None``) and a random
    output gradient ``(E, M, 4)``."""
    g = torch.Generator().manual_seed(seed)
    obs = (torch.rand(e, m, 4, grid, grid, generator=g) < 0.2).float()
    extra = (torch.rand(e, m, extra_dim, generator=g) < 0.5).float() if extra_dim else None
    return obs, extra, torch.randn(e, m, 4, generator=g)


@pytest.mark.parametrize("grid, extra_dim", [(3, 0), (3, 2), (3, 4), (7, 0), (7, 2), (7, 4)])
@pytest.mark.parametrize("transposed", [True, False])
def test_fast_passes_are_autograds_bit_for_bit(grid, extra_dim, transposed):
    """fast_forward's Q-values are QNet.fast's (``transposed``) or QNet.forward's, and
    fast_backward's weight gradients for an output gradient ``G`` are those autograd
    accumulates for the loss ``Σ Q·G`` (whose gradient with respect to ``Q`` is exactly
    ``G``), bit for bit. They must be equal, not merely close: both sides run the same tensor
    operations (baddbmm, relu_, unfold; their backward formulas) on the same operands in the
    same order. Autograd adds into the zeroed ``.grad`` (``0 + g``), which the ensemble
    reproduces by adding ``0.0`` to fast_backward's output; on 7×7 the convolution runs over
    patches (unfold), on 3×3 over the whole board."""
    e, m = 4, 128
    obs, extra, g_out = _inputs(grid, extra_dim, e, m, seed=10 * grid + extra_dim)
    auto = QNet(grid, extra_dim, members=e, seed=1)
    manual = QNet(grid, extra_dim, members=e, seed=1)
    for p in auto.parameters():
        p.grad = torch.zeros_like(p)
    q = (auto.fast if transposed else auto.forward)(obs, extra)
    (q * g_out).sum().backward()
    grads = [torch.empty_like(p) for p in manual.parameters()]
    with torch.no_grad():
        q2, saved = fast_forward(manual, obs.reshape(e, m, -1), extra, transposed=transposed)
        fast_backward(manual, saved, g_out, grads, transposed=transposed)
    assert same_bits(q2, q)
    for (name, p), mine in zip(auto.named_parameters(), grads, strict=True):
        assert p.grad is not None
        assert same_bits(p.grad, mine + 0.0), name


@pytest.mark.parametrize("transposed", [True, False])
def test_chunked_forward_is_one_pass_bit_for_bit(transposed):
    """chunked_forward (CHUNK_ROWS rows per member at a time) equals one fast_forward over all
    rows, bit for bit, for a slice of members. This is the row independence the ensemble's
    lookup tables rely on (solvers.coin.passes docstring): a row's Q-values do not depend on
    the other rows of its pass or their number. PyTorch does not promise it; it is a measured
    property of this machine's CPU and MKL, and if this test fails the tables must be turned
    off (``memo=False``)."""
    e, m = 3, 2 * CHUNK_ROWS + 100  # two full chunks and a short one
    obs, extra, _ = _inputs(3, 2, e, m, seed=5)
    net = QNet(3, 2, members=e + 2, seed=2)
    flat = obs.reshape(e, m, -1)
    with torch.no_grad():
        whole, _ = fast_forward(net, flat, extra, slice(2, 5), transposed=transposed)
        parts = chunked_forward(net, flat, extra, slice(2, 5), transposed=transposed)
        plain = (net.fast if transposed else net.forward)(obs, extra, member=slice(2, 5))
    assert same_bits(parts, whole)
    assert same_bits(whole, plain)


def test_flat_adam_is_torch_adam_bit_for_bit():
    """FlatAdam's parameters after several steps (with a learning rate changed between them
    through ``param_groups``) are torch.optim.Adam's, bit for bit: the same elementwise
    operations of Adam's single-tensor update, in the same order, over one flat buffer."""
    net_a, net_f = QNet(3, 2, members=2, seed=3), QNet(3, 2, members=2, seed=3)
    adam = torch.optim.Adam(net_a.parameters(), lr=1e-3)
    flat = FlatAdam(net_f, lr=1e-3)
    g = torch.Generator().manual_seed(4)
    for step in range(6):
        if step == 3:
            adam.param_groups[0]["lr"] = flat.param_groups[0]["lr"] = 3e-4
        flat.zero_grad()
        for pa, view in zip(net_a.parameters(), flat.grads, strict=True):
            grad = torch.randn(pa.shape, generator=g)
            pa.grad = grad.clone()
            view.copy_(grad)  # the parameter's gradient, a view into the flat buffer
        adam.step()
        flat.step()
    for (name, pa), pf in zip(net_a.named_parameters(), net_f.parameters(), strict=True):
        assert same_bits(pa, pf), name
    for key in ("exp_avg", "exp_avg_sq"):
        moments = torch.cat([adam.state[p][key].reshape(-1) for p in net_a.parameters()])
        assert same_bits(moments, getattr(flat, key)), key
