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

5. Author-year citations that read like the bibliography. ``author_year_round`` is
   sphinxcontrib-bibtex's ``author_year`` reference style with round brackets,
   ``(Rumelhart et al., 1986)``; the ``author_year_labels`` formatting style is pybtex's
   ``plain`` (sorted by author, year, title) with labels in the same words,
   ``[Rumelhart et al. 1986]``, instead of alpha labels such as
   ``[PyTorchContributors26a]``. Works by one author in one year carry a year with a
   letter in references.bib (``2016a``), so text and list stay unambiguous. Selected with
   ``bibtex_reference_style`` and ``bibtex_default_style`` in ``_config.yml``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
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
