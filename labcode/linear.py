r"""One linear layer: its forward pass and its hand-derived backward pass.

Forward, in PyTorch's convention (``weight`` is ``(out_features, in_features)``):

.. math::

    Y = X W^\top + b

Backward, given :math:`G = \partial L / \partial Y` (``grad_output``), by the chain rule:

.. math::

    \frac{\partial L}{\partial X} = G\,W, \qquad
    \frac{\partial L}{\partial W} = G^\top X, \qquad
    \frac{\partial L}{\partial b} = \textstyle\sum_{n} G_{n,:}

Leading batch dimensions are allowed: ``x`` may be ``(..., in_features)``. The weight
and bias gradients then sum over *every* batch position, because the same ``W`` and
``b`` were used at each one.

Both functions are plain tensor operations: no autograd is used to compute a gradient.
"""
from __future__ import annotations

import torch

from . import _validate


def _check_linear(x: object, weight: object, bias: object) -> None:
    x = _validate.float_tensor("x", x)
    weight = _validate.float_tensor("weight", weight)
    if weight.dim() != 2:
        raise ValueError(
            "weight must be 2-D with shape (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if x.dim() == 0:
        raise ValueError("x must have shape (..., in_features), got a 0-d tensor")
    _validate.same_dtype_and_device("weight", weight, "x", x)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x has {x.shape[-1]} features in its last dimension (shape {tuple(x.shape)}) "
            f"but weight expects in_features={weight.shape[1]} (weight shape "
            f"{tuple(weight.shape)} is (out_features, in_features))"
        )
    if bias is not None:
        bias = _validate.float_tensor("bias", bias)
        _validate.same_dtype_and_device("weight", weight, "bias", bias)
        if tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(
                f"bias must have shape (out_features,) = ({weight.shape[0]},), got shape "
                f"{tuple(bias.shape)}"
            )


def _check_needs(needs_input_grad: object) -> tuple[bool, bool, bool]:
    if (not isinstance(needs_input_grad, (tuple, list)) or len(needs_input_grad) != 3
            or not all(isinstance(flag, bool) for flag in needs_input_grad)):
        raise TypeError(
            "needs_input_grad must be three bools (grad_input, grad_weight, grad_bias), got "
            f"{type(needs_input_grad).__name__} {needs_input_grad!r}"
        )
    return tuple(needs_input_grad)


def linear_forward(x: torch.Tensor, weight: torch.Tensor,
                   bias: torch.Tensor | None = None) -> torch.Tensor:
    r"""Apply a linear layer: :math:`Y = X W^\top + b`.

    Args:
        x: input, shape ``(..., in_features)`` (``(N, D_in)`` for a batch).
        weight: shape ``(out_features, in_features)``, i.e. ``(D_out, D_in)``.
        bias: shape ``(out_features,)``, or ``None`` for no bias.

    Returns:
        ``y`` of shape ``(..., out_features)``; equal to ``torch.nn.functional.linear``.

    Example:
        >>> x, w, b = torch.ones(4, 3), torch.ones(2, 3), torch.zeros(2)
        >>> linear_forward(x, w, b).shape
        torch.Size([4, 2])
    """
    _check_linear(x, weight, bias)
    y = x @ weight.T  # (..., D_out)
    if bias is not None:
        y = y + bias  # broadcast over every leading batch dimension
    return y


def linear_backward(grad_output: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                    bias: torch.Tensor | None = None, *,
                    needs_input_grad: tuple[bool, bool, bool] = (True, True, True)
                    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    r"""The hand-derived backward pass of :func:`linear_forward`.

    With :math:`G = \partial L/\partial Y`:
    :math:`\partial L/\partial X = G W`, :math:`\partial L/\partial W = G^\top X`,
    :math:`\partial L/\partial b = \sum_n G_n` (summed over all batch positions).

    Args:
        grad_output: :math:`\partial L/\partial Y`, shape ``(..., out_features)``.
        x: the forward input, shape ``(..., in_features)``.
        weight: the forward weight, shape ``(out_features, in_features)``.
        bias: the forward bias (only its presence matters), or ``None``.
        needs_input_grad: which of ``(grad_input, grad_weight, grad_bias)`` to compute;
            a skipped one comes back as ``None``. ``LinearFunction`` passes autograd's
            flags, so a first layer (whose ``x`` needs no gradient) skips ``G W``.

    Returns:
        ``(grad_input, grad_weight, grad_bias)`` with the shapes of ``x``, ``weight``
        and ``bias``; ``grad_bias`` is ``None`` when ``bias`` is ``None``.

    Example:
        >>> x, w = torch.randn(4, 3), torch.randn(2, 3)
        >>> gx, gw, gb = linear_backward(torch.ones(4, 2), x, w, torch.zeros(2))
        >>> gx.shape, gw.shape, gb.shape
        (torch.Size([4, 3]), torch.Size([2, 3]), torch.Size([2]))
    """
    _check_linear(x, weight, bias)
    grad_output = _validate.float_tensor("grad_output", grad_output)
    _validate.same_dtype_and_device("x", x, "grad_output", grad_output)
    expected = (*x.shape[:-1], weight.shape[0])
    if tuple(grad_output.shape) != expected:
        raise ValueError(
            f"grad_output must have the forward output's shape {expected} "
            f"(x's batch shape, then out_features), got shape {tuple(grad_output.shape)}"
        )
    need_input, need_weight, need_bias = _check_needs(needs_input_grad)
    out_features, in_features = weight.shape
    grad_input = grad_output @ weight if need_input else None  # (..., D_in)
    # Flatten every batch position into one axis of M = prod(batch shape) rows.
    g = grad_output.reshape(-1, out_features)  # (M, D_out)
    x2 = x.reshape(-1, in_features)  # (M, D_in)
    # (D_out, D_in): the sum over rows of outer(g_m, x_m)
    grad_weight = g.T @ x2 if need_weight else None
    grad_bias = g.sum(dim=0) if need_bias and bias is not None else None  # (D_out,)
    return grad_input, grad_weight, grad_bias
