r"""``check_linear_backward``: a student's hand-written linear backward against autograd.

Each case of :data:`LINEAR_CASES` is one random, non-square float64 problem. A wrong
gradient is named by the catalogue (:mod:`~labcode.checks.mistakes`): the mistake whose
plant, applied to autograd's answer, gives what the student returned.
"""

from collections.abc import Callable

import torch

from .. import _validate
from ..gradients import (
    GradientComparison,
    LinearProblem,
    autograd_linear_gradients,
    compare_gradients,
    default_tolerance,
    random_linear_problem,
)
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

_NO_BIAS_HINT = (
    "This case has no bias (bias is None): then return None for grad_bias and do not use bias."
)


def _same(got: object, want: object) -> bool:
    if got is None or want is None:
        return got is want
    return (
        isinstance(got, torch.Tensor)
        and got.shape == want.shape
        and torch.allclose(got.to(want.dtype), want, rtol=1e-7, atol=1e-9)
    )


def _scale(got: torch.Tensor, ref: torch.Tensor) -> float:
    """``s`` with ``got`` closest to ``s * ref`` (nan where the shapes differ)."""
    if got.shape != ref.shape or not (ref * ref).sum() > 0:
        return float("nan")
    return ((got * ref).sum() / (ref * ref).sum()).item()


def _recognise(got: list, ref: tuple, wrong: list[int], p: LinearProblem) -> list[tuple[str, int]]:
    """``(code, gradient)`` of the mistakes that explain the wrong gradients: each one whose
    plant reproduces all three (several: a tie the other cases decide), else, for each wrong
    gradient, the first whose plant reproduces it alone, or its shape, scale or values."""
    planted = [(m.code, plant(list(ref), p)) for m in _RECOGNISED for plant in m.plants]
    whole = dict.fromkeys(code for code, w in planted if all(map(_same, got, w)))
    if whole:
        return [(code, wrong[0]) for code in whole]
    found: dict[str, int] = {}
    for k in wrong:  # the first that fits: a plant, else the shape, the scale, the values
        fits = [code for code, w in planted if not _same(w[k], ref[k]) and _same(got[k], w[k])]
        if got[k].shape != ref[k].shape:
            fits.append("wrong_shape")
        elif _same(got[k], _scale(got[k], ref[k]) * ref[k]):
            fits.append("constant_factor")
        found.setdefault([*fits, "wrong_values"][0], k)
    return list(found.items())


def _info(p: LinearProblem, ref: tuple, k: int = 0, g: object = None) -> dict:
    """What a message may name about gradient ``k`` (``g``, what the student returned)."""
    both = isinstance(g, torch.Tensor) and ref[k] is not None
    return dict(
        name=_NAMES[k],
        of=_OF[k],
        M=p.grad_output.numel() // p.weight.shape[0],
        N0=p.x.shape[0],
        got=tuple(g.shape) if both else None,
        want=None if ref[k] is None else tuple(ref[k].shape),
        scale=_scale(g, ref[k]) if both else float("nan"),
        dtype=_validate.dtype_name(g.dtype) if isinstance(g, torch.Tensor) else None,
    )


def _returned(result: object) -> str:
    if result is None:
        return "None (is a return statement missing?)"
    if isinstance(result, (tuple, list)):
        return f"{len(result)} values"
    return _validate.describe(result)


def _gradient(
    k: int, g: object, want: torch.Tensor | None, add: Callable
) -> tuple[str, GradientComparison | None, bool]:
    """Gradient ``k``'s cell, its comparison, and whether its values are wrong (for
    :func:`_recognise`); ``add(code, k, g)`` diagnoses what is wrong with it besides its values."""
    if want is None or not isinstance(g, torch.Tensor):
        if g is want:
            return "None (no bias)", None, False
        expected = (
            "None: there is no bias"
            if want is None
            else f"a tensor of {_OF[k]}'s shape {tuple(want.shape)}"
        )
        add("wrong_return", detail=f"{_NAMES[k]} must be {expected}, got {_validate.describe(g)}.")
        return "not a tensor", None, False
    if not g.is_floating_point():
        add("wrong_dtype", k, g)
        return f"dtype {_validate.dtype_name(g.dtype)}", None, False
    if not torch.isfinite(g).all():
        add("not_finite", k, g)
        return "NaN/inf", None, False
    if g.shape != want.shape:
        return f"shape {tuple(g.shape)}", None, True
    rtol, atol = default_tolerance(g.dtype)  # float32 at float32's tolerance: its values count
    c = compare_gradients(g.double(), want, name=_NAMES[k], rtol=rtol, atol=atol)
    if g.dtype != want.dtype:
        add("wrong_dtype", k, g)
    return f"{c.max_abs_error:.1e} / {c.max_rel_error:.1e}", c, not c.passed


