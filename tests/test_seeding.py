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


def test_seeded_leaves_the_global_generator_where_it_was():
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    with seeded(0):
        torch.rand(100)  # draws inside the block do not advance the caller's stream
    torch.testing.assert_close(torch.rand(5), expected, rtol=0, atol=0)


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_seeded_rejects_a_seed_that_is_not_an_int(seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        with seeded(seed):
            pass
