"""The notebooks students get: ``_sources/<page>.ipynb`` for every executable page.

One notebook per page serves the download button, Colab, Binder and a course's JupyterHub
(the deploy workflow pushes them to the notebooks branch). It is the page as the build ran
it, outputs included, and it reads as the site does, with no MyST source left in it:

* glue roles become their values, read from myst-nb's ``<page>.glue.json``;
* ``{doc}``, ``{ref}`` and ``{numref}`` become links to the published site
  (``html.baseurl``), citations links to its bibliography;
* dropdowns become ``<details>`` (closed, as on the site), admonitions block quotes,
  ``literalinclude`` the code it includes, figures images on the site;
* cells tagged ``remove-cell`` (the build's bookkeeping) are left out, and the outputs
  a page folds (``hide-output``, ``remove-output``: the Part B results, the self-check's
  answers) are folded in JupyterLab
  (``jupyter.outputs_hidden``) under a note that says so, and a folded cell with its own
  label on the site (``mystnb.code_prompt_show``) comes with that label as a note;
* a first cell installs ``labcode`` from this commit where it is missing (Colab);
* a cell's outputs of one stream are one output (myst-nb's ``coalesce_streams``: the
  kernel's chunking of a cell's prints varies from run to run).

Each launch button of a notebook page opens that notebook. sphinx-book-theme points Binder,
JupyterHub and Colab at the page's ``.md`` source (jupyter-book/jupyter-book#752, open):
Colab cannot open it at all, and Jupyter shows its MyST markup raw. With
``course_notebooks_branch`` set, each launch opens ``<page>.ipynb`` on that branch instead,
where the deploy workflow pushes these notebooks; a configured launch the theme did not add,
or whose URL has another form, is a warning.

Markup this does not know is left in place and named in a Sphinx warning, which fails the
``-W`` build. myst-nb reads a page with random cell ids (nbformat's ``new_*_cell``); here
they are numbered in page order, so two builds write the same bytes.
Tests: tests/test_book_student_notebooks.py.
"""

import json
import re
import subprocess
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from myst_nb.core.utils import coalesce_streams
from myst_nb.core.variables import format_plain_text
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralInclude, LiteralIncludeReader
from sphinx.util import logging

logger = logging.getLogger(__name__)
ROLE = re.compile(r"\{(glue:text|glue:md|glue|doc|ref|numref|cite:p|cite:t)\}`([^`]*)`")
FENCE = re.compile(
    r"^(:::+|```+)\{([\w:-]+)\}[ \t]*([^\n]*)\n((?::[\w-]+:[^\n]*\n)*)(.*?)^\1[ \t]*$", re.M | re.S
)
LEFTOVER = re.compile(r"\{[\w:-]+\}`|^(:::|```)\{|^\([\w-]+\)=$", re.M)
ADMONITIONS = {"important", "tip", "note", "warning", "hint", "seealso", "admonition"}
#: The folds a cell's tags ask for, as JupyterLab's cell metadata.
FOLDED = {
    "hide-input": "source_hidden",
    "hide-output": "outputs_hidden",
    "remove-output": "outputs_hidden",
}
#: Each launch: its _config.yml key, where its URL names the branch and the page, and the URL
#: of the page's notebook on the notebooks branch.
LAUNCHES = {
    "Binder": (
        "binderhub_url",
        r"(/v2/gh/[^/]+/[^/]+/)[^?]+(\?urlpath=[^&]*?)\.md$",
        r"\g<1>{}\g<2>.ipynb",
    ),
    "JupyterHub": (
        "jupyterhub_url",
        r"(urlpath=[^&]*?)\.md(&branch=)[^&]+$",
        r"\g<1>.ipynb\g<2>{}",
    ),
    "Colab": ("colab_url", r"(/blob/)[^/]+(/[^?]*?)\.md$", r"\g<1>{}\g<2>.ipynb"),
}


