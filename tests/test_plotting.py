"""labcode.plotting: the shared figures return Figures with the expected artists and labels."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import labcode
from labcode import MLP, History, make_moons
from labcode.seeding import seeded
from labcode.plotting import (
    OKABE_ITO,
    plot_decision_boundary,
    plot_training_curves,
)

plt = pytest.importorskip("matplotlib.pyplot")
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


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
    fig = plot_training_curves({"ReLU": _history(), "no activation": _history()},
                               accuracy=["held-out"])
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
    assert _legend_labels(fig.axes[1]) == ["ReLU: held-out", "ReLU: training",
                                           "none: held-out", "none: training"]


def test_training_curves_of_a_list_of_losses_draw_the_loss_alone():
    """A student's loop returns its losses: one panel, holding exactly those values."""
    fig = plot_training_curves({"my MLP": [0.7, 0.5, 0.25]})
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [0.7, 0.5, 0.25]
    assert ax.get_yscale() == "log" and line.get_label() == "my MLP"


@pytest.mark.parametrize("runs, error", [
    (["a", "b"], TypeError),
    ([], TypeError),
    ({}, TypeError),
    ({"a": "not a history"}, TypeError),
    ({"empty": History()}, ValueError),
])
def test_training_curves_rejects_bad_runs(runs, error):
    with pytest.raises(error, match="runs"):
        plot_training_curves(runs)


def test_training_curves_rejects_unknown_accuracy_kind():
    with pytest.raises(ValueError, match="accuracy"):
        plot_training_curves(_history(), accuracy=["validation"])


def test_decision_boundary_draws_regions_boundary_and_one_scatter_per_class():
    X, y = make_moons(60, noise=0.1, seed=3)
    with seeded(0):
        model = MLP(2, [8], 2)
    fig = plot_decision_boundary(model, X, y, title="held-out", resolution=30)
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
    plot_decision_boundary(model, X, y, resolution=10)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("training", [True, False])
def test_decision_boundary_evaluates_a_dropout_model_in_evaluation_mode(training):
    # In training mode dropout would redraw the regions at random on every call and
    # advance the global generator.
    X, y = make_moons(40, seed=2)
    with seeded(0):
        model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(),
                                    torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    model.train(training)
    state = torch.random.get_rng_state()
    regions = [plot_decision_boundary(model, X, y, resolution=15).axes[0].collections[0]
               for _ in range(2)]
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(m.training == training for m in model.modules())
    first, second = (r.get_paths() for r in regions)
    assert len(first) == len(second)
    assert all((a.vertices == b.vertices).all() for a, b in zip(first, second))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"model": "not a model"}, TypeError, "model"),
    ({"X": torch.zeros(5, 3)}, ValueError, "X must have shape"),
    ({"y": torch.zeros(5)}, ValueError, "y must be an int64"),
    ({"resolution": 0}, ValueError, "resolution"),
])
def test_decision_boundary_rejects_bad_input(kwargs, error, match):
    with seeded(0):
        args = {"model": MLP(2, [4], 2), "X": torch.zeros(5, 2),
                "y": torch.zeros(5, dtype=torch.int64)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        plot_decision_boundary(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_activations_figure_draws_each_function_and_its_derivative():
    fig = labcode.plot_activations()
    values, derivatives = fig.axes
    by_name = {line.get_label(): line for line in derivatives.get_lines()}
    z = torch.tensor(by_name["tanh"].get_xdata(), dtype=torch.float64)
    expected = {"relu": (z > 0).double(), "tanh": 1 - torch.tanh(z) ** 2,
                "sigmoid": torch.sigmoid(z) * (1 - torch.sigmoid(z))}
    for name, curve in expected.items():
        torch.testing.assert_close(torch.tensor(by_name[name].get_ydata()), curve)
    assert [l.get_label() for l in values.get_lines()] == ["relu", "tanh", "sigmoid"]
    with pytest.raises(ValueError, match="names"):
        labcode.plot_activations(["gelu"])


def test_decision_boundary_without_a_model_draws_the_data_alone():
    X, y = labcode.make_moons(40, seed=3)
    (ax,) = labcode.plot_decision_boundary(None, X, y).axes
    assert ax.collections and not any(type(c).__name__.startswith("Quad") for c in ax.collections)
    points = sorted(tuple(p) for c in ax.collections for p in c.get_offsets().tolist())
    assert points == sorted(tuple(p) for p in X.tolist())  # every point, and only the points
