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
from collections import namedtuple
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pybtex.plugin
import pytest
from docutils import nodes
from docutils.utils import new_document
from pybtex.database import parse_string
from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import site_fixes  # noqa: E402


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


class Config(SimpleNamespace):
    """Sphinx's config: values as attributes and by key."""

    def __getitem__(self, key):
        return getattr(self, key)


def fake_app(branch="colab", colab_url="https://colab.research.google.com", metadata=None):
    config = Config(course_colab_branch=branch,
                    html_theme_options={"launch_buttons": {"colab_url": colab_url}})
    return SimpleNamespace(config=config, env=SimpleNamespace(metadata=metadata or {}))


def fix_page(context, app=None, pagename="book/lesson", doctree=None):
    site_fixes._fix_page(app or fake_app(), pagename, "page.html", context, doctree)
    return context


# --------------------------------------------------------------- fix 1: duplicate scripts
def test_dedupe_keeps_the_first_copy_of_each_asset_in_order(warnings):
    # What the builder hands over on every page: sphinx-thebe's inline script once from the
    # builder (filename None) and once re-added from the registry (filename '').
    thebe = _JavaScript(None, body="const THEBE_JS_URL = 'x'")
    a, b = _JavaScript("a.js"), _JavaScript("b.js", defer="defer")
    scripts = [thebe, a, _JavaScript("", body="const THEBE_JS_URL = 'x'"), b,
               _JavaScript("a.js")]
    css = [_CascadingStyleSheet("x.css"), _CascadingStyleSheet("y.css"),
           _CascadingStyleSheet("x.css")]
    context = fix_page({"script_files": scripts, "css_files": css})
    assert [id(s) for s in context["script_files"]] == [id(thebe), id(a), id(b)]
    assert [c.filename for c in context["css_files"]] == ["x.css", "y.css"]
    assert context["css_files"][0] is css[0]
    assert len(scripts) == 5, "the builder's own list must not be changed"
    assert warnings == []


def test_dedupe_keeps_distinct_inline_scripts_and_attributes(warnings):
    scripts = [_JavaScript(None, body="const A = 1"), _JavaScript(None, body="const B = 2"),
               _JavaScript("c.js", priority=200), _JavaScript("d.js", async_="async")]
    assert fix_page({"script_files": list(scripts)})["script_files"] == scripts
    assert warnings == []


def test_duplicates_the_fix_no_longer_recognises_are_a_warning(warnings):
    # Copies that differ in priority are not merged (the order would change) but still load
    # the same script twice: the fix's target moved.
    scripts = [_JavaScript(None, body="const THEBE_JS_URL = 'x'"),
               _JavaScript("", body="const THEBE_JS_URL = 'x'", priority=501)]
    context = fix_page({"script_files": scripts})
    assert len(context["script_files"]) == 2
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "fix 1, duplicate scripts" in message and "THEBE_JS_URL" in message
    assert "still listed twice" in message and location == "book/lesson"


def test_an_asset_of_unknown_shape_is_a_warning(warnings):
    fix_page({"script_files": [_JavaScript("a.js"), {"src": "b.js"}]})
    assert len(warnings) == 1
    assert "fix 1" in warnings.text() and "unexpected type dict" in warnings.text()


# ----------------------------------------------------------- fix 2: citation list roles
def doctree_with_citations(n: int):
    document = new_document("page")
    for _ in range(n):
        document += nodes.citation()
    return document


CITATION_LIST = ('<div role="list" class="citation-list">\n'
                 '<div class="citation" id="id1" role="doc-biblioentry">A</div>\n'
                 '<div class="citation" id="id2" role="doc-biblioentry">B</div>\n</div>')


def test_citation_entries_become_list_items(warnings):
    context = fix_page({"body": "<p>x</p>" + CITATION_LIST}, doctree=doctree_with_citations(2))
    assert context["body"] == "<p>x</p>" + CITATION_LIST.replace(
        'role="doc-biblioentry"', 'role="listitem"')
    assert warnings == []


