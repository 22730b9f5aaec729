"""Part A's self-checks (labcode.checks), as the student ran them: visible tests, whose
feedback is the check's own diagnosis."""
from otter.test_files import test_case

name = "self-checks"


def _passed(submission, fn):
    submission.require(fn)
    report = submission.checks.get(fn)
    if report is None:
        raise AssertionError("the check did not run (the notebook stopped before it)")
    if not report["passed"]:
        raise AssertionError("\n".join(report["diagnoses"]) or report["text"])


@test_case(name="check_mlp", points=2)
def check_mlp(submission):
    _passed(submission, "MLP")


@test_case(name="check_training", points=2)
def check_training(submission):
    _passed(submission, "train")


@test_case(name="check_linear_backward", points=2)
def check_linear_backward(submission):
    _passed(submission, "linear_backward")
