"""Fixtures for the browser tests of the built book: `pytest -m site`.

One HTTP server (ThreadingHTTPServer on 127.0.0.1:0) serves ``_build/html``; one Chromium
(Debian's, through Python Playwright) is shared by the whole session. Each page of ``_toc.yml``
is visited once as a first-time reader (a fresh browser context: nothing in localStorage) at
desktop width in light and dark mode and once at phone width; what that visit saw is cached
and the tests assert on it, so each check fails on its own, per page.

The site must have been built first (CI does). Without ``_build/html`` these tests FAIL; set
``SITE_TESTS_ALLOW_NO_BUILD=1`` to skip them instead (e.g. on a machine that only runs the
unit tests).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import _sitetools as st

# --------------------------------------------------------------------------------------------
# JavaScript run in the page
# --------------------------------------------------------------------------------------------
JS_LINKS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.href, raw: a.getAttribute('href'), text: (a.textContent || '').trim().slice(0, 60)}))"""

JS_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done);
      setTimeout(done, 10000); })));
  return imgs.map(img => ({
    src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
    naturalWidth: img.naturalWidth, complete: img.complete,
    inArticle: !!img.closest('article, [role=main]'),
    ariaHidden: !!img.closest('[aria-hidden=true]') || img.getAttribute('role') === 'presentation'}));
}"""

JS_AXE = """async () => {
  const res = await axe.run(document, {resultTypes: ['violations']});
  const article = document.querySelector('article.bd-article') || document.querySelector('main article');
  return res.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => {
      let el = null;
      try { if (typeof n.target[0] === 'string') el = document.querySelector(n.target[0]); } catch (e) {}
      return {target: n.target.map(String).join(' '), html: n.html.slice(0, 200),
              inArticle: !!(el && article && article.contains(el)),
              summary: (n.failureSummary || '').slice(0, 300)};
    })}));
}"""

# Every formula as the reader's browser lays it out: the .math elements Sphinx wrote (each
# must hold a <math> element, written at build time by book/_ext/mathml.py), each <math>'s
# rendered size (zero would mean the browser did not lay it out), any <merror>, any TeX left
# as text inside a formula, and whether the page loads a math script at all.
JS_MATH = """() => {
  const mathElements = Array.from(document.querySelectorAll('.math'));
  const maths = Array.from(document.querySelectorAll('math'));
  const tex = /\\\\[A-Za-z]+/;
  return {mathElements: mathElements.length, maths: maths.length,
          script: Array.from(document.scripts).some(s => /mathjax|katex/i.test(s.src)),
          unrendered: mathElements.filter(el => !el.querySelector('math'))
                                  .map(el => (el.textContent || '').trim().slice(0, 120)),
          empty: maths.filter(m => { const r = m.getBoundingClientRect(); return r.width < 1 || r.height < 1; })
                      .filter(m => !m.closest('details:not([open])') && m.checkVisibility())
                      .map(m => (m.textContent || '').trim().slice(0, 80)),
          merrors: document.querySelectorAll('merror').length,
          raw: maths.filter(m => tex.test(m.textContent || '')).map(m => m.textContent.trim().slice(0, 80)),
          font: maths.length ? getComputedStyle(maths[0]).fontFamily : ''};
}"""

JS_THEME = "() => [document.documentElement.dataset.mode || '', document.documentElement.dataset.theme || '']"

JS_PHONE = """() => {
  const vw = window.innerWidth, doc = document.documentElement;
  window.scrollTo(10000, window.scrollY); const scrolledX = window.scrollX; window.scrollTo(0, 0);
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const skip = 'pre, table, .highlight, .math, .cell_output, .output, '
             + '.table-wrapper, .pst-scrollable-table-container, [style*="overflow"]';
  const wide = [];
  if (article) {
    for (const el of article.querySelectorAll('p, li, h1, h2, h3, h4, h5, h6, dt, dd, blockquote, figcaption, .admonition, figure')) {
      if (el.closest(skip)) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > vw + 1 || r.left < -1 || el.scrollWidth > el.clientWidth + 1)
        wide.push({tag: el.tagName.toLowerCase(), text: (el.textContent || '').trim().slice(0, 60),
                   left: Math.round(r.left), right: Math.round(r.right), scrollWidth: el.scrollWidth,
                   clientWidth: el.clientWidth});
    }
  }
  const imgs = Array.from((article || document).querySelectorAll('img')).map(img => {
    const r = img.getBoundingClientRect();
    return {src: img.currentSrc || img.src, width: Math.round(r.width), right: Math.round(r.right),
            naturalWidth: img.naturalWidth, visible: r.width > 0 && r.height > 0};
  });
  return {innerWidth: vw, scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
          scrolledX, wide, imgs};
}"""


# --------------------------------------------------------------------------------------------
# What one visit of a page saw
# --------------------------------------------------------------------------------------------
@dataclass
class Visit:
    page: st.TocPage
    url: str
    title: str = ""
    console_errors: list = field(default_factory=list)  # counted: the site's own
    external_console: list = field(default_factory=list)  # failed loads from other hosts
    failed_own: list = field(default_factory=list)
    failed_external: list = field(default_factory=list)
    links: list = field(default_factory=list)
    images: list = field(default_factory=list)
    axe: dict = field(default_factory=dict)  # mode -> violations
    math: dict = field(default_factory=dict)  # the formulas as laid out (JS_MATH)
    dark_mode: str = ""  # the theme reached with the colour-mode button; "" when there is none
    phone: dict = field(default_factory=dict)
    screenshots: list = field(default_factory=list)
    seconds: float = 0.0


class Recorder:
    """Listens to a Playwright page and sorts what fails into own site / other hosts."""

    def __init__(self, server: st.SiteServer, visit: Visit, where: str):
        self.server, self.visit, self.where = server, visit, where

    def attach(self, page):
        page.on("console", self.on_console)
        page.on("pageerror", self.on_pageerror)
        page.on("requestfailed", self.on_requestfailed)
        page.on("response", self.on_response)

    def on_console(self, msg):
        if msg.type != "error":
            return
        src = (msg.location or {}).get("url", "")
        entry = f"[{self.where}] {msg.text} (source: {src or '?'})"
        if src and not self.server.is_own(src) and msg.text.startswith("Failed to load resource"):
            self.visit.external_console.append(entry)
        else:
            self.visit.console_errors.append(entry)

    def on_pageerror(self, err):
        self.visit.console_errors.append(f"[{self.where}] uncaught: {err}")

    def on_requestfailed(self, req):
        entry = f"[{self.where}] {req.url} ({req.failure})"
        (self.visit.failed_own if self.server.is_own(req.url) else self.visit.failed_external).append(entry)

    def on_response(self, resp):
        if resp.status >= 400:
            entry = f"[{self.where}] HTTP {resp.status} {resp.url}"
            (self.visit.failed_own if self.server.is_own(resp.url) else self.visit.failed_external).append(entry)


def _settle(page):
    page.wait_for_load_state("load")
    try:
        page.wait_for_load_state("networkidle", timeout=5000)
    except Exception:  # a page that keeps polling still gets tested; failures are recorded
        pass


def _run_axe(page):
    page.add_script_tag(path=str(st.AXE_JS))
    return page.evaluate(JS_AXE)


def _switch_to_dark(page) -> str:
    """Use the theme's own colour-mode button, as a reader does. Returns the theme reached:
    "dark", "" when there is no visible colour-mode button, else what the page shows."""
    buttons = page.locator(".theme-switch-button")
    if not any(buttons.nth(i).is_visible() for i in range(buttons.count())):
        return ""
    for i in range(buttons.count()):
        button = buttons.nth(i)
        if not button.is_visible():
            continue
        for _ in range(3):
            if page.evaluate(JS_THEME)[1] == "dark":
                break
            button.click()
            page.wait_for_timeout(150)
        break
    mode, theme = page.evaluate(JS_THEME)
    return theme or f"(no data-theme; mode {mode!r})"


class Site:
    def __init__(self, server: st.SiteServer, browser, pages: list[st.TocPage]):
        self.server, self.browser, self.pages = server, browser, pages
        self.visits: dict[str, Visit] = {}
        st.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def url(self, page: st.TocPage) -> str:
        return self.server.base + page.url_path

    def new_page(self, *, phone: bool = False, visit: Visit | None = None, where: str = "desktop"):
        opts = dict(viewport=st.PHONE, is_mobile=True, has_touch=True) if phone else dict(viewport=st.DESKTOP)
        context = self.browser.new_context(color_scheme="light", device_scale_factor=1, **opts)
        page = context.new_page()
        page.set_default_timeout(15000)
        if visit is not None:
            Recorder(self.server, visit, where).attach(page)
        return context, page

    def visit(self, page: st.TocPage) -> Visit:
        if page.docname in self.visits:
            return self.visits[page.docname]
        t0 = time.perf_counter()
        v = Visit(page=page, url=self.url(page))
        self.visits[page.docname] = v

        context, tab = self.new_page(visit=v, where="desktop")
        try:
            tab.goto(v.url)
            _settle(tab)
            v.math = tab.evaluate(JS_MATH)
            h1 = tab.locator("article h1, main h1").first
            v.title = (h1.text_content() if h1.count() else tab.title()).strip().rstrip("#").strip()
            v.links = tab.evaluate(JS_LINKS)
            v.images = tab.evaluate(JS_IMAGES)
            v.axe["light"] = _run_axe(tab)
            shot = st.SCREENSHOT_DIR / f"{page.slug}-desktop.png"
            tab.screenshot(path=str(shot), full_page=True)
            v.screenshots.append(shot)
            v.dark_mode = _switch_to_dark(tab)
            if v.dark_mode == "dark":
                v.axe["dark"] = tab.evaluate(JS_AXE)  # axe is already injected
                tab.mouse.move(1, 1)  # no tooltip from the colour-mode button in the screenshot
                shot = st.SCREENSHOT_DIR / f"{page.slug}-desktop-dark.png"
                tab.screenshot(path=str(shot), full_page=True)
                v.screenshots.append(shot)
        finally:
            context.close()

        context, tab = self.new_page(phone=True, visit=v, where="phone")
        try:
            tab.goto(v.url)
            _settle(tab)
            tab.evaluate(JS_IMAGES)  # images loaded before measuring
            v.phone = tab.evaluate(JS_PHONE)
            shot = st.SCREENSHOT_DIR / f"{page.slug}-phone.png"
            tab.screenshot(path=str(shot), full_page=True)
            v.screenshots.append(shot)
        finally:
            context.close()
        v.seconds = time.perf_counter() - t0
        return v


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------
def _toc_or_error():
    try:
        return st.toc_pages(), None
    except Exception as exc:  # reported by the tests, not as a collection crash
        return [], f"{type(exc).__name__}: {exc}"


def pytest_generate_tests(metafunc):
    # toc_page: every page; executable_page: the notebook pages (code cells), which must have
    # launch buttons; prose_page: the pages without code, which must not.
    for name, keep in (("toc_page", lambda p: True), ("executable_page", lambda p: p.executable),
                       ("prose_page", lambda p: not p.executable)):
        if name not in metafunc.fixturenames:
            continue
        pages, error = _toc_or_error()
        if error:
            metafunc.parametrize(name, [pytest.param(None, id="toc-unreadable")])
            continue
        chosen = [p for p in pages if keep(p)]
        if not chosen and name == "executable_page":  # a failure, not an empty (skipped) set
            metafunc.parametrize(name, [pytest.param(None, id="no-executable-page")])
            continue
        metafunc.parametrize(name, chosen, ids=[p.docname for p in chosen])


@pytest.fixture(scope="session")
def toc():
    pages, error = _toc_or_error()
    if error:
        pytest.fail(f"cannot read the book's _toc.yml: {error}")
    return pages


def _param_page(request):
    if request.param is None:
        pages, error = _toc_or_error()
        if error:
            pytest.fail(f"cannot read the book's _toc.yml: {error}")
        pytest.fail(f"no page in _toc.yml has a code cell: {[p.docname for p in pages]}")
    return request.param


@pytest.fixture
def toc_page(request):
    return _param_page(request)


@pytest.fixture
def executable_page(request):
    return _param_page(request)


@pytest.fixture
def prose_page(request):
    return _param_page(request)


@pytest.fixture(scope="session")
def built_site(toc):
    if not (st.HTML_DIR / "index.html").is_file():
        msg = (f"no built site at {st.HTML_DIR}: build it first with "
               f"`jupyter-book build {st.SITE_ROOT} -W -n --keep-going`")
        if os.environ.get("SITE_TESTS_ALLOW_NO_BUILD") == "1":
            pytest.skip(msg + " (skipped: SITE_TESTS_ALLOW_NO_BUILD=1)")
        pytest.fail(msg + " (or set SITE_TESTS_ALLOW_NO_BUILD=1 to skip the site tests)")
    missing = [p.docname for p in toc if not p.html.is_file()]
    if missing:
        pytest.fail(f"pages in _toc.yml missing from {st.HTML_DIR}: {missing}")
    return st.HTML_DIR


@pytest.fixture(scope="session")
def server(built_site):
    with st.SiteServer(built_site) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser():
    if not Path(st.CHROMIUM).exists():
        pytest.fail(f"{st.CHROMIUM} is missing: run `bash .ci/install-chromium` (never `playwright install`)")
    if not st.AXE_JS.is_file():
        pytest.fail(f"{st.AXE_JS} is missing: run `npm ci --prefix tests/site`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=st.CHROMIUM, args=st.CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


_SITE: list[Site] = []


@pytest.fixture(scope="session")
def site(server, browser, toc):
    s = Site(server, browser, toc)
    _SITE.append(s)
    return s


@pytest.fixture(scope="session")
def role_page(site):
    """role_page("lesson" | "selfcheck" | "sample") -> the TocPage playing that role."""
    return lambda role: st.find_role(site.pages, lambda p: site.visit(p).title, role)


@pytest.fixture(scope="session")
def lesson_chapter(site, role_page):
    """The lesson's pages: its first page and the sections _toc.yml nests under it."""
    return st.chapter(site.pages, role_page("lesson"))


