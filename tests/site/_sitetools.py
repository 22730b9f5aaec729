"""Helpers for the browser tests of the built book (tests/site).

Nothing here knows the book's page names: pages come from ``_toc.yml``, the repository and
launch settings from ``_config.yml``, and the self-check text from the course page.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from sphinx_external_toc.parsing import parse_toc_yaml  # Jupyter Book's own _toc.yml reader

REPO_ROOT = Path(__file__).resolve().parents[2]

# The book under test: the repository itself unless SITE_ROOT points at another book root
# (used to try the suite on a scratch book).
SITE_ROOT = Path(os.environ.get("SITE_ROOT", REPO_ROOT)).resolve()
# The build folder: <book root>/_build, or SITE_BUILD_DIR (a build made with --path-output X
# has its site in X/_build/html: set SITE_BUILD_DIR=X/_build).
BUILD_DIR = Path(os.environ.get("SITE_BUILD_DIR", SITE_ROOT / "_build")).resolve()
HTML_DIR = BUILD_DIR / "html"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"
REPORT_PATH = BUILD_DIR / "site-report.json"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every host but the local server fails at once instead of waiting on DNS, so a run
    # behaves the same online and offline (and is fast offline).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Where the axe-core npm package is installed (tests/site/package.json; `npm ci --prefix tests/site`).
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = Path(__file__).resolve().parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


# --------------------------------------------------------------------------------------------
# The book's table of contents and configuration
# --------------------------------------------------------------------------------------------
# A MyST code cell: a fence of 3+ backticks or tildes whose info string is {code-cell}.
CODE_CELL_RX = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*\{code-cell\}", re.M)


@dataclass(frozen=True)
class TocPage:
    docname: str  # e.g. "book/lesson" (Sphinx docname: path from the book root, no suffix)
    source: Path  # the source file in the repository
    html: Path  # the built page

    @property
    def slug(self) -> str:
        return self.docname.replace("/", "__")

    @property
    def executable(self) -> bool:
        """A notebook page: an .ipynb, or a MyST page with code cells. These pages carry the
        jupytext header (tests/binder checks it) and get launch buttons; prose pages do not."""
        if self.source.suffix == ".ipynb":
            return True
        return self.source.suffix == ".md" and bool(
            CODE_CELL_RX.search(self.source.read_text(encoding="utf-8")))

    @property
    def url_path(self) -> str:
        return self.docname + ".html"


def load_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping, got {type(data).__name__}")
    return data


def _source_for(docname: str) -> Path:
    for suffix in (".md", ".ipynb", ".rst"):
        candidate = SITE_ROOT / (docname + suffix)
        if candidate.exists():
            return candidate
    stem = SITE_ROOT / docname
    if stem.suffix and stem.exists():
        return stem
    raise FileNotFoundError(f"_toc.yml names {docname!r} but no {docname}.md/.ipynb/.rst exists")


def toc_pages() -> list[TocPage]:
    """Every page of _toc.yml, in reading order, as sphinx-external-toc reads it."""
    return [TocPage(docname, _source_for(docname), HTML_DIR / (docname + ".html"))
            for docname in parse_toc_yaml(SITE_ROOT / "_toc.yml").keys()]


def book_config() -> dict:
    return load_yaml(SITE_ROOT / "_config.yml")


# Which toc page plays which role in the course. Matched on the file name first, then on the
# page title; a missing role fails the tests that need it with the list of pages.
ROLE_PATTERNS = {
    "lesson": (r"(^|[-_/])lesson$", r"^lesson\b|\blesson\s*[:·—-]"),
    "selfcheck": (r"self[-_]?check", r"self[- ]?check"),
    "sample": (r"sample", r"sample submission"),
}
ROLE_EXCLUDE = {"lesson": r"plan|instructor"}


def find_role(pages: list[TocPage], title_of, role: str) -> TocPage:
    """The page playing `role`; `title_of(page)` gives a page's title (only called if the file
    names do not decide)."""
    stem_rx, title_rx = ROLE_PATTERNS[role]
    exclude = ROLE_EXCLUDE.get(role)

    def ok(text):
        return not (exclude and re.search(exclude, text, re.I))

    for page in pages:
        stem = page.docname.rsplit("/", 1)[-1]
        if re.search(stem_rx, stem, re.I) and ok(stem):
            return page
    for page in pages:
        title = title_of(page)
        if re.search(title_rx, title, re.I) and ok(title):
            return page
    listing = ", ".join(f"{p.docname} ({title_of(p)!r})" for p in pages)
    raise LookupError(f"no page in _toc.yml plays the {role!r} role; pages: {listing}")


def chapter(pages: list[TocPage], first: TocPage) -> list[TocPage]:
    """`first` and the pages _toc.yml nests under it (a chapter's sections), in reading order."""
    site_map = parse_toc_yaml(SITE_ROOT / "_toc.yml")
    nested = [str(item) for tree in site_map[first.docname].subtrees for item in tree.items]
    by_name = {p.docname: p for p in pages}
    return [first] + [by_name[name] for name in nested if name in by_name]


# --------------------------------------------------------------------------------------------
# The course's self-check (the questions, in order, and their answers)
# --------------------------------------------------------------------------------------------
# Copied from the course's own page (shared/course/week03.md, "### Self-check"). When that file
# is present beside the repository, test_site_features asserts these still match it.
SELF_CHECK = [
    (
        "Why does an MLP need nonlinear activations?",
        "Without them, stacked linear layers collapse into a single linear map.",
    ),
    (
        "What does backpropagation compute?",
        "Gradients of the loss with respect to each parameter, via the chain rule.",
    ),
    (
        "Why call optimizer.zero_grad() each step?",
        "PyTorch accumulates gradients, so they must be cleared before each backward pass.",
    ),
    (
        "What does .backward() do?",
        "Computes and stores .grad for every tensor with requires_grad=True.",
    ),
    (
        "How can a computed gradient be checked for correctness?",
        "Compare it to a finite-difference (numerical) estimate, e.g. with gradcheck.",
    ),
]

COURSE_FILE_CANDIDATES = [
    REPO_ROOT.parent / "shared" / "course" / "week03.md",
    REPO_ROOT / "shared" / "course" / "week03.md",
]


def course_file() -> Path | None:
    for path in COURSE_FILE_CANDIDATES:
        if path.is_file():
            return path
    return None


def parse_course_self_check(text: str) -> list[tuple[str, str]]:
    """The numbered questions and their '— answer' lines under '### Self-check'."""
    m = re.search(r"^###\s+Self-check\s*$(.*?)(?=^###\s|\Z)", text, re.M | re.S)
    if not m:
        raise ValueError("the course text has no '### Self-check' section")
    items = re.findall(r"^\s*\d+\.\s+(.+?)\s*\n\s*[—–-]\s+(.+?)\s*$", m.group(1), re.M)
    return [(q.strip(), a.strip()) for q, a in items]


def norm_text(text: str) -> str:
    """Compare texts as a reader sees them: Unicode-normalised, quotes and dashes unified,
    whitespace collapsed, case folded. Markup (code spans) is already gone in textContent."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(
        str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                       "\u2014": "-", "\u00a0": " ", "\u200b": ""})
    )
    return re.sub(r"\s+", " ", text).strip().casefold()


# --------------------------------------------------------------------------------------------
# Serving the built site
# --------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


class SiteServer:
    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        host, port = self.httpd.server_address[:2]
        self.origin = f"http://{host}:{port}"
        self.base = self.origin + "/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def is_own(self, url: str) -> bool:
        return url.startswith(self.origin + "/") or url == self.origin

    def local_file(self, url: str) -> Path:
        """The file under _build/html that an own URL is served from."""
        path = unquote(urlsplit(url).path).lstrip("/")
        target = HTML_DIR / path
        if path == "" or path.endswith("/") or target.is_dir():
            target = target / "index.html"
        return target


_ID_RX = re.compile(r"""\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


@functools.lru_cache(maxsize=None)
def ids_in(html_file: Path) -> frozenset[str]:
    text = html_file.read_text(encoding="utf-8", errors="replace")
    return frozenset(a or b for a, b in _ID_RX.findall(text))


# --------------------------------------------------------------------------------------------
# Alt text
# --------------------------------------------------------------------------------------------
_GENERIC_ALT = {
    "image", "img", "picture", "photo", "figure", "fig", "graph", "plot", "chart", "diagram",
    "output", "png", "jpg", "jpeg", "svg", "gif", "webp", "icon", "logo", "untitled", "alt",
    "alt text", "none", "null", "undefined",
}
_FILE_RX = re.compile(r"\.(png|jpe?g|svg|gif|webp|bmp|pdf)(\?.*)?$", re.I)


def alt_problem(alt: str | None) -> str | None:
    """Why this alt text does not describe an image (None when it does)."""
    if alt is None:
        return "no alt attribute"
    text = alt.strip()
    if not text:
        return "empty alt"
    if _FILE_RX.search(text) or re.fullmatch(r"[\w./-]*[/\\][\w./-]*", text):
        return f"alt is a file name: {text!r}"
    if re.fullmatch(r"[0-9a-f]{16,}", text, re.I):
        return f"alt is a hash: {text!r}"
    if norm_text(text).strip(" .:") in _GENERIC_ALT:
        return f"alt is a generic word: {text!r}"
    if len(text.split()) < 2:
        return f"alt is a single word: {text!r}"
    return None
