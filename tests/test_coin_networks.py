"""Networks and contracts of the Coin Game learners (solvers.coin.networks; PAPER.md §1, §5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.coin.env import BatchedCoinGame, CoinGameRules, observe
from solvers.coin.networks import QNet, encode, minimal_payment


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_encode_matches_numpy_observations(n):
    env = BatchedCoinGame(200, CoinGameRules(grid_size=n, episode_length=10), 0)
    s = env.state
    np.testing.assert_array_equal(encode(torch.from_numpy(s), n).numpy(), observe(s, n))


@pytest.mark.parametrize("n", [3, 7])
def test_qnet_shapes_and_member_independence(n):
    net = QNet(n, 4, members=2, seed=0)
    obs = torch.rand(2, 5, 4, n, n)
    extra = torch.rand(2, 5, 4)
    q = net(obs, extra)
    assert q.shape == (2, 5, 4)
    # changing member 1's input leaves member 0's output unchanged
    obs2 = obs.clone()
    obs2[1] += 1.0
    q2 = net(obs2, extra)
    assert torch.equal(q[0], q2[0]) and not torch.equal(q[1], q2[1])
    # a member computes the same as a one-member net with its parameters
    single = QNet(n, 4, members=1, seed=0)
    with torch.no_grad():
        for (_, p1), (_, p2) in zip(single.named_parameters(), net.named_parameters(), strict=True):
            p1.copy_(p2[1:2])
    torch.testing.assert_close(single(obs[1:2], extra[1:2])[0], q[1])


def test_qnet_is_seeded():
    a, b, c = QNet(3, 2, seed=1), QNet(3, 2, seed=1), QNet(3, 2, seed=2)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_kernel_is_paper_4x4_on_7x7_and_board_sized_on_3x3():
    assert QNet(7).kernel == 4 and QNet(7).positions == 16
    assert QNet(3).kernel == 3 and QNet(3).positions == 1


q_rows = st.lists(st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=4, max_size=4)


@settings(max_examples=200, deadline=None)
@given(q=q_rows, rec=st.integers(0, 3), nudge=st.floats(0, 2))
def test_minimal_payment_makes_following_a_best_response_by_the_margin(q, rec, nudge):
    """b*(a^p) is the least b ≥ 0 with b + Q̄(a^p) ≥ Q̄(a) + ξ for all a ≠ a^p (PAPER.md §1)."""
    qt = torch.tensor([q], dtype=torch.float64)
    b = float(minimal_payment(qt, torch.tensor([rec]), nudge)[0])
    others = [q[a] for a in range(4) if a != rec]
    assert b >= 0
    assert b + q[rec] >= max(others) + nudge - 1e-9
    # minimal: any smaller non-negative payment violates a constraint (or b is already 0)
    if b > 1e-9:
        assert (b - 1e-6) + q[rec] < max(others) + nudge
    # without nudging it is the paper's max_a Q̄(a) − Q̄(a^p)
    b0 = float(minimal_payment(qt, torch.tensor([rec]), 0.0)[0])
    assert b0 == pytest.approx(max(q) - q[rec], abs=1e-9)


def test_gather_members_copies_members_and_slices_run_them():
    """A net gathered from members of two nets computes, member for member, exactly what the
    source members compute (member slices run only those members), bit for bit with one CPU
    thread (with several, the batched product is split differently); copy_members puts them
    back."""
    from solvers.coin.networks import copy_members, gather_members

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _check_gather(copy_members, gather_members)
    finally:
        torch.set_num_threads(threads)


def _check_gather(copy_members, gather_members):
    a, b = QNet(3, 2, members=2, seed=1), QNet(3, 2, members=2, seed=2)
    parts = [(a, 1), (b, 0), (b, 1)]
    net = gather_members(parts)
    obs, extra = torch.rand(3, 6, 4, 3, 3), torch.rand(3, 6, 2)
    with torch.no_grad():
        out = net(obs, extra)
        for j, (src, k) in enumerate(parts):
            want = src(obs[j : j + 1], extra[j : j + 1], member=k)
            assert torch.equal(out[j : j + 1], want)
        assert torch.equal(net(obs[1:], extra[1:], member=slice(1, 3)), out[1:])
    fresh = QNet(3, 2, members=2, seed=3)
    copy_members([(net, 1), (net, 2)], fresh)
    for name, p in fresh.named_parameters():
        assert torch.equal(p, getattr(b, name))
    with pytest.raises(ValueError, match="3 members given for a QNet of 2"):
        copy_members(parts, fresh)


def test_fast_forward_equals_forward_to_rounding_with_its_gradients():
    """QNet.fast (transposed output layer, TransposedHead) computes forward's Q-values and
    weight gradients to float rounding, member by member: a member's values do not change when
    the other members' inputs do."""
    torch.manual_seed(0)
    net = QNet(3, 2, members=4, seed=1)
    obs = torch.rand(4, 50, 4, 3, 3)
    extra = torch.rand(4, 50, 2)
    g = torch.rand(4, 50, 4)
    (net(obs, extra) * g).sum().backward()
    want = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    q = net.fast(obs, extra)
    (q * g).sum().backward()
    torch.testing.assert_close(q, net(obs, extra), rtol=1e-5, atol=1e-6)
    for p, w in zip(net.parameters(), want, strict=True):
        torch.testing.assert_close(p.grad, w, rtol=1e-5, atol=1e-6)
    other = obs.clone()
    other[1:] = torch.rand(3, 50, 4, 3, 3)
    with torch.no_grad():
        assert torch.equal(net.fast(other, extra)[0], q[0].detach())
        assert torch.equal(
            net.fast(obs[2:], extra[2:], member=slice(2, 4)), net.fast(obs, extra)[2:]
        )
