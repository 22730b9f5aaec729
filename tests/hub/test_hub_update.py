"""Nothing a student wrote is lost when the course publishes a fix mid-week (`pytest -m hub`).

A student launches the starter from the hub, writes in it and saves (JupyterLab's save: a PUT
of the notebook to the server's contents API). The course then fixes a sentence in the starter
and adds a file, and publishes with the deploy workflow's own step, `.ci/publish-notebooks`.
The student clicks the same link again: nbgitpuller commits their work, fetches, and merges
the course's commit with `git merge -Xours`.

What nbgitpuller 1.3.0 does, as checked here:
  * the student's cells are intact, and the notebook is still a valid notebook;
  * the new file is in their folder;
  * a fix in a cell the student did not touch reaches them;
  * in the cell both sides changed, on the line both changed, the student's line wins and the
    course's fix to that line is silently dropped (no conflict markers, no message); the
    student gets the course's version by renaming theirs and clicking the link again: the
    notebook comes back as now published, next to their renamed copy.
README.md ("A class on your own JupyterHub") tells instructors what this means for them.
"""
from __future__ import annotations

import json
import re
import subprocess

import nbformat
import pytest

import _hub

pytestmark = [pytest.mark.hub, pytest.mark.timeout(300)]

STUDENT = "student-edits"
STUDENT_NOTE = " (my note: I read this twice)"
COURSE_FIX = " (corrected on Wednesday)"
STUDENT_CODE = "# my own answer, written on Tuesday\n"


def _line_to_fix(cell: dict) -> int | None:
    """A prose line of a markdown cell (not its last): a sentence a course might fix."""
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    for i, line in enumerate(source.splitlines(keepends=True)):
        if re.fullmatch(r"[A-Za-z][^\n]{39,}\n", line):  # wrapped prose, not a heading or list
            return i
    return None


def _contents_url(hub, path: str) -> str:
    return f"{hub.url}/user/{STUDENT}/api/contents/{path}"


def test_a_fix_published_mid_week_keeps_the_students_work(hub, notebooks_remote, tmp_path):
    branch = _hub.notebooks_branch()
    repo_name = _hub.repository_url().rstrip("/").split("/")[-1]
    starter = f"{repo_name}/book/starter.ipynb"
    link = hub.launch_link(f"lab/tree/{starter}")
    student = hub.login(STUDENT)
    _hub.launch(hub, student, link)

    # The student writes an answer into a code cell and a note into a prose line, and saves.
    s = student.session
    model = s.get(_contents_url(hub, starter), params={"content": 1}, timeout=30)
    model.raise_for_status()
    nb = model.json()["content"]
    cells = nb["cells"]
    answer = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and "TODO" in "".join(c["source"]))
    prose = [(i, _line_to_fix(c)) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]
    prose = [(i, line) for i, line in prose if line is not None]
    assert len(prose) >= 2, "the starter has fewer than two prose lines to fix"
    (both, both_line), (course_only, course_line) = prose[0], prose[-1]
    original = {i: "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for i, c in enumerate(cells)}
    for c in cells:  # the contents API gives each source as one string
        c["source"] = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
    lines = original[both].splitlines(keepends=True)
    student_line = lines[both_line].rstrip("\n") + STUDENT_NOTE + "\n"
    cells[both]["source"] = "".join(lines[:both_line] + [student_line] + lines[both_line + 1:])
    cells[answer]["source"] = STUDENT_CODE + original[answer]
    saved = s.put(_contents_url(hub, starter), json={"type": "notebook", "format": "json", "content": nb},
                  headers=_hub.xsrf_header(student), timeout=30)
    assert saved.status_code == 200, saved.text[:500]

    # The course fixes one sentence in that same cell and one in a cell the student left
    # alone, adds a file, and publishes with the deploy workflow's step.
    before = subprocess.run(["git", "--git-dir", str(notebooks_remote), "rev-parse", branch],
                            capture_output=True, text=True, check=True).stdout.strip()
    course = _hub.scratch_checkout(tmp_path / "course")
    built = course / _hub.NOTEBOOKS.relative_to(_hub.REPO)
    raw = (built / "starter.ipynb").read_text(encoding="utf-8")
    fixes = {}
    for cell, line in ((both, both_line), (course_only, course_line)):
        old = original[cell].splitlines(keepends=True)[line]
        new = old.rstrip("\n") + COURSE_FIX + "\n"
        encoded = json.dumps(old, ensure_ascii=False)
        assert raw.count(encoded) == 1, f"the line to fix is not once in the built notebook: {old!r}"
        raw = raw.replace(encoded, json.dumps(new, ensure_ascii=False))
        fixes[cell] = new
    (built / "starter.ipynb").write_text(raw, encoding="utf-8")
    extra = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Errata\n\nA fix published mid-week.")])
    nbformat.write(extra, built / "errata.ipynb")
    after = _hub.publish(notebooks_remote, branch, course)
    parents = subprocess.run(["git", "--git-dir", str(notebooks_remote), "rev-list", "--parents", "-n1", after],
                             capture_output=True, text=True, check=True).stdout.split()
    assert parents == [after, before], "the publish did not add one commit on top of the last"

    # The student clicks the link again.
    pulled = _hub.launch(hub, student, link)
    log = "".join(e.get("output", "") for e in pulled.pull_events)
    assert "Automatic commit by nbgitpuller" in log or "nbgitpuller" in log, log
    assert pulled.lab_status == 200

    home = hub.homes / STUDENT / repo_name
    assert (home / "book" / "errata.ipynb").is_file(), f"the new file did not arrive:\n{log}"
    merged = nbformat.read(home / "book" / "starter.ipynb", as_version=4)
    nbformat.validate(merged)  # still a notebook, no conflict markers in its JSON
    text = {i: c["source"] for i, c in enumerate(merged.cells)}
    assert len(merged.cells) == len(cells)
    # their work: intact
    assert text[answer] == STUDENT_CODE + original[answer]
    # the fix in a cell they did not touch: arrived
    assert fixes[course_only] in text[course_only] + "\n"
    # the cell both changed: the student's line, not the course's; the fix to it is dropped
    assert student_line in text[both] + "\n"
    assert COURSE_FIX not in text[both], "nbgitpuller merged both sides' line (it used to keep the student's)"
    # and every other cell is exactly as published
    unchanged = [i for i in text if i not in (answer, both, course_only)]
    assert all(text[i] == original[i] for i in unchanged)
    history = subprocess.run(["git", "log", "--format=%an %s"], cwd=home, capture_output=True, text=True,
                             check=True).stdout
    assert "nbgitpuller Automatic commit by nbgitpuller" in history, history

    # A student who wants the course's version renames theirs (File > Rename) and clicks the
    # link again: nbgitpuller restores the notebook it finds missing, as published now.
    mine = f"{repo_name}/book/starter-mine.ipynb"
    renamed = s.patch(_contents_url(hub, starter), json={"path": mine}, headers=_hub.xsrf_header(student), timeout=30)
    assert renamed.status_code == 200, renamed.text[:300]
    _hub.launch(hub, student, link)
    fresh = nbformat.read(home / "book" / "starter.ipynb", as_version=4)
    assert fixes[both] in fresh.cells[both].source + "\n" and STUDENT_CODE not in fresh.cells[answer].source
    kept = nbformat.read(home / "book" / "starter-mine.ipynb", as_version=4)
    assert kept.cells[answer].source == STUDENT_CODE + original[answer]
