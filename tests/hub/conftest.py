"""Fixtures for the hub suite (`pytest -m hub`, after the book is built): one real JupyterHub
for the session (tests/hub/_hub.py), its notebooks branch published by the course's own
publishing step, and Chromium for the student's path.

Set-up it needs: `npm ci --prefix tests/hub` (configurable-http-proxy) and a built book
(README command 1). The hub's environment (_build/tools/hub) is created here when missing.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "site"))

import _hub  # noqa: E402


@pytest.fixture(scope="session")
def built_notebooks() -> list[Path]:
    notebooks = sorted(_hub.NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        pytest.fail(f"no students' notebooks in {_hub.NOTEBOOKS}: build the book first (README command 1)")
    return notebooks


@pytest.fixture(scope="session")
def hub_venv() -> Path:
    return _hub.ensure_venv()


@pytest.fixture(scope="session")
def hub_port() -> int:
    """Chosen first: the fork's launch buttons point at it before the hub starts."""
    return _hub.free_port()


@pytest.fixture(scope="session")
def notebooks_remote(tmp_path_factory, built_notebooks) -> Path:
    """The notebooks branch, as the deploy workflow publishes it, in a local bare repository."""
    remote = _hub.bare_remote(tmp_path_factory.mktemp("remote") / "notebooks.git")
    _hub.publish(remote, _hub.notebooks_branch())
    return remote


@pytest.fixture(scope="session")
def hub(tmp_path_factory, hub_venv, notebooks_remote, hub_port):
    h = _hub.Hub(tmp_path_factory.mktemp("hub"), notebooks_remote, venv=hub_venv, port=hub_port)
    try:
        h.start()
        yield h
    finally:
        h.stop()
        assert h.leftovers() == [], "processes of the hub left running"


@pytest.fixture(scope="session")
def browser():
    import _sitetools as st
    from playwright.sync_api import sync_playwright

    if not Path(st.CHROMIUM).exists():
        pytest.fail(f"{st.CHROMIUM} is missing: run `bash .ci/install-chromium` (never `playwright install`)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=st.CHROMIUM, args=st.CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
