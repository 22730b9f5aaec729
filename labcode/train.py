r"""Training a classifier with autograd: the loop, written as the algorithm.

Each step minimizes the mean cross-entropy

.. math::

    L = -\frac{1}{N}\sum_{n=1}^{N} \log \operatorname{softmax}(z_n)_{y_n}

of the logits :math:`z = f(X)`: forward, loss, ``zero_grad``, ``backward``, ``step``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _validate

OPTIMIZERS = ("adam", "sgd")


@dataclass
class History:
    """Per-epoch record of a training run.

    Both accuracies are exact fractions, ``correct / N`` (Python ``int`` division).

    Attributes:
        loss: mean training cross-entropy of each epoch (before that epoch's updates
            for full-batch training).
        accuracy: training accuracy of the same forward passes (in training mode,
            during the epoch), in ``[0, 1]``.
        val_accuracy: accuracy on ``(X_val, y_val)`` after each epoch, in evaluation
            mode, if given: what :func:`accuracy` returns for the model at that point.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in evaluation mode for a block, then restore every submodule's mode.

    Dropout and batch norm behave differently in training mode: dropout would drop
    units at random (and draw from the global generator), batch norm would use and
    update batch statistics. Scoring and plotting a model must do neither.
    """
    modes = [(module, module.training) for module in model.modules()]  # parents first
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.train(mode)


def _check_data(model: nn.Module, X: object, y: object, X_name: str, y_name: str) -> None:
    """Types, shapes, dtypes and devices of ``(X, y)`` (label values: :func:`_check_labels`)."""
    X = _validate.float_tensor(X_name, X)
    y = _validate.tensor(y_name, y)
    if y.dtype != torch.int64:
        raise TypeError(
            f"{y_name} must hold class indices as an int64 tensor, got dtype {y.dtype}; "
            f"use {y_name}.long()"
        )
    if X.dim() != 2:
        raise ValueError(f"{X_name} must have shape (N, D_in), got shape {tuple(X.shape)}")
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"{y_name} must have shape (N,) = ({X.shape[0]},) to match {X_name}, got shape "
            f"{tuple(y.shape)}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{X_name} must hold at least one sample, got shape {tuple(X.shape)}")
    param = next(model.parameters(), None)
    if param is not None:
        _validate.same_dtype_and_device("the model's parameters", param, X_name, X)
        if y.device != param.device:
            raise ValueError(f"{y_name} is on {y.device} but the model is on {param.device}")


def _label_range(y: torch.Tensor) -> tuple[int, int]:
    return int(y.min()), int(y.max())


def _check_labels(y_name: str, label_range: tuple[int, int], n_classes: int) -> None:
    low, high = label_range
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"{y_name} must hold class indices in [0, {n_classes - 1}] for a model with "
            f"{n_classes} outputs, got values from {low} to {high}"
        )


def _n_classes(logits: object) -> int:
    """The number of classes ``C`` of a model's output, which must be logits ``(N, C)``."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"model must return a logits tensor (N, C), got {type(logits).__name__}")
    if logits.dim() != 2:
        raise ValueError(
            f"model must map (N, D_in) to logits of shape (N, C), got shape {tuple(logits.shape)}"
        )
    return logits.shape[1]


