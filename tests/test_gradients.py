"""labcode.gradients: comparing gradients, finite differences, gradcheck, float32 vs float64."""
from __future__ import annotations

import math

import pytest
import torch

from labcode import (
    GradientComparison,
    autograd_linear_gradients,
    compare_gradients,
    compare_linear_backward,
    finite_difference_errors,
    finite_difference_gradient,
    linear_backward,
    linear_cross_entropy_problem,
    precision_comparison,
    random_linear_problem,
    relative_error,
    run_gradcheck,
)

f64 = torch.float64


# ---- relative_error and compare_gradients ----------------------------------------------

def test_relative_error_is_the_cs231n_definition_on_hand_made_numbers():
    a = torch.tensor([1.0, 2.0, -3.0, 0.0, 1e-9, 0.0], dtype=f64)
    b = torch.tensor([1.0, 2.5, 3.0, 0.0, 0.0, 1e-10], dtype=f64)
    # |a - b| / max(|a| + |b|, 1e-8), element by element
    expected = [0.0, 0.5 / 4.5, 6.0 / 6.0, 0.0 / 1e-8, 1e-9 / 1e-8, 1e-10 / 1e-8]
    torch.testing.assert_close(relative_error(a, b), torch.tensor(expected, dtype=f64))


def test_compare_gradients_reports_max_abs_and_rel_error():
    gradient = torch.tensor([[1.0, 2.0], [3.0, -4.0]], dtype=f64)
    reference = torch.tensor([[1.0, 2.5], [2.0, -4.0]], dtype=f64)
    result = compare_gradients(gradient, reference, name="dW")
    assert isinstance(result, GradientComparison)
    assert result.name == "dW"
    assert result.max_abs_error == pytest.approx(1.0)  # |3 - 2|
    assert result.max_rel_error == pytest.approx(1.0 / 5.0)  # |3 - 2| / (3 + 2) beats 0.5 / 4.5
    assert not result.passed
    assert "dW" in str(result) and "FAIL" in str(result)


def test_compare_gradients_passes_a_right_gradient_and_fails_a_wrong_one():
    p = random_linear_problem((4, 3), 5, 2, seed=1)
    ours = linear_backward(p["grad_output"], p["x"], p["weight"], p["bias"])
    autograd = autograd_linear_gradients(p["grad_output"], p["x"], p["weight"], p["bias"])
    for a, b in zip(ours, autograd):
        right = compare_gradients(a, b)
        assert right.passed and right.max_abs_error < 1e-12
        assert "PASS" in str(right)
    # classic slips: a forgotten factor, a sign, a gradient one element off
    _, grad_weight, _ = ours
    assert not compare_gradients(2 * grad_weight, autograd[1]).passed
    assert not compare_gradients(-grad_weight, autograd[1]).passed
    nudged = grad_weight.clone()
    nudged[1, 3] += 1e-4
    result = compare_gradients(nudged, autograd[1])
    assert not result.passed
    assert result.max_abs_error == pytest.approx(1e-4, rel=1e-6)


def test_compare_gradients_tolerance_is_atol_plus_rtol_times_reference():
    reference = torch.tensor([2.0], dtype=f64)
    assert compare_gradients(reference + 0.5, reference, rtol=0.0, atol=0.5 + 1e-12).passed
    assert not compare_gradients(reference + 0.5, reference, rtol=0.0, atol=0.49).passed
    # rtol * |reference| = 0.25 * 2 = 0.5
    assert compare_gradients(reference + 0.5, reference, rtol=0.25 + 1e-12, atol=0.0).passed
    assert not compare_gradients(reference + 0.5, reference, rtol=0.24, atol=0.0).passed


def test_compare_gradients_default_tolerance_depends_on_the_dtype():
    reference = torch.ones(3, dtype=f64)
    assert compare_gradients(reference + 1e-9, reference).passed
    assert not compare_gradients(reference + 1e-5, reference).passed  # float64: too far
    assert compare_gradients((reference + 1e-7).float(), reference.float()).passed
    assert not compare_gradients((reference + 1e-3).float(), reference.float()).passed


@pytest.mark.parametrize("gradient, reference, error, match", [
    (torch.ones(2, 3), torch.ones(3, 2), ValueError,
     r"gradient has shape \(2, 3\) but reference has shape \(3, 2\)"),
    (torch.ones(3, dtype=torch.int64), torch.ones(3), TypeError,
     r"gradient must be a floating-point tensor.*torch\.int64"),
    (torch.ones(3), [1.0, 1.0, 1.0], TypeError, r"reference must be a torch\.Tensor, got list"),
])
def test_compare_gradients_rejects_bad_input_naming_it(gradient, reference, error, match):
    with pytest.raises(error, match=match):
        compare_gradients(gradient, reference)


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
        torch.testing.assert_close(finite_difference_gradient(f, x), analytic,
                                   rtol=1e-6, atol=1e-8)


def test_finite_difference_gradient_handles_non_contiguous_input():
    x = torch.randn(4, 3, dtype=f64).T  # (3, 4), not contiguous
    assert not x.is_contiguous()
    torch.testing.assert_close(finite_difference_gradient(lambda t: (t ** 3).sum(), x),
                               3 * x ** 2, rtol=1e-6, atol=1e-8)


def test_finite_difference_gradient_leaves_its_input_alone():
    x = torch.randn(5, dtype=f64)
    before = x.clone()
    finite_difference_gradient(lambda t: (t ** 2).sum(), x)
    assert torch.equal(x, before)


