"""Binder readiness, checked without Binder.

Building the Binder image (repo2docker) in CI would take far too long, so:
- static checks (fast, no marker): the binder/ files exist; they install JupyterLab, a
  CPU-only torch pinned to the project's version, and labcode; every import of a student's
  notebook (a page less its remove-cell cells) is provided by them; every page in _toc.yml
  with code cells has the jupytext header that makes the book execute it and give it launch
  buttons, and a page without that header has no code cell (and a page with it has one: a
  prose page with the header would offer an empty notebook);
- `pytest -m notebooks` (slow, after the build): every page's notebook as students get it
  (download, Colab, Binder, JupyterHub) runs with nbclient in a fresh kernel and an empty
  working directory.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sphinx_external_toc.parsing import parse_toc_yaml

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"


# --------------------------------------------------------------------------------------------
# What the repository says
# --------------------------------------------------------------------------------------------
def toc_sources() -> list[Path]:
    """The source of every page in _toc.yml, in book order, as sphinx-external-toc reads it."""
    return [next(p for p in (REPO / f"{doc}.md", REPO / f"{doc}.ipynb") if p.is_file())
            for doc in parse_toc_yaml(REPO / "_toc.yml").keys()]


def _pages_or_none():
    try:
        return [p for p in toc_sources() if p.suffix == ".md"]
    except Exception:
        return None


PAGES = _pages_or_none()
PAGE_PARAMS = ([pytest.param(p, id=p.relative_to(REPO).as_posix()) for p in PAGES]
               if PAGES else [pytest.param(None, id="no-pages")])

# A MyST code cell: a fence of 3+ backticks or tildes whose info string is {code-cell}.
CODE_CELL_RX = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*\{code-cell\}", re.M)


def has_code_cells(path: Path) -> bool:
    return bool(CODE_CELL_RX.search(path.read_text(encoding="utf-8")))


# The pages Binder can run: those with code cells (a page of prose only has no header and
# no launch buttons, so nobody opens it as a notebook).
CODE_PAGES = [p for p in PAGES or [] if has_code_cells(p)]
CODE_PAGE_PARAMS = ([pytest.param(p, id=p.relative_to(REPO).as_posix()) for p in CODE_PAGES]
                    if CODE_PAGES else [pytest.param(None, id="no-code-pages")])


def _page(p):
    if p is None:
        pytest.fail(f"cannot list the .md pages of {REPO / '_toc.yml'}")
    return p


def read_requirements(path: Path) -> tuple[list[str], list[str]]:
    """(pip options such as --extra-index-url, requirement lines), comments dropped."""
    options, reqs = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        (options if line.startswith("-") and not line.startswith(("-e", "--editable")) else reqs).append(line)
    return options, reqs


def req_name(line: str) -> str:
    m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return canon(m.group(1)) if m else ""


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"---\s*\n(.*?)\n---\s*\n", text, re.S)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}


# --------------------------------------------------------------------------------------------
# Static checks
# --------------------------------------------------------------------------------------------
def repo2docker_dockerfile() -> str:
    """The Dockerfile repo2docker would build for this repository (`--no-build`: offline)."""
    tool = Path(sys.executable).parent / "repo2docker"
    if not tool.is_file():
        pytest.fail("repo2docker is missing: pip install -r requirements.txt")
    run = subprocess.run([str(tool), "--no-build", str(REPO)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout + run.stderr


def test_repo2docker_builds_binders_python_requirements_and_postbuild():
    """Binder's rules from Binder's own tool: what repo2docker makes of binder/."""
    dockerfile = repo2docker_dockerfile()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"python={python}" in dockerfile, f"repo2docker does not build Python {python} (binder/runtime.txt)"
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert '-r "requirements.txt"' not in dockerfile, "repo2docker reads the root requirements.txt, not binder/"
    assert "RUN ./binder/postBuild" in dockerfile


def test_binder_installs_jupyterlab_and_a_cpu_only_torch_pinned_like_the_project():
    options, reqs = read_requirements(BINDER / "requirements.txt")
    names = {req_name(r): r for r in reqs}
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    if (cfg.get("launch_buttons") or {}).get("notebook_interface") == "jupyterlab":
        assert "jupyterlab" in names, "the launch buttons open JupyterLab; binder/ does not install it"
    assert "torch" in names, "binder/requirements.txt does not install torch"
    torch_line = names["torch"].replace(" ", "")
    m = re.fullmatch(r"torch==(\d+\.\d+\.\d+)(\+cpu)?", torch_line)
    assert m, f"torch must be pinned exactly (==), got {names['torch']!r}"
    _, root_reqs = read_requirements(REPO / "requirements.txt")
    root_torch = [r.replace(" ", "") for r in root_reqs if req_name(r) == "torch"]
    assert root_torch == [f"torch=={m.group(1)}"], f"Binder torch {torch_line} vs the project's {root_torch}"
    cpu_index = [o for o in options if re.match(r"--(extra-)?index-url\s*=?\s*\S+/whl/cpu/?$", o)]
    assert cpu_index, ("binder/requirements.txt must take torch from PyTorch's CPU wheel index "
                       "(--extra-index-url .../whl/cpu); PyPI's Linux torch is the CUDA build, several GB")
    assert m.group(2) == "+cpu" or any(o.startswith("--index-url") for o in cpu_index), (
        "with only an *extra* index, pip may still pick PyPI's CUDA torch: pin torch==X+cpu")


def test_binder_installs_labcode():
    _, reqs = read_requirements(BINDER / "requirements.txt")
    in_reqs = any(re.fullmatch(r"(-e|--editable)?\s*\.{1,2}/?", r) for r in reqs)
    post = BINDER / "postBuild"
    in_post = post.is_file() and re.search(
        r"^\s*(python\d?(\.\d+)?\s+-m\s+)?pip\s+install\b[^\n]*\s(-e\s+)?\.(\s|$)",
        post.read_text(encoding="utf-8"), re.M)
    assert in_reqs or in_post, "nothing in binder/ installs labcode (pip install -e . in postBuild)"
    if post.is_file():
        text = post.read_text(encoding="utf-8")
        assert text.startswith("#!"), "binder/postBuild needs a shebang line (repo2docker executes it)"


def _binder_closure() -> set[str]:
    """Distribution names Binder installs: its requirements and (from this environment's
    metadata) their dependencies, plus labcode."""
    _, reqs = read_requirements(BINDER / "requirements.txt")
    todo = [req_name(r) for r in reqs if req_name(r)]
    seen = {"labcode"}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for r in requires:
            if "extra ==" in r:
                continue
            todo.append(req_name(r))
    return seen


def _imports(source: str) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def test_every_import_in_the_students_notebooks_is_installed_by_binder():
    import jupytext

    provided = _binder_closure()
    module_dists = md.packages_distributions()
    missing = []
    for page in PAGES or []:
        # The pages are MyST; a prose page has no header to say so, and jupytext would guess
        # Pandoc Markdown from its ::: fences.
        nb = jupytext.read(page, fmt="md:myst")
        # Students' notebooks leave out the build's remove-cell cells (student_notebooks.py).
        code = "\n".join(
            "\n".join(l for l in c.source.splitlines() if not l.lstrip().startswith(("%", "!")))
            for c in nb.cells if c.cell_type == "code"
            and "remove-cell" not in c.metadata.get("tags", []))
        for mod in sorted(_imports(code)):
            if mod in sys.stdlib_module_names or mod == "labcode":
                continue
            dists = {canon(d) for d in module_dists.get(mod, [])}
            if not dists:
                missing.append(f"{page.name}: import {mod} (not installed here either)")
            elif not dists & provided:
                missing.append(f"{page.name}: import {mod} (from {sorted(dists)}) is not installed by binder/")
    assert PAGES, "no .md pages found from _toc.yml"
    assert missing == [], "pages import what Binder does not install:\n  " + "\n  ".join(missing)


def test_code_cell_pattern_tells_code_pages_from_prose():
    """The regex that decides which pages must be notebooks, on known snippets."""
    for text in ("```{code-cell} ipython3\nx = 1\n```\n", "````{code-cell}\n````\n",
                 "- item\n\n  ```{code-cell} ipython3\n  x\n  ```\n", "~~~{code-cell} python\n~~~\n"):
        assert CODE_CELL_RX.search(text), text
    for text in ("```python\nx = 1\n```\n", "Write `{code-cell}` blocks\n", "```{note}\nx\n```\n"):
        assert not CODE_CELL_RX.search(text), text


def test_the_book_has_notebook_pages():
    assert PAGES, "no .md pages found from _toc.yml"
    assert CODE_PAGES, "no page in _toc.yml has a code cell: nothing for Binder to run"


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_page_has_the_jupytext_header(page):
    """Every page with code cells is a notebook (jupytext header); a page without the header
    has no code cell; a page with the header has at least one."""
    page = _page(page)
    fm = front_matter(page)
    code = has_code_cells(page)
    if not code:
        assert "jupytext" not in fm and "kernelspec" not in fm, (
            f"{page.relative_to(REPO)} has no code cell but the jupytext/kernelspec header: the book "
            f"executes it for nothing and its Binder and Colab buttons open an empty notebook")
        return
    rep = ((fm.get("jupytext") or {}).get("text_representation") or {})
    assert rep.get("format_name") == "myst", (
        f"{page.relative_to(REPO)} has code cells but no jupytext MyST header "
        f"(jupytext.text_representation.format_name: myst): the book does not execute them, Binder "
        f"opens the page as plain Markdown, and the book gives it no launch buttons")
    kernel = fm.get("kernelspec") or {}
    assert kernel.get("name") == "python3" and kernel.get("language") == "python", (
        f"{page.relative_to(REPO)}: kernelspec {kernel!r}, expected name python3, language python")


# --------------------------------------------------------------------------------------------
# What a student does: open the page's notebook (download, Colab, Binder, JupyterHub all get
# the same one, book/_ext/student_notebooks.py) and run all cells
# --------------------------------------------------------------------------------------------
STUDENT_NOTEBOOKS = REPO / "_build" / "html" / "_sources"


@pytest.mark.notebooks
@pytest.mark.timeout(900)
@pytest.mark.parametrize("page", CODE_PAGE_PARAMS)
def test_students_notebook_runs_in_a_fresh_kernel(page, tmp_path):
    """The notebook as a student gets it, without the build's hidden cells, in a fresh kernel
    and an empty working directory: nothing it runs may rest on a cell it does not have or on
    a file of this repository."""
    import nbformat
    from nbclient import NotebookClient

    page = _page(page)
    path = STUDENT_NOTEBOOKS / page.relative_to(REPO).with_suffix(".ipynb")
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the book first (README command 1)")
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    # A cell that raises fails the test unless it is tagged raises-exception (nbclient honours it).
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.get("execution_count") is not None for c in code), "not every code cell ran"