class _Page:
    """What converting one page's Markdown needs to know about the build."""

    def __init__(self, app: Sphinx, docname: str) -> None:
        self.app, self.env, self.docname = app, app.env, docname
        self.site = (app.config.html_baseurl or "").rstrip("/") + "/"
        glue = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.glue.json"
        self.glue = json.loads(glue.read_text(encoding="utf-8")) if glue.is_file() else {}
        # sphinxcontrib-bibtex's citations: each entry's label and its bibliography's page
        self.cited = {c.key: c for c in self.env.get_domain("cite").citations}

    def url(self, docname: str, anchor: str = "") -> str:
        return f"{self.site}{docname}.html" + (f"#{anchor}" if anchor else "")

    def glued(self, kind: str, text: str) -> str:
        key, _, spec = text.partition(":")
        data = self.glue[key]["data"]
        if kind == "glue:md":
            return data["text/markdown"]
        return format_plain_text(data["text/plain"], spec)  # as myst-nb formats it on the site

    def role(self, match: re.Match) -> str:
        kind, text = match.groups()
        if kind.startswith("glue"):
            return self.glued(kind, text)
        title, target = (
            re.fullmatch(r"(.*?)\s*<(.+)>", text) or re.fullmatch(r"()(.+)", text)
        ).groups()
        if kind == "doc":
            docname = str(Path(self.docname).parent / target).removesuffix(".md")
            return f"[{title or self.env.titles[docname].astext()}]({self.url(docname)})"
        if kind.startswith("cite"):  # (Rumelhart et al. 1986), or Rumelhart et al. (1986)
            cited = [self.cited[key.strip()] for key in text.split(",")]
            labels = [c.formatted_entry.label for c in cited]
            shown = (
                f"({'; '.join(labels)})"
                if kind == "cite:p"
                else "; ".join(re.sub(r" (\S+)$", r" (\1)", label) for label in labels)
            )
            return f"[{shown}]({self.url(cited[0].bibliography_key.docname)})"
        docname, anchor, section = self.env.domaindata["std"]["labels"].get(target, ("", "", ""))
        if not docname:
            docname, anchor = self.env.domaindata["std"]["anonlabels"][target]
        return f"[{title or section or 'this figure'}]({self.url(docname, anchor)})"

    def fence(self, match: re.Match) -> str:
        _, name, argument, options, body = match.groups()
        options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", options, re.M))
        body = self.markdown(body.strip("\n"))
        if name == "dropdown":
            return (
                f"<details>\n<summary>{self.markdown(argument)}</summary>\n\n{body}\n\n</details>"
            )
        if name in ADMONITIONS:
            title = argument if name == "admonition" else name.capitalize()
            return "\n".join(
                f"> {line}".rstrip() for line in [f"**{title}**", "", *body.splitlines()]
            )
        if name == "literalinclude":  # the options as the directive reads them, then its reader
            path = Path(self.env.srcdir, Path(self.docname).parent, argument).resolve()
            options = {k: LiteralInclude.option_spec[k](v or None) for k, v in options.items()}
            code, _ = LiteralIncludeReader(str(path), options, self.app.config).read()
            return f"```{options.get('language', 'python')}\n{code.rstrip()}\n```"
        if name == "figure":
            return f"![{options.get('alt', '')}]({self.site}book/{argument})\n\n*{body}*"
        if name == "glue:md":
            return self.glued("glue:md", argument)
        if name == "glue:figure":  # the figure itself, in the cell
            png = self.glue[argument]["data"]["image/png"]
            return f"![{options.get('alt', '')}](data:image/png;base64,{png})\n\n*{body}*"
        return match.group(0)

    def markdown(self, text: str) -> str:
        text = re.sub(r"^\([\w-]+\)=\n", "", text, flags=re.M)  # targets: the site has them
        return ROLE.sub(self.role, FENCE.sub(self.fence, text))


