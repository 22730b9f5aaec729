"""labcode.linear: one linear layer's forward, hand-derived backward, Function and Module.

The backward is checked twice, on random non-zero float64 tensors of many non-square
shapes (batch of one, a single 1-D sample, 3-D batches): against autograd through
``torch.nn.functional.linear`` and against central finite differences computed here.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import labcode
from labcode import (
    LinearFunction,
    ManualLinear,
    linear_backward,
    linear_forward,
    linear_function,
    seeded,
)

# Derandomized and without an example database: the same cases on every run and machine.
SWEEP = settings(max_examples=100, deadline=None, derandomize=True, database=None)

batch_shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
features = st.integers(1, 7)
#: (in_features, out_features) with in != out: a square weight could hide a missing transpose.
non_square = features.flatmap(
    lambda d_in: st.tuples(st.just(d_in), st.sampled_from([d for d in range(1, 8) if d != d_in]))
)
seeds = st.integers(0, 2**31 - 1)


def random_layer(batch_shape, in_features, out_features, bias, seed, dtype=torch.float64):
    """Random non-zero x, weight, bias, grad_output (|value| >= 0.1, random signs)."""
    g = torch.Generator().manual_seed(seed)

    def draw(*shape):
        magnitude = 0.1 + torch.rand(shape, generator=g, dtype=dtype)
        sign = torch.randint(0, 2, shape, generator=g).to(dtype) * 2 - 1
        return magnitude * sign

    return (
        draw(*batch_shape, in_features),
        draw(out_features, in_features),
        draw(out_features) if bias else None,
        draw(*batch_shape, out_features),
    )


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
@given(
    batch_shape=batch_shapes,
    in_features=features,
    out_features=features,
    bias=st.booleans(),
    seed=seeds,
)
@example(batch_shape=(), in_features=3, out_features=5, bias=True, seed=0)
@example(batch_shape=(1,), in_features=7, out_features=2, bias=False, seed=1)
@example(batch_shape=(2, 3), in_features=4, out_features=6, bias=True, seed=2)
def test_linear_forward_matches_functional_linear(
    batch_shape, in_features, out_features, bias, seed
):
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


NONCONTIGUOUS = [
    "x_transposed",
    "weight_transposed",
    "x_sliced",
    "x_permuted_3d",
    "grad_output_expanded",
    "grad_output_ones",
]


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
        lambda x, weight, b, grad_output: linear_backward(grad_output, x, weight, b), inputs
    )


def test_linear_backward_works_in_float32():
    x, weight, b, grad_output = random_layer((8,), 5, 3, True, seed=5, dtype=torch.float32)
    ours = linear_backward(grad_output, x, weight, b)
    for a, expected in zip(ours, autograd_gradients(grad_output, x, weight, b)):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, expected)


# ---- bad input: torch's own error names both shapes (no checks in the math) -----------


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda x, w, b, g: linear_forward(x[:, :2], w, b),
            r"shapes cannot be multiplied \(4x2 and 3x2\)",
        ),
        (lambda x, w, b, g: linear_forward(x.float(), w, b), r"same dtype"),
        (
            lambda x, w, b, g: linear_forward(x, w, b[:1].expand(3)),
            r"size of tensor a \(2\).*b \(3\)",
        ),
        (
            lambda x, w, b, g: linear_backward(g[:, :1], x, w, b),
            r"shapes cannot be multiplied \(4x1 and 2x3\)",
        ),
        (
            lambda x, w, b, g: ManualLinear(3, 2)(x[:, :2].float()),
            r"shapes cannot be multiplied \(4x2 and 3x2\)",
        ),
    ],
    ids=["forward_x_width", "forward_dtype", "forward_bias", "backward_grad_output", "layer_width"],
)
def test_a_shape_or_dtype_that_does_not_fit_gets_torchs_error_naming_it(call, match):
    x, weight, b, grad_output = random_layer((4,), 3, 2, True, seed=6)
    with pytest.raises(RuntimeError, match=match):
        call(x, weight, b, grad_output)


# ---- LinearFunction: the backward plugged into autograd ---------------------------------

SHAPES = [  # (batch shape, in_features, out_features): non-square, batch of one, 1-D, 3-D
    ((5,), 3, 2),
    ((1,), 4, 7),
    ((), 6, 1),
    ((2, 3), 5, 4),
]


def leaves(batch_shape, in_features, out_features, bias, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch_shape, in_features, generator=g, dtype=torch.float64)
    w = torch.randn(out_features, in_features, generator=g, dtype=torch.float64)
    b = torch.randn(out_features, generator=g, dtype=torch.float64) if bias else None
    return [t.requires_grad_(True) for t in (x, w, b) if t is not None]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_linear_function_passes_gradcheck(shape, bias):
    inputs = tuple(leaves(*shape, bias))
    assert torch.autograd.gradcheck(LinearFunction.apply, inputs)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_linear_function_passes_gradgradcheck(shape, bias):
    inputs = tuple(leaves(*shape, bias))
    assert torch.autograd.gradgradcheck(LinearFunction.apply, inputs)


def test_linear_function_accepts_explicit_none_bias():
    x, w = leaves((4,), 3, 2, bias=False)
    assert torch.autograd.gradcheck(lambda x, w: LinearFunction.apply(x, w, None), (x, w))


def test_linear_function_gradients_match_functional_linear():
    x, w, b = leaves((2, 3), 5, 4, bias=True, seed=1)
    grad_output = torch.randn(
        2, 3, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    ours = torch.autograd.grad(LinearFunction.apply(x, w, b), (x, w, b), grad_output)
    theirs = torch.autograd.grad(torch.nn.functional.linear(x, w, b), (x, w, b), grad_output)
    for a, expected in zip(ours, theirs):
        torch.testing.assert_close(a, expected)


@pytest.mark.parametrize("layout", ["contiguous", "x_transposed", "weight_transposed", "both"])
def test_linear_function_sum_backward_matches_autograd_on_non_contiguous_inputs(layout):
    # y.sum().backward() hands the backward an expanded, stride-0 tensor of ones.
    x, w, b = (t.detach() for t in leaves((6,), 4, 3, bias=True, seed=2))
    if layout in ("x_transposed", "both"):
        x = x.T.contiguous().T  # (N, D_in) values, column-major
    if layout in ("weight_transposed", "both"):
        w = w.T.contiguous().T  # like passing w.T of a (D_in, D_out) tensor
    ours = [t.clone().requires_grad_() for t in (x, w, b)]
    theirs = [t.clone().requires_grad_() for t in (x, w, b)]
    assert [t.stride() for t in ours] == [t.stride() for t in (x, w, b)]  # layout kept
    LinearFunction.apply(*ours).sum().backward()
    torch.nn.functional.linear(*theirs).sum().backward()
    for a, expected in zip(ours, theirs):
        torch.testing.assert_close(a.grad, expected.grad)
    assert torch.autograd.gradcheck(LinearFunction.apply, tuple(ours))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_function_backward_equals_linear_backward_bit_for_bit(bias):
    x, w, *b = leaves((2, 3), 4, 5, bias=bias, seed=3)
    grad_output = torch.randn(
        2, 3, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    ours = torch.autograd.grad(LinearFunction.apply(x, w, *b), (x, w, *b), grad_output)
    hand = linear_backward(grad_output, x.detach(), w.detach(), *b)
    assert len(ours) == 2 + bias
    for a, expected in zip(ours, hand):
        assert torch.equal(a, expected)


@pytest.mark.parametrize(
    "needs",
    [(False, True, True), (True, True, True), (True, False, False), (False, False, True)],
    ids=lambda needs: "x{:d}_w{:d}_b{:d}".format(*needs),
)
def test_linear_function_computes_only_the_gradients_autograd_needs(needs):
    """A first layer's x needs no gradient: its G W matmul must not run at all."""
    (n, d_in, d_out) = (5, 3, 4)
    x, w, b = (
        t.requires_grad_(need) for t, need in zip(leaves((n,), d_in, d_out, bias=True), needs)
    )
    out = LinearFunction.apply(x, w, b).sum()
    with FlopCounterMode(display=False) as flops:
        out.backward()
    # Each of G W and G^T X is one (n x d_out) by (d_out x d_in)-shaped product.
    assert flops.get_total_flops() == (needs[0] + needs[1]) * 2 * n * d_in * d_out
    for t, need in zip((x, w, b), needs):
        assert (t.grad is not None) == need


