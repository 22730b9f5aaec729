"""The GitHub workflow: it runs what gates a landing, on current actions, and lints clean.

GitHub removed Node 20 from its runners on 2026-09-16; the majors below are the first
that run on Node 24 (checkout v5 and setup-python v6 did too, but v7 is current).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
#: The oldest major of each action that the workflows may use.
CURRENT_MAJORS = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/upload-artifact": 7,
    "actions/download-artifact": 8,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
}


def _workflows() -> dict[str, dict]:
    return {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(WORKFLOWS.glob("*.yml"))
    }


def _steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def test_the_publishing_workflow_runs_the_ci_script_before_it_uploads_the_site():
    build = _workflows()["deploy.yml"]["jobs"]["build"]
    runs = [step.get("run", "") for step in build["steps"]]
    uses = [step.get("uses", "") for step in build["steps"]]
    assert "bash .ci/run" in runs
    upload = next(i for i, u in enumerate(uses) if u.startswith("actions/upload-pages-artifact"))
    assert runs.index("bash .ci/run") < upload
    # GitHub uses the Python that CI and Binder use
    setup = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"


def test_every_action_is_on_a_current_major():
    for name, workflow in _workflows().items():
        for step in _steps(workflow):
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            assert action in CURRENT_MAJORS, f"{name}: {action} has no known current major"
            major = re.fullmatch(r"v(\d+)", ref)
            assert major and int(major.group(1)) >= CURRENT_MAJORS[action], (
                f"{name}: {step['uses']} is older than v{CURRENT_MAJORS[action]}"
            )


def test_checkouts_keep_no_credentials():
    for name, workflow in _workflows().items():
        for step in _steps(workflow):
            if step.get("uses", "").startswith("actions/checkout"):
                assert step.get("with", {}).get("persist-credentials") is False, name


def test_zizmor_finds_nothing():
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if zizmor is None:
        pytest.fail("zizmor is not installed: pip install -r requirements.txt")
    run = subprocess.run(
        [zizmor, "--offline", "--format", "json", "--persona", "pedantic", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    findings = json.loads(run.stdout or "[]")
    assert findings == [], "\n".join(
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}" for f in findings
    )
    assert run.returncode == 0, run.stderr


def test_binder_is_pre_warmed_after_the_notebooks_are_pushed():
    """The launch buttons open the notebooks branch: that is the image to build at once."""
    jobs = _workflows()["deploy.yml"]["jobs"]
    warm = [j for j in jobs.values() if "mybinder.org/build/gh/" in json.dumps(j)]
    assert len(warm) == 1, "no job asks mybinder.org to build after a deploy"
    assert warm[0]["needs"] == "notebooks" and warm[0]["permissions"] == {}
    run = " ".join(s.get("run", "") for s in warm[0]["steps"])
    assert "mybinder.org/build/gh/${GITHUB_REPOSITORY}/notebooks" in run


def test_the_notebooks_branch_is_published_by_the_tested_script_without_force():
    """The workflow publishes with .ci/publish-notebooks (tests/binder/test_publish_notebooks.py
    publishes twice with it and pulls with nbgitpuller): a new commit on the branch, never a
    rewritten one, which would lock every student out of their next pull."""
    notebooks = _workflows()["deploy.yml"]["jobs"]["notebooks"]
    runs = "\n".join(step.get("run", "") for step in notebooks["steps"])
    assert "bash .ci/publish-notebooks " in runs
    script = (REPO / ".ci" / "publish-notebooks").read_text(encoding="utf-8")
    for text in [runs, script]:
        commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        assert not [c for c in commands if re.search(r"--force|push -f\b|\+HEAD:|\+refs/", c)], (
            commands
        )
