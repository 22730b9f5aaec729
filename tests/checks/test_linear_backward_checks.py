"""Tests for labcode.checks: the reference passes, each planted mistake gets its diagnosis.

The planted mistakes are small wrong functions, each the kind a student writes. Every
test asserts the exact diagnosis codes (not just "failed"), so a check that fails for
the wrong reason fails the test.
"""
from __future__ import annotations

import html

import pytest
import torch
from torch import nn

import labcode
from labcode import checks
from labcode.checks import (
    DIAGNOSIS_CODES,
    LINEAR_CASES,
    CheckReport,
    check_linear_backward,
    check_mlp,
    check_training,
)

# Fewer epochs than the default keep the training tests fast; the reference loop
# still reaches the accuracy threshold with them (asserted below).
FAST = {"epochs": 120, "lr": 0.02}


# ------------------------------------------------------------ planted linear_backward bugs

def _flat(grad_output, x, weight):
    out_f, in_f = weight.shape
    return grad_output.reshape(-1, out_f), x.reshape(-1, in_f)


def transposed_weight(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, x2.T @ g, (g.sum(0) if bias is not None else None)


def bias_first_row(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2, (g[0] if bias is not None else None)


def bias_mean(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2, (g.mean(0) if bias is not None else None)


def bias_unsummed(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2, (grad_output if bias is not None else None)


def mean_loss_off_by_n(grad_output, x, weight, bias):
    """Divides by N again, as if grad_output were the gradient of the summed loss."""
    g, x2 = _flat(grad_output, x, weight)
    n = g.shape[0]
    return (grad_output @ weight, g.T @ x2 / n, (g.sum(0) / n if bias is not None else None))


def all_grads_times_n(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    n = g.shape[0]
    return (n * (grad_output @ weight), n * (g.T @ x2), (n * g.sum(0) if bias is not None else None))


def divides_by_first_dim(grad_output, x, weight, bias):
    """Off by x.shape[0] (the batch size as a 2-D-only student reads it)."""
    g, x2 = _flat(grad_output, x, weight)
    n = x.shape[0]
    return (grad_output @ weight, g.T @ x2 / n, (g.sum(0) / n if bias is not None else None))


def bias_keepdim(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2, (g.sum(0, keepdim=True) if bias is not None else None)


def weight_not_flattened(grad_output, x, weight, bias):
    """Right for 2-D x, but keeps a batch dimension of the weight gradient for 3-D x."""
    grad_weight = grad_output.transpose(-1, -2) @ x
    grad_bias = grad_output.reshape(-1, weight.shape[0]).sum(0) if bias is not None else None
    return grad_output @ weight, grad_weight, grad_bias


def raises_value_error(grad_output, x, weight, bias):
    raise ValueError("shapes do not line up")


def not_implemented(grad_output, x, weight, bias):
    raise NotImplementedError("TODO: implement linear_backward")


def ignores_missing_bias(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2, g.sum(0) + 0 * bias.sum()


def returns_two(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return grad_output @ weight, g.T @ x2


def returns_one_tensor(grad_output, x, weight, bias):
    return grad_output @ weight


def returns_none(grad_output, x, weight, bias):
    grad_output @ weight  # computes, forgets to return


def returns_numpy(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return ((grad_output @ weight).numpy(), (g.T @ x2).numpy(),
            (g.sum(0).numpy() if bias is not None else None))


def returns_nan(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    grad_weight = g.T @ x2
    grad_weight[0, 0] = float("nan")
    return grad_output @ weight, grad_weight, (g.sum(0) if bias is not None else None)


def wrong_sign(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return -(grad_output @ weight), -(g.T @ x2), (-g.sum(0) if bias is not None else None)


def float32_result(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return ((grad_output @ weight).float(), (g.T @ x2).float(),
            (g.sum(0).float() if bias is not None else None))


def modifies_grad_output(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    result = grad_output @ weight, g.T @ x2, (g.sum(0) if bias is not None else None)
    grad_output.zero_()
    return result


def garbage_input_gradient(grad_output, x, weight, bias):
    g, x2 = _flat(grad_output, x, weight)
    return (grad_output @ weight).exp(), g.T @ x2, (g.sum(0) if bias is not None else None)


# (function, the exact diagnosis codes it must get)
LINEAR_MISTAKES = [
    (transposed_weight, ["transposed_weight_gradient"]),
    (bias_first_row, ["bias_not_summed"]),
    (bias_mean, ["bias_not_summed"]),
    (bias_unsummed, ["bias_not_summed"]),
    (mean_loss_off_by_n, ["batch_size_scale"]),
    (all_grads_times_n, ["batch_size_scale"]),
    (divides_by_first_dim, ["batch_size_scale"]),
    (bias_keepdim, ["wrong_shape"]),
    (weight_not_flattened, ["wrong_shape"]),
    (raises_value_error, ["raised"]),
    (not_implemented, ["not_implemented"]),
    (ignores_missing_bias, ["raised"]),
    (returns_two, ["wrong_return"]),
    (returns_one_tensor, ["wrong_return"]),
    (returns_none, ["wrong_return"]),
    (returns_numpy, ["wrong_return"]),
    (returns_nan, ["not_finite"]),
    (wrong_sign, ["wrong_sign"]),
    (float32_result, ["wrong_dtype"]),
    (modifies_grad_output, ["modified_input"]),
    (garbage_input_gradient, ["wrong_values"]),
]


def test_reference_linear_backward_passes_every_case():
    report = check_linear_backward(labcode.linear_backward)
    assert report.passed, str(report)
    assert report.diagnoses == []
    assert len(report.cases) == len(LINEAR_CASES)
    for case in report.cases:
        assert case.passed
        assert all(c.max_abs_error < 1e-12 for c in case.comparisons)


def test_linear_cases_cover_batch_of_one_3d_batch_and_no_bias():
    batch_shapes = [c[0] for c in LINEAR_CASES]
    assert (1,) in batch_shapes
    assert any(len(b) == 2 for b in batch_shapes)
    assert {c[3] for c in LINEAR_CASES} == {True, False}
    assert all(d_in != d_out for _, d_in, d_out, _ in LINEAR_CASES)  # non-square weights


@pytest.mark.parametrize("fn, codes", LINEAR_MISTAKES, ids=[f.__name__ for f, _ in LINEAR_MISTAKES])
def test_linear_backward_mistake_gets_its_diagnosis(fn, codes):
    report = check_linear_backward(fn)
    assert not report.passed
    assert report.codes == codes, str(report)
    assert all(d.message and d.cases for d in report.diagnoses)


def test_transposed_weight_gradient_is_caught_on_square_weights_too(monkeypatch):
    # With a square weight the shapes agree; the values must give it away.
    monkeypatch.setattr(checks, "LINEAR_CASES", (((6,), 4, 4, True),))
    report = check_linear_backward(transposed_weight)
    assert report.codes == ["transposed_weight_gradient"]


def test_batch_of_one_cannot_show_the_batch_size_mistakes():
    """The diagnosis comes from the larger batches: a batch of one is not off by N = 1."""
    report = check_linear_backward(mean_loss_off_by_n)
    by_name = {c.name: c for c in report.cases}
    assert by_name["x (1, 5), weight (3, 5), bias"].passed
    assert not by_name["x (8, 4), weight (6, 4), bias"].passed
    assert "x (8, 4), weight (6, 4), bias" in report.diagnoses[0].cases


def test_bias_shape_of_a_batch_of_one_follows_the_larger_batches():
    """For N = 1, grad_output unsummed and a keepdim sum both give shape (1, D_out)."""
    batch_of_one = "x (1, 5), weight (3, 5), bias"
    unsummed = check_linear_backward(bias_unsummed)
    assert batch_of_one in unsummed.diagnoses[0].cases
    keepdim = check_linear_backward(bias_keepdim)
    assert batch_of_one in keepdim.diagnoses[0].cases
    assert "keepdim" in keepdim.diagnoses[0].message


def test_raising_function_reports_type_message_and_line():
    report = check_linear_backward(raises_value_error)
    message = report.diagnoses[0].message
    assert "ValueError: shapes do not line up" in message
    assert "raises_value_error" in message and "line" in message
    assert all(not c.passed and "ValueError" in c.note for c in report.cases)


def test_missing_bias_hint_names_none():
    report = check_linear_backward(ignores_missing_bias)
    failed = [c for c in report.cases if not c.passed]
    assert [c.name.endswith("no bias") for c in failed] == [True] * len(failed) and failed
    assert "return None for grad_bias" in report.diagnoses[0].message


def test_wrong_return_messages_say_what_came_back():
    assert "got 2 values" in check_linear_backward(returns_two).diagnoses[0].message
    assert "return statement missing" in check_linear_backward(returns_none).diagnoses[0].message
    assert "ndarray" in check_linear_backward(returns_numpy).diagnoses[0].message


@pytest.mark.parametrize("bad", [None, 3, "linear_backward", labcode.MLP(2, [2], 2).layers[0].weight])
def test_check_linear_backward_rejects_non_callables(bad):
    with pytest.raises(TypeError, match="fn must be a function"):
        check_linear_backward(bad)


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


def test_check_mlp_rejects_an_instance_and_non_callables():
    with pytest.raises(TypeError, match="pass MLP, not MLP"):
        check_mlp(labcode.MLP(2, [4], 2))
    with pytest.raises(TypeError, match="model_class must be a class"):
        check_mlp("MLP")


# ----------------------------------------------------------------- planted training bugs

def _full_batch_loop(model, X, y, epochs, lr, *, zero_grad=True, step=True, optimizer="adam",
                     zero_between=False, direction=1.0):
    opt_class = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_class(model.parameters(), lr=lr, maximize=direction < 0)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        if zero_between:
            opt.zero_grad()
        if step:
            opt.step()
        losses.append(loss.item())
    return losses


def student_train(model, X, y, epochs, lr):
    """A correct student loop, written independently of labcode.train."""
    return _full_batch_loop(model, X, y, epochs, lr)


def no_zero_grad(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False)


def no_zero_grad_sgd(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False, optimizer="sgd")


def no_zero_grad_minibatches(model, X, y, epochs, lr):
    """Minibatches of 50 and no zero_grad: matches no reference, the hooks still see it."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for xb, yb in zip(X.split(50), y.split(50)):
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()


def zero_grad_set_to_zeros(model, X, y, epochs, lr):
    """zero_grad(set_to_none=False) leaves zeros, not None: that is cleared too."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()


def no_step(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, step=False)


def zero_grad_between_backward_and_step(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False, zero_between=True)


def gradient_ascent(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, direction=-1.0)


def trains_a_new_model(model, X, y, epochs, lr):
    return _full_batch_loop(labcode.MLP(2, [16, 16], 2), X, y, epochs, lr)


def one_step_only(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, 1, lr)


def train_not_implemented(model, X, y, epochs, lr):
    raise NotImplementedError("TODO: implement train")


def positional_only(model, X, y, n_epochs, learning_rate):
    return _full_batch_loop(model, X, y, n_epochs, learning_rate)


def test_reference_train_passes_every_check():
    report = check_training(labcode.train)
    assert report.passed, str(report)
    assert "match labcode.train(optimizer='adam')" in str(report)


def test_fast_settings_still_pass_the_reference():
    assert check_training(labcode.train, **FAST).passed


def test_independent_correct_loop_passes_and_matches_the_reference():
    report = check_training(student_train, **FAST)
    assert report.passed, str(report)
    assert "match labcode.train(optimizer='adam')" in str(report)


def test_zero_grad_set_to_zeros_passes():
    assert check_training(zero_grad_set_to_zeros, **FAST).passed


TRAINING_MISTAKES = [
    (no_zero_grad, "zero_grad_missing"),
    (no_zero_grad_sgd, "zero_grad_missing"),
    (no_zero_grad_minibatches, "zero_grad_missing"),
    (no_step, "no_update"),
    (zero_grad_between_backward_and_step, "no_update"),
    (gradient_ascent, "loss_not_decreasing"),
    (trains_a_new_model, "no_backward"),
    (one_step_only, "too_few_steps"),
    (train_not_implemented, "not_implemented"),
    (positional_only, "raised"),
]


@pytest.mark.parametrize("fn, code", TRAINING_MISTAKES, ids=[f.__name__ for f, _ in TRAINING_MISTAKES])
def test_training_mistake_gets_its_diagnosis_first(fn, code):
    report = check_training(fn, **FAST)
    assert not report.passed
    assert report.codes[0] == code, str(report)
    # a loop that clears its gradients is never blamed for not clearing them
    if code != "zero_grad_missing":
        assert "zero_grad_missing" not in report.codes


def sgd_loop(model, X, y, epochs, lr):
    """Correct, but plain SGD: it needs a larger learning rate than the Adam default."""
    return _full_batch_loop(model, X, y, epochs, lr, optimizer="sgd")


def test_sgd_loop_at_adam_learning_rate_gets_lr_advice_and_passes_with_it():
    slow = check_training(sgd_loop, **FAST)
    assert slow.codes == ["low_accuracy"]
    assert "plain SGD" in slow.diagnoses[0].message and "lr=0.5" in slow.diagnoses[0].message
    assert check_training(sgd_loop, epochs=FAST["epochs"], lr=0.5).passed


def test_missing_zero_grad_is_confirmed_by_the_trajectory():
    report = check_training(no_zero_grad_sgd, **FAST)
    assert "match labcode.train(optimizer='sgd') without zero_grad" in str(report)
    assert "before backward pass 2" in report.diagnoses[0].message


def test_check_training_rejects_results_and_bad_settings():
    X, y = labcode.make_moons(20, seed=0)
    history = labcode.train(labcode.MLP(2, [4], 2), X, y, epochs=2)
    with pytest.raises(TypeError, match="pass train, not train"):
        check_training(history)
    with pytest.raises(TypeError, match="train_fn must be a function"):
        check_training(labcode.MLP(2, [4], 2))
    with pytest.raises(ValueError, match="epochs"):
        check_training(labcode.train, epochs=0)
    with pytest.raises(ValueError, match="min_accuracy"):
        check_training(labcode.train, min_accuracy=1.5)


def test_checks_restore_the_thread_count():
    before = torch.get_num_threads()
    check_linear_backward(transposed_weight)
    assert torch.get_num_threads() == before


# --------------------------------------------------------------------------- the report

def test_report_renders_as_text_and_html():
    report = check_linear_backward(transposed_weight)
    text = str(report)
    assert text.startswith("check_linear_backward(transposed_weight): FAIL")
    assert "[transposed_weight_gradient]" in text and "grad_weight" in text
    page = report._repr_html_()
    assert "<table>" in page and page.count("<tr>") == len(LINEAR_CASES) + 1
    assert "FAIL" in page and "<code>transposed_weight_gradient</code>" in page
    passing = check_linear_backward(labcode.linear_backward)
    assert "PASS" in passing._repr_html_() and "Diagnoses" not in passing._repr_html_()


def test_report_html_escapes_student_text():
    def evil(grad_output, x, weight, bias):
        raise ValueError("<script>alert(1)</script>")
    page = check_linear_backward(evil)._repr_html_()
    assert "<script>" not in page and html.escape("<script>") in page


def test_report_is_a_checkreport_with_known_codes():
    for fn, _ in LINEAR_MISTAKES:
        report = check_linear_backward(fn)
        assert isinstance(report, CheckReport)
        assert set(report.codes) <= set(DIAGNOSIS_CODES)


def test_checks_are_public():
    for name in ("checks", "check_linear_backward", "check_mlp", "check_training", "CheckReport"):
        assert name in labcode.__all__ and hasattr(labcode, name)
