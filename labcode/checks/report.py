r"""Self-checks a student runs on their *own* code before handing it in.

Three checks, one per thing the lab asks you to build:

* :func:`check_linear_backward` runs your ``linear_backward(grad_output, x, weight, bias)``
  on several random, non-square problems in float64 (a batch of one, a 3-D batch, with
  and without bias) and compares every gradient with autograd's.
* :func:`check_mlp` builds your MLP class as ``model_class(in_features, hidden_features,
  out_features)`` and checks the output shape, that it is an ``nn.Module`` with
  registered parameters, that it is *not* an affine map (it has a nonlinearity), and
  that a loss's gradient reaches every parameter.
* :func:`check_training` runs your training function ``train_fn(model, X, y, epochs=...,
  lr=...)`` on a small two-moons problem with a known model and checks that the loss
  goes down, the held-out accuracy is high enough, and that gradients are cleared each
  step (``zero_grad``).

Each returns a :class:`CheckReport`: pass/fail per case, the errors, and a list of
:class:`Diagnosis` objects naming the common mistakes (transposed weight gradient,
bias gradient not summed over the batch, gradients off by the batch size, wrong shapes,
missing ``zero_grad``, no nonlinearity, ...). In a notebook the report shows as a table;
``print(report)`` gives the same as plain text. Your function may raise or return the
wrong thing: that is reported, never re-raised.

Example:
    >>> from labcode import linear_backward
    >>> report = check_linear_backward(linear_backward)
    >>> report.passed, report.diagnoses
    (True, [])
"""
from __future__ import annotations

import contextlib
import copy
import functools
import html
import math
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _validate
from ._rng import seeded
from .data import make_moons
from .gradients import (
    GradientComparison,
    autograd_linear_gradients,
    compare_gradients,
    random_linear_problem,
)
from .mlp import MLP
from .train import History, accuracy, train

# --------------------------------------------------------------------------- report

#: Okabe-Ito colours for the verdicts (the words PASS/FAIL carry the meaning too).
_PASS_COLOUR, _FAIL_COLOUR = "#0072B2", "#D55E00"


def _where(cases: Sequence[str], every: Sequence[str] = ()) -> str:
    if not cases:
        return ""
    if len(every) > 1 and set(cases) == set(every):
        return " Seen in every case."
    return f" Seen in: {'; '.join(cases)}."


@dataclass(frozen=True)
class Diagnosis:
    """One recognised mistake.

    Attributes:
        code: a short, stable identifier such as ``"transposed_weight_gradient"``
            (the codes are listed in :data:`DIAGNOSIS_CODES`).
        message: what was seen and what to do about it, in plain words.
        cases: the names of the cases in which it was seen.
    """

    code: str
    message: str
    cases: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}{_where(self.cases)}"


@dataclass(frozen=True)
class CaseResult:
    """One row of a report.

    Attributes:
        name: what was run, e.g. ``"batch (1,), 5 -> 3, bias"``.
        passed: whether this case is right.
        cells: ``(column, text)`` pairs shown in the row's table cells.
        comparisons: the :class:`~labcode.gradients.GradientComparison` of each
            gradient that could be compared (empty where none applies).
        note: what went wrong in this case, or extra information.
    """

    name: str
    passed: bool
    cells: tuple[tuple[str, str], ...] = ()
    comparisons: tuple[GradientComparison, ...] = ()
    note: str = ""


