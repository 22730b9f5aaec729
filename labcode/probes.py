r"""The lab's Part B probes: predict first, then run these and compare.

* :func:`gradient_probe`: a tiny, fixed network and one input. The student predicts
  the sign and rough magnitude of one first-layer weight's gradient, and how one SGD step
  moves that weight and the loss. For cross-entropy the chain rule gives

  .. math::

      \frac{\partial L}{\partial W_2[c, j]} = (p_c - [c = y])\, h_j, \qquad
      \frac{\partial L}{\partial W_1[i, k]} = \big(W_2^\top (p - t)\big)_i\,
      \varphi'(a_i)\, x_k

  (predicted probability minus one-hot target ``t``; back through ``W_2^T`` and the
  ReLU's derivative at the pre-activation ``a_i``; times the input feeding the weight).
* :func:`nonlinearity_probe`: the same MLP trained with and without its activation
  (one switch, ``activation=None``, on the same model class and the same seed).
"""

from dataclasses import dataclass

import torch
from torch import nn

from . import _validate
from .data import make_moons
from .mlp import MLP, collapse
from .seeding import seeded
from .train import History, accuracy, train

#: The toy input (one sample, two features) and its class.
TOY_INPUT = (1.0, -1.0)
TOY_LABEL = 1
#: Hand-picked parameters of ``MLP(2, [2], 2)``: ``W1`` is ``(2, 2)``, ``W2`` is ``(2, 2)``.
TOY_PARAMETERS = {
    "layers.0.weight": ((0.5, -0.5), (-0.3, 0.8)),  # W1
    "layers.0.bias": (0.1, 0.0),  # b1
    "layers.2.weight": ((0.4, 0.2), (-0.2, 0.6)),  # W2
    "layers.2.bias": (0.0, 0.0),  # b2
}
#: The weight the student reasons about: W1[0, 0], from input x_0 to the live hidden unit
#: h_0; its gradient comes back through W2^T and the ReLU.
TOY_WEIGHT = ("layers.0.weight", (0, 0))
#: The warm-up: W2[1, 0], from hidden unit h_0 to logit z_1 (one step of the chain).
TOY_OUTPUT_WEIGHT = ("layers.2.weight", (1, 0))
#: The twist: W1[1, 0], from input x_0 into hidden unit h_1, which the ReLU switches off.
TOY_FIRST_LAYER_WEIGHT = ("layers.0.weight", (1, 0))
#: Training of the logistic-regression baseline: long enough to converge on moons.
LINEAR_BASELINE_EPOCHS, LINEAR_BASELINE_LR = 2000, 0.05
#: Learning rate of the single SGD step.
TOY_LR = 0.5


def toy_network(manual: bool = False, dtype: torch.dtype = torch.float64) -> MLP:
    """The probe's network: ``MLP(2, [2], 2)`` (ReLU) with the fixed :data:`TOY_PARAMETERS`.

    Args:
        manual: build it from :class:`~labcode.linear.ManualLinear` (our hand-written
            backward) instead of ``nn.Linear``; the parameters are the same.
        dtype: a floating-point dtype for the parameters (default float64).

    Returns:
        the :class:`~labcode.mlp.MLP`, on the CPU, in training mode.

    Example:
        >>> model = toy_network()
        >>> model(torch.tensor([TOY_INPUT], dtype=torch.float64)).shape
        torch.Size([1, 2])
        >>> sum(p.numel() for p in model.parameters())  # W1 (2, 2), b1, W2 (2, 2), b2
        12
    """
    dtype = _validate.float_dtype("dtype", dtype)
    with seeded(0):  # the random init is overwritten below; seeding keeps it tidy
        model = MLP(2, [2], 2, activation="relu", manual=manual).to(dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=dtype) for k, v in TOY_PARAMETERS.items()})
    return model


