"""labcode.checks.linear_backward: the reference passes; every planted mistake of the
catalogue gets exactly its own diagnosis, and the messages say what to change."""

from __future__ import annotations

import pytest
import torch
from _planted import assert_diagnosed_as, plant, plants, under_two_caller_seeds

import labcode
from labcode.checks import LINEAR_CASES, check_linear_backward
from labcode.checks import linear_backward as linear_backward_check


def test_reference_linear_backward_passes_every_case():
    report = check_linear_backward(labcode.linear_backward)
    assert report.passed, str(report)
    assert report.diagnoses == [] and len(report.cases) == len(LINEAR_CASES)
    for case in report.cases:
        assert case.passed and all(c.max_abs_error < 1e-12 for c in case.comparisons)


def test_linear_cases_cover_batch_of_one_3d_batch_and_no_bias():
    batch_shapes = [c[0] for c in LINEAR_CASES]
    assert (1,) in batch_shapes and any(len(b) == 2 for b in batch_shapes)
    assert {c[3] for c in LINEAR_CASES} == {True, False}
    assert all(d_in != d_out for _, d_in, d_out, _ in LINEAR_CASES)  # non-square weights


@pytest.mark.parametrize("mistake, wrong", plants("linear_backward"))
def test_each_planted_mistake_gets_its_own_diagnosis_and_no_other(mistake, wrong):
    report = check_linear_backward(wrong)
    assert_diagnosed_as(report, mistake)
    assert all(not c.passed for c in report.cases if c.name in report.diagnoses[0].cases)


def test_transposed_weight_gradient_is_caught_on_square_weights_too(monkeypatch):
    # With a square weight the shapes agree; the values must give it away.
    monkeypatch.setattr(linear_backward_check, "LINEAR_CASES", (((6,), 4, 4, True),))
    report = check_linear_backward(plant("transposed_weight_gradient", "linear_backward"))
    assert report.codes == ["transposed_weight_gradient"]


def test_batch_of_one_cannot_show_the_batch_size_mistakes():
    """The diagnosis comes from the larger batches: a batch of one is not off by N = 1."""
    report = check_linear_backward(plant("batch_size_scale", "linear_backward"))
    by_name = {c.name: c for c in report.cases}
    assert by_name["x (1, 5), weight (3, 5), bias"].passed
    assert not by_name["x (8, 4), weight (6, 4), bias"].passed
    assert "x (8, 4), weight (6, 4), bias" in report.diagnoses[0].cases
    # the factor and the batch size of the case are in the message
    assert "0.125 times the right gradient" in report.diagnoses[0].message
    assert "N = 8" in report.diagnoses[0].message


def test_bias_shape_of_a_batch_of_one_follows_the_larger_batches():
    """For N = 1, grad_output unsummed and a keepdim sum both give shape (1, D_out)."""
    batch_of_one = "x (1, 5), weight (3, 5), bias"
    unsummed = check_linear_backward(plant("bias_not_summed", "linear_backward", 0))
    assert unsummed.codes == ["bias_not_summed"] and batch_of_one in unsummed.diagnoses[0].cases
    keepdim = check_linear_backward(plant("wrong_shape", "linear_backward", 0))
    assert keepdim.codes == ["wrong_shape"] and batch_of_one in keepdim.diagnoses[0].cases
    assert "(1, 6)" in keepdim.diagnoses[0].message


def test_raising_function_reports_type_message_and_line():
    report = check_linear_backward(plant("raised", "linear_backward", 0))
    message = report.diagnoses[0].message
    assert "ValueError: shapes do not line up" in message and "line" in message
    assert all(not c.passed and "ValueError" in c.note for c in report.cases)


def test_missing_bias_hint_names_none():
    report = check_linear_backward(plant("raised", "linear_backward", 1))
    failed = [c for c in report.cases if not c.passed]
    assert failed and all(c.name.endswith("no bias") for c in failed)
    assert "return None for grad_bias" in report.diagnoses[0].message


def test_a_backward_for_2d_x_only_is_told_to_flatten_the_batch_dimensions():
    report = check_linear_backward(plant("batch_dimensions", "linear_backward"))
    failed = [c.name for c in report.cases if not c.passed]
    assert failed == [c.name for c, shape in zip(report.cases, LINEAR_CASES) if len(shape[0]) > 1]
    message = report.diagnoses[0].message
    assert "reshape(-1, D_in)" in message and "RuntimeError" in message  # torch's error, explained


def test_wrong_sign_says_what_to_change():
    message = check_linear_backward(plant("wrong_sign", "linear_backward")).diagnoses[0].message
    assert "remove the minus sign" in message


def test_wrong_return_messages_say_what_came_back():
    two, one, none, arrays = (
        check_linear_backward(plant("wrong_return", "linear_backward", i)) for i in range(4)
    )
    assert "got 2 values" in two.diagnoses[0].message
    assert "return statement missing" in none.diagnoses[0].message
    assert "ndarray" in arrays.diagnoses[0].message


@pytest.mark.parametrize(
    "bad", [None, 3, "linear_backward", labcode.MLP(2, [2], 2).layers[0].weight]
)
def test_check_linear_backward_rejects_non_callables(bad):
    with pytest.raises(TypeError, match="fn must be a function"):
        check_linear_backward(bad)


def noisy_weight_gradient(grad_output, x, weight, bias):
    """Right, plus random noise on grad_weight: the errors in the report are random."""
    gx, gw, gb = labcode.linear_backward(grad_output, x, weight, bias)
    return gx, gw + 1e-3 * torch.randn(weight.shape, dtype=weight.dtype), gb


def test_check_linear_backward_is_deterministic_and_leaves_the_global_generator_alone():
    first, second = under_two_caller_seeds(check_linear_backward, noisy_weight_gradient)
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
        return labcode.linear_backward(grad_output, x, weight, bias)

    suite_threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        report = check_linear_backward(student)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(suite_threads)
    assert report.passed != raises
    assert seen == [1] * len(LINEAR_CASES) and after == 3
