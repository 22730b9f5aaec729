"""The students' notebooks (book/_ext/student_notebooks.py): a page's MyST becomes what the
site shows, in plain Jupyter Markdown; the build's own cells never reach a student.

Unit tests run the converter on a fake build (glue values, labels, titles, a bibliography);
tests/site/test_site_notebooks.py checks the notebooks of the real build.
"""

from __future__ import annotations

import base64
import json
import sys
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import student_notebooks  # noqa: E402
from test_book_site_fixes import Warnings  # noqa: E402

SITE = "https://example.org/course/"
Key = namedtuple("Key", "docname id")  # sphinxcontrib-bibtex's bibliography key
#: sphinxcontrib-bibtex's record of a cited entry: its label, and the page that lists it.
CITED = SimpleNamespace(
    key="nielsen2015",
    formatted_entry=SimpleNamespace(label="Nielsen 2015"),
    bibliography_key=Key("book/plan", "id"),
)
PNG = base64.b64encode(b"\x89PNG fake").decode()


@pytest.fixture
def app(tmp_path, monkeypatch):
    (tmp_path / "labcode.py").write_text("def f(x):\n    return x\n\n\ndef g():\n    pass\n")
    execute = tmp_path / "_build" / "jupyter_execute" / "book"
    execute.mkdir(parents=True)
    glue = {
        "acc": {"data": {"text/plain": "0.9985"}},
        "name": {"data": {"text/plain": "'MLP'"}},
        "n": {"data": {"text/plain": "2.5"}},
        "eq": {"data": {"text/markdown": "$x^2$", "text/plain": "<Markdown>"}},
        "fig": {"data": {"image/png": PNG}},
    }
    (execute / "page.glue.json").write_text(json.dumps(glue))
    labels = {
        "lab-run": ("book/lab", "lab-run", "How to run it"),
        "fig-a": ("book/page", "fig-a", ""),
    }
    env = SimpleNamespace(
        srcdir=str(tmp_path),
        titles={
            "book/lab": SimpleNamespace(astext=lambda: "Homework lab"),
            "book/page": SimpleNamespace(astext=lambda: "Page"),
        },
        domaindata={"std": {"labels": labels, "anonlabels": {}}},
        get_domain=lambda name: SimpleNamespace(citations=[CITED]),
    )
    config = SimpleNamespace(
        html_baseurl=SITE,
        html_theme_options={"repository_url": "https://github.com/o/r"},
        source_encoding="utf-8",
        highlight_language="python",
    )
    monkeypatch.setattr(student_notebooks, "_commit", lambda app: "abc123")
    return SimpleNamespace(
        env=env, config=config, outdir=str(tmp_path / "_build" / "html"), srcdir=str(tmp_path)
    )


def convert(app, text: str) -> str:
    return student_notebooks._Page(app, "book/page").markdown(text)


@pytest.mark.parametrize(
    "myst, plain",
    [
        ("accuracy {glue:text}`acc:.2%`", "accuracy 99.85%"),
        ("a string {glue:text}`name`, a float {glue:text}`n:.2f`", "a string MLP, a float 2.50"),
        ("math {glue:md}`eq:myst`", "math $x^2$"),
        ("see {doc}`lab`", f"see [Homework lab]({SITE}book/lab.html)"),
        ("see {doc}`the lab <lab>`", f"see [the lab]({SITE}book/lab.html)"),
        ("see {ref}`lab-run`", f"see [How to run it]({SITE}book/lab.html#lab-run)"),
        ("see {ref}`here <lab-run>`", f"see [here]({SITE}book/lab.html#lab-run)"),
        ("{numref}`fig-a` shows", f"[this figure]({SITE}book/page.html#fig-a) shows"),
        ("as in {cite:p}`nielsen2015`", f"as in [(Nielsen 2015)]({SITE}book/plan.html)"),
        ("{cite:t}`nielsen2015` shows", f"[Nielsen (2015)]({SITE}book/plan.html) shows"),
        ("(a-target)=\n# Title", "# Title"),
    ],
)
def test_roles_and_targets_become_what_the_site_shows(app, myst, plain):
    assert convert(app, myst) == plain


def test_a_dropdown_is_a_closed_details_element(app):
    text = (
        ":::{dropdown} Reveal: the {glue:text}`acc:.0%` answer\n:name: reveal\n\nIt is **B**.\n:::"
    )
    assert convert(app, text) == (
        "<details>\n<summary>Reveal: the 100% answer</summary>\n\nIt is **B**.\n\n</details>"
    )


def test_admonitions_are_block_quotes_with_their_title(app):
    assert (
        convert(app, ":::{important}\nDo it **first**.\n\nThen this.\n:::")
        == "> **Important**\n>\n> Do it **first**.\n>\n> Then this."
    )
    assert (
        convert(app, "```{admonition} Predict first\n:class: tip\nWrite it down.\n```")
        == "> **Predict first**\n>\n> Write it down."
    )


def test_literalinclude_becomes_the_code_it_includes(app):
    text = "```{literalinclude} ../labcode.py\n:pyobject: g\n:language: python\n```"
    assert convert(app, text) == "```python\ndef g():\n    pass\n```"


