"""labcode.linear: the forward pass and the hand-derived backward of one linear layer.

The backward is checked twice, on random non-zero float64 tensors of many non-square
shapes (batch of one, a single 1-D sample, 3-D batches): against autograd through
``torch.nn.functional.linear`` and against central finite differences computed here.
"""
from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labcode import linear_backward, linear_forward

# Derandomized and without an example database: the same cases on every run and machine.
SWEEP = settings(max_examples=100, deadline=None, derandomize=True, database=None)

batch_shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
features = st.integers(1, 7)
#: (in_features, out_features) with in != out: a square weight could hide a missing transpose.
non_square = features.flatmap(
    lambda d_in: st.tuples(st.just(d_in), st.sampled_from([d for d in range(1, 8) if d != d_in])))
seeds = st.integers(0, 2**31 - 1)


def random_layer(batch_shape, in_features, out_features, bias, seed,
                 dtype=torch.float64):
    """Random non-zero x, weight, bias, grad_output (|value| >= 0.1, random signs)."""
    g = torch.Generator().manual_seed(seed)

    def draw(*shape):
        magnitude = 0.1 + torch.rand(shape, generator=g, dtype=dtype)
        sign = torch.randint(0, 2, shape, generator=g).to(dtype) * 2 - 1
        return magnitude * sign

    return (draw(*batch_shape, in_features), draw(out_features, in_features),
            draw(out_features) if bias else None, draw(*batch_shape, out_features))


def autograd_gradients(grad_output, x, weight, bias):
    """Autograd's gradients of sum(F.linear(x, weight, bias) * grad_output)."""
    leaves = [t.clone().requires_grad_(True) for t in (x, weight)]
    if bias is not None:
        leaves.append(bias.clone().requires_grad_(True))
    y = torch.nn.functional.linear(*leaves[:2], leaves[2] if bias is not None else None)
    grads = torch.autograd.grad(y, leaves, grad_outputs=grad_output)
    return grads[0], grads[1], grads[2] if bias is not None else None


