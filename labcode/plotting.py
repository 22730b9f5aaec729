"""Figures shared by the book's pages: training curves and decision boundaries.

Colour-blind-safe by construction: colours from the Okabe–Ito palette, and every
series also differs by line style or marker, so a figure still reads in greyscale.
Each function returns a :class:`matplotlib.figure.Figure` and leaves it open, so a
page can show it or ``glue`` it. ``matplotlib.pyplot`` is imported inside the
functions, and no backend is ever selected: a notebook kernel keeps its inline
backend (selecting ``Agg`` in a page silently stops figures from appearing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from . import _validate
from .mlp import ACTIVATIONS
from .train import History, _evaluating

if TYPE_CHECKING:  # matplotlib is only needed when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: Style of the k-th run in a figure: colour, line style and marker all differ.
RUN_STYLES = (
    {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
    {"color": OKABE_ITO["vermillion"], "linestyle": "--", "marker": "^"},
    {"color": OKABE_ITO["green"], "linestyle": "-.", "marker": "s"},
    {"color": OKABE_ITO["purple"], "linestyle": ":", "marker": "D"},
)
#: Class k of a scatter plot: colour and marker (class 0 blue circles, class 1 orange triangles).
CLASS_STYLES = (
    {"color": OKABE_ITO["blue"], "marker": "o"},
    {"color": OKABE_ITO["orange"], "marker": "^"},
    {"color": OKABE_ITO["green"], "marker": "s"},
    {"color": OKABE_ITO["purple"], "marker": "D"},
)
#: The training accuracy beside a run's held-out accuracy: its colour, thinner and dotted.
THIN_DOTTED = {"linestyle": ":", "linewidth": 1.5, "marker": ""}
ACCURACY_KINDS = ("training", "held-out")
#: Font size of axis labels and titles; tick labels are 1 pt smaller, legends 2 pt:
#: large enough to read on a phone.
FONT_SIZE = 12


def _label_axes(ax: Axes, xlabel: str, ylabel: str = "", title: str = "") -> None:
    """Labels at :data:`FONT_SIZE`, smaller tick labels, a light grid."""
    ax.set_xlabel(xlabel, fontsize=FONT_SIZE)
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.set_title(title, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.grid(True, alpha=0.3)


def plot_training_curves(
    runs: History | Mapping[str, History], *, accuracy: Sequence[str] = ACCURACY_KINDS
) -> Figure:
    """Loss (left panel) and accuracy (right panel) against the epoch.

    Args:
        runs: one :class:`~labcode.train.History`, or a mapping ``{label: History}`` to
            draw several runs in the same panels (at most four), each in its own colour,
            line style and marker.
        accuracy: which accuracies to draw: any of ``"training"`` (thin dotted line)
            and ``"held-out"`` (the run's own style; drawn only for runs that
            recorded ``val_accuracy``). With ``["held-out"]`` alone, the panel is
            titled "Held-out accuracy" and its legend names only the runs.

    Returns:
        the figure, with ``fig.axes == [loss_axes, accuracy_axes]``, or only the loss axes
        (a narrower figure) when no run recorded an accuracy. The loss axis is logarithmic:
        cross-entropy falls over orders of magnitude.

    Example:
        >>> history = train(MLP(2, [8], 2), *make_moons(100, seed=0), epochs=5)
        >>> fig = plot_training_curves({"ReLU": history})
        >>> len(fig.axes)
        2
    """
    import matplotlib.pyplot as plt

    runs = {"": runs} if isinstance(runs, History) else runs
    if not (isinstance(runs, Mapping) and 0 < len(runs) <= len(RUN_STYLES)) or not all(
        isinstance(run, History) and run.loss for run in runs.values()
    ):
        raise TypeError(
            f"runs must be a History or map 1 to {len(RUN_STYLES)} labels to Histories of at "
            f"least one epoch, got {_validate.describe(runs)}"
        )
    accuracy = (accuracy,) if isinstance(accuracy, str) else tuple(accuracy)
    if not set(accuracy) <= set(ACCURACY_KINDS):
        raise ValueError(f"accuracy must hold only {list(ACCURACY_KINDS)}, got {list(accuracy)}")

    only_held_out = accuracy == ("held-out",)
    if not any(h.accuracy or h.val_accuracy for h in runs.values()):  # losses only: one panel
        accuracy = ()
    fig, axes = plt.subplots(
        1, 2 if accuracy else 1, figsize=(6.4 if accuracy else 3.6, 3.2), layout="constrained"
    )
    ax_loss, ax_acc = (axes, axes) if not accuracy else axes
    for (name, history), style in zip(runs.items(), RUN_STYLES):
        epochs = range(1, history.epochs + 1)
        line = dict(markevery=max(1, history.epochs // 8), markersize=6, linewidth=2, **style)
        prefix = f"{name}: " if name else ""
        ax_loss.plot(epochs, history.loss, label=name or "training loss", **line)
        if "held-out" in accuracy and history.val_accuracy:
            label = (name or "held-out") if only_held_out else prefix + "held-out"
            ax_acc.plot(epochs, history.val_accuracy, label=label, **line)
        if "training" in accuracy and history.accuracy:
            ax_acc.plot(epochs, history.accuracy, label=prefix + "training", **line | THIN_DOTTED)
    ax_loss.set_yscale("log")
    _label_axes(ax_loss, "epoch", "cross-entropy (log scale)", "Training loss")
    if accuracy:
        title = "Held-out accuracy" if only_held_out else "Accuracy"
        _label_axes(ax_acc, "epoch", "fraction correct", title)
    for ax in fig.axes:
        ax.legend(fontsize=FONT_SIZE - 2)
    return fig


def plot_decision_boundary(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, title: str = ""
) -> Figure:
    """The classes a 2-D classifier predicts over the plane, with the data on top.

    The background is tinted by the predicted class (the argmax of ``model``'s logits on
    a 200 x 200 grid over the data's bounding box, 0.5 wider on every side); the decision
    boundary is drawn as a black line; the points of ``(X, y)`` are drawn with one colour
    and one marker per class.

    Args:
        model: maps ``(N, 2)`` inputs to logits ``(N, C)``; evaluated without gradients
            in evaluation mode (``model.eval()``), its modes restored afterwards.
        X: points, float, shape ``(N, 2)``, on the model's device and dtype.
        y: their labels, int64, shape ``(N,)``, values in ``[0, C)`` (``C`` <= 4).
        title: axes title (optional).

    Returns:
        the figure; its one axes holds a filled contour of the predicted class, the
        boundary line and one scatter collection per class.

    Example:
        >>> fig = plot_decision_boundary(MLP(2, [8], 2), *make_moons(100, seed=1))
        >>> len(fig.axes)
        1
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, to_rgba
    from matplotlib.lines import Line2D

    _validate.module("model", model)
    X, y = _validate.float_tensor("X", X), _validate.tensor("y", y)
    if X.dim() != 2 or X.shape[1] != 2 or y.dtype != torch.int64 or y.shape != (len(X),):
        raise ValueError(
            f"X must have shape (N, 2) for a plane and y be int64 of shape (N,) to match it, "
            f"got X of shape {tuple(X.shape)} and {_validate.describe(y)}"
        )
    with _evaluating(model), torch.no_grad():  # no dropout, no batch-norm updates
        lo, hi = (X.min(dim=0).values - 0.5).tolist(), (X.max(dim=0).values + 0.5).tolist()
        g0, g1 = (torch.linspace(lo[i], hi[i], 200, dtype=X.dtype, device=X.device) for i in (0, 1))
        xx, yy = torch.meshgrid(g0, g1, indexing="xy")  # (R, R) each, R = 200
        grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R*R, 2)
        predicted = model(grid).argmax(dim=1).reshape(xx.shape)  # (R, R)
    n_classes = max(int(predicted.max()), int(y.max())) + 1
    if n_classes > len(CLASS_STYLES):
        raise ValueError(
            f"plot_decision_boundary draws at most {len(CLASS_STYLES)} classes, got {n_classes}"
        )
    fig, ax = plt.subplots(figsize=(5.0, 4.0), layout="constrained")
    xx, yy, predicted = xx.cpu().numpy(), yy.cpu().numpy(), predicted.cpu().numpy()
    tints = ListedColormap([to_rgba(s["color"], alpha=0.18) for s in CLASS_STYLES[:n_classes]])
    levels = [k - 0.5 for k in range(n_classes + 1)]
    ax.contourf(xx, yy, predicted, levels=levels, cmap=tints)
    ax.contour(xx, yy, predicted, levels=levels[1:-1], colors=OKABE_ITO["black"], linewidths=1.5)
    X_np, y_np = X.detach().cpu().numpy(), y.cpu().numpy()
    for k, style in enumerate(CLASS_STYLES[:n_classes]):
        points = X_np[y_np == k]
        ax.scatter(*points.T, s=18, edgecolors="white", linewidths=0.4, label=f"class {k}", **style)
    handles, _ = ax.get_legend_handles_labels()
    boundary = Line2D([], [], color=OKABE_ITO["black"], linewidth=1.5, label="decision boundary")
    ax.legend(handles=[*handles, boundary], fontsize=FONT_SIZE - 2, loc="lower left")
    _label_axes(ax, "$x_1$", "$x_2$", title)
    ax.grid(False)
    ax.set_aspect("equal")
    return fig


