"""The bibliography's citation styles, registered with pybtex and sphinxcontrib-bibtex.

The citation style, selected in ``_config.yml``: ``author_year_round`` is
sphinxcontrib-bibtex's author-year reference style in round brackets, ``(Rumelhart et
al., 1986)``; ``author_year_labels`` is pybtex's ``plain`` style sorted by author, year and
title (a corporate author's braces ignored), labelled in the same words,
``[Rumelhart et al. 1986]``. Tests: tests/test_book_citation_style.py.
"""

from dataclasses import dataclass, field

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle
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


def _surname(person) -> str:
    return " ".join(person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels in the words of the citation: Nielsen 2015, Glorot & Bengio 2010,
    Rumelhart et al. 1986."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_surname(p) for p in people] or [entry.fields.get("title", entry.key)]
            who = (
                names[0]
                if len(names) == 1
                else (" & ".join(names) if len(names) == 2 else f"{names[0]} et al.")
            )
            yield f"{who} {entry.fields.get('year', 'n.d.')}"


class BracelessAuthorYearTitleSorting(SortingStyle):
    """Author-year-title order, a corporate author's braces ignored ({PyTorch Contributors}
    sorted under P, not after Z)."""

    def person_key(self, person) -> str:
        return super().person_key(person).replace("{", "").replace("}", "")


class AuthorYearLabelsStyle(PlainStyle):
    default_label_style = "author_year_labels"
    default_sorting_style = "author_year_title_braceless"


sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearReferenceStyle
)
pybtex.plugin.register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
pybtex.plugin.register_plugin(
    "pybtex.style.sorting", "author_year_title_braceless", BracelessAuthorYearTitleSorting
)
pybtex.plugin.register_plugin(
    "pybtex.style.formatting", "author_year_labels", AuthorYearLabelsStyle
)


def setup(app: Sphinx) -> dict:
    """The styles are registered on import; selecting them is _config.yml's."""
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
