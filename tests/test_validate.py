"""labcode._validate: a bad argument is named, with what it got and what was expected."""

from __future__ import annotations

import math

import pytest
import torch

from labcode import _validate


def test_describe_says_what_was_passed_in_a_few_words():
    assert (
        _validate.describe(torch.zeros(2, 3, dtype=torch.float64))
        == "a float64 tensor of shape (2, 3)"
    )
    assert _validate.describe(None) == "None"
    assert _validate.describe([1, 2]) == "list [1, 2]"
    exactly = "x" * 38  # repr adds two quotes: 40 characters are kept whole
    assert _validate.describe(exactly) == f"str '{exactly}'"
    longer = "x" * 39
    assert _validate.describe(longer) == "str '" + "x" * 36 + "..."


def test_describe_names_a_device_other_than_the_cpu():
    meta = torch.empty(2, device="meta")
    assert _validate.describe(meta) == "a float32 tensor of shape (2,) on meta"


@pytest.mark.parametrize(
    "value, ok", [(1, True), (0.5, True), (1e-9, True), (0, False), (1.0001, False), (-0.5, False)]
)
def test_fraction_is_in_the_half_open_unit_interval(value, ok):
    if ok:
        assert _validate.fraction("min_accuracy", value) == value
    else:
        with pytest.raises(
            ValueError, match=rf"min_accuracy must be a number in \(0, 1\], got {value}"
        ):
            _validate.fraction("min_accuracy", value)
    with pytest.raises(TypeError, match=r"min_accuracy must be a number in \(0, 1\], got str"):
        _validate.fraction("min_accuracy", "high")


@pytest.mark.parametrize("value", [-1e-12, math.inf, math.nan])
def test_non_negative_float_rejects_negatives_and_non_finite(value):
    with pytest.raises(ValueError, match="padding"):
        _validate.non_negative_float("padding", value)
    assert _validate.non_negative_float("padding", 0) == 0.0
