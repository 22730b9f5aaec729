"""labcode.checks.report: reports render as text and HTML; the names are public.

The reports come from ``check_linear_backward`` on the reference and on the catalogue's
planted mistakes."""
from __future__ import annotations

import html

import labcode
from labcode.checks import DIAGNOSIS_CODES, LINEAR_CASES, MISTAKES, CheckReport, check_linear_backward
from _planted import plant, plants


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
