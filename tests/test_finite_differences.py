"""labcode.finite_differences: central differences, gradcheck, float32 vs float64, step sweep."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import labcode
from labcode import (
    finite_difference_errors,
    finite_difference_gradient,
    linear_backward,
    linear_cross_entropy_problem,
    precision_comparison,
    random_linear_problem,
    run_gradcheck,
)

f64 = torch.float64


# ---- finite differences ---------------------------------------------------------------


def test_finite_difference_gradient_matches_analytic_gradients():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=f64)
    c = torch.randn(3, 4, generator=g, dtype=f64)
    A = torch.randn(12, 12, generator=g, dtype=f64)
    cases = [
        (lambda t: (torch.sin(t) * c).sum(), torch.cos(x) * c),
        (lambda t: t.reshape(-1) @ A @ t.reshape(-1), ((A + A.T) @ x.reshape(-1)).reshape(3, 4)),
        (lambda t: t.exp().sum().log(), x.exp() / x.exp().sum()),
    ]
    for f, analytic in cases:
        torch.testing.assert_close(finite_difference_gradient(f, x), analytic, rtol=1e-6, atol=1e-8)


def test_finite_difference_gradient_handles_non_contiguous_input():
    x = torch.randn(4, 3, dtype=f64, generator=torch.Generator().manual_seed(1)).T  # (3, 4)
    assert not x.is_contiguous()
    torch.testing.assert_close(
        finite_difference_gradient(lambda t: (t**3).sum(), x), 3 * x**2, rtol=1e-6, atol=1e-8
    )


def test_finite_difference_gradient_leaves_its_input_alone():
    x = torch.randn(5, dtype=f64, generator=torch.Generator().manual_seed(2))
    before = x.clone()
    finite_difference_gradient(lambda t: (t**2).sum(), x)
    assert torch.equal(x, before)


def test_finite_difference_gradient_accepts_a_function_returning_a_number():
    x = torch.tensor([0.5, -2.0, 3.0], dtype=f64)
    torch.testing.assert_close(
        finite_difference_gradient(lambda t: float((t**2).sum()), x), 2 * x, rtol=1e-6, atol=1e-8
    )


def test_finite_difference_gradient_of_the_linear_layer_matches_linear_backward():
    p = random_linear_problem((2, 3), 4, 5, seed=3)

    def loss(w):
        return ((p.x @ w.T + p.bias) * p.grad_output).sum()

    _, grad_weight, _ = linear_backward(p.grad_output, p.x, p.weight, p.bias)
    torch.testing.assert_close(
        finite_difference_gradient(loss, p.weight), grad_weight, rtol=1e-6, atol=1e-8
    )


# ---- gradcheck and precision -------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_shape", [(6,), (1,), (2, 3)], ids=str)
def test_run_gradcheck_passes_in_float64(batch_shape, bias):
    assert run_gradcheck(batch_shape, 4, 3, bias=bias) is True


def test_run_gradcheck_fails_in_float32():
    assert run_gradcheck(dtype=torch.float32) is False


def test_precision_comparison_float64_passes_and_float32_fails():
    rows = precision_comparison()
    assert [row.dtype for row in rows] == ["float32", "float64"]
    float32, float64 = rows
    assert float64.comparison.passed and float64.gradcheck_passed
    assert not float32.comparison.passed and not float32.gradcheck_passed
    # the reason: float32 rounding swamps a 1e-6 step; float64's error is far smaller
    assert float32.comparison.max_abs_error > 1e3 * float64.comparison.max_abs_error
    assert all(row.eps == 1e-6 for row in rows)
    assert float64.comparison.max_abs_error < 1e-5 < float32.comparison.max_abs_error
    assert not math.isnan(float32.comparison.max_rel_error)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(eps=0.0), ValueError, r"eps must be a positive, finite number, got 0\.0"),
        (dict(seed=2**64), ValueError, r"seed must be an int of 64 bits"),
    ],
)
def test_precision_comparison_rejects_bad_input_naming_it(kwargs, error, match):
    with pytest.raises(error, match=match):
        precision_comparison(**kwargs)


# ---- the finite-difference sweep: truncation against rounding ------------------------


def test_linear_cross_entropy_problem_gradient_matches_autograd():
    p = linear_cross_entropy_problem(seed=5)
    assert p.x.shape == (6, 4) and p.weight.shape == (3, 4) and p.bias.shape == (3,)
    assert p.labels.tolist() == [0, 1, 2, 0, 1, 2]
    weight = p.weight.clone().requires_grad_(True)
    logits = torch.nn.functional.linear(p.x, weight, p.bias)
    torch.nn.functional.cross_entropy(logits, p.labels).backward()
    assert p.grad_weight.dtype == f64
    torch.testing.assert_close(p.grad_weight, weight.grad, rtol=1e-12, atol=1e-14)
    # seeded: the same seed gives the same problem, another seed another one
    assert torch.equal(linear_cross_entropy_problem(seed=5).weight, p.weight)
    assert not torch.equal(linear_cross_entropy_problem(seed=6).weight, p.weight)


def test_finite_difference_errors_are_small_in_float64_and_large_in_float32_at_1e_6():
    [(eps64, err64)] = finite_difference_errors([1e-6], f64)
    [(eps32, err32)] = finite_difference_errors([1e-6], torch.float32)
    assert eps64 == eps32 == 1e-6
    assert 0 < err64 < 1e-8  # float64: rounding u|L|/eps is ~1e-10 here
    assert err32 > 1e-3  # float32: u|L|/eps is ~1e-1, the estimate is noise
    assert err32 > 1e4 * err64


def test_finite_difference_errors_match_a_direct_estimate():
    p = linear_cross_entropy_problem(seed=2)

    def loss(w):
        return torch.nn.functional.cross_entropy(
            torch.nn.functional.linear(p.x, w, p.bias), p.labels
        )

    expected = (
        (finite_difference_gradient(loss, p.weight, eps=1e-4) - p.grad_weight).abs().max().item()
    )
    [(_, err)] = finite_difference_errors([1e-4], f64, seed=2)
    assert err == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_finite_difference_errors_trace_a_v_with_its_bottom_near_u_to_the_two_thirds(dtype):
    steps = torch.logspace(-12, 0, 25, dtype=f64).tolist()
    errors = finite_difference_errors(steps, dtype)
    assert [eps for eps, _ in errors] == steps  # one pair per step, in order
    err = [e for _, e in errors]
    best = min(range(len(err)), key=err.__getitem__)
    assert 0 < best < len(err) - 1  # the bottom is inside the range, not at an end
    assert err[0] > 100 * err[best] and err[-1] > 100 * err[best]
    u23 = torch.finfo(dtype).eps ** (2 / 3)
    assert u23 / 100 < err[best] < 100 * u23
    # right of the bottom, truncation: the error falls like eps^2 (x100 per decade)
    assert err[-1] / err[-3] == pytest.approx(100, rel=0.2)


def test_finite_difference_errors_float64_bottom_is_far_below_float32s():
    steps = torch.logspace(-12, 0, 25, dtype=f64).tolist()
    best32 = min(e for _, e in finite_difference_errors(steps, torch.float32))
    best64 = min(e for _, e in finite_difference_errors(steps, f64))
    assert best64 < 1e-4 * best32


def test_finite_difference_errors_tiny_float32_step_vanishes_and_error_is_the_gradient():
    [(_, err)] = finite_difference_errors([1e-12], torch.float32)
    # w + 1e-12 == w in float32: both losses are equal, the estimate is 0
    assert err == linear_cross_entropy_problem().grad_weight.abs().max().item()


def test_finite_difference_errors_are_deterministic():
    steps = [1e-3, 1e-6]
    assert finite_difference_errors(steps, seed=3) == finite_difference_errors(steps, seed=3)


def test_run_gradcheck_checks_the_backward_it_is_given():
    def doubled(grad_output, x, weight, bias=None):
        gi, gw, gb = labcode.linear_backward(grad_output, x, weight, bias)
        return gi, 2 * gw, gb

    assert labcode.run_gradcheck((2, 3), 4, 5, backward=labcode.linear_backward)
    assert not labcode.run_gradcheck((2, 3), 4, 5, backward=doubled)
    with pytest.raises(TypeError, match=r"backward must be None or a function"):
        labcode.run_gradcheck(backward="linear_backward")


def test_run_gradcheck_checks_a_non_square_layer_with_a_bias_by_default(recording_backward):
    assert run_gradcheck(backward=recording_backward)
    assert set(recording_backward.seen) == {((6, 5), (3, 5), (3,))}  # batch 6, 5 -> 3, a bias
    recording_backward.seen.clear()
    assert run_gradcheck((2, 4), 3, 2, bias=False, backward=recording_backward)
    assert set(recording_backward.seen) == {((2, 4, 3), (2, 3), None)}


def test_run_gradcheck_in_float32_says_false_without_printing_gradchecks_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        assert run_gradcheck(dtype=torch.float32) is False


def test_run_gradcheck_names_a_bad_backward():
    with pytest.raises(TypeError, match="backward must be None or a function backward"):
        run_gradcheck(backward="linear_backward")
