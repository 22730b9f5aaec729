r"""Checking a hand-written gradient against autograd.

For one linear layer :math:`Y = X W^\top + b` and an upstream gradient
:math:`G = \partial L/\partial Y`, :func:`compare_linear_backward` draws a random,
non-zero problem (:func:`random_linear_problem`), runs the hand-written
:func:`~labcode.linear.linear_backward`, asks autograd for the same three gradients
(:func:`autograd_linear_gradients`) and compares them element-wise
(:func:`compare_gradients`).

Errors are reported as in the CS231n notes: the maximum absolute error and the
maximum relative error :math:`|a - b| / \max(|a| + |b|, 10^{-8})`; a comparison passes
at ``torch.testing``'s tolerances for the dtype (:func:`default_tolerance`).

The second reference, finite differences and ``gradcheck``, is
:mod:`labcode.finite_differences`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import _validate
from .linear import linear_backward

#: What a backward checked against autograd or finite differences must be.
BACKWARD = "backward(grad_output, x, weight, bias) -> (grad_input, grad_weight, grad_bias)"
#: Floor of the relative error's denominator, as in the CS231n notes.
REL_ERROR_FLOOR = 1e-8

#: ``(rtol, atol)`` of ``torch.testing.assert_close`` for each floating dtype, from its
#: documentation (torch exposes no public function that returns them).
_ASSERT_CLOSE_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


def default_tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """``(rtol, atol)`` that ``torch.testing.assert_close`` uses for ``dtype``.

    float16 ``(1e-3, 1e-5)``, bfloat16 ``(1.6e-2, 1e-5)``, float32 ``(1.3e-6, 1e-5)``,
    float64 ``(1e-7, 1e-7)``; any other dtype ``(0.0, 0.0)``, as in ``assert_close``.

    Args:
        dtype: the dtype of the tensors compared.

    Example:
        >>> default_tolerance(torch.float64)
        (1e-07, 1e-07)
    """
    return _ASSERT_CLOSE_TOLERANCES.get(dtype, (0.0, 0.0))


@dataclass(frozen=True)
class GradientComparison:
    """The result of comparing one gradient with a reference.

    ``passed`` means every element satisfies ``|a - b| <= atol + rtol * |b|``;
    ``tolerance_ratio`` is the largest ``|a - b| / (atol + rtol * |b|)``, how many
    tolerances the worst element is off (at most 1 exactly when ``passed``).
    """

    name: str
    max_abs_error: float
    max_rel_error: float
    rtol: float
    atol: float
    passed: bool
    tolerance_ratio: float = 0.0

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{self.name}: max abs error {self.max_abs_error:.2e}, max rel error "
            f"{self.max_rel_error:.2e} (rtol {self.rtol:.0e}, atol {self.atol:.0e}): {verdict}"
        )


def relative_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""Element-wise CS231n relative error :math:`|a-b| / \max(|a|+|b|, 10^{-8})`.

    Symmetric in ``a`` and ``b``, at most 1, and 0 only where they are equal. The
    floor keeps it finite where both are zero.

    Args:
        a, b: tensors of the same shape (or broadcastable), e.g. two gradients.

    Returns:
        a tensor of ``a``'s shape (after broadcasting) with values in ``[0, 1]``.

    Example:
        >>> relative_error(torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0]))
        tensor([0.5000, 0.0000])
    """
    return (a - b).abs() / (a.abs() + b.abs()).clamp_min(REL_ERROR_FLOOR)


def compare_gradients(
    gradient: torch.Tensor,
    reference: torch.Tensor,
    *,
    name: str = "gradient",
    rtol: float | None = None,
    atol: float | None = None,
) -> GradientComparison:
    """Compare a hand-computed ``gradient`` with a ``reference`` of the same shape.

    Args:
        gradient: the gradient under test.
        reference: what it should equal (autograd's, or a finite-difference estimate).
        name: label used in the report.
        rtol, atol: tolerances (numbers >= 0); default to ``torch.testing``'s for the
            dtype (:func:`default_tolerance`).

    Example:
        >>> g = torch.tensor([1.0, 2.0], dtype=torch.float64)
        >>> compare_gradients(g, g + 1e-12).passed
        True
    """
    gradient = _validate.float_tensor("gradient", gradient)
    reference = _validate.float_tensor("reference", reference)
    if gradient.shape != reference.shape:
        raise ValueError(
            f"gradient has shape {tuple(gradient.shape)} but reference has shape "
            f"{tuple(reference.shape)}; a gradient has the shape of its parameter"
        )
    default_rtol, default_atol = default_tolerance(gradient.dtype)
    rtol = default_rtol if rtol is None else _validate.non_negative_float("rtol", rtol)
    atol = default_atol if atol is None else _validate.non_negative_float("atol", atol)
    a, b = gradient.detach(), reference.detach().to(gradient.dtype)
    diff = (a - b).abs()
    allowed = atol + rtol * b.abs()
    # 0/0 (equal elements, zero tolerance) is within tolerance: ratio 0, not nan
    ratio = torch.where(diff == 0, 0.0, diff / allowed)
    return GradientComparison(
        name=name,
        max_abs_error=diff.max().item() if diff.numel() else 0.0,
        max_rel_error=relative_error(a, b).max().item() if diff.numel() else 0.0,
        rtol=rtol,
        atol=atol,
        passed=bool((diff <= allowed).all()),
        tolerance_ratio=ratio.max().item() if diff.numel() else 0.0,
    )


