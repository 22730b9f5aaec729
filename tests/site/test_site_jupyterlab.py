"""What a student in Binder or on a JupyterHub sees: the students' notebooks in a real
JupyterLab, in Chromium (`pytest -m site`, after the build).

JupyterLab (binder/requirements.txt installs it; so does the root requirements.txt, for this
test) serves a folder holding the built notebooks, on loopback with no token, as a launch
button's session would. Each notebook with code cells is opened as a student opens it, and
the text JupyterLab renders must carry no raw MyST: no role such as {glue:text} or {ref}, no
directive fence, no target line. Every cell is rendered (windowing off), so the whole
notebook is read, not the first screen.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import _sitetools as st

pytestmark = [pytest.mark.site, pytest.mark.timeout(300)]

NOTEBOOKS = st.HTML_DIR / "_sources" / "book"
RAW_MYST = re.compile(r"\{(glue|glue:text|glue:md|doc|ref|numref|cite:p|cite:t|math|eq)\}`"
                      r"|^\s*(:::+|```+)\{[\w:-]+\}|^\([\w-]+\)=$", re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab on 127.0.0.1 serving the students' notebooks; yields its base URL."""
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        pytest.fail(f"no notebooks in {NOTEBOOKS}: build the book first (README command 1)")
    root, settings = tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-settings")
    for nb in notebooks:
        shutil.copy(nb, root / nb.name)
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))  # render every cell
    port = _free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {proc.stderr.read()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) or ["none"])
def test_a_notebook_in_jupyterlab_shows_no_raw_myst(jupyterlab, browser, name):
    if name == "none":
        pytest.fail(f"no notebooks in {NOTEBOOKS}: build the book first")
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    n_markdown = sum(c["cell_type"] == "markdown" for c in nb["cells"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{jupyterlab}/lab/tree/{name}?reset")  # this notebook alone, no saved workspace
        page.wait_for_selector(".jp-NotebookPanel .jp-MarkdownOutput", state="attached", timeout=90000)
        # wait until every markdown cell is rendered (windowing is off)
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell .jp-MarkdownOutput').length >= n",
            arg=n_markdown, timeout=60000)
        shown = page.eval_on_selector(".jp-NotebookPanel .jp-Notebook", "el => el.innerText")
        rendered = page.eval_on_selector_all(
            ".jp-NotebookPanel .jp-MarkdownCell .jp-MarkdownOutput", "els => els.map(e => e.innerText)")
        raw = [m.group(0) for text in rendered for m in RAW_MYST.finditer(text)]
        assert raw == [], f"{name} in JupyterLab shows raw MyST: {raw[:10]}"
        assert len(rendered) == n_markdown and shown.strip()
        # a folded reveal is closed, as on the site: its summary shows, its body does not
        closed = page.eval_on_selector_all(".jp-MarkdownOutput details:not([open])", "els => els.length")
        has_details = any("<details" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert closed or not has_details, f"{name}: a <details> reveal is open in JupyterLab"
    finally:
        context.close()


def test_the_raw_myst_pattern_finds_roles_fences_and_targets():
    for raw in ("accuracy {glue:text}`acc:.1%`", "see {ref}`lab-run`", ":::{dropdown} Reveal",
                "```{code-cell} ipython3", "(lab-run)=", "{cite:p}`x`"):
        assert RAW_MYST.search(raw), raw
    for fine in ("accuracy 99.9%", "see How to run it", "```python", "f(x) = {x}", "(a, b)"):
        assert not RAW_MYST.search(fine), fine
