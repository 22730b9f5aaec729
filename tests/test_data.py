"""labcode.data: make_moons, the lab's two interleaving half-moons."""

from __future__ import annotations

import math

import pytest
import torch

from labcode import make_moons, seeded


@pytest.mark.parametrize("n_samples", [1, 2, 7, 100, 1001])
def test_make_moons_shapes_dtypes_and_class_counts(n_samples):
    X, y = make_moons(n_samples, 0.1, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == torch.float32
    assert y.shape == (n_samples,) and y.dtype == torch.int64
    assert set(y.tolist()) <= {0, 1}
    assert (y == 0).sum().item() == n_samples // 2
    assert (y == 1).sum().item() == n_samples - n_samples // 2
    assert torch.isfinite(X).all()


def test_make_moons_same_seed_gives_same_data():
    X1, y1 = make_moons(500, 0.2, seed=42)
    X2, y2 = make_moons(500, 0.2, seed=42)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)


def test_make_moons_different_seed_gives_different_data():
    X1, y1 = make_moons(500, 0.2, seed=0)
    X2, y2 = make_moons(500, 0.2, seed=1)
    assert not torch.equal(X1, X2)
    assert not torch.equal(y1, y2)  # the shuffle differs too


def test_make_moons_does_not_touch_the_global_rng():
    state = torch.random.get_rng_state()
    make_moons(300, 0.1, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    # and the global stream does not change the data
    with seeded(0):
        first = make_moons(50, 0.1, seed=3)[0]
    with seeded(99):
        assert torch.equal(make_moons(50, 0.1, seed=3)[0], first)


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = make_moons(400, 0.0, seed=0)
    X = X.double()
    upper, lower = X[y == 0], X[y == 1]
    # class 0: the unit upper half circle around (0, 0)
    torch.testing.assert_close(
        upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64), rtol=0, atol=1e-6
    )
    assert (upper[:, 1] >= -1e-7).all()
    # class 1: the lower half of the unit circle around (1, 0.5)
    centre = torch.tensor([1.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(
        (lower - centre).norm(dim=1), torch.ones(len(lower), dtype=torch.float64), rtol=0, atol=1e-6
    )
    assert (lower[:, 1] <= 0.5 + 1e-7).all()
    # the whole arcs are covered: x runs from -1 to 1 on top and from 0 to 2 below
    torch.testing.assert_close(upper[:, 0].min().item(), -1.0, rtol=0, atol=1e-6)
    torch.testing.assert_close(upper[:, 0].max().item(), 1.0, rtol=0, atol=1e-6)
    torch.testing.assert_close(lower[:, 0].min().item(), 0.0, rtol=0, atol=1e-6)
    torch.testing.assert_close(lower[:, 0].max().item(), 2.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("noise", [0.05, 0.1, 0.2])
def test_make_moons_noise_has_the_requested_standard_deviation(noise):
    # For small noise the radial residual |x - centre| - 1 is close to N(0, noise^2).
    X, y = make_moons(20000, noise, seed=1)
    X = X.double()
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.5]], dtype=torch.float64)[y]
    residual = (X - centres).norm(dim=1) - 1.0
    assert residual.std().item() == pytest.approx(noise, rel=0.05)
    assert abs(residual.mean().item()) < noise / 5


def test_make_moons_is_shuffled():
    _, y = make_moons(100, 0.1, seed=0)
    assert not torch.equal(y, torch.sort(y).values)


def test_make_moons_puts_data_on_the_requested_device():
    # "meta" stands in for an accelerator: it proves the argument is honoured.
    X, y = make_moons(10, 0.1, seed=0, device="meta")
    assert X.device.type == "meta" and y.device.type == "meta"
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    X_cpu, _ = make_moons(10, 0.1, seed=0, device=torch.device("cpu"))
    assert X_cpu.device.type == "cpu"


