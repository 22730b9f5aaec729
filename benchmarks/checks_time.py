"""How long the student self-checks take, and how many planted mistakes they diagnose.

Prints two tables:

1. seconds per check on labcode's reference implementations (median of 5 runs after
   one warm-up), and one full check (all three, as a student runs them before handing in);
2. the planted mistakes of ``tests/checks/test_*_checks.py`` per check: how many there are and
   how many get the expected diagnosis (the same criterion as the tests).

Run: ``python benchmarks/checks_time.py`` from the repository root (about 30 s).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

import labcode
from labcode import checks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "checks"))
# the planted mistakes live with the tests of each check
import test_linear_backward_checks as planted_linear  # noqa: E402
import test_mlp_checks as planted_mlp  # noqa: E402
import test_training_checks as planted_training  # noqa: E402

RUNS = 5


def seconds(fn) -> float:
    fn()  # warm-up: the first torch calls of a process are slow
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads "
          "(each check runs on one thread and restores the setting)\n")
    timed = [
        ("check_linear_backward(linear_backward)", lambda: checks.check_linear_backward(labcode.linear_backward)),
        ("check_mlp(MLP)", lambda: checks.check_mlp(labcode.MLP)),
        ("check_training(train)  [300 epochs]", lambda: checks.check_training(labcode.train)),
    ]
    results = [(label, seconds(fn)) for label, fn in timed]
    results.append(("one full check (all three)", sum(t for _, t in results)))
    print(f"{'check (reference implementation)':<42} {'median s':>9}")
    print(f"{'-' * 42} {'-' * 9}")
    for label, t in results:
        print(f"{label:<42} {t:>9.3f}")

    counts = []
    linear = [checks.check_linear_backward(fn).codes == codes
              for fn, codes in planted_linear.LINEAR_MISTAKES]
    counts.append(("check_linear_backward", len(linear), sum(linear)))
    mlp = [checks.check_mlp(cls).codes == codes for cls, codes in planted_mlp.MLP_MISTAKES]
    counts.append(("check_mlp", len(mlp), sum(mlp)))
    training = [checks.check_training(fn, **planted_training.FAST).codes[:1] == [code]
                for fn, code in planted_training.TRAINING_MISTAKES]
    counts.append(("check_training", len(training), sum(training)))
    counts.append(("total", sum(c[1] for c in counts), sum(c[2] for c in counts)))
    print()
    print(f"{'planted mistakes':<24} {'planted':>8} {'diagnosed':>10}")
    print(f"{'-' * 24} {'-' * 8} {'-' * 10}")
    for label, n, ok in counts:
        print(f"{label:<24} {n:>8d} {ok:>10d}")


if __name__ == "__main__":
    main()
