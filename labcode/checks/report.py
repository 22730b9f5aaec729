"""What a self-check returns: a :class:`CheckReport` of per-case rows and diagnoses.

It renders as an HTML table in a notebook (``_repr_html_``) and as plain text
(``str(report)``), with the same rows, diagnoses and notes.

Example:
    >>> report = CheckReport("demo", [CaseResult("case 1", True)], [])
    >>> report.passed, report.codes
    (True, [])
"""

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

    def _verdict(self) -> tuple[str, str]:
        """PASS or FAIL, and the counts behind it."""
        n = len(self.diagnoses)
        return "PASS" if self.passed else "FAIL", (
            f"{sum(c.passed for c in self.cases)} of {len(self.cases)} cases passed, "
            f"{n} diagnos{'is' if n == 1 else 'es'}"
        )

    def _table(self) -> list[list[str]]:
        """The header, then a row per case."""
        columns = list(dict.fromkeys(column for c in self.cases for column, _ in c.cells))
        return [["case", "result", *columns, "note"]] + [
            [
                c.name,
                "PASS" if c.passed else "FAIL",
                *(dict(c.cells).get(k, "") for k in columns),
                c.note,
            ]
            for c in self.cases
        ]

    def _seen(self, d: Diagnosis) -> str:
        """Where a diagnosis was seen."""
        if len(self.cases) > 1 and set(d.cases) == {c.name for c in self.cases}:
            return "Seen in every case."
        return f"Seen in: {'; '.join(d.cases)}." if d.cases else ""

    def __str__(self) -> str:
        header, *rows = self._table()
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
        lines = [
            "{}: {} ({})".format(self.title, *self._verdict()),
            "",
            *(
                "  ".join([*(v.ljust(w) for v, w in zip(r, widths)), r[-1]]).rstrip()
                for r in [header, ["-" * w for w in widths] + ["----"], *rows]
            ),
        ]
        diagnoses = [f"[{d.code}] {d.message} {self._seen(d)}".rstrip() for d in self.diagnoses]
        for heading, items in (("Diagnoses", diagnoses), ("Notes", self.notes)):
            if items:
                lines += ["", f"{heading}:", *(f"  - {item}" for item in items)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "<CheckReport {}: {} ({})>".format(self.title, *self._verdict())

    def _repr_html_(self) -> str:
        esc, td = html.escape, '<td style="text-align:left; padding:2px 8px; vertical-align:top">'

        def mark(text: str) -> str:  # PASS and FAIL in their colours, the rest escaped
            return (
                f'<strong style="color:{_COLOURS[text]}">{text}</strong>'
                if text in _COLOURS
                else esc(text)
            )

        (verdict, counts), (header, *rows) = self._verdict(), self._table()
        out = [
            '<div class="labcode-check-report">',
            f"<p><strong>{esc(self.title)}</strong>: {mark(verdict)} &mdash; {esc(counts)}</p>",
            '<div style="overflow-x:auto" tabindex="0"><table>',
            "<thead><tr>" + "".join(f"<th{td[3:]}{esc(h)}</th>" for h in header) + "</tr></thead>",
            "<tbody>",
            *("<tr>" + "".join(f"{td}{mark(v)}</td>" for v in r) + "</tr>" for r in rows),
            "</tbody></table></div>",
        ]
        diagnoses = [
            f"<code>{esc(d.code)}</code>: {esc(d.message)}"
            + (f" <em>{esc(self._seen(d))}</em>" if d.cases else "")
            for d in self.diagnoses
        ]
        for heading, items in (("Diagnoses", diagnoses), ("Notes", [esc(n) for n in self.notes])):
            if items:
                out += [
                    f"<p><strong>{heading}</strong></p><ul>",
                    *(f"<li>{i}</li>" for i in items),
                    "</ul>",
                ]
        return "\n".join(out + ["</div>"])