@pytest.mark.parametrize("seed", [2**64 - 1, -(2**63)])
def test_make_moons_takes_every_64_bit_seed(seed):
    X1, y1 = make_moons(20, 0.1, seed=seed)
    X2, y2 = make_moons(20, 0.1, seed=seed)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, r"n_samples must be a positive int, got 0"),
        (dict(n_samples=-5), ValueError, r"n_samples must be a positive int, got -5"),
        (dict(n_samples=100.0), TypeError, r"n_samples must be a positive int, got float 100\.0"),
        (dict(n_samples="100"), TypeError, r"n_samples must be a positive int, got str '100'"),
        (dict(noise=-0.1), ValueError, r"noise must be a finite number >= 0, got -0\.1"),
        (dict(noise=math.inf), ValueError, r"noise must be a finite number >= 0, got inf"),
        (dict(noise=math.nan), ValueError, r"noise must be a finite number >= 0, got nan"),
        (dict(noise="0.1"), TypeError, r"noise must be a finite number >= 0, got str '0\.1'"),
        (dict(seed=1.5), TypeError, r"seed must be an int of 64 bits, .*got float 1\.5"),
        (dict(seed=None), TypeError, r"seed must be an int of 64 bits, .*got None"),
        (
            dict(seed=2**64),
            ValueError,
            r"seed must be an int of 64 bits, in \[-2\*\*63, 2\*\*64 - 1\], got 18446744073709551616",
        ),
        (
            dict(seed=-(2**63) - 1),
            ValueError,
            r"seed must be an int of 64 bits.*got -9223372036854775809",
        ),
    ],
)
def test_make_moons_rejects_bad_arguments_naming_them(kwargs, error, match):
    args = dict(n_samples=100, noise=0.1, seed=0) | kwargs
    with pytest.raises(error, match=match):
        make_moons(**args)


# ---- make_circles: the sample submission's sibling data set ------------------------------
from labcode import make_circles  # noqa: E402


@pytest.mark.parametrize("n_samples", [1, 2, 7, 1001])
def test_make_circles_shapes_dtypes_and_class_counts(n_samples):
    X, y = make_circles(n_samples, noise=0.05, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == torch.float32
    assert y.shape == (n_samples,) and y.dtype == torch.int64
    assert (y == 0).sum().item() == n_samples // 2
    assert (y == 1).sum().item() == n_samples - n_samples // 2


@pytest.mark.parametrize("factor", [0.3, 0.5, 0.8])
def test_make_circles_without_noise_puts_each_class_on_its_radius(factor):
    X, y = make_circles(400, noise=0.0, factor=factor, seed=3)
    radius = X.double().norm(dim=1)
    torch.testing.assert_close(
        radius[y == 0], torch.ones(200, dtype=torch.float64), rtol=0, atol=1e-6
    )
    torch.testing.assert_close(
        radius[y == 1], torch.full((200,), factor, dtype=torch.float64), rtol=0, atol=1e-6
    )
    # spread evenly around the circle: both classes centred on the origin
    for cls in (0, 1):
        assert X[y == cls].double().mean(dim=0).abs().max().item() < 1e-6


def test_make_circles_same_seed_same_data_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    X1, y1 = make_circles(300, 0.1, seed=7)
    X2, y2 = make_circles(300, 0.1, seed=7)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)
    assert not torch.equal(X1, make_circles(300, 0.1, seed=8)[0])
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, r"n_samples must be a positive int, got 0"),
        (dict(noise=-0.1), ValueError, r"noise must be a finite number >= 0, got -0\.1"),
        (
            dict(factor=1.0),
            ValueError,
            r"factor must be in \(0, 1\), the inner circle's radius, got 1\.0",
        ),
        (dict(factor=0), ValueError, r"factor must be a positive, finite number, got 0"),
        (
            dict(factor="0.5"),
            TypeError,
            r"factor must be a positive, finite number, got str '0\.5'",
        ),
        (dict(seed=1.5), TypeError, r"seed must be an int of 64 bits, .*got float 1\.5"),
    ],
)
def test_make_circles_rejects_bad_input_naming_it(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_circles(**kwargs)