def test_a_page_without_citations_is_left_alone(warnings):
    body = "<p>No references here; role=&quot;doc-biblioentry&quot; in a code block.</p>"
    assert fix_page({"body": body}, doctree=doctree_with_citations(0))["body"] == body
    assert fix_page({"body": body}, doctree=None)["body"] == body
    assert warnings == []


def test_citations_without_the_old_role_are_a_warning(warnings):
    # As if docutils wrote <div class="citation" role="doc-bibentry"> one day.
    body = CITATION_LIST.replace("doc-biblioentry", "doc-bibentry")
    context = fix_page({"body": body}, pagename="book/lesson-plan",
                       doctree=doctree_with_citations(2))
    assert context["body"] == body
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "fix 2, citation list roles" in message
    assert "2 citation(s)" in message and "has 0" in message
    assert location == "book/lesson-plan"


# ------------------------------------------------------------------ fix 4: Colab button
THEME_COLAB_URL = ("https://colab.research.google.com/github/org/repo/blob/main/"
                   "book/lesson.md")
BINDER_URL = "https://mybinder.org/v2/gh/org/repo/main?urlpath=lab/tree/book/lesson.md"


def launch_buttons(colab_url=THEME_COLAB_URL):
    buttons = [{"type": "link", "text": "Binder", "url": BINDER_URL}]
    if colab_url:
        buttons.append({"type": "link", "text": "Colab", "url": colab_url})
    buttons.append({"type": "javascript", "text": "Live Code"})
    return [{"type": "group", "label": "source-buttons", "buttons": []},
            {"type": "group", "label": "launch-buttons", "buttons": buttons}]


NOTEBOOK = {"book/lesson": {"kernelspec": {"name": "python3"}}}


def colab_urls(context):
    return [b["url"] for g in context["header_buttons"] for b in g["buttons"]
            if b["text"] == "Colab"]


def test_colab_opens_the_notebook_on_the_colab_branch(warnings):
    context = fix_page({"header_buttons": launch_buttons()}, fake_app(metadata=NOTEBOOK))
    assert colab_urls(context) == [
        "https://colab.research.google.com/github/org/repo/blob/colab/book/lesson.ipynb"]
    assert context["header_buttons"][1]["buttons"][0]["url"] == BINDER_URL
    assert warnings == []


def test_colab_link_is_kept_when_no_branch_is_set(warnings):
    context = fix_page({"header_buttons": launch_buttons()},
                       fake_app(branch="", metadata=NOTEBOOK))
    assert colab_urls(context) == [THEME_COLAB_URL]
    assert warnings == []


def test_a_prose_page_without_launch_buttons_is_left_alone(warnings):
    context = fix_page({"header_buttons": launch_buttons(colab_url=None)[:1]},
                       fake_app(metadata={"book/lesson": {}}))
    assert colab_urls(context) == []
    assert warnings == []


def test_a_notebook_page_without_a_colab_button_is_a_warning(warnings):
    # As if the theme renamed the button ("Open in Colab") or stopped adding it.
    fix_page({"header_buttons": launch_buttons(colab_url=None)}, fake_app(metadata=NOTEBOOK))
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "fix 4, Colab button" in message and "no header button with text 'Colab'" in message
    assert "'Binder', 'Live Code'" in message and location == "book/lesson"


def test_no_colab_url_configured_means_no_colab_button_expected(warnings):
    fix_page({"header_buttons": launch_buttons(colab_url=None)},
             fake_app(colab_url="", metadata=NOTEBOOK))
    assert warnings == []


def test_a_colab_url_of_another_form_is_a_warning(warnings):
    url = "https://colab.research.google.com/github/org/repo/tree/main/book/lesson.md"
    context = fix_page({"header_buttons": launch_buttons(colab_url=url)},
                       fake_app(metadata=NOTEBOOK))
    assert colab_urls(context) == [url]
    assert len(warnings) == 1 and "fix 4" in warnings.text() and url in warnings.text()


