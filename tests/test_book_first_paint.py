"""One stylesheet and lazy images (book/_ext/first_paint.py)."""

import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import first_paint  # noqa: E402


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
    context = {"css_files": [pygments, "_static/styles/sphinx-book-theme.css"]}
    first_paint._write(app, None)  # no page written yet: nothing to write
    assert not (static / first_paint.BUNDLE).exists()
    first_paint._one_stylesheet(app, "book/lesson", "page.html", context, None)
    assert context["css_files"] == ["_static/styles/book.css"]
    first_paint._write(app, None)
    assert (static / first_paint.BUNDLE).read_text().split("\n")[1:] == ["a{}", "b{}", "c{}", "d{}"]


def test_every_image_of_a_page_loads_lazily():
    doc = new_document("page")
    doc += [nodes.image(uri="a.png"), nodes.figure("", nodes.image(uri="b.png"))]
    first_paint._lazy_images(None, doc, "page")
    assert [img["loading"] for img in doc.findall(nodes.image)] == ["lazy", "lazy"]