@dataclass(frozen=True)
class GradientProbe:
    """What one SGD step on the toy example does to :data:`TOY_WEIGHT`.

    Attributes:
        hidden: ReLU activations ``h`` of the hidden layer, shape ``(2,)``.
        logits: output ``z``; probabilities: ``softmax(z)`` (before the step).
        gradient: ``dL/dW1[0, 0]`` (:data:`TOY_WEIGHT`) from ``loss.backward()``, at the
            starting weights.
        gradient_after: the same weight's gradient at the weights after the step.
        weight_before, weight_after: the weight's value around the step.
        step: ``weight_after - weight_before`` (equals ``-lr * gradient``).
        loss_before, loss_after: cross-entropy on the toy input around the step.
        gradients: every parameter's gradient, ``{name: nested list}``, such as
            ``gradients["layers.0.weight"][1][0]`` for :data:`TOY_FIRST_LAYER_WEIGHT`.
    """

    hidden: tuple[float, ...]
    logits: tuple[float, ...]
    probabilities: tuple[float, ...]
    gradient: float
    gradient_after: float
    weight_before: float
    weight_after: float
    step: float
    loss_before: float
    loss_after: float
    lr: float
    gradients: dict[str, list]


def gradient_probe(lr: float = TOY_LR, manual: bool = False) -> GradientProbe:
    """Take one SGD step on the toy example and report what happened to :data:`TOY_WEIGHT`.

    Args:
        lr: SGD learning rate (> 0).
        manual: use the hand-written backward (``MLP(..., manual=True)``).

    Example:
        >>> probe = gradient_probe()  # the values are Part B's answer: predict first
        >>> abs(probe.step - (-probe.lr * probe.gradient)) < 1e-12  # one SGD step
        True
    """
    lr = _validate.positive_float("lr", lr)
    model = toy_network(manual=manual)
    x = torch.tensor([TOY_INPUT], dtype=torch.float64)  # (1, 2)
    y = torch.tensor([TOY_LABEL])  # (1,)
    name, index = TOY_WEIGHT
    weight = dict(model.named_parameters())[name]
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    hidden = model.layers[1](model.layers[0](x))  # (1, 2) after ReLU
    logits = model.layers[2](hidden)  # (1, 2): the rest of model(x), layer 0 not run twice
    loss = loss_fn(logits, y)
    weight_before = weight[index].item()
    opt.zero_grad()
    loss.backward()
    gradient = weight.grad[index].item()
    gradients = {n: p.grad.tolist() for n, p in model.named_parameters()}
    opt.step()
    loss_after = loss_fn(model(x), y)  # at the new weights; its backward answers "after"
    opt.zero_grad()
    loss_after.backward()
    return GradientProbe(
        hidden=tuple(hidden[0].tolist()),
        logits=tuple(logits[0].tolist()),
        probabilities=tuple(torch.softmax(logits[0], dim=0).tolist()),
        gradient=gradient,
        gradient_after=weight.grad[index].item(),
        weight_before=weight_before,
        weight_after=weight[index].item(),
        step=weight[index].item() - weight_before,
        loss_before=loss.item(),
        loss_after=loss_after.item(),
        lr=lr,
        gradients=gradients,
    )


@dataclass(frozen=True)
class NonlinearityProbe:
    """Training curves of the same MLP with and without its activation.

    Attributes:
        with_activation, without_activation: the two training :class:`History` objects
            (each with ``val_accuracy`` on held-out moons).
        test_accuracy_with, test_accuracy_without: final held-out accuracies, the last
            ``val_accuracy`` of each run (properties: they are read from the histories).
        linear_model_accuracy: held-out accuracy of a plain linear classifier
            (``MLP(2, [], 2)``, logistic regression) trained to convergence
            (:data:`LINEAR_BASELINE_EPOCHS` Adam steps at ``lr=0.05``): what a linear
            model can do, the ceiling of the linear-only MLP.
        collapse_max_error: max ``|collapse(mlp)(X) - mlp(X)|`` for the trained
            linear-only MLP on the held-out inputs: it *is* one linear map.
        model_with_activation, model_without_activation: the two trained networks
            (to plot their decision boundaries, say).
    """

    activation: str
    with_activation: History
    without_activation: History
    linear_model_accuracy: float
    collapse_max_error: float
    model_with_activation: MLP
    model_without_activation: MLP

    @property
    def test_accuracy_with(self) -> float:
        return self.with_activation.val_accuracy[-1]

    @property
    def test_accuracy_without(self) -> float:
        return self.without_activation.val_accuracy[-1]

    def __repr__(self) -> str:  # the numbers to compare with a prediction, not every epoch
        w, wo = self.with_activation, self.without_activation
        return (
            f"NonlinearityProbe(activation={self.activation!r}: held-out accuracy "
            f"{self.test_accuracy_with:.1%} with it, {self.test_accuracy_without:.1%} without "
            f"(training {w.accuracy[-1]:.1%}, {wo.accuracy[-1]:.1%}); plain linear classifier "
            f"{self.linear_model_accuracy:.1%}; final loss {w.loss[-1]:.3g} with, "
            f"{wo.loss[-1]:.3g} without; collapse error {self.collapse_max_error:.1e})"
        )


