"""The planted mistakes of the tests: the catalogue's own (labcode.checks.mistakes), one
wrong function or class per plant. There is no second list of mistakes here."""

from __future__ import annotations

import pytest

from labcode.checks import MISTAKES
from labcode.checks.mistakes import planted

#: Fewer epochs than check_training's default keep the training tests fast; the
#: reference loop still reaches the accuracy threshold with them (asserted).
FAST = {"epochs": 120, "lr": 0.02}


def plants(check: str) -> list:
    """``pytest.param(mistake, wrong_function)`` for every plant of ``check``'s mistakes."""
    return [
        pytest.param(m, fn, id=f"{m.code}-{i}")
        for m in MISTAKES
        if m.check == check
        for i, fn in enumerate(planted(m))
    ]


def plant(code: str, check: str, index: int = 0):
    """One planted wrong function (or class): the catalogue's ``index``-th plant of ``code``."""
    return planted(next(m for m in MISTAKES if m.code == code and m.check == check))[index]


def under_two_caller_seeds(check, *args, **kwargs) -> list:
    """``check(*args, **kwargs)`` run by two callers whose global random streams differ;
    each run must leave the caller's generator as it found it."""
    import torch

    from labcode import seeded

    reports = []
    for caller_seed in (1, 2):
        with seeded(caller_seed):
            state = torch.random.get_rng_state()
            reports.append(check(*args, **kwargs))
            assert torch.equal(torch.random.get_rng_state(), state)
    return reports


def assert_diagnosed_as(report, mistake) -> None:
    """The report fails with exactly ``mistake``'s codes, each with a message and its cases."""
    assert not report.passed
    assert report.codes == [mistake.code, *mistake.also], str(report)
    assert all(d.message and d.cases for d in report.diagnoses)
