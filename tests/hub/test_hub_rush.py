"""A login rush (`pytest -m hub`): a class logs in and launches the starter at the same moment.

HUB_RUSH_STUDENTS students (12 by default; at least 10) each log in with plain HTTP, follow
the starter's launch link and open the notebook, all released together. Every server must
start, every nbgitpuller clone finish and every request answer, with nothing retried.
benchmarks/hub_load.py runs the same rush and prints its times and memory.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

import _hub

pytestmark = [pytest.mark.hub, pytest.mark.timeout(600)]

STUDENTS = max(10, int(os.environ.get("HUB_RUSH_STUDENTS", "12")))


def test_a_class_logs_in_and_launches_the_starter_at_once(hub):
    repo_name = _hub.repository_url().rstrip("/").split("/")[-1]
    names = [f"rush-{i:03d}" for i in range(STUDENTS)]
    result = _hub.rush(hub, names, f"lab/tree/{repo_name}/book/starter.ipynb")
    try:
        assert result.failures == [], "\n".join(result.failures) + "\n" + hub.log_tail()
        assert sorted(r.name for r in result.launches) == names
        for r in result.launches:
            assert r.spawn_s > 0 and r.lab_status == 200, r
            assert r.pull_events[-1] == {"phase": "finished"}
            assert (hub.homes / r.name / repo_name / "book" / "starter.ipynb").is_file()
        running = hub.api("GET", "/users", params={"state": "ready"}).json()
        assert set(names) <= {u["name"] for u in running}
        used = _hub.memory(hub)
        assert set(names) <= set(used["students"])
        assert all(len(used["students"][n]["kernels"]) == 1 for n in names)  # the starter's kernel
    finally:  # their servers stop together, leaving the machine to the next tests
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(lambda name: hub.api("DELETE", f"/users/{name}/server", timeout=120), names))
