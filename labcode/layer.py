"""``ManualLinear``: ``nn.Linear`` with the hand-written backward."""
from __future__ import annotations

import torch
from torch import nn

from .function import LinearFunction


class ManualLinear(nn.Linear):
    r"""A drop-in for :class:`torch.nn.Linear` whose gradient is our own.

    :math:`y = x W^\top + b`, computed by :class:`~labcode.function.LinearFunction`,
    so ``loss.backward()`` runs :func:`~labcode.linear.linear_backward` for this layer.

    It *is* an ``nn.Linear`` (a subclass), so it has the same parameter names
    (``weight``, ``bias``), the same shapes (``weight`` is ``(out_features,
    in_features)``) and the same default initialization: under the same seed the two
    layers start with identical numbers. Only ``forward`` differs.

    Args:
        in_features: size of each input sample, ``D_in``.
        out_features: size of each output sample, ``D_out``.
        bias: if ``False``, the layer has no bias.

    Shape:
        input ``(..., D_in)`` -> output ``(..., D_out)``.

    Example:
        >>> layer = ManualLinear(3, 2)
        >>> layer(torch.randn(4, 3)).shape
        torch.Size([4, 2])
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return LinearFunction.apply(input, self.weight, self.bias)
