"""The site's fonts, cut down at the end of each build to the glyphs its pages use.

A phone on a slow network pays for every font byte before it draws the text that uses it:

* STIX Two Math (book/_fonts/, SIL OFL), the font of the build-time MathML: the glyphs of
  every formula the site shows, written to ``_static/fonts/`` (about 14 KB of 364 KB).
  fontTools' subsetter keeps the OpenType MATH table and the size variants it points to,
  so fractions, sums and stretchy brackets still lay out.
* the theme's Font Awesome webfonts (``_static/vendor/fontawesome/webfonts/*.woff2``,
  about 275 KB, ``font-display: block``): the icons the pages name (``fa-*`` classes in the
  HTML and the theme's scripts) and those the theme's CSS draws itself (admonition and
  dropdown icons), each file rewritten in place, a few KB each.

Made from what the same build wrote, so a new symbol or icon is in the font it serves.
Tests: tests/test_book_fonts.py; tests/site checks that the icons and formulas are drawn.
"""

import html
import io
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
MATH_FONT = Path(__file__).resolve().parents[1] / "_fonts" / "STIXTwoMath-Regular.woff"
MATH = re.compile(r"<math\b.*?</math>", re.S)
ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
ICON_RULE = re.compile(r'([^{}]*\.fa-[a-z0-9-]+:before[^{}]*)\{content:"\\(f[0-9a-f]+)"\}')
ICON_NAME = re.compile(r"\.fa-([a-z0-9-]+):before")
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]|\\(f[0-9a-f]{3})\b")


def math_text(pages: list[str]) -> str:
    """Every character inside a <math> element of the pages."""
    return "".join(
        html.unescape(re.sub(r"<[^>]+>", "", m)) for page in pages for m in MATH.findall(page)
    )


def icon_codepoints(texts: list[str], css: str) -> set[int]:
    """The Font Awesome code points the site draws: the fa-* classes the pages and scripts
    name, looked up in the theme's CSS, and those its CSS uses on its own."""
    rules = {
        name: point
        for selectors, point in ICON_RULE.findall(css)
        for name in ICON_NAME.findall(selectors)
    }  # grouped: .fa-bars:before,.fa-navicon:before
    named = {int(rules[n], 16) for text in texts for n in ICON_CLASS.findall(text) if n in rules}
    return named | {  # and those the CSS draws on its own
        int(m.group(1), 16) if m.group(1) else ord(m.group(0))
        for m in PRIVATE_USE.finditer(ICON_RULE.sub("", css))
    }


def cut(source: Path, target: Path, codepoints: set[int], flavor: str) -> None:
    options = subset.Options(flavor=flavor, layout_features=["*"], notdef_outline=True)
    # read whole (the target may be the source); keep head.modified, so two builds match
    font = TTFont(io.BytesIO(source.read_bytes()), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints | {ord(" ")})
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)


def _cut_fonts(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir, "_static")
    pages = [p.read_text(encoding="utf-8") for p in Path(app.outdir).rglob("*.html")]
    cut(MATH_FONT, static / "fonts" / MATH_FONT.name, {ord(c) for c in math_text(pages)}, "woff")
    css = "".join(p.read_text(encoding="utf-8") for p in (static / "styles").glob("*.css"))
    scripts = (static / "scripts").glob("*.js")
    icons = icon_codepoints(pages + [p.read_text("utf-8", "replace") for p in scripts], css)
    webfonts = sorted((static / "vendor" / "fontawesome" / "webfonts").glob("*.woff2"))
    if not icons or not webfonts:
        logger.warning(
            "fonts: no Font Awesome icons or webfonts found: the theme changed how "
            "it ships them [book/_ext/fonts.py]",
            type="fonts",
        )
        return
    for font in webfonts:
        cut(font, font, icons, "woff2")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _cut_fonts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
