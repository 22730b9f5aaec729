"""Licenses and citation: every file licensed (REUSE), and the facts they repeat agree.

CITATION.cff is the original work's citation (a fork keeps it, as the credit CC BY asks
for); _config.yml holds the site's own identity (a fork changes it). The original's holder
and year appear in LICENSE, REUSE.toml and CITATION.cff, each in its own format; these tests
hold them to one value, read from CITATION.cff, and never name the original themselves. `cffconvert --validate` runs in .ci/run (it pins a
jsonschema that JupyterLab cannot share a virtual environment with).
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def config() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def test_every_file_has_a_license_and_a_copyright():
    reuse = shutil.which("reuse", path=str(Path(sys.executable).parent)) or shutil.which("reuse")
    if reuse is None:
        pytest.fail("the `reuse` tool is missing: pip install -r requirements.txt")
    lint = subprocess.run([reuse, "--root", str(REPO), "lint"], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout[-3000:]


def original_holder() -> tuple[str, str]:
    """(year, holder) of the original work: CITATION.cff, which a fork keeps."""
    cff = citation()
    names = " and ".join(
        a.get("name") or f"{a['given-names']} {a['family-names']}" for a in cff["authors"]
    )
    return str(cff["date-released"])[:4], names


def is_the_original() -> bool:
    """Whether this checkout is the original (its repository is the citation's) or a fork."""

    def norm(url: str) -> str:
        return url.strip().removesuffix("/").removesuffix(".git").lower()

    return norm(config()["repository"]["url"]) == norm(citation()["repository-code"])


def test_the_original_holder_is_the_same_in_the_citation_license_and_reuse():
    """LICENSE and REUSE.toml carry the original's notice, which MIT and CC BY ask a fork to
    keep; a fork may add its own beside it."""
    year, holder = original_holder()
    assert f"Copyright (c) {year} {holder}" in (REPO / "LICENSE").read_text(encoding="utf-8")
    reuse = tomllib.loads((REPO / "REUSE.toml").read_text(encoding="utf-8"))
    ours = [a for a in reuse["annotations"] if a["SPDX-License-Identifier"] in ("MIT", "CC-BY-4.0")]
    notices = [a["SPDX-FileCopyrightText"] for a in ours]
    notices = [n for notice in notices for n in ([notice] if isinstance(notice, str) else notice)]
    assert f"{year} {holder}" in notices, notices


def test_the_site_names_its_holder_and_year():
    """_config.yml's author and copyright are the site's (a fork's adapter, or the original's
    authors, then the same as CITATION.cff)."""
    author, copyright = config()["author"], str(config()["copyright"])
    match = re.fullmatch(r"(\d{4})(?:[–-]\d{4})? (.+)", copyright)
    assert match, f"_config.yml copyright: {copyright!r} is not 'YEAR holder'"
    assert match.group(2) == author, (
        f"_config.yml: copyright names {match.group(2)!r}, author is {author!r}"
    )
    if is_the_original():
        assert (match.group(1), author) == original_holder()


def test_code_is_mit_text_is_cc_by_and_the_license_texts_are_there():
    assert sorted(citation()["license"]) == ["CC-BY-4.0", "MIT"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    for spdx in ("MIT", "CC-BY-4.0", "OFL-1.1"):
        assert (REPO / "LICENSES" / f"{spdx}.txt").stat().st_size > 500, spdx
    assert "Attribution 4.0 International" in (REPO / "LICENSES" / "CC-BY-4.0.txt").read_text(
        encoding="utf-8"
    )


def test_the_citation_names_this_version_and_its_site():
    cff = citation()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(cff["version"]) == project["version"]
    owner, name = cff["repository-code"].rstrip("/").split("/")[-2:]
    assert cff["url"] == f"https://{owner}.github.io/{name}/"
    # the site's own repository (the original's, or a fork's) is on GitHub: its address,
    # launch buttons and notebooks branch follow it
    assert re.fullmatch(r"https://github\.com/[^/]+/[^/]+?/?", config()["repository"]["url"])
