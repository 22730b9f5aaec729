"""Every page of _toc.yml, in Chromium, as a reader meets it (run with `pytest -m site`)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import _sitetools as st

pytestmark = [pytest.mark.site, pytest.mark.timeout(300)]


def _fmt(items):
    return "\n  " + "\n  ".join(map(str, items))


def test_toc_pages_are_built(built_site, toc):
    assert toc, "_toc.yml lists no pages"
    # The root index.html exists (it redirects to the toc root) and every toc page was built.
    assert (built_site / "index.html").is_file()
    assert [p.docname for p in toc if not p.html.is_file()] == []


def test_no_console_errors(site, toc_page):
    v = site.visit(toc_page)
    assert v.console_errors == [], (
        f"{toc_page.docname}: console errors (desktop and phone visit, fresh reader):"
        + _fmt(v.console_errors))


def test_no_failed_requests_to_the_site(site, toc_page):
    v = site.visit(toc_page)
    # Requests to other hosts fail offline by design and are not counted.
    assert v.failed_own == [], f"{toc_page.docname}: failed requests to the site itself:" + _fmt(v.failed_own)


def test_internal_links_and_anchors_resolve(site, server, toc_page):
    v = site.visit(toc_page)
    own = [link for link in v.links if server.is_own(link["href"])]
    assert own, f"{toc_page.docname}: no internal links at all (navigation missing?)"
    broken = []
    for link in own:
        parts = urlsplit(link["href"])
        target = server.local_file(link["href"])
        if not target.is_file():
            broken.append(f"{link['raw']!r} ({link['text']!r}): no file {target.relative_to(st.HTML_DIR)}")
            continue
        frag = unquote(parts.fragment)
        if frag and target.suffix == ".html" and frag not in st.ids_in(target):
            broken.append(f"{link['raw']!r} ({link['text']!r}): no id {frag!r} in "
                          f"{target.relative_to(st.HTML_DIR)}")
    assert broken == [], f"{toc_page.docname}: internal links that do not resolve:" + _fmt(broken)


def test_images_load_and_have_meaningful_alt(site, toc_page):
    v = site.visit(toc_page)
    bad = []
    for img in v.images:
        if not img["naturalWidth"]:
            bad.append(f"does not load: {img['src'][:120]}")
        problem = st.alt_problem(img["alt"])
        if problem:
            bad.append(f"{problem} <- {img['src'][:120]}")
    assert bad == [], f"{toc_page.docname}: images:" + _fmt(bad)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_no_critical_or_serious(site, toc_page, mode):
    v = site.visit(toc_page)
    if mode == "dark":
        if not v.dark_mode:
            pytest.skip("the theme offers no dark mode on this page (no colour-mode button)")
        assert v.dark_mode == "dark", f"the colour-mode button did not reach dark mode: {v.dark_mode}"
    assert mode in v.axe
    severe = [f"{x['impact']} {x['id']}: {x['help']} -> " + "; ".join(n["target"] for n in x["nodes"][:5])
              for x in v.axe[mode] if x["impact"] in ("critical", "serious")]
    assert severe == [], f"{toc_page.docname} ({mode} mode): axe-core violations:" + _fmt(severe)


def test_axe_moderate_only_from_the_theme(site, toc_page):
    """Moderate and minor findings are printed in the report; none may sit in our own content."""
    v = site.visit(toc_page)
    ours = [f"{mode}: {x['impact']} {x['id']}: {n['target']} {n['html'][:100]}"
            for mode, vs in v.axe.items() for x in vs if x["impact"] in ("moderate", "minor")
            for n in x["nodes"] if n["inArticle"]]
    assert ours == [], f"{toc_page.docname}: axe findings inside the page's own content:" + _fmt(ours)


def test_phone_width_no_horizontal_scroll_and_figures_fit(site, toc_page):
    v = site.visit(toc_page)
    m = v.phone
    problems = []
    if m["innerWidth"] != st.PHONE["width"]:
        problems.append(f"the layout is {m['innerWidth']} px wide on a {st.PHONE['width']} px screen "
                        f"(something too wide makes the phone zoom out)")
    if m["scrollWidth"] > m["clientWidth"] + 1 or m["scrolledX"] > 0:
        problems.append(f"the page scrolls sideways: scrollWidth {m['scrollWidth']} > {m['clientWidth']} "
                        f"(scrollX after scrolling right: {m['scrolledX']})")
    problems += [f"text wider than the screen: {w}" for w in m["wide"]]
    problems += [f"figure not scaled to the screen: {i}" for i in m["imgs"]
                 if i["visible"] and (i["width"] > st.PHONE["width"] or i["right"] > st.PHONE["width"] + 1)]
    assert problems == [], f"{toc_page.docname} at {st.PHONE['width']}x{st.PHONE['height']}:" + _fmt(problems)


def test_screenshots_saved(site, toc_page):
    v = site.visit(toc_page)
    names = {p.name for p in v.screenshots}
    assert {f"{toc_page.slug}-desktop.png", f"{toc_page.slug}-phone.png"} <= names
    for path in v.screenshots:
        data = Path(path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, path


# --------------------------------------------------------------------------------------------
# Launch buttons
# --------------------------------------------------------------------------------------------
def _repo_parts(cfg):
    repo = cfg.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?", url)
    assert m, f"_config.yml repository.url must be a GitHub repository URL, got {url!r}"
    branch = repo.get("branch")
    assert branch, "_config.yml repository.branch is not set (the theme would guess 'master')"
    return m.group(1), m.group(2), str(branch)


def test_launch_buttons(site, server, executable_page):
    """Every notebook page offers Binder and Colab (and JupyterHub, when a hub is set) on its
    students' notebook, ``<page>.ipynb`` on the notebooks branch, and that notebook as a
    download."""
    toc_page = executable_page
    cfg = st.book_config()
    launch = cfg.get("launch_buttons") or {}
    binderhub = str(launch.get("binderhub_url", "")).rstrip("/")
    assert binderhub, "_config.yml launch_buttons.binderhub_url is not set: no Binder button"
    org, repo, _ = _repo_parts(cfg)
    branch = cfg["sphinx"]["config"]["course_notebooks_branch"]
    notebook = toc_page.source.relative_to(st.SITE_ROOT).with_suffix(".ipynb").as_posix()
    v = site.visit(toc_page)
    hrefs = [link["href"] for link in v.links]

    binder = [h for h in hrefs if h.startswith(binderhub + "/v2/")]  # launch links, not mentions
    assert len(binder) == 1, (f"{toc_page.docname}: expected one Binder link, found {binder} (the theme adds "
                              f"launch buttons only to pages with the jupytext/kernelspec header)")
    parts = urlsplit(binder[0])
    assert parts.path == f"/v2/gh/{org}/{repo}/{branch}", (binder[0], (org, repo, branch))
    assert parse_qs(parts.query).get("urlpath") == [f"lab/tree/{notebook}"], binder[0]

    colab_url = str(launch.get("colab_url", "")).rstrip("/")
    colab = [h for h in hrefs if colab_url and h.startswith(colab_url + "/")]
    assert colab == [f"{colab_url}/github/{org}/{repo}/blob/{branch}/{notebook}"], colab

    hub = str(launch.get("jupyterhub_url", "")).rstrip("/")
    pulls = [h for h in hrefs if hub and h.startswith(hub + "/hub/user-redirect/git-pull?")]
    if hub:  # nbgitpuller: this repository's notebooks branch, the page's notebook opened
        query = parse_qs(urlsplit(pulls[0]).query) if len(pulls) == 1 else {}
        assert query == {"repo": [f"https://github.com/{org}/{repo}"], "branch": [branch],
                         "urlpath": [f"lab/tree/{repo}/{notebook}"]}, pulls

    ipynb = [h for h in hrefs if server.is_own(h) and urlsplit(h).path.endswith(".ipynb")]
    assert ipynb, f"{toc_page.docname}: no download link offering the page as .ipynb"
    with urllib.request.urlopen(ipynb[0], timeout=10) as resp:
        nb = json.loads(resp.read().decode("utf-8"))
    assert nb.get("nbformat") == 4 and nb.get("cells"), f"{ipynb[0]} is not a notebook"
    assert urlsplit(ipynb[0]).path.endswith("/" + toc_page.docname + ".ipynb"), ipynb[0]
    text = st.norm_text(" ".join("".join(c.get("source", "")) for c in nb["cells"] if c["cell_type"] == "markdown"))
    assert st.norm_text(v.title) in text, f"the downloaded notebook does not contain the page title {v.title!r}"


def test_prose_pages_offer_no_launch_buttons(site, server, prose_page):
    """A page without code cells is not a notebook: a Binder, Colab or JupyterHub button (or an
    .ipynb download) there would open an empty notebook."""
    cfg = st.book_config()
    launch = cfg.get("launch_buttons") or {}
    v = site.visit(prose_page)
    hrefs = [link["href"] for link in v.links]
    offered = []
    for key in ("binderhub_url", "colab_url", "jupyterhub_url"):
        url = str(launch.get(key) or "").rstrip("/")
        if not url:
            continue
        # Launch links only: the landing page may mention mybinder.org in its prose.
        launch_rx = re.compile(re.escape(url) + r"/(v2/|github/|hub/user-redirect/)")
        offered += [f"{key}: {h}" for h in hrefs if launch_rx.match(h)]
    offered += [f"download: {h}" for h in hrefs if server.is_own(h) and urlsplit(h).path.endswith(".ipynb")]
    assert offered == [], f"{prose_page.docname} has no code cell but offers:" + _fmt(offered)


# --------------------------------------------------------------------------------------------
# Formulas (MathML written at build time, book/_ext/mathml.py)
# --------------------------------------------------------------------------------------------
def test_every_formula_is_mathml_laid_out_with_no_script(site, toc_page):
    """Every formula Sphinx wrote is a <math> element the browser lays out with a size, in
    the site's math font, with no TeX left in it, and no page loads a math script."""
    v = site.visit(toc_page)
    m = v.math
    built = toc_page.html.read_text(encoding="utf-8", errors="replace")
    assert not m["script"], f"{toc_page.docname} loads a math script"
    if 'class="math' not in built:
        assert m["mathElements"] == 0
        return
    assert m["maths"] >= m["mathElements"] > 0, m
    assert m["unrendered"] == [], f"{toc_page.docname}: formulas without MathML:" + _fmt(m["unrendered"])
    assert m["empty"] == [], f"{toc_page.docname}: formulas laid out with no size:" + _fmt(m["empty"])
    assert m["merrors"] == 0 and m["raw"] == [], f"{toc_page.docname}: TeX left in formulas:" + _fmt(m["raw"])
    assert m["font"].startswith('"STIX Two Math"'), m["font"]


