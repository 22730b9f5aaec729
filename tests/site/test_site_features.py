"""The interactive parts of the book, clicked and typed into as a reader does (`pytest -m site`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

import _sitetools as st

pytestmark = [pytest.mark.site, pytest.mark.timeout(300)]

# Marks the deepest element in the article whose text contains `needle` (normalised as in
# _sitetools.norm_text) with data-sitetest=<tag>; returns how many such deepest elements exist.
JS_MARK_TEXT = """([needle, tag]) => {
  const norm = s => s.normalize('NFKC').replace(/[\\u2018\\u2019]/g, "'").replace(/[\\u201c\\u201d]/g, '"')
      .replace(/[\\u2013\\u2014]/g, '-').replace(/\\u00a0/g, ' ').replace(/\\u200b/g, '')
      .replace(/\\s+/g, ' ').trim().toLowerCase();
  const root = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const hits = Array.from(root.querySelectorAll('*')).filter(el => norm(el.textContent || '').includes(needle));
  const deepest = hits.filter(el => !hits.some(other => other !== el && el.contains(other)));
  deepest.forEach(el => el.setAttribute('data-sitetest', tag));
  return deepest.length;
}"""

# Marks the control a reader clicks to reveal the element marked `tag`: the <summary> of its
# <details> (sphinx-design dropdown, HTML details) or sphinx-togglebutton's button.
JS_MARK_CONTROL = """([tag, ctl]) => {
  const el = document.querySelector(`[data-sitetest="${tag}"]`);
  if (!el) return 'no element';
  const details = el.closest('details');
  if (details) { const s = details.querySelector(':scope > summary'); if (s) { s.setAttribute('data-sitetest', ctl); return 'details'; } }
  const toggle = el.closest('.toggle, .dropdown, .admonition.dropdown');
  if (toggle) {
    let b = toggle.querySelector('button.toggle-button');
    if (!b && toggle.previousElementSibling && toggle.previousElementSibling.matches('button.toggle-button')) b = toggle.previousElementSibling;
    if (!b) b = toggle.querySelector('.admonition-title');
    if (b) { b.setAttribute('data-sitetest', ctl); return 'togglebutton'; }
  }
  return 'no collapsible around it';
}"""


def _article_text(page) -> str:
    return st.norm_text(page.locator("article.bd-article, main").first.text_content() or "")


def _fresh(site, toc_page, phone=False):
    context, page = site.new_page(phone=phone)
    page.goto(site.url(toc_page))
    page.wait_for_load_state("load")
    try:
        page.wait_for_load_state("networkidle", timeout=5000)
    except Exception:
        pass
    return context, page


# --------------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------------
def test_self_check_literals_match_the_course_text():
    path = st.course_file()
    if path is None:
        pytest.skip("the course text (../shared/course/week03.md) is not beside the repository; "
                    "the literals in _sitetools.SELF_CHECK are used as they are")
    assert st.parse_course_self_check(path.read_text(encoding="utf-8")) == st.SELF_CHECK


def test_self_check_questions_in_order_answers_hidden_until_one_click(site, role_page):
    page_info = role_page("selfcheck")
    context, page = _fresh(site, page_info)
    try:
        text = _article_text(page)
        positions = []
        for q, _ in st.SELF_CHECK:
            assert st.norm_text(q) in text, f"question missing from {page_info.docname}: {q!r}"
            positions.append(text.index(st.norm_text(q)))
        assert positions == sorted(positions), "the five questions are not in the course's order"

        for i, (q, a) in enumerate(st.SELF_CHECK):
            n_q = page.evaluate(JS_MARK_TEXT, [st.norm_text(q), f"q{i}"])
            n_a = page.evaluate(JS_MARK_TEXT, [st.norm_text(a), f"a{i}"])
            assert n_q >= 1, f"question {i + 1} not found as an element"
            assert n_a == 1, f"answer {i + 1} ({a!r}) found {n_a} times on the page, expected once"
            question = page.locator(f'[data-sitetest="q{i}"]').first
            answer = page.locator(f'[data-sitetest="a{i}"]')
            expect(question, f"question {i + 1} is not visible on load").to_be_visible()
            expect(answer, f"answer {i + 1} is visible before the reader expands it").to_be_hidden()
        for i, (q, a) in enumerate(st.SELF_CHECK):
            answer = page.locator(f'[data-sitetest="a{i}"]')
            kind = page.evaluate(JS_MARK_CONTROL, [f"a{i}", f"c{i}"])
            assert kind in ("details", "togglebutton"), f"answer {i + 1}: {kind}"
            expect(answer, f"answer {i + 1} is visible before its control is clicked").to_be_hidden()
            page.locator(f'[data-sitetest="c{i}"]').click()
            expect(answer, f"answer {i + 1} is not visible after one click").to_be_visible(timeout=3000)
            for j in range(i + 1, len(st.SELF_CHECK)):  # opening one reveals no other
                expect(page.locator(f'[data-sitetest="a{j}"]'),
                       f"opening answer {i + 1} also revealed answer {j + 1}").to_be_hidden()
    finally:
        context.close()


# --------------------------------------------------------------------------------------------
# Part B reveal on the sample submission
# --------------------------------------------------------------------------------------------
PARTB_SELECTOR = ".partb-reveal"  # a sphinx-design dropdown (:class-container:) or <details class=...>


def test_partb_reveal_hidden_until_expanded(site, role_page):
    page_info = role_page("sample")
    context, page = _fresh(site, page_info)
    try:
        reveals = page.locator(PARTB_SELECTOR)
        n = reveals.count()
        assert n >= 1, (f"{page_info.docname}: no element matches {PARTB_SELECTOR!r}; the Part B reveal "
                        f"must be a dropdown with :class-container: partb-reveal (or <details class=\"partb-reveal\">)")
        for i in range(n):
            reveal = reveals.nth(i)
            details = reveal if reveal.evaluate("el => el.tagName") == "DETAILS" else reveal.locator("details").first
            assert details.count() == 1, f"Part B reveal {i + 1} is not a <details> dropdown"
            summary = details.locator(":scope > summary")
            body = details.locator(":scope > :not(summary)")
            assert body.count() >= 1 and (body.first.text_content() or "").strip(), "the reveal is empty"
            expect(summary).to_be_visible()
            assert details.evaluate("el => el.open") is False, f"Part B reveal {i + 1} is open on load"
            for k in range(body.count()):
                expect(body.nth(k), f"Part B reveal {i + 1} shows its content on load").to_be_hidden()
            summary.click()
            expect(body.first, f"Part B reveal {i + 1} does not open on click").to_be_visible(timeout=3000)
    finally:
        context.close()


@pytest.mark.parametrize("role", ["lesson", "sample"])
def test_every_answer_waits_closed_behind_an_open_after_label(site, role_page, lesson_chapter, role):
    """What answers the homework is folded under a label that says "open after ...": closed
    on load, its content hidden; in the lesson no copyable linear_backward is in sight."""
    pages = lesson_chapter if role == "lesson" else [role_page(role)]
    n_labels = n_solutions = 0
    for toc_page in pages:
        context, page = _fresh(site, toc_page)
        try:
            labels = page.locator("article.bd-article details > summary", has_text=re.compile("open after", re.I))
            n_labels += labels.count()
            for i in range(labels.count()):
                details = labels.nth(i).locator("xpath=..")
                assert details.evaluate("el => el.open") is False, f"{toc_page.docname}: {labels.nth(i).text_content()}"
                expect(details.locator(":scope > :not(summary)").first).to_be_hidden()
            if role == "lesson":  # the sample submission shows its own, as a submission does
                solution = page.locator("article.bd-article pre", has_text="def linear_backward(")
                n_solutions += solution.count()
                for i in range(solution.count()):
                    expect(solution.nth(i), f"{toc_page.docname}: linear_backward in sight").to_be_hidden()
        finally:
            context.close()
    assert n_labels >= 1, f"no 'open after' label on {[p.docname for p in pages]}"
    if role == "lesson":
        assert n_solutions >= 1, "the lesson's folded linear_backward listing is missing"


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["backpropagation", "gradcheck"])
def test_search_finds_lesson_and_sample(site, role_page, query):
    lesson = role_page("lesson")
    sample = role_page("sample")
    context, page = _fresh(site, lesson)
    try:
        # As a reader: open the theme's search dialog, type, press Enter.
        buttons = page.locator("button.search-button__button")
        for i in range(buttons.count()):
            if buttons.nth(i).is_visible():
                buttons.nth(i).click()
                break
        else:
            pytest.fail("no visible search button on the lesson page")
        field = page.locator("input[name='q']:visible").first
        expect(field).to_be_visible()
        field.fill(query)
        field.press("Enter")
        page.wait_for_url(re.compile(r"/search\.html\?"))
        summary = page.locator("#search-results .search-summary, #search-results p").first
        expect(summary).to_contain_text(re.compile(r"found|Your search did not match", re.I), timeout=15000)
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
        found = {urlsplit(h).path.lstrip("/").removesuffix(".html") for h in hrefs}
        for wanted in (lesson, sample):
            assert wanted.docname in found, (f"searching {query!r} does not return {wanted.docname}; "
                                                f"results: {sorted(found)}")
    finally:
        context.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_one_search_control_at_each_width(site, role_page, phone):
    """One way to search, not two: at desktop width the sidebar's search field (the theme's
    header strip with a second field is switched off), at phone width the header's button."""
    context, page = _fresh(site, role_page("lesson"), phone=phone)
    try:
        visible = page.eval_on_selector_all(
            ".search-button-field, .search-button",
            "els => els.filter(e => { const r = e.getBoundingClientRect(); "
            "return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })"
            ".map(e => e.className)")
        assert len(visible) == 1, f"{len(visible)} visible search controls: {visible}"
    finally:
        context.close()


def test_the_theme_icons_are_drawn_from_its_webfont_without_fontawesome_js(site, role_page):
    """book/_templates/static/webpack-macros.html leaves out fontawesome.js: the icons must
    still show, drawn by the theme's CSS from its Font Awesome webfont."""
    context, page = _fresh(site, role_page("lesson"))
    try:
        assert not page.eval_on_selector_all("script[src*='fontawesome']", "s => s.length")
        page.evaluate("document.fonts.ready")
        icons = page.eval_on_selector_all(
            ".article-header-buttons i.fa, .article-header-buttons i.fas, .article-header-buttons i.fab",
            "is => is.filter(i => i.checkVisibility()).map(i => [i.className, i.getBoundingClientRect().width, "
            "getComputedStyle(i, '::before').content, getComputedStyle(i).fontFamily])")
        assert len(icons) >= 3, icons
        for name, width, glyph, family in icons:
            assert width > 0 and glyph not in ("none", "normal", '""') and "Font Awesome" in family, (name, width, glyph, family)
    finally:
        context.close()
