"""What the three checks share: calling student code safely, and collecting diagnoses.

A student's function may raise, warn, return the wrong thing or be slow on many
threads; nothing here re-raises. :func:`safe_call` returns ``(result, exception,
warnings)``, :func:`add_exception` turns an exception into a diagnosis,
:class:`Findings` gathers diagnoses across cases, and :func:`single_threaded` runs a
check on one intra-op thread and restores the caller's setting.
"""
from __future__ import annotations

import contextlib
import functools
import traceback
import warnings
from collections.abc import Callable, Iterator

import torch

from .report import DIAGNOSIS_CODES, CheckReport, Diagnosis


class Findings:
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
def one_thread() -> Iterator[None]:
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


def single_threaded(check: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    """Decorator: run ``check`` inside :func:`one_thread`."""
    @functools.wraps(check)
    def wrapper(*args, **kwargs) -> CheckReport:
        with one_thread():
            return check(*args, **kwargs)
    return wrapper


def callable_name(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__


def describe(value: object) -> str:
    """What a student passed or returned, in a few words (repr cut at 40 characters).

    Not :mod:`labcode._validate`'s: a report names no device, and a student's object
    (a whole model, a long list) must not flood a table cell.
    """
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def exception_text(exc: BaseException) -> str:
    """``"ValueError: message (line 12 of my_fn)"``: type, message and where it was raised."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (raised at line {last.lineno} in {last.name})"
    message = str(exc)
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


def safe_call(fn: Callable, *args, **kwargs) -> tuple[object, BaseException | None, list[str]]:
    """Call a student's function; return ``(result, exception, warnings)``, never raise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # the student's bug is the thing we report
            return None, exc, [str(w.message) for w in caught]
    return result, None, [str(w.message) for w in caught]


def add_exception(findings: Findings, exc: BaseException, case: str | None, what: str,
                  hint: str = "") -> str:
    """Record the exception as a diagnosis (full text); return a short note for the row."""
    text = exception_text(exc)
    if isinstance(exc, NotImplementedError):
        findings.add("not_implemented", f"{what} is not implemented yet: {text}.", case)
        return "not implemented yet (NotImplementedError)"
    findings.add("raised", f"{what} raised {text}.{(' ' + hint) if hint else ''}", case)
    return f"raised {type(exc).__name__}"


__all__ = ["Findings", "add_exception", "callable_name", "describe", "exception_text",
           "one_thread", "safe_call", "single_threaded"]
