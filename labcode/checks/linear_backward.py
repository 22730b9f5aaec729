r"""``check_linear_backward``: a student's hand-written linear backward against autograd.

Each case of :data:`LINEAR_CASES` is one random, non-square float64 problem; the
gradients that come back are compared with autograd's, and a wrong one is matched
against the common mistakes (transposed, not summed over the batch, off by the batch
size, wrong sign, ...) to name the diagnosis.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from ..gradients import (
    GradientComparison,
    autograd_linear_gradients,
    compare_gradients,
    random_linear_problem,
)
from ..seeding import seeded
from ._support import Findings, add_exception, callable_name, describe, safe_call, single_threaded
from .report import CaseResult, CheckReport

#: The problems ``check_linear_backward`` runs: ``(batch_shape, in_features, out_features, bias)``.
#: Every weight is non-square (a transposed gradient then has the wrong shape), and the
#: 3-D batches check that weight and bias gradients sum over *every* batch position.
LINEAR_CASES: tuple[tuple[tuple[int, ...], int, int, bool], ...] = (
    ((1,), 5, 3, True),  # a batch of one
    ((8,), 4, 6, True),
    ((6,), 5, 2, False),  # no bias
    ((2, 3), 4, 5, True),  # a 3-D batch (B, T, D_in)
    ((3, 4), 6, 2, False),  # a 3-D batch, no bias
)

_NAMES = ("grad_input", "grad_weight", "grad_bias")
_OF = {"grad_input": "x", "grad_weight": "weight", "grad_bias": "bias"}


def _linear_case_name(batch_shape: tuple[int, ...], d_in: int, d_out: int, bias: bool) -> str:
    return (f"x {(*batch_shape, d_in)}, weight {(d_out, d_in)}, "
            f"{'bias' if bias else 'no bias'}")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def _scale_factor(got: torch.Tensor, ref: torch.Tensor) -> float | None:
    """``s`` such that ``got == s * ref`` (up to rounding), or ``None`` if there is none."""
    denom = (ref * ref).sum()
    if denom <= 0:
        return None
    s = ((got * ref).sum() / denom).item()
    residual = (got - s * ref).abs().max().item()
    if residual <= 1e-9 * max(1.0, abs(s)) * ref.abs().max().item():
        return s
    return None


def _is_first_or_last_row(got: torch.Tensor, grad_output: torch.Tensor) -> str | None:
    rows = grad_output.reshape(-1, grad_output.shape[-1])
    if rows.shape[0] < 2 or got.shape != rows.shape[1:]:
        return None
    for label, row in (("first", rows[0]), ("last", rows[-1])):
        if torch.allclose(got, row, rtol=1e-9, atol=1e-12):
            return label
    return None


#: Internal: grad_bias of shape (1, D_out) for a batch of one, resolved once all cases ran.
_AMBIGUOUS_BIAS = "_ambiguous_bias_shape"


def _shape_finding(name: str, got: torch.Tensor, ref: torch.Tensor, batch_shape: tuple[int, ...],
                   d_in: int, d_out: int) -> tuple[str, str]:
    """Diagnose a gradient whose shape is not its parameter's."""
    shape, want = tuple(got.shape), tuple(ref.shape)
    base = (f"{name} has shape {shape} but must have the shape of {_OF[name]}, {want}: "
            "a gradient always has the shape of what it is the gradient of.")
    if len(shape) == len(want) + 1 and shape[0] == 1 and shape[1:] == want:
        message = base + (" It has an extra leading dimension of size 1 (keepdim=True, or an "
                          "unsqueeze): drop it.")
        if name == "grad_bias" and math.prod(batch_shape) == 1:
            # With one sample, grad_output unsummed and a keepdim sum look the same.
            return (_AMBIGUOUS_BIAS, base + " It has an extra leading dimension of size 1: "
                    "sum grad_output over the batch dimension without keepdim.")
        return ("wrong_shape", message)
    if name == "grad_weight":
        if shape == (d_in, d_out):
            same = torch.allclose(got, ref.T, rtol=1e-7, atol=1e-7)
            return ("transposed_weight_gradient",
                    f"grad_weight has shape {shape} = (D_in, D_out), the transpose of weight's "
                    f"(D_out, D_in) = {want}"
                    + (", and its values are exactly the right gradient transposed" if same else "")
                    + ". You multiplied the factors in the wrong order: grad_weight must be "
                    "(D_out, D_in), so grad_output's features index its rows and x's features "
                    "its columns (check the shapes of your product).")
        if len(batch_shape) > 1 and shape[-2:] == want:
            return ("wrong_shape", base + f" It has extra leading dimensions {shape[:-2]}: the same "
                    "weight is used at every batch position, so sum over all of them (flatten "
                    "the batch dimensions with reshape(-1, features) first).")
    if name == "grad_bias":
        if shape == tuple(batch_shape) + (d_out,):
            return ("bias_not_summed", f"grad_bias has shape {shape}, the shape of grad_output, "
                    f"instead of bias's {want}: the same bias is added to every sample, so its "
                    "gradient is the sum of grad_output over the whole batch.")
        if len(batch_shape) > 1 and len(shape) >= 2 and shape[-1] == d_out and shape != want:
            return ("bias_not_summed", f"grad_bias has shape {shape} instead of {want}: you summed "
                    "over some batch dimensions but not all; sum over every batch position.")
    if name == "grad_input" and len(batch_shape) == 1 and shape == (d_in, batch_shape[0]):
        return ("transposed_input_gradient",
                f"grad_input has shape {shape} = (D_in, N), the transpose of x's {want}. "
                "It must have x's shape (N, D_in).")
    return ("wrong_shape", base)


