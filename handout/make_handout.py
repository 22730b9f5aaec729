"""The week's printable handout: one PDF from the built site, printed by Chromium.

``python handout/make_handout.py`` (after the build, with the test tools: Python Playwright
and Debian's Chromium, as the site tests use) writes ``_build/html/week03-handout.pdf``. CI
runs it before publishing, so the published site carries it and the lesson plan's link
works there; README command 1 alone does not make it. It holds:

1. a title page: the book's title (``_config.yml``), its address, the copyright and the
   attribution and licences the site's footer gives (CC BY 4.0 asks for them);
2. every page of ``_toc.yml``, in the book's order, each from a new page;
3. on the last page, the self-check's answers.

It is the site's own HTML (math already MathML, figures already images), with no site
chrome: only each page's article, without its folded code, copy buttons and heading links.
Every link points to the published site (the address the build wrote into each page's
``<link rel="canonical">``), never to the local server that printed it. Dropdowns print
open, except those a student must try first ("open after ...", "Solutions"), which stay
out of a handout handed round before the lab. Then it checks the PDF (pypdf): every page's
title, the licence and the attribution are there, no link points anywhere but the
published site, no TeX is left raw, the figures are embedded, and the answers come last.
Any failure exits non-zero.

``python handout/make_handout.py --instructor`` does the same for the instructor edition
(after its build): every page of ``_toc-instructor.yml``, the marker key, the calibration
examples and the practice answers included, into
``_build/instructor/_build/html/week03-instructor-handout.pdf``, which is never published.
"""
from __future__ import annotations

import functools
import html
import http.server
import re
import sys
import threading
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright
from pypdf import PdfReader
from sphinx_external_toc.parsing import parse_toc_yaml

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "_build" / "html"
OUT = SITE / "week03-handout.pdf"
TOC = REPO / "_toc.yml"
if "--instructor" in sys.argv:  # the instructor edition (README, "The instructor edition")
    SITE = REPO / "_build" / "instructor" / "_build" / "html"
    OUT = SITE / "week03-instructor-handout.pdf"
    TOC = REPO / "_toc-instructor.yml"
CHROMIUM = "/usr/bin/chromium"


def toc_pages() -> list[str]:
    """Every page of the edition's ToC, in the book's order."""
    return list(parse_toc_yaml(TOC).keys())


def published_base() -> str:
    """The published site's address, as the build wrote it into the landing page."""
    index = (SITE / "book" / "index.html").read_text(encoding="utf-8")
    canonical = re.search(r'<link rel="canonical" href="([^"]+)book/index\.html"', index)
    if not canonical:
        sys.exit("the built landing page has no canonical address (html.baseurl)")
    return canonical.group(1)


def title_page(base: str) -> str:
    """The title, the address, the copyright and the site footer's attribution."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    index = (SITE / "book" / "index.html").read_text(encoding="utf-8")
    credit = re.search(r'<p class="course-license">.*?</p>', index, re.S)
    if not credit:
        sys.exit("the built landing page has no license footer (book/_ext/course_citation.py)")
    return (f'<section class="part" data-part="Title"><h1>{html.escape(config["title"])}</h1>'
            f'<p>The course book online: <a href="{base}">{base}</a></p>'
            f'<p>© {html.escape(str(config["copyright"]))}.</p>{credit.group(0)}</section>')

SPOILER = re.compile(r"open after|solution", re.I)

# Runs in each page: its article, cleaned for print, as HTML (and the self-check's answers).
CLEAN = """([selector, spoiler, local, published]) => {
  const root = document.querySelector(selector === 'article' ? 'article.bd-article' : selector).cloneNode(true);
  root.querySelectorAll('.headerlink, .copybtn, details.hide, .toggle-details, script').forEach(e => e.remove());
  root.querySelectorAll('img').forEach(img => { img.src = img.src; img.loading = 'eager'; });
  root.querySelectorAll('a[href]').forEach(a => {
    a.href = a.href.startsWith(local) ? published + a.href.slice(local.length) : a.href; });
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


def make(url: str) -> str:
    """Print the handout; the HTML it printed."""
    base = published_base()
    title = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["title"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        parts, answers = [title_page(base)], []
        for doc in toc_pages():
            page.goto(f"{url}/{doc}.html")
            page.wait_for_load_state("load")
            got = page.evaluate(CLEAN, ["article", SPOILER.pattern, f"{url}/", base])
            parts.append(f'<section class="part" data-part="{doc}">{got["html"]}</section>')
            answers += got["answers"]
        answer_list = "".join(f'<h3>{a["question"]}</h3>{a["answer"]}' for a in answers)
        parts.append(f'<section class="part" data-part="Answers"><h1>Self-check: answers</h1>{answer_list}</section>')
        document = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                    f'<title>{html.escape(title)}: handout</title>'
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
    return document


def page_title(doc: str) -> str:
    """The page's own title: its article's first heading, without the heading link."""
    page = (SITE / f"{doc}.html").read_text(encoding="utf-8")
    article = page[page.index('<article class="bd-article"'):]
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", article, re.S)
    heading = re.sub(r'<a class="headerlink".*?</a>', "", h1.group(1), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", heading)).strip()


def check(document: str) -> list[str]:
    reader = PdfReader(OUT)
    pages = [p.extract_text() or "" for p in reader.pages]
    text = "\n".join(pages)
    flat = re.sub(r"\s+", " ", text)
    problems = []
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    for needed in [config["title"], "CC BY 4.0", "MIT License", str(config["copyright"])] + [
            page_title(doc) for doc in toc_pages()]:
        if re.sub(r"\s+", " ", needed) not in flat:
            problems.append(f"missing text: {needed!r}")
    base = published_base()
    links = [a.get_object().get("/A", {}).get("/URI", "") for pg in reader.pages
             for a in pg.get("/Annots", []) or []]
    elsewhere = sorted({u for u in links if u.startswith(("http://127.0.0.1", "http://localhost", "file:"))})
    if elsewhere:
        problems.append(f"{len(elsewhere)} links do not point to the published site: {elsewhere[:3]}")
    if not any(u.startswith(base) for u in links):
        problems.append(f"no link points to the published site {base}")
    # TeX the pages show on purpose sits in code (the starter: "LaTeX works: $\\partial L$");
    # any other is a formula that did not become MathML.
    code = " ".join(re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<(?:code|pre)\b.*?</(?:code|pre)>", document, re.S))
    for raw in ("\\frac", "\\partial", "$$", "\\begin{"):
        if text.count(raw) > html.unescape(code).count(raw):
            problems.append(f"raw TeX in the PDF: {raw!r}")
    images = sum(len(p.images) for p in reader.pages)
    rasters = len(re.findall(r'<img[^>]+src="[^"]+\.png"', document))
    if images < rasters or rasters < 3:
        problems.append(f"{images} images embedded, the printed pages show {rasters}")
    answer = "collapse into a single linear map"  # in the self-check's first answer
    if "answers" not in pages[-1].lower() and answer not in pages[-1]:
        problems.append("the self-check's answers are not on the last page")
    if answer in "\n".join(pages[:-2]):  # the answers take the last two pages at most
        problems.append("an answer appears before the answer page")
    print(f"{OUT.relative_to(REPO)}: {len(pages)} pages, {images} images, {len(links)} links "
          f"(to {base}), {OUT.stat().st_size // 1024} KiB")
    return problems


def main() -> None:
    if not (SITE / "book" / "lesson.html").is_file():
        sys.exit(f"build the book first: {SITE.relative_to(REPO)} has no lesson (README)")
    problems = check(make(serve()))
    if problems:
        sys.exit("handout check failed:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
