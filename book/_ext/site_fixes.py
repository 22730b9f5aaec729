"""Small, targeted fixes to the stock Jupyter Book 1 HTML (Sphinx 7.4, sphinx-book-theme 1.3).

Each fix says what goes wrong without it; none hides an error, each removes its cause.

1. Duplicate inline scripts. ``app.add_js_file(None, body=...)`` called after the HTML
   builder is initialised (sphinx-thebe does so at ``env-before-read-docs``;
   sphinx-togglebutton too) lands both in the builder (filename ``None``) and in the
   registry, which the builder re-adds before writing as filename ``''``. The two do not
   compare equal, so each page carries the script twice, and the second
   ``const THEBE_JS_URL = ...`` throws "Identifier 'THEBE_JS_URL' has already been
   declared" in the browser. No configuration value avoids it, so each page's
   ``script_files`` and ``css_files`` are de-duplicated here, keeping the first copy.

2. Citation list roles. docutils writes a bibliography as ``<div role="list">`` whose
   children carry ``role="doc-biblioentry"`` (deprecated in DPUB-ARIA 1.1); axe reports
   the critical ``aria-required-children`` because a list must own list items. The
   children are given ``role="listitem"``, which is what the entries are.

3. Stale bibliography on incremental builds. sphinxcontrib-bibtex decides which entries
   a ``{bibliography}`` lists from the citations on *every* page, but Sphinx rewrites only
   the pages it re-read: after a new citation on another page, the bibliography page kept
   its old list and the new citation linked to a missing anchor. Whenever any page is
   re-read or removed, the pages holding a bibliography are rewritten too.

4. A Colab button that opens. Colab opens only ``.ipynb`` files from GitHub, while the
   theme links it to the page's ``.md`` source. When ``course_colab_branch`` is set, the
   Colab link goes to ``blob/<course_colab_branch>/<page>.ipynb`` instead: the deploy
   workflow writes those notebooks (``colab_notebooks.py``) and pushes them there.

5. Author-year citations that read like the bibliography. ``author_year_round`` is
   sphinxcontrib-bibtex's ``author_year`` reference style with round brackets,
   ``(Rumelhart et al., 1986)``; the ``author_year_labels`` formatting style is pybtex's
   ``plain`` (sorted by author, year, title) with labels in the same words,
   ``[Rumelhart et al. 1986]``, instead of alpha labels such as
   ``[PyTorchContributors26a]``. Works by one author in one year carry a year with a
   letter in references.bib (``2016a``), so text and list stay unambiguous. Selected with
   ``bibtex_reference_style`` and ``bibtex_default_style`` in ``_config.yml``.

Fixes 1-4 match markup written by others (docutils, the theme, sphinxcontrib-bibtex), so
each also checks that it still finds its target where it should, and otherwise emits a
Sphinx warning naming the fix and what changed; the build runs with ``-W``, so that fails
it (see "Loud failure" below). Fix 5 fails on its own: an unknown style is an error.
Tests: tests/test_book_site_fixes.py.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from docutils import nodes
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: (Author, Year), Author (Year)."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearReferenceStyle
)


def _surname(person) -> str:
    return " ".join(person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels in the words of the citation: Nielsen 2015, Glorot & Bengio 2010,
    Rumelhart et al. 1986."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_surname(p) for p in people] or [entry.fields.get("title", entry.key)]
            who = names[0] if len(names) == 1 else (
                " & ".join(names) if len(names) == 2 else f"{names[0]} et al.")
            yield f"{who} {entry.fields.get('year', 'n.d.')}"


class BracelessAuthorYearTitleSorting(AuthorYearTitleSorting):
    """pybtex's author-year-title order, ignoring the braces of a corporate author
    ({PyTorch Contributors} sorted under P, not after Z)."""

    def person_key(self, person) -> str:
        return super().person_key(person).replace("{", "").replace("}", "")


class AuthorYearLabelsStyle(PlainStyle):
    default_label_style = "author_year_labels"
    default_sorting_style = "author_year_title_braceless"


pybtex.plugin.register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
pybtex.plugin.register_plugin(
    "pybtex.style.sorting", "author_year_title_braceless", BracelessAuthorYearTitleSorting
)
pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year_labels", AuthorYearLabelsStyle)


# ------------------------------------------------------------------------------------
# Loud failure: each fix below matches markup that the theme, docutils or an extension
# writes. After an upgrade that markup may change and the fix would silently do nothing
# (only the browser tests would notice). So each fix checks, where it is expected to
# apply, that it found its target, and emits a Sphinx warning naming the fix and what
# changed otherwise; the build runs with -W, so the warning fails it. Where a fix has
# legitimately nothing to do (a page without a bibliography, a prose page without launch
# buttons, no duplicate script at all), it stays silent.
logger = logging.getLogger(__name__)

FIX_ASSETS = "fix 1, duplicate scripts"
FIX_ROLES = "fix 2, citation list roles"
FIX_BIBLIOGRAPHY = "fix 3, stale bibliography"
FIX_COLAB = "fix 4, Colab button"


def _warn(fix: str, message: str, location: str | None = None) -> None:
    logger.warning(
        f"site_fixes ({fix}): {message} [book/_ext/site_fixes.py]",
        location=location, type="site_fixes", subtype=fix.split(",")[0].replace(" ", ""),
    )


# ---------------------------------------------------------------- fix 1: duplicate scripts
def _asset_key(asset: Any) -> tuple:
    filename = getattr(asset, "filename", asset) or ""
    attributes = getattr(asset, "attributes", {}) or {}
    return (str(filename), getattr(asset, "priority", 500), tuple(sorted(attributes.items())))


def _dedupe(assets: list) -> list:
    """The assets in order, each kept at its first occurrence (same file or inline body,
    priority and attributes; a filename of None and of '' both mean an inline script)."""
    seen: set[tuple] = set()
    kept = []
    for asset in assets:
        key = _asset_key(asset)
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept


def _describe(asset: Any) -> str:
    if isinstance(asset, str):
        return repr(asset)
    others = {k: v for k, v in asset.attributes.items() if k != "body"}
    return f"priority {getattr(asset, 'priority', '?')}, attributes {others}"


def _asset_problems(assets: list) -> list[str]:
    """Why ``_dedupe`` may no longer work on these (de-duplicated) assets: an entry that is
    not a file name or a Sphinx asset (``filename`` and ``attributes``), or the same file
    or inline script still listed twice (differing only in priority or attributes)."""
    problems, first = [], {}
    for asset in assets:
        if isinstance(asset, str):
            identity = (asset, "")
        elif hasattr(asset, "filename") and isinstance(getattr(asset, "attributes", None), dict):
            identity = (str(asset.filename or ""), asset.attributes.get("body", ""))
        else:
            problems.append(f"an entry of unexpected type {type(asset).__name__} ({asset!r}): "
                            "Sphinx's asset objects changed, so duplicates are no longer recognised")
            continue
        if identity in first:
            what = f"the file {identity[0]!r}" if identity[0] else \
                f"the inline script {identity[1][:40] + '...'!r}"
            problems.append(f"{what} is still listed twice after de-duplication "
                            f"({first[identity]}; {_describe(asset)}): the copies now differ "
                            "in priority or attributes, so the browser loads it twice")
        else:
            first[identity] = _describe(asset)
    return problems


def _fix_assets(pagename: str, context: dict) -> None:
    for name in ("script_files", "css_files"):
        if isinstance(context.get(name), list):
            # A new list: the builder's own list is restored after each page anyway.
            context[name] = _dedupe(context[name])
            for problem in _asset_problems(context[name]):
                _warn(FIX_ASSETS, f"{name}: {problem}", pagename)


# ------------------------------------------------------------- fix 2: citation list roles
OLD_ROLE, NEW_ROLE = 'role="doc-biblioentry"', 'role="listitem"'


def _fix_citation_roles(pagename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if not isinstance(body, str):
        return
    found = body.count(OLD_ROLE)
    citations = sum(1 for _ in doctree.findall(nodes.citation)) if doctree is not None else 0
    if citations and found != citations:
        _warn(FIX_ROLES, f"the page lists {citations} citation(s) but its HTML has {found} "
              f"{OLD_ROLE}: docutils changed how it writes a citation list, so the entries "
              f"of <div role=\"list\"> may no longer be list items (axe "
              f"aria-required-children); check the markup and update the fix", pagename)
    if found:
        context["body"] = body.replace(OLD_ROLE, NEW_ROLE)


# ------------------------------------------------------------- fix 3: stale bibliography
def _note_outdated(app: Sphinx, env, added: set, changed: set, removed: set) -> list:
    app._site_fixes_removed_any = bool(removed)
    return []


def _note_read(app: Sphinx, env, docnames: list[str]) -> None:
    app._site_fixes_read_any = bool(docnames)


def _bibliography_pages(app: Sphinx, env) -> list[str]:
    """The pages holding a {bibliography}, to rewrite whenever a page was read or removed
    (any of them may have added or dropped a citation)."""
    if not (getattr(app, "_site_fixes_read_any", False)
            or getattr(app, "_site_fixes_removed_any", False)):
        return []
    domain = env.get_domain("cite")  # an ExtensionError if sphinxcontrib-bibtex renamed it
    bibliographies = getattr(domain, "bibliographies", None)
    if not isinstance(bibliographies, Mapping):
        _warn(FIX_BIBLIOGRAPHY, "sphinxcontrib-bibtex's cite domain has no 'bibliographies' "
              f"mapping (got {type(bibliographies).__name__}): it changed how it records "
              "bibliographies, so incremental builds may keep a stale bibliography")
        return []
    pages = set()
    for key in bibliographies:
        docname = getattr(key, "docname", None)
        if not isinstance(docname, str):
            _warn(FIX_BIBLIOGRAPHY, f"a bibliography key of the cite domain ({key!r}) has no "
                  "'docname': sphinxcontrib-bibtex changed how it records bibliographies, "
                  "so incremental builds may keep a stale bibliography")
            return []
        pages.add(docname)
    cited = getattr(domain, "citation_refs", None)
    if not pages and cited:
        _warn(FIX_BIBLIOGRAPHY, f"the pages cite {len(cited)} time(s) but the cite domain "
              "records no bibliography: sphinxcontrib-bibtex changed where it records them, "
              "so incremental builds may keep a stale bibliography")
    return sorted(pages)


# ------------------------------------------------------------------ fix 4: Colab button
COLAB_SOURCE_RX = re.compile(r"/blob/[^/]+/(.+)\.(?:md|ipynb)$")


def _is_notebook_page(app: Sphinx, pagename: str, context: dict) -> bool:
    """sphinx-book-theme's test for a page that gets launch buttons."""
    metadata = app.env.metadata.get(pagename, {})
    return "kernelspec" in metadata or "ipynb" in str(context.get("page_source_suffix", ""))


