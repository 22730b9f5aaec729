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


class Config(SimpleNamespace):
    """Sphinx's config: values as attributes and by key."""

    def __getitem__(self, key):
        return getattr(self, key)


def fake_app(metadata=None):
    config = Config(course_notebooks_branch="", html_theme_options={"launch_buttons": {}})
    return SimpleNamespace(config=config, env=SimpleNamespace(metadata=metadata or {}))


def fix_page(context, app=None, pagename="book/lesson", doctree=None):
    site_fixes._fix_page(app or fake_app(), pagename, "page.html", context, doctree)
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


def sphinx_js_tag(js, *args):
    """Sphinx's js_tag for a file (a path) or an inline script (attributes in a dict)."""
    if isinstance(js, dict):
        return f"<script{js.get('attrs', '')}>{js['body']}</script>"
    return f'<script src="{js}"></script>'


def test_script_files_are_deferred_except_inline_async_and_documentation_options(warnings):
    context = fix_page({"js_tag": sphinx_js_tag, "script_files": ["x"]})
    tag = context["js_tag"]
    assert tag("_static/doctools.js") == '<script defer src="_static/doctools.js"></script>'
    assert tag("_static/documentation_options.js") == (
        '<script src="_static/documentation_options.js"></script>'
    )
    assert tag({"body": "var a = 1;"}) == "<script>var a = 1;</script>"
    assert tag({"attrs": ' async="async" src="m.js"', "body": ""}) == (
        '<script async="async" src="m.js"></script>'
    )
    assert not warnings


def test_the_search_page_keeps_sphinxs_script_order(warnings):
    context = fix_page({"js_tag": sphinx_js_tag}, pagename="search")
    assert context["js_tag"] is sphinx_js_tag


def test_a_page_context_without_js_tag_is_a_warning(warnings):
    fix_page({"script_files": ["_static/doctools.js"]})
    assert "no js_tag" in warnings.text()


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


# ----------------------------------------------------- fix 2: launches open the notebooks
THEME_URLS = {  # what sphinx-book-theme writes for book/lesson.md on branch main
    "Binder": "https://mybinder.org/v2/gh/org/repo/main?urlpath=lab/tree/book/lesson.md",
    "JupyterHub": (
        "https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2F"
        "github.com%2Forg%2Frepo&urlpath=lab/tree/repo/book/lesson.md&branch=main"
    ),
    "Colab": "https://colab.research.google.com/github/org/repo/blob/main/book/lesson.md",
}
NOTEBOOK_URLS = {
    "Binder": "https://mybinder.org/v2/gh/org/repo/notebooks?urlpath=lab/tree/book/lesson.ipynb",
    "JupyterHub": (
        "https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2F"
        "github.com%2Forg%2Frepo&urlpath=lab/tree/repo/book/lesson.ipynb&branch=notebooks"
    ),
    "Colab": "https://colab.research.google.com/github/org/repo/blob/notebooks/book/lesson.ipynb",
}
LAUNCH_KEYS = {"Binder": "binderhub_url", "JupyterHub": "jupyterhub_url", "Colab": "colab_url"}


def launch_buttons(urls=THEME_URLS):
    buttons = [{"type": "link", "text": text, "url": url} for text, url in urls.items()]
    return [
        {"type": "group", "label": "source-buttons", "buttons": []},
        {"type": "group", "label": "launch-buttons", "buttons": buttons},
    ]


def launch_app(branch="notebooks", launches=tuple(THEME_URLS), metadata=None):
    options = {"launch_buttons": {LAUNCH_KEYS[t]: "https://configured" for t in launches}}
    return SimpleNamespace(
        config=Config(course_notebooks_branch=branch, html_theme_options=options),
        env=SimpleNamespace(metadata=NOTEBOOK if metadata is None else metadata),
    )


NOTEBOOK = {"book/lesson": {"kernelspec": {"name": "python3"}}}


def urls(context):
    return {b["text"]: b["url"] for g in context["header_buttons"] for b in g["buttons"]}


