"""Hidden tests of the student's linear_backward: against autograd in float64 on problems
the self-check does not run, and gradcheck through labcode.linear_function."""
import torch
from otter.test_files import test_case

import labcode
from autograder.assignment import HIDDEN_LINEAR

name = "linear_backward (hidden)"
_NAMES = ("grad_input", "grad_weight", "grad_bias")


def _case(index):
    label, batch, d_in, d_out, bias, seed = HIDDEN_LINEAR[index]

    def test(submission):
        got = submission.part("linear", "linear_backward")["outputs"][index]
        p = labcode.random_linear_problem(batch, d_in, d_out, bias=bias, seed=seed)
        want = labcode.autograd_linear_gradients(*p)
        where = f"x {(*batch, d_in)}, weight {(d_out, d_in)}, {'bias' if bias else 'no bias'}"
        assert not isinstance(got, str), f"{where}: your linear_backward raised {got}"
        assert len(got) == 3, f"{where}: returned {len(got)} values, expected 3"
        for name_, g, w in zip(_NAMES, got, want):
            if w is None:
                assert g == "None", f"{where}: {name_} must be None without a bias, got {g}"
                continue
            assert isinstance(g, torch.Tensor), f"{where}: {name_} is {g}, not a tensor"
            assert g.shape == w.shape, f"{where}: {name_} has shape {tuple(g.shape)}, expected {tuple(w.shape)}"
            c = labcode.compare_gradients(g.double(), w, name=name_)
            assert c.passed, f"{where}: {c}"
    return test


for _i, _spec in enumerate(HIDDEN_LINEAR):
    globals()[f"case_{_i}"] = test_case(name=f"linear_backward: {_spec[0]}", points=1, hidden=True)(_case(_i))


@test_case(name="gradcheck in float64", points=1, hidden=True)
def gradcheck(submission):
    found = submission.part("linear", "linear_backward")["gradcheck"]
    for label, passed in found.items():
        assert passed is True, f"torch.autograd.gradcheck {label}: " + (
            passed if isinstance(passed, str) else "your gradients differ from finite differences")
