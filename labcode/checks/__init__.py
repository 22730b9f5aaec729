r"""Self-checks a student runs on their *own* code before handing it in.

:func:`check_linear_backward` (a hand-written backward against autograd, on random
non-square float64 problems), :func:`check_mlp` (an MLP class: shapes, registered
parameters, a nonlinearity, gradients to every parameter) and :func:`check_training`
(a training loop on a known model: it learns, and it clears gradients every step). Each
returns a :class:`CheckReport`: PASS/FAIL per case, the errors, and a diagnosis for each
recognised mistake, with what to change. The mistakes they know are one catalogue,
:data:`~labcode.checks.mistakes.MISTAKES` (codes and meanings: :data:`DIAGNOSIS_CODES`).
Your code runs under fixed seeds and on one thread, so a report is the same on every run
and your own random stream and thread count are left as they were; an exception in your
code is reported, never re-raised. How to run them: the lab page's "Check your own code".

Example:
    >>> from labcode import linear_backward
    >>> report = check_linear_backward(linear_backward)
    >>> report.passed, report.diagnoses
    (True, [])
"""

from .linear_backward import LINEAR_CASES, check_linear_backward
from .mistakes import DIAGNOSIS_CODES, MISTAKES, Mistake
from .mlp import MLP_BATCH_SIZES, MLP_CONFIGS, check_mlp
from .report import CaseResult, CheckReport, Diagnosis
from .training import check_training

__all__ = [
    "CaseResult",
    "CheckReport",
    "DIAGNOSIS_CODES",
    "Diagnosis",
    "LINEAR_CASES",
    "MISTAKES",
    "MLP_BATCH_SIZES",
    "MLP_CONFIGS",
    "Mistake",
    "check_linear_backward",
    "check_mlp",
    "check_training",
]
