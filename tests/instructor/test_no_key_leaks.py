"""Two audiences from one source: nothing of the instructor edition's key reaches a student.

After both builds (README, "The instructor edition"): the public site (README command 1)
and the instructor edition (`--toc _toc-instructor.yml --path-output _build/instructor`).
The key is read from what the instructor edition shows (its `book/instructor/` pages) and
recomputed here from the probes it quotes; then every place a student can reach is searched:
the public HTML, its search index, the students' notebooks (`_build/html/_sources/**/*.ipynb`,
which the workflow also pushes to the notebooks branch), and the handout if it was built.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sphinx_external_toc.parsing import parse_toc_yaml  # Jupyter Book's own _toc.yml reader

import labcode

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "_build" / "html"
INSTRUCTOR = REPO / "_build" / "instructor" / "_build" / "html"
HANDOUT = PUBLIC / "week03-handout.pdf"

pytestmark = pytest.mark.instructor


def text_of(page: str) -> str:
    """A page's article as plain text, whitespace collapsed."""
    article = re.search(r"<article[^>]*>(.*)</article>", page, re.S)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", article.group(1) if article else page, flags=re.S)
    # A formula is one word, as a reader reads it, not one per MathML token: otherwise a
    # symbol the lab itself asks about (dL/dW1[0,0]) counts as an eight-word sentence.
    body = re.sub(r"<math\b.*?</math>", lambda m: "".join(re.sub(r"<[^>]+>", " ", m.group()).split()), body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def notebook_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell.get("source", "")))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            for kind in ("text/plain", "text/html", "text/markdown", "text/latex"):
                parts.append("".join(out.get("data", {}).get(kind, "")))
    return " ".join(html.unescape(" ".join(parts)).split())


@pytest.fixture(scope="module")
def student_reach() -> dict[str, str]:
    """{where: text} for everything a student can reach."""
    for folder in (PUBLIC, INSTRUCTOR):
        if not (folder / "index.html").is_file():
            pytest.fail(f"{folder} is missing: build both editions first (README, 'The instructor edition')")
    reach = {str(p.relative_to(REPO)): text_of(p.read_text(encoding="utf-8"))
             for p in PUBLIC.rglob("*.html")}
    reach["searchindex.js"] = (PUBLIC / "searchindex.js").read_text(encoding="utf-8")
    notebooks = sorted((PUBLIC / "_sources").rglob("*.ipynb"))
    assert notebooks, "the public build wrote no students' notebooks"
    reach |= {str(p.relative_to(REPO)): notebook_text(p) for p in notebooks}
    if HANDOUT.is_file():
        from pypdf import PdfReader
        reach["handout"] = " ".join(" ".join(page.extract_text() or "" for page in
                                             PdfReader(HANDOUT).pages).split())
        assert len(reach["handout"]) > 10_000, "the handout's text could not be read"
    return reach


@pytest.fixture(scope="module")
def key_text() -> str:
    pages = sorted((INSTRUCTOR / "book" / "instructor").glob("*.html"))
    assert len(pages) == 3, f"the instructor edition's own pages: {pages}"
    # The key is its prose, tables and outputs; the source of its code cells (tensors built
    # the way the public lesson builds them) answers nothing, so it is left out.
    code = re.compile(r'<div class="highlight-ipython3.*?</pre>', re.S)
    return " ".join(text_of(code.sub(" ", p.read_text(encoding="utf-8"))) for p in pages)


def flat(gradients: dict) -> list[float]:
    return [g for rows in gradients.values() for row in rows
            for g in (row if isinstance(row, list) else [row])]


def key_numbers() -> dict[str, str]:
    """The key's values, recomputed from the probes, formatted as the key shows them."""
    probe, result = labcode.gradient_probe(), labcode.nonlinearity_probe()
    (c, j) = labcode.TOY_OUTPUT_WEIGHT[1]
    values = {"p1": f"{probe.probabilities[1]:.4f}", "gradient": f"{probe.gradient:.4f}",
              "after": f"{abs(probe.gradient_after):.4f}", "step": f"{abs(probe.step):.4f}",
              "warm-up": f"{abs(probe.gradients['layers.2.weight'][c][j]):.4f}",
              "loss before": f"{probe.loss_before:.4f}", "loss after": f"{probe.loss_after:.4f}",
              "drop": f"{probe.loss_before - probe.loss_after:.3f}",
              "first-order drop": f"{probe.lr * sum(g ** 2 for g in flat(probe.gradients)):.3f}",
              "accuracy without": f"{result.test_accuracy_without:.1%}",
              "linear accuracy": f"{result.linear_model_accuracy:.1%}"}
    return values


def sentences(text: str) -> list[str]:
    """The key's sentences of eight words or more (shorter ones are table labels)."""
    return [s.strip() for s in re.split(r"(?<=[.!?:])\s+|\|", text) if len(s.split()) >= 8]


def test_the_key_is_in_the_instructor_edition(key_text):
    for name, number in key_numbers().items():
        assert number in key_text, f"the key does not show the {name} ({number}): has the page changed?"


def test_no_value_of_the_key_reaches_a_student(student_reach):
    for name, number in key_numbers().items():
        pattern = re.compile(rf"(?<![\d.]){re.escape(number)}(?!\d)")
        found = [where for where, text in student_reach.items() if pattern.search(text)]
        assert found == [], f"the key's {name} {number} is where students can reach it: {found}"


def test_no_sentence_of_the_key_reaches_a_student(key_text, student_reach):
    key = sentences(key_text)
    assert len(key) > 30, f"only {len(key)} sentences read from the key: is the page empty?"
    leaks = [(s, where) for s in key for where, text in student_reach.items() if s in text]
    assert leaks == [], f"sentences of the key on public pages: {leaks[:5]}"


def test_no_public_page_is_or_links_to_instructor_material():
    assert not (PUBLIC / "book" / "instructor").exists(), "the public build holds instructor pages"
    linking = [str(p.relative_to(PUBLIC)) for p in PUBLIC.rglob("*.html")
               if re.search(r"""href=["'][^"']*instructor/""", p.read_text(encoding="utf-8"))]
    assert linking == [], f"public pages link to instructor material: {linking}"


def test_the_instructor_edition_carries_every_public_page():
    def files(toc):  # every page, a chapter's sections included, as Jupyter Book reads it
        return set(parse_toc_yaml(REPO / toc).keys())
    public, instructor = files("_toc.yml"), files("_toc-instructor.yml")
    assert public <= instructor, f"the instructor edition lacks {public - instructor}"
    assert {f for f in instructor - public} == {f"book/instructor/{n}" for n in
                                                ("marker-key", "calibration", "practice-answers")}, \
        f"the instructor edition's own pages are not the three expected: {instructor - public}"
