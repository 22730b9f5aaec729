"""labcode.gradients: comparing a gradient with autograd's, at torch.testing's tolerances."""

from __future__ import annotations

import math

import pytest
import torch

import labcode
from labcode import (
    GradientComparison,
    autograd_linear_gradients,
    compare_gradients,
    compare_linear_backward,
    default_tolerance,
    linear_backward,
    random_linear_problem,
    relative_error,
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
    ours = linear_backward(p.grad_output, p.x, p.weight, p.bias)
    autograd = autograd_linear_gradients(p.grad_output, p.x, p.weight, p.bias)
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


def test_compare_gradients_tolerance_ratio_counts_tolerances_of_the_worst_element():
    reference = torch.tensor([2.0, -4.0, 1.0], dtype=f64)
    gradient = reference + torch.tensor([0.5, 0.0, -3.0], dtype=f64)
    # allowed = 0.1 + 0.2 * |reference| = (0.5, 0.9, 0.3): ratios 1, 0, 10
    result = compare_gradients(gradient, reference, rtol=0.2, atol=0.1)
    assert result.tolerance_ratio == pytest.approx(10.0, rel=1e-12)
    assert not result.passed
    within = compare_gradients(reference + 0.25, reference, rtol=0.0, atol=0.5)
    assert within.passed and within.tolerance_ratio == pytest.approx(0.5, rel=1e-12)
    # zero tolerance: an exact match is 0 tolerances off (not nan), any difference inf
    assert compare_gradients(reference, reference, rtol=0.0, atol=0.0).tolerance_ratio == 0.0
    assert compare_gradients(gradient, reference, rtol=0.0, atol=0.0).tolerance_ratio == float(
        "inf"
    )


def test_compare_gradients_default_tolerance_depends_on_the_dtype():
    reference = torch.ones(3, dtype=f64)
    assert compare_gradients(reference + 1e-9, reference).passed
    assert not compare_gradients(reference + 1e-5, reference).passed  # float64: too far
    assert compare_gradients((reference + 1e-7).float(), reference.float()).passed
    assert not compare_gradients((reference + 1e-3).float(), reference.float()).passed


@pytest.mark.parametrize(
    "gradient, reference, error, match",
    [
        (
            torch.ones(2, 3),
            torch.ones(3, 2),
            ValueError,
            r"gradient has shape \(2, 3\) but reference has shape \(3, 2\)",
        ),
        (
            torch.ones(3, dtype=torch.int64),
            torch.ones(3),
            TypeError,
            r"gradient must be a floating-point tensor.*torch\.int64",
        ),
        (torch.ones(3), [1.0, 1.0, 1.0], TypeError, r"reference must be a torch\.Tensor, got list"),
    ],
)
def test_compare_gradients_rejects_bad_input_naming_it(gradient, reference, error, match):
    with pytest.raises(error, match=match):
        compare_gradients(gradient, reference)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(atol=-1), ValueError, r"atol must be a finite number >= 0, got -1"),
        (dict(rtol=-1e-3), ValueError, r"rtol must be a finite number >= 0, got -0\.001"),
        (dict(rtol=math.nan), ValueError, r"rtol must be a finite number >= 0, got nan"),
        (dict(atol="1e-5"), TypeError, r"atol must be a finite number >= 0, got str '1e-5'"),
    ],
)
def test_compare_gradients_rejects_bad_tolerances_naming_them(kwargs, error, match):
    g = torch.ones(3, dtype=f64)
    with pytest.raises(error, match=match):
        compare_gradients(g, g, **kwargs)


# ---- default_tolerance: torch.testing.assert_close's -----------------------------------


def _assert_close_passes(actual, expected):
    try:
        torch.testing.assert_close(actual, expected)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, f64], ids=str)
@pytest.mark.parametrize("expected", [0.0, 1000.0])  # at 0 atol decides; at 1000 mostly rtol
def test_default_tolerance_agrees_with_assert_close(dtype, expected):
    rtol, atol = default_tolerance(dtype)
    reference = torch.tensor([expected], dtype=dtype)
    tolerance = atol + rtol * expected
    for factor, inside in [(0.5, True), (2.0, False)]:
        actual = torch.tensor([expected + factor * tolerance], dtype=dtype)
        # rounding to dtype keeps the difference on its side of the tolerance
        off = (actual.double() - reference.double()).abs().item() / tolerance
        assert 0.4 < off < 0.6 if inside else 1.6 < off < 2.4
        assert _assert_close_passes(actual, reference) is inside
        assert compare_gradients(actual, reference).passed is inside


def test_default_tolerance_is_assert_closes_documented_table():
    assert default_tolerance(torch.float16) == (1e-3, 1e-5)
    assert default_tolerance(torch.bfloat16) == (1.6e-2, 1e-5)
    assert default_tolerance(torch.float32) == (1.3e-6, 1e-5)
    assert default_tolerance(f64) == (1e-7, 1e-7)
    assert default_tolerance(torch.int64) == (0.0, 0.0)  # exact, as assert_close


# ---- random problems and the autograd reference ----------------------------------------


def test_random_linear_problem_is_seeded_non_zero_and_shaped():
    p = random_linear_problem((2, 3), 4, 5, seed=9)
    assert p.x.shape == (2, 3, 4) and p.weight.shape == (5, 4)
    assert p.bias.shape == (5,) and p.grad_output.shape == (2, 3, 5)
    assert all(t.dtype == f64 and (t != 0).all() for t in p)
    again = random_linear_problem((2, 3), 4, 5, seed=9)
    assert all(torch.equal(a, b) for a, b in zip(p, again))
    grads = linear_backward(*p)  # a LinearProblem is linear_backward's arguments, in order
    assert [g.shape for g in grads] == [p.x.shape, p.weight.shape, p.bias.shape]
    assert not torch.equal(p.x, random_linear_problem((2, 3), 4, 5, seed=10).x)
    assert random_linear_problem(bias=False).bias is None


