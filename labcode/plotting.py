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
from .train import History, _evaluating

if TYPE_CHECKING:  # matplotlib is only needed when a figure is drawn
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
ACCURACY_KINDS = ("training", "held-out")
#: Font size of axis labels, titles and legends: large enough to read on a phone.
FONT_SIZE = 12


def _history(name: str, run: object) -> History:
    """A run: a :class:`History`, or a list of per-epoch losses (what a student's loop returns)."""
    if (
        isinstance(run, Sequence)
        and not isinstance(run, str)
        and run
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in run)
    ):
        return History(loss=[float(v) for v in run])
    if not isinstance(run, History):
        raise TypeError(
            f"{name} must be a labcode.History or a list of per-epoch losses, got "
            f"{_validate.describe(run)}"
        )
    if run.epochs == 0:
        raise ValueError(f"{name} is an empty History (no epochs recorded)")
    return run


def _runs(runs: object) -> dict[str, History]:
    if not isinstance(runs, Mapping):
        return {"": _history("runs", runs)}
    if not runs or len(runs) > len(RUN_STYLES):
        raise (TypeError if not runs else ValueError)(
            f"runs must map 1 to {len(RUN_STYLES)} labels to runs, got {len(runs)}"
        )
    return {label: _history(f"runs[{label!r}]", run) for label, run in runs.items()}


def _label(run: str, what: str) -> str:
    return f"{run}: {what}" if run else what


def plot_training_curves(
    runs: History | Sequence[float] | Mapping[str, History | Sequence[float]],
    *,
    accuracy: Sequence[str] = ACCURACY_KINDS,
    figsize: tuple[float, float] = (6.4, 3.2),
) -> Figure:
    """Loss (left panel) and accuracy (right panel) against the epoch.

    Args:
        runs: one :class:`~labcode.train.History` (or a list of per-epoch losses), or a
            mapping ``{label: History or losses}`` to draw several runs in the same panels
            (at most four), each in its own colour, line style and marker.
        accuracy: which accuracies to draw: any of ``"training"`` (thin dotted line)
            and ``"held-out"`` (the run's own style; drawn only for runs that
            recorded ``val_accuracy``). With ``["held-out"]`` alone, the panel is
            titled "Held-out accuracy" and its legend names only the runs.
        figsize: figure size in inches.

    Returns:
        the figure, with ``fig.axes == [loss_axes, accuracy_axes]``, or only the loss axes
        when no run recorded an accuracy. The loss axis is logarithmic: cross-entropy falls
        over orders of magnitude.

    Example:
        >>> history = train(MLP(2, [8], 2), *make_moons(100, seed=0), epochs=5)
        >>> fig = plot_training_curves({"ReLU": history})
        >>> len(fig.axes)
        2
    """
    import matplotlib.pyplot as plt

    runs = _runs(runs)
    if isinstance(accuracy, str):
        accuracy = (accuracy,)
    unknown = [kind for kind in accuracy if kind not in ACCURACY_KINDS]
    if unknown:
        raise ValueError(f"accuracy must hold only {list(ACCURACY_KINDS)}, got {list(accuracy)}")

    only_held_out = tuple(accuracy) == ("held-out",)
    if not any(h.accuracy or h.val_accuracy for h in runs.values()):  # losses only: one panel
        accuracy, figsize = (), (figsize[0] / 2 + 0.4, figsize[1])
    fig, axes = plt.subplots(
        1, 2 if accuracy else 1, figsize=figsize, layout="constrained", squeeze=False
    )
    ax_loss, ax_acc = axes[0][0], axes[0][-1]
    for (name, history), style in zip(runs.items(), RUN_STYLES):
        epochs = range(1, history.epochs + 1)
        every = max(1, history.epochs // 8)
        ax_loss.plot(
            epochs,
            history.loss,
            label=name or "training loss",
            markevery=every,
            markersize=6,
            linewidth=2,
            **style,
        )
        if "held-out" in accuracy and history.val_accuracy:
            label = (name or "held-out") if only_held_out else _label(name, "held-out")
            ax_acc.plot(
                epochs,
                history.val_accuracy,
                label=label,
                markevery=every,
                markersize=6,
                linewidth=2,
                **style,
            )
        if "training" in accuracy and history.accuracy:
            ax_acc.plot(
                epochs,
                history.accuracy,
                label=_label(name, "training"),
                color=style["color"],
                linestyle=":",
                linewidth=1.5,
            )

    ax_loss.set_yscale("log")
    ax_loss.set_title("Training loss", fontsize=FONT_SIZE)
    ax_loss.set_ylabel("cross-entropy (log scale)", fontsize=FONT_SIZE)
    if accuracy:
        ax_acc.set_title("Held-out accuracy" if only_held_out else "Accuracy", fontsize=FONT_SIZE)
        ax_acc.set_ylabel("fraction correct", fontsize=FONT_SIZE)
    for ax in fig.axes:
        ax.set_xlabel("epoch", fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE - 1)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=FONT_SIZE - 2)
    return fig