@dataclass
class CheckReport:
    """The result of one check: an overall verdict, per-case rows and diagnoses.

    ``passed`` is ``True`` only when every case passed and nothing was diagnosed.
    Renders as an HTML table in a notebook (``_repr_html_``) and as plain text
    (``str(report)``). ``seconds`` (how long the check ran) is kept out of both, so a
    page that shows a report shows the same text on every build.
    """

    title: str
    cases: list[CaseResult]
    diagnoses: list[Diagnosis]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases) and not self.diagnoses

    @property
    def codes(self) -> list[str]:
        """The diagnosis codes, in the order they were found."""
        return [d.code for d in self.diagnoses]

    def _columns(self) -> list[str]:
        columns: list[str] = []
        for case in self.cases:
            for column, _ in case.cells:
                if column not in columns:
                    columns.append(column)
        return columns

    def _summary(self) -> str:
        n_passed = sum(c.passed for c in self.cases)
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{self.title}: {verdict} ({n_passed} of {len(self.cases)} cases passed, "
                f"{len(self.diagnoses)} diagnos{'is' if len(self.diagnoses) == 1 else 'es'})")

    def __str__(self) -> str:
        columns = self._columns()
        header = ["case", "result", *columns, "note"]
        rows = [[c.name, "PASS" if c.passed else "FAIL", *(dict(c.cells).get(k, "") for k in columns),
                 c.note] for c in self.cases]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(header)]
        widths[-1] = len(header[-1])  # the note runs on; do not pad it
        lines = [self._summary(), ""]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        if self.diagnoses:
            lines += ["", "Diagnoses:"]
            names = [c.name for c in self.cases]
            lines += [f"  - [{d.code}] {d.message}{_where(d.cases, names)}" for d in self.diagnoses]
        if self.notes:
            lines += ["", "Notes:"]
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self._summary()}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        columns = self._columns()
        colour = _PASS_COLOUR if self.passed else _FAIL_COLOUR
        cell = 'style="text-align:left; padding:2px 8px; vertical-align:top"'
        out = [f'<div class="labcode-check-report">',
               f'<p><strong>{esc(self.title)}</strong>: '
               f'<strong style="color:{colour}">{"PASS" if self.passed else "FAIL"}</strong> '
               f'&mdash; {sum(c.passed for c in self.cases)} of {len(self.cases)} cases passed, '
               f'{len(self.diagnoses)} diagnos{"is" if len(self.diagnoses) == 1 else "es"}</p>',
               '<div style="overflow-x:auto"><table>', '<thead><tr>']
        out += [f'<th {cell}>{esc(h)}</th>' for h in ["case", "result", *columns, "note"]]
        out.append('</tr></thead><tbody>')
        for c in self.cases:
            verdict = (f'<strong style="color:{_PASS_COLOUR if c.passed else _FAIL_COLOUR}">'
                       f'{"PASS" if c.passed else "FAIL"}</strong>')
            values = dict(c.cells)
            out.append("<tr>" + f"<td {cell}>{esc(c.name)}</td><td {cell}>{verdict}</td>"
                       + "".join(f"<td {cell}>{esc(values.get(k, ''))}</td>" for k in columns)
                       + f"<td {cell}>{esc(c.note)}</td></tr>")
        out.append("</tbody></table></div>")
        if self.diagnoses:
            out.append("<p><strong>Diagnoses</strong></p><ul>")
            for d in self.diagnoses:
                where = _where(d.cases, [c.name for c in self.cases])
                where = f" <em>{esc(where.strip())}</em>" if where else ""
                out.append(f"<li><code>{esc(d.code)}</code>: {esc(d.message)}{where}</li>")
            out.append("</ul>")
        if self.notes:
            out.append("<p><strong>Notes</strong></p><ul>")
            out += [f"<li>{esc(n)}</li>" for n in self.notes]
            out.append("</ul>")
        out.append("</div>")
        return "\n".join(out)


#: Every diagnosis code a check can report, with what it means.
DIAGNOSIS_CODES: dict[str, str] = {
    # any check
    "not_implemented": "the function (or class) raises NotImplementedError: still a TODO",
    "raised": "calling the function raised an exception",
    "not_finite": "a result contains NaN or inf",
    # check_linear_backward
    "wrong_return": "not three values (grad_input, grad_weight, grad_bias), or one is not a tensor",
    "wrong_shape": "a gradient does not have the shape of what it is the gradient of",
    "wrong_dtype": "a gradient's dtype differs from the inputs' (float64)",
    "transposed_weight_gradient": "grad_weight is the right gradient transposed, (D_in, D_out)",
    "transposed_input_gradient": "grad_input is the right gradient transposed",
    "bias_not_summed": "grad_bias is not the sum of grad_output over the batch",
    "batch_size_scale": "gradients off by a factor of the batch size N (1/N or N)",
    "wrong_sign": "a gradient has the opposite sign",
    "constant_factor": "a gradient is off by a constant factor",
    "modified_input": "the function changed one of its input tensors in place",
    "wrong_values": "a gradient has the right shape but wrong values (no known pattern)",
    # check_mlp
    "not_a_module": "the model is not a torch.nn.Module",
    "no_parameters": "the model has no registered parameters",
    "wrong_output": "the forward pass does not return a tensor of logits (N, C)",
    "softmax_output": "the forward pass returns probabilities instead of logits",
    "activation_on_output": "an activation is applied after the last layer",
    "no_nonlinearity": "the model is affine in its input: it collapses to one linear map",
    "no_gradient": "some parameter gets no gradient from the loss",
    "unregistered_parameter": "forward uses a trainable tensor the model does not register",
    # check_training
    "zero_grad_missing": "gradients accumulated across steps because zero_grad was missing",
    "no_backward": "no backward pass reached the model's parameters",
    "no_update": "the model's parameters did not change",
    "too_few_steps": "fewer backward passes than epochs",
    "loss_not_decreasing": "the training loss did not go down",
    "low_accuracy": "held-out accuracy below the threshold",
}


