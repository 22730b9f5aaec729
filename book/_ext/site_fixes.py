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
   re-read, the pages holding a bibliography are rewritten too.

4. A Colab button that opens. Colab opens only ``.ipynb`` files from GitHub, while the
   theme links it to the page's ``.md`` source. When ``course_colab_branch`` is set, the
   Colab link goes to ``blob/<course_colab_branch>/<page>.ipynb`` instead: the deploy
   workflow writes those notebooks (``colab_notebooks.py``) and pushes them there.

5. Round brackets for author-year citations: ``author_year_round`` is sphinxcontrib-bibtex's
   ``author_year`` style with ``(Rumelhart et al., 1986)`` instead of ``[...]``. Selected
   with ``bibtex_reference_style: author_year_round`` in ``_config.yml``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sphinxcontrib.bibtex.plugin
from sphinx.application import Sphinx
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


def _asset_key(asset: Any) -> tuple:
    filename = getattr(asset, "filename", asset) or ""
    attributes = getattr(asset, "attributes", {}) or {}
    return (str(filename), getattr(asset, "priority", 500), tuple(sorted(attributes.items())))


def _dedupe(assets: list) -> list:
    seen: set[tuple] = set()
    kept = []
    for asset in assets:
        key = _asset_key(asset)
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept


def _point_colab_at_notebooks(app: Sphinx, context: dict) -> None:
    branch = app.config.course_colab_branch
    if not branch:
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab" and button.get("url"):
                button["url"] = re.sub(
                    r"/blob/[^/]+/(.+)\.md$", rf"/blob/{branch}/\1.ipynb", button["url"]
                )


def _fix_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for name in ("script_files", "css_files"):
        if isinstance(context.get(name), list):
            # A new list: the builder's own list is restored after each page anyway.
            context[name] = _dedupe(context[name])
    _point_colab_at_notebooks(app, context)
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def _note_read(app: Sphinx, env, docnames: list[str]) -> None:
    app._site_fixes_read_any = bool(docnames)


def _bibliography_pages(app: Sphinx, env) -> list[str]:
    if not getattr(app, "_site_fixes_read_any", False):
        return []
    domain = env.get_domain("cite")
    return sorted({key.docname for key in domain.bibliographies})


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_colab_branch", "", "html", types=[str])
    app.connect("env-before-read-docs", _note_read)
    app.connect("env-get-updated", _bibliography_pages)
    # Late priority: run after the theme and extensions have added their per-page assets.
    app.connect("html-page-context", _fix_page, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
