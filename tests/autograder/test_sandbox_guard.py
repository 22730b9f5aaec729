"""The sandbox's audit hook on its own (`pytest -m grader`), in a fresh process: an audit hook
cannot be removed, so never in pytest's own."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.grader

AUTOGRADER = Path(__file__).resolve().parents[2] / "autograder"

ATTEMPTS = '''
import json, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from sandbox import _guard
refused = []
sys.addaudithook(_guard(os.getcwd(), [sys.argv[1]], refused))
tests = os.path.join(sys.argv[1], "tests")
attempts = {
    "read a test": lambda: open(os.path.join(tests, "b_mlp.py")).read(),
    "list the tests": lambda: os.listdir(tests),
    "import the grader": lambda: __import__("assignment"),
    "write beside its folder": lambda: open(os.path.join("..", "escaped.txt"), "w"),
    "delete beside its folder": lambda: os.remove(os.path.join("..", "kept.txt")),
    "run a program": lambda: subprocess.run(["true"]),
    "fork": lambda: os.fork(),
    "load a C library": lambda: __import__("ctypes").CDLL(None),
    "write in its folder": lambda: open("notes.txt", "w").write("mine"),
    "read in its folder": lambda: open("notes.txt").read(),
}
outcome = {}
for label, attempt in attempts.items():
    try:
        attempt()
        outcome[label] = "allowed"
    except PermissionError as error:
        outcome[label] = str(error)
print(json.dumps({"outcome": outcome, "refused": refused}))
'''


def test_the_hook_refuses_the_grader_outside_writes_and_processes_and_allows_its_folder(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "kept.txt").write_text("the grader's")
    run = subprocess.run([sys.executable, "-I", "-c", ATTEMPTS, str(AUTOGRADER)], cwd=scratch,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    outcome = result["outcome"]
    allowed = {"write in its folder", "read in its folder"}
    assert {k for k, v in outcome.items() if v == "allowed"} == allowed, outcome
    assert all(v.startswith("PermissionError") or v.startswith("the grader refused")
               for k, v in outcome.items() if k not in allowed), outcome
    assert len(result["refused"]) >= len(outcome) - len(allowed), result["refused"]  # import: more
    assert not (tmp_path / "escaped.txt").exists() and (tmp_path / "kept.txt").exists()
    assert (scratch / "notes.txt").read_text() == "mine"
