"""labcode.plotting: the shared figures return Figures with the expected artists and labels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import labcode
from labcode import MLP, History, make_moons
from labcode.plotting import (
    CLASS_STYLES,
    FONT_SIZE,
    OKABE_ITO,
    RUN_STYLES,
    plot_decision_boundary,
    plot_finite_difference_errors,
    plot_training_curves,
)
from labcode.seeding import seeded

plt = pytest.importorskip("matplotlib.pyplot")
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(epochs: int = 10, val: bool = True) -> History:
    return History(
        loss=[1.0 / (k + 1) for k in range(epochs)],
        accuracy=[0.5 + 0.04 * k for k in range(epochs)],
        val_accuracy=[0.5 + 0.03 * k for k in range(epochs)] if val else [],
    )


def _legend_labels(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_importing_labcode_does_not_import_matplotlib_or_pick_a_backend():
    code = "import sys, labcode; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_training_curves_single_run_draws_loss_and_both_accuracies():
    history = _history(12)
    fig = plot_training_curves(history)
    assert isinstance(fig, Figure)
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_yscale() == "log"
    assert ax_loss.get_xlabel() == ax_acc.get_xlabel() == "epoch"
    assert _legend_labels(ax_loss) == ["training loss"]
    assert _legend_labels(ax_acc) == ["held-out", "training"]
    assert ax_acc.get_title() == "Accuracy"
    (loss_line,) = ax_loss.get_lines()
    assert list(loss_line.get_xdata()) == list(range(1, 13))
    assert list(loss_line.get_ydata()) == history.loss
    held_out, training = ax_acc.get_lines()
    assert list(held_out.get_ydata()) == history.val_accuracy
    assert list(training.get_ydata()) == history.accuracy


def test_training_curves_runs_differ_in_colour_style_and_marker():
    fig = plot_training_curves(
        {"ReLU": _history(), "no activation": _history()}, accuracy=["held-out"]
    )
    ax_loss, ax_acc = fig.axes
    assert _legend_labels(ax_loss) == ["ReLU", "no activation"]
    assert _legend_labels(ax_acc) == ["ReLU", "no activation"]
    assert ax_acc.get_title() == "Held-out accuracy"
    first, second = ax_acc.get_lines()
    assert to_hex(first.get_color()) == OKABE_ITO["blue"].lower()
    assert to_hex(second.get_color()) == OKABE_ITO["vermillion"].lower()
    assert first.get_linestyle() != second.get_linestyle()
    assert first.get_marker() != second.get_marker()


def test_training_curves_skips_held_out_when_not_recorded():
    fig = plot_training_curves(_history(val=False))
    assert _legend_labels(fig.axes[1]) == ["training"]


def test_training_curves_labels_both_accuracies_of_named_runs():
    fig = plot_training_curves({"ReLU": _history(), "none": _history()})
    assert _legend_labels(fig.axes[1]) == [
        "ReLU: held-out",
        "ReLU: training",
        "none: held-out",
        "none: training",
    ]


def test_training_curves_of_losses_alone_draw_the_loss_alone():
    """A student's loop may record only its losses: one panel, holding exactly those values."""
    fig = plot_training_curves({"my MLP": History(loss=[0.7, 0.5, 0.25])})
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [0.7, 0.5, 0.25]
    assert ax.get_yscale() == "log" and line.get_label() == "my MLP"


@pytest.mark.parametrize(
    "runs, match",
    [
        (["a", "b"], "got list"),
        ([0.7, 0.5], "got list"),
        ({}, "got dict {}"),
        ({"a": "not a history"}, "got dict"),
        ({"empty": History()}, r"got dict \{'empty': History\(loss=\[\]"),
        ({f"run {k}": History(loss=[1.0, 0.5]) for k in range(5)}, r"got dict \{'run 0'"),
        ("loss", "got str 'loss'"),
    ],
)
def test_training_curves_rejects_bad_runs(runs, match):
    expected = r"^runs must be a History or map 1 to 4 labels to Histories of at least one epoch, "
    with pytest.raises(TypeError, match=expected + ".*" + match):
        plot_training_curves(runs)


def test_training_curves_draw_up_to_four_runs():
    fig = plot_training_curves({f"run {k}": History([1.0, 0.5]) for k in range(len(RUN_STYLES))})
    assert len(fig.axes[0].get_lines()) == len(RUN_STYLES)


