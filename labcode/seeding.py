"""Seeded construction without touching the caller's global random state."""

import contextlib
from collections.abc import Iterator

import torch

from . import _validate


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with the global CPU generator seeded, then restore it.

    ``nn.Linear`` draws its initial weights from the global generator, so building a
    model "under a seed" means seeding it. This context forks the CPU generator first,
    so the caller's own random stream is exactly as it was afterwards. Same seed, same
    model.

    Only the CPU generator is seeded (``torch.random.default_generator``), not those of
    CUDA, MPS or XPU: ``torch.manual_seed`` would seed those too, and the fork restores
    only the CPU one, so it would silently reset the caller's GPU stream. Build models
    on the CPU inside the block and move them afterwards (``model.to(device)``);
    random draws made on a GPU inside the block are not seeded by it.

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
    with torch.random.fork_rng(devices=[]):  # saves and restores the CPU generator only
        torch.random.default_generator.manual_seed(seed)  # so seed only that one
        yield
