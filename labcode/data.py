r"""Two interleaving half-moons: the lab's small classification task.

Class 0 lies on the upper half circle :math:`(\cos t, \sin t)`, class 1 on the lower
one shifted right and down, :math:`(1 - \cos t,\ 0.5 - \sin t)`, for
:math:`t \in [0, \pi]`; Gaussian noise of standard deviation ``noise`` is added to
every coordinate. No straight line separates the classes, which is the point.
Generated on the spot from a seed: nothing is downloaded, scikit-learn is not needed.
"""

import math

import torch

from . import _validate


def make_moons(
    n_samples: int = 1000,
    noise: float = 0.1,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Sample the two-moons data set.

    Args:
        n_samples: number of points ``N`` (``N // 2`` of class 0, the rest class 1).
        noise: standard deviation of the Gaussian noise added to each coordinate (>= 0).
        seed: seed of the private generator; same seed, same data. The global random
            state is neither read nor changed.
        device: where to put the result (default: CPU).

    Returns:
        ``(X, y)``: ``X`` float32 of shape ``(N, 2)``, ``y`` int64 of shape ``(N,)``
        with values in ``{0, 1}``, in shuffled order.

    Example:
        >>> X, y = make_moons(100, noise=0.1, seed=0)
        >>> X.shape, y.shape, X.dtype, y.dtype
        (torch.Size([100, 2]), torch.Size([100]), torch.float32, torch.int64)
    """
    n_samples = _validate.positive_int("n_samples", n_samples)
    noise = _validate.non_negative_float("noise", noise)
    seed = _validate.integer("seed", seed)
    t_upper, t_lower = (
        torch.linspace(0.0, math.pi, n, dtype=torch.float64) for n in _halves(n_samples)
    )
    lower = torch.tensor([1.0, 0.5], dtype=torch.float64) - _on_circle(t_lower)  # (N1, 2)
    return _labelled(_on_circle(t_upper), lower, noise, seed, device)


def make_circles(
    n_samples: int = 1000,
    noise: float = 0.1,
    factor: float = 0.5,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Sample two concentric circles: class 0 on the unit circle, class 1 inside it.

    Class 0 lies on :math:`(\cos t, \sin t)`, class 1 on :math:`\text{factor}\,(\cos t,
    \sin t)`, for :math:`t \in [0, 2\pi)`, plus Gaussian noise of standard deviation
    ``noise`` on every coordinate. No straight line separates them, and no line does
    better than about half right: the inner class sits in the middle of the outer one.

    Args:
        n_samples: number of points ``N`` (``N // 2`` of class 0, the rest class 1).
        noise: standard deviation of the Gaussian noise added to each coordinate (>= 0).
        factor: radius of the inner circle, in ``(0, 1)``.
        seed: seed of the private generator; same seed, same data.
        device: where to put the result (default: CPU).

    Returns:
        ``(X, y)`` as :func:`make_moons` returns them: float32 ``(N, 2)``, int64 ``(N,)``.

    Example:
        >>> X, y = make_circles(100, noise=0.05, seed=0)
        >>> X.shape, y.shape, int(y.sum())
        (torch.Size([100, 2]), torch.Size([100]), 50)
    """
    n_samples = _validate.positive_int("n_samples", n_samples)
    noise = _validate.non_negative_float("noise", noise)
    factor = _validate.positive_float("factor", factor)
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), the inner circle's radius, got {factor}")
    seed = _validate.integer("seed", seed)
    t_outer, t_inner = (  # n + 1 points from 0 to 2π, without the last: no point twice
        torch.linspace(0.0, 2 * math.pi, n + 1, dtype=torch.float64)[:-1]
        for n in _halves(n_samples)
    )
    return _labelled(_on_circle(t_outer), factor * _on_circle(t_inner), noise, seed, device)


def _halves(n: int) -> tuple[int, int]:
    """Class sizes: ``n // 2`` of class 0, the rest class 1."""
    return n // 2, n - n // 2


def _on_circle(t: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.cos(t), torch.sin(t)], dim=1)  # (len(t), 2)


def _labelled(
    class_0: torch.Tensor, class_1: torch.Tensor, noise: float, seed: int, device: object
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both classes' points with their labels, Gaussian noise added, in shuffled order."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.cat([class_0, class_1])  # (N, 2)
    y = (torch.arange(len(X)) >= len(class_0)).long()  # (N,): 0 then 1
    X = X + noise * torch.randn(X.shape, generator=generator, dtype=torch.float64)
    order = torch.randperm(len(X), generator=generator)
    return X[order].to(device=device, dtype=torch.float32), y[order].to(device=device)