def test_training_curves_rejects_unknown_accuracy_kind():
    with pytest.raises(ValueError, match="accuracy"):
        plot_training_curves(_history(), accuracy=["validation"])


def test_decision_boundary_draws_regions_boundary_and_one_scatter_per_class():
    X, y = make_moons(60, noise=0.1, seed=3)
    with seeded(0):
        model = MLP(2, [8], 2)
    fig = plot_decision_boundary(model, X, y, title="held-out")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title() == "held-out"
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(s.get_offsets()) for s in scatters] == [int((y == 0).sum()), int((y == 1).sum())]
    assert _legend_labels(ax) == ["class 0", "class 1", "decision boundary"]
    assert len(ax.collections) > len(scatters)  # the filled regions and the boundary line


def test_decision_boundary_leaves_the_global_random_state_alone():
    X, y = make_moons(20, seed=1)
    with seeded(0):
        model = MLP(2, [4], 2)
    state = torch.random.get_rng_state()
    plot_decision_boundary(model, X, y)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("training", [True, False])
def test_decision_boundary_evaluates_a_dropout_model_in_evaluation_mode(training):
    # In training mode dropout would redraw the regions at random on every call and
    # advance the global generator.
    X, y = make_moons(40, seed=2)
    with seeded(0):
        model = torch.nn.Sequential(
            torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2)
        )
    model.train(training)
    state = torch.random.get_rng_state()
    regions = [plot_decision_boundary(model, X, y).axes[0].collections[0] for _ in range(2)]
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(m.training == training for m in model.modules())
    first, second = (r.get_paths() for r in regions)
    assert len(first) == len(second)
    assert all((a.vertices == b.vertices).all() for a, b in zip(first, second))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "not a model"}, TypeError, "model"),
        (
            {"X": torch.zeros(5, 3)},
            ValueError,
            r"X must have shape \(N, 2\).*got X of shape \(5, 3\)",
        ),
        ({"y": torch.zeros(5)}, ValueError, r"y be int64 .*got X .* a float32 tensor"),
        ({"X": torch.zeros(5, 2, dtype=torch.int64)}, TypeError, "X must be"),
        ({"y": [0, 1, 0, 1, 0]}, TypeError, "y must be"),
        ({"y": torch.zeros(4, dtype=torch.int64)}, ValueError, r"to match it, .*shape \(4,\)"),
    ],
)
def test_decision_boundary_rejects_bad_input(kwargs, error, match):
    with seeded(0):
        args = {
            "model": MLP(2, [4], 2),
            "X": torch.zeros(5, 2),
            "y": torch.zeros(5, dtype=torch.int64),
        }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        plot_decision_boundary(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_activations_figure_draws_each_function_and_its_derivative():
    fig = labcode.plot_activations()
    values, derivatives = fig.axes
    by_name = {line.get_label(): line for line in derivatives.get_lines()}
    z = torch.tensor(by_name["tanh"].get_xdata(), dtype=torch.float64)
    expected = {
        "relu": (z > 0).double(),
        "tanh": 1 - torch.tanh(z) ** 2,
        "sigmoid": torch.sigmoid(z) * (1 - torch.sigmoid(z)),
    }
    for name, curve in expected.items():
        torch.testing.assert_close(torch.tensor(by_name[name].get_ydata()), curve)
    assert [line.get_label() for line in values.get_lines()] == ["relu", "tanh", "sigmoid"]


# --- the data each figure draws, and how it reads on a phone and in greyscale ---------------


def _assert_readable(fig):
    """Titles and axis labels at FONT_SIZE, tick labels and legends at most 2 pt smaller, and
    a constrained layout so no label is clipped."""
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    for ax in fig.axes:
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
            if text.get_text():
                assert text.get_fontsize() == FONT_SIZE, text.get_text()
        assert ax.xaxis.get_ticklabels()[0].get_fontsize() == FONT_SIZE - 1
        legend = ax.get_legend()
        assert legend is not None and all(
            t.get_fontsize() >= FONT_SIZE - 2 for t in legend.get_texts()
        )


def test_training_curves_draw_the_history_they_were_given():
    history = _history(40)
    fig = plot_training_curves({"ReLU": history, "linear": _history(40, val=False)})
    ax_loss, ax_acc = fig.axes
    _assert_readable(fig)
    relu_loss, linear_loss = ax_loss.get_lines()
    epochs = list(range(1, 41))
    assert list(relu_loss.get_xdata()) == epochs and list(relu_loss.get_ydata()) == history.loss
    held_out, training, linear_training = ax_acc.get_lines()
    assert (
        list(held_out.get_xdata()) == epochs and list(held_out.get_ydata()) == history.val_accuracy
    )
    assert list(training.get_ydata()) == history.accuracy
    assert _legend_labels(ax_acc) == ["ReLU: held-out", "ReLU: training", "linear: training"]
    # held-out in the run's own style; training accuracy a thinner dotted line, same colour
    for line, style in (
        (relu_loss, RUN_STYLES[0]),
        (linear_loss, RUN_STYLES[1]),
        (held_out, RUN_STYLES[0]),
    ):
        assert (line.get_color(), line.get_linestyle(), line.get_marker()) == (
            style["color"],
            style["linestyle"],
            style["marker"],
        )
        assert line.get_linewidth() == 2 and line.get_markersize() == 6
    assert (training.get_color(), training.get_linestyle()) == (RUN_STYLES[0]["color"], ":")
    assert training.get_linewidth() < held_out.get_linewidth()
    assert relu_loss.get_markevery() == 5  # about eight markers on 40 epochs, not one per point
    assert (
        ax_loss.get_ylabel() == "cross-entropy (log scale)"
        and ax_loss.get_title() == "Training loss"
    )
    assert ax_acc.get_ylabel() == "fraction correct"
    for ax in fig.axes:  # a light grid
        gridline = ax.yaxis.get_gridlines()[0]
        assert gridline.get_visible() and gridline.get_alpha() == 0.3


def test_training_curves_mark_every_epoch_of_a_short_run():
    (line, *_) = plot_training_curves(_history(6)).axes[0].get_lines()
    assert line.get_markevery() == 1


def test_training_curves_of_held_out_alone_name_only_the_runs():
    fig = plot_training_curves({"a": _history(4), "b": _history(4)}, accuracy="held-out")
    ax_acc = fig.axes[1]
    assert ax_acc.get_title() == "Held-out accuracy" and _legend_labels(ax_acc) == ["a", "b"]
    (line,) = plot_training_curves(_history(4), accuracy=["held-out"]).axes[1].get_lines()
    assert line.get_label() == "held-out"


def test_training_curves_of_losses_alone_are_one_narrower_panel():
    full = plot_training_curves(_history(5)).get_size_inches()
    (ax,) = (fig := plot_training_curves(History(loss=[1.0, 0.5, 0.25]))).axes
    width, height = fig.get_size_inches()
    assert full[0] / 2 < width < full[0] and height == full[1]
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 0.5, 0.25]


