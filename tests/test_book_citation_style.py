"""The bibliography's citation styles (book/_ext/citation_style.py): labels in the words of
the citations, sorted by author, and author-year citations in round brackets. The real
build of a tiny project with both is in tests/test_book_site_fixes.py."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pybtex.plugin
import pytest
from pybtex.database import parse_string

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import citation_style  # noqa: E402

BIB = r"""
@article{rumelhart1986, author = {Rumelhart, David E. and Hinton, Geoffrey E. and
  Williams, Ronald J.}, title = {Learning representations by back-propagating errors},
  journal = {Nature}, year = {1986}}
@book{nielsen2015, author = {Nielsen, Michael}, title = {Neural Networks and Deep Learning},
  publisher = {Determination Press}, year = {2015}}
@inproceedings{glorot2010, author = {Glorot, Xavier and Bengio, Yoshua},
  title = {Understanding the difficulty of training deep feedforward neural networks},
  booktitle = {AISTATS}, year = {2010}}
@misc{pytorch2026a, author = {{PyTorch Contributors}}, title = {torch.nn}, year = {2026a}}
"""


def test_bibliography_labels_read_like_the_citations_and_sort_by_author():
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "author_year_labels")()
    entries = parse_string(BIB, "bibtex").entries.values()
    labels = [entry.label for entry in style.format_entries(entries)]
    assert labels == [
        "Glorot & Bengio 2010",
        "Nielsen 2015",
        "PyTorch Contributors 2026a",
        "Rumelhart et al. 1986",
    ]


@pytest.mark.parametrize(
    "role, expected", [("p", "(Rumelhart et al., 1986)"), ("t", "Rumelhart et al. (1986)")]
)
def test_citations_in_the_text_use_round_brackets(role, expected):
    from pybtex_docutils import Backend
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    entry = parse_string(BIB, "bibtex").entries["rumelhart1986"]
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "author_year_labels")()
    formatted = next(iter(style.format_entries([entry])))
    builder = SimpleNamespace(name="html", get_relative_uri=lambda a, b: "bib.html")
    info = SphinxReferenceInfo(builder, "index", "bib", "id1", None, "", "")
    reference_style = citation_style.RoundAuthorYearReferenceStyle()
    text = format_references(reference_style, role, [(entry, formatted, info)])
    assert "".join(n.astext() for n in text.render(Backend())) == expected