def central_differences(loss, tensor, eps=1e-6):
    """(loss(t + eps e_i) - loss(t - eps e_i)) / 2 eps for every element i of tensor."""
    grad = torch.zeros_like(tensor)
    flat, flat_grad = tensor.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        original = flat[i].item()
        flat[i] = original + eps
        plus = loss()
        flat[i] = original - eps
        minus = loss()
        flat[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


@SWEEP
@given(batch_shape=batch_shapes, in_features=features, out_features=features,
       bias=st.booleans(), seed=seeds)
@example(batch_shape=(), in_features=3, out_features=5, bias=True, seed=0)
@example(batch_shape=(1,), in_features=7, out_features=2, bias=False, seed=1)
@example(batch_shape=(2, 3), in_features=4, out_features=6, bias=True, seed=2)
def test_linear_forward_matches_functional_linear(batch_shape, in_features, out_features,
                                                  bias, seed):
    x, weight, b, _ = random_layer(batch_shape, in_features, out_features, bias, seed)
    y = linear_forward(x, weight, b)
    assert y.shape == (*batch_shape, out_features)
    torch.testing.assert_close(y, torch.nn.functional.linear(x, weight, b))


def test_linear_forward_bias_defaults_to_none():
    x, weight, _, _ = random_layer((4,), 3, 2, False, seed=3)
    torch.testing.assert_close(linear_forward(x, weight), x @ weight.T)


@SWEEP
@given(batch_shape=batch_shapes, shape=non_square, bias=st.booleans(), seed=seeds)
@example(batch_shape=(), shape=(3, 5), bias=True, seed=0)
@example(batch_shape=(1,), shape=(7, 2), bias=True, seed=1)
@example(batch_shape=(1,), shape=(2, 7), bias=False, seed=1)
@example(batch_shape=(2, 3), shape=(4, 6), bias=True, seed=2)
@example(batch_shape=(2, 3), shape=(6, 1), bias=False, seed=3)
def test_linear_backward_matches_autograd(batch_shape, shape, bias, seed):
    in_features, out_features = shape
    x, weight, b, grad_output = random_layer(batch_shape, in_features, out_features, bias, seed)
    ours = linear_backward(grad_output, x, weight, b)
    theirs = autograd_gradients(grad_output, x, weight, b)
    assert ours[0].shape == x.shape and ours[1].shape == weight.shape
    torch.testing.assert_close(ours[0], theirs[0])
    torch.testing.assert_close(ours[1], theirs[1])
    if bias:
        torch.testing.assert_close(ours[2], theirs[2])
    else:
        assert ours[2] is None


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(batch_shape=batch_shapes, shape=non_square, bias=st.booleans(), seed=seeds)
@example(batch_shape=(), shape=(3, 5), bias=True, seed=0)
@example(batch_shape=(1,), shape=(7, 2), bias=True, seed=1)
@example(batch_shape=(2, 3), shape=(4, 6), bias=False, seed=2)
def test_linear_backward_matches_central_differences(batch_shape, shape, bias, seed):
    in_features, out_features = shape
    x, weight, b, grad_output = random_layer(batch_shape, in_features, out_features, bias, seed)

    def loss():  # dL/dY = grad_output
        y = x @ weight.T + (b if b is not None else 0.0)
        return (y * grad_output).sum().item()

    grad_input, grad_weight, grad_bias = linear_backward(grad_output, x, weight, b)
    tol = dict(rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(grad_input, central_differences(loss, x), **tol)
    torch.testing.assert_close(grad_weight, central_differences(loss, weight), **tol)
    if bias:
        torch.testing.assert_close(grad_bias, central_differences(loss, b), **tol)


def test_linear_backward_sums_weight_gradient_over_every_batch_position():
    # For a 3-D batch, dL/dW = sum over all (i, j) of outer(G[i, j], X[i, j]).
    x, weight, b, grad_output = random_layer((2, 3), 4, 5, True, seed=7)
    _, grad_weight, grad_bias = linear_backward(grad_output, x, weight, b)
    expected_w = sum(torch.outer(grad_output[i, j], x[i, j]) for i in range(2) for j in range(3))
    expected_b = sum(grad_output[i, j] for i in range(2) for j in range(3))
    torch.testing.assert_close(grad_weight, expected_w)
    torch.testing.assert_close(grad_bias, expected_b)


def noncontiguous_layer(layout, seed=10):
    """A float64 problem (N = 6, D_in = 4, D_out = 3) whose tensors are laid out as named.

    ``x_transposed``: x as a (D_in, N) tensor's transpose; ``weight_transposed``: weight
    as ``w.T`` of a (D_in, D_out) tensor; ``x_sliced``: every other column of a wider x;
    ``x_permuted_3d``: a (2, 3, D_in) x from a permuted (D_in, 2, 3) tensor;
    ``grad_output_expanded``: one row broadcast to every sample (stride 0), and
    ``grad_output_ones``: the all-ones, all-stride-0 tensor that ``y.sum().backward()``
    passes down.
    """
    x, weight, b, grad_output = random_layer((6,), 4, 3, True, seed)
    if layout == "x_transposed":
        x = x.T.contiguous().T
    elif layout == "weight_transposed":
        weight = weight.T.contiguous().T
    elif layout == "x_sliced":
        wide = torch.stack([x, -x], dim=-1).reshape(6, 8)  # columns x0, -x0, x1, -x1, ...
        x = wide[:, ::2]
    elif layout == "x_permuted_3d":
        x = x.reshape(2, 3, 4).permute(2, 0, 1).contiguous().permute(1, 2, 0)
        grad_output = grad_output.reshape(2, 3, 3)
    elif layout == "grad_output_expanded":
        grad_output = grad_output[0].expand(6, 3)
    elif layout == "grad_output_ones":
        grad_output = torch.ones((), dtype=torch.float64).expand(6, 3)
    return x, weight, b, grad_output


NONCONTIGUOUS = ["x_transposed", "weight_transposed", "x_sliced", "x_permuted_3d",
                 "grad_output_expanded", "grad_output_ones"]


@pytest.mark.parametrize("layout", NONCONTIGUOUS)
def test_linear_backward_matches_autograd_on_non_contiguous_inputs(layout):
    x, weight, b, grad_output = noncontiguous_layer(layout)
    assert not all(t.is_contiguous() for t in (x, weight, grad_output))  # the case is real
    ours = linear_backward(grad_output, x, weight, b)
    theirs = autograd_gradients(grad_output, x, weight, b)
    contiguous = linear_backward(*(t.contiguous() for t in (grad_output, x, weight, b)))
    for got, expected, reference in zip(ours, theirs, contiguous):
        torch.testing.assert_close(got, expected)
        torch.testing.assert_close(got, reference)


def test_linear_backward_never_calls_autograd(monkeypatch):
    # Plain tensor ops: with autograd's entry points switched off and inputs that do
    # require grad, it still returns autograd's gradients.
    x, weight, b, grad_output = (t.requires_grad_() for t in random_layer((5,), 3, 2, True, 4))
    expected = autograd_gradients(grad_output.detach(), x.detach(), weight.detach(), b.detach())

    def forbidden(*args, **kwargs):
        raise AssertionError("linear_backward asked autograd for a gradient")

    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    monkeypatch.setattr(torch.autograd, "backward", forbidden)
    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    with torch.no_grad():
        grads = linear_backward(grad_output, x, weight, b)
    for ours, theirs in zip(grads, expected):
        assert not ours.requires_grad  # and it builds no graph when none is wanted
        torch.testing.assert_close(ours, theirs)


def test_linear_backward_is_itself_differentiable():
    # Built from differentiable ops, so autograd can take a gradient of the gradient
    # (what gradgradcheck on LinearFunction relies on): check that against finite
    # differences of linear_backward itself.
    inputs = tuple(t.requires_grad_() for t in random_layer((2, 3), 4, 5, True, seed=9))
    x, weight, b, grad_output = inputs
    assert all(g.requires_grad for g in linear_backward(grad_output, x, weight, b))
    assert torch.autograd.gradcheck(
        lambda x, weight, b, grad_output: linear_backward(grad_output, x, weight, b), inputs)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("needs", list(itertools.product([False, True], repeat=3)),
                         ids=lambda needs: "x{:d}_w{:d}_b{:d}".format(*needs))
def test_linear_backward_returns_none_for_the_gradients_it_skips(needs, bias):
    x, weight, b, grad_output = random_layer((2, 3), 4, 5, bias, seed=8)
    full = linear_backward(grad_output, x, weight, b)
    assert (full[2] is not None) == bias  # by default, every gradient there is
    partial = linear_backward(grad_output, x, weight, b, needs=needs)
    for got, everything, needed in zip(partial, full, needs):
        if needed and everything is not None:
            assert torch.equal(got, everything)  # the same operations, bit for bit
        else:
            assert got is None


def test_linear_backward_works_in_float32():
    x, weight, b, grad_output = random_layer((8,), 5, 3, True, seed=5, dtype=torch.float32)
    ours = linear_backward(grad_output, x, weight, b)
    for a, expected in zip(ours, autograd_gradients(grad_output, x, weight, b)):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, expected)


# ---- bad input -------------------------------------------------------------------------

def _good():
    x, weight, b, grad_output = random_layer((4,), 3, 2, True, seed=6)
    return {"x": x, "weight": weight, "bias": b, "grad_output": grad_output}


FORWARD_BAD_INPUT = [
    # (what to replace, its value, error, pattern the message must match)
    ("x", [[1.0, 2.0, 3.0]], TypeError, r"x must be a torch\.Tensor, got list"),
    ("x", torch.ones(4, 3, dtype=torch.int64), TypeError,
     r"x must be a floating-point tensor.*got dtype torch\.int64"),
    ("weight", torch.ones(2, 3, dtype=torch.int32), TypeError,
     r"weight must be a floating-point tensor.*got dtype torch\.int32"),
    ("x", torch.ones(4, 5, dtype=torch.float64), ValueError,
     r"x has 5 features .*shape \(4, 5\).*weight expects in_features=3"),
    ("x", torch.tensor(1.0, dtype=torch.float64), ValueError, r"x must have shape .*0-d"),
    ("weight", torch.ones(6, dtype=torch.float64), ValueError,
     r"weight must be 2-D .*got shape \(6,\)"),
    ("bias", torch.ones(3, dtype=torch.float64), ValueError,
     r"bias must have shape \(out_features,\) = \(2,\), got shape \(3,\)"),
    ("bias", torch.ones(1, 2, dtype=torch.float64), ValueError,
     r"bias must have shape .* got shape \(1, 2\)"),
    ("bias", torch.ones(2, dtype=torch.bool), TypeError,
     r"bias must be a floating-point tensor.*torch\.bool"),
    ("x", torch.ones(4, 3, dtype=torch.float32), TypeError,
     r"x has dtype torch\.float32 but weight has dtype torch\.float64"),
    ("x", torch.ones(4, 3, dtype=torch.float64, device="meta"), ValueError,
     r"x is on meta but weight is on cpu"),
]


@pytest.mark.parametrize("name, value, error, match", FORWARD_BAD_INPUT)
@pytest.mark.parametrize("function", ["linear_forward", "linear_backward"])
def test_linear_rejects_bad_input_naming_it(function, name, value, error, match):
    args = _good()
    args[name] = value
    with pytest.raises(error, match=match):
        if function == "linear_forward":
            linear_forward(args["x"], args["weight"], args["bias"])
        else:
            linear_backward(args["grad_output"], args["x"], args["weight"], args["bias"])


@pytest.mark.parametrize("value, error, match", [
    (torch.ones(4, 3, dtype=torch.float64), ValueError,
     r"grad_output must have the forward output's shape \(4, 2\).*got shape \(4, 3\)"),
    (torch.ones(2, dtype=torch.float64), ValueError,
     r"grad_output must have .*\(4, 2\).*got shape \(2,\)"),
    (torch.ones(4, 2, dtype=torch.int64), TypeError,
     r"grad_output must be a floating-point tensor.*torch\.int64"),
    (torch.ones(4, 2, dtype=torch.float32), TypeError,
     r"grad_output has dtype torch\.float32 but x has dtype torch\.float64"),
    (None, TypeError, r"grad_output must be a torch\.Tensor, got None"),
])
def test_linear_backward_rejects_bad_grad_output(value, error, match):
    args = _good()
    with pytest.raises(error, match=match):
        linear_backward(value, args["x"], args["weight"], args["bias"])
