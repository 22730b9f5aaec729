"""Input checks at labcode's entry points, kept out of the teaching code.

Where a student calls in (a model's construction, training data, data generation, the
self-checks, a layer's shapes) a wrong argument gets one ``TypeError``/``ValueError``
that names it, says what it got and what was expected, instead of an error from deep
inside torch. Each entry point checks once, here; ``assert`` is never used for this
(``python -O`` removes it).
"""

import math
import numbers
from collections.abc import Callable, Sequence

import torch
from torch import nn

#: The seeds torch accepts (``torch.manual_seed``): 64 bits, read as signed or unsigned.
SEED_MIN, SEED_MAX = -0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``."""
    return str(dtype).removeprefix("torch.")


def describe(value: object) -> str:
    """What was passed, in a few words: a tensor's dtype, shape and (if not the CPU)
    device; anything else by its type and a repr cut at 40 characters."""
    if isinstance(value, torch.Tensor):
        where = "" if value.device.type == "cpu" else f" on {value.device}"
        return f"a {dtype_name(value.dtype)} tensor of shape {tuple(value.shape)}{where}"
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _fail(error: type[Exception], name: str, expected: str, value: object) -> None:
    raise error(f"{name} must be {expected}, got {describe(value)}")


def tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        _fail(TypeError, name, "a torch.Tensor", value)
    return value


def float_tensor(name: str, value: object) -> torch.Tensor:
    """A floating-point tensor: gradients need real numbers, not integers."""
    if not tensor(name, value).is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float32 or float64), got dtype "
            f"{value.dtype}; convert it with {name}.float() or {name}.double()"
        )
    return value


def module(name: str, value: object) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _number(name: str, value: object, expected: str, ok: Callable, kind: type = numbers.Real):
    """A real number (an integer, with ``kind=numbers.Integral``) for which ``ok`` holds.
    ``bool`` is rejected: ``True`` is not a width nor a learning rate."""
    if isinstance(value, bool) or not isinstance(value, kind):
        _fail(TypeError, name, expected, value)
    if not ok(value):
        raise ValueError(f"{name} must be {expected}, got {value}")
    return value


def positive_int(name: str, value: object) -> int:
    return int(_number(name, value, "a positive int", lambda v: v > 0, numbers.Integral))


def positive_float(name: str, value: object) -> float:
    """A learning rate, a step."""
    return float(_number(name, value, "a positive, finite number", lambda v: 0 < v < math.inf))


def non_negative_float(name: str, value: object) -> float:
    """A noise level, a tolerance."""
    return float(_number(name, value, "a finite number >= 0", lambda v: 0 <= v < math.inf))


def fraction(name: str, value: object) -> float:
    """An accuracy to reach."""
    return float(_number(name, value, "a number in (0, 1]", lambda v: 0 < v <= 1))


def integer(name: str, value: object) -> int:
    """A seed: an ``int`` that fits torch's 64 bits."""
    expected = "an int of 64 bits, in [-2**63, 2**64 - 1]"
    return int(
        _number(name, value, expected, lambda v: SEED_MIN <= v <= SEED_MAX, numbers.Integral)
    )


def positive_ints(name: str, value: object, example: str) -> tuple[int, ...]:
    """A sequence of positive ints (a shape, a list of widths), possibly empty."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        _fail(TypeError, name, f"a sequence of positive ints such as {example}", value)
    return tuple(positive_int(f"{name}[{i}]", n) for i, n in enumerate(value))


def float_dtype(name: str, value: object) -> torch.dtype:
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        got = value if isinstance(value, torch.dtype) else describe(value)
        raise TypeError(
            f"{name} must be a floating-point torch.dtype such as torch.float64, got {got}"
        )
    return value


def student_code(
    name: str,
    value: object,
    expected: str,
    yours: str = "",
    results: tuple[type, ...] = (),
    refused: tuple[type, ...] = (),
) -> None:
    """A self-check's argument: the student's function or class itself (``yours``, e.g.
    ``"MLP"``), not what calling it returned (``results``) nor another callable (``refused``)."""
    if results and isinstance(value, results):
        raise TypeError(
            f"{name} must be your {yours} itself, got {describe(value)}: pass {yours}, "
            f"not {yours}(...) (the check calls it on its own problems)"
        )
    if not callable(value) or isinstance(value, refused):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")


def student_backward(name: str, value: object, expected: str) -> None:
    """A student's ``linear_backward`` itself, not the gradients calling it returned."""
    student_code(name, value, expected, "linear_backward", results=(tuple, torch.Tensor))