def plot_decision_boundary(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    title: str | None = None,
    resolution: int = 200,
    padding: float = 0.5,
    figsize: tuple[float, float] = (5.0, 4.0),
) -> Figure:
    """The classes a 2-D classifier predicts over the plane, with the data on top.

    The background is tinted by the predicted class (the argmax of ``model``'s
    logits on a ``resolution`` x ``resolution`` grid); the decision boundary is
    drawn as a black line; the points of ``(X, y)`` are drawn with one colour and
    one marker per class.

    Args:
        model: maps ``(N, 2)`` inputs to logits ``(N, C)``; evaluated without gradients
            in evaluation mode (``model.eval()``), its modes restored afterwards. ``None``
            draws the data alone.
        X: points, float, shape ``(N, 2)``, on the model's device and dtype.
        y: their labels, int64, shape ``(N,)``, values in ``[0, C)`` (``C`` <= 4).
        title: axes title (optional).
        resolution: grid points per axis (> 0).
        padding: margin around the data's bounding box (>= 0).
        figsize: figure size in inches.

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

    if model is not None:
        _validate.module("model", model)
    X = _validate.float_tensor("X", X)
    y = _validate.tensor("y", y)
    if X.dim() != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) for a plane, got shape {tuple(X.shape)}")
    if y.dtype != torch.int64 or y.shape != (X.shape[0],):
        raise ValueError(
            f"y must be an int64 tensor of shape ({X.shape[0]},) to match X, got a {y.dtype} "
            f"tensor of shape {tuple(y.shape)}"
        )
    resolution = _validate.positive_int("resolution", resolution)
    padding = _validate.non_negative_float("padding", padding)

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    n_classes = int(y.max()) + 1
    if model is not None:
        with _evaluating(model), torch.no_grad():  # no dropout, no batch-norm updates
            lo, hi = X.min(dim=0).values - padding, X.max(dim=0).values + padding
            g0, g1 = (
                torch.linspace(
                    lo[i].item(), hi[i].item(), resolution, dtype=X.dtype, device=X.device
                )
                for i in (0, 1)
            )
            xx, yy = torch.meshgrid(g0, g1, indexing="xy")  # (R, R) each
            grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R*R, 2)
            predicted = model(grid).argmax(dim=1).reshape(resolution, resolution)  # (R, R)
        n_classes = max(int(predicted.max()) + 1, n_classes)
    if n_classes > len(CLASS_STYLES):
        raise ValueError(
            f"plot_decision_boundary draws at most {len(CLASS_STYLES)} classes, got {n_classes}"
        )
    if model is not None:
        xx, yy, predicted = xx.cpu().numpy(), yy.cpu().numpy(), predicted.cpu().numpy()
        tints = ListedColormap([to_rgba(s["color"], alpha=0.18) for s in CLASS_STYLES[:n_classes]])
        levels = [k - 0.5 for k in range(n_classes + 1)]
        ax.contourf(xx, yy, predicted, levels=levels, cmap=tints)
        ax.contour(
            xx, yy, predicted, levels=levels[1:-1], colors=OKABE_ITO["black"], linewidths=1.5
        )

    X_np, y_np = X.detach().cpu().numpy(), y.cpu().numpy()
    for k in range(n_classes):
        points = X_np[y_np == k]
        style = CLASS_STYLES[k]
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=18,
            c=style["color"],
            marker=style["marker"],
            edgecolors="white",
            linewidths=0.4,
            label=f"class {k}",
        )
    handles, _ = ax.get_legend_handles_labels()
    if model is not None:
        handles.append(
            Line2D([], [], color=OKABE_ITO["black"], linewidth=1.5, label="decision boundary")
        )
    ax.legend(handles=handles, fontsize=FONT_SIZE - 2, loc="lower left")
    ax.set_xlabel("$x_1$", fontsize=FONT_SIZE)
    ax.set_ylabel("$x_2$", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title, fontsize=FONT_SIZE)
    return fig


def plot_finite_difference_errors(
    epsilons: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    *,
    mark: float | None = None,
    figsize: tuple[float, float] = (4.4, 3.8),
) -> Figure:
    """The finite-difference error against the step, log-log: one line per dtype.

    Args:
        epsilons: the steps.
        errors: ``{label: errors}``, one error per step (at most four labels), e.g. from
            :func:`~labcode.finite_differences.finite_difference_errors`.
        mark: a step to mark with a dotted vertical line (gradcheck's default, say).
        figsize: figure size in inches.

    Returns:
        the figure; its axes hold one line per label (and the marker line).

    Example:
        >>> fig = plot_finite_difference_errors([1e-3, 1e-2], {"float64": [1e-9, 1e-7]})
        >>> len(fig.axes[0].lines)
        1
    """
    import matplotlib.pyplot as plt

    if not isinstance(errors, Mapping) or not 0 < len(errors) <= len(RUN_STYLES):
        raise TypeError(
            f"errors must map at most {len(RUN_STYLES)} labels to errors, got "
            f"{_validate.describe(errors)}"
        )
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    for (label, err), style in zip(errors.items(), RUN_STYLES):
        ax.loglog(list(epsilons), list(err), markersize=5, linewidth=1.8, label=label, **style)
    if mark is not None:
        ax.axvline(
            mark, color=OKABE_ITO["black"], linestyle=":", linewidth=1.5, label="gradcheck's eps"
        )
    ax.set_xlabel(r"step $\epsilon$", fontsize=FONT_SIZE)
    ax.set_ylabel("max |estimate - exact|", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.grid(True, which="major", alpha=0.3)
    # the legend sits above the axes, clear of the curves
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        frameon=False,
        fontsize=FONT_SIZE - 1,
        handlelength=1.6,
        columnspacing=1.0,
        borderaxespad=0.2,
    )
    return fig


def plot_activations(
    names: Sequence[str] = ("relu", "tanh", "sigmoid"), *, figsize: tuple[float, float] = (6.4, 3.0)
) -> Figure:
    """Each activation (left panel) and its derivative (right panel), from autograd.

    Args:
        names: activations of :data:`~labcode.mlp.ACTIVATIONS` (at most four).
        figsize: figure size in inches.

    Returns:
        the figure, with ``fig.axes == [values_axes, derivatives_axes]``: one line per
        activation in each.

    Example:
        >>> [len(ax.lines) for ax in plot_activations().axes]
        [3, 3]
    """
    import matplotlib.pyplot as plt

    from .mlp import ACTIVATIONS

    unknown = [n for n in names if n not in ACTIVATIONS]
    if unknown or not 0 < len(names) <= len(RUN_STYLES):
        raise ValueError(
            f"names must be 1 to {len(RUN_STYLES)} of {sorted(ACTIVATIONS)}, got {list(names)}"
        )
    z = torch.linspace(-4, 4, 401, dtype=torch.float64, requires_grad=True)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharex=True)
    for name, style in zip(names, RUN_STYLES):
        f = ACTIVATIONS[name]()(z)
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
    for ax, title in ((ax_f, r"activation $\sigma(z)$"), (ax_d, r"derivative $\sigma'(z)$")):
        ax.set_title(title, fontsize=FONT_SIZE)
        ax.set_xlabel("$z$", fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE - 1)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=FONT_SIZE - 2)
    return fig
