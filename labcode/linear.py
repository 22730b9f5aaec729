r"""One linear layer: its forward pass and its hand-derived backward pass.

Forward, in PyTorch's convention (``weight`` is ``(out_features, in_features)``):
:math:`Y = X W^\top + b`. Backward, given :math:`G = \partial L / \partial Y`
(``grad_output``), by the chain rule:

.. math::

    \frac{\partial L}{\partial X} = G\,W, \qquad
    \frac{\partial L}{\partial W} = G^\top X, \qquad
    \frac{\partial L}{\partial b} = \textstyle\sum_{n} G_{n,:}

``x`` may have leading batch dimensions, ``(..., in_features)``: the weight and bias
gradients then sum over *every* batch position, because the same ``W`` and ``b`` were
used at each one. Both functions are plain tensor operations; no autograd is used.
Their arguments are checked by :func:`labcode._validate.linear_args`, out of the math.
"""
from __future__ import annotations

import torch

from ._validate import linear_args


@linear_args
def linear_forward(x: torch.Tensor, weight: torch.Tensor,
                   bias: torch.Tensor | None = None) -> torch.Tensor:
    r"""Apply a linear layer: :math:`Y = X W^\top + b`, equal to ``F.linear``.

    Shapes: ``x`` ``(..., D_in)``, ``weight`` ``(D_out, D_in)``, ``bias`` ``(D_out,)``
    or ``None``; returns ``y`` ``(..., D_out)``.

    Example:
        >>> linear_forward(torch.ones(4, 3), torch.ones(2, 3), torch.zeros(2)).shape
        torch.Size([4, 2])
    """
    y = x @ weight.T  # (..., D_out)
    return y if bias is None else y + bias  # the bias is added to every row


@linear_args
def linear_backward(grad_output, x, weight, bias=None, *, needs=(True, True, True)):
    r"""Backward of :math:`Y = X W^\top + b`: with :math:`G = \partial L/\partial Y`,
    :math:`\partial L/\partial X = G W`, :math:`\partial L/\partial W = G^\top X`,
    :math:`\partial L/\partial b = \sum_n G_n` (over every batch position).

    Shapes: ``grad_output`` ``(..., D_out)``, ``x`` ``(..., D_in)``, ``weight``
    ``(D_out, D_in)``, ``bias`` ``(D_out,)`` or ``None``. Returns ``(grad_input,
    grad_weight, grad_bias)`` with the shapes of ``x``, ``weight``, ``bias``;
    ``needs`` (autograd's ``ctx.needs_input_grad``) skips a gradient nobody needs.

    Example:
        >>> gx, gw, gb = linear_backward(torch.ones(4, 2), torch.ones(4, 3), torch.ones(2, 3), torch.zeros(2))
        >>> gx.shape, gw.shape, gb.shape
        (torch.Size([4, 3]), torch.Size([2, 3]), torch.Size([2]))
    """
    G = grad_output.reshape(-1, weight.shape[0])  # (M, D_out): one row per batch position
    X = x.reshape(-1, weight.shape[1])            # (M, D_in)
    grad_input = grad_output @ weight if needs[0] else None          # (..., D_in)
    grad_weight = G.T @ X if needs[1] else None                      # (D_out, D_in)
    grad_bias = G.sum(0) if bias is not None and needs[2] else None  # (D_out,)
    return grad_input, grad_weight, grad_bias
