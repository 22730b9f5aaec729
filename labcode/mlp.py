r"""The multilayer perceptron, and what it collapses to without a nonlinearity.

An MLP with hidden widths :math:`H_1, \dots, H_k` computes, for an input row :math:`x`,

.. math::

    h_0 = x, \qquad h_\ell = \sigma(h_{\ell-1} W_\ell^\top + b_\ell) \ (\ell \le k), \qquad
    \text{logits} = h_k W_{k+1}^\top + b_{k+1}

where :math:`\sigma` is the activation. With no activation every layer is affine, and a
composition of affine maps is one affine map: :func:`collapse` computes it.
"""

from collections.abc import Sequence

import torch
from torch import nn

from . import _validate
from .linear import ManualLinear

#: Activation names accepted by :class:`MLP`; ``None`` means no nonlinearity.
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class MLP(nn.Module):
    r"""A multilayer perceptron that returns logits: ``Linear -> activation -> ... -> Linear``.

    One linear layer per width in ``hidden_features``, each followed by the activation,
    then an output layer with no activation (the loss applies softmax).

    Args:
        in_features: input size ``D_in``.
        hidden_features: widths of the hidden layers, e.g. ``[32, 32]``; ``[]`` gives
            a single linear layer (logistic regression).
        out_features: number of outputs (classes) ``C``.
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``None`` (no
            nonlinearity: the switch that Part B's probe flips).
        manual: build it from :class:`~labcode.linear.ManualLinear`, whose gradients come
            from our hand-written backward. Under one seed both versions start equal.

    Shape:
        input ``(N, D_in)`` -> logits ``(N, C)`` (more leading dimensions work, as for
        ``nn.Linear``).

    Example:
        >>> MLP(2, [32, 32], 2)(torch.randn(5, 2)).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: Sequence[int],
        out_features: int,
        activation: str | None = "relu",
        manual: bool = False,
    ) -> None:
        super().__init__()
        widths = [
            _validate.positive_int("in_features", in_features),
            *_validate.positive_ints("hidden_features", hidden_features, "[32, 32]"),
            _validate.positive_int("out_features", out_features),
        ]
        named = isinstance(activation, str)
        if activation is not None and not (named and activation in ACTIVATIONS):
            error = ValueError if named else TypeError  # a wrong name; not a name at all
            raise error(
                f"activation must be one of {sorted(ACTIVATIONS)} or None, got "
                f"{_validate.describe(activation)}"
            )
        if not isinstance(manual, bool):
            raise TypeError(f"manual must be True or False, got {_validate.describe(manual)}")
        self.in_features, *hidden, self.out_features = widths
        self.hidden_features, self.activation, self.manual = tuple(hidden), activation, manual

        linear = ManualLinear if manual else nn.Linear
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(zip(widths, widths[1:])):
            layers.append(linear(d_in, d_out))
            if activation is not None and i < len(widths) - 2:  # hidden layers only
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)

    def linear_layers(self) -> list[nn.Linear]:
        """The network's linear layers, input to output."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return self.layers(x)  # (N, C)
        except Exception:
            self._check_input(x)  # checked only when it failed: if x is the cause, name it
            raise

    def _check_input(self, x: object) -> None:
        x = _validate.float_tensor("x", x)
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"x must have shape (N, in_features) = (N, {self.in_features}), "
                f"got shape {tuple(x.shape)}"
            )
        weight = self.layers[0].weight
        if (x.dtype, x.device) != (weight.dtype, weight.device):
            error = TypeError if x.dtype != weight.dtype else ValueError  # dtype; device
            raise error(
                f"x must have the model's dtype and device, {weight.dtype} on {weight.device}, "
                f"got {x.dtype} on {x.device}: move one to the other (x.to(...) or model.to(...))"
            )

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}, manual={self.manual}"


def collapse(mlp: MLP) -> nn.Linear:
    r"""The single linear layer a linear-only MLP equals: :math:`W = W_L \cdots W_1`,
    :math:`b = W_L(\cdots(W_2 b_1 + b_2)\cdots) + b_L`.

    Shapes: ``mlp`` maps ``(N, D_in)`` to ``(N, C)`` with ``activation=None``; returns an
    ``nn.Linear(D_in, C)`` with ``collapse(mlp)(x) == mlp(x)`` up to rounding.
    """
    _check_linear_only(mlp)
    first, *rest = mlp.linear_layers()
    with torch.no_grad():
        weight, bias = first.weight.clone(), first.bias.clone()  # (H_1, D_in), (H_1,)
        for layer in rest:
            weight = layer.weight @ weight  # (H_l, D_in)
            bias = layer.weight @ bias + layer.bias  # (H_l,)
    # skip_init: no random initialisation to overwrite, so the caller's random stream is untouched
    single = nn.utils.skip_init(
        nn.Linear, mlp.in_features, mlp.out_features, device=weight.device, dtype=weight.dtype
    )
    single.weight, single.bias = nn.Parameter(weight), nn.Parameter(bias)
    return single


def _check_linear_only(mlp: object) -> None:
    if not isinstance(mlp, MLP):
        raise TypeError(f"mlp must be a labcode.MLP, got {type(mlp).__name__}")
    if mlp.activation is not None:
        raise ValueError(
            f"collapse needs an MLP built with activation=None, got activation="
            f"{mlp.activation!r}: with a nonlinearity between the layers the "
            "network is not one linear map"
        )