# --------------------------------------------------------------------------------------------
# Report: printed after the tests and written to _build/site-report.json
# --------------------------------------------------------------------------------------------
def _impact_counts(violations):
    counts: dict[str, int] = {}
    for v in violations:
        counts[v["impact"] or "unknown"] = counts.get(v["impact"] or "unknown", 0) + len(v["nodes"])
    return counts


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _SITE or not _SITE[0].visits:
        return
    site = _SITE[0]
    tr = terminalreporter
    tr.section("site report (pages from _toc.yml)")
    report = {"pages": {}, "screenshots": str(st.SCREENSHOT_DIR)}
    for name, v in site.visits.items():
        axe = {mode: _impact_counts(vs) for mode, vs in v.axe.items()}
        tr.write_line(f"{name}: {v.title!r}  {v.seconds:.1f}s  console errors {len(v.console_errors)}, "
                      f"failed own requests {len(v.failed_own)}, other hosts {len(v.failed_external)}; "
                      f"axe nodes by impact {axe}")
        for mode, vs in v.axe.items():
            for viol in vs:
                if viol["impact"] in ("moderate", "minor"):
                    where = sorted({("article" if n["inArticle"] else "theme") for n in viol["nodes"]})
                    tr.write_line(f"    axe {viol['impact']} [{mode}] {viol['id']}: {viol['help']} "
                                  f"({len(viol['nodes'])} nodes, in {'/'.join(where)})")
        for e in v.console_errors:
            tr.write_line(f"    console error: {e}")
        for e in sorted(set(v.failed_external)):
            tr.write_line(f"    other host (not counted): {e}")
        report["pages"][name] = {
            "title": v.title, "seconds": round(v.seconds, 2), "console_errors": v.console_errors,
            "external_console": v.external_console, "failed_own": v.failed_own,
            "failed_external": sorted(set(v.failed_external)), "axe_counts": axe,
            "axe": v.axe, "dark_mode": v.dark_mode, "phone": v.phone, "math": v.math,
            "screenshots": [str(p) for p in v.screenshots],
        }
    try:
        st.REPORT_PATH.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
        tr.write_line(f"written: {st.REPORT_PATH}; screenshots in {st.SCREENSHOT_DIR}")
    except OSError as exc:
        tr.write_line(f"could not write {st.REPORT_PATH}: {exc}")