def test_random_linear_problem_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    random_linear_problem((3,), 2, 2, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(batch_shape=6),
            TypeError,
            r"batch_shape must be a sequence of positive ints such as \(6,\), got int 6",
        ),
        (dict(batch_shape="6"), TypeError, r"batch_shape must be a sequence .*got str '6'"),
        (dict(batch_shape=(2, 0)), ValueError, r"batch_shape\[1\] must be a positive int, got 0"),
        (
            dict(batch_shape=(2.0,)),
            TypeError,
            r"batch_shape\[0\] must be a positive int, got float",
        ),
        (dict(in_features=0), ValueError, r"in_features must be a positive int, got 0"),
        (
            dict(dtype=torch.int64),
            TypeError,
            r"dtype must be a floating-point torch\.dtype such as torch\.float64, got torch\.int64",
        ),
        (
            dict(dtype="float64"),
            TypeError,
            r"dtype must be a floating-point torch\.dtype .*got str 'float64'",
        ),
        (
            dict(seed=2**64),
            ValueError,
            r"seed must be an int of 64 bits, in \[-2\*\*63, 2\*\*64 - 1\], got 18446744073709551616",
        ),
        (dict(seed=-(2**63) - 1), ValueError, r"seed must be an int of 64 bits"),
        (dict(seed=0.5), TypeError, r"seed must be an int of 64 bits, .*got float 0\.5"),
    ],
)
def test_random_linear_problem_rejects_bad_input_naming_it(kwargs, error, match):
    with pytest.raises(error, match=match):
        random_linear_problem(**kwargs)


@pytest.mark.parametrize("seed", [2**64 - 1, -(2**63)])
def test_random_linear_problem_takes_every_64_bit_seed(seed):
    assert torch.equal(random_linear_problem(seed=seed).x, random_linear_problem(seed=seed).x)


def test_autograd_linear_gradients_match_the_chain_rule_written_with_einsum():
    p = random_linear_problem((2, 3), 4, 5, seed=2)
    g, x, w = p.grad_output, p.x, p.weight
    gx, gw, gb = autograd_linear_gradients(g, x, w, p.bias)
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


def test_compare_linear_backward_rejects_an_integer_dtype():
    with pytest.raises(TypeError, match=r"dtype must be a floating-point torch\.dtype"):
        compare_linear_backward(dtype=torch.int32)


def test_compare_linear_backward_checks_the_backward_it_is_given():
    """A student's backward, right and wrong: the comparison follows the function passed in."""

    def transposed(grad_output, x, weight, bias=None):
        gi, gw, gb = labcode.linear_backward(grad_output, x, weight, bias)
        return gi, gw.flip(0), gb  # rows swapped: a wrong grad_weight of the right shape

    assert all(
        c.passed for c in compare_linear_backward((5,), 4, 3, backward=labcode.linear_backward)
    )
    failed = [
        c.name for c in compare_linear_backward((5,), 4, 3, backward=transposed) if not c.passed
    ]
    assert failed == ["grad_weight"]
    with pytest.raises(TypeError, match=r"backward must be your linear_backward itself"):
        compare_linear_backward(backward=labcode.linear_backward(*[torch.ones(1, 1)] * 3))


def test_compare_gradients_of_empty_tensors_passes_with_zero_errors():
    empty = torch.zeros(0, 3, dtype=torch.float64)
    comparison = compare_gradients(empty, empty.clone())
    assert comparison.passed
    assert (comparison.max_abs_error, comparison.max_rel_error, comparison.tolerance_ratio) == (
        0.0,
        0.0,
        0.0,
    )


def test_compare_gradients_passes_an_error_exactly_at_the_tolerance():
    reference = torch.zeros(4, dtype=torch.float64)
    at = compare_gradients(reference + 1e-6, reference, rtol=0.0, atol=1e-6)
    assert at.passed and at.tolerance_ratio == 1.0
    assert not compare_gradients(reference + 2e-6, reference, rtol=0.0, atol=1e-6).passed


def test_compare_gradients_text_names_the_gradient_and_the_verdict():
    g = torch.ones(3, dtype=torch.float64)
    assert str(compare_gradients(g, g)).startswith("gradient: max abs error 0.00e+00")
    assert str(compare_gradients(g, g)).endswith(": PASS")
    assert str(compare_gradients(2 * g, g, name="grad_weight")).startswith("grad_weight: ")
    assert str(compare_gradients(2 * g, g)).endswith(": FAIL")


def test_compare_gradients_casts_the_reference_to_the_gradients_dtype():
    g = torch.linspace(0, 1, 5, dtype=torch.float64)
    assert compare_gradients(g, g.float()).passed  # float32 reference, float64 gradient


def test_random_linear_problem_names_a_bad_out_features():
    with pytest.raises(ValueError, match="out_features"):
        random_linear_problem((2,), 3, 0)


def test_compare_linear_backward_uses_the_shapes_it_was_given(recording_backward):
    comparisons = compare_linear_backward((4,), 2, 7, bias=False, backward=recording_backward)
    assert all(c.passed for c in comparisons)
    assert recording_backward.seen == [((4, 2), (7, 2), None)]
    recording_backward.seen.clear()
    compare_linear_backward(backward=recording_backward)
    assert recording_backward.seen == [((6, 5), (3, 5), (3,))]  # the default: non-square, a bias
