"""``LinearFunction``: the hand-written linear layer plugged into autograd.

A thin adapter in the ``forward`` / ``setup_context`` / ``backward`` form of the
"Extending PyTorch" guide: ``forward`` calls :func:`~labcode.linear.linear_forward`,
``backward`` calls :func:`~labcode.linear.linear_backward`. Autograd then uses *our*
gradient wherever the function appears, and ``torch.autograd.gradcheck`` can compare
it with finite differences.
"""
from __future__ import annotations

from typing import Any

import torch

from .linear import linear_backward, linear_forward


class LinearFunction(torch.autograd.Function):
    r"""Autograd function for :math:`Y = X W^\top + b` with a hand-written backward.

    Call it as ``LinearFunction.apply(x, weight, bias)`` (``bias`` may be omitted
    or ``None``). Shapes are those of :func:`~labcode.linear.linear_forward`.

    Example:
        >>> x = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
        >>> w = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
        >>> torch.autograd.gradcheck(LinearFunction.apply, (x, w))
        True
    """

    @staticmethod
    def forward(x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        return linear_forward(x, weight, bias)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        x, weight, *rest = inputs
        bias = rest[0] if rest else None
        ctx.save_for_backward(x, weight, bias)  # None is allowed and comes back as None

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor):
        x, weight, bias = ctx.saved_tensors
        # One flag per forward input: x, weight, and bias if it was passed. Compute only
        # the gradients autograd asks for (a first layer's x needs none: G W is skipped).
        needs = ctx.needs_input_grad
        grads = linear_backward(grad_output, x, weight, bias,
                                needs_input_grad=(needs[0], needs[1], len(needs) > 2 and needs[2]))
        return grads[:len(needs)]  # autograd wants one gradient per forward input
