"""What one student's session uses: memory and CPU, for sizing a JupyterHub (or Binder).

In a fresh virtual environment installed from ``binder/requirements.txt`` (what Binder and
the hub's image install) and ``binder/postBuild``, it runs:

1. a JupyterLab server, idle, as a launch starts it: its peak resident memory;
2. each students' notebook (``_build/html/_sources/book/*.ipynb``; build the book first) in
   a fresh kernel, top to bottom, as a student does: the kernel's peak resident memory
   (``ru_maxrss``), its CPU seconds and the wall time.

Then prints the per-student figures the hub's ``jupyterhub/config.yaml`` is sized from: a
session is the server plus one kernel at its peak; the memory guarantee is that with 50 %
headroom, the limit twice it; the CPU guarantee is a quarter CPU, and the table says how
much longer "run all" takes when a whole class runs it at once.

Run: ``python benchmarks/session_resources.py`` from the repository root (a few minutes:
the install is most of it). ``--offline`` leaves out the requirements' index options,
for a machine whose pip finds the CPU torch locally; ``--venv DIR`` reuses an environment.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "_build" / "html" / "_sources" / "book"
#: CPUs guaranteed to each student: a session is mostly reading, with bursts of one CPU.
CPU_GUARANTEE = 0.25

# Runs inside the session's environment: one notebook in a fresh kernel, then the kernel
# reports its own peak memory and CPU time (a last cell, not part of the notebook).
RUN_ONE = r"""
import json, sys, time, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(
    "import json, resource, time\n"
    "u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(json.dumps({'rss_mib': u.ru_maxrss / 1024, 'cpu_s': u.ru_utime + u.ru_stime}))"))
start = time.perf_counter()
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
stats = json.loads(nb.cells[-1].outputs[0]["text"])
print(json.dumps({**stats, "wall_s": time.perf_counter() - start}))
"""


def make_venv(folder: Path, offline: bool) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    requirements = folder / "requirements.txt"
    lines = (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements.write_text("\n".join(l for l in lines if not (offline and l.startswith("--"))) + "\n")
    subprocess.run([folder / "bin" / "pip", "install", "-q", "-r", requirements], check=True)
    env = {"PATH": f"{folder / 'bin'}:/usr/bin:/bin"}
    subprocess.run(["bash", REPO / "binder" / "postBuild"], cwd=REPO, env=env, check=True)
    return folder


def server_peak_mib(venv: Path, root: Path) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([venv / "bin" / "jupyter", "lab", "--no-browser", "--allow-root",
                             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                             "--IdentityProvider.token=", f"--ServerApp.root_dir={root}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(3)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="an environment already installed from binder/")
    parser.add_argument("--offline", action="store_true", help="leave out the index options")
    args = parser.parse_args()
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        sys.exit(f"no notebooks in {NOTEBOOKS}: build the book first")
    with tempfile.TemporaryDirectory() as tmp:
        venv = args.venv or make_venv(Path(tmp) / "venv", args.offline)
        python = venv / "bin" / "python"
        version = subprocess.run([python, "-c", "import torch, sys; print(sys.version.split()[0], "
                                  "torch.__version__)"], capture_output=True, text=True).stdout.strip()
        server = server_peak_mib(venv, Path(tmp))
        rows = []
        for nb in notebooks:
            work = Path(tmp) / nb.stem
            work.mkdir()
            out = subprocess.run([python, "-c", RUN_ONE, nb, work], capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{nb.name} failed in the session's environment:\n{out.stderr[-3000:]}")
            rows.append((nb.name, json.loads(out.stdout.strip().splitlines()[-1])))
    print(f"environment: Python, torch = {version}; {shutil.os.cpu_count()} CPUs\n")
    print(f"{'process':34s}{'peak RSS (MiB)':>15s}{'CPU (s)':>9s}{'wall (s)':>10s}{'mean CPUs':>11s}")
    print(f"{'JupyterLab server, idle':34s}{server:15.0f}")
    for name, r in rows:
        print(f"{'kernel: ' + name:34s}{r['rss_mib']:15.0f}{r['cpu_s']:9.1f}{r['wall_s']:10.1f}"
              f"{r['cpu_s'] / r['wall_s']:11.2f}")
    session = server + max(r["rss_mib"] for _, r in rows)
    guarantee = 128 * math.ceil(1.5 * session / 128)
    cpu = max(r["cpu_s"] / r["wall_s"] for _, r in rows)
    print(f"\none session (server + the largest kernel at its peak): {session:.0f} MiB")
    print(f"memory guarantee, +50 %, in 128 MiB steps: {guarantee} MiB; limit: {2 * guarantee} MiB")
    slowest = max(r["wall_s"] for _, r in rows)
    print(f"CPU: the busiest notebook uses {cpu:.2f} CPUs while it runs all its cells; at a "
          f"guarantee of {CPU_GUARANTEE} CPU, a class running every cell at once waits at most "
          f"{cpu / CPU_GUARANTEE:.1f}x as long ({slowest * cpu / CPU_GUARANTEE:.0f} s for the "
          "slowest notebook); reading and typing use next to none")
    for cpus, gib in ((4, 16), (8, 32), (16, 64)):
        by_memory = int(0.9 * gib * 1024 // guarantee)  # 10 % of the node for the system
        by_cpu = int(0.9 * cpus / CPU_GUARANTEE)
        print(f"a {cpus}-CPU, {gib} GiB node: {min(by_memory, by_cpu)} students "
              f"({by_memory} by memory, {by_cpu} by CPU guarantee)")


if __name__ == "__main__":
    main()
