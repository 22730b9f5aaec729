"""labcode.checks.report: reports render as text and HTML; the names are public.

The reports come from ``check_linear_backward`` on the reference and on the catalogue's
planted mistakes."""

from __future__ import annotations

import html

from _planted import plant, plants

import labcode
from labcode.checks import (
    DIAGNOSIS_CODES,
    LINEAR_CASES,
    MISTAKES,
    CheckReport,
    check_linear_backward,
)


def test_report_renders_as_text_and_html():
    report = check_linear_backward(plant("transposed_weight_gradient", "linear_backward"))
    text = str(report)
    assert text.startswith("check_linear_backward(linear_backward): FAIL")
    assert "[transposed_weight_gradient]" in text and "grad_weight" in text
    page = report._repr_html_()
    assert "<table>" in page and page.count("<tr>") == len(LINEAR_CASES) + 1
    assert "FAIL" in page and "<code>transposed_weight_gradient</code>" in page
    passing = check_linear_backward(labcode.linear_backward)
    assert "PASS" in passing._repr_html_() and "Diagnoses" not in passing._repr_html_()


def test_report_html_escapes_student_text():
    def evil(grad_output, x, weight, bias):
        raise ValueError("<script>alert(1)</script>")

    page = check_linear_backward(evil)._repr_html_()
    assert "<script>" not in page and html.escape("<script>") in page


def test_report_is_a_checkreport_with_known_codes():
    for param in plants("linear_backward"):
        report = check_linear_backward(param.values[1])
        assert isinstance(report, CheckReport)
        assert set(report.codes) <= set(DIAGNOSIS_CODES)


def test_every_code_of_the_catalogue_has_a_meaning_and_a_plant_to_test_it():
    assert set(DIAGNOSIS_CODES) == {m.code for m in MISTAKES}
    assert all(DIAGNOSIS_CODES.values())
    untested = [(m.check, m.code) for m in MISTAKES if not m.plants and m.code != "not_finite"]
    assert untested == []


def test_report_text_and_html_carry_the_numbers_the_check_found():
    report = check_linear_backward(plant("constant_factor", "linear_backward"))
    comparison = report.cases[1].comparisons[1]  # grad_weight of the (8, 4) case
    cell = f"{comparison.max_abs_error:.1e} / {comparison.max_rel_error:.1e}"
    assert dict(report.cases[1].cells)["grad_weight"] == cell
    assert cell in str(report) and cell in report._repr_html_()
    assert "times 0.4" in report.diagnoses[0].message


def test_checks_are_public():
    for name in ("checks", "check_linear_backward", "check_mlp", "check_training", "CheckReport"):
        assert name in labcode.__all__ and hasattr(labcode, name)


def _small_report(**kwargs):
    """Two cases (one passes), two diagnoses (one seen in every case), one note."""
    from labcode.checks.report import CaseResult, Diagnosis

    cases = [
        CaseResult("a", True, (("x", "1"),)),
        CaseResult("bb", False, (("x", "22"), ("y", "3")), note="n"),
    ]
    diagnoses = [Diagnosis("c", "msg", ("bb",)), Diagnosis("d", "m2", ("a", "bb"))]
    return CheckReport("t", cases, diagnoses, seconds=1.5, notes=["hello"], **kwargs)


def test_report_text_is_an_aligned_table_then_diagnoses_and_notes():
    assert str(_small_report()).split("\n") == [
        "t: FAIL (1 of 2 cases passed, 2 diagnoses)",
        "",
        "case  result  x   y  note",
        "----  ------  --  -  ----",
        "a     PASS    1",
        "bb    FAIL    22  3  n",
        "",
        "Diagnoses:",
        "  - [c] msg Seen in: bb.",
        "  - [d] m2 Seen in every case.",
        "",
        "Notes:",
        "  - hello",
    ]
    assert repr(_small_report()) == "<CheckReport t: FAIL (1 of 2 cases passed, 2 diagnoses)>"


def test_report_counts_one_diagnosis_in_the_singular_and_passes_only_when_clean():
    from labcode.checks.report import CaseResult, Diagnosis

    one = CheckReport("t", [CaseResult("a", True)], [Diagnosis("c", "msg")])
    assert "(1 of 1 cases passed, 1 diagnosis)" in str(one) and "  - [c] msg" in str(one).split(
        "\n"
    )
    assert not one.passed and one.codes == ["c"]
    assert CheckReport("t", [CaseResult("a", True)], []).passed
    assert not CheckReport("t", [], []).passed  # nothing checked is not a pass
    assert not CheckReport("t", [CaseResult("a", True), CaseResult("b", False)], []).passed


def test_report_html_has_the_same_rows_diagnoses_and_notes():
    import re

    page = _small_report()._repr_html_()
    rows = [
        re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in re.findall(r"<tr>(.*?)</tr>", page)
    ]
    strong = '<strong style="color:{}">{}</strong>'
    colours = labcode.checks.report._COLOURS
    assert rows == [
        ["case", "result", "x", "y", "note"],
        ["a", strong.format(colours["PASS"], "PASS"), "1", "", ""],
        ["bb", strong.format(colours["FAIL"], "FAIL"), "22", "3", "n"],
    ]
    assert (
        f"<p><strong>t</strong>: {strong.format(colours['FAIL'], 'FAIL')} &mdash; "
        "1 of 2 cases passed, 2 diagnoses</p>" in page
    )
    assert "<li><code>c</code>: msg <em>Seen in: bb.</em></li>" in page
    assert "<li><code>d</code>: m2 <em>Seen in every case.</em></li>" in page
    assert "<p><strong>Notes</strong></p><ul>\n<li>hello</li>\n</ul>" in page
    assert '<div style="overflow-x:auto" tabindex="0"><table>' in page  # a wide table scrolls
    assert page.startswith('<div class="labcode-check-report">') and page.endswith("</div>")
    assert "1.5" not in page and "1.5" not in str(_small_report())  # the time is in neither