def notebook(app: Sphinx, docname: str, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    page, cells = _Page(app, docname), []
    for cell in executed.cells:
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            cell.source = page.markdown(cell.source)
            if leftover := LEFTOVER.search(cell.source):
                logger.warning(
                    f"student_notebooks: MyST markup left in a cell of {docname}: "
                    f"{leftover.group(0)!r}",
                    location=docname,
                )
        elif cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
        if folded := {FOLDED[t]: True for t in tags if t in FOLDED}:
            cell.metadata["jupyter"] = folded
        prompt, note = cell.metadata.get("mystnb", {}).get("code_prompt_show"), ""
        if "remove-output" in tags:  # what the site folds away (Part B's results) stays folded
            note = "The output of the next cell is folded: open it after you have predicted"
        elif prompt and "hide-input" in tags:  # a folded cell's label on the site, as its note
            note = f"The next cell is folded: {prompt.format(type='source')}"
        elif prompt and "hide-output" in tags:  # an answer's output, folded as on the site
            note = f"The output of the next cell is folded: {prompt.format(type='output')}"
        if note:
            cells.append(nbformat.v4.new_markdown_cell(f"*{note}.*"))
        cells.append(cell)
    repo, ref = app.config.html_theme_options.get("repository_url", ""), _commit(app)
    setup = nbformat.v4.new_code_cell(
        "# Colab, or a Jupyter without labcode: install the course's package first\n"
        "import importlib.util, subprocess, sys\n"
        'if importlib.util.find_spec("labcode") is None:\n'
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "labcode @ git+{repo}@{ref}"],\n'
        "                   check=True)"
    )
    intro = f"*[{app.env.titles[docname].astext()}]({page.url(docname)}), a page of the course book, as a notebook.*"
    executed.cells = [nbformat.v4.new_markdown_cell(intro), setup, *cells]
    for index, cell in enumerate(executed.cells):
        cell["id"] = f"cell-{index}"
    executed.metadata.pop("jupytext", None)
    return executed


def _commit(app: Sphinx) -> str:
    """The commit the book is built from (labcode is installed at it), else the branch."""
    run = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=app.srcdir, capture_output=True, text=True
    )
    return (
        run.stdout.strip()
        if run.returncode == 0
        else app.config.html_theme_options.get("repository_branch", "main")
    )


def _write(app: Sphinx, exception: Exception | None) -> None:
    """Each download the theme offers, ``_sources/<page>.ipynb``, becomes the students'
    notebook, made from myst-nb's executed ``jupyter_execute/<page>.ipynb``."""
    if exception is not None or app.builder.format != "html":
        return
    build = Path(app.outdir).parent
    for path in sorted(Path(app.outdir, "_sources").rglob("*.ipynb")):
        docname = path.relative_to(Path(app.outdir, "_sources")).with_suffix("").as_posix()
        if NbMetadataCollector.get_exec_data(app.env, docname) is None:
            path.unlink()  # left by an earlier build of a page that is gone or has no code now
            continue
        # A page whose execution failed is left as it is: the build fails, and its warning
        # and report say why.
        if not (Path(app.outdir) / "reports" / f"{docname}.err.log").is_file():
            executed = nbformat.read(build / "jupyter_execute" / f"{docname}.ipynb", as_version=4)
            if (build / ".jupyter_cache").is_dir():
                # The outputs as the cache holds them, which is how the kernel produced them: a
                # page taken from the cache is written to jupyter_execute without some or all
                # of its outputs (MyST-NB#617), so reading only that, two builds would differ.
                executed = get_cache(build / ".jupyter_cache").merge_match_into_notebook(executed)[
                    1
                ]
            nbformat.write(notebook(app, docname, executed), path)


def _launch_notebooks(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Each launch button of a notebook page opens ``<page>.ipynb`` on the notebooks branch."""
    branch, options = app.config.course_notebooks_branch, app.config.html_theme_options
    if not branch or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # no notebooks branch, or a prose page: the theme adds no launch buttons
    buttons = {
        b.get("text"): b
        for g in context.get("header_buttons", [])
        if isinstance(g, dict)
        for b in g.get("buttons", [])
        if isinstance(b, dict)
    }
    for text, (key, pattern, template) in LAUNCHES.items():
        url = str(buttons.get(text, {}).get("url"))
        new, found = re.subn(pattern, template.format(branch), url)
        if found:
            buttons[text]["url"] = new
        elif options.get("launch_buttons", {}).get(key):
            logger.warning(
                f"student_notebooks (launch buttons): the {text} launch is missing or its URL "
                f"{url!r} has another form: the theme changed its launch buttons "
                "[book/_ext/student_notebooks.py]",
                location=pagename,
                type="student_notebooks",
            )


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_notebooks_branch", "", "html", types=[str])
    app.connect("build-finished", _write)
    # Late priority: after the theme has added its launch buttons.
    app.connect("html-page-context", _launch_notebooks, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
