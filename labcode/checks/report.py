"""What a self-check returns: a :class:`CheckReport` of per-case rows and diagnoses.

A report holds one :class:`CaseResult` per case that was run and one :class:`Diagnosis`
per recognised mistake (codes in :data:`DIAGNOSIS_CODES`). It renders as an HTML table
in a notebook (``_repr_html_``) and as plain text (``str(report)``).

Example:
    >>> report = CheckReport("demo", [CaseResult("case 1", True)], [])
    >>> report.passed, report.codes
    (True, [])
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..gradients import GradientComparison

#: Okabe-Ito colours for the verdicts (the words PASS/FAIL carry the meaning too).
# Darkened Okabe-Ito blue and vermillion: at least 5:1 contrast on the light and the dark
# output background (the stock #0072B2 / #D55E00 fall under 4.5:1 on one of them).
_PASS_COLOUR, _FAIL_COLOUR = "#005A8C", "#8A3B00"


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
               '<div style="overflow-x:auto" tabindex="0"><table>', '<thead><tr>']
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

__all__ = ["CaseResult", "CheckReport", "DIAGNOSIS_CODES", "Diagnosis"]
