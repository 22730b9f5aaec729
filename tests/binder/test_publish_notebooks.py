"""A republish keeps every student's launch link working.

The deploy workflow publishes the students' notebooks with `.ci/publish-notebooks`, as one
new commit on the `notebooks` branch; Binder and the course's JupyterHub pull that branch
with nbgitpuller each time a student presses a launch link. Here the same script publishes
twice into a local bare repository (the course's GitHub repository), and nbgitpuller, the
version the Binder image installs, pulls in between, as two students' launches would:
one who only read, one who edited a notebook. `pytest -m notebooks`, after the build (it
publishes the notebooks the build wrote).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbgitpuller.pull import GitPuller

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "_build" / "html" / "_sources" / "book"
BRANCH = "notebooks"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def publish(checkout: Path, remote: Path) -> str:
    """Run the workflow's publishing step in `checkout`; what it printed."""
    run = subprocess.run(["bash", ".ci/publish-notebooks", remote.as_uri(), BRANCH],
                         cwd=checkout, capture_output=True, text=True)
    assert run.returncode == 0, f"publish-notebooks failed:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def launch(remote: Path, home: Path) -> str:
    """What a launch link does: nbgitpuller clones the branch, or updates the clone."""
    puller = GitPuller(remote.as_uri(), str(home), branch=BRANCH)
    return "".join(puller.pull())


def sources(notebook: Path, cell_type: str) -> list[str]:
    return [c.source for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == cell_type]


def edit_cell(notebook: Path, cell_type: str, change, last: bool = False) -> str:
    """Change the first (or last) `cell_type` cell of `notebook` and save it as JupyterLab
    would."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == cell_type]
    cell = cells[-1] if last else cells[0]
    cell.source = change(cell.source)
    nbformat.write(nb, notebook)
    return cell.source


@pytest.fixture
def instructor(tmp_path: Path) -> Path:
    """The instructor's checkout after a build: the repository's files and the notebooks."""
    notebooks = sorted(BUILT.glob("*.ipynb"))
    if not notebooks:
        pytest.fail(f"no students' notebooks in {BUILT}: build the book first (README command 1)")
    checkout = tmp_path / "course"
    tracked = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).split("\0")
    for name in filter(None, tracked):
        source = REPO / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    git("init", "--quiet", cwd=checkout)
    git("add", "--all", cwd=checkout)
    git("-c", "user.name=Instructor", "-c", "user.email=instructor@example.org",
        "commit", "--quiet", "-m", "The course as cloned", cwd=checkout)
    shutil.copytree(BUILT, checkout / BUILT.relative_to(REPO))
    return checkout


def test_a_republish_fast_forwards_every_student_and_keeps_their_edits(instructor, tmp_path):
    # The course's repository on GitHub: its main branch, no notebooks branch yet.
    remote = tmp_path / "course.git"
    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    git("push", "--quiet", remote.as_uri(), "HEAD:refs/heads/main", cwd=instructor)
    main = git("rev-parse", "main", cwd=remote)
    book = instructor / BUILT.relative_to(REPO)
    notebooks = sorted(p.name for p in book.glob("*.ipynb"))
    reader, editor = notebooks[0], notebooks[-1]

    assert "first commit" in publish(instructor, remote)
    first = git("rev-parse", BRANCH, cwd=remote)
    published = git("ls-tree", "-r", "--name-only", BRANCH, cwd=remote).splitlines()
    assert sorted(n for n in published if n.startswith("book/")) == [f"book/{n}" for n in notebooks]
    for needed in ("binder/requirements.txt", "pyproject.toml", "labcode/__init__.py",
                   "LICENSE", "README.md"):
        assert needed in published, f"the notebooks branch lacks {needed}"
    assert not [n for n in published if "__pycache__" in n or ".egg-info" in n]

    # Two students launch: one only reads, one edits the last code cell of a notebook.
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    launch(remote, alice)
    launch(remote, bob)
    assert git("rev-parse", "HEAD", cwd=alice) == first
    bobs_code = edit_cell(bob / "book" / editor, "code",
                          lambda s: s + "\n# my own note: the shapes are (N, D_in)\n", last=True)

    # Mid-week the instructor fixes a typo in two notebooks, rebuilds and publishes again.
    fixes = {name: edit_cell(book / name, "markdown", lambda s: s + "\n\nTypo fixed.")
             for name in (reader, editor)}
    assert "publishing on top of" in publish(instructor, remote)
    second = git("rev-parse", BRANCH, cwd=remote)
    assert second != first
    assert git("rev-parse", f"{second}^", cwd=remote) == first, \
        "the new publish is not one commit on top of the last one"

    # The reader's next launch fast-forwards to the new commit: no merge, no lock-out.
    pulled = launch(remote, alice)
    assert "Fast-forward" in pulled, pulled
    assert git("rev-parse", "HEAD", cwd=alice) == second
    assert git("status", "--porcelain", cwd=alice) == ""

    # The editor keeps their edit and receives the new commit.
    launch(remote, bob)
    subprocess.run(["git", "merge-base", "--is-ancestor", second, "HEAD"], cwd=bob, check=True)
    assert bobs_code in sources(bob / "book" / editor, "code"), "the student's edit was lost"
    for name, fix in fixes.items():
        assert fix in sources(bob / "book" / name, "markdown"), \
            f"the student did not receive the fix to {name}"

    # Publishing again with nothing changed adds no commit; main was never touched.
    assert "nothing to publish" in publish(instructor, remote)
    assert git("rev-parse", BRANCH, cwd=remote) == second
    assert git("rev-parse", "main", cwd=remote) == main
