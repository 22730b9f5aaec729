"""labcode.checks.mlp: the reference passes; every planted mistake of the catalogue gets
exactly its own diagnosis (not just "failed")."""

from __future__ import annotations

import re

import pytest
import torch
from _planted import assert_diagnosed_as, plant, plants, under_two_caller_seeds
from torch import nn

import labcode
from labcode import checks
from labcode.checks import check_mlp


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
    report = check_mlp(
        lambda d_in, hidden, d_out: labcode.MLP(d_in, hidden, d_out, activation=None)
    )
    assert report.codes == ["no_nonlinearity"]
    assert "collapses" in report.diagnoses[0].message


@pytest.mark.parametrize("mistake, wrong", plants("mlp"))
def test_each_planted_mistake_gets_its_own_diagnosis_and_no_other(mistake, wrong):
    report = check_mlp(wrong)
    assert_diagnosed_as(report, mistake)


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
    first, second = under_two_caller_seeds(check_mlp, cls)
    assert all(dict(case.cells)["nonlinear"].startswith("yes") for case in first.cases)
    assert (first.cases, first.diagnoses) == (second.cases, second.diagnoses)


def test_check_mlp_rejects_an_instance_and_non_callables():
    with pytest.raises(TypeError, match="pass MLP, not MLP"):
        check_mlp(labcode.MLP(2, [4], 2))
    with pytest.raises(TypeError, match="model_class must be a class"):
        check_mlp("MLP")


# --- what each row of the report says ------------------------------------------------------
#: The report's columns, in the order the lab's table shows them.
COLUMNS = ["module", "output (N, C)", "nonlinear", "gradients"]


def _names(cls_name):
    return [
        f"{cls_name}({d_in}, {list(hidden)}, {d_out})" for d_in, hidden, d_out in checks.MLP_CONFIGS
    ]


def _assert_rows_well_formed(report, cls_name):
    assert [case.name for case in report.cases] == _names(cls_name)
    for case in report.cases:
        assert [column for column, _ in case.cells] == COLUMNS
        assert all(isinstance(text, str) and text for _, text in case.cells)
        assert case.comparisons == ()
        assert case.passed is (case.note == "")


def test_reference_rows_show_the_counts_the_check_measured():
    report = check_mlp(labcode.MLP)
    _assert_rows_well_formed(report, "MLP")
    batch_sizes = ", ".join(map(str, checks.MLP_BATCH_SIZES))
    for case, (d_in, hidden, d_out) in zip(report.cases, checks.MLP_CONFIGS):
        params = list(labcode.MLP(d_in, list(hidden), d_out).parameters())
        cells = dict(case.cells)
        assert cells["module"] == f"ok, {sum(p.numel() for p in params)} parameters"
        assert cells["output (N, C)"] == f"ok for N = {batch_sizes}"
        assert cells["gradients"] == f"ok, all {len(params)} tensors"
        error = float(re.fullmatch(r"yes \(affine error (\S+)\)", cells["nonlinear"]).group(1))
        assert error > 1e-6  # far from affine: a ReLU network bends
        assert case.passed is True and case.note == ""
    assert report.codes == [] and "3 of 3 cases passed, 0 diagnoses" in str(report)


@pytest.mark.parametrize("mistake, wrong", plants("mlp"))
def test_each_row_names_the_mistake_found_in_it(mistake, wrong):
    report = check_mlp(wrong)
    assert report.title == "check_mlp(MLP)"  # a plant is named as a student's class is
    _assert_rows_well_formed(report, "MLP")
    for case in report.cases:
        codes = [d.code for d in report.diagnoses if case.name in d.cases]
        assert case.passed is not codes
        if "raised" in codes or "not_implemented" in codes:
            assert case.note.startswith(("raised ", "not implemented yet"))
            assert "raised" in dict(case.cells).values()
        else:
            assert case.note.split("; ") == (codes or [""])
            assert set(codes) <= set(dict(case.cells).values())
    # a diagnosis names every failing row, and only those
    failing = {case.name for case in report.cases if not case.passed}
    assert set().union(*(d.cases for d in report.diagnoses)) == failing


def _message(report, code):
    return next(d.message for d in report.diagnoses if d.code == code)


def test_wrong_shape_message_gives_the_shapes():
    report = check_mlp(plant("wrong_shape", "mlp"))
    d_in, _, d_out = checks.MLP_CONFIGS[0]
    n = checks.MLP_BATCH_SIZES[0]
    message = _message(report, "wrong_shape")
    assert f"x of shape {(n, d_in)}" in message and f"shape {(n,)}" in message
    assert f"{(n, d_out)}" in message and "One number per sample" in message
    assert dict(report.cases[0].cells)["output (N, C)"] == "wrong_shape"


def test_transposed_output_is_named():
    report = check_mlp(checks.mistakes._then(labcode.MLP, lambda logits: logits.mT))  # (C, N)
    assert report.codes[0] == "wrong_shape"
    assert "It is transposed." in _message(report, "wrong_shape")


