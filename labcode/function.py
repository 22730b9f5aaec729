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
        grad_input, grad_weight, grad_bias = linear_backward(grad_output, x, weight, bias)
        # Autograd expects one gradient per forward input; skip the ones nobody needs.
        needs = ctx.needs_input_grad
        grads = (grad_input if needs[0] else None, grad_weight if needs[1] else None)
        if len(needs) > 2:
            grads += (grad_bias if needs[2] else None,)
        return grads
