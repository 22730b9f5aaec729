"""Math as MathML, written into the HTML at build time (latex2mathml), instead of MathJax.

Every formula shows with JavaScript off, screen readers get MathML, a page pays nothing to
typeset on load, and the site loads no 1.3 MB math bundle. Browsers render MathML Core
natively (Chromium 109+, Firefox, Safari); book/_static/mathml.css gives it the STIX Two
Math font (SIL OFL), so it looks the same everywhere; book/_ext/fonts.py serves it cut down
to the glyphs the formulas use.

A formula latex2mathml cannot convert, or converts leaving a TeX command as text (a macro
it does not know), is a Sphinx warning, which fails the ``-W`` build: there is no
client-side fallback, because no formula of the book needs one.
Tests: tests/test_book_mathml.py; tests/site checks each formula's rendered size.
"""

import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
#: What latex2mathml leaves when it does not know a construct: a TeX command as text, an
#: alignment "&" as an identifier, a line break MathML Core does not render.
LEFT_OVER = re.compile(r">\s*(\\[A-Za-z]+|&amp;|&)\s*<|(linebreak=\"newline\")")
#: amsmath's aligned, which latex2mathml writes as one row, is split's layout: same columns.
ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")


def to_mathml(tex: str, display: bool) -> str:
    """``tex`` as a ``<math>`` element; raises ValueError if it does not convert cleanly."""
    try:
        mathml = convert(
            ALIGNED.sub(r"\\\1{split}", tex.strip()), display="block" if display else "inline"
        )
    except Exception as exc:  # latex2mathml raises its own errors, and KeyError and such
        raise ValueError(f"latex2mathml cannot convert it ({type(exc).__name__}: {exc})") from exc
    left = sorted({a or b for a, b in LEFT_OVER.findall(mathml)})
    if left:
        raise ValueError(f"latex2mathml leaves {', '.join(left)} unconverted")
    return mathml


def _append(self, node: nodes.Element, display: bool) -> None:
    try:
        mathml = to_mathml(node.astext(), display)
    except ValueError as exc:
        logger.warning(f"mathml: {exc}: {node.astext()!r}", location=node, type="mathml")
        mathml = f"<code>{self.encode(node.astext())}</code>"
    if display:
        anchor = node["ids"][0] if node.get("ids") else ""
        eqno = (
            f'<span class="eqno">({node["number"]})<a class="headerlink" href="#{anchor}" '
            'title="Link to this equation">#</a></span>'
            if node.get("number") and anchor
            else ""
        )
        ids = f' id="{anchor}"' if anchor else ""
        self.body.append(f'<div class="math notranslate nohighlight"{ids}>{eqno}{mathml}</div>\n')
    else:
        self.body.append(f'<span class="math notranslate nohighlight">{mathml}</span>')
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer(
        "mathml",
        (lambda self, node: _append(self, node, False), None),
        (lambda self, node: _append(self, node, True), None),
    )
    app.add_css_file("mathml.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
