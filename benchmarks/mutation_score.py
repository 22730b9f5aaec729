"""How many wrong lines labcode's unit tests catch: the mutation score, per module.

Runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``) over ``labcode/`` with the
unit suite, then prints, per module, how many mutants it made and how many the tests
killed (a test failed, or the mutant timed out), and the three targets: overall, the
teaching core, and ``labcode/checks``. Surviving mutants are listed by ``mutmut results``
and shown with ``mutmut show <name>``.

Run: ``python benchmarks/mutation_score.py`` from the repository root (about 16
minutes on 2 cores; ``--no-run`` reads the last run's results). Too slow for CI.
"""
from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).parent / "mutmut"
CORE = {"linear", "mlp", "data", "train", "gradients", "finite_differences"}
TARGETS = {"overall": 0.85, "teaching core": 0.92, "labcode/checks": 0.80}
KILLED = {"killed", "timeout"}


def module(mutant: str) -> str:
    """labcode.checks.mlp.x_check_model__mutmut_12 -> checks.mlp"""
    return re.sub(r"^labcode\.", "", mutant.split("__mutmut_")[0]).rsplit(".", 1)[0]


def main() -> None:
    if "--no-run" not in sys.argv:
        subprocess.run([str(MUTMUT), "run"], cwd=REPO, check=False)
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    status = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (\w[\w ]*)$", out, re.M))
    if not status:
        sys.exit("no mutants found: did `mutmut run` work?")
    per = collections.defaultdict(lambda: [0, 0])
    for name, state in status.items():
        per[module(name)][0] += 1
        per[module(name)][1] += state.strip() in KILLED
    print(f"{'module':28s}{'mutants':>9s}{'killed':>9s}{'score':>8s}")
    for name in sorted(per):
        n, k = per[name]
        print(f"{name:28s}{n:9d}{k:9d}{k / n:8.1%}")
    groups = {"overall": list(per), "teaching core": [m for m in per if m in CORE],
              "labcode/checks": [m for m in per if m.startswith("checks")]}
    print()
    for group, members in groups.items():
        n, k = (sum(per[m][i] for m in members) for i in (0, 1))
        print(f"{group:28s}{n:9d}{k:9d}{k / n:8.1%}   target >= {TARGETS[group]:.0%}"
              f"{'' if k / n >= TARGETS[group] else '  MISSED'}")


if __name__ == "__main__":
    main()
