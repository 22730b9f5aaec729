"""Hidden tests of the student's MLP: layer sizes of another network, no hidden layer, a
3-D batch, and the activation switch Part B uses."""
import torch
from otter.test_files import test_case

from autograder.assignment import HIDDEN_MLP, STARTER_MLP

name = "MLP (hidden)"


def _expected_shapes(d_in, hidden, d_out):
    widths = [d_in, *hidden, d_out]
    return [s for a, b in zip(widths, widths[1:]) for s in ((b, a), (b,))]


@test_case(name="MLP layer sizes", points=1, hidden=True)
def layer_sizes(submission):
    found = submission.part("mlp", "MLP")
    want = _expected_shapes(*HIDDEN_MLP["args"])
    assert [tuple(s) for s in found["shapes"]] == want, (
        f"MLP{HIDDEN_MLP['args']} has parameters of shapes {found['shapes']}, expected {want}: "
        "one nn.Linear per hidden width, then the output layer")
    want = _expected_shapes(*HIDDEN_MLP["linear_args"])
    assert [tuple(s) for s in found["linear_shapes"]] == want, (
        f"MLP{HIDDEN_MLP['linear_args']} (no hidden layer: a linear classifier) has parameters "
        f"of shapes {found['linear_shapes']}, expected {want}")


@test_case(name="MLP on a 3-D batch", points=1, hidden=True)
def batch(submission):
    found = submission.part("mlp", "MLP")
    want = (*HIDDEN_MLP["batch"][:-1], HIDDEN_MLP["args"][-1])
    assert tuple(found["batch_output"]) == want, (
        f"MLP{HIDDEN_MLP['args']} on x of shape {HIDDEN_MLP['batch']} returned "
        f"{found['batch_output']}, expected {want}: keep the leading dimensions")


def _affine_error(outputs):
    f1, f2, f_mix = outputs
    return (f_mix - (0.3 * f1 + 0.7 * f2)).abs().max().item() / max(f_mix.abs().max().item(), 1e-12)


@test_case(name="MLP activation switch", points=1, hidden=True)
def activation_switch(submission):
    found = submission.part("mlp", "MLP")
    call = f"MLP{(*STARTER_MLP,)}"
    for label in ("default", "activation=None"):
        assert not isinstance(found[label], str), f"{call[:-1]}, {label}) raised {found[label]}"
    tolerance = 100 * torch.finfo(found["default"][0].dtype).eps
    assert _affine_error(found["default"]) > tolerance, (
        f"{call} is affine in its input: the default must have its nonlinearity")
    assert _affine_error(found["activation=None"]) <= tolerance, (
        f"MLP({', '.join(map(str, STARTER_MLP))}, None) is not affine: activation=None must "
        "leave the nonlinearity out")
