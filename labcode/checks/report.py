"""What a self-check returns: a :class:`CheckReport` of per-case rows and diagnoses.

It renders as an HTML table in a notebook (``_repr_html_``) and as plain text
(``str(report)``), with the same rows, diagnoses and notes.

Example:
    >>> report = CheckReport("demo", [CaseResult("case 1", True)], [])
    >>> report.passed, report.codes
    (True, [])
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..gradients import GradientComparison

# Okabe-Ito blue and vermillion, darkened to at least 5:1 contrast on the light and the dark
# output background (the words PASS and FAIL carry the meaning too).
_COLOURS = {"PASS": "#005A8C", "FAIL": "#8A3B00"}


@dataclass(frozen=True)
class Diagnosis:
    """One recognised mistake: its ``code`` (:data:`~labcode.checks.DIAGNOSIS_CODES`), what
    was seen and what to change (``message``), and the ``cases`` it was seen in."""

    code: str
    message: str
    cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseResult:
    """One row of a report: the case's ``name``, whether it ``passed``, ``(column, text)``
    ``cells``, the ``comparisons`` of the gradients compared, and a ``note``."""

    name: str
    passed: bool
    cells: tuple[tuple[str, str], ...] = ()
    comparisons: tuple[GradientComparison, ...] = ()
    note: str = ""


@dataclass
class CheckReport:
    """The result of one check: ``passed`` only when every case passed and nothing was
    diagnosed. ``seconds`` (how long it ran) is in neither rendering, so a page that shows a
    report shows the same text on every build."""

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

    def _parts(self) -> tuple[str, str, list[str], list[list[str]], list[str]]:
        """The verdict, the counts, the table's header and rows, and the diagnoses' lines."""
        n = len(self.diagnoses)
        counts = (
            f"{sum(c.passed for c in self.cases)} of {len(self.cases)} cases passed, "
            f"{n} diagnos{'is' if n == 1 else 'es'}"
        )
        columns = list(dict.fromkeys(column for c in self.cases for column, _ in c.cells))
        rows = [
            [
                c.name,
                "PASS" if c.passed else "FAIL",
                *(dict(c.cells).get(k, "") for k in columns),
                c.note,
            ]
            for c in self.cases
        ]
        every = {c.name for c in self.cases}
        seen = [
            " Seen in every case."
            if len(every) > 1 and set(d.cases) == every
            else f" Seen in: {'; '.join(d.cases)}."
            if d.cases
            else ""
            for d in self.diagnoses
        ]
        return (
            "PASS" if self.passed else "FAIL",
            counts,
            ["case", "result", *columns, "note"],
            rows,
            seen,
        )

    def __str__(self) -> str:
        verdict, counts, header, rows, seen = self._parts()
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
        table = [header, ["-" * w for w in widths] + ["----"], *rows]
        lines = [
            f"{self.title}: {verdict} ({counts})",
            "",
            *("  ".join([*(v.ljust(w) for v, w in zip(r, widths)), r[-1]]).rstrip() for r in table),
        ]
        if self.diagnoses:
            lines += [
                "",
                "Diagnoses:",
                *(f"  - [{d.code}] {d.message}{where}" for d, where in zip(self.diagnoses, seen)),
            ]
        return "\n".join(
            lines + (["", "Notes:", *(f"  - {n}" for n in self.notes)] if self.notes else [])
        )

    def __repr__(self) -> str:
        verdict, counts, *_ = self._parts()
        return f"<CheckReport {self.title}: {verdict} ({counts})>"

    def _repr_html_(self) -> str:
        verdict, counts, header, rows, seen = self._parts()
        esc, td = html.escape, '<td style="text-align:left; padding:2px 8px; vertical-align:top">'

        def mark(text: str) -> str:  # PASS and FAIL in their colours, the rest escaped
            return (
                f'<strong style="color:{_COLOURS[text]}">{text}</strong>'
                if text in _COLOURS
                else esc(text)
            )

        out = [
            '<div class="labcode-check-report">',
            f"<p><strong>{esc(self.title)}</strong>: {mark(verdict)} &mdash; {esc(counts)}</p>",
            '<div style="overflow-x:auto" tabindex="0"><table>',
            "<thead><tr>" + "".join(f"<th{td[3:]}{esc(h)}</th>" for h in header) + "</tr></thead>",
            "<tbody>",
            *("<tr>" + "".join(f"{td}{mark(v)}</td>" for v in r) + "</tr>" for r in rows),
            "</tbody></table></div>",
        ]
        if self.diagnoses:
            out += [
                "<p><strong>Diagnoses</strong></p><ul>",
                *(
                    f"<li><code>{esc(d.code)}</code>: {esc(d.message)}"
                    f"{f' <em>{esc(where.strip())}</em>' if where else ''}</li>"
                    for d, where in zip(self.diagnoses, seen)
                ),
                "</ul>",
            ]
        if self.notes:
            out += [
                "<p><strong>Notes</strong></p><ul>",
                *(f"<li>{esc(n)}</li>" for n in self.notes),
                "</ul>",
            ]
        return "\n".join(out + ["</div>"])


__all__ = ["CaseResult", "CheckReport", "Diagnosis"]