def _value_finding(name: str, got: torch.Tensor, ref: torch.Tensor, grad_output: torch.Tensor,
                   batch_shape: tuple[int, ...]) -> tuple[str, str, float | None]:
    """Diagnose a gradient of the right shape whose values are wrong.

    Returns ``(code, message, scale)`` where ``scale`` is the constant factor between
    ``got`` and ``ref`` when there is one.
    """
    n_total = math.prod(batch_shape)
    n_first = batch_shape[0]
    if got.dim() == 2 and got.shape == ref.T.shape and not torch.allclose(ref, ref.T) \
            and torch.allclose(got, ref.T, rtol=1e-7, atol=1e-7):
        code = "transposed_weight_gradient" if name == "grad_weight" else "wrong_values"
        return code, f"{name} equals the right gradient transposed.", None
    if name == "grad_bias":
        which = _is_first_or_last_row(got, grad_output)
        if which is not None:
            return ("bias_not_summed", f"grad_bias equals the {which} sample's row of grad_output, "
                    "not the sum over the batch: the same bias is added to every sample, so its "
                    "gradient is the sum of grad_output over every batch position.", None)
    s = _scale_factor(got, ref)
    if s is not None:
        for n, what in ((n_total, f"the number of samples N = {n_total}"),
                        (n_first, f"x.shape[0] = {n_first}")):
            if n > 1 and _close(s, 1 / n):
                if name == "grad_bias":
                    msg = (f"grad_bias is the mean of grad_output over the batch (1/{n} of the sum, "
                           f"{what}): the bias gradient is the sum over the batch, not the mean.")
                    return "bias_not_summed", msg, s
                return ("batch_size_scale",
                        f"{name} is 1/{n} of the right gradient ({what}). grad_output already is "
                        "dL/dY for the loss being differentiated (if that loss is a mean, the 1/N "
                        "is inside grad_output): do not divide by the batch size again.", s)
            if n > 1 and _close(s, n):
                return ("batch_size_scale",
                        f"{name} is {n} times the right gradient ({what}): do not multiply by the "
                        "batch size; grad_output already carries the loss's scaling.", s)
        if _close(s, -1.0):
            return "wrong_sign", f"{name} has the right size but the opposite sign.", s
        return ("constant_factor",
                f"{name} is the right gradient times {s:.4g}: the pattern is right but a "
                "constant factor is off.", s)
    return ("wrong_values", f"{name} has the right shape but wrong values (no known pattern): "
            "re-derive it with the chain rule and check it element by element on a tiny example.",
            None)


def _format_errors(c: GradientComparison) -> str:
    return f"{c.max_abs_error:.1e} / {c.max_rel_error:.1e}"


