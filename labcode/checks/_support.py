"""What the three checks share: calling a student's code safely and collecting diagnoses.

A student's function may raise, warn or return the wrong thing; nothing here re-raises.
"""

import contextlib
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .mistakes import mistake
from .report import CheckReport, Diagnosis


@dataclass
class Findings:
    """The diagnoses of one check: one per code (its first message), with its cases."""

    check: str
    found: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    def add(self, code: str, case: str | None = None, **fields) -> None:
        """Diagnose ``code``: the catalogue's message, filled in with ``fields``."""
        message = mistake(code, self.check).message.format(**fields)
        cases = self.found.setdefault(code, (message, []))[1]
        if case is not None and case not in cases:
            cases.append(case)

    def exception(
        self, exc: BaseException, case: str | None, what: str, hint: str = "", code: str = "raised"
    ) -> str:
        """Diagnose an exception (type, message and where it was raised) as ``code``, or as
        ``not_implemented``; return the short note for the case's row."""
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (raised at line {frames[-1].lineno} in {frames[-1].name})" if frames else ""
        text = f"{type(exc).__name__}{': ' + str(exc) if str(exc) else ''}{where}"
        if isinstance(exc, NotImplementedError):
            self.add("not_implemented", case, detail=f"{what} is not implemented yet: {text}.")
            return "not implemented yet (NotImplementedError)"
        self.add(code, case, detail=f"{what} raised {text}.{' ' + hint if hint else ''}")
        return f"raised {type(exc).__name__}"

    def report(self, title: str, cases: list, notes: list[str] | None = None) -> CheckReport:
        diagnoses = [Diagnosis(c, m, tuple(cs)) for c, (m, cs) in self.found.items()]
        return CheckReport(title, cases, diagnoses, time.perf_counter() - self.start, notes or [])


@contextlib.contextmanager
def single_threaded():
    """Run a check (``@single_threaded()``) on one intra-op thread, then restore the caller's
    setting: the tensors are tiny, and on a busy 2-core machine two spinning threads made a
    check 10-40 times slower than one."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def callable_name(obj: object) -> str:
    return getattr(obj, "__qualname__", getattr(obj, "__name__", type(obj).__name__))


def safe_call(fn: Callable, *args, **kwargs) -> tuple[object, BaseException | None, list[str]]:
    """Call a student's function: ``(result, exception, warnings)``, never raising."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return fn(*args, **kwargs), None, [str(w.message) for w in caught]
        except Exception as exc:  # the student's bug is the thing we report
            return None, exc, [str(w.message) for w in caught]
