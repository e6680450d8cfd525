"""Tests of solvers.deep.networks: the lookup network is the one-hot dense network."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from solvers.deep.networks import OneHotQNetwork, QNetwork  # noqa: E402


def _pair(seed: int = 0) -> tuple[OneHotQNetwork, QNetwork]:
    torch.manual_seed(seed)
    dense = OneHotQNetwork(37, 3, (16, 8))
    return dense, QNetwork.from_one_hot(dense)


def test_lookup_equals_one_hot_dense_layer() -> None:
    dense, lookup = _pair()
    states = torch.tensor([0, 5, 5, 36, 17])
    torch.testing.assert_close(lookup(states), dense(states), rtol=0, atol=1e-6)
    assert lookup(states).shape == (5, 3)


def test_gradients_are_equal_in_both_forms() -> None:
    dense, lookup = _pair(1)
    states = torch.tensor([3, 3, 9, 0, 36])
    target = torch.randn(5, 3)
    ((dense(states) - target) ** 2).mean().backward()
    ((lookup(states) - target) ** 2).mean().backward()
    torch.testing.assert_close(
        lookup.embedding.grad, dense.first.weight.grad.t(), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(lookup.first_bias.grad, dense.first.bias.grad, atol=1e-6, rtol=0)
    for mine, theirs in zip(lookup.layers, dense.layers, strict=True):
        torch.testing.assert_close(mine.weight.grad, theirs.weight.grad, atol=1e-6, rtol=0)


def test_preallocated_gradient_takes_the_row_sparse_path_with_the_same_result() -> None:
    _, lookup = _pair(2)
    states = torch.tensor([1, 1, 4, 30])
    target = torch.randn(4, 3)
    ((lookup(states) - target) ** 2).mean().backward()
    assert lookup.embedding.grad is not None
    reference = lookup.embedding.grad.clone()
    for parameter in lookup.parameters():
        parameter.grad = torch.zeros_like(parameter)
    ((lookup(states) - target) ** 2).mean().backward()
    assert lookup.embedding.grad.layout == torch.strided  # stays dense for fused Adam
    torch.testing.assert_close(lookup.embedding.grad, reference, atol=1e-7, rtol=0)


def test_default_initialisation_matches_nn_linear_ranges() -> None:
    torch.manual_seed(0)
    net = QNetwork(1023, 2)
    bound = 1 / 1023**0.5
    assert net.embedding.shape == (1023, 256)
    assert float(net.embedding.detach().abs().max()) <= bound
    assert [layer.out_features for layer in net.layers] == [256, 2]


def test_needs_a_hidden_layer() -> None:
    with pytest.raises(ValueError, match="hidden_sizes"):
        QNetwork(3, 2, ())
