"""What a phone waits for before it shows a page: one stylesheet, no script, no image below.

A phone on a slow network (Lighthouse's mobile preset: 150 ms round trips, 1.6 Mbit/s)
shows no text until every stylesheet in ``<head>`` has arrived, and it fetches every image
the page names as soon as it parses it (benchmarks/site_speed.py measures both):

* The theme links styles/theme.css (an ``@import`` of basic.css, a second round trip) and
  its own CSS, and the extensions add eight more files: eleven render-blocking requests.
  Each page links one, ``_static/styles/book.css``: the same files in the same order,
  joined at the end of the build with their relative ``url()``\\ s rewritten for its
  folder. book/_templates/static/webpack-macros.html no longer writes the theme's two links.
* The fonts the first screen draws with (the math font, on a page with formulas, and the
  theme's solid and brand icons) are preloaded: otherwise the browser asks for them only
  after the stylesheet, they arrive after the first layout, and the header's icons and the
  formulas change width when they do (Lighthouse's layout shift, 0.06 to 0.09).
* Sphinx and the extensions add their scripts to ``<head>`` without ``defer``, so a phone
  waits for each before it shows any text. Every script file but
  ``documentation_options.js`` (the theme's inline scripts set its fields at once) is
  deferred, through Sphinx's ``js_tag`` template helper: it still runs before
  DOMContentLoaded, in order. The theme's three search scripts are deferred in
  book/_templates/layout.html. The search page keeps Sphinx's order: its searchtools.js
  runs at once and needs doctools.js.
* The pages' images (figures, cell outputs) load lazily: the browser fetches one when it
  nears the screen, so those further down no longer share the network with the first paint.
  Each ``<img>`` gets its file's ``width`` and ``height`` (PNG header, SVG ``viewBox``), and
  book/_static/phone.css sets ``height: auto``: the browser keeps the image's place from the
  first layout, so one in the first screen does not push the text down when it arrives.

A page context without ``js_tag`` is a warning (a failed ``-W`` build): Sphinx changed.
Tests: tests/test_book_first_paint.py; tests/site (no failed request, every image loads).
"""

import os
import re
import struct
from pathlib import Path

import fonts
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

BUNDLE = "styles/book.css"  # in _static
#: Preloaded fonts, in _static: the math font fonts.py writes, and the theme's icon fonts.
MATH_FONT = f"fonts/{fonts.MATH_FONT.name}"
ICON_FONTS = [
    "vendor/fontawesome/webfonts/fa-solid-900.woff2",
    "vendor/fontawesome/webfonts/fa-brands-400.woff2",
]
#: What webpack-macros.html linked: theme.css imports basic.css, then the theme's CSS.
THEME = ["basic.css", "styles/pydata-sphinx-theme.css"]
URL = re.compile(r"""url\((["']?)(?![a-z]+:|/|#)([^"')]+)\1\)""")
DROP = re.compile(r'@charset "[^"]*";|/\*# sourceMappingURL=[^*]*\*/')
IMAGE = re.compile(r'<img (?![^>]*\bloading=)[^>]*?\bsrc="[^"]*?_images/([^"/]+)"')
VIEWBOX = re.compile(rb'viewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)[ ,]+([\d.]+)"')
#: A script file's tag that would block: not async or deferred already, and not
#: documentation_options.js (the theme's inline scripts read its fields at once).
BLOCKING = re.compile(
    r"<script (?=[^>]*\bsrc=)(?![^>]*(\basync\b|\bdefer\b|documentation_options\.js))"
)


def joined(static: Path, files: list[str]) -> str:
    """The CSS ``files`` (paths in ``static``) as one file at ``static / BUNDLE``."""
    parts = ['@charset "UTF-8";']
    for name in files:
        rel = os.path.relpath(static / Path(name).parent, static / Path(BUNDLE).parent)
        prefix = "" if rel == "." else f"{Path(rel).as_posix()}/"
        css = DROP.sub("", (static / name).read_text(encoding="utf-8"))
        parts.append(URL.sub(rf"url(\1{prefix}\2\1)", css))
    return "\n".join(parts)


def size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` of a PNG or SVG image file, in pixels; None for another kind."""
    data = path.read_bytes()[:4096]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return struct.unpack(">II", data[16:24])
    box = VIEWBOX.search(data)
    return (round(float(box[1])), round(float(box[2]))) if box else None


def _images(app: Sphinx, body: str) -> str:
    """``body`` with each of the page's images lazy, with its intrinsic width and height."""
    files = {name: Path(app.srcdir, source) for source, name in app.builder.images.items()}

    def tag(img: re.Match) -> str:
        wh = size(files[img[1]]) if img[1] in files else None
        sized = f'width="{wh[0]}" height="{wh[1]}" ' if wh else ""
        return img[0].replace("<img ", f'<img loading="lazy" {sized}', 1)

    return IMAGE.sub(tag, body)


def _page(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    names = [getattr(css, "filename", css).split("?")[0] for css in context["css_files"]]
    app.builder.first_paint_css = THEME + [n.removeprefix("_static/") for n in names]
    context["css_files"] = [f"_static/{BUNDLE}"]
    if isinstance(context.get("body"), str):
        context["body"] = _images(app, context["body"])
        preload = ICON_FONTS + [MATH_FONT] * ("<math" in context["body"])
        context["metatags"] = context.get("metatags", "") + "".join(
            f'\n<link rel="preload" href="{context["pathto"](f"_static/{font}", 1)}" as="font" '
            f'type="font/{font.rsplit(".", 1)[1]}" crossorigin />'
            for font in preload
        )
    if pagename == "search":  # Sphinx's search page runs searchtools.js at once, on doctools.js
        return
    if "js_tag" not in context:
        logger.warning(
            "first_paint: the page context has no js_tag: Sphinx changed", location=pagename
        )
        return
    js_tag = context["js_tag"]
    context["js_tag"] = lambda *args, **kw: BLOCKING.sub("<script defer ", js_tag(*args, **kw), 1)


def _write(app: Sphinx, exception: Exception | None) -> None:
    files = getattr(app.builder, "first_paint_css", None)
    if exception is None and files:  # None: no page was written, the bundle stands
        static = Path(app.outdir, "_static")
        (static / BUNDLE).write_text(joined(static, files), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _page)
    # after the theme's own build-finished step, which writes pygments.css (light and dark)
    app.connect("build-finished", _write, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
