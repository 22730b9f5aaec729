"""Tests for labcode.checks.linear_backward: the reference passes; each planted mistake is named.

The planted mistakes are small wrong functions, each the kind a student writes. Every
test asserts the exact diagnosis codes (not just "failed"), so a check that fails for
the wrong reason fails the test. ``tests/checks/test_report.py`` and
``benchmarks/checks_time.py`` reuse them.
"""
from __future__ import annotations

import pytest
import torch

import labcode
from labcode.checks import LINEAR_CASES, check_linear_backward
from labcode.checks import linear_backward as linear_backward_check

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
    monkeypatch.setattr(linear_backward_check, "LINEAR_CASES", (((6,), 4, 4, True),))
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


def noisy_weight_gradient(grad_output, x, weight, bias):
    """Right, plus random noise on grad_weight: the errors in the report are random."""
    g, x2 = _flat(grad_output, x, weight)
    noise = 1e-3 * torch.randn(weight.shape, dtype=weight.dtype)
    return grad_output @ weight, g.T @ x2 + noise, (g.sum(0) if bias is not None else None)


def test_check_linear_backward_is_deterministic_and_leaves_the_global_generator_alone():
    reports = []
    for caller_seed in (1, 2):  # callers whose global random streams differ
        with labcode.seeded(caller_seed):
            state = torch.random.get_rng_state()
            reports.append(check_linear_backward(noisy_weight_gradient))
            assert torch.equal(torch.random.get_rng_state(), state)
    first, second = reports
    assert not first.passed and first.codes == ["wrong_values"]
    assert (first.cases, first.diagnoses) == (second.cases, second.diagnoses)


@pytest.mark.parametrize("raises", [False, True], ids=["returns", "raises"])
def test_checks_run_on_one_thread_and_restore_the_callers_count(raises):
    # conftest pins the suite to 1 thread, so the caller's count must be something else
    # here, or restoring it could not be told apart from leaving it at 1.
    seen = []

    def student(grad_output, x, weight, bias):
        seen.append(torch.get_num_threads())
        if raises:
            raise RuntimeError("student bug")
        return transposed_weight(grad_output, x, weight, bias)

    suite_threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        report = check_linear_backward(student)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(suite_threads)
    assert not report.passed
    assert seen == [1] * len(LINEAR_CASES)
    assert after == 3
