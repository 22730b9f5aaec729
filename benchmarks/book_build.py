"""Build time of the book: cold, pure page execution, and a rebuild with nothing changed.

Builds the book into a fresh temporary output folder (your own ``_build`` is left
alone) and prints a table. Targets from the book issue, on 2 cores:

* cold build <= 90 s
* cold build / pure execution <= 1.3 (Sphinx's own overhead stays small)
* rebuild with nothing changed / cold build <= 0.1 (the execution cache works)

Pure execution time is the sum of the per-page run times that myst-nb records in the
build environment (what its execution-statistics table shows).

Run: ``python benchmarks/book_build.py`` from the repository root (about two minutes).
"""
from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def build(output: Path) -> float:
    """Seconds for one ``jupyter-book build`` with warnings as errors; fails loudly."""
    start = time.perf_counter()
    subprocess.run([str(JUPYTER_BOOK), "build", str(ROOT), "--path-output", str(output),
                    "-W", "-n", "--keep-going", "-q"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def execution_times(output: Path) -> dict[str, float]:
    """Per-page execution seconds recorded by myst-nb in the pickled environment."""
    with open(output / "_build" / ".doctrees" / "environment.pickle", "rb") as f:
        env = pickle.load(f)
    return {doc: data["exec_data"]["runtime"] or 0.0
            for doc, data in sorted(env.nb_metadata.items()) if data.get("exec_data")}


def main() -> None:
    output = Path(tempfile.mkdtemp(prefix="book-bench-"))
    try:
        cold = build(output)
        pages = execution_times(output)
        rebuild = build(output)
    finally:
        shutil.rmtree(output, ignore_errors=True)
    execution = sum(pages.values())

    print(f"{'page':<32} {'execution s':>12}")
    for doc, seconds in pages.items():
        print(f"{doc:<32} {seconds:>12.2f}")
    print()
    print(f"{'measure':<36} {'value':>9} {'target':>10}")
    print(f"{'cold build (s)':<36} {cold:>9.1f} {'<= 90':>10}")
    print(f"{'pure execution, all pages (s)':<36} {execution:>9.1f} {'':>10}")
    print(f"{'rebuild, nothing changed (s)':<36} {rebuild:>9.1f} {'':>10}")
    print(f"{'cold / execution':<36} {cold / execution:>9.2f} {'<= 1.3':>10}")
    print(f"{'rebuild / cold':<36} {rebuild / cold:>9.3f} {'<= 0.1':>10}")


if __name__ == "__main__":
    main()
