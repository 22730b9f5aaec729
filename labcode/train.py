r"""Training a classifier with autograd: the loop, written as the algorithm.

Each step minimizes the mean cross-entropy
:math:`L = -\frac{1}{N}\sum_{n} \log \operatorname{softmax}(z_n)_{y_n}` of the logits
:math:`z = f(X)`: forward, loss, ``zero_grad``, ``backward``, ``step``.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _validate

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


@dataclass
class History:
    """Per-epoch record of a training run; accuracies are exact fractions ``correct / N``.

    Attributes:
        loss: mean training cross-entropy of each epoch (before that epoch's update,
            for full-batch training).
        accuracy: training accuracy of the same forward passes, in ``[0, 1]``.
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
    """Evaluation mode (no dropout draws, no batch-norm updates) for a block; afterwards
    every submodule gets its own mode back."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.train(mode)


def _fraction_correct(logits: torch.Tensor, y: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == y).sum().item() / len(y)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction ``correct / N`` of rows of ``X`` whose largest logit is at the label in ``y``.

    Evaluated in evaluation mode, without gradients; the model's modes are restored.

    Args:
        model: maps ``(N, D_in)`` to logits ``(N, C)``.
        X: inputs ``(N, D_in)``; y: int64 labels ``(N,)`` in ``[0, C)``.

    Example:
        >>> X, y = make_moons(50, seed=1)
        >>> 0.0 <= accuracy(MLP(2, [8], 2), X, y) <= 1.0
        True
    """
    _check_data(_validate.module("model", model), X, y, "X", "y")
    with _evaluating(model), torch.no_grad():
        logits = model(X)  # (N, C)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError(
            f"model must map (N, D_in) to logits of shape (N, C), got {_validate.describe(logits)}"
        )
    _check_labels("y", y, logits.shape[1])
    return _fraction_correct(logits, y)


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 300,
    lr: float = 0.01,
    optimizer: str = "adam",
    batch_size: int | None = None,
    seed: int = 0,
    X_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
) -> History:
    """Train ``model`` in place on ``(X, y)`` with cross-entropy; return its :class:`History`.

    The defaults (300 full-batch Adam steps, ``lr=0.01``) take ``MLP(2, [32, 32], 2)``
    on 1,000 moons points past 97 % held-out accuracy in well under two seconds on a
    laptop CPU. The model trains in training mode and is left in it; held-out data are
    scored in evaluation mode after every epoch.

    Args:
        model: any ``nn.Module`` mapping ``(N, D_in)`` to logits ``(N, C)``.
        X: float inputs ``(N, D_in)``, on the model's device and dtype.
        y: int64 labels ``(N,)``, values in ``[0, C)``.
        epochs: passes over the data; lr: learning rate.
        optimizer: ``"adam"`` or ``"sgd"`` (plain gradient descent).
        batch_size: ``None`` for full-batch steps, else the minibatch size; the order of
            the minibatches comes from a private generator seeded with ``seed``.
        X_val, y_val: optional held-out data.

    Example:
        >>> X, y = make_moons(1000, noise=0.1, seed=0)
        >>> with seeded(0):
        ...     model = MLP(2, [32, 32], 2)
        >>> history = train(model, X, y)
        >>> history.epochs, history.accuracy[-1] > 0.97
        (300, True)
    """
    _check_data(_validate.module("model", model), X, y, "X", "y")
    if X_val is not None or y_val is not None:  # held-out data come as a pair
        _check_data(model, X_val, y_val, "X_val", "y_val")
    _validate.positive_int("epochs", epochs)
    _validate.positive_float("lr", lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    if batch_size is not None:
        _validate.positive_int("batch_size", batch_size)
    generator = torch.Generator().manual_seed(_validate.integer("seed", seed))  # batches' order

    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    history = History()
    model.train()
    for _ in range(epochs):
        batches = [slice(None)]  # full batch: every row at once; else shuffled minibatches
        if batch_size is not None:
            batches = torch.randperm(len(y), generator=generator).to(X.device).split(batch_size)
        total_loss, correct = 0.0, 0
        for idx in batches:
            logits = model(X[idx])  # forward, (B, C)
            loss = nn.functional.cross_entropy(logits, y[idx])  # mean cross-entropy
            opt.zero_grad()  # .grad accumulates: clear last step's
            loss.backward()  # backpropagation fills every parameter's .grad
            opt.step()  # move each parameter against its gradient
            total_loss += loss.item() * len(logits)
            correct += (logits.argmax(dim=1) == y[idx]).sum().item()
        history.loss.append(total_loss / len(y))
        history.accuracy.append(correct / len(y))
        if X_val is not None:
            with _evaluating(model), torch.no_grad():
                history.val_accuracy.append(_fraction_correct(model(X_val), y_val))
    return history


def _check_data(model: nn.Module, X: object, y: object, X_name: str, y_name: str) -> None:
    """Types, shapes, dtypes and devices of ``(X, y)``, and the labels against the model's
    ``out_features`` where it has one; otherwise torch's cross-entropy names a label out of
    range itself (``Target 2 is out of bounds``)."""
    X, y = _validate.float_tensor(X_name, X), _validate.tensor(y_name, y)
    if y.dtype != torch.int64:
        raise TypeError(
            f"{y_name} must hold class indices as an int64 tensor, got dtype "
            f"{y.dtype}; use {y_name}.long()"
        )
    if X.dim() != 2 or len(X) == 0:
        raise ValueError(
            f"{X_name} must have shape (N, D_in) with N >= 1 samples, got shape {tuple(X.shape)}"
        )
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"{y_name} must have shape (N,) = ({X.shape[0]},) to match {X_name}, "
            f"got shape {tuple(y.shape)}"
        )
    param = next(model.parameters(), X)  # a model without parameters: y on X's device
    if (X.dtype, X.device, y.device) != (param.dtype, param.device, param.device):
        error = TypeError if X.dtype != param.dtype else ValueError  # dtype; device
        raise error(
            f"{X_name} must have the model's dtype and device and {y_name} its device, "
            f"{param.dtype} on {param.device}, got {X_name} {X.dtype} on {X.device} and "
            f"{y_name} on {y.device}"
        )
    if isinstance(getattr(model, "out_features", None), int):
        _check_labels(y_name, y, model.out_features)


def _check_labels(name: str, labels: torch.Tensor, n_classes: int) -> None:
    """Every label must be a class of the model: in ``[0, C)``."""
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"{name} must hold class indices in [0, {n_classes - 1}] for a model "
            f"with {n_classes} outputs, got values from {low} to {high}"
        )
