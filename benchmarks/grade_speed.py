"""How long grading a class takes: seconds per submission, and 300 submissions projected.

Grades ``--copies`` copies of the rehearsal set (autograder/rehearsal.py) without its
endless loop, with the README's command (``autograder/grade.py``, one notebook per CPU at
a time), and prints a table: the machine's load average (other work slows the batch), the
wall time of the batch, seconds per notebook run, each notebook's own time in its sandbox,
and the projection for a class of 300 on this machine against the target of an hour. A
notebook that hits the time limit costs up to the limit (CPU seconds) on its own; that is
a line of its own.

Run: ``python benchmarks/grade_speed.py`` from the repository root (about 2 minutes).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from autograder import rehearsal  # noqa: E402

CLASS, TARGET = 300, 3600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of the rehearsal set (1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        files = {n: b for n, b in rehearsal.submissions().items() if n != "endless-loop.ipynb"}
        for copy in range(opts.copies):
            for name, data in files.items():
                (folder / f"{copy:03d}-{name}").write_bytes(data)
        n = len(list(folder.iterdir()))
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "autograder/grade.py", str(folder), "--out",
                              str(Path(tmp) / "out"), "--jobs", str(opts.jobs)],
                             cwd=REPO, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
    own = [float(s) for s in re.findall(r"^\S+: [^:]*? (\d+\.\d) s", run.stdout, re.M)]
    notebooks = [s for s in own if s > 0]  # not JSON and empty never start a sandbox
    per = wall / len(notebooks)  # as if every submission were a notebook that runs
    rows = [
        ("submissions graded (notebooks run)", f"{n} ({len(notebooks)})"),
        ("notebooks at once (CPUs)", f"{opts.jobs} ({os.cpu_count()})"),
        ("load average before / after (other work on the machine)",
         f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"),
        ("wall time of the batch", f"{wall:.1f} s"),
        ("seconds per submission (wall / notebooks run)", f"{per:.2f} s"),
        ("one notebook in its sandbox: median (max)",
         f"{statistics.median(notebooks):.1f} s ({max(notebooks):.1f} s)"),
        (f"projected for {CLASS} submissions", f"{CLASS * per / 60:.1f} min  (target <= 60 min)"),
        ("each submission that hits the time limit adds up to", "120 s / jobs (the default limit)"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    verdict = "within" if CLASS * per <= TARGET else "over"
    print(f"\n{CLASS} submissions {verdict} the hour on this machine")


if __name__ == "__main__":
    main()