def test_finite_difference_gradient_of_the_linear_layer_matches_linear_backward():
    p = random_linear_problem((2, 3), 4, 5, seed=3)

    def loss(w):
        return ((p["x"] @ w.T + p["bias"]) * p["grad_output"]).sum()

    _, grad_weight, _ = linear_backward(p["grad_output"], p["x"], p["weight"], p["bias"])
    torch.testing.assert_close(finite_difference_gradient(loss, p["weight"]), grad_weight,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=torch.ones(3, dtype=torch.int64)), TypeError,
     r"x must be a floating-point tensor.*torch\.int64"),
    (dict(eps=0.0), ValueError, r"eps must be a positive, finite number, got 0\.0"),
    (dict(eps=-1e-6), ValueError, r"eps must be a positive, finite number, got -1e-06"),
    (dict(f="sum"), TypeError, r"f must be callable, got str"),
])
def test_finite_difference_gradient_rejects_bad_input_naming_it(kwargs, error, match):
    args = dict(f=lambda t: t.sum(), x=torch.ones(3, dtype=f64)) | kwargs
    with pytest.raises(error, match=match):
        finite_difference_gradient(**args)


# ---- random problems, gradcheck, precision ---------------------------------------------

def test_random_linear_problem_is_seeded_non_zero_and_shaped():
    p = random_linear_problem((2, 3), 4, 5, seed=9)
    assert p["x"].shape == (2, 3, 4) and p["weight"].shape == (5, 4)
    assert p["bias"].shape == (5,) and p["grad_output"].shape == (2, 3, 5)
    assert all(t.dtype == f64 and (t != 0).all() for t in p.values())
    again = random_linear_problem((2, 3), 4, 5, seed=9)
    assert all(torch.equal(p[k], again[k]) for k in p)
    assert not torch.equal(p["x"], random_linear_problem((2, 3), 4, 5, seed=10)["x"])
    assert random_linear_problem(bias=False)["bias"] is None


def test_autograd_linear_gradients_match_the_chain_rule_written_with_einsum():
    p = random_linear_problem((2, 3), 4, 5, seed=2)
    g, x, w = p["grad_output"], p["x"], p["weight"]
    gx, gw, gb = autograd_linear_gradients(g, x, w, p["bias"])
    torch.testing.assert_close(gx, torch.einsum("abo,oi->abi", g, w))
    torch.testing.assert_close(gw, torch.einsum("abo,abi->oi", g, x))
    torch.testing.assert_close(gb, torch.einsum("abo->o", g))
    assert autograd_linear_gradients(g, x, w, None)[2] is None


@pytest.mark.parametrize("batch_shape", [(6,), (1,), (2, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_compare_linear_backward_passes_everywhere(batch_shape, bias):
    results = compare_linear_backward(batch_shape, 5, 3, bias=bias, seed=4)
    names = ["grad_input", "grad_weight"] + (["grad_bias"] if bias else [])
    assert [r.name for r in results] == names
    assert all(r.passed for r in results)
    assert all(r.max_abs_error < 1e-12 for r in results)


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


# ---- the finite-difference sweep: truncation against rounding ------------------------

def test_linear_cross_entropy_problem_gradient_matches_autograd():
    p = linear_cross_entropy_problem(seed=5)
    assert p["x"].shape == (6, 4) and p["weight"].shape == (3, 4) and p["bias"].shape == (3,)
    assert p["labels"].tolist() == [0, 1, 2, 0, 1, 2]
    weight = p["weight"].clone().requires_grad_(True)
    logits = torch.nn.functional.linear(p["x"], weight, p["bias"])
    torch.nn.functional.cross_entropy(logits, p["labels"]).backward()
    assert p["grad_weight"].dtype == f64
    torch.testing.assert_close(p["grad_weight"], weight.grad, rtol=1e-12, atol=1e-14)
    # seeded: the same seed gives the same problem, another seed another one
    assert torch.equal(linear_cross_entropy_problem(seed=5)["weight"], p["weight"])
    assert not torch.equal(linear_cross_entropy_problem(seed=6)["weight"], p["weight"])


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
            torch.nn.functional.linear(p["x"], w, p["bias"]), p["labels"])

    expected = (finite_difference_gradient(loss, p["weight"], eps=1e-4)
                - p["grad_weight"]).abs().max().item()
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
    assert err == linear_cross_entropy_problem()["grad_weight"].abs().max().item()


def test_finite_difference_errors_are_deterministic():
    steps = [1e-3, 1e-6]
    assert finite_difference_errors(steps, seed=3) == finite_difference_errors(steps, seed=3)


@pytest.mark.parametrize("args, kwargs, error, match", [
    (([],), {}, ValueError, r"eps_values must hold at least one step, got an empty"),
    ((1e-6,), {}, TypeError, r"eps_values must be a sequence of positive numbers, got float"),
    (([1e-6, 0.0],), {}, ValueError, r"eps_values\[1\] must be a positive, finite number, got 0\.0"),
    (([1e-6],), {"dtype": torch.int64}, TypeError,
     r"dtype must be a floating-point torch\.dtype.*got torch\.int64"),
    (([1e-6],), {"dtype": "float64"}, TypeError, r"dtype must be a floating-point torch\.dtype"),
])
def test_finite_difference_errors_rejects_bad_input_naming_it(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        finite_difference_errors(*args, **kwargs)