@pytest.mark.parametrize(
    "needs", [(True, False, False), (False, True, False), (False, False, True), (True, True, True)]
)
def test_linear_function_backward_returns_none_for_inputs_without_grad(needs):
    x, w, b = (t.detach() for t in leaves((5,), 3, 2, bias=True))
    grad_output = torch.ones(5, 2, dtype=torch.float64)
    ctx = SimpleNamespace(saved_tensors=(x, w, b), needs_input_grad=needs)
    grads = LinearFunction.backward(ctx, grad_output)
    expected = (grad_output @ w, grad_output.T @ x, grad_output.sum(0))
    assert len(grads) == 3
    for got, wanted, needed in zip(grads, expected, needs):
        if needed:
            torch.testing.assert_close(got, wanted)
        else:
            assert got is None


def test_linear_function_backward_without_bias_returns_none_for_it():
    # apply(x, w) has two inputs; autograd accepts a trailing None for the missing bias
    x, w = (t.detach() for t in leaves((5,), 3, 2, bias=False))
    ctx = SimpleNamespace(saved_tensors=(x, w, None), needs_input_grad=(False, True))
    grads = LinearFunction.backward(ctx, torch.ones(5, 2, dtype=torch.float64))
    assert len(grads) == 3 and grads[0] is None and grads[2] is None
    torch.testing.assert_close(grads[1], torch.ones(2, 5, dtype=torch.float64) @ x)