def _point_colab_at_notebooks(app: Sphinx, pagename: str, context: dict) -> None:
    branch = app.config.course_colab_branch
    if not branch:
        return
    groups = [g for g in context.get("header_buttons", []) if isinstance(g, dict)]
    buttons = [b for g in groups for b in g.get("buttons", []) if isinstance(b, dict)]
    colab = [b for b in buttons if b.get("text") == "Colab"]
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    if launch.get("colab_url") and _is_notebook_page(app, pagename, context) and not colab:
        names = ", ".join(repr(b.get("text")) for b in buttons) or "none"
        _warn(FIX_COLAB, f"course_colab_branch is {branch!r}, launch_buttons.colab_url is "
              "set and this page is a notebook, but sphinx-book-theme gave it no header "
              f"button with text 'Colab' (buttons: {names}): the theme changed its launch "
              "buttons, so the Colab link (if any) still opens the .md source", pagename)
    for button in colab:
        url = str(button.get("url") or "")
        new, count = COLAB_SOURCE_RX.subn(rf"/blob/{branch}/\1.ipynb", url)
        if count != 1:
            _warn(FIX_COLAB, f"the Colab button's URL {url!r} does not end in "
                  "/blob/<branch>/<page>.md (or .ipynb): the theme changed its Colab links, so the "
                  f"button does not open the notebook on the {branch!r} branch", pagename)
            continue
        button["url"] = new


def _fix_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    _fix_assets(pagename, context)
    _point_colab_at_notebooks(app, pagename, context)
    _fix_citation_roles(pagename, context, doctree)


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_colab_branch", "", "html", types=[str])
    app.connect("env-get-outdated", _note_outdated)
    app.connect("env-before-read-docs", _note_read)
    app.connect("env-get-updated", _bibliography_pages)
    # Late priority: run after the theme and extensions have added their per-page assets.
    app.connect("html-page-context", _fix_page, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