def test_every_launch_opens_the_notebook_on_the_notebooks_branch(warnings):
    context = fix_page({"header_buttons": launch_buttons()}, launch_app())
    assert urls(context) == NOTEBOOK_URLS
    assert warnings == []


def test_launches_are_kept_when_no_branch_is_set(warnings):
    context = fix_page({"header_buttons": launch_buttons()}, launch_app(branch=""))
    assert urls(context) == THEME_URLS and warnings == []


def test_a_prose_page_without_launch_buttons_is_left_alone(warnings):
    context = fix_page({"header_buttons": launch_buttons({})}, launch_app(metadata={}))
    assert urls(context) == {} and warnings == []


@pytest.mark.parametrize("missing", list(THEME_URLS))
def test_a_configured_launch_the_theme_did_not_add_is_a_warning(missing, warnings):
    # As if the theme renamed the button ("Open in Colab") or stopped adding it.
    present = {t: u for t, u in THEME_URLS.items() if t != missing}
    fix_page({"header_buttons": launch_buttons(present)}, launch_app())
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "launch buttons" in message and f"the {missing} launch" in message
    assert location == "book/lesson"


def test_a_launch_that_is_not_configured_is_not_expected(warnings):
    context = fix_page(
        {"header_buttons": launch_buttons({"Colab": THEME_URLS["Colab"]})},
        launch_app(launches=("Colab",)),
    )
    assert urls(context) == {"Colab": NOTEBOOK_URLS["Colab"]} and warnings == []


def test_a_launch_url_of_another_form_is_a_warning(warnings):
    url = "https://colab.research.google.com/github/org/repo/tree/main/book/lesson.md"
    context = fix_page(
        {"header_buttons": launch_buttons({**THEME_URLS, "Colab": url})}, launch_app()
    )
    assert urls(context)["Colab"] == url
    assert len(warnings) == 1 and url in warnings.text()


def test_the_installed_theme_and_the_books_config_give_launches_the_fix_rewrites(
    tmp_path, warnings
):
    """sphinx-book-theme's own launch buttons, from the book's _config.yml."""
    from jupyter_book.config import get_final_config
    from sphinx_book_theme.header_buttons.launch import add_launch_buttons

    config, _ = get_final_config(
        user_yaml=ROOT / "_config.yml", sourcedir=ROOT, cli_config={"latex_individualpages": False}
    )
    options = config["html_theme_options"]
    branch = config["course_notebooks_branch"]
    assert branch, "_config.yml sets no course_notebooks_branch"
    user, repo = options["repository_url"].split("github.com/")[1].split("/")[:2]
    # The theme copies the executed notebook of a .md page next to the HTML.
    (tmp_path / "jupyter_execute" / "book").mkdir(parents=True)
    (tmp_path / "jupyter_execute" / "book" / "lesson.ipynb").write_text("{}")
    app = SimpleNamespace(
        config=Config(course_notebooks_branch=branch, html_theme_options=options),
        env=SimpleNamespace(metadata=NOTEBOOK, doc2path=lambda name: str(tmp_path / f"{name}.md")),
        outdir=str(tmp_path / "html"),
    )
    context = {
        "pagename": "book/lesson",
        "sourcename": "book/lesson.md",
        "header_buttons": [],
        "github_url": "https://github.com",
        "github_user": user,
        "github_repo": repo,
    }
    options = {
        **options,
        "launch_buttons": {
            **options["launch_buttons"],
            "jupyterhub_url": "https://hub.example.edu",
        },
    }
    app.config.html_theme_options = options
    add_launch_buttons(app, "book/lesson", "page.html", context, None)
    fix_page(context, app)
    assert warnings == []
    launched = urls(context)
    assert launched["Colab"] == (
        f"{options['launch_buttons']['colab_url'].rstrip('/')}/github/"
        f"{user}/{repo}/blob/{branch}/book/lesson.ipynb"
    )
    assert launched["Binder"].endswith(
        f"/{user}/{repo}/{branch}?urlpath=lab/tree/book/lesson.ipynb"
    )
    assert launched["JupyterHub"].endswith(f"/book/lesson.ipynb&branch={branch}")


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