def test_the_installed_theme_and_the_books_config_give_a_colab_link_the_fix_rewrites(
        tmp_path, warnings):
    """sphinx-book-theme's own launch buttons, from the book's _config.yml."""
    from jupyter_book.config import get_final_config
    from sphinx_book_theme.header_buttons.launch import add_launch_buttons

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT,
                                 cli_config={"latex_individualpages": False})
    options = config["html_theme_options"]
    assert config["course_colab_branch"], "_config.yml sets no course_colab_branch"
    user, repo = options["repository_url"].split("github.com/")[1].split("/")[:2]
    # The theme copies the executed notebook of a .md page next to the HTML.
    (tmp_path / "jupyter_execute" / "book").mkdir(parents=True)
    (tmp_path / "jupyter_execute" / "book" / "lesson.ipynb").write_text("{}")
    app = SimpleNamespace(
        config=Config(course_colab_branch=config["course_colab_branch"],
                      html_theme_options=options),
        env=SimpleNamespace(metadata=NOTEBOOK,
                            doc2path=lambda name: str(tmp_path / f"{name}.md")),
        outdir=str(tmp_path / "html"))
    context = {"pagename": "book/lesson", "sourcename": "book/lesson.md", "header_buttons": [],
               "github_url": "https://github.com", "github_user": user, "github_repo": repo}
    add_launch_buttons(app, "book/lesson", "page.html", context, None)
    assert colab_urls(context), "the theme no longer adds a button with text 'Colab'"
    fix_page(context, app)
    prefix = (options["launch_buttons"]["colab_url"].rstrip("/")
              + f"/github/{user}/{repo}/blob/{config['course_colab_branch']}/")
    path = options.get("path_to_docs", "").strip("/")
    assert colab_urls(context) == [prefix + (f"{path}/" if path else "") + "book/lesson.ipynb"]
    assert warnings == []


# ------------------------------------------------------------- fix 3: stale bibliography
Key = namedtuple("Key", "docname id")


def fake_env(bibliographies, citation_refs=()):
    domain = SimpleNamespace(bibliographies=bibliographies, citation_refs=list(citation_refs))
    return SimpleNamespace(get_domain=lambda name: {"cite": domain}[name])


def outdated(env, read=(), removed=()):
    """What the extension adds to Sphinx's pages to write, after one read phase."""
    app = SimpleNamespace()
    assert site_fixes._note_outdated(app, env, set(), set(read), set(removed)) == []
    site_fixes._note_read(app, env, list(read))
    return site_fixes._bibliography_pages(app, env)


def test_bibliography_pages_are_rewritten_whenever_a_page_was_read_or_removed(warnings):
    env = fake_env({Key("book/lesson-plan", "b1"): None, Key("book/extra", "b2"): None,
                    Key("book/lesson-plan", "b3"): None}, citation_refs=["ref"])
    assert outdated(env, read=["book/lesson"]) == ["book/extra", "book/lesson-plan"]
    assert outdated(env, removed=["book/old"]) == ["book/extra", "book/lesson-plan"]
    assert outdated(env) == []
    assert warnings == []


def test_a_book_without_references_needs_nothing(warnings):
    assert outdated(fake_env({}), read=["book/lesson"]) == []
    assert warnings == []


@pytest.mark.parametrize("env, expected", [
    (fake_env(None), "no 'bibliographies' mapping"),
    (fake_env({("book/lesson-plan", "b1"): None}), "has no 'docname'"),
    (fake_env({}, citation_refs=["ref"]), "records no bibliography"),
], ids=["domain-changed", "key-changed", "bibliographies-moved"])
def test_a_changed_cite_domain_is_a_warning(env, expected, warnings):
    assert outdated(env, read=["book/lesson"]) == []
    assert len(warnings) == 1
    assert "fix 3, stale bibliography" in warnings.text() and expected in warnings.text()


# ------------------------------------------------------------- fix 5: citation styles
BIB = r"""
@article{rumelhart1986, author = {Rumelhart, David E. and Hinton, Geoffrey E. and
  Williams, Ronald J.}, title = {Learning representations by back-propagating errors},
  journal = {Nature}, year = {1986}}
@book{nielsen2015, author = {Nielsen, Michael}, title = {Neural Networks and Deep Learning},
  publisher = {Determination Press}, year = {2015}}
@inproceedings{glorot2010, author = {Glorot, Xavier and Bengio, Yoshua},
  title = {Understanding the difficulty of training deep feedforward neural networks},
  booktitle = {AISTATS}, year = {2010}}
@misc{pytorch2026a, author = {{PyTorch Contributors}}, title = {torch.nn}, year = {2026a}}
"""