class LinearProblem(NamedTuple):
    """One linear layer's tensors, in :func:`~labcode.linear.linear_backward`'s argument
    order, so that ``linear_backward(*problem)`` runs it."""

    grad_output: torch.Tensor  # (*batch_shape, D_out)
    x: torch.Tensor  # (*batch_shape, D_in)
    weight: torch.Tensor  # (D_out, D_in)
    bias: torch.Tensor | None  # (D_out,) or None


def random_linear_problem(batch_shape: Sequence[int] = (6,), in_features: int = 5,
        out_features: int = 3, *, bias: bool = True, dtype: torch.dtype = torch.float64,
        seed: int = 0, device: torch.device | str | None = None) -> LinearProblem:  # fmt: skip
    """Random, non-zero ``x``, ``weight``, ``bias`` and ``grad_output`` for one layer.

    Drawn from a private generator (same seed, same tensors; the global random state
    is neither read nor changed); standard normal, so non-zero everywhere, since zeros
    can hide a wrong backward.

    Args:
        batch_shape: leading dimensions of ``x``, a sequence of positive ints, e.g.
            ``(6,)`` for six rows or ``(2, 3)`` for a batch of sequences.
        in_features: ``D_in`` (> 0).
        out_features: ``D_out`` (> 0).
        bias: draw a bias (``True``) or return ``None`` for it.
        dtype: a floating-point dtype (default float64, as gradient checks want).
        seed: seed of the private generator.
        device: where to put the tensors (default: CPU); drawn on the CPU first, so
            the same seed gives the same numbers on every device.

    Returns:
        a :class:`LinearProblem` ``(grad_output, x, weight, bias)``: ``linear_backward(*p)``.

    Example:
        >>> p = random_linear_problem((2, 3), 4, 5, seed=0)
        >>> tuple(p.x.shape), tuple(p.weight.shape), tuple(p.grad_output.shape)
        ((2, 3, 4), (5, 4), (2, 3, 5))
    """
    batch_shape = _validate.positive_ints("batch_shape", batch_shape, "(6,)")
    in_features = _validate.positive_int("in_features", in_features)
    out_features = _validate.positive_int("out_features", out_features)
    dtype = _validate.float_dtype("dtype", dtype)
    generator = torch.Generator().manual_seed(_validate.integer("seed", seed))

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=dtype).to(device)

    x = draw(*batch_shape, in_features)  # drawn in this order: x, weight, bias, grad_output
    weight = draw(out_features, in_features)
    b = draw(out_features) if bias else None
    return LinearProblem(draw(*batch_shape, out_features), x, weight, b)


def autograd_linear_gradients(
    grad_output: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    r"""What autograd says ``linear_backward`` should return, via ``torch.nn.functional.linear``.

    Computes :math:`L = \sum Y \odot G` so that :math:`\partial L/\partial Y = G`,
    then asks autograd for the gradients of ``x``, ``weight`` and ``bias``. The inputs
    are detached and cloned first: their ``.grad`` is left alone.

    Args:
        grad_output: :math:`G`, shape ``(*, D_out)``.
        x: the layer's input, shape ``(*, D_in)``.
        weight: shape ``(D_out, D_in)``.
        bias: shape ``(D_out,)``, or ``None``.

    Returns:
        ``(grad_input (*, D_in), grad_weight (D_out, D_in), grad_bias (D_out,) or None)``.

    Example:
        >>> grads = autograd_linear_gradients(*random_linear_problem((4,), 3, 2))
        >>> [tuple(g.shape) for g in grads]
        [(4, 3), (2, 3), (2,)]
    """
    leaves = [t.detach().clone().requires_grad_(True) for t in (x, weight, bias) if t is not None]
    y = torch.nn.functional.linear(*leaves)  # (*, D_out)
    grads = torch.autograd.grad(y, leaves, grad_outputs=grad_output)
    return grads[0], grads[1], (grads[2] if bias is not None else None)


def compare_linear_backward(batch_shape: Sequence[int] = (6,), in_features: int = 5,
        out_features: int = 3, *, bias: bool = True, dtype: torch.dtype = torch.float64,
        seed: int = 0, backward: Callable = linear_backward) -> list[GradientComparison]:  # fmt: skip
    """Compare a linear layer's backward with autograd on a random problem.

    Args:
        batch_shape, in_features, out_features, bias, dtype, seed: the problem, as in
            :func:`random_linear_problem`.
        backward: the backward to check, called as ``backward(grad_output, x, weight,
            bias)`` (default :func:`~labcode.linear.linear_backward`; pass your own).

    Returns:
        one :class:`GradientComparison` each for ``grad_input``, ``grad_weight`` and
        (with ``bias``) ``grad_bias``, at :func:`default_tolerance` for ``dtype``.

    Example:
        >>> all(c.passed for c in compare_linear_backward((4,), 3, 2))
        True
    """
    _validate.student_backward("backward", backward, "a function " + BACKWARD)
    p = random_linear_problem(
        batch_shape, in_features, out_features, bias=bias, dtype=dtype, seed=seed
    )
    ours, theirs = backward(*p), autograd_linear_gradients(*p)
    names = ("grad_input", "grad_weight", "grad_bias")
    return [
        compare_gradients(a, b, name=n) for n, a, b in zip(names, ours, theirs) if a is not None
    ]
