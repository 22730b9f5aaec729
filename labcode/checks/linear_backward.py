r"""``check_linear_backward``: a student's hand-written linear backward against autograd.

Each case of :data:`LINEAR_CASES` is one random, non-square float64 problem. A wrong
gradient is named by the catalogue (:mod:`~labcode.checks.mistakes`): the mistake whose
plant, applied to autograd's answer, gives what the student returned.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

import torch

from .. import _validate
from ..gradients import autograd_linear_gradients, compare_gradients, default_tolerance, random_linear_problem
from ..seeding import seeded
from ._support import Findings, callable_name, safe_call, single_threaded
from .mistakes import MISTAKES
from .report import CaseResult, CheckReport

#: The problems ``check_linear_backward`` runs: ``(batch_shape, in_features, out_features, bias)``.
#: Every weight is non-square (a transposed gradient then has the wrong shape), and the 3-D
#: batches check that weight and bias gradients sum over *every* batch position.
LINEAR_CASES: tuple[tuple[tuple[int, ...], int, int, bool], ...] = (
    ((1,), 5, 3, True),  # a batch of one
    ((8,), 4, 6, True),
    ((6,), 5, 2, False),  # no bias
    ((2, 3), 4, 5, True),  # a 3-D batch (B, T, D_in)
    ((3, 4), 6, 2, False),  # a 3-D batch, no bias
)
_NAMES, _OF = ("grad_input", "grad_weight", "grad_bias"), ("x", "weight", "bias")
_RECOGNISED = [m for m in MISTAKES if m.check == "linear_backward" and m.recognise]


def _same(got: object, want: object) -> bool:
    if got is None or want is None:
        return got is want
    return (isinstance(got, torch.Tensor) and got.shape == want.shape
            and torch.allclose(got.to(want.dtype), want, rtol=1e-7, atol=1e-9))


def _scale(got: torch.Tensor, ref: torch.Tensor) -> float:
    """``s`` with ``got`` closest to ``s * ref`` (nan where the shapes differ)."""
    if got.shape != ref.shape or not (ref * ref).sum() > 0:
        return float("nan")
    return ((got * ref).sum() / (ref * ref).sum()).item()


def _recognise(got: list, ref: tuple, wrong: list[int], p) -> list[tuple[str, int]]:
    """``(code, gradient)`` of the mistakes that explain the wrong gradients: each one whose
    plant reproduces all three (several: a tie the other cases decide), else one per wrong
    gradient."""
    planted = [(m.code, plant(list(ref), p)) for m in _RECOGNISED for plant in m.plants]
    whole = dict.fromkeys(code for code, w in planted if all(map(_same, got, w)))
    found = {code: wrong[0] for code in whole}
    for k in [] if whole else wrong:
        code = next((c for c, w in planted if not _same(w[k], ref[k]) and _same(got[k], w[k])),
                    "wrong_shape" if got[k].shape != ref[k].shape else "constant_factor"
                    if _same(got[k], _scale(got[k], ref[k]) * ref[k]) else "wrong_values")
        found.setdefault(code, k)
    return list(found.items())


@single_threaded
def check_linear_backward(fn: Callable) -> CheckReport:
    r"""Check a hand-written ``linear_backward`` against autograd.

    Runs ``fn(grad_output, x, weight, bias)`` (the signature of
    :func:`labcode.linear_backward`; ``bias`` is ``None`` for a layer without bias) on each
    problem of :data:`LINEAR_CASES`, in float64, and compares what it returns with
    autograd's gradients of :math:`Y = X W^\top + b` at float64 tolerances (``rtol = atol
    = 1e-7``, as ``torch.testing``). ``fn`` must return ``(grad_input, grad_weight,
    grad_bias)`` with the shapes of ``x``, ``weight`` and ``bias`` (``grad_bias`` is
    ``None`` without a bias); ``x`` may have several batch dimensions. Each case runs
    under its own fixed seed (:func:`labcode.seeded`).

    Args:
        fn: your function ``fn(grad_output, x, weight, bias)``.

    Returns:
        a :class:`CheckReport`: per case and gradient, ``max abs error / max rel error``.

    Example:
        >>> from labcode import linear_backward
        >>> check_linear_backward(linear_backward).passed
        True
    """
    _validate.student_code("fn", fn, "a function fn(grad_output, x, weight, bias) that returns "
                           "(grad_input, grad_weight, grad_bias)")
    start, findings, cases = time.perf_counter(), Findings("linear_backward"), []
    tied: dict[str, list] = {}  # case -> the mistakes that fit it equally well
    raised: list[tuple[str, BaseException, bool]] = []  # (case, exception, several batch dims)
    for index, (batch_shape, d_in, d_out, has_bias) in enumerate(LINEAR_CASES):
        name = f"x {(*batch_shape, d_in)}, weight {(d_out, d_in)}, {'bias' if has_bias else 'no bias'}"
        problem = random_linear_problem(batch_shape, d_in, d_out, bias=has_bias, seed=1000 + index)
        p = SimpleNamespace(**{k: problem[k] for k in ("grad_output", "x", "weight", "bias")})
        ref = autograd_linear_gradients(p.grad_output, p.x, p.weight, p.bias)
        given = [t if t is None else t.clone() for t in vars(p).values()]
        with seeded(index):  # the same report every run; the caller's generator is untouched
            result, exc, caught = safe_call(fn, *given)
        codes, cells, comparisons, wrong = [], {n: "—" for n in _NAMES}, [], []

        def info(k: int = 0, g: object = None) -> dict:  # what a message may name
            both = isinstance(g, torch.Tensor) and ref[k] is not None
            return dict(name=_NAMES[k], of=_OF[k], M=p.grad_output.numel() // d_out,
                        N0=batch_shape[0], got=tuple(g.shape) if both else None,
                        want=None if ref[k] is None else tuple(ref[k].shape),
                        scale=_scale(g, ref[k]) if both else float("nan"))

        def add(code: str, **fields) -> None:
            findings.add(code, name, **fields)
            codes.append(code)

        if exc is not None:
            raised.append((name, exc, len(batch_shape) > 1))
            codes.append(f"raised {type(exc).__name__}")
        elif not isinstance(result, (tuple, list)) or len(result) != 3:
            got = ("None (is a return statement missing?)" if result is None else f"{len(result)} "
                   "values" if isinstance(result, (tuple, list)) else _validate.describe(result))
            add("wrong_return", detail="linear_backward must return three values, (grad_input, "
                f"grad_weight, grad_bias), got {got}.")
        else:
            got = [g.detach() if isinstance(g, torch.Tensor) else g for g in result]
            for k, (g, want) in enumerate(zip(got, ref)):
                if want is None or not isinstance(g, torch.Tensor):
                    cells[_NAMES[k]] = "None (no bias)" if g is want else "not a tensor"
                    if g is not want:
                        add("wrong_return", detail=f"{_NAMES[k]} must be " + ("None: there is no "
                            "bias" if want is None else f"a tensor of {_OF[k]}'s shape "
                            f"{tuple(want.shape)}") + f", got {_validate.describe(g)}.")
                elif not g.is_floating_point():
                    cells[_NAMES[k]] = f"dtype {_validate.dtype_name(g.dtype)}"
                    add("wrong_dtype", **info(k), dtype=_validate.dtype_name(g.dtype))
                elif not torch.isfinite(g).all():
                    cells[_NAMES[k]] = "NaN/inf"
                    add("not_finite", **info(k))
                elif g.shape != want.shape:
                    cells[_NAMES[k]] = f"shape {tuple(g.shape)}"
                    wrong.append(k)
                else:  # float32 is compared at float32's tolerance: its values still count
                    c = compare_gradients(g.double(), want, name=_NAMES[k], **dict(
                        zip(("rtol", "atol"), default_tolerance(g.dtype))))
                    comparisons.append(c)
                    cells[_NAMES[k]] = f"{c.max_abs_error:.1e} / {c.max_rel_error:.1e}"
                    wrong += [] if c.passed else [k]
                    if g.dtype != want.dtype:
                        add("wrong_dtype", **info(k), dtype=_validate.dtype_name(g.dtype))
            recognised = _recognise(got, ref, wrong, p) if wrong else []
            if len(recognised) > 1 and len(wrong) == 1:  # a tie: the other cases decide
                tied[name] = [(code, info(k, got[k])) for code, k in recognised]
                codes.append(" or ".join(code for code, _ in recognised))
            else:
                for code, k in recognised:
                    add(code, **info(k, got[k]))
        if any(t is not None and not torch.equal(g, t) for g, t in zip(given, vars(p).values())):
            add("modified_input")
        cases.append(CaseResult(name, not codes, tuple(cells.items()), tuple(comparisons),
                                "; ".join(dict.fromkeys(codes)) or ("warning: " + caught[0]
                                                                    if caught else "")))
    for name, candidates in tied.items():  # e.g. shape (1, D_out) for one sample
        code, fields = next((c for c in candidates if c[0] in findings.found), candidates[0])
        findings.add(code, name, **fields)
    only_batched = 0 < len(raised) < len(LINEAR_CASES) and all(b for _, _, b in raised)
    for name, exc, _ in raised:  # raised only where x has several batch dimensions: 2-D only
        hint = ("This case has no bias (bias is None): then return None for grad_bias and do "
                "not use bias." if name.endswith("no bias") and "NoneType" in str(exc) else "")
        findings.exception(exc, name, f"{callable_name(fn)}(grad_output, x, weight, bias)", hint,
                           "batch_dimensions" if only_batched else "raised")
    report = findings.report(f"check_linear_backward({callable_name(fn)})", cases, start)
    report.notes.append("Cells show max abs error / max rel error against autograd, float64; "
                        "a case passes when every element is within rtol = atol = 1e-7.")
    return report


__all__ = ["LINEAR_CASES", "check_linear_backward"]
