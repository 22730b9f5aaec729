"""Input checks for labcode's public functions.

Every public function checks its arguments here, at the boundary, so a student sees
one readable ``TypeError``/``ValueError`` that names the argument, what it got and
what was expected, instead of a shape error from deep inside torch. ``assert`` is
not used for this: it disappears under ``python -O``.
"""
from __future__ import annotations

import numbers

import torch


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
    """Any ``int`` (a seed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    return int(value)


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