def test_the_lesson_shows_every_formula_with_javascript_off(site, lesson_chapter):
    """With JavaScript disabled the formulas are the same MathML, laid out, not raw TeX, on
    every page of the lesson."""
    context = site.browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    n_formulas = 0
    try:
        for toc_page in lesson_chapter:
            page = context.new_page()
            page.goto(site.url(toc_page))
            page.wait_for_load_state("load")
            sizes = page.eval_on_selector_all(
                "math", "ms => ms.filter(m => m.checkVisibility()).map(m => m.getBoundingClientRect().height)")
            text = page.eval_on_selector("article", "a => a.innerText")
            assert min(sizes, default=1) > 0, f"{toc_page.docname}: a formula laid out with no height"
            assert "\\frac" not in text and "\\partial" not in text and "$$" not in text, toc_page.docname
            n_formulas += len(sizes)
            page.close()
        assert n_formulas > 50, f"{n_formulas} formulas in the lesson's pages"
    finally:
        context.close()


# --------------------------------------------------------------------------------------------
# Valid HTML (the Nu HTML checker, npm vnu-jar, on Java)
# --------------------------------------------------------------------------------------------
def test_the_nu_html_checker_finds_no_error(built_site):
    """Every HTML file of the site, the front-door redirect included, is valid HTML."""
    if not st.VNU_JAR.is_file():
        pytest.fail(f"{st.VNU_JAR} is missing: run `npm ci --prefix tests/site`")
    pages = sorted(str(p) for p in built_site.rglob("*.html") if "_static" not in p.parts)
    run = subprocess.run(["java", "-jar", str(st.VNU_JAR), "--errors-only", "--format", "json", *pages],
                         capture_output=True, text=True, timeout=600)
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [f"{m.get('url', '').split('/html/')[-1]}:{m.get('lastLine')}: {m['message']}"
              for m in messages if m["type"] in ("error", "non-document-error")]
    assert errors == [], "\n".join(errors[:20])