def test_wrong_layer_sizes_message_lists_the_weight_shapes():
    report = check_mlp(plant("wrong_layer_sizes", "mlp"))
    first = next(i for i, (_, hidden, _) in enumerate(checks.MLP_CONFIGS) if len(hidden) > 1)
    d_in, hidden, d_out = checks.MLP_CONFIGS[first]
    widths = (d_in, *hidden, d_out)
    want = [(b, a) for a, b in zip(widths, widths[1:])]
    got = [
        tuple(p.shape)
        for p in labcode.MLP(d_in, list(hidden)[:1], d_out).parameters()
        if p.dim() == 2
    ]
    message = _message(report, "wrong_layer_sizes")
    assert str(got) in message and str(want) in message
    assert report.cases[0].passed and not report.cases[first].passed  # one hidden layer: right
    assert dict(report.cases[first].cells)["module"] == "wrong_layer_sizes"


def test_unregistered_tensors_are_counted_with_their_shapes():
    report = check_mlp(plant("no_parameters", "mlp"))
    d_in, hidden, d_out = checks.MLP_CONFIGS[0]
    params = list(labcode.MLP(d_in, list(hidden), d_out).parameters())
    message = _message(report, "unregistered_parameter")
    assert f"uses {len(params)} trainable tensor(s)" in message
    assert all(str(tuple(p.shape)) in message for p in params)
    assert dict(report.cases[0].cells)["module"] == "no_parameters"
    assert dict(report.cases[0].cells)["gradients"] == "unregistered_parameter"


def test_activation_on_output_counts_the_inputs_seen():
    message = _message(check_mlp(plant("activation_on_output", "mlp")), "activation_on_output")
    assert f"on {checks.MLP_BATCH_SIZES[-1]} random inputs" in message


def test_affine_model_message_gives_its_affine_error():
    report = check_mlp(plant("no_nonlinearity", "mlp"))
    error = float(re.search(r"to (\S+)\. Without", _message(report, "no_nonlinearity")).group(1))
    assert 0 <= error < 1e-6
    assert [dict(c.cells)["nonlinear"] for c in report.cases] == ["no_nonlinearity"] * 3


class Float32Only(nn.Module):
    """Casts its input to float32, so the float64 probe cannot run: the check falls back
    to float32 and its looser threshold."""

    def __init__(self, in_features, hidden_features, out_features, activation="relu"):
        super().__init__()
        self.inner = labcode.MLP(in_features, hidden_features, out_features, activation=activation)

    def forward(self, x):
        return self.inner.float()(x.float())


def test_a_float32_only_model_is_probed_in_float32():
    assert check_mlp(Float32Only).passed
    affine = check_mlp(lambda *a: Float32Only(*a, activation=None))
    assert affine.codes == ["no_nonlinearity"]
    error = float(re.search(r"to (\S+)\. Without", affine.diagnoses[0].message).group(1))
    assert error < 1e-3  # float32 rounding, far below a real bend


class RaisesIn(nn.Module):
    """An MLP whose forward raises in training mode or whose backward raises."""

    def __init__(self, in_features, hidden_features, out_features, where="train"):
        super().__init__()
        self.inner, self.where = labcode.MLP(in_features, hidden_features, out_features), where

    def forward(self, x):
        if self.training and self.where == "train":
            raise RuntimeError("dropout mask has the wrong size")
        out = self.inner(x)
        return _FailingBackward.apply(out) if self.where == "backward" else out


class _FailingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return z.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("backward is broken")


@pytest.mark.parametrize(
    "where, what",
    [("train", "the forward pass in training mode"), ("backward", "backward through the model")],
)
def test_an_exception_names_the_step_that_raised(where, what):
    def build(*a):
        return RaisesIn(*a, where=where)

    report = check_mlp(build)
    assert report.codes == ["raised"]
    message = report.diagnoses[0].message
    assert what in message and "RuntimeError" in message and "(raised at line " in message
    assert set(report.diagnoses[0].cases) == set(_names(checks._support.callable_name(build)))
    assert [dict(c.cells)["gradients"] for c in report.cases] == ["raised"] * 3
    assert all(dict(c.cells)["output (N, C)"].startswith("ok") for c in report.cases)


def test_a_constructor_that_raises_is_reported_with_the_call():
    wrong = plant("raised", "mlp")
    report = check_mlp(wrong)
    message = report.diagnoses[0].message
    assert (
        f"building {_names(checks._support.callable_name(wrong))[0]}" in message
        and "hidden_features a list" in message
    )
    assert [dict(c.cells)["module"] for c in report.cases] == ["raised"] * 3
    assert all(dict(c.cells)[k] == "—" for c in report.cases for k in COLUMNS[1:])


def test_a_forward_that_raises_names_the_input_shape():
    class Broken(labcode.MLP):
        def forward(self, x):
            raise IndexError("index out of range")

    report = check_mlp(Broken)
    d_in = checks.MLP_CONFIGS[0][0]
    assert (
        f"on x of shape {(checks.MLP_BATCH_SIZES[0], d_in)} raised IndexError"
        in report.diagnoses[0].message
    )
    assert dict(report.cases[0].cells) == {
        "module": dict(check_mlp(labcode.MLP).cases[0].cells)["module"],
        "output (N, C)": "raised",
        "nonlinear": "—",
        "gradients": "—",
    }


def test_not_a_module_leaves_the_other_columns_empty():
    report = check_mlp(plant("not_a_module", "mlp"))
    assert ") returned function <function " in report.diagnoses[0].message
    assert all(
        dict(c.cells)
        == {"module": "not_a_module", "output (N, C)": "—", "nonlinear": "—", "gradients": "—"}
        for c in report.cases
    )
