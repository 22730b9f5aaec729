r"""One linear layer, in the order of PyTorch's "Extending PyTorch" tutorial.

:func:`linear_forward` computes :math:`Y = X W^\top + b` in PyTorch's convention (``weight``
is ``(out_features, in_features)``); :func:`linear_backward` is its hand-derived backward;
:class:`LinearFunction` plugs the two into autograd, so that ``gradcheck`` can compare them
with finite differences; :class:`ManualLinear` is an ``nn.Linear`` whose gradient is ours.

``x`` may have leading batch dimensions, ``(..., in_features)``: the weight and bias
gradients then sum over *every* batch position, because the same ``W`` and ``b`` were used
at each one. These are plain tensor operations with no argument checks: a shape that does
not fit gets torch's own error (``mat1 and mat2 shapes cannot be multiplied (4x3 and 2x2)``).
``LinearFunction``'s methods are autograd's protocol, written as in the tutorial (no hints).
"""

from collections.abc import Callable

import torch
from torch import Tensor, nn


def linear_forward(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""A linear layer, :math:`Y = X W^\top + b`, equal to ``torch.nn.functional.linear``.

    Shapes: ``x`` ``(..., D_in)``, ``weight`` ``(D_out, D_in)``, ``bias`` ``(D_out,)``
    or ``None``; returns ``(..., D_out)``.
    """
    y = x @ weight.T  # (..., D_out)
    if bias is not None:
        y = y + bias  # the same bias is added to every row
    return y


def linear_backward(
    grad_output: Tensor, x: Tensor, weight: Tensor, bias: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor | None]:
    r"""The backward of :math:`Y = X W^\top + b`: with :math:`G = \partial L/\partial Y`,
    :math:`\partial L/\partial X = G W`, :math:`\partial L/\partial W = G^\top X` and
    :math:`\partial L/\partial b = \sum_n G_n`, summed over every batch position.

    Shapes: ``grad_output`` ``(..., D_out)``, ``x`` ``(..., D_in)``, ``weight``
    ``(D_out, D_in)``, ``bias`` ``(D_out,)`` or ``None``. Returns ``(grad_input,
    grad_weight, grad_bias)`` shaped like ``x``, ``weight``, ``bias`` (``None`` without one).
    """
    G = grad_output.reshape(-1, weight.shape[0])  # (M, D_out): one row per batch position
    X = x.reshape(-1, weight.shape[1])  # (M, D_in)
    grad_input = grad_output @ weight  # (..., D_in)
    grad_weight = G.T @ X  # (D_out, D_in)
    grad_bias = None if bias is None else G.sum(0)  # (D_out,)
    return grad_input, grad_weight, grad_bias


class LinearFunction(torch.autograd.Function):
    r""":math:`Y = X W^\top + b` with our backward: ``LinearFunction.apply(x, weight, bias)``."""

    generate_vmap_rule = True  # forward and backward are plain torch operations

    @staticmethod
    def forward(x, weight, bias=None):
        return linear_forward(x, weight, bias)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        G = grad_output.reshape(-1, weight.shape[0])  # (M, D_out)
        grad_input = grad_weight = grad_bias = None  # each only if autograd asks for it
        if ctx.needs_input_grad[0]:
            grad_input = grad_output @ weight  # (..., D_in)
        if ctx.needs_input_grad[1]:
            grad_weight = G.T @ x.reshape(-1, weight.shape[1])  # (D_out, D_in)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = G.sum(0)  # (D_out,)
        return grad_input, grad_weight, grad_bias


class ManualLinear(nn.Linear):
    r"""A drop-in for :class:`torch.nn.Linear` whose gradient is our own.

    :math:`y = x W^\top + b`, computed by :class:`LinearFunction`, so ``loss.backward()``
    runs our backward for this layer. It *is* an ``nn.Linear`` (a subclass): the same
    parameter names, shapes (``weight`` is ``(out_features, in_features)``) and default
    initialization, so under one seed the two layers start with identical numbers.

    Args:
        in_features: ``D_in``; out_features: ``D_out``; bias: ``False`` for no bias.

    Shape:
        input ``(..., D_in)`` -> output ``(..., D_out)``.

    Example:
        >>> ManualLinear(3, 2)(torch.randn(4, 3)).shape
        torch.Size([4, 2])
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return LinearFunction.apply(input, self.weight, self.bias)


def linear_function(backward: Callable) -> type[LinearFunction]:
    """:class:`LinearFunction` with another ``backward(grad_output, x, weight, bias)`` (a
    student's), so that ``gradcheck(linear_function(backward).apply, inputs)`` checks it.

    Example:
        >>> x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
        >>> w = torch.randn(2, 3, dtype=torch.double)
        >>> torch.autograd.gradcheck(linear_function(linear_backward).apply, (x, w))
        True
    """

    class StudentLinearFunction(LinearFunction):
        @staticmethod
        def backward(ctx, grad_output):
            return tuple(backward(grad_output, *ctx.saved_tensors))

    return StudentLinearFunction