# --------------------------------------------------------------------------------------------
# Fonts cut to what the pages use (book/_ext/fonts.py): nothing drawn may be missing
# --------------------------------------------------------------------------------------------
def test_every_icon_and_formula_glyph_is_in_the_served_fonts(built_site):
    import io
    import sys

    from fontTools.ttLib import TTFont

    sys.path.insert(0, str(st.REPO_ROOT / "book" / "_ext"))
    import fonts

    static = built_site / "_static"
    pages = [p.read_text(encoding="utf-8") for p in built_site.rglob("*.html")]
    css = "".join(p.read_text(encoding="utf-8") for p in (static / "styles").glob("*.css"))
    scripts = [p.read_text(encoding="utf-8", errors="replace") for p in (static / "scripts").glob("*.js")]

    def cmap(path):
        return set(TTFont(io.BytesIO(path.read_bytes())).getBestCmap())

    webfonts = static / "vendor" / "fontawesome" / "webfonts"
    drawn = set().union(*(cmap(p) for p in webfonts.glob("*.woff2")))
    missing = fonts.icon_codepoints(pages + scripts, css) - drawn
    assert missing == set(), f"icons not in the served Font Awesome fonts: {sorted(map(hex, missing))}"
    math = {ord(c) for c in fonts.math_text(pages) if not c.isspace()}
    missing = math - cmap(static / "fonts" / fonts.MATH_FONT.name)
    assert missing == set(), f"formula characters not in the served math font: {[chr(c) for c in missing]}"
    assert all(p.stat().st_size < 20_000 for p in webfonts.glob("*.woff2"))


