"""Seeded construction without touching the caller's global random state."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block under ``torch.manual_seed(seed)``, then restore the global RNG.

    ``nn.Linear`` draws its initial weights from the global generator, so building a
    model "under a seed" means seeding it; this context forks the CPU generator
    first, so the caller's own random stream is left exactly as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
