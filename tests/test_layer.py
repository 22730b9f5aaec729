"""labcode.layer: ManualLinear is a drop-in for nn.Linear with our backward."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import labcode.function
from labcode import ManualLinear, seeded


def twin_layers(in_features, out_features, bias=True, seed=0, dtype=torch.float32):
    with seeded(seed):
        ours = ManualLinear(in_features, out_features, bias=bias).to(dtype)
    with seeded(seed):
        reference = nn.Linear(in_features, out_features, bias=bias).to(dtype)
    return ours, reference


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_manual_linear_is_an_nn_linear_with_the_same_parameters():
    layer, reference = twin_layers(5, 3)
    assert isinstance(layer, nn.Linear)
    assert (layer.in_features, layer.out_features) == (5, 3)
    ours = {name: p.shape for name, p in layer.named_parameters()}
    theirs = {name: p.shape for name, p in reference.named_parameters()}
    assert ours == theirs == {"weight": (3, 5), "bias": (3,)}
    assert set(layer.state_dict()) == set(reference.state_dict())


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 123])
def test_manual_linear_initializes_like_nn_linear_under_the_same_seed(seed, bias):
    ours, reference = twin_layers(4, 6, bias=bias, seed=seed)
    assert torch.equal(ours.weight, reference.weight)
    if bias:
        assert torch.equal(ours.bias, reference.bias)
    else:
        assert ours.bias is None and reference.bias is None
    # and the init really is random: another seed gives other numbers
    other, _ = twin_layers(4, 6, bias=bias, seed=seed + 1)
    assert not torch.equal(ours.weight, other.weight)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("batch_shape", [(8,), (1,), (), (2, 3)], ids=str)
def test_manual_linear_forward_and_grads_match_nn_linear(batch_shape, bias, dtype):
    ours, reference = twin_layers(3, 5, bias=bias, seed=2, dtype=dtype)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(*batch_shape, 3, generator=g, dtype=dtype)
    grad_output = torch.randn(*batch_shape, 5, generator=g, dtype=dtype)
    x_ours, x_ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)

    y_ours, y_ref = ours(x_ours), reference(x_ref)
    torch.testing.assert_close(y_ours, y_ref)
    y_ours.backward(grad_output)
    y_ref.backward(grad_output)
    torch.testing.assert_close(x_ours.grad, x_ref.grad)
    torch.testing.assert_close(ours.weight.grad, reference.weight.grad)
    if bias:
        torch.testing.assert_close(ours.bias.grad, reference.bias.grad)


def test_manual_linear_backward_is_the_hand_written_one(monkeypatch):
    calls = []
    original = labcode.function.linear_backward
    monkeypatch.setattr(labcode.function, "linear_backward",
                        lambda *args, **kwargs: calls.append(args) or original(*args, **kwargs))
    layer, _ = twin_layers(3, 2, seed=4)
    out = layer(randn(4, 3, seed=5))
    assert type(out.grad_fn).__name__ == "LinearFunctionBackward"
    out.sum().backward()
    assert len(calls) == 1


def test_manual_linear_without_bias_computes_x_times_weight_transposed():
    layer, _ = twin_layers(3, 2, bias=False, seed=6, dtype=torch.float64)
    x = randn(4, 3, seed=7, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x @ layer.weight.T)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_manual_linear_rejects_input_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"x has 4 features .*in_features=3"):
        ManualLinear(3, 2)(torch.zeros(5, 4))


def test_manual_linear_rejects_integer_input():
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor.*torch\.int64"):
        ManualLinear(3, 2)(torch.ones(5, 3, dtype=torch.int64))