class _Findings:
    """Collects diagnoses across cases, one :class:`Diagnosis` per code (first message kept)."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._message: dict[str, str] = {}
        self._cases: dict[str, list[str]] = {}

    def add(self, code: str, message: str, case: str | None = None) -> None:
        if code not in DIAGNOSIS_CODES:  # a typo here would silently mislabel a mistake
            raise KeyError(f"unknown diagnosis code {code!r}")
        if code not in self._message:
            self._order.append(code)
            self._message[code] = message
            self._cases[code] = []
        if case is not None and case not in self._cases[code]:
            self._cases[code].append(case)

    def __contains__(self, code: str) -> bool:
        return code in self._message

    def diagnoses(self) -> list[Diagnosis]:
        return [Diagnosis(c, self._message[c], tuple(self._cases[c])) for c in self._order]


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run a check on one intra-op thread, then restore the caller's setting.

    The checks use tiny tensors, for which threads only add synchronisation; on a busy
    machine (a 2-core Binder, a build running next to the notebook) two spinning
    threads made ``check_training`` 10-40 times slower than one.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _single_threaded(check: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    @functools.wraps(check)
    def wrapper(*args, **kwargs) -> CheckReport:
        with _one_thread():
            return check(*args, **kwargs)
    return wrapper


def _callable_name(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _exception_text(exc: BaseException) -> str:
    """``"ValueError: message (line 12 of my_fn)"``: type, message and where it was raised."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (raised at line {last.lineno} in {last.name})"
    message = str(exc)
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


