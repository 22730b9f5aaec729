"""``LinearFunction``: the hand-written linear layer plugged into autograd.

The ``forward`` / ``setup_context`` / ``backward`` form of PyTorch's "Extending PyTorch"
guide, as a thin adapter: autograd then uses *our*
:func:`~labcode.linear.linear_backward` wherever the function appears,
``torch.autograd.gradcheck`` can compare it with finite differences, and (with
``generate_vmap_rule``) ``torch.func.vmap`` and ``torch.func.grad`` work through it.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from .linear import linear_backward, linear_forward


class LinearFunction(torch.autograd.Function):
    r""":math:`Y = X W^\top + b` with our backward: ``LinearFunction.apply(x, weight, bias)``.

    ``bias`` may be left out or ``None``; shapes as in :func:`~labcode.linear.linear_forward`.

    Example:
        >>> x = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
        >>> w = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
        >>> torch.autograd.gradcheck(LinearFunction.apply, (x, w))
        True
    """

    generate_vmap_rule = True  # forward and backward are plain torch operations

    @staticmethod
    def forward(x, weight, bias=None):
        return linear_forward(x, weight, bias)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias = (*inputs, None)[:3]  # bias may be left out
        ctx.save_for_backward(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        # Only the gradients autograd asks for: a first layer's x needs none, so G W is skipped.
        return linear_backward(grad_output, *ctx.saved_tensors, needs=ctx.needs_input_grad)


def linear_function(backward: Callable) -> type[torch.autograd.Function]:
    """:class:`LinearFunction` with another backward, ``backward(grad_output, x, weight, bias)``
    (a student's, say), so that ``gradcheck`` can check it: ``gradcheck(F.apply, inputs)``.

    Example:
        >>> F = linear_function(linear_backward)
        >>> x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
        >>> torch.autograd.gradcheck(F.apply, (x, torch.randn(2, 3, dtype=torch.double)))
        True
    """
    def with_it(ctx, grad_output):
        return tuple(backward(grad_output, *ctx.saved_tensors))
    return type("LinearFunction", (LinearFunction,), {"backward": staticmethod(with_it)})