class _Recording(torch.nn.Module):
    """Logits (x1, -x1): class 0 right of the line x1 = 0, class 1 left of it; it keeps the
    grid it was evaluated on."""

    def forward(self, x):
        self.seen = x
        return torch.stack([x[:, 0], -x[:, 0]], dim=1)


def test_decision_boundary_evaluates_a_padded_grid_and_draws_the_boundary_where_classes_change():
    X = torch.tensor([[-1.0, -2.0], [2.0, 0.5], [0.5, 3.0], [-0.5, 1.0]])
    y = torch.tensor([1, 0, 0, 1])
    model = _Recording()
    fig = plot_decision_boundary(model, X, y)
    (ax,) = fig.axes
    grid = model.seen  # 200 x 200 points, 0.5 beyond the data on every side
    assert grid.shape == (200 * 200, 2) and grid.dtype == X.dtype
    xs, ys = grid[:, 0].reshape(200, 200), grid[:, 1].reshape(200, 200)
    torch.testing.assert_close(xs[0], torch.linspace(-1.5, 2.5, 200))  # rows run along x1
    torch.testing.assert_close(ys[:, 0], torch.linspace(-2.5, 3.5, 200))
    assert (xs == xs[0]).all() and (ys.T == ys[:, 0]).all()
    regions, boundary = ax.collections[:2]
    assert list(regions.levels) == [-0.5, 0.5, 1.5]  # one band per class, centred on it
    assert [tuple(c) for c in regions.get_facecolor()] == [
        to_rgba(s["color"], 0.18) for s in CLASS_STYLES[:2]
    ]
    vertices = torch.tensor(np.concatenate([p.vertices for p in boundary.get_paths()]))
    step = 4.0 / 199
    assert vertices[:, 0].abs().max() <= step  # the line x1 = 0, to within one grid step
    assert vertices[:, 1].min() == -2.5 and vertices[:, 1].max() == 3.5
    assert (
        to_hex(boundary.get_edgecolor()[0]) == OKABE_ITO["black"]
        and boundary.get_linewidth()[0] == 1.5
    )
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    for k, (points, style) in enumerate(zip(scatters, CLASS_STYLES)):
        assert points.get_offsets().tolist() == X[y == k].tolist()
        assert to_hex(points.get_facecolor()[0]) == style["color"].lower()
        assert to_hex(points.get_edgecolor()[0]) == "#ffffff"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_aspect()) == ("$x_1$", "$x_2$", 1.0)
    assert ax.get_title() == "" and ax.get_legend()._loc == 3  # "lower left"
    _assert_readable(fig)


