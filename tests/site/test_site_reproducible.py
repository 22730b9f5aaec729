"""The built pages carry nothing of the machine that built them (`pytest -m site`).

Two builds of the same commit must show the same pages; a traceback or a warning that
prints a path of the build machine (its checkout, its virtual environment) would make
the site differ from one folder to another and publish that machine's layout.
"""

from __future__ import annotations

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
