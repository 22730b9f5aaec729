"""labcode.checks._support: a student's exception becomes a diagnosis that says what
raised, where, and what to do; a student's function is named as the student wrote it."""

from __future__ import annotations

import functools
import warnings

import torch

from labcode.checks._support import Findings, callable_name, safe_call, single_threaded
from labcode.checks.mistakes import mistake


def _raise(exc):
    raise exc


def _caught(exc):
    return safe_call(_raise, exc)[1]


def test_an_exception_is_diagnosed_with_its_type_message_and_line():
    findings = Findings("mlp")
    exc = _caught(ValueError("shapes do not line up"))
    note = findings.exception(exc, "MLP(2, [16], 2)", "building MLP(2, [16], 2)", "Pass a list.")
    assert note == "raised ValueError"
    [(code, (message, cases))] = findings.found.items()
    line = _raise.__code__.co_firstlineno + 1
    assert code == "raised" and cases == ["MLP(2, [16], 2)"]
    assert message == mistake("raised", "mlp").message.format(
        detail=f"building MLP(2, [16], 2) raised ValueError: shapes do not line up "
        f"(raised at line {line} in _raise). Pass a list."
    )


def test_an_exception_without_message_traceback_or_hint_says_only_what_it_was():
    findings = Findings("mlp")
    findings.exception(KeyError(), None, "the forward pass", code="raised")
    message, cases = findings.found["raised"]
    assert message.endswith("the forward pass raised KeyError.") and cases == []


def test_not_implemented_is_its_own_diagnosis():
    findings = Findings("linear_backward")
    note = findings.exception(_caught(NotImplementedError("TODO")), "case 1", "linear_backward")
    assert note == "not implemented yet (NotImplementedError)"
    assert list(findings.found) == ["not_implemented"]
    assert (
        "linear_backward is not implemented yet: NotImplementedError: TODO"
        in findings.found["not_implemented"][0]
    )


def test_findings_keep_the_first_message_and_every_case_once():
    findings = Findings("mlp")
    for case in ("a", "b", "a"):
        findings.add("no_nonlinearity", case, error=float(ord(case)))
    report = findings.report("check_mlp(MLP)", [])
    [diagnosis] = report.diagnoses
    assert diagnosis.cases == ("a", "b") and "to 9.7e+01" in diagnosis.message
    assert report.title == "check_mlp(MLP)" and report.seconds > 0


def test_a_function_is_named_as_written():
    class Model:
        def forward(self):
            pass

    assert callable_name(Model) == "test_a_function_is_named_as_written.<locals>.Model"
    assert callable_name(Model().forward).endswith("Model.forward")
    assert callable_name(functools.partial(print)) == "partial"  # no __qualname__, no __name__

    class Named:
        __name__ = "only_a_name"

    assert callable_name(Named()) == "only_a_name"


def test_safe_call_returns_result_exception_and_warnings_without_raising():
    def warns(x):
        warnings.warn("careful", stacklevel=2)
        return 2 * x

    assert safe_call(warns, 3) == (6, None, ["careful"])

    def fails():
        warnings.warn("first", stacklevel=2)
        raise RuntimeError("boom")

    result, exc, caught = safe_call(fails)
    assert result is None and isinstance(exc, RuntimeError) and caught == ["first"]


def test_single_threaded_restores_the_callers_thread_count():
    previous = torch.get_num_threads()
    seen = single_threaded()(lambda: torch.get_num_threads())()
    assert seen == 1 and torch.get_num_threads() == previous