def test_bibliography_labels_read_like_the_citations_and_sort_by_author():
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "author_year_labels")()
    entries = parse_string(BIB, "bibtex").entries.values()
    labels = [entry.label for entry in style.format_entries(entries)]
    assert labels == ["Glorot & Bengio 2010", "Nielsen 2015", "PyTorch Contributors 2026a",
                      "Rumelhart et al. 1986"]


@pytest.mark.parametrize("role, expected", [("p", "(Rumelhart et al., 1986)"),
                                            ("t", "Rumelhart et al. (1986)")])
def test_citations_in_the_text_use_round_brackets(role, expected):
    from pybtex_docutils import Backend
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    entry = parse_string(BIB, "bibtex").entries["rumelhart1986"]
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "author_year_labels")()
    formatted = next(iter(style.format_entries([entry])))
    builder = SimpleNamespace(name="html", get_relative_uri=lambda a, b: "bib.html")
    info = SphinxReferenceInfo(builder, "index", "bib", "id1", None, "", "")
    reference_style = site_fixes.RoundAuthorYearReferenceStyle()
    text = format_references(reference_style, role, [(entry, formatted, info)])
    assert "".join(n.astext() for n in text.render(Backend())) == expected


# ------------------------------------------------- real: a tiny Sphinx project, built twice
def build(src: Path, out: Path) -> str:
    """One (incremental) HTML build of src into out; returns its warnings."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    warning = StringIO()
    with docutils_namespace():
        app = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html",
                     status=None, warning=warning)
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
        'extensions = ["sphinxcontrib.bibtex", "site_fixes"]\n'
        'bibtex_bibfiles = ["refs.bib"]\n'
        'bibtex_reference_style = "author_year_round"\n'
        'bibtex_default_style = "author_year_labels"\n', encoding="utf-8")
    (src / "refs.bib").write_text(BIB, encoding="utf-8")
    (src / "index.rst").write_text(
        "Index\n=====\n\nSee :cite:p:`rumelhart1986` and :cite:t:`nielsen2015`.\n\n"
        ".. toctree::\n\n   other\n   bib\n", encoding="utf-8")
    (src / "other.rst").write_text("Other\n=====\n\nNothing cited yet.\n", encoding="utf-8")
    (src / "bib.rst").write_text("Bib\n===\n\n.. bibliography::\n", encoding="utf-8")
    return SimpleNamespace(src=src, out=tmp_path / "out", html=tmp_path / "out" / "html")


def test_real_build_citations_roles_and_an_incremental_bibliography(project):
    assert build(project.src, project.out) == ""
    index, bib = text_of(project.html / "index.html"), project.html / "bib.html"
    assert "See (Rumelhart et al., 1986) and Nielsen (2015)." in index
    assert re.search(r"\[Nielsen 2015\].*\[Rumelhart et al\. 1986\]", text_of(bib), re.S)
    assert "Glorot" not in text_of(bib)
    markup = bib.read_text(encoding="utf-8")
    assert 'role="doc-biblioentry"' not in markup and markup.count('role="listitem"') == 2

    # A new citation on another page: only other.rst is re-read, yet the bibliography
    # page must list the new work, and the new citation must link to its entry.
    touch_later(project.src / "other.rst",
                "Other\n=====\n\nSee :cite:p:`glorot2010`.\n")
    assert build(project.src, project.out) == ""
    other = (project.html / "other.html").read_text(encoding="utf-8")
    assert "(Glorot and Bengio, 2010)" in text_of(project.html / "other.html")
    anchor = re.search(r'href="bib\.html#([^"]+)"', other).group(1)
    markup = bib.read_text(encoding="utf-8")
    assert re.search(rf'id="{anchor}"[^>]*>.*?Glorot & Bengio 2010', html.unescape(markup),
                     re.S)
    assert markup.count('role="listitem"') == 3
