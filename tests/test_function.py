"""labcode.function: LinearFunction plugs the hand-written backward into autograd."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import labcode.function
from labcode import LinearFunction

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
    grad_output = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(2),
                              dtype=torch.float64)
    ours = torch.autograd.grad(LinearFunction.apply(x, w, b), (x, w, b), grad_output)
    theirs = torch.autograd.grad(torch.nn.functional.linear(x, w, b), (x, w, b), grad_output)
    for a, expected in zip(ours, theirs):
        torch.testing.assert_close(a, expected)


@pytest.mark.parametrize("layout", ["contiguous", "x_transposed", "weight_transposed", "both"])
def test_linear_function_sum_backward_matches_autograd_on_non_contiguous_inputs(monkeypatch,
                                                                                  layout):
    # y.sum().backward() hands the backward an expanded, stride-0 tensor of ones.
    seen = []
    original = labcode.function.linear_backward

    def spy(grad_output, *args, **kwargs):
        seen.append(grad_output.stride())
        return original(grad_output, *args, **kwargs)

    monkeypatch.setattr(labcode.function, "linear_backward", spy)
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
    assert seen == [(0, 0)]  # the grad_output really was the expanded one
    for a, expected in zip(ours, theirs):
        torch.testing.assert_close(a.grad, expected.grad)
    assert torch.autograd.gradcheck(LinearFunction.apply, tuple(ours))


def test_linear_function_backward_calls_linear_backward(monkeypatch):
    calls = []
    original = labcode.function.linear_backward

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(labcode.function, "linear_backward", spy)
    x, w, b = leaves((3,), 2, 4, bias=True)
    LinearFunction.apply(x, w, b).sum().backward()
    assert len(calls) == 1
    torch.testing.assert_close(w.grad, torch.ones(4, 1, dtype=torch.float64) * x.sum(0))


@pytest.mark.parametrize("needs", [
    (False, True, True), (True, True, True), (True, False, False), (False, False, True),
], ids=lambda needs: "x{:d}_w{:d}_b{:d}".format(*needs))
def test_linear_function_computes_only_the_gradients_autograd_needs(monkeypatch, needs):
    """A first layer's x needs no gradient: its G W matmul must not run at all."""
    passed = []
    original = labcode.function.linear_backward

    def spy(*args, **kwargs):
        passed.append(tuple(kwargs["needs"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(labcode.function, "linear_backward", spy)
    (n, d_in, d_out) = (5, 3, 4)
    x, w, b = (t.requires_grad_(need) for t, need in zip(leaves((n,), d_in, d_out, bias=True),
                                                         needs))
    out = LinearFunction.apply(x, w, b).sum()
    with FlopCounterMode(display=False) as flops:
        out.backward()
    assert passed == [needs]
    # Each of G W and G^T X is one (n x d_out) by (d_out x d_in)-shaped product.
    assert flops.get_total_flops() == (needs[0] + needs[1]) * 2 * n * d_in * d_out
    for t, need in zip((x, w, b), needs):
        assert (t.grad is not None) == need


@pytest.mark.parametrize("needs", [
    (True, False, False), (False, True, False), (False, False, True), (True, True, True),
])
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


def test_linear_function_rejects_bad_input_naming_it():
    x, w = leaves((5,), 3, 2, bias=False)
    with pytest.raises(ValueError, match=r"x has 3 features .*weight expects in_features=2"):
        LinearFunction.apply(x, w.detach()[:, :2])


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
    from labcode import linear_function
    from labcode.checks.mistakes import mistake, planted

    x, w, b = leaves((5,), 3, 2, bias=True)
    x3 = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    unsummed, first_row, mean = planted(mistake("bias_not_summed", "linear_backward"))
    keepdim, per_position = planted(mistake("wrong_shape", "linear_backward"))
    for wrong, inputs in [(unsummed, (x, w, b)), (keepdim, (x, w, b)), (per_position, (x3, w, b))]:
        assert torch.autograd.gradcheck(linear_function(wrong).apply, inputs)
    for wrong in (first_row, mean):  # the right shape, wrong values: gradcheck sees those
        assert not torch.autograd.gradcheck(linear_function(wrong).apply, (x, w, b),
                                            raise_exception=False)
    assert torch.autograd.gradcheck(linear_function(labcode.linear_backward).apply, (x3, w, b))


def test_linear_function_of_a_students_backward_is_named_linearfunction():
    F = labcode.function.linear_function(labcode.linear_backward)
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    y = F.apply(x, torch.randn(4, 2, dtype=torch.float64))
    assert F.__name__ == "LinearFunction" and type(y.grad_fn).__name__ == "LinearFunctionBackward"