def nonlinearity_probe(
    activation: str = "relu",
    hidden_features: tuple[int, ...] = (32, 32),
    n_samples: int = 1000,
    noise: float = 0.1,
    seed: int = 0,
    epochs: int = 300,
    lr: float = 0.5,
    optimizer: str = "sgd",
) -> NonlinearityProbe:
    """Train ``MLP(2, hidden_features, 2)`` on moons with ``activation`` and with ``None``.

    Both networks start from the same weights (same seed; activations have no
    parameters) and see the same data; only the switch differs. Training data use
    ``seed``, held-out data ``seed + 1``.

    Args:
        activation: the nonlinearity to compare against ``None``: ``"relu"``,
            ``"tanh"`` or ``"sigmoid"``.
        hidden_features: widths of the hidden layers, a sequence of positive ints.
        n_samples: moons points in each of the training and held-out sets (> 0).
        noise: the moons' noise (>= 0).
        seed: seed of the models' initial weights and of the training data (the
            held-out data use ``seed + 1``).
        epochs, lr, optimizer: full-batch training of both networks (see :func:`train`):
            by default 300 steps of plain SGD, as the lab's own runs.

    Returns:
        a :class:`NonlinearityProbe`.

    Example:
        >>> probe = nonlinearity_probe(n_samples=200, epochs=20)
        >>> probe.with_activation.epochs, probe.without_activation.epochs
        (20, 20)
        >>> probe.test_accuracy_with == probe.with_activation.val_accuracy[-1]
        True
    """
    if activation is None:
        raise ValueError(
            "activation must name the nonlinearity to compare against None, e.g. 'relu'; "
            "got None (the probe always trains the activation=None network as well)"
        )
    hidden_features = _validate.positive_ints("hidden_features", hidden_features, "(32, 32)")
    seed = _validate.integer("seed", seed)
    if seed == _validate.SEED_MAX:
        raise ValueError(
            f"seed must be below 2**64 - 1 (the held-out data use seed + 1), got {seed}"
        )
    X, y = make_moons(n_samples, noise, seed)
    X_test, y_test = make_moons(n_samples, noise, seed + 1)
    runs = {}
    for act in (activation, None):
        with seeded(seed):
            model = MLP(2, list(hidden_features), 2, activation=act)
        history = train(
            model, X, y, epochs=epochs, lr=lr, optimizer=optimizer, X_val=X_test, y_val=y_test
        )
        runs[act] = (model, history)
    with seeded(seed):
        linear_model = MLP(2, [], 2)
    train(linear_model, X, y, epochs=LINEAR_BASELINE_EPOCHS, lr=LINEAR_BASELINE_LR)
    linear_only = runs[None][0]
    with torch.no_grad():
        collapse_error = (collapse(linear_only)(X_test) - linear_only(X_test)).abs().max().item()
    return NonlinearityProbe(
        activation=activation,
        with_activation=runs[activation][1],
        without_activation=runs[None][1],
        linear_model_accuracy=accuracy(linear_model, X_test, y_test),
        collapse_max_error=collapse_error,
        model_with_activation=runs[activation][0],
        model_without_activation=linear_only,
    )
