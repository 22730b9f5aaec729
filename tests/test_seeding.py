"""labcode.seeding: seeded builds the same model for the same seed and leaves the caller's
random streams (CPU and accelerators) as they were."""

import pytest
import torch

from labcode import MLP, seeded


def test_seeded_builds_identical_models_for_the_same_seed():
    with seeded(3):
        a = MLP(2, [8, 4], 3)
    with seeded(3):
        b = MLP(2, [8, 4], 3)
    with seeded(4):
        c = MLP(2, [8, 4], 3)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
        assert not torch.equal(pa, pc)


def test_seeded_draws_what_torch_manual_seed_draws_on_the_cpu():
    with seeded(11):
        ours = torch.rand(6)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        expected = torch.rand(6)
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)


def test_seeded_leaves_the_global_generator_where_it_was():
    # This test is about the global stream, so it sets it, inside a fork of its own.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        expected = torch.rand(5)
        torch.manual_seed(123)
        with seeded(0):
            torch.rand(100)  # draws inside the block do not advance the caller's stream
        torch.testing.assert_close(torch.rand(5), expected, rtol=0, atol=0)


def test_seeded_does_not_seed_accelerator_generators(monkeypatch):
    # torch.manual_seed also seeds every CUDA device, but fork_rng(devices=[]) restores only
    # the CPU generator: the caller's GPU stream would be reset. (On a CUDA machine,
    # test_device.py checks the CUDA state itself.)
    calls = []
    for name in ("manual_seed", "manual_seed_all"):
        monkeypatch.setattr(torch.cuda, name, lambda *args, name=name: calls.append(name))
    with seeded(5):
        pass
    assert calls == []


@pytest.mark.parametrize("seed", [0, 2**64 - 1, -(2**63)])
def test_seeded_accepts_every_64_bit_seed(seed):
    with seeded(seed):
        a = torch.rand(3)
    with seeded(seed):
        assert torch.equal(torch.rand(3), a)


@pytest.mark.parametrize(
    "seed, error, match",
    [
        (1.5, TypeError, r"seed must be an int of 64 bits, .*got float 1\.5"),
        ("0", TypeError, r"seed must be an int of 64 bits, .*got str '0'"),
        (None, TypeError, r"seed must be an int of 64 bits, .*got None"),
        (True, TypeError, r"seed must be an int of 64 bits, .*got bool True"),
        (
            2**64,
            ValueError,
            r"seed must be an int of 64 bits, in \[-2\*\*63, 2\*\*64 - 1\], got 18446744073709551616",
        ),
        (-(2**63) - 1, ValueError, r"seed must be an int of 64 bits.*got -9223372036854775809"),
    ],
)
def test_seeded_rejects_a_seed_torch_cannot_take_naming_it(seed, error, match):
    with pytest.raises(error, match=match):
        with seeded(seed):
            pass
