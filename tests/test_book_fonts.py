"""The site's fonts cut to what its pages use (book/_ext/fonts.py)."""

import io
import sys
from pathlib import Path

from fontTools.ttLib import TTFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import fonts  # noqa: E402

CSS = (
    '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}.fa-rocket:before{content:"\\f135"}'
    '.fa-unused:before{content:"\\f000"}:root{--pst-icon-info:"\uf05a"}'
    '.dropdown:after{content:"\\f107";font:var(--fa-font-solid)}'
)


def test_icons_are_the_named_ones_and_the_themes_own():
    pages = ['<i class="fa-solid fa-bars"></i>', '<span class="fa fa-rocket fa-lg">']
    assert fonts.icon_codepoints(pages, CSS) == {0xF0C9, 0xF135, 0xF05A, 0xF107}
    assert fonts.icon_codepoints(['<i class="fa-navicon">'], CSS) == {0xF0C9, 0xF05A, 0xF107}


def test_math_text_is_what_the_formulas_show():
    page = '<p>x</p><math display="inline"><mi>∂</mi><mo>&#x0003D;</mo><mi>L</mi></math> y'
    assert sorted(fonts.math_text([page])) == sorted("∂=L")


def test_the_cut_math_font_has_the_glyphs_asked_for_and_its_math_table(tmp_path):
    wanted = {ord(c) for c in "∂∑=Lx"}
    out = tmp_path / "math.woff"
    fonts.cut(fonts.MATH_FONT, out, wanted, "woff")
    font = TTFont(io.BytesIO(out.read_bytes()))
    cmap = set(font.getBestCmap())
    assert wanted <= cmap and len(cmap) < 20
    assert "MATH" in font and out.stat().st_size < fonts.MATH_FONT.stat().st_size / 10


def test_a_cut_is_the_same_bytes_every_time(tmp_path):
    """Two builds write the same site: the font's timestamp is not the build's."""
    import time

    first, second = tmp_path / "1.woff", tmp_path / "2.woff"
    fonts.cut(fonts.MATH_FONT, first, {ord("x")}, "woff")
    time.sleep(1.1)  # head.modified counts seconds
    fonts.cut(fonts.MATH_FONT, second, {ord("x")}, "woff")
    assert first.read_bytes() == second.read_bytes()
