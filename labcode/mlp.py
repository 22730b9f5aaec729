r"""The multilayer perceptron, and what it collapses to without a nonlinearity.

An MLP with hidden widths :math:`H_1, \dots, H_k` computes, for an input row :math:`x`,

.. math::

    h_0 = x, \qquad h_\ell = \sigma(h_{\ell-1} W_\ell^\top + b_\ell) \ (\ell \le k), \qquad
    \text{logits} = h_k W_{k+1}^\top + b_{k+1}

where :math:`\sigma` is the activation. With no activation every layer is affine, and a
composition of affine maps is one affine map: :func:`collapse` computes it.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import _validate
from .layer import ManualLinear

#: Activation names accepted by :class:`MLP`; ``None`` means no nonlinearity.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    r"""A multilayer perceptron that returns logits.

    ``Linear -> activation -> ... -> Linear``: one linear layer per width in
    ``hidden_features``, each followed by the activation, then an output layer with
    no activation (the loss applies softmax).

    Args:
        in_features: input size ``D_in``.
        hidden_features: widths of the hidden layers, e.g. ``[32, 32]``; ``[]`` gives
            a single linear layer (logistic regression).
        out_features: number of outputs (classes) ``C``.
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``None`` (no
            nonlinearity: the switch that Part B's probe flips).
        manual: build the network from :class:`~labcode.layer.ManualLinear`, so its
            gradients come from our hand-written backward. Under the same seed the two
            versions have identical parameters.

    Shape:
        input ``(N, D_in)`` -> logits ``(N, C)``.

    Example:
        >>> model = MLP(2, [32, 32], 2)
        >>> model(torch.randn(5, 2)).shape
        torch.Size([5, 2])
    """

    def __init__(self, in_features: int, hidden_features: Sequence[int], out_features: int,
                 activation: str | None = "relu", manual: bool = False) -> None:
        super().__init__()
        in_features = _validate.positive_int("in_features", in_features)
        out_features = _validate.positive_int("out_features", out_features)
        if isinstance(hidden_features, (str, bytes)) or not isinstance(hidden_features, Sequence):
            raise TypeError(
                "hidden_features must be a sequence of positive ints such as [32, 32], got "
                f"{type(hidden_features).__name__} {hidden_features!r}"
            )
        hidden = [_validate.positive_int(f"hidden_features[{i}]", width)
                  for i, width in enumerate(hidden_features)]
        if activation is not None and not isinstance(activation, str):
            raise TypeError(
                f"activation must be one of {sorted(ACTIVATIONS)} or None, got "
                f"{type(activation).__name__} {activation!r}"
            )
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} or None, got {activation!r}"
            )
        if not isinstance(manual, bool):
            raise TypeError(f"manual must be True or False, got {type(manual).__name__} {manual!r}")

        self.in_features, self.out_features = in_features, out_features
        self.hidden_features = tuple(hidden)
        self.activation, self.manual = activation, manual

        linear = ManualLinear if manual else nn.Linear
        widths = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for i in range(len(widths) - 1):
            layers.append(linear(widths[i], widths[i + 1]))
            is_hidden = i < len(widths) - 2
            if is_hidden and activation is not None:
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)

    def linear_layers(self) -> list[nn.Linear]:
        """The network's linear layers, input to output."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _validate.float_tensor("x", x)
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"x must have shape (N, in_features) = (N, {self.in_features}), got shape "
                f"{tuple(x.shape)}"
            )
        # Checked here, so a float64 x into a float32 model names x, not torch's mat1/mat2.
        _validate.same_dtype_and_device("the model", self.layers[0].weight, "x", x)
        return self.layers(x)  # (N, C)

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}, manual={self.manual}"


def collapse(mlp: MLP) -> nn.Linear:
    r"""The single linear layer that a linear-only MLP equals.

    For layers :math:`(W_1, b_1), \dots, (W_L, b_L)` with no activation between them,

    .. math::

        W = W_L \cdots W_2 W_1, \qquad
        b = W_L(\cdots(W_2 b_1 + b_2)\cdots) + b_L

    so ``collapse(mlp)(x)`` equals ``mlp(x)`` for every ``x`` (up to rounding).

    Args:
        mlp: an :class:`MLP` built with ``activation=None``.

    Returns:
        an ``nn.Linear(D_in, C)`` on the MLP's device and dtype, detached from it.

    Example:
        >>> mlp = MLP(2, [8, 8], 3, activation=None)
        >>> x = torch.randn(4, 2)
        >>> torch.allclose(collapse(mlp)(x), mlp(x), atol=1e-6)
        True
    """
    if not isinstance(mlp, MLP):
        raise TypeError(f"mlp must be a labcode.MLP, got {type(mlp).__name__}")
    if mlp.activation is not None:
        raise ValueError(
            f"collapse needs an MLP built with activation=None, got activation="
            f"{mlp.activation!r}: with a nonlinearity between the layers the network is not "
            "one linear map"
        )
    layers = mlp.linear_layers()
    first = layers[0].weight
    with torch.no_grad():
        weight = torch.eye(mlp.in_features, dtype=first.dtype, device=first.device)  # (D_in, D_in)
        bias = torch.zeros(mlp.in_features, dtype=first.dtype, device=first.device)  # (D_in,)
        for layer in layers:
            weight = layer.weight @ weight  # (D_out_l, D_in)
            bias = layer.weight @ bias
            if layer.bias is not None:
                bias = bias + layer.bias
        # skip_init: no random draw, so the caller's random stream is untouched.
        single = nn.utils.skip_init(nn.Linear, mlp.in_features, mlp.out_features,
                                    dtype=first.dtype, device=first.device)
        single.weight.copy_(weight)
        single.bias.copy_(bias)
    return single