def test_the_one_stylesheet_holds_every_stylesheet_as_the_build_left_it(built_site):
    """book/_ext/first_paint.py joins the stylesheets at the end of the build: after every
    other step that writes one (the theme writes pygments.css's light and dark colours
    then), so the bundle serves each file as it finally is, and pages link nothing else."""
    import sys

    sys.path.insert(0, str(st.REPO_ROOT / "book" / "_ext"))
    import first_paint

    static = built_site / "_static"
    bundle = (static / first_paint.BUNDLE).read_text(encoding="utf-8")
    sheets = sorted(p.relative_to(static).as_posix() for p in static.glob("*.css"))
    sheets += ["styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css"]
    assert "pygments.css" in sheets and "phone.css" in sheets
    stale = [s for s in sheets if first_paint.joined(static, [s]).split("\n", 1)[1] not in bundle]
    assert stale == [], f"stylesheets whose final text is not in {first_paint.BUNDLE}: {stale}"
    for page in built_site.rglob("*.html"):
        links = re.findall(r'<link rel="stylesheet"[^>]*href="([^"]+)"', page.read_text(encoding="utf-8"))
        if links:  # the front door (index.html) is a bare redirect page
            assert [link.rsplit("/", 2)[-2:] for link in links] == [["styles", "book.css"]], page
