"""The week's printable handout: one PDF from the built site, printed by Chromium.

``python handout/make_handout.py`` (after the build; Debian's Chromium, as the site tests
use) writes ``_build/html/week03-handout.pdf``, published with the site and linked from the
instructor lesson plan. It holds, each part from a new page:

1. the landing page's learning goals;
2. the lesson; 3. the lab, with its deliverables and hints;
4. the self-check's questions, and on the last page their answers.

It is the site's own HTML (math already MathML, figures already images), with no site
chrome: only each page's article, without its folded code, copy buttons and heading links.
Dropdowns print open, except those a student must try first ("open after ...",
"Solutions"), which stay out of a handout handed round before the lab. Then it checks the
PDF (pypdf): every part's text is there, no TeX is left raw, the figures are embedded, and
the answers come last. Any failure exits non-zero.
"""
from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from pypdf import PdfReader

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "_build" / "html"
OUT = SITE / "week03-handout.pdf"
CHROMIUM = "/usr/bin/chromium"
#: (page, what of its article goes in, the title of the part)
PARTS = [("book/index", "section#learning-goals", "Learning goals"),
         ("book/lesson", "article", "Lesson"),
         ("book/lab", "article", "Homework lab"),
         ("book/self-check", "article", "Self-check")]
SPOILER = re.compile(r"open after|solution", re.I)

# Runs in each page: its article, cleaned for print, as HTML (and the self-check's answers).
CLEAN = """([selector, spoiler]) => {
  const root = document.querySelector(selector === 'article' ? 'article.bd-article' : selector).cloneNode(true);
  root.querySelectorAll('.headerlink, .copybtn, details.hide, .toggle-details, script').forEach(e => e.remove());
  root.querySelectorAll('img').forEach(img => { img.src = img.src; img.loading = 'eager'; });
  root.querySelectorAll('a[href]').forEach(a => { a.href = a.href; });
  const answers = [];
  root.querySelectorAll('details').forEach(d => {
    const title = (d.querySelector('summary') || {}).textContent || '';
    if (new RegExp(spoiler, 'i').test(title)) { d.remove(); return; }
    if (document.location.pathname.endsWith('self-check.html')) {
      const body = d.cloneNode(true); body.querySelector('summary').remove();
      answers.push({question: title.trim(), answer: body.innerHTML});
      d.outerHTML = '<p class="question">' + title.trim() + '</p>';
      return;
    }
    d.open = true;
  });
  return {html: root.innerHTML, answers};
}"""

PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font: 10.5pt/1.45 "DejaVu Sans", "Liberation Sans", sans-serif; color: #000; }
section.part { break-before: page; }
section.part:first-of-type { break-before: auto; }
h1 { font-size: 18pt; } h2 { font-size: 14pt; break-after: avoid; } h3 { font-size: 12pt; break-after: avoid; }
pre, .highlight { font: 8.5pt/1.35 "DejaVu Sans Mono", monospace; white-space: pre-wrap; background: #f5f5f5; padding: 4px; }
img { max-width: 100%; height: auto; break-inside: avoid; }
figure, .cell_output, table { break-inside: avoid; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 2px 6px; }
.admonition, details { border-left: 3px solid #666; padding: 2px 10px; margin: 8px 0; }
p.question { font-weight: bold; }
a { color: inherit; text-decoration: none; }
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def make(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        parts, answers = [], []
        for doc, selector, title in PARTS:
            page.goto(f"{url}/{doc}.html")
            page.wait_for_load_state("load")
            got = page.evaluate(CLEAN, [selector, SPOILER.pattern])
            heading = "<h1>Week 3 · MLPs &amp; Backpropagation</h1>" if selector != "article" else ""
            parts.append(f'<section class="part" data-part="{title}">{heading}{got["html"]}</section>')
            answers += got["answers"]
        answer_list = "".join(f'<h3>{a["question"]}</h3>{a["answer"]}' for a in answers)
        parts.append(f'<section class="part" data-part="Answers"><h1>Self-check: answers</h1>{answer_list}</section>')
        document = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                    f'<title>Week 3 · MLPs &amp; Backpropagation: handout</title>'
                    f'<link rel="stylesheet" href="{url}/_static/mathml.css">'
                    f'<link rel="stylesheet" href="{url}/_static/pygments.css">'
                    f"<style>{PRINT_CSS}</style></head><body>{''.join(parts)}</body></html>")
        draft = SITE / "_handout.html"  # served from the site, so its fonts and images load
        draft.write_text(document, encoding="utf-8")
        try:
            page.goto(f"{url}/{draft.name}", wait_until="networkidle")
            if "--screenshot" in sys.argv:  # to look at it: the print layout, as an image
                page.emulate_media(media="print")
                page.screenshot(path=str(SITE.parent / "handout-preview.png"), full_page=True)
            page.evaluate("document.fonts.ready")
            page.pdf(path=str(OUT), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            draft.unlink()
        browser.close()


def check() -> list[str]:
    reader = PdfReader(OUT)
    pages = [p.extract_text() or "" for p in reader.pages]
    text = "\n".join(pages)
    problems = []
    for needed in ("Learning goals", "Build and train a multilayer perceptron",
                   "The backward pass of a linear layer", "Deliverables", "Hints",
                   "Zero the gradients each step", "Why does an MLP need nonlinear activations?"):
        if needed not in text:
            problems.append(f"missing text: {needed!r}")
    for raw in ("\\frac", "\\partial", "$$", "\\begin{"):
        if raw in text:
            problems.append(f"raw TeX in the PDF: {raw!r}")
    images = sum(len(p.images) for p in reader.pages)
    rasters = sum(len(re.findall(r'<img[^>]+src="(?!\.\./_static/)[^"]+\.png"', (SITE / f"{doc}.html").read_text(encoding="utf-8")))
                  for doc, selector, _ in PARTS if selector == "article")
    if images < rasters or rasters < 3:
        problems.append(f"{images} images embedded, the parts' pages show {rasters}")
    answer = "collapse into a single linear map"  # in the self-check's first answer
    if "answers" not in pages[-1].lower() and answer not in pages[-1]:
        problems.append("the self-check's answers are not on the last page")
    if answer in "\n".join(pages[:-2]):  # the answers take the last two pages at most
        problems.append("an answer appears before the answer page")
    print(f"{OUT.relative_to(REPO)}: {len(pages)} pages, {images} images, {OUT.stat().st_size // 1024} KiB")
    return problems


def main() -> None:
    if not (SITE / "book" / "lesson.html").is_file():
        sys.exit("build the book first (README command 1)")
    make(serve())
    problems = check()
    if problems:
        sys.exit("handout check failed:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
