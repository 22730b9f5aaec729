"""Credit and citation from CITATION.cff (book/_ext/course_citation.py)."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
import course_citation  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CFF = {
    "title": "Week 3 · MLPs & Backprop: a book",
    "version": "0.1.0",
    "date-released": "2026-12-01",
    "url": "https://o.github.io/r/",
    "repository-code": "https://github.com/o/r",
    "authors": [{"name": "The Course Team"}, {"given-names": "Ada", "family-names": "Lovelace"}],
}


def test_bibtex_braces_a_team_escapes_tex_and_keeps_every_field():
    entry = course_citation.bibtex(CFF)
    assert entry.startswith("@misc{lovelace2026week3,\n")
    fields = dict(re.findall(r"^  (\w+)\s+= \{(.*)\},?$", entry, re.M))
    assert fields["author"] == "{The Course Team} and Lovelace, Ada"  # a team is one name
    assert fields["title"] == r"{Week 3 · MLPs \& Backprop: a book}"
    assert (fields["year"], fields["version"], fields["url"]) == ("2026", "0.1.0", CFF["url"])
    assert fields["note"] == "Code: https://github.com/o/r"


def test_the_footer_credits_the_work_and_a_fork_credits_it_as_adapted():
    own = course_citation.footer(CFF, "https://github.com/o/r.git")
    assert own.startswith("<p") and 'Text and figures: “<a href="https://o.github.io/r/">' in own
    assert "MLPs &amp; Backprop" in own and "by The Course Team and Ada Lovelace" in own
    assert 'rel="license">CC BY 4.0</a>' in own and "MIT" in own
    fork = course_citation.footer(CFF, "https://github.com/physics/r")
    assert fork.startswith(
        '<p class="course-license">Adapted from “<a href="https://o.github.io/r/">'
    )
    assert "its text and figures are licensed under" in fork


def test_the_site_address_follows_the_repository():
    assert (
        course_citation.pages_url("https://github.com/owner/repo")
        == "https://owner.github.io/repo/"
    )
    assert (
        course_citation.pages_url("https://github.com/owner/repo.git/")
        == "https://owner.github.io/repo/"
    )
    assert (
        course_citation.pages_url("https://gitlab.com/owner/repo") == ""
    )  # not guessed: set html.baseurl


def test_the_repository_citation_reads_and_converts():
    cff = course_citation.read_citation(REPO)
    assert (
        course_citation.bibtex(cff).count("\n")
        == len(("author", "title", "year", "version", "url", "note")) + 1
    )
