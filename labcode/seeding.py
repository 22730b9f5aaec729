"""Seeded construction without touching the caller's global random state."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from . import _validate


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block under ``torch.manual_seed(seed)``, then restore the global generator.

    ``nn.Linear`` draws its initial weights from the global generator, so building a
    model "under a seed" means seeding it. This context forks the CPU generator first,
    so the caller's own random stream is exactly as it was afterwards. Same seed, same
    model.

    Args:
        seed: the seed for the block (an int).

    Example:
        >>> with seeded(0):
        ...     a = MLP(2, [8], 2)
        >>> with seeded(0):
        ...     b = MLP(2, [8], 2)
        >>> torch.equal(a.layers[0].weight, b.layers[0].weight)
        True
    """
    seed = _validate.integer("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
