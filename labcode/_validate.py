"""Input checks for labcode's public functions.

Every public function checks its arguments here, at the boundary, so a student sees
one readable ``TypeError``/``ValueError`` that names the argument, what it got and
what was expected, instead of a shape error from deep inside torch. ``assert`` is
not used for this: it disappears under ``python -O``.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch

#: The seeds torch accepts (``torch.manual_seed``, ``torch.Generator.manual_seed``): 64 bits,
#: read as signed or unsigned.
SEED_MIN, SEED_MAX = -0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)} on {value.device}"
    return f"{type(value).__name__} {value!r}"


def tensor(name: str, value: object) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}")
    return value


def float_tensor(name: str, value: object) -> torch.Tensor:
    """A floating-point tensor (gradients need real numbers, not integers)."""
    value = tensor(name, value)
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float32 or float64), got dtype "
            f"{value.dtype}; convert it with {name}.float() or {name}.double()"
        )
    return value


def positive_int(name: str, value: object) -> int:
    """An ``int`` greater than zero (``bool`` is rejected: ``True`` is not a width)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {_describe(value)}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def positive_float(name: str, value: object) -> float:
    """A real number greater than zero (a learning rate, say)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {_describe(value)}")
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number, got {value}")
    return float(value)


def non_negative_float(name: str, value: object) -> float:
    """A finite real number >= 0 (a noise level, say)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {_describe(value)}")
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def integer(name: str, value: object) -> int:
    """An ``int`` that fits in 64 bits: a seed, in ``[SEED_MIN, SEED_MAX]`` as torch requires."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    if not SEED_MIN <= value <= SEED_MAX:
        raise ValueError(
            f"{name} must fit in 64 bits, an int in [-2**63, 2**64 - 1], got {value}"
        )
    return int(value)


def positive_ints(name: str, value: object, example: str) -> tuple[int, ...]:
    """A sequence of positive ints (a shape, a list of widths), possibly empty."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a sequence of positive ints such as {example}, got "
            f"{_describe(value)}"
        )
    return tuple(positive_int(f"{name}[{i}]", n) for i, n in enumerate(value))


def float_dtype(name: str, value: object) -> torch.dtype:
    """A floating-point ``torch.dtype`` (gradients need real numbers)."""
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        got = value if isinstance(value, torch.dtype) else _describe(value)
        raise TypeError(
            f"{name} must be a floating-point torch.dtype such as torch.float64, got {got}"
        )
    return value


def same_dtype_and_device(reference_name: str, reference: torch.Tensor,
                          name: str, value: torch.Tensor) -> None:
    """``value`` must share ``reference``'s dtype and device (torch would not mix them)."""
    if value.dtype != reference.dtype:
        raise TypeError(
            f"{name} has dtype {value.dtype} but {reference_name} has dtype "
            f"{reference.dtype}; use one dtype for both"
        )
    if value.device != reference.device:
        raise ValueError(
            f"{name} is on {value.device} but {reference_name} is on "
            f"{reference.device}; move both to one device"
        )
