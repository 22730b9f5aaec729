r"""Self-checks a student runs on their *own* code before handing it in.

Three checks, one per thing the lab asks you to build:

* :func:`check_linear_backward` runs your ``linear_backward(grad_output, x, weight, bias)``
  on several random, non-square problems in float64 (a batch of one, a 3-D batch, with
  and without bias) and compares every gradient with autograd's.
* :func:`check_mlp` builds your MLP class as ``model_class(in_features, hidden_features,
  out_features)`` and checks the output shape, that it is an ``nn.Module`` with
  registered parameters, that it is *not* an affine map (it has a nonlinearity), and
  that a loss's gradient reaches every parameter.
* :func:`check_training` runs your training function ``train_fn(model, X, y, epochs=...,
  lr=...)`` on a small two-moons problem with a known model and checks that the loss
  goes down, the held-out accuracy is high enough, and that gradients are cleared each
  step (``zero_grad``).

Each returns a :class:`CheckReport`: pass/fail per case, the errors, and a list of
:class:`Diagnosis` objects naming the common mistakes (transposed weight gradient,
bias gradient not summed over the batch, gradients off by the batch size, wrong shapes,
missing ``zero_grad``, no nonlinearity, ...). In a notebook the report shows as a table;
``print(report)`` gives the same as plain text. Your function may raise or return the
wrong thing: that is reported, never re-raised. Your code runs under fixed seeds
(:func:`labcode.seeded`), so a loop that shuffles or a model with dropout gets the same
report on every run, and your own random stream is left as it was.

How to run them: import the checks and pass each one *your* function or class (the
class itself, not an instance), then look at the report::

    from labcode.checks import check_linear_backward, check_mlp, check_training
    check_linear_backward(linear_backward)  # your function
    check_mlp(MLP)                          # your class
    check_training(train)                   # your loop; with plain SGD add lr=0.5

Modules: :mod:`~labcode.checks.report` (the report types and :data:`DIAGNOSIS_CODES`),
:mod:`~labcode.checks.linear_backward`, :mod:`~labcode.checks.mlp` and
:mod:`~labcode.checks.training` (one check each), and ``_support`` (what they share).

Example:
    >>> from labcode import linear_backward
    >>> report = check_linear_backward(linear_backward)
    >>> report.passed, report.diagnoses
    (True, [])
"""
from .report import DIAGNOSIS_CODES, CaseResult, CheckReport, Diagnosis
from .linear_backward import LINEAR_CASES, check_linear_backward
from .mlp import MLP_BATCH_SIZES, MLP_CONFIGS, check_mlp
from .training import TRAINING_HIDDEN, TRAINING_SAMPLES, TRAJECTORY_EPOCHS, check_training

# The TRAINING_* constants were module-level names of the single-file labcode.checks
# (not in __all__); they stay importable from here.
__all__ = [
    "CaseResult", "CheckReport", "DIAGNOSIS_CODES", "Diagnosis", "LINEAR_CASES", "MLP_BATCH_SIZES",
    "MLP_CONFIGS", "check_linear_backward", "check_mlp", "check_training",
]