def test_figures_become_images_with_their_caption(app):
    glued = convert(app, "```{glue:figure} fig\n:alt: A plot\n:name: f\n\nThe caption.\n```")
    assert glued == f"![A plot](data:image/png;base64,{PNG})\n\n*The caption.*"
    static = convert(
        app, "```{figure} _static/g.svg\n:alt: A graph\n:width: 360px\n\nIts caption.\n```"
    )
    assert static == f"![A graph]({SITE}book/_static/g.svg)\n\n*Its caption.*"


def test_the_notebook_drops_build_cells_folds_spoilers_and_installs_labcode(app):
    executed = nbformat.v4.new_notebook(
        metadata={"jupytext": {"x": 1}},
        cells=[
            nbformat.v4.new_markdown_cell("Hello {ref}`lab-run`"),
            nbformat.v4.new_code_cell(
                "from myst_nb import glue", metadata={"tags": ["remove-cell"]}
            ),
            nbformat.v4.new_code_cell(
                "probe()", metadata={"tags": ["hide-input", "remove-output"]}
            ),
            nbformat.v4.new_code_cell(
                "guess = 1",
                metadata={
                    "tags": ["hide-input"],
                    "mystnb": {"code_prompt_show": "My guess (open after yours)"},
                },
            ),
            nbformat.v4.new_code_cell(
                "answer()",
                metadata={
                    "tags": ["hide-output"],
                    "mystnb": {"code_prompt_show": "The answer (open after yours)"},
                },
            ),
            nbformat.v4.new_code_cell(
                "print(1); print(2)",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text="1\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="2\n"),
                ],
            ),
        ],
    )
    notebook = student_notebooks.notebook(app, "book/page", executed)
    sources = [c.source for c in notebook.cells]
    assert not any("myst_nb" in s for s in sources)  # the build's cells are gone
    assert "labcode @ git+https://github.com/o/r@abc123" in sources[1]  # installs this commit
    assert sources[2] == f"Hello [How to run it]({SITE}book/lab.html#lab-run)"
    folded = next(c for c in notebook.cells if c.source == "probe()")
    assert folded.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert "folded" in sources[sources.index("probe()") - 1]  # and says so
    labelled = sources.index("guess = 1")
    assert notebook.cells[labelled].metadata["jupyter"] == {"source_hidden": True}
    assert sources[labelled - 1] == "*The next cell is folded: My guess (open after yours).*"
    answer = sources.index("answer()")
    assert notebook.cells[answer].metadata["jupyter"] == {"outputs_hidden": True}
    assert sources[answer - 1] == (
        "*The output of the next cell is folded: The answer (open after yours).*"
    )
    assert [c["id"] for c in notebook.cells] == [f"cell-{i}" for i in range(len(sources))]
    assert "jupytext" not in notebook.metadata
    printed = notebook.cells[-1].outputs  # one output, however the kernel chunked the prints
    assert [(o["name"], o["text"]) for o in printed] == [("stdout", "1\n2\n")]


def test_markup_it_does_not_know_is_a_warning(app, monkeypatch):
    warned = []
    monkeypatch.setattr(student_notebooks.logger, "warning", lambda m, **k: warned.append(m))
    executed = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("```{math}\nx\n```\nand {term}`word`")]
    )
    student_notebooks.notebook(app, "book/page", executed)
    assert len(warned) == 1 and "MyST markup left" in warned[0]


class Config(SimpleNamespace):
    """Sphinx's config: values as attributes and by key."""

    def __getitem__(self, key):
        return getattr(self, key)


@pytest.fixture
def warnings(monkeypatch):
    recorder = Warnings()
    monkeypatch.setattr(student_notebooks, "logger", recorder)
    return recorder


def launch(context, app):
    student_notebooks._launch_notebooks(app, "book/lesson", "page.html", context, None)
    return context


# ------------------------------------------------ the launches open the notebooks
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
    context = launch({"header_buttons": launch_buttons()}, launch_app())
    assert urls(context) == NOTEBOOK_URLS
    assert warnings == []


def test_launches_are_kept_when_no_branch_is_set(warnings):
    context = launch({"header_buttons": launch_buttons()}, launch_app(branch=""))
    assert urls(context) == THEME_URLS and warnings == []


def test_a_prose_page_without_launch_buttons_is_left_alone(warnings):
    context = launch({"header_buttons": launch_buttons({})}, launch_app(metadata={}))
    assert urls(context) == {} and warnings == []


@pytest.mark.parametrize("missing", list(THEME_URLS))
def test_a_configured_launch_the_theme_did_not_add_is_a_warning(missing, warnings):
    # As if the theme renamed the button ("Open in Colab") or stopped adding it.
    present = {t: u for t, u in THEME_URLS.items() if t != missing}
    launch({"header_buttons": launch_buttons(present)}, launch_app())
    assert len(warnings) == 1
    message, location = warnings[0]
    assert "launch buttons" in message and f"the {missing} launch" in message
    assert location == "book/lesson"


def test_a_launch_that_is_not_configured_is_not_expected(warnings):
    context = launch(
        {"header_buttons": launch_buttons({"Colab": THEME_URLS["Colab"]})},
        launch_app(launches=("Colab",)),
    )
    assert urls(context) == {"Colab": NOTEBOOK_URLS["Colab"]} and warnings == []


def test_a_launch_url_of_another_form_is_a_warning(warnings):
    url = "https://colab.research.google.com/github/org/repo/tree/main/book/lesson.md"
    context = launch({"header_buttons": launch_buttons({**THEME_URLS, "Colab": url})}, launch_app())
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
    launch(context, app)
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