def _call(fn: Callable, *args, **kwargs) -> tuple[object, BaseException | None, list[str]]:
    """Call a student's function; return ``(result, exception, warnings)``, never raise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # the student's bug is the thing we report
            return None, exc, [str(w.message) for w in caught]
    return result, None, [str(w.message) for w in caught]


def _add_exception(findings: _Findings, exc: BaseException, case: str | None, what: str,
                   hint: str = "") -> str:
    """Record the exception as a diagnosis (full text); return a short note for the row."""
    text = _exception_text(exc)
    if isinstance(exc, NotImplementedError):
        findings.add("not_implemented", f"{what} is not implemented yet: {text}.", case)
        return "not implemented yet (NotImplementedError)"
    findings.add("raised", f"{what} raised {text}.{(' ' + hint) if hint else ''}", case)
    return f"raised {type(exc).__name__}"


# ---------------------------------------------------------------- linear backward

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


@_single_threaded
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
            f"(grad_input, grad_weight, grad_bias), got {_describe(fn)}"
        )
    start = time.perf_counter()
    findings = _Findings()
    cases: list[CaseResult] = []
    ambiguous: list[tuple[str, str]] = []  # (case, message) of _AMBIGUOUS_BIAS shapes
    for index, (batch_shape, d_in, d_out, has_bias) in enumerate(LINEAR_CASES):
        name = _linear_case_name(batch_shape, d_in, d_out, has_bias)
        p = random_linear_problem(batch_shape, d_in, d_out, bias=has_bias, seed=1000 + index)
        ref = autograd_linear_gradients(p["grad_output"], p["x"], p["weight"], p["bias"])
        inputs = {k: p[k] for k in ("grad_output", "x", "weight", "bias")}
        given = {k: (v.clone() if v is not None else None) for k, v in inputs.items()}
        result, exc, caught = _call(fn, given["grad_output"], given["x"], given["weight"],
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
            text = _add_exception(findings, exc, name, f"{_callable_name(fn)}(grad_output, x, "
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
                   else _describe(result))
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
                        f"bias to take a gradient of), got {_describe(got)}.")
                    cells[gname] = "not None"
                else:
                    cells[gname] = "None (no bias)"
                continue
            if not isinstance(got, torch.Tensor):
                add("wrong_return", f"{gname} must be a torch.Tensor with the shape of "
                    f"{_OF[gname]} {tuple(want.shape)}, got {_describe(got)}.")
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
    report = CheckReport(f"check_linear_backward({_callable_name(fn)})", cases,
                         findings.diagnoses(), time.perf_counter() - start)
    report.notes.append("Cells show max abs error / max rel error against autograd, float64; "
                        "a case passes when every element is within rtol = atol = 1e-7.")
    return report


# ------------------------------------------------------------------------ the MLP

#: The models ``check_mlp`` builds: ``(in_features, hidden_features, out_features)``.
MLP_CONFIGS: tuple[tuple[int, tuple[int, ...], int], ...] = (
    (2, (16,), 2),
    (3, (8, 5), 4),
    (5, (7, 6, 4), 3),
)
#: Batch sizes of the forward passes whose output shape is checked (a batch of one included).
MLP_BATCH_SIZES = (1, 7, 32)


def _graph_leaves(output: torch.Tensor) -> list[torch.Tensor]:
    """Every leaf tensor that requires grad and that ``output`` depends on."""
    leaves, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # AccumulateGrad nodes hold the leaf
        if variable is not None:
            leaves.append(variable)
        stack.extend(nxt for nxt, _ in node.next_functions)
    return leaves


def _affine_error(model: nn.Module, in_features: int, dtype: torch.dtype, seed: int) -> float:
    r"""Largest relative violation of :math:`f(a x_1 + (1-a) x_2) = a f(x_1) + (1-a) f(x_2)`.

    An affine map (any stack of linear layers with no nonlinearity between them)
    satisfies it exactly, for every ``a``; a ReLU/tanh network does not, once inputs
    straddle its kinks. Inputs are wide (standard deviation 3) and the weights ``a``
    include extrapolation (``a = -1.5``), so a nonlinear network shows it.
    """
    generator = torch.Generator().manual_seed(seed)
    x1 = 3 * torch.randn(64, in_features, generator=generator, dtype=dtype)
    x2 = 3 * torch.randn(64, in_features, generator=generator, dtype=dtype)
    worst = 0.0
    with torch.no_grad():
        f1, f2 = model(x1), model(x2)
        scale = max(f1.abs().max().item(), f2.abs().max().item(), 1e-12)
        for a in (0.3, -1.5):
            lhs = model(a * x1 + (1 - a) * x2)
            rhs = a * f1 + (1 - a) * f2
            worst = max(worst, (lhs - rhs).abs().max().item() / scale)
    return worst


@_single_threaded
def check_mlp(model_class: Callable[..., nn.Module]) -> CheckReport:
    """Check an MLP class: shapes, parameters, a nonlinearity, gradients to every parameter.

    For each ``(in_features, hidden_features, out_features)`` in :data:`MLP_CONFIGS`,
    builds ``model_class(in_features, hidden_features, out_features)`` (the first three
    arguments of :class:`labcode.MLP`; ``hidden_features`` is a list of widths such as
    ``[16]``), seeded, and checks that:

    * it is an ``nn.Module`` with registered parameters;
    * ``model(x)`` returns logits of shape ``(N, C)`` for ``N`` in :data:`MLP_BATCH_SIZES`,
      finite, not probabilities (``nn.CrossEntropyLoss`` applies the softmax itself) and
      not all non-negative (no activation after the last layer);
    * it is not affine in its input: in float64 it must violate
      ``f(a x1 + (1-a) x2) = a f(x1) + (1-a) f(x2)`` by more than ``1e-6`` relative
      (a linear-only MLP satisfies it to about ``1e-15``): else it "collapses to a
      linear model";
    * a cross-entropy loss's gradient reaches every parameter, and the output depends
      on no trainable tensor that the model does not register (a layer kept in a
      plain Python list is invisible to ``model.parameters()`` and to the optimizer).

    Args:
        model_class: your MLP class (the class itself, not an instance).

    Returns:
        a :class:`CheckReport`.

    Example:
        >>> from labcode import MLP
        >>> check_mlp(MLP).passed
        True
    """
    if isinstance(model_class, nn.Module):
        raise TypeError(
            f"model_class must be your MLP class itself, got an instance of "
            f"{type(model_class).__name__}: pass MLP, not MLP(...) (check_mlp builds its own models)"
        )
    if not callable(model_class):
        raise TypeError(
            "model_class must be a class called as model_class(in_features, hidden_features, "
            f"out_features), got {_describe(model_class)}"
        )
    start = time.perf_counter()
    findings = _Findings()
    cases: list[CaseResult] = []
    cls = _callable_name(model_class)
    for index, (d_in, hidden, n_out) in enumerate(MLP_CONFIGS):
        call = f"{cls}({d_in}, {list(hidden)}, {n_out})"
        cells = {"module": "—", "output (N, C)": "—", "nonlinear": "—", "gradients": "—"}
        codes: list[str] = []
        notes: list[str] = []

        def add(code: str, message: str, note: str) -> None:
            findings.add(code, message, call)
            codes.append(code)
            notes.append(note)

        def finish() -> None:
            cases.append(CaseResult(call, not codes, tuple(cells.items()), (),
                                    "; ".join(notes)))

        with seeded(index):
            model, exc, _ = _call(model_class, d_in, list(hidden), n_out)
        if exc is not None:
            text = _add_exception(findings, exc, call, f"building {call}",
                                  "check_mlp builds model_class(in_features, hidden_features, "
                                  "out_features), with hidden_features a list of widths.")
            codes.append("raised")
            notes.append(text)
            cells["module"] = "raised"
            finish()
            continue
        if not isinstance(model, nn.Module):
            add("not_a_module", f"{call} returned {_describe(model)}, not a torch.nn.Module: "
                "subclass nn.Module and call super().__init__() first.", "not an nn.Module")
            cells["module"] = "no"
            finish()
            continue
        params = dict(model.named_parameters())
        if not params:
            add("no_parameters", f"{call} has no registered parameters: create the layers as "
                "attributes (self.layers = nn.Sequential(...) or nn.ModuleList), not in a plain "
                "Python list or a local variable.", "no parameters")
            cells["module"] = "no parameters"
        else:
            cells["module"] = f"ok, {sum(p.numel() for p in params.values())} parameters"

        # Output shape, finiteness, logits (evaluation mode: dropout would blur the tests).
        model.eval()
        generator = torch.Generator().manual_seed(100 + index)
        shapes_ok, last_output = True, None
        for n in MLP_BATCH_SIZES:
            x = torch.randn(n, d_in, generator=generator)
            with torch.no_grad():
                out, exc, _ = _call(model, x)
            if exc is not None:
                text = _add_exception(findings, exc, call, f"the forward pass on x of shape {(n, d_in)}")
                codes.append("raised")
                notes.append(text)
                cells["output (N, C)"] = "raised"
                shapes_ok = False
                break
            if not isinstance(out, torch.Tensor):
                add("wrong_output", f"forward must return a tensor of logits of shape (N, C), got "
                    f"{_describe(out)}.", "output not a tensor")
                cells["output (N, C)"] = "not a tensor"
                shapes_ok = False
                break
            if tuple(out.shape) != (n, n_out):
                hint = ""
                if tuple(out.shape) == (n_out, n):
                    hint = " It is transposed."
                elif out.numel() == n:
                    hint = (" One number per sample: return one logit per class, (N, C), not the "
                            "predicted class or a squeezed output.")
                add("wrong_shape", f"for x of shape {(n, d_in)}, forward returned shape "
                    f"{tuple(out.shape)}; it must return logits of shape (N, C) = {(n, n_out)}."
                    + hint, f"shape {tuple(out.shape)} for N={n}")
                cells["output (N, C)"] = f"shape {tuple(out.shape)}"
                shapes_ok = False
                break
            if not torch.isfinite(out).all():
                add("not_finite", "forward returned NaN or inf.", "NaN/inf output")
                cells["output (N, C)"] = "NaN/inf"
                shapes_ok = False
                break
            last_output = out
        if shapes_ok:
            cells["output (N, C)"] = "ok for N = " + ", ".join(map(str, MLP_BATCH_SIZES))
            out = last_output
            probabilities = bool(n_out > 1 and (out >= 0).all()
                                 and torch.allclose(out.sum(dim=1), torch.ones(len(out)), atol=1e-5))
            if probabilities:
                add("softmax_output", "forward returns probabilities (each row is >= 0 and sums "
                    "to 1): return the raw logits; nn.CrossEntropyLoss applies log-softmax itself, "
                    "so a softmax in forward is applied twice.", "outputs are probabilities")
                cells["output (N, C)"] = "probabilities"
            elif (out >= 0).all():
                add("activation_on_output", f"every logit is >= 0 on {out.shape[0]} random "
                    "inputs: an activation seems to follow the last linear layer; the output layer "
                    "must have no activation (logits can be negative).", "all logits >= 0")
                cells["output (N, C)"] = "all >= 0"

        # Nonlinearity: an affine map satisfies the affine-combination identity exactly.
        if shapes_ok:
            error, exc = None, None
            try:
                error = _affine_error(copy.deepcopy(model).double(), d_in, torch.float64, 200 + index)
                threshold = 1e-6
            except Exception:  # a model that only runs in float32: test it in float32
                try:
                    error = _affine_error(model, d_in, torch.float32, 200 + index)
                    threshold = 1e-3
                except Exception as caught:
                    exc = caught
            if exc is not None:
                cells["nonlinear"] = "raised"
            elif error < threshold:
                add("no_nonlinearity", "the model is affine in its input: f(a*x1 + (1-a)*x2) "
                    f"equals a*f(x1) + (1-a)*f(x2) to {error:.1e} (relative). Without a "
                    "nonlinearity (e.g. nn.ReLU) between the linear layers, the MLP collapses to a "
                    "single linear map: a linear model, which cannot separate the moons.",
                    "affine: no nonlinearity")
                cells["nonlinear"] = f"no (affine to {error:.0e})"
            else:
                cells["nonlinear"] = f"yes (affine error {error:.1e})"

        # Gradient flow, in training mode and the model's own dtype.
        if shapes_ok:
            model.train()
            model.zero_grad(set_to_none=True)
            x = torch.randn(8, d_in, generator=generator)
            y = torch.randint(0, n_out, (8,), generator=generator)
            out, exc, _ = _call(model, x)
            if exc is not None:
                text = _add_exception(findings, exc, call, "the forward pass in training mode")
                codes.append("raised")
                notes.append(text)
                cells["gradients"] = "raised"
            elif not out.requires_grad:
                add("no_gradient", "the output does not require grad, so no parameter can get a "
                    "gradient: forward breaks the autograd graph (torch.no_grad(), .detach(), "
                    ".item(), .numpy() or torch.tensor(...) on an intermediate result).",
                    "output detached from the graph")
                cells["gradients"] = "none"
            else:
                ids = {id(p) for p in params.values()}
                stray = [t for t in _graph_leaves(out) if id(t) not in ids]
                if stray:
                    shapes = ", ".join(str(tuple(t.shape)) for t in stray[:4])
                    add("unregistered_parameter", f"forward uses {len(stray)} trainable tensor(s) "
                        f"that the model does not register (shapes {shapes}): model.parameters() "
                        "and so the optimizer never see them. Keep layers in nn.Sequential or "
                        "nn.ModuleList (not a Python list), and wrap tensors in nn.Parameter.",
                        "unregistered trainable tensors")
                _, exc, _ = _call(lambda: nn.functional.cross_entropy(out, y).backward())
                if exc is not None:
                    text = _add_exception(findings, exc, call, "backward through the model")
                    codes.append("raised")
                    notes.append(text)
                    cells["gradients"] = "raised"
                    finish()
                    continue
                missing = [name for name, p in params.items() if p.requires_grad and p.grad is None]
                if missing:
                    add("no_gradient", f"no gradient reached {', '.join(missing)}: these parameters "
                        "are created in __init__ but not used in forward (or used through a "
                        "detached path).", f"no gradient: {', '.join(missing)}")
                    cells["gradients"] = f"missing for {len(missing)}"
                elif stray:
                    cells["gradients"] = "unregistered tensors"
                else:
                    cells["gradients"] = f"ok, all {len(params)} tensors"
        finish()

    return CheckReport(f"check_mlp({cls})", cases, findings.diagnoses(),
                       time.perf_counter() - start)


# ------------------------------------------------------------------- training loop

#: The known model and data of ``check_training``: ``MLP(2, TRAINING_HIDDEN, 2)`` on
#: ``TRAINING_SAMPLES`` moons points (noise 0.1), held-out set of the same size.
TRAINING_HIDDEN, TRAINING_SAMPLES = (16, 16), 200
#: Epochs of the short runs whose parameters are compared with the reference loops.
TRAJECTORY_EPOCHS = 3


def _flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _loop_without_zero_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
                            lr: float, optimizer: str) -> None:
    """``labcode.train``'s full-batch loop with the ``zero_grad`` line missing: the mistake."""
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()  # adds to .grad: without zero_grad, last step's gradient stays in
        opt.step()


