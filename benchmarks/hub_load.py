"""A login rush on a real JupyterHub, measured: how long students wait, and what memory the
hub and each student's session take, against jupyterhub/config.yaml's sizing.

    .venv/bin/python benchmarks/hub_load.py [--students 12 24 ...]

Needs a built book (README command 1) and `npm ci --prefix tests/hub`; the hub's environment
(_build/tools/hub) is created on first use. For each class size: a fresh hub on 127.0.0.1
(tests/hub/_hub.py: the hub suite's), the notebooks branch published with
.ci/publish-notebooks, then every student logs in, follows the starter's launch link and opens
the notebook at the same moment (plain HTTP, as tests/hub/test_hub_rush.py does). Printed:
spawn (click to server ready), pull (nbgitpuller's clone), kernel (the notebook's kernel
started, as JupyterLab does on opening it) and the whole launch, median and maximum; the CPU
time each server used to start and pull; the hub's
and the proxy's memory; each session's memory (server + the idle kernel), RSS and PSS.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "hub"))

import _hub  # noqa: E402


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG])i?", str(quantity)).groups()
    return float(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def measure(students: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
        tmp = Path(tmp)
        remote = _hub.bare_remote(tmp / "notebooks.git")
        _hub.publish(remote, _hub.notebooks_branch())
        available_before = psutil.virtual_memory().available
        with _hub.Hub(tmp / "hub", remote) as hub:
            (tmp / "hub").mkdir(exist_ok=True)
            repo_name = _hub.repository_url().rstrip("/").split("/")[-1]
            names = [f"load-{i:03d}" for i in range(students)]
            result = _hub.rush(hub, names, f"lab/tree/{repo_name}/book/starter.ipynb")
            time.sleep(2)  # let the servers settle after the rush
            used = _hub.memory(hub)
            machine = (available_before - psutil.virtual_memory().available) / 2**20
    sessions = [(s["server"][0] + sum(k[0] for k in s["kernels"]), s["server"][1] + sum(k[1] for k in s["kernels"]))
                for s in used["students"].values()]
    return {"students": students, "failures": result.failures, "wall": result.wall_s,
            "spawn": [r.spawn_s for r in result.launches], "pull": [r.pull_s for r in result.launches],
            "kernel": [r.kernel_s for r in result.launches], "total": [r.total_s + r.kernel_s for r in result.launches],
            "hub": used["hub"], "proxy": used["proxy"], "sessions": sessions,
            "server_cpu": [s["server_cpu_s"] for s in used["students"].values()], "machine": machine}


def med_max(values) -> str:
    return f"{statistics.median(values):.1f} / {max(values):.1f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[12])
    args = parser.parse_args()
    _hub.ensure_venv()
    rows = [measure(n) for n in args.students]
    print("\nLogin rush: every student logs in, launches the starter and opens it at once "
          f"({psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB)\n")
    print("| students | failed | spawn s (median / max) | pull s | kernel s | whole launch s | "
          "server CPU s | hub RSS MiB | proxy RSS MiB | session RSS MiB (median / max) | session PSS MiB | "
          "machine MiB used |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['students']} | {len(r['failures'])} | {med_max(r['spawn'])} | {med_max(r['pull'])} | "
              f"{med_max(r['kernel'])} | {med_max(r['total'])} | {med_max(r['server_cpu'])} | {r['hub'][0]:.0f} | {r['proxy'][0]:.0f} | "
              f"{med_max([s[0] for s in r['sessions']])} | {med_max([s[1] for s in r['sessions']])} | "
              f"{r['machine']:.0f} |")
    for r in rows:
        for failure in r["failures"]:
            print(f"  failed ({r['students']} students): {failure}")
    config = yaml.safe_load((REPO / "jupyterhub" / "config.yaml").read_text(encoding="utf-8"))
    guarantee = mebibytes(config["singleuser"]["memory"]["guarantee"])
    worst = max(max(s[0] for s in r["sessions"]) for r in rows if r["sessions"])
    print(f"\njupyterhub/config.yaml guarantees {guarantee:.0f} MiB a student; a session just "
          f"launched (server + idle kernel) holds at most {worst:.0f} MiB RSS here, "
          f"{worst / guarantee:.0%} of it (the rest is for running the cells: "
          "benchmarks/session_resources.py).")


if __name__ == "__main__":
    main()