def test_decision_boundary_counts_the_classes_the_model_predicts():
    class ThreeWay(torch.nn.Module):  # predicts class 2 on the right, where no point lies
        def forward(self, x):
            return torch.stack([-x[:, 0], torch.zeros(len(x)), x[:, 0] - 0.5], dim=1)

    X, y = torch.tensor([[-1.0, 0.0], [0.5, 1.0]]), torch.tensor([0, 1])
    (ax,) = plot_decision_boundary(ThreeWay(), X, y).axes
    assert list(ax.collections[0].levels) == [-0.5, 0.5, 1.5, 2.5]
    assert _legend_labels(ax) == ["class 0", "class 1", "class 2", "decision boundary"]

    class FiveWay(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.full((len(x),), 4), 5).float()

    with pytest.raises(ValueError, match="at most 4 classes, got 5"):
        plot_decision_boundary(FiveWay(), X, y)


def test_finite_difference_errors_draw_one_log_log_line_per_dtype_and_the_mark():
    eps = [1e-8, 1e-6, 1e-4, 1e-2]
    errors = {"float64": [1e-8, 1e-10, 1e-9, 1e-5], "float32": [1.0, 1e-2, 1e-3, 1e-4]}
    fig = plot_finite_difference_errors(eps, errors, mark=1e-6)
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    *lines, marker = ax.get_lines()
    for line, (label, err), style in zip(lines, errors.items(), RUN_STYLES):
        assert line.get_label() == label
        assert list(line.get_xdata()) == eps and list(line.get_ydata()) == err
        assert (line.get_color(), line.get_linestyle(), line.get_marker()) == (
            style["color"],
            style["linestyle"],
            style["marker"],
        )
        assert line.get_markersize() == 5 and line.get_linewidth() == 1.8
    assert list(marker.get_xdata()) == [1e-6, 1e-6] and marker.get_label() == "gradcheck's eps"
    assert (marker.get_color(), marker.get_linestyle()) == (OKABE_ITO["black"], ":")
    assert _legend_labels(ax) == ["float64", "float32", "gradcheck's eps"]
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().y0 >= ax.bbox.y1 - 1  # above the axes, clear of the curves
    assert not legend.get_frame_on() and legend._ncols == 3
    assert ax.xaxis.label.get_text() == r"step $\epsilon$" and "estimate - exact" in ax.get_ylabel()
    _assert_readable(fig)
    assert (
        len(plot_finite_difference_errors(eps, {"float64": errors["float64"]}).axes[0].get_lines())
        == 1
    )


def test_activations_figure_draws_each_function_on_z_from_minus_four_to_four():
    fig = labcode.plot_activations()
    values, derivatives = fig.axes
    for ax in fig.axes:
        for line, style in zip(ax.get_lines(), RUN_STYLES):
            z = torch.tensor(line.get_xdata())
            torch.testing.assert_close(z, torch.linspace(-4, 4, 401, dtype=torch.float64))
            assert (line.get_color(), line.get_linestyle()) == (style["color"], style["linestyle"])
            assert line.get_linewidth() == 2 and line.get_markevery() == 50
    relu, tanh, sigmoid = values.get_lines()
    torch.testing.assert_close(torch.tensor(tanh.get_ydata()), torch.tanh(z))
    torch.testing.assert_close(torch.tensor(relu.get_ydata()), torch.relu(z))
    torch.testing.assert_close(torch.tensor(sigmoid.get_ydata()), torch.sigmoid(z))
    assert (
        values.get_title() == r"activation $\sigma(z)$"
        and derivatives.get_title() == r"derivative $\sigma'(z)$"
    )
    assert values.get_xlabel() == derivatives.get_xlabel() == "$z$"
    _assert_readable(fig)
