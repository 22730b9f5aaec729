"""A student's path on the course's JupyterHub, in Chromium (`pytest -m hub`).

An instructor's fork sets `launch_buttons.jupyterhub_url` to the hub (README, "Adapting the
week"). A student on its site clicks the lesson page's JupyterHub launch, is sent to the hub's
login page, logs in, waits for the server, watches nbgitpuller clone the notebooks branch,
and lands in JupyterLab with the page's notebook open. They run every cell (Edit > Clear
Outputs of All Cells, then Run > Run All Cells, from the menus) and save. Then the same from
the starter page, whose last cell runs the self-checks and prints their report.

The notebooks are read back from the student's home as JupyterLab saved them: every code
cell ran in order, in one fresh kernel, and none raised but those the page marks
`raises-exception` (the starter's cells before the student has written the code).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import _hub
import _sitetools as st

pytestmark = [pytest.mark.hub, pytest.mark.timeout(600)]

STUDENT = "student-browser"
CHECK_CALL = re.compile(r"\bcheck_\w+\(")


@pytest.fixture(scope="module")
def fork_site(tmp_path_factory, hub_port, built_notebooks) -> Path:
    """The book as a fork with the hub set builds it: the repository's files, this build's
    execution cache (so no cell runs again), and `jupyterhub_url` added to _config.yml.
    Built without -W: the site suite's fork test holds the warnings to account."""
    root = _hub.scratch_checkout(tmp_path_factory.mktemp("fork"))
    shutil.copytree(_hub.REPO / "_build" / ".jupyter_cache", root / "_build" / ".jupyter_cache")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["launch_buttons"]["jupyterhub_url"] = f"http://127.0.0.1:{hub_port}"
    (root / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(root)],
                           capture_output=True, text=True, timeout=400)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
    return root / "_build" / "html"


@pytest.fixture(scope="module")
def site(fork_site):
    with st.SiteServer(fork_site) as server:
        yield server


@pytest.fixture(scope="module")
def student(browser, hub):
    """One student's browser (a context keeps their hub cookie across both pages)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    try:
        yield context
    finally:
        context.close()


def _page_for(role: str):
    pages = st.toc_pages()
    if role == "starter":
        found = [p for p in pages if re.search(r"(^|/)starter$", p.docname)]
        assert found, f"no starter page in _toc.yml: {[p.docname for p in pages]}"
        return found[0]
    return st.find_role(pages, lambda p: p.docname, role)


def _launch_from_the_site(context, site, docname: str):
    """Open the page on the fork's site and click its JupyterHub launch (a new tab)."""
    page = context.new_page()
    page.goto(site.base + docname + ".html")
    page.click(".dropdown-launch-buttons button.dropdown-toggle")
    link = page.locator(".dropdown-launch-buttons a", has_text="JupyterHub")
    assert link.count() == 1, f"{docname}: no JupyterHub launch on the fork's page"
    with context.expect_page() as new_tab:
        link.click()
    tab = new_tab.value
    page.close()
    return tab


def _log_in_if_asked(tab) -> bool:
    tab.wait_for_load_state()
    if "/hub/login" not in tab.url:
        return False
    tab.fill("#username_input", STUDENT)
    tab.fill("#password_input", _hub.PASSWORD)
    tab.click("#login_submit")
    return True


def _menu(tab, menu: str, item: str):
    tab.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    tab.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def _open_and_run_all(tab, hub, docname: str) -> dict:
    """Wait for JupyterLab with the page's notebook, run every cell, save; returns the saved
    notebook (read from the student's home)."""
    name = docname.rsplit("/", 1)[-1] + ".ipynb"
    tab.wait_for_url(re.compile(rf"/user/{STUDENT}/lab/tree/.*{re.escape(name)}$"), timeout=240_000)
    current = tab.locator(".jp-mod-current .lm-TabBar-tabLabel", has_text=name)
    current.first.wait_for(timeout=120_000)
    saved = next((hub.homes / STUDENT).rglob(f"book/{name}"))
    n_cells = len(json.loads(saved.read_text(encoding="utf-8"))["cells"])
    tab.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length === n",
        arg=n_cells, timeout=120_000)
    tab.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
                          timeout=120_000)
    # the page's notebook gets the focus, as a student's click in it gives (the menus act on
    # the notebook focused last, and JupyterLab reopens the earlier page's notebook beside it)
    tab.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .jp-InputPrompt").first.click()
    _menu(tab, "Edit", "Clear Outputs of All Cells")
    _menu(tab, "Run", "Run All Cells")
    prompts = ("() => Array.from(document.querySelectorAll("
               "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')).map(p => p.textContent.trim())")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        shown = [p for p in tab.evaluate(prompts) if p]  # a cell with its input folded shows none
        if shown and all(re.fullmatch(r"\[\d+\]:", p) for p in shown):
            break
        time.sleep(1)
    else:
        errors = tab.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        pytest.fail(f"{name}: not every cell ran within 300 s; prompts {shown}; stderr shown: {errors[-3:]}")
    before = saved.stat().st_mtime_ns
    tab.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while saved.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.2)
    return json.loads(saved.read_text(encoding="utf-8"))


def _assert_ran_clean(nb: dict, name: str):
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}: not every cell ran once, in order: {counts}"
    raised = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(code) for o in c["outputs"]
              if o["output_type"] == "error" and "raises-exception" not in c["metadata"].get("tags", [])]
    assert raised == [], f"{name}: cells raised: {raised}"


def test_the_lesson_opens_from_its_page_and_every_cell_runs(student, site, hub):
    lesson = _page_for("lesson")
    tab = _launch_from_the_site(student, site, lesson.docname)
    try:
        assert _log_in_if_asked(tab), f"a student not logged in was not sent to the login page: {tab.url}"
        nb = _open_and_run_all(tab, hub, lesson.docname)
        _assert_ran_clean(nb, lesson.docname)
    finally:
        tab.close()


def test_the_starter_opens_and_its_self_check_cell_reports(student, site, hub):
    starter = _page_for("starter")
    tab = _launch_from_the_site(student, site, starter.docname)
    try:
        _log_in_if_asked(tab)  # logged in already when the lesson test ran first
        nb = _open_and_run_all(tab, hub, starter.docname)
        _assert_ran_clean(nb, starter.docname)
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        report_cell = max((i for i, c in enumerate(code) if len(CHECK_CALL.findall("".join(c["source"]))) >= 2),
                          default=None)
        assert report_cell is not None, "the starter has no cell running the self-checks together"
        calls = CHECK_CALL.findall("".join(code[report_cell]["source"]))
        text = "".join("".join(o.get("text", "")) for o in code[report_cell]["outputs"] if o["output_type"] == "stream")
        lines = text.strip().splitlines()
        # one verdict per check; the untouched starter has nothing written yet, so all fail
        assert len(lines) == len(calls) and all(re.match(r"FAIL\b", line) for line in lines), text
        on_screen = tab.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(report_cell) \
            .locator(".jp-OutputArea").inner_text()
        assert [line.strip() for line in on_screen.strip().splitlines()] == lines
    finally:
        tab.close()
