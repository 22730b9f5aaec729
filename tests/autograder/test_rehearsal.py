"""The rehearsal (`pytest -m grader`): the README's grading command on the rehearsal set
(autograder/rehearsal.py) in one batch, and each submission's expected score and reason.

Expected scores are the full marks less the points of the tests each submission should fail,
read from the otter test files; each planted mistake names the tests it must fail and the
self-check's diagnosis code its feedback must carry.
"""
from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import assignment, rehearsal
from autograder.grade import load_tests

pytestmark = [pytest.mark.grader, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
TIME_LIMIT = 20  # CPU seconds: the reference takes about 8
POINTS = {tc.name: tc.points for t in load_tests() for tc in t.test_cases}
HIDDEN_LINEAR = [f"linear_backward: {case[0]}" for case in assignment.HIDDEN_LINEAR]
WITH_BIAS = [f"linear_backward: {case[0]}" for case in assignment.HIDDEN_LINEAR if case[4]]

# planted mistake -> (tests it fails, the diagnosis code its feedback names)
MISTAKES = {
    # every gradient check fails; a transposed grad_weight has the wrong shape everywhere
    "transposed-weight-gradient": (["check_linear_backward", *HIDDEN_LINEAR, "gradcheck in float64"],
                                   "transposed_weight_gradient"),
    # only where there is a bias; gradcheck sums the unsummed gradient and misses it (the
    # lesson's pitfall), so it passes
    "bias-not-summed": (["check_linear_backward", *WITH_BIAS], "bias_not_summed"),
    "wrong-sign": (["check_linear_backward", *HIDDEN_LINEAR, "gradcheck in float64"], "wrong_sign"),
    # a ReLU after the output: the switch's default is then not the lab's network either
    "activation-on-output": (["check_mlp", "MLP activation switch"], "activation_on_output"),
    # affine by default: the switch fails and the moons are not separated
    "no-nonlinearity": (["check_mlp", "MLP activation switch", "held-out accuracy"], "no_nonlinearity"),
    # the catalogue's loops return losses only: no held-out accuracy recorded either
    "zero-grad-missing": (["check_training", "held-out accuracy", "held-out accuracy recorded"],
                          "zero_grad_missing"),
    "no-step": (["check_training", "held-out accuracy", "held-out accuracy recorded"], "no_update"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rehearsal")
    submissions, out = folder / "submissions", folder / "out"
    rehearsal.main(str(submissions))
    run = subprocess.run([sys.executable, "autograder/grade.py", str(submissions), "--out", str(out),
                          "--time-limit", str(TIME_LIMIT)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    return folder, submissions, out, rows


def feedback(out: Path, name: str) -> str:
    return (out / "feedback" / f"{name}.ipynb.md").read_text(encoding="utf-8")


def test_every_submission_file_has_one_row_with_the_issue_columns(graded):
    folder, submissions, out, rows = graded
    assert sorted(rows) == sorted(p.name for p in submissions.iterdir())
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["submission", "status", "reason", "total", *POINTS]


def test_the_reference_gets_full_marks(graded):
    rows = graded[3]
    row = rows["reference.ipynb"]
    assert (row["status"], row["reason"]) == ("ok", "")
    assert float(row["total"]) == sum(POINTS.values())
    assert all(float(row[name]) == points for name, points in POINTS.items())


@pytest.mark.parametrize("name", MISTAKES)
def test_a_planted_mistake_gets_partial_marks_and_its_diagnosis(graded, name):
    out, rows = graded[2], graded[3]
    fails, code = MISTAKES[name]
    row = rows[f"{name}.ipynb"]
    assert row["status"] in ("ok", "cell errors"), row
    assert sorted(t for t in POINTS if float(row[t]) == 0) == sorted(fails)
    assert float(row["total"]) == sum(POINTS.values()) - sum(POINTS[t] for t in fails)
    assert 0 < float(row["total"]) < sum(POINTS.values())
    text = feedback(out, name)
    assert f"[{code}]" in text, text


@pytest.mark.parametrize("name", ["reference", *MISTAKES])
def test_feedback_says_which_tests_are_hidden_and_still_to_come(graded, name):
    text = feedback(graded[2], name)
    hidden = [tc.name for t in load_tests() for tc in t.test_cases if tc.hidden]
    assert "results still to come" in text and "All test cases passed" not in text
    assert all(f"- {t} (hidden," in text for t in hidden), text
    assert "PASS held-out accuracy" not in text and "FAIL held-out accuracy" not in text


NEEDS_MLP = ["check_mlp", "check_training", "MLP layer sizes", "MLP on a 3-D batch",
             "MLP activation switch", "held-out accuracy", "held-out accuracy recorded"]


@pytest.mark.parametrize("name, status, reason, fails", [
    # torch and nn are never imported: MLP (an nn.Module) is not defined, and nothing that
    # needs it passes; linear_backward, plain tensor operations, still defines and passes
    ("raises-in-first-cell", "cell errors",
     r"code cell 1 raised ModuleNotFoundError: No module named 'labcod'", NEEDS_MLP),
    ("endless-loop", "timeout",
     rf"stopped at the time limit \({TIME_LIMIT} s\) while running code cell (\d+) of \1", list(POINTS)),
    ("not-json", "not a notebook", "not JSON", list(POINTS)),
    ("empty", "empty", "the notebook has no code to run", list(POINTS)),
    # the allocation fails in its cell; the reference's Part A still gets every point
    ("memory-hog", "cell errors", r"code cell \d+ raised RuntimeError: .*can't allocate memory", []),
])
def test_a_bad_submission_gets_its_row_and_its_reason_in_words(graded, name, status, reason, fails):
    row = graded[3][f"{name}.ipynb"]
    assert row["status"] == status
    assert re.match(reason, row["reason"]), row["reason"]
    assert sorted(t for t in POINTS if float(row[t]) == 0) == sorted(fails)
    assert float(row["total"]) == sum(POINTS.values()) - sum(POINTS[t] for t in fails)


def test_a_notebook_cannot_read_the_tests_or_write_outside_its_folder(graded):
    folder, _, out, rows = graded
    row = rows["prying.ipynb"]
    assert (row["status"], float(row["total"])) == ("refused", 0)
    tests = REPO / "autograder" / "tests"
    for attempt in (f"opening {tests / 'd_linear_backward.py'}", f"writing {REPO / 'escaped.txt'}",
                    "subprocess.Popen"):
        assert attempt in row["reason"], row["reason"]
    assert "escaped.txt" in row["reason"]  # ../escaped.txt, in the grader's scratch folder
    assert not (REPO / "escaped.txt").exists()
    assert not list(folder.rglob("escaped.txt")) and not list(Path("/tmp").glob("grade-*/escaped.txt"))


def test_parts_b_and_c_are_laid_out_one_page_per_question_next_to_the_rubric(graded):
    _, submissions, out, rows = graded
    lesson_plan = assignment.RUBRIC.read_text(encoding="utf-8")
    notebooks = [p.stem for p in submissions.iterdir() if p.stem not in ("not-json", "empty")]
    for question, start in assignment.MANUAL.items():
        page = (out / "manual" / f"{question}.html").read_text(encoding="utf-8")
        assert page.count("<tr><td>") == len(notebooks) + 2  # each student; empty, not JSON
        assert html.escape(start) in page
        if question == "AI":  # the statements, beside no rubric row of their own
            assert "rubric row" in page and "What I asked for" in page
            continue
        row = next(line for line in lesson_plan.splitlines() if line.startswith(f"| **{question}."))
        strong = row.split("|")[2].strip()  # the "3 · Strong" description
        assert html.escape(strong) in page, question
        for name in notebooks:
            assert f"{name}&#x27;s answer" in page, (question, name)
        others = [s for q, s in assignment.MANUAL.items() if q != question and s.startswith("**")]
        assert not any(html.escape(s) in page for s in others), question
