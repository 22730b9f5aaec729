"""Licenses and citation: every file licensed (REUSE), and the facts they repeat agree.

The copyright holder, the version and the repository appear in files that must each say it
in their own format (LICENSE, REUSE.toml, CITATION.cff, pyproject.toml, _config.yml);
these tests hold them to one value. `cffconvert --validate` runs in .ci/run (it pins a
jsonschema that JupyterLab cannot share a virtual environment with).
"""
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


def test_the_holder_is_the_same_everywhere():
    holder = citation()["authors"][0]["name"]
    assert config()["author"] == holder
    assert config()["copyright"] == f"2026 {holder}"
    assert f"Copyright (c) 2026 {holder}" in (REPO / "LICENSE").read_text(encoding="utf-8")
    reuse = tomllib.loads((REPO / "REUSE.toml").read_text(encoding="utf-8"))
    ours = [a for a in reuse["annotations"] if a["SPDX-License-Identifier"] in ("MIT", "CC-BY-4.0")]
    assert {a["SPDX-FileCopyrightText"] for a in ours} == {f"2026 {holder}"}


def test_code_is_mit_text_is_cc_by_and_the_license_texts_are_there():
    assert sorted(citation()["license"]) == ["CC-BY-4.0", "MIT"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    for spdx in ("MIT", "CC-BY-4.0", "OFL-1.1"):
        assert (REPO / "LICENSES" / f"{spdx}.txt").stat().st_size > 500, spdx
    assert "Attribution 4.0 International" in (REPO / "LICENSES" / "CC-BY-4.0.txt").read_text(encoding="utf-8")


def test_the_citation_names_this_version_and_repository():
    cff = citation()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(cff["version"]) == project["version"]
    assert cff["repository-code"] == config()["repository"]["url"]
    owner, name = cff["repository-code"].rstrip("/").split("/")[-2:]
    assert cff["url"] == f"https://{owner}.github.io/{name}/"
