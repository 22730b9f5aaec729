"""A student's run through the starter, scripted (`pytest -m notebooks`, after the build).

The students' starter notebook (``_build/html/_sources/book/starter.ipynb``, what the download,
Colab, Binder and JupyterHub give them) with its three TODO cells filled in runs top to
bottom in a fresh kernel, as a student runs it before handing in:

* the reference solution, the sample submission's own Part A code (one source), passes every
  cell, every self-check, and shows each figure once;
* each typical mistake below (other mistakes than the checks' own catalogue plants, written
  as a student would write them) is caught by the student's own cells or by a self-check
  whose message says what to change.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.rehearsal import fill, reference

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "_build" / "html" / "_sources" / "book" / "starter.ipynb"

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(900)]


def changed(name: str, old: str, new: str) -> dict[str, str]:
    """The reference solution with one line of one cell changed: a student's mistake."""
    solution = reference()
    assert solution[name].count(old) == 1, f"{old!r} is not once in the {name!r} cell"
    solution[name] = solution[name].replace(old, new)
    return solution


def run_starter(solution: dict[str, str], tmp_path: Path) -> nbformat.NotebookNode:
    """The students' starter with its TODO cells replaced, run in a fresh kernel, every cell
    (errors recorded, as in a Jupyter that runs all cells and shows each error)."""
    if not STARTER.is_file():
        pytest.fail(f"{STARTER} is missing: build the book first (README command 1)")
    nb = fill(nbformat.read(STARTER, as_version=4), solution)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def errors(nb) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def text(nb) -> str:
    """Everything the notebook shows a student as text, errors and HTML reports included."""
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            data = o.get("data", {})
            shown = data.get("text/html") or data.get("text/plain", "")
            parts += [o.get("text", ""), html.unescape(re.sub(r"<[^>]+>", " ", shown)), o.get("evalue", "")]
    return " ".join(" ".join(parts).split())


def hand_in(nb) -> dict[str, bool]:
    """What the last cell, "Before you hand in", says for each check: {title: passed}."""
    last = next(c for c in reversed(nb.cells) if c.cell_type == "code")
    lines = "".join(o.get("text", "") for o in last.outputs).splitlines()
    return {line.split(" ", 1)[1]: line.startswith("PASS") for line in lines}


def test_the_reference_solution_passes_every_cell_and_every_check(tmp_path):
    nb = run_starter(reference(), tmp_path)
    assert errors(nb) == []
    checks = hand_in(nb)
    assert len(checks) == 3 and all(checks.values()), checks
    train_cell = next(c for c in nb.cells if c.cell_type == "code" and "history = train(" in c.source)
    figures = [o for o in train_cell.outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 2, f"the training cell shows {len(figures)} figures, not the curves and the boundary once each"


# (Part A name, the line as the solution has it, the line with the mistake, which check fails,
#  what the student is told: in their own cell's error, or in the check's advice)
MISTAKES = {
    "MLP uses only the first hidden width": (
        "MLP", "for hidden in hidden_features:", "for hidden in hidden_features[:1]:",
        "check_mlp", r"a layer for each entry of hidden_features"),
    "ReLU after the output layer too": (
        "MLP", "        self.layers = nn.Sequential(*layers)",
        "        self.layers = nn.Sequential(*layers, nn.ReLU())",
        "check_mlp", r"the output layer must have no activation after it"),
    "the loss computed once, before the loop": (
        "train", "    for _ in range(epochs):\n        loss = loss_fn(model(X), y)  # forward and loss",
        "    loss = loss_fn(model(X), y)\n    for _ in range(epochs):",
        "check_training", r"compute the loss from model\(X\) inside the loop"),
    "linear_backward for 2-D input only": (
        "linear_backward", "grad_weight = G.T @ X", "grad_weight = grad_output.T @ x",
        "check_linear_backward", r"flatten them first"),
    "the bias gradient summed over the wrong axis": (
        "linear_backward", "G.sum(dim=0)", "G.sum(dim=1)",
        "check_linear_backward", r"grad_bias: shape \(\d+,\), expected \(2,\)"),
    "the weight gradient multiplied in the wrong order": (
        "linear_backward", "grad_weight = G.T @ X", "grad_weight = X.T @ G",
        "check_linear_backward", r"multiply in the order grad_output\.T @ x"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_typical_mistake_is_caught_and_the_student_told_what_to_change(mistake, tmp_path):
    name, old, new, check, advice = MISTAKES[mistake]
    nb = run_starter(changed(name, old, new), tmp_path)
    checks = hand_in(nb)
    failed = [title for title, passed in checks.items() if not passed]
    assert failed and all(title.startswith(check) for title in failed), checks
    assert re.search(advice, text(nb)), f"nothing in the notebook says {advice!r}"
