"""Tests for labcode.checks.report: reports render as text and HTML; the names are public.

The reports come from ``check_linear_backward`` on the reference and on planted
mistakes (``test_linear_backward_checks``).
"""
from __future__ import annotations

import html

import labcode
from labcode.checks import DIAGNOSIS_CODES, LINEAR_CASES, CheckReport, check_linear_backward
# the planted mistakes live with their check's tests (tests/checks is on sys.path under
# pytest's default "prepend" import mode, as tests/site imports _sitetools)
from test_linear_backward_checks import LINEAR_MISTAKES, transposed_weight


def test_report_renders_as_text_and_html():
    report = check_linear_backward(transposed_weight)
    text = str(report)
    assert text.startswith("check_linear_backward(transposed_weight): FAIL")
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
    for fn, _ in LINEAR_MISTAKES:
        report = check_linear_backward(fn)
        assert isinstance(report, CheckReport)
        assert set(report.codes) <= set(DIAGNOSIS_CODES)


def test_checks_are_public():
    for name in ("checks", "check_linear_backward", "check_mlp", "check_training", "CheckReport"):
        assert name in labcode.__all__ and hasattr(labcode, name)
