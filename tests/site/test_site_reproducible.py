"""The built pages carry nothing of the machine that built them (`pytest -m site`).

Two builds of the same commit must show the same pages; a traceback or a warning that
prints a path of the build machine (its checkout, its virtual environment) would make
the site differ from one folder to another and publish that machine's layout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import _sitetools as st

pytestmark = pytest.mark.site


def _machine_paths() -> dict[str, str]:
    return {
        "the checkout": str(st.SITE_ROOT),
        "the Python environment": str(Path(sys.prefix).resolve()),
        "an installed package": "site-packages",
    }


def test_page_shows_no_path_of_the_build_machine(built_site, toc_page):
    html = toc_page.html.read_text(encoding="utf-8")
    found = {what: path for what, path in _machine_paths().items() if path in html}
    assert found == {}, f"{toc_page.docname} shows paths of the build machine: {found}"


#: Written into the site after the build, not by it (handout/make_handout.py).
AFTER_THE_BUILD = {"week03-handout.pdf"}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in AFTER_THE_BUILD}


def test_a_second_cold_build_shows_identical_pages(built_site, tmp_path):
    """Every number, printed table and figure comes from seeded code: a second cold build
    (empty execution cache, another folder) on the same machine writes the same bytes. The
    site under test must be a cold build too, as CI's is (an incremental build adds ?v=
    checksums to links of static files that the first build had not yet written)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run(
        [str(jupyter_book), "build", str(st.SITE_ROOT), "-W", "-n", "--keep-going",
         "--path-output", str(tmp_path)],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"the second build failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    first, second = _tree(built_site), _tree(tmp_path / "_build" / "html")
    assert sorted(first) == sorted(second), "the two builds wrote different files"
    differ = [name for name in first if first[name] != second[name]]
    assert differ == [], f"files that differ between two cold builds: {differ}"