def _check_case(
    fn: Callable, index: int, findings: Findings, tied: dict, raised: dict
) -> CaseResult:
    """One row of :func:`check_linear_backward`: ``fn`` on the problem ``LINEAR_CASES[index]``;
    a tie (``tied``) and an exception (``raised``) wait for every case's findings."""
    batch_shape, d_in, d_out, has_bias = LINEAR_CASES[index]
    name = f"x {(*batch_shape, d_in)}, weight {(d_out, d_in)}, {'bias' if has_bias else 'no bias'}"
    p = random_linear_problem(batch_shape, d_in, d_out, bias=has_bias, seed=1000 + index)
    ref = autograd_linear_gradients(*p)
    given = [t if t is None else t.clone() for t in p]
    with seeded(index):  # the same report every run; the caller's generator is untouched
        result, exc, caught = safe_call(fn, *given)
    codes, cells, comparisons, wrong = [], dict.fromkeys(_NAMES, "—"), [], []

    def add(code: str, k: int = 0, g: object = None, **fields) -> None:
        findings.add(code, name, **{**_info(p, ref, k, g), **fields})
        codes.append(code)

    if exc is not None:
        raised[index] = exc
        codes.append(f"raised {type(exc).__name__}")
    elif not isinstance(result, (tuple, list)) or len(result) != 3:
        add(
            "wrong_return",
            detail="linear_backward must return three values, (grad_input, "
            f"grad_weight, grad_bias), got {_returned(result)}.",
        )
    else:
        got = [g.detach() if isinstance(g, torch.Tensor) else g for g in result]
        checked = [_gradient(k, got[k], ref[k], add) for k in range(3)]
        cells = dict(zip(_NAMES, (cell for cell, _, _ in checked)))
        comparisons = [comparison for _, comparison, _ in checked if comparison is not None]
        wrong = [k for k, (_, _, values_wrong) in enumerate(checked) if values_wrong]
        recognised = _recognise(got, ref, wrong, p) if wrong else []
        if len(recognised) > 1 and len(wrong) == 1:  # a tie: the other cases decide
            tied[name] = [(code, _info(p, ref, k, got[k])) for code, k in recognised]
            codes.append(" or ".join(code for code, _ in recognised))
        else:
            for code, k in recognised:
                add(code, k, got[k])
    if any(t is not None and not torch.equal(g, t) for g, t in zip(given, p)):
        add("modified_input")
    note = "; ".join(dict.fromkeys(codes))
    if not note and caught:
        note = "warning: " + caught[0]
    return CaseResult(name, not codes, tuple(cells.items()), tuple(comparisons), note)


@single_threaded()
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
    _validate.student_code(
        "fn",
        fn,
        "a function fn(grad_output, x, weight, bias) that returns "
        "(grad_input, grad_weight, grad_bias)",
    )
    findings, tied, raised = Findings("linear_backward"), {}, {}
    cases = [_check_case(fn, i, findings, tied, raised) for i in range(len(LINEAR_CASES))]
    for name, candidates in tied.items():  # e.g. shape (1, D_out) for one sample
        code, fields = next((c for c in candidates if c[0] in findings.found), candidates[0])
        findings.add(code, name, **fields)
    # raised only where x has several batch dimensions: a backward for 2-D x only
    only_batched = 0 < len(raised) < len(LINEAR_CASES) and all(
        len(LINEAR_CASES[i][0]) > 1 for i in raised
    )
    for i, exc in raised.items():
        findings.exception(
            exc,
            cases[i].name,
            f"{callable_name(fn)}(grad_output, x, weight, bias)",
            _NO_BIAS_HINT if not LINEAR_CASES[i][3] and "NoneType" in str(exc) else "",
            "batch_dimensions" if only_batched else "raised",
        )
    note = (
        "Cells show max abs error / max rel error against autograd, float64; "
        "a case passes when every element is within rtol = atol = 1e-7."
    )
    return findings.report(f"check_linear_backward({callable_name(fn)})", cases, [note])