def plot_finite_difference_errors(
    epsilons: Sequence[float], errors: Mapping[str, Sequence[float]], *, mark: float | None = None
) -> Figure:
    """The finite-difference error against the step, log-log: one line per dtype.

    Args:
        epsilons: the steps.
        errors: ``{label: errors}``, one error per step (at most four labels), e.g. from
            :func:`~labcode.finite_differences.finite_difference_errors`.
        mark: a step to mark with a dotted vertical line (gradcheck's default, say).

    Returns:
        the figure; its axes hold one line per label (and the marker line).

    Example:
        >>> fig = plot_finite_difference_errors([1e-3, 1e-2], {"float64": [1e-9, 1e-7]})
        >>> len(fig.axes[0].lines)
        1
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.4, 3.8), layout="constrained")
    for (label, err), style in zip(errors.items(), RUN_STYLES):
        ax.loglog(list(epsilons), list(err), markersize=5, linewidth=1.8, label=label, **style)
    if mark is not None:
        ax.axvline(
            mark, color=OKABE_ITO["black"], linestyle=":", linewidth=1.5, label="gradcheck's eps"
        )
    _label_axes(ax, r"step $\epsilon$", "max |estimate - exact|")
    # the legend sits above the axes, clear of the curves
    above = dict(loc="lower center", bbox_to_anchor=(0.5, 1.0), borderaxespad=0.2, ncol=3)
    ax.legend(frameon=False, fontsize=FONT_SIZE - 1, handlelength=1.6, columnspacing=1.0, **above)
    return fig


def plot_activations() -> Figure:
    """Each activation of :data:`~labcode.mlp.ACTIVATIONS` (left panel) and its derivative
    (right panel), from autograd, on ``z`` from -4 to 4.

    Returns:
        the figure, with ``fig.axes == [values_axes, derivatives_axes]``: one line per
        activation in each.

    Example:
        >>> [len(ax.lines) for ax in plot_activations().axes]
        [3, 3]
    """
    import matplotlib.pyplot as plt

    z = torch.linspace(-4, 4, 401, dtype=torch.float64, requires_grad=True)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(6.4, 3.0), layout="constrained", sharex=True)
    for (name, activation), style in zip(ACTIVATIONS.items(), RUN_STYLES):
        f = activation()(z)
        (derivative,) = torch.autograd.grad(f.sum(), z)  # f is element-wise: this is f'(z)
        for ax, values in ((ax_f, f), (ax_d, derivative)):
            ax.plot(
                z.detach(),
                values.detach(),
                label=name,
                linewidth=2,
                markevery=50,
                markersize=5,
                **style,
            )
    _label_axes(ax_f, "$z$", title=r"activation $\sigma(z)$")
    _label_axes(ax_d, "$z$", title=r"derivative $\sigma'(z)$")
    for ax in fig.axes:
        ax.legend(fontsize=FONT_SIZE - 2)
    return fig
