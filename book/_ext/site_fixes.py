"""Three fixes that make the stock Jupyter Book 1 HTML valid and accessible.

The citation style is citation_style.py's; the launch buttons, which open the students'
notebooks, are student_notebooks.py's; what a phone waits for, first_paint.py's.

1. Citation list roles. docutils writes a bibliography as ``<div role="list">`` whose
   entries carry ``role="doc-biblioentry"``, a role DPUB-ARIA 1.1 deprecated
   (w3c/dpub-aria#22); axe reports the critical ``aria-required-children`` (a list must own
   list items; dequelabs/axe-core#2759). The entries get ``role="listitem"``, which they are.

2. Valid code-cell toggles. myst-nb writes a folded cell's "Show code cell source" label as
   ``<p>`` inside ``<summary>``, which HTML does not allow (the Nu checker's error), and
   names the summary "Toggle hidden content", which is not what it shows (axe
   label-content-name-mismatch). The labels become ``<span>``s (book/_static/cell-toggle.css
   shows them as myst-nb's CSS shows its ``<p>``s) and the summary is named by its text.

3. A valid front door. sphinx-external-toc writes the site's ``index.html`` as a bare
   ``<meta>`` redirect to the root page, with no ``<title>`` (the Nu checker's error) and
   no link for a reader without redirects; it writes it only when there is none, so this
   writes a complete HTML page first.

Each fix warns (the build runs with ``-W``, so it fails) where it expected its target and
found none: after an upgrade changes the markup, it is a failed build, not a silent no-op.

Tests: tests/test_book_site_fixes.py.
"""

from html import escape
from pathlib import Path

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _warn(fix: str, message: str, pagename: str) -> None:
    logger.warning(
        f"site_fixes ({fix}): {message} [book/_ext/site_fixes.py]",
        location=pagename,
        type="site_fixes",
        subtype=fix.split()[0],
    )


OLD_ROLE, NEW_ROLE = 'role="doc-biblioentry"', 'role="listitem"'


def _fix_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    citations = sum(1 for _ in doctree.findall(nodes.citation)) if doctree is not None else 0
    if isinstance(body, str) and citations:
        if body.count(OLD_ROLE) != citations:
            _warn(
                "citation roles",
                f"the page lists {citations} citation(s) but its HTML has "
                f"{body.count(OLD_ROLE)} {OLD_ROLE}: docutils changed how it writes citations",
                pagename,
            )
        context["body"] = body.replace(OLD_ROLE, NEW_ROLE)


def _visit_hidden_cell(self, node) -> None:
    self.body.append(
        f'<details class="admonition hide {" ".join(node["classes"])}">\n<summary>\n'
        f'<span class="collapsed admonition-title">{escape(node["prompt_show"])}</span>\n'
        f'<span class="expanded admonition-title">{escape(node["prompt_hide"])}</span>\n'
        "</summary>\n"
    )


def _front_door(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    page, title = f"{app.config.root_doc}.html", escape(app.config.html_title or app.config.project)
    Path(app.outdir, "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
        f'<meta http-equiv="refresh" content="0; url={page}">\n</head>\n<body>\n'
        f'<p><a href="{page}">{title}</a></p>\n</body>\n</html>\n',
        encoding="utf-8",
    )


def setup(app: Sphinx) -> dict:
    app.add_node(
        HideCodeCellNode,
        override=True,
        html=(_visit_hidden_cell, lambda self, node: self.body.append("</details>\n")),
    )
    app.add_css_file("cell-toggle.css")
    app.connect("build-finished", _front_door, priority=400)  # before sphinx-external-toc's
    app.connect("html-page-context", _fix_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
