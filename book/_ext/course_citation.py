"""Credit and citation, from ``CITATION.cff``: the one place that says who wrote the week.

* the site's footer gives the attribution CC BY 4.0 asks for: the work's title, its
  authors, its licenses (text and figures CC BY 4.0, code MIT). ``CITATION.cff`` is the
  original's and a fork keeps it; a fork's own identity is in ``_config.yml``. When
  ``repository: url:`` there is not the citation's ``repository-code``, the site is a fork
  and its footer reads "Adapted from ...", so the original stays credited;
* ``{course-bibtex}`` writes the BibTeX entry for the week (the landing page shows it);
* ``html.baseurl``, if empty, is the repository's GitHub Pages address
  (``github.com/<owner>/<repo>`` -> ``<owner>.github.io/<repo>/``), so a fork changes its
  repository URL in one place.

Tests: tests/test_book_course_citation.py.
"""

import re
from html import escape
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util.docutils import SphinxDirective

LICENSE_URLS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "MIT": "https://opensource.org/license/mit",
}


def read_citation(root: Path) -> dict:
    return yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))


def authors(cff: dict) -> str:
    return " and ".join(
        a.get("name") or f"{a['given-names']} {a['family-names']}" for a in cff["authors"]
    )


def bibtex(cff: dict) -> str:
    """The week as a BibTeX ``@misc`` entry; an author that is a team is braced whole."""

    def tex(text: str) -> str:
        return re.sub(r"([&%$#_])", r"\\\1", str(text))

    names = " and ".join(
        "{" + tex(a["name"]) + "}"
        if "name" in a
        else f"{tex(a['family-names'])}, {tex(a['given-names'])}"
        for a in cff["authors"]
    )
    fields = {
        "author": names,
        "title": "{" + tex(cff["title"]) + "}",
        "year": str(cff["date-released"])[:4],
        "version": cff["version"],
        "url": cff["url"],
        "note": f"Code: {cff['repository-code']}",
    }
    key = re.sub(r"\W+", "", authors(cff).split()[-1]).lower() + fields["year"] + "week3"
    body = ",\n".join(f"  {k:<8} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{{key},\n{body}\n}}"


def same_repository(a: str, b: str) -> bool:
    """Whether two repository URLs name one repository (case, ``.git`` and slashes aside)."""
    return len({re.sub(r"(\.git)?/*$", "", (url or "").strip()).lower() for url in (a, b)}) == 1


def footer(cff: dict, repository: str) -> str:
    """The attribution, as HTML for the theme's extra footer; a fork (a site whose repository
    is not the citation's) credits the original as what it adapted."""
    work = f'“<a href="{escape(cff["url"])}">{escape(cff["title"])}</a>” by {escape(authors(cff))}'
    own = same_repository(repository, cff["repository-code"])
    credit = (
        f"Text and figures: {work}," if own else f"Adapted from {work}; its text and figures are"
    )
    return (
        f'<p class="course-license">{credit} licensed under <a href="{LICENSE_URLS["CC-BY-4.0"]}" '
        f'rel="license">CC BY 4.0</a>; code under the <a href="{LICENSE_URLS["MIT"]}">MIT '
        "License</a>.</p>"
    )


def pages_url(repository: str) -> str:
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?/?", repository or "")
    return f"https://{m.group(1)}.github.io/{m.group(2)}/" if m else ""


def _configure(app: Sphinx, config: Config) -> None:
    repository = config.html_theme_options.get("repository_url", "")
    footer_html = footer(read_citation(Path(app.confdir)), repository)
    config.html_theme_options = {**config.html_theme_options, "extra_footer": footer_html}
    config.html_baseurl = config.html_baseurl or pages_url(repository)


class CourseBibtex(SphinxDirective):
    """``{course-bibtex}``: the week's BibTeX entry, from CITATION.cff, as a code block."""

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.app.confdir)
        self.env.note_dependency(str(root / "CITATION.cff"))
        text = bibtex(read_citation(root))
        return [nodes.literal_block(text, text, language="bibtex")]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=950)
    app.add_directive("course-bibtex", CourseBibtex)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