def _reference_trajectories(model0: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
                            lr: float) -> dict[str, torch.Tensor]:
    """Parameters after ``epochs`` full-batch steps of each reference loop."""
    out = {}
    for optimizer in ("adam", "sgd"):
        model = copy.deepcopy(model0)
        train(model, X, y, epochs=epochs, lr=lr, optimizer=optimizer)
        out[f"labcode.train(optimizer={optimizer!r})"] = _flat_parameters(model)
        model = copy.deepcopy(model0)
        _loop_without_zero_grad(model, X, y, epochs, lr, optimizer)
        out[f"labcode.train(optimizer={optimizer!r}) without zero_grad"] = _flat_parameters(model)
    return out


def _trajectory_match(train_fn: Callable, model0: nn.Module, X: torch.Tensor, y: torch.Tensor,
                      lr: float) -> tuple[str | None, BaseException | None]:
    """Which reference loop a short run of ``train_fn`` reproduces: its name, or ``None``."""
    model = copy.deepcopy(model0)
    _, exc, _ = _call(train_fn, model, X, y, epochs=TRAJECTORY_EPOCHS, lr=lr)
    if exc is not None:
        return None, exc
    got = _flat_parameters(model)
    scale = _flat_parameters(model0).abs().max().item()
    for name, params in _reference_trajectories(model0, X, y, TRAJECTORY_EPOCHS, lr).items():
        if (got - params).abs().max().item() <= 1e-5 * scale:
            return name, None
    return None, None


