"""The book's HTML fixes (book/_ext/site_fixes.py): each fix does its job, and warns (which
fails the -W build) when the markup it fixes is no longer where it should be.

Unit tests use small fake inputs; the tests marked "real" run the installed Sphinx,
docutils, sphinxcontrib-bibtex and sphinx-book-theme on a tiny project (about a second), so
an upgrade that moves a fix's target fails here rather than in the browser tests.
"""

import html
import os
import re
import sys
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import site_fixes  # noqa: E402
from test_book_citation_style import BIB  # noqa: E402


class Warnings(list):
    """Stands in for site_fixes.logger: records each warning's message and location."""

    def warning(self, message, location=None, **kwargs):
        self.append((message, location))

    def text(self) -> str:
        return "\n".join(message for message, _ in self)


@pytest.fixture
def warnings(monkeypatch):
    recorder = Warnings()
    monkeypatch.setattr(site_fixes, "logger", recorder)
    return recorder


def fix_page(context, pagename="book/lesson", doctree=None):
    site_fixes._fix_page(None, pagename, "page.html", context, doctree)
    return context


def doctree_with_citations(n: int):
    document = new_document("page")
    for _ in range(n):
        document += nodes.citation()
    return document


CITATION_LIST = (
    '<div role="list" class="citation-list">\n'
    '<div class="citation" id="id1" role="doc-biblioentry">A</div>\n'
    '<div class="citation" id="id2" role="doc-biblioentry">B</div>\n</div>'
)


def test_citation_entries_become_list_items(warnings):
    context = fix_page({"body": "<p>x</p>" + CITATION_LIST}, doctree=doctree_with_citations(2))
    assert context["body"] == "<p>x</p>" + CITATION_LIST.replace(
        'role="doc-biblioentry"', 'role="listitem"'
    )
    assert warnings == []


def test_a_page_without_citations_is_left_alone(warnings):
    body = "<p>No references here; role=&quot;doc-biblioentry&quot; in a code block.</p>"
    assert fix_page({"body": body}, doctree=doctree_with_citations(0))["body"] == body
    assert fix_page({"body": body}, doctree=None)["body"] == body
    assert warnings == []


def test_citations_without_the_old_role_are_a_warning(warnings):
    # As if docutils wrote <div class="citation" role="doc-bibentry"> one day.
    body = CITATION_LIST.replace("doc-biblioentry", "doc-bibentry")
    context = fix_page(
        {"body": body}, pagename="book/lesson-plan", doctree=doctree_with_citations(2)
    )
    assert context["body"] == body
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "citation roles" in message
    assert "2 citation(s)" in message and "has 0" in message
    assert location == "book/lesson-plan"


# ------------------------------------------------------------- the citation style


# ------------------------------------------------- real: a tiny Sphinx project, built twice
def build(src: Path, out: Path) -> str:
    """One (incremental) HTML build of src into out; returns its warnings."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    warning = StringIO()
    with docutils_namespace():
        app = Sphinx(
            str(src),
            str(src),
            str(out / "html"),
            str(out / "doctrees"),
            "html",
            status=None,
            warning=warning,
        )
        app.build()
    return warning.getvalue()


def text_of(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def touch_later(path: Path, text: str) -> None:
    """Rewrite a source so that Sphinx sees it as changed, however coarse the clock."""
    mtime = path.stat().st_mtime
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime + 10, mtime + 10))


@pytest.fixture
def project(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        'extensions = ["sphinxcontrib.bibtex", "citation_style", "site_fixes"]\n'
        'bibtex_bibfiles = ["refs.bib"]\n'
        'bibtex_reference_style = "author_year_round"\n'
        'bibtex_default_style = "author_year_labels"\n',
        encoding="utf-8",
    )
    (src / "refs.bib").write_text(BIB, encoding="utf-8")
    (src / "index.rst").write_text(
        "Index\n=====\n\nSee :cite:p:`rumelhart1986` and :cite:t:`nielsen2015`.\n\n"
        ".. toctree::\n\n   other\n   bib\n",
        encoding="utf-8",
    )
    (src / "other.rst").write_text("Other\n=====\n\nNothing cited yet.\n", encoding="utf-8")
    (src / "bib.rst").write_text("Bib\n===\n\n.. bibliography::\n   :all:\n", encoding="utf-8")
    return SimpleNamespace(src=src, out=tmp_path / "out", html=tmp_path / "out" / "html")


def test_real_build_citations_roles_and_an_incremental_bibliography(project):
    assert build(project.src, project.out) == ""
    index, bib = text_of(project.html / "index.html"), project.html / "bib.html"
    assert "See (Rumelhart et al., 1986) and Nielsen (2015)." in index
    # The book lists every work of its .bib (:all:): no page's citations decide the list,
    # so an incremental build cannot leave it stale.
    assert re.search(
        r"\[Glorot & Bengio 2010\].*\[Nielsen 2015\].*\[Rumelhart et al\. 1986\]",
        text_of(bib),
        re.S,
    )
    markup = bib.read_text(encoding="utf-8")
    assert 'role="doc-biblioentry"' not in markup and markup.count('role="listitem"') == 4

    # A new citation on another page: only other.rst is re-read; it links to its entry.
    touch_later(project.src / "other.rst", "Other\n=====\n\nSee :cite:p:`glorot2010`.\n")
    assert build(project.src, project.out) == ""
    other = (project.html / "other.html").read_text(encoding="utf-8")
    assert "(Glorot and Bengio, 2010)" in text_of(project.html / "other.html")
    anchor = re.search(r'href="bib\.html#([^"]+)"', other).group(1)
    assert re.search(
        rf'id="{anchor}"[^>]*>.*?Glorot & Bengio 2010',
        html.unescape(bib.read_text(encoding="utf-8")),
        re.S,
    )
