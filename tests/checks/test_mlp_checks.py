"""Tests for labcode.checks.mlp: the reference passes; each planted mistake is named.

The planted mistakes are small wrong MLP classes, each the kind a student writes. Every
test asserts the exact diagnosis codes (not just "failed"), so a check that fails for
the wrong reason fails the test. ``benchmarks/checks_time.py`` reuses them.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import labcode
from labcode import checks
from labcode.checks import check_mlp

# --------------------------------------------------------------------- planted MLP bugs

class LinearOnlyMLP(nn.Module):
    """Forgets the activation: a stack of linear layers."""

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__()
        widths = [in_features, *hidden_features, out_features]
        self.layers = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(widths, widths[1:])])

    def forward(self, x):
        return self.layers(x)


class SoftmaxMLP(labcode.MLP):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class ReluOnOutputMLP(labcode.MLP):
    def forward(self, x):
        return torch.relu(super().forward(x))


class ArgmaxMLP(labcode.MLP):
    def forward(self, x):
        return super().forward(x).argmax(dim=1).float()


class PythonListMLP(nn.Module):
    """Keeps the hidden layers in a plain list: the optimizer never sees them."""

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__()
        widths = [in_features, *hidden_features]
        self.hidden = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
        self.out = nn.Linear(widths[-1], out_features)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)


class AllInListMLP(nn.Module):
    """Every layer in a plain list: nothing is registered."""

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__()
        widths = [in_features, *hidden_features, out_features]
        self.all_layers = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]

    def forward(self, x):
        for layer in self.all_layers[:-1]:
            x = torch.relu(layer(x))
        return self.all_layers[-1](x)


class UnusedLayerMLP(labcode.MLP):
    def __init__(self, in_features, hidden_features, out_features):
        super().__init__(in_features, hidden_features, out_features)
        self.extra = nn.Linear(out_features, out_features)  # defined, never used


class DetachedMLP(labcode.MLP):
    def forward(self, x):
        return super().forward(x).detach()


class NotImplementedMLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features):
        super().__init__()
        raise NotImplementedError("TODO: implement MLP.__init__")


class IntHiddenMLP(nn.Module):
    """Expects one hidden width as an int: check_mlp passes a list."""

    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, out_features))

    def forward(self, x):
        return self.net(x)


def not_a_module(in_features, hidden_features, out_features):
    return lambda x: x


MLP_MISTAKES = [
    (LinearOnlyMLP, ["no_nonlinearity"]),
    (SoftmaxMLP, ["softmax_output"]),
    (ReluOnOutputMLP, ["activation_on_output"]),
    (ArgmaxMLP, ["wrong_shape"]),
    (PythonListMLP, ["unregistered_parameter"]),
    (AllInListMLP, ["no_parameters", "unregistered_parameter"]),
    (UnusedLayerMLP, ["no_gradient"]),
    (DetachedMLP, ["no_gradient"]),
    (NotImplementedMLP, ["not_implemented"]),
    (IntHiddenMLP, ["raised"]),
    (not_a_module, ["not_a_module"]),
]


def test_reference_mlp_passes_every_check():
    report = check_mlp(labcode.MLP)
    assert report.passed, str(report)
    assert len(report.cases) == len(checks.MLP_CONFIGS)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_every_activation_counts_as_a_nonlinearity(activation):
    def build(d_in, hidden, d_out):
        return labcode.MLP(d_in, hidden, d_out, activation=activation)
    assert check_mlp(build).passed


def test_labcode_mlp_without_activation_is_diagnosed_affine():
    report = check_mlp(lambda d_in, hidden, d_out: labcode.MLP(d_in, hidden, d_out, activation=None))
    assert report.codes == ["no_nonlinearity"]
    assert "collapses" in report.diagnoses[0].message


@pytest.mark.parametrize("cls, codes", MLP_MISTAKES, ids=[c.__name__ for c, _ in MLP_MISTAKES])
def test_mlp_mistake_gets_its_diagnosis(cls, codes):
    report = check_mlp(cls)
    assert not report.passed
    assert report.codes == codes, str(report)


def test_unused_layer_is_named():
    report = check_mlp(UnusedLayerMLP)
    assert "extra.weight" in report.diagnoses[0].message


class DropoutMLP(labcode.MLP):
    """Dropout before the output layer: training-mode forwards draw random masks."""

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__(in_features, hidden_features, out_features)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        return self.layers[-1](self.dropout(self.layers[:-1](x)))


class NoisyLinearMLP(labcode.MLP):
    """No activation, and noise on the input even in evaluation mode: the only thing
    that keeps it from being affine is the noise, so its affine error is random."""

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__(in_features, hidden_features, out_features, activation=None)

    def forward(self, x):
        return super().forward(x + 0.1 * torch.randn_like(x))


@pytest.mark.parametrize("cls", [DropoutMLP, NoisyLinearMLP], ids=lambda c: c.__name__)
def test_check_mlp_is_deterministic_and_leaves_the_global_generator_alone(cls):
    reports = []
    for caller_seed in (1, 2):  # callers whose global random streams differ
        with labcode.seeded(caller_seed):
            state = torch.random.get_rng_state()
            reports.append(check_mlp(cls))
            assert torch.equal(torch.random.get_rng_state(), state)
    first, second = reports
    assert all(dict(case.cells)["nonlinear"].startswith("yes") for case in first.cases)
    assert (first.cases, first.diagnoses) == (second.cases, second.diagnoses)


def test_check_mlp_rejects_an_instance_and_non_callables():
    with pytest.raises(TypeError, match="pass MLP, not MLP"):
        check_mlp(labcode.MLP(2, [4], 2))
    with pytest.raises(TypeError, match="model_class must be a class"):
        check_mlp("MLP")
