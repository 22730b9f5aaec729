"""Build the rehearsal set: ``python autograder/rehearsal.py DIR`` writes one submission per
entry of SUBMISSIONS into DIR.

Each is the starter (book/starter.md, as jupytext reads it) with its Part A TODO cells
filled from the sample submission (book/sample-submission.md), then changed: a mistake
planted from labcode.checks' catalogue, or one of the ways a submission goes wrong.
Parts B and C get one line per answer placeholder, naming the submission, so the marking
pages can be checked.
"""
from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from autograder.assignment import PART_A, SAMPLE, STARTER  # noqa: E402

# Mistakes from labcode.checks' catalogue: submission -> (name it replaces, code, check).
PLANTED = {
    "transposed-weight-gradient": ("linear_backward", "transposed_weight_gradient", "linear_backward"),
    "bias-not-summed": ("linear_backward", "bias_not_summed", "linear_backward"),
    "wrong-sign": ("linear_backward", "wrong_sign", "linear_backward"),
    "activation-on-output": ("MLP", "activation_on_output", "mlp"),
    "no-nonlinearity": ("MLP", "no_nonlinearity", "mlp"),
    "zero-grad-missing": ("train", "zero_grad_missing", "training"),
    "no-step": ("train", "no_update", "training"),
}

# A cell that tries to read the grader's tests and write outside its folder, each attempt
# caught so that the rest of the notebook runs, as a determined student would write it.
PRYING = '''\
import glob, os, subprocess
repository = os.path.dirname(os.path.dirname(labcode.__file__))
for attempt in (
    lambda: open(os.path.join(repository, "autograder", "tests", "d_linear_backward.py")).read(),
    lambda: glob.glob(os.path.join(repository, "autograder", "tests", "*")) and
            open(glob.glob(os.path.join(repository, "autograder", "tests", "*"))[0]).read(),
    lambda: open(os.path.join("..", "escaped.txt"), "w").write("written outside"),
    lambda: open(os.path.join(repository, "escaped.txt"), "w").write("written outside"),
    lambda: subprocess.run(["cat", os.path.join(repository, "autograder", "assignment.py")]),
):
    try:
        attempt()
    except Exception as error:
        print("refused:", error)
'''


def reference() -> dict[str, str]:
    """The sample submission's Part A cells, by the first line of the starter's TODO cell."""
    sample = jupytext.read(SAMPLE, fmt="md:myst")
    found = {name: [c.source for c in sample.cells if c.cell_type == "code"
                    and c.source.startswith(start)] for name, start in PART_A.items()}
    if any(len(cells) != 1 for cells in found.values()):
        raise ValueError(f"the sample submission has not one cell per Part A name: {found}")
    return {name: cells[0] for name, cells in found.items()}


def fill(nb: nbformat.NotebookNode, solution: dict[str, str]) -> nbformat.NotebookNode:
    """``nb``, a starter (book/starter.md or the students' starter.ipynb), with each Part A
    TODO cell replaced by ``solution[name]`` (``reference()`` or a changed copy of it)."""
    for part, start in PART_A.items():
        todo = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
        if len(todo) != 1 or "TODO" not in todo[0].source:
            raise ValueError(f"the starter has not one TODO cell starting {start!r}")
        todo[0].source = solution[part]
    return nb


def filled(name: str, solution: dict[str, str]) -> nbformat.NotebookNode:
    """The starter with its TODO cells replaced by ``solution`` and its answers written."""
    nb = fill(jupytext.read(STARTER, fmt="md:myst"), solution)
    count = 0
    for cell in nb.cells:
        while cell.cell_type == "markdown" and "*…*" in cell.source:
            count += 1
            cell.source = cell.source.replace("*…*", f"{name}'s answer {count}", 1)
    return nb


def submissions() -> dict[str, bytes]:
    """Every rehearsal submission: file name -> the bytes of the file."""
    right = reference()
    notebooks = {"reference": filled("reference", right)}
    for name, (part, code, check) in PLANTED.items():
        solution = dict(right)
        solution[part] += (f"\n\n# planted from labcode.checks' catalogue: {code}\n"
                           "from labcode.checks.mistakes import mistake, planted\n"
                           f"{part} = planted(mistake({code!r}, {check!r}))[0]\n")
        if part == "train":  # the catalogue's loops take (model, X, y, epochs, lr) only
            solution[part] += ("wrong_loop = train\n\n\n"
                               "def train(model, X, y, epochs, lr, X_val=None, y_val=None):\n"
                               "    return wrong_loop(model, X, y, epochs, lr)\n")
        notebooks[name] = filled(name, solution)
    raises = notebooks["raises-in-first-cell"] = filled("raises-in-first-cell", right)
    first = next(c for c in raises.cells if c.cell_type == "code")
    first.source = "import labcod  # a typo: nothing after it in this cell runs\n" + first.source
    endless = notebooks["endless-loop"] = filled("endless-loop", right)
    endless.cells.append(nbformat.v4.new_code_cell(
        "while True:  # waiting for a result that never comes\n    pass"))
    hog = notebooks["memory-hog"] = filled("memory-hog", right)
    hog.cells.insert(len(hog.cells) - 1, nbformat.v4.new_code_cell(
        "big = torch.empty(5 * 2**30, dtype=torch.uint8)  # 5 GiB, above the grader's memory limit"))
    prying = notebooks["prying"] = filled("prying", right)
    prying.cells.append(nbformat.v4.new_code_cell(PRYING))
    files = {f"{name}.ipynb": nbformat.writes(nb).encode() for name, nb in notebooks.items()}
    files["not-json.ipynb"] = b"my notebook is on my laptop, sorry\n"
    files["empty.ipynb"] = nbformat.writes(nbformat.v4.new_notebook()).encode()
    return files


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in submissions().items():
        (out / name).write_bytes(data)
    print(f"{len(list(out.iterdir()))} submissions in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