@_single_threaded
def check_training(train_fn: Callable, *, epochs: int = 300, lr: float = 0.01,
                   min_accuracy: float = 0.9, seed: int = 0) -> CheckReport:
    """Check a training function: it learns, and it clears gradients every step.

    ``train_fn`` is called as ``train_fn(model, X, y, epochs=epochs, lr=lr)``, like
    :func:`labcode.train`, and must train ``model`` in place (its return value is not
    needed). The model is a known one, ``labcode.MLP(2, [16, 16], 2)`` (seeded), and the
    data are 200 two-moons points, so only the loop is under test.

    How ``zero_grad`` is checked (reliably, whatever the optimizer or batch size): a
    hook on every parameter looks at ``param.grad`` just *before* each backward pass
    adds to it. With ``zero_grad()`` once per step it is ``None`` (or zeros); without
    it, it still holds the previous step's gradient, and the report says at which
    backward pass and for which parameter. As a second, independent piece of evidence,
    a 3-epoch run of ``train_fn`` is compared with reference loops (``labcode.train``
    with Adam and with SGD, each with and without ``zero_grad``): the note says which
    one the parameters match. A loop that matches none (minibatches, momentum, another
    loss scaling) is not wrong for that; the other rows decide.

    The other checks: the function runs; it runs at least one backward pass per epoch;
    it changes the parameters; the training loss (measured here, before and after) goes
    down; the held-out accuracy is at least ``min_accuracy``. The defaults suit Adam
    (as in ``labcode.train``); for plain SGD pass a larger ``lr`` (e.g. ``lr=0.5``).

    Args:
        train_fn: your function ``train_fn(model, X, y, epochs, lr)``.
        epochs: epochs of the main run (> 0).
        lr: learning rate (> 0).
        min_accuracy: held-out accuracy to reach, in ``(0, 1]``.
        seed: seed of the model's initial weights and of the data.

    Returns:
        a :class:`CheckReport`.

    Example:
        >>> from labcode import train
        >>> check_training(train).passed  # doctest: +SKIP
        True
    """
    if isinstance(train_fn, (History, list, tuple, dict)):
        raise TypeError(
            f"train_fn must be your training function itself, got {_describe(train_fn)}: pass "
            "train, not train(...) (check_training runs it on its own model and data)"
        )
    if isinstance(train_fn, nn.Module) or not callable(train_fn):
        raise TypeError(
            "train_fn must be a function train_fn(model, X, y, epochs, lr) that trains model in "
            f"place, got {_describe(train_fn)}"
        )
    epochs = _validate.positive_int("epochs", epochs)
    lr = _validate.positive_float("lr", lr)
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, (int, float)):
        raise TypeError(f"min_accuracy must be a number in (0, 1], got {_describe(min_accuracy)}")
    if not 0 < min_accuracy <= 1:
        raise ValueError(f"min_accuracy must be in (0, 1], got {min_accuracy}")
    seed = _validate.integer("seed", seed)

    start = time.perf_counter()
    findings = _Findings()
    name = _callable_name(train_fn)
    X, y = make_moons(TRAINING_SAMPLES, noise=0.1, seed=seed)
    X_test, y_test = make_moons(TRAINING_SAMPLES, noise=0.1, seed=seed + 1)
    with seeded(seed):
        model0 = MLP(2, list(TRAINING_HIDDEN), 2)
    loss_fn = nn.CrossEntropyLoss()
    call = f"{name}(model, X, y, epochs={epochs}, lr={lr:g})"
    rows: list[CaseResult] = []

    def row(case: str, passed: bool, value: str, note: str = "") -> None:
        rows.append(CaseResult(case, passed, (("value", value),), (), note))

    # Main run, instrumented: before each backward pass adds to p.grad, look at p.grad.
    model = copy.deepcopy(model0)
    before = _flat_parameters(model)
    with torch.no_grad():
        loss_before = loss_fn(model(X), y).item()
    passes: dict[str, int] = {n: 0 for n, _ in model.named_parameters()}
    stale: list[tuple[int, str, float]] = []

    def watch(pname: str, param: torch.Tensor) -> Callable:
        def hook(grad: torch.Tensor) -> None:
            passes[pname] += 1
            prior = param.grad
            if prior is not None and prior.abs().max().item() > 0:
                stale.append((passes[pname], pname, prior.abs().max().item()))
        return hook

    handles = [p.register_hook(watch(n, p)) for n, p in model.named_parameters()]
    try:
        returned, exc, _ = _call(train_fn, model, X, y, epochs=epochs, lr=lr)
    finally:
        for handle in handles:
            handle.remove()
    if exc is not None:
        text = _add_exception(findings, exc, None, call,
                              "check_training calls train_fn(model, X, y, epochs=..., lr=...).")
        row(f"runs: {call}", False, "raised", text)
        return CheckReport(f"check_training({name})", rows, findings.diagnoses(),
                           time.perf_counter() - start)
    row(f"runs: {call}", True, "ok")
    match, trajectory_exc = _trajectory_match(train_fn, model0, X, y, lr)

    n_passes = max(passes.values()) if passes else 0
    if n_passes == 0:
        findings.add("no_backward", "no backward pass reached the model's parameters: call "
                     "loss.backward() on a loss computed from model(X), for the model passed in "
                     "(not a new one built inside your function).")
        row("backward passes (at least one per epoch)", False, "0")
    elif n_passes < epochs:
        findings.add("too_few_steps", f"only {n_passes} backward passes for epochs={epochs}: "
                     "run one step (forward, loss, zero_grad, backward, step) per epoch, or more "
                     "with minibatches.")
        row("backward passes (at least one per epoch)", False, str(n_passes))
    else:
        row("backward passes (at least one per epoch)", True, str(n_passes))

    if stale:
        first_pass, pname, size = stale[0]
        findings.add("zero_grad_missing", "gradients accumulated across steps because zero_grad "
                     f"was missing: before backward pass {first_pass}, {pname}.grad still held an "
                     f"earlier gradient (max |grad| {size:.2e}), so the step used the sum of all past "
                     "gradients. Call optimizer.zero_grad() once per step, before loss.backward().")
        row("gradients cleared before each backward pass", False,
            f"stale in {len({s[0] for s in stale})} of {n_passes} passes")
    elif n_passes:
        row("gradients cleared before each backward pass", True, f"all {n_passes} passes")

    after = _flat_parameters(model)
    changed = not torch.equal(before, after)
    if n_passes and not changed:
        findings.add("no_update", "the parameters did not change: call optimizer.step() after "
                     "loss.backward(), build the optimizer on model.parameters() of the model passed "
                     "in, and do not call zero_grad() between backward() and step().")
    row("parameters updated", changed, "yes" if changed else "no")

    with torch.no_grad():
        loss_after = loss_fn(model(X), y).item()
    loss_cell = f"{loss_before:.4f} -> {loss_after:.4f}"
    if not math.isfinite(loss_after):
        findings.add("not_finite", f"the training loss became {loss_after}: the learning rate may be "
                     "too large, or the loss is computed wrongly.")
        row("training loss decreases", False, loss_cell)
    elif loss_after >= loss_before:
        findings.add("loss_not_decreasing", f"the training loss went from {loss_before:.4f} to "
                     f"{loss_after:.4f}: it should go down. Check the sign of the update (step() "
                     "moves against the gradient), the loss (cross-entropy of logits and labels) "
                     "and the learning rate.")
        row("training loss decreases", False, loss_cell)
    else:
        row("training loss decreases", True, loss_cell)

    test_accuracy = accuracy(model, X_test, y_test) if math.isfinite(loss_after) else 0.0
    if test_accuracy < min_accuracy:
        if match is not None and "'sgd'" in match and "without" not in match:
            advice = ("Your loop takes plain SGD steps, which need a larger learning rate than "
                      "Adam: run check_training(train, lr=0.5).")
        else:
            advice = ("With plain SGD, pass a larger lr (e.g. check_training(train, lr=0.5)); "
                      "otherwise see the other rows.")
        findings.add("low_accuracy", f"held-out accuracy {test_accuracy:.1%} is below "
                     f"{min_accuracy:.0%} after {epochs} epochs at lr={lr:g}. {advice}")
    row(f"held-out accuracy >= {min_accuracy:.0%}", test_accuracy >= min_accuracy,
        f"{test_accuracy:.1%}")

    # Second evidence: the parameters after a short run, against the reference loops.
    if trajectory_exc is not None:
        row(f"parameters after {TRAJECTORY_EPOCHS} epochs", True, "not compared",
            f"a {TRAJECTORY_EPOCHS}-epoch run raised {type(trajectory_exc).__name__}")
    else:
        accumulates = match is not None and match.endswith("without zero_grad")
        if accumulates and "zero_grad_missing" not in findings:
            findings.add("zero_grad_missing", "gradients accumulated across steps because "
                         f"zero_grad was missing: after {TRAJECTORY_EPOCHS} epochs the parameters "
                         f"match {match} (and not the loop with zero_grad). Call "
                         "optimizer.zero_grad() once per step, before loss.backward().")
        value = f"match {match}" if match else "match no reference loop"
        note = ("" if match else "not an error by itself (minibatches, momentum or another "
                "optimizer differ from the references); the other rows decide")
        row(f"parameters after {TRAJECTORY_EPOCHS} epochs", not accumulates, value, note)

    report = CheckReport(f"check_training({name})", rows, findings.diagnoses(),
                         time.perf_counter() - start)
    losses = getattr(returned, "loss", returned)
    if isinstance(losses, (list, tuple)) and losses and all(isinstance(v, (int, float)) for v in losses):
        report.notes.append(f"your function returned {len(losses)} losses, from {losses[0]:.4f} "
                            f"to {losses[-1]:.4f}.")
    return report


__all__ = [
    "CaseResult", "CheckReport", "DIAGNOSIS_CODES", "Diagnosis", "LINEAR_CASES", "MLP_BATCH_SIZES",
    "MLP_CONFIGS", "check_linear_backward", "check_mlp", "check_training",
]
