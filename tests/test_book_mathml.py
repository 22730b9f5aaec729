"""Build-time MathML (book/_ext/mathml.py): every formula of the book converts, cleanly."""

import re
import sys
from pathlib import Path

import jupytext
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import mathml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def formulas() -> list[tuple[str, str, bool]]:
    """(page, TeX, display) for every formula in the pages' Markdown, code left out."""
    found = []
    for page in sorted((REPO / "book").glob("*.md")):
        cells = jupytext.read(page, fmt="md:myst").cells
        text = CODE.sub("", "\n".join(c.source for c in cells if c.cell_type == "markdown"))
        found += [(page.name, m.group(1), True) for m in DISPLAY.finditer(text)]
        found += [(page.name, m.group(1), False) for m in INLINE.finditer(DISPLAY.sub("", text))]
    return found


FORMULAS = formulas()


def test_the_book_has_formulas_to_convert():
    assert sum(d for _, _, d in FORMULAS) >= 10 and sum(not d for _, _, d in FORMULAS) >= 100


@pytest.mark.parametrize(
    "page, tex, display", FORMULAS, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(FORMULAS)]
)
def test_every_formula_converts_without_leftover_tex(page, tex, display):
    out = mathml.to_mathml(tex, display)
    assert out.startswith("<math") and f'display="{"block" if display else "inline"}"' in out


def test_aligned_rows_become_a_table_not_one_line():
    out = mathml.to_mathml(r"\begin{aligned} a &= b, \\ c &= d \end{aligned}", True)
    assert out.count("<mtr") == 2 and "<mi>&amp;</mi>" not in out and "<mi>&</mi>" not in out


@pytest.mark.parametrize(
    "tex, left", [(r"\foo x", r"\foo"), (r"\begin{gathered} a \\ b \end{gathered}", "linebreak")]
)
def test_what_latex2mathml_does_not_know_is_an_error(tex, left):
    with pytest.raises(ValueError, match=re.escape(left)):
        mathml.to_mathml(tex, True)
