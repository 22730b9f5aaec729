"""What a phone waits for (book/_ext/first_paint.py): one stylesheet, deferred scripts, lazy
images with their sizes, preloaded fonts."""

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import first_paint  # noqa: E402
from test_book_site_fixes import Warnings  # noqa: E402


@pytest.fixture
def warnings(monkeypatch):
    recorder = Warnings()
    monkeypatch.setattr(first_paint, "logger", recorder)
    return recorder


def page(context, pagename="book/lesson"):
    context.setdefault("css_files", [])
    first_paint._page(
        SimpleNamespace(builder=SimpleNamespace()), pagename, "page.html", context, None
    )
    return context


def test_joined_keeps_the_order_and_rewrites_relative_urls_for_the_bundle_folder(tmp_path):
    (tmp_path / "styles").mkdir()
    (tmp_path / "basic.css").write_text('@charset "UTF-8";\na { background: url(file.png) }')
    (tmp_path / "styles" / "theme.css").write_text(
        "@font-face { src: url(../vendor/fa.woff2) }\n"
        "b { background: url(\"data:image/svg+xml;x='1'\") }\n/*# sourceMappingURL=t.css.map */"
    )
    (tmp_path / "math.css").write_text("@font-face { src: url('fonts/m.woff') } c { x: url(/abs) }")
    css = first_paint.joined(tmp_path, ["basic.css", "styles/theme.css", "math.css"])
    assert css.count("@charset") == 1 and css.startswith('@charset "UTF-8";')
    assert "sourceMappingURL" not in css
    assert css.index("file.png") < css.index("fa.woff2") < css.index("m.woff")
    # every relative url() is now relative to _static/styles/, where the bundle lives
    assert "url(../file.png)" in css and "url(../vendor/fa.woff2)" in css
    assert "url('../fonts/m.woff')" in css
    assert "url(\"data:image/svg+xml;x='1'\")" in css and "url(/abs)" in css  # left alone


def test_each_page_links_only_the_bundle_and_the_build_writes_the_files_it_replaced(tmp_path):
    static = tmp_path / "_static"
    (static / "styles").mkdir(parents=True)
    for name, rule in [
        ("basic.css", "a{}"), ("styles/pydata-sphinx-theme.css", "b{}"), ("pygments.css", "c{}"),
        ("styles/sphinx-book-theme.css", "d{}"),
    ]:  # fmt: skip
        (static / name).write_text(rule)
    app = SimpleNamespace(builder=SimpleNamespace(), outdir=str(tmp_path))
    pygments = SimpleNamespace(
        filename="_static/pygments.css?v=1"
    )  # Sphinx's form, and a plain one
    context = {"css_files": [pygments, "_static/styles/sphinx-book-theme.css"], "js_tag": str}
    first_paint._write(app, None)  # no page written yet: nothing to write
    assert not (static / first_paint.BUNDLE).exists()
    first_paint._page(app, "book/lesson", "page.html", context, None)
    assert context["css_files"] == ["_static/styles/book.css"]
    first_paint._write(app, None)
    assert (static / first_paint.BUNDLE).read_text().split("\n")[1:] == ["a{}", "b{}", "c{}", "d{}"]


def sphinx_js_tag(js, *args):
    """Sphinx's js_tag for a file (a path) or an inline script (attributes in a dict)."""
    if isinstance(js, dict):
        return f"<script{js.get('attrs', '')}>{js['body']}</script>"
    return f'<script src="{js}"></script>'


def test_script_files_are_deferred_except_inline_async_and_documentation_options(warnings):
    context = page({"js_tag": sphinx_js_tag, "script_files": ["x"]})
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
    context = page({"js_tag": sphinx_js_tag}, pagename="search")
    assert context["js_tag"] is sphinx_js_tag


def test_a_page_context_without_js_tag_is_a_warning(warnings):
    page({"script_files": ["_static/doctools.js"]})
    assert "no js_tag" in warnings.text()


def test_each_image_of_the_page_loads_lazily_with_its_files_intrinsic_size(tmp_path):
    import struct
    import zlib

    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 240)
    (tmp_path / "plot.png").write_bytes(png + b"\x08\x02\x00\x00\x00" + zlib.compress(b""))
    (tmp_path / "graph.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 430 560.4">'
    )
    (tmp_path / "notes.txt").write_text("not an image")
    images = {"plot.png": "plot.png", "figs/graph.svg": "graph.svg", "notes.txt": "notes.txt"}
    (tmp_path / "figs").mkdir()
    (tmp_path / "graph.svg").rename(tmp_path / "figs" / "graph.svg")
    app = SimpleNamespace(srcdir=str(tmp_path), builder=SimpleNamespace(images=images))
    body = (
        '<img alt="a" src="../_images/plot.png" />'
        '<img alt="b" src="../_images/graph.svg" style="width: 360px;" />'
        '<img alt="c" src="../_images/notes.txt" />'
        '<img loading="eager" alt="d" src="../_images/plot.png" />'
        '<img alt="e" src="../_static/images/logo.svg" />'
    )
    assert first_paint._images(app, body) == (
        '<img loading="lazy" width="640" height="240" alt="a" src="../_images/plot.png" />'
        '<img loading="lazy" width="430" height="560" alt="b" src="../_images/graph.svg" '
        'style="width: 360px;" />'
        '<img loading="lazy" alt="c" src="../_images/notes.txt" />'  # not PNG or SVG: no size
        '<img loading="eager" alt="d" src="../_images/plot.png" />'  # its loading is set already
        '<img alt="e" src="../_static/images/logo.svg" />'  # the theme's, not the page's
    )


def test_the_fonts_of_the_first_screen_are_preloaded_the_math_font_where_there_is_math():
    def pathto(name, resource):
        return f"../{name}"

    app = SimpleNamespace(builder=SimpleNamespace(images={}), srcdir=".")
    tags = {}
    for body in ["<p>No formula.</p>", "<p><math><mi>x</mi></math></p>"]:
        context = {
            "css_files": [],
            "js_tag": str,
            "body": body,
            "pathto": pathto,
            "metatags": "<meta />",
        }
        first_paint._page(app, "book/lesson", "page.html", context, None)
        assert context["metatags"].startswith("<meta />")
        tags[body] = re.findall(
            r'<link rel="preload" href="([^"]+)" as="font" type="font/(\w+)" crossorigin />',
            context["metatags"],
        )
    icons = [(f"../_static/{f}", "woff2") for f in first_paint.ICON_FONTS]
    assert tags["<p>No formula.</p>"] == icons
    assert tags["<p><math><mi>x</mi></math></p>"] == icons + [
        ("../_static/fonts/STIXTwoMath-Regular.woff", "woff")
    ]
