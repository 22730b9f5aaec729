"""labcode.checks.mlp: the reference passes; every planted mistake of the catalogue gets
exactly its own diagnosis (not just "failed")."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import labcode
from labcode import checks
from labcode.checks import check_mlp
from _planted import plant, plants

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


@pytest.mark.parametrize("mistake, wrong", plants("mlp"))
def test_each_planted_mistake_gets_its_own_diagnosis_and_no_other(mistake, wrong):
    report = check_mlp(wrong)
    assert not report.passed
    assert report.codes == [mistake.code, *mistake.also], str(report)
    assert all(d.message and d.cases for d in report.diagnoses)


def test_unused_layer_is_named():
    report = check_mlp(plant("no_gradient", "mlp", 0))
    assert "reached scale:" in report.diagnoses[0].message


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