def _logits(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """``model(X)`` in evaluation mode, without gradients; the model's modes are restored."""
    with _evaluating(model), torch.no_grad():
        return model(X)  # (N, C)


def _fraction_correct(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Exact fraction of rows whose largest logit is at the label: ``correct / N``."""
    return (logits.argmax(dim=1) == y).sum().item() / len(y)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``X`` whose largest logit is at the label in ``y``.

    The model is evaluated in evaluation mode (``model.eval()``: no dropout, batch
    norm with its running statistics) and without gradients; its modes are restored
    afterwards. The result is the exact fraction ``correct / N``.

    Args:
        model: maps ``(N, D_in)`` to logits ``(N, C)``.
        X: inputs, shape ``(N, D_in)``.
        y: labels, int64, shape ``(N,)``, values in ``[0, C)``.

    Example:
        >>> X, y = make_moons(50, seed=1)
        >>> 0.0 <= accuracy(MLP(2, [8], 2), X, y) <= 1.0
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_data(model, X, y, "X", "y")
    logits = _logits(model, X)  # the forward the score uses also gives C
    _check_labels("y", _label_range(y), _n_classes(logits))
    return _fraction_correct(logits, y)


class _CheckedCrossEntropy(nn.CrossEntropyLoss):
    """Mean cross-entropy that first checks the labels against the logits' width ``C``.

    A model without ``out_features`` tells its number of classes only through its
    logits. Checking them in the loss uses the training forward itself (an extra
    forward would run batch norm on whatever rows it is given), and raises a readable
    error before a label outside ``[0, C)`` reaches torch, and before any update.
    """

    def __init__(self, label_ranges: dict[str, tuple[int, int]]) -> None:
        super().__init__()
        self.label_ranges = label_ranges  # {name: (min, max)} of y and y_val

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n_classes = _n_classes(logits)
        for name, label_range in self.label_ranges.items():
            _check_labels(name, label_range, n_classes)
        return super().forward(logits, target)


def train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, epochs: int = 300,
          lr: float = 0.01, optimizer: str = "adam", batch_size: int | None = None,
          seed: int = 0, X_val: torch.Tensor | None = None,
          y_val: torch.Tensor | None = None) -> History:
    """Train ``model`` on ``(X, y)`` with cross-entropy; return the per-epoch history.

    The defaults (300 full-batch Adam steps, ``lr=0.01``) take ``MLP(2, [32, 32], 2)``
    on 1,000 moons points (noise 0.1) past 97 % held-out accuracy in well under two
    seconds on a laptop CPU. The model is trained in place, on its own device, in
    training mode (``model.train()``), and left in training mode; held-out data are
    scored in evaluation mode.

    Args:
        model: any ``nn.Module`` mapping ``(N, D_in)`` to logits ``(N, C)``.
        X: inputs, float, shape ``(N, D_in)``, on the model's device and dtype.
        y: labels, int64, shape ``(N,)``, values in ``[0, C)``.
        epochs: passes over the data (> 0).
        lr: learning rate (> 0).
        optimizer: ``"adam"`` or ``"sgd"`` (plain gradient descent).
        batch_size: ``None`` for full-batch steps, else the minibatch size; minibatch
            order is drawn from a private generator seeded with ``seed``.
        seed: seed for the minibatch order (unused for full-batch training).
        X_val, y_val: optional held-out data, scored after every epoch.

    Returns:
        a :class:`History`.

    Example:
        >>> X, y = make_moons(1000, noise=0.1, seed=0)
        >>> with seeded(0):
        ...     model = MLP(2, [32, 32], 2)
        >>> history = train(model, X, y)
        >>> history.epochs, history.accuracy[-1] > 0.97
        (300, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_data(model, X, y, "X", "y")
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    label_ranges = {"y": _label_range(y)}
    if X_val is not None:
        _check_data(model, X_val, y_val, "X_val", "y_val")
        label_ranges["y_val"] = _label_range(y_val)
    n_classes = getattr(model, "out_features", None)
    if isinstance(n_classes, int):  # known before any forward: fail before training
        for name, label_range in label_ranges.items():
            _check_labels(name, label_range, n_classes)
    epochs = _validate.positive_int("epochs", epochs)
    lr = _validate.positive_float("lr", lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    if batch_size is not None:
        batch_size = _validate.positive_int("batch_size", batch_size)
    seed = _validate.integer("seed", seed)

    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = _CheckedCrossEntropy(label_ranges)  # nn.CrossEntropyLoss, labels checked
    generator = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    history = History()

    model.train()
    for _ in range(epochs):
        if batch_size is None:
            batches = [slice(None)]
        else:
            order = torch.randperm(n, generator=generator).to(X.device)
            batches = order.split(batch_size)
        total_loss, correct = 0.0, 0
        for idx in batches:
            xb, yb = X[idx], y[idx]
            logits = model(xb)  # forward, (B, C)
            loss = loss_fn(logits, yb)  # mean cross-entropy
            opt.zero_grad()  # gradients accumulate in .grad: clear last step's
            loss.backward()  # backpropagation fills .grad of every parameter
            opt.step()  # move each parameter against its gradient
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        history.loss.append(total_loss / n)
        history.accuracy.append(correct / n)
        if X_val is not None:
            # checked once above; evaluation mode, then back to training mode
            history.val_accuracy.append(_fraction_correct(_logits(model, X_val), y_val))
    return history
