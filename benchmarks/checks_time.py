"""How long the student self-checks take, and how many planted mistakes they diagnose.

Prints two tables:

1. seconds per check on labcode's reference implementations (median of 5 runs after
   one warm-up), and one full check (all three, as a student runs them before handing in);
2. the planted mistakes of the catalogue (``labcode.checks.mistakes``) per check: how many
   there are and how many get their own diagnosis (the same criterion as the tests).

Run: ``python benchmarks/checks_time.py`` from the repository root (about 30 s).
"""
from __future__ import annotations

import statistics
import time

import torch

import labcode
from labcode import checks
from labcode.checks.mistakes import planted

#: check_training on planted mistakes runs with the tests' faster settings
FAST = {"epochs": 120, "lr": 0.02}
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
    run = {"linear_backward": checks.check_linear_backward, "mlp": checks.check_mlp,
           "training": lambda fn: checks.check_training(fn, **FAST)}
    for check, fn in run.items():
        results = []
        for mistake in (m for m in checks.MISTAKES if m.check == check):
            for wrong in planted(mistake):
                codes = fn(wrong).codes
                results.append(codes[:1] == [mistake.code] if check == "training"
                               else codes == [mistake.code, *mistake.also])
        counts.append((f"check_{check}", len(results), sum(results)))
    counts.append(("total", sum(c[1] for c in counts), sum(c[2] for c in counts)))
    print()
    print(f"{'planted mistakes':<24} {'planted':>8} {'diagnosed':>10}")
    print(f"{'-' * 24} {'-' * 8} {'-' * 10}")
    for label, n, ok in counts:
        print(f"{label:<24} {n:>8d} {ok:>10d}")


if __name__ == "__main__":
    main()