@single_threaded
def check_linear_backward(fn: Callable) -> CheckReport:
    r"""Check a hand-written ``linear_backward`` against autograd.

    Runs ``fn(grad_output, x, weight, bias)`` (the signature of
    :func:`labcode.linear_backward`; ``bias`` is ``None`` for a layer without bias) on
    each problem of :data:`LINEAR_CASES`, in float64, and compares what it returns with
    autograd's gradients of :math:`Y = X W^\top + b` (via
    :func:`~labcode.gradients.autograd_linear_gradients`) at float64 tolerances
    (``rtol = atol = 1e-7``, as ``torch.testing`` uses). ``fn`` must return
    ``(grad_input, grad_weight, grad_bias)`` with the shapes of ``x``, ``weight`` and
    ``bias`` (``grad_bias`` is ``None`` when ``bias`` is ``None``). ``x`` may have
    several batch dimensions, ``(..., D_in)``.

    The table shows, for each case and gradient, ``max abs error / max rel error``.
    Diagnoses (see :data:`DIAGNOSIS_CODES`): ``transposed_weight_gradient``,
    ``bias_not_summed``, ``batch_size_scale`` (off by 1/N or N), ``wrong_shape``,
    ``wrong_return``, ``wrong_dtype``, ``not_finite``, ``raised``, ``not_implemented``,
    ``modified_input``, ``transposed_input_gradient``, ``wrong_sign``,
    ``constant_factor``, ``wrong_values``.

    Each case calls ``fn`` under its own fixed seed (:func:`labcode.seeded`): the
    report is the same on every run, and the caller's global random state is untouched.

    Args:
        fn: your function ``fn(grad_output, x, weight, bias)``.

    Returns:
        a :class:`CheckReport`; ``report.passed`` is ``True`` when every case matches.

    Example:
        >>> from labcode import linear_backward
        >>> check_linear_backward(linear_backward).passed
        True
    """
    if not callable(fn):
        raise TypeError(
            "fn must be a function fn(grad_output, x, weight, bias) that returns "
            f"(grad_input, grad_weight, grad_bias), got {describe(fn)}"
        )
    start = time.perf_counter()
    findings = Findings()
    cases: list[CaseResult] = []
    ambiguous: list[tuple[str, str]] = []  # (case, message) of _AMBIGUOUS_BIAS shapes
    for index, (batch_shape, d_in, d_out, has_bias) in enumerate(LINEAR_CASES):
        name = _linear_case_name(batch_shape, d_in, d_out, has_bias)
        p = random_linear_problem(batch_shape, d_in, d_out, bias=has_bias, seed=1000 + index)
        ref = autograd_linear_gradients(p["grad_output"], p["x"], p["weight"], p["bias"])
        inputs = {k: p[k] for k in ("grad_output", "x", "weight", "bias")}
        given = {k: (v.clone() if v is not None else None) for k, v in inputs.items()}
        with seeded(index):  # same report every run; the caller's generator is untouched
            result, exc, caught = safe_call(fn, given["grad_output"], given["x"], given["weight"],
                                            given["bias"])
        notes: list[str] = []
        if caught:
            notes.append("warning: " + caught[0])
        cells: dict[str, str] = {}
        comparisons: list[GradientComparison] = []
        case_codes: list[str] = []
        pending: list[tuple[str, str, str, float | None]] = []

        def add(code: str, message: str) -> None:
            findings.add(code, message, name)
            case_codes.append(code)

        if exc is not None:
            hint = ""
            if not has_bias and "NoneType" in str(exc):
                hint = ("This case has no bias (bias is None): then return None for grad_bias "
                        "and do not use bias.")
            text = add_exception(findings, exc, name, f"{callable_name(fn)}(grad_output, x, "
                                 "weight, bias)", hint)
            case_codes.append("raised")
            cells = {n: "—" for n in _NAMES}
            cases.append(CaseResult(name, False, tuple(cells.items()), (), text))
            continue

        for key, value in inputs.items():
            if value is not None and not (given[key].shape == value.shape
                                          and torch.equal(given[key], value)):
                add("modified_input", f"your function changed its input {key} in place (an "
                    "in-place operation such as /=, +=, .t_() or .zero_()): a backward pass must "
                    "not modify the tensors it is given; compute new tensors instead.")
                break

        if not isinstance(result, (tuple, list)) or len(result) != 3:
            got = ("None (is a return statement missing?)" if result is None
                   else f"{len(result)} values" if isinstance(result, (tuple, list))
                   else describe(result))
            add("wrong_return", "linear_backward must return three values, (grad_input, "
                f"grad_weight, grad_bias), got {got}.")
            cells = {n: "—" for n in _NAMES}
            cases.append(CaseResult(name, False, tuple(cells.items()), (),
                                    f"returned {got}"))
            continue

        for gname, got, want in zip(_NAMES, result, ref):
            if want is None:  # no bias: grad_bias must be None
                if got is not None:
                    add("wrong_return", "with bias=None, grad_bias must be None (there is no "
                        f"bias to take a gradient of), got {describe(got)}.")
                    cells[gname] = "not None"
                else:
                    cells[gname] = "None (no bias)"
                continue
            if not isinstance(got, torch.Tensor):
                add("wrong_return", f"{gname} must be a torch.Tensor with the shape of "
                    f"{_OF[gname]} {tuple(want.shape)}, got {describe(got)}.")
                cells[gname] = "not a tensor"
                continue
            if not got.is_floating_point():
                add("wrong_dtype", f"{gname} has dtype {got.dtype}; gradients are real numbers "
                    "in the inputs' dtype (float64 here).")
                cells[gname] = f"dtype {str(got.dtype).removeprefix('torch.')}"
                continue
            got = got.detach()
            if not torch.isfinite(got).all():
                add("not_finite", f"{gname} contains NaN or inf: look for a division by zero, "
                    "a log of 0, or an uninitialised tensor (torch.empty).")
                cells[gname] = "NaN/inf"
                continue
            if got.shape != want.shape:
                code, message = _shape_finding(gname, got, want, batch_shape, d_in, d_out)
                if code == _AMBIGUOUS_BIAS:
                    ambiguous.append((name, message))
                    case_codes.append("grad_bias shape")
                else:
                    add(code, message)
                cells[gname] = f"shape {tuple(got.shape)}"
                continue
            if got.dtype != want.dtype:
                add("wrong_dtype", f"{gname} comes back as {str(got.dtype).removeprefix('torch.')} "
                    "for float64 inputs: keep the inputs' dtype (no .float(), no torch.tensor(..., "
                    "dtype=torch.float32)); rounding to float32 costs about 7 digits.")
            comparison = compare_gradients(got.to(want.dtype), want, name=gname)
            comparisons.append(comparison)
            cells[gname] = _format_errors(comparison)
            if not comparison.passed:
                pending.append((gname, *_value_finding(gname, got.to(want.dtype), want,
                                                       p["grad_output"], batch_shape)))

        # A bias gradient at 1/N of the sum is "mean instead of sum" only when the other
        # gradients are right; when grad_weight is off by the same factor, the whole
        # backward was scaled by the batch size.
        scales = {g: s for g, code, _, s in pending if code == "batch_size_scale"}
        for gname, code, message, s in pending:
            if (gname == "grad_bias" and code == "bias_not_summed" and s is not None
                    and any(_close(s, other) for other in scales.values())):
                continue
            add(code, message)

        passed = not case_codes and all(c.passed for c in comparisons)
        note = "; ".join(notes) if passed else "; ".join(
            dict.fromkeys(case_codes).keys()) + ("; " + "; ".join(notes) if notes else "")
        cases.append(CaseResult(name, passed, tuple(cells.items()), tuple(comparisons), note))

    # A (1, D_out) bias gradient for a batch of one is the unsummed grad_output if the
    # larger batches show that mistake; otherwise it is a plain shape error (keepdim).
    for case, message in ambiguous:
        findings.add("bias_not_summed" if "bias_not_summed" in findings else "wrong_shape",
                     message, case)
    report = CheckReport(f"check_linear_backward({callable_name(fn)})", cases,
                         findings.diagnoses(), time.perf_counter() - start)
    report.notes.append("Cells show max abs error / max rel error against autograd, float64; "
                        "a case passes when every element is within rtol = atol = 1e-7.")
    return report


__all__ = ["LINEAR_CASES", "check_linear_backward"]