def test_linear_function_leaves_grad_of_frozen_inputs_none():
    x, w, b = leaves((5,), 3, 2, bias=True)
    w.requires_grad_(False)
    LinearFunction.apply(x, w, b).sum().backward()
    assert w.grad is None
    torch.testing.assert_close(x.grad, torch.ones(5, 2, dtype=torch.float64) @ w)
    torch.testing.assert_close(b.grad, torch.full((2,), 5.0, dtype=torch.float64))


def test_torch_func_vmap_and_grad_work_through_linear_function():
    """generate_vmap_rule: per-sample gradients with torch.func, through our backward."""
    x, w, b = (t.detach() for t in leaves((7, 5), 3, 4, bias=True))  # 7 samples of (5, 3)
    per_sample = torch.func.vmap(LinearFunction.apply, in_dims=(0, None, None))(x, w, b)
    torch.testing.assert_close(per_sample, x @ w.T + b)

    def loss(w_, x_):
        return (LinearFunction.apply(x_, w_, b) ** 2).sum()

    grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(w, x)  # (7, 4, 3)
    for i in range(len(x)):
        w_i = w.clone().requires_grad_()
        (torch.nn.functional.linear(x[i], w_i, b) ** 2).sum().backward()
        torch.testing.assert_close(grads[i], w_i.grad)


def test_gradcheck_cannot_see_a_gradient_with_extra_batch_dimensions():
    """Autograd sums a returned gradient down to its input's shape (sum_to_size), so a bias
    gradient left unsummed, or kept (1, D_out), or a weight gradient per batch position,
    passes gradcheck; the lesson says so, and the starter asserts the shapes."""
    from labcode.checks.mistakes import mistake, planted

    x, w, b = leaves((5,), 3, 2, bias=True)
    x3 = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    unsummed, first_row, mean = planted(mistake("bias_not_summed", "linear_backward"))
    keepdim, per_position = planted(mistake("wrong_shape", "linear_backward"))
    for wrong, inputs in [(unsummed, (x, w, b)), (keepdim, (x, w, b)), (per_position, (x3, w, b))]:
        assert torch.autograd.gradcheck(linear_function(wrong).apply, inputs)
    for wrong in (first_row, mean):  # the right shape, wrong values: gradcheck sees those
        assert not torch.autograd.gradcheck(
            linear_function(wrong).apply, (x, w, b), raise_exception=False
        )
    assert torch.autograd.gradcheck(linear_function(labcode.linear_backward).apply, (x3, w, b))


def test_linear_function_of_a_students_backward_subclasses_linear_function():
    calls = []

    def students(grad_output, x, weight, bias):
        calls.append(bias)
        return linear_backward(grad_output, x, weight, bias)

    F = linear_function(students)
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 2, dtype=torch.float64)
    y = F.apply(x, w)
    assert issubclass(F, LinearFunction) and F.forward is LinearFunction.forward
    assert type(y.grad_fn).__name__ == "StudentLinearFunctionBackward"
    y.sum().backward()
    assert calls == [None]  # the student's backward ran, told there is no bias
    torch.testing.assert_close(x.grad, torch.ones(3, 4, dtype=torch.float64) @ w)


# ---- ManualLinear: a drop-in for nn.Linear with our backward ---------------------------


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


def test_manual_linear_backward_is_the_hand_written_one():
    layer, _ = twin_layers(3, 2, seed=4)
    out = layer(randn(4, 3, seed=5))
    assert type(out.grad_fn).__name__ == "LinearFunctionBackward"


def test_manual_linear_without_bias_computes_x_times_weight_transposed():
    layer, _ = twin_layers(3, 2, bias=False, seed=6, dtype=torch.float64)
    x = randn(4, 3, seed=7, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x @ layer.weight.T)
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
