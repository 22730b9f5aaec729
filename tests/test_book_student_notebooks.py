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

SITE = "https://example.org/course/"
BIB = "@book{nielsen2015, author = {Nielsen, Michael}, title = {NN}, year = {2015}}\n"
Key = namedtuple("Key", "docname id")  # sphinxcontrib-bibtex's bibliography key
PNG = base64.b64encode(b"\x89PNG fake").decode()


@pytest.fixture
def app(tmp_path, monkeypatch):
    (tmp_path / "refs.bib").write_text(BIB)
    (tmp_path / "labcode.py").write_text("def f(x):\n    return x\n\n\ndef g():\n    pass\n")
    execute = tmp_path / "_build" / "jupyter_execute" / "book"
    execute.mkdir(parents=True)
    glue = {
        "acc": {"data": {"text/plain": "0.9985"}},
        "name": {"data": {"text/plain": "'MLP'"}},
        "n": {"data": {"text/plain": "np.float64(2.5)"}},
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
        get_domain=lambda name: SimpleNamespace(bibliographies={Key("book/plan", "id"): None}),
    )
    config = SimpleNamespace(
        html_baseurl=SITE,
        bibtex_bibfiles=["refs.bib"],
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
        (
            "a string {glue:text}`name`, a numpy float {glue:text}`n:.1f`",
            "a string MLP, a numpy float 2.5",
        ),
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
            nbformat.v4.new_code_cell("x = 1"),
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


def test_markup_it_does_not_know_is_a_warning(app, monkeypatch):
    warned = []
    monkeypatch.setattr(student_notebooks.logger, "warning", lambda m, **k: warned.append(m))
    executed = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("```{math}\nx\n```\nand {term}`word`")]
    )
    student_notebooks.notebook(app, "book/page", executed)
    assert len(warned) == 1 and "MyST markup left" in warned[0]


def test_consecutive_prints_of_one_stream_are_one_output():
    outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("stream", name="stderr", text="w\n"),
        nbformat.v4.new_output("stream", name="stdout", text="c\n"),
    ]
    merged = student_notebooks._merge_streams(outputs)
    assert [(o["name"], o["text"]) for o in merged] == [
        ("stdout", "a\nb\n"),
        ("stderr", "w\n"),
        ("stdout", "c\n"),
    ]
