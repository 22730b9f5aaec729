"""Hidden test of training: the student's train on the student's MLP, as the starter's
training cell calls them, reaches the held-out accuracy the lab expects."""
import torch
from otter.test_files import test_case

import labcode
from autograder.assignment import HELD_OUT_TARGET, STARTER_TRAINING

name = "training (hidden)"


@test_case(name="held-out accuracy", points=2, hidden=True)
def held_out(submission):
    found = submission.part("training", "MLP", "train")
    t = STARTER_TRAINING
    _, y_test = labcode.make_moons(t["n_samples"], noise=t["noise"], seed=t["test_seed"])
    logits = found["logits"]
    assert isinstance(logits, torch.Tensor) and logits.shape == (len(y_test), 2), (
        f"the model's output on the held-out moons is {getattr(logits, 'shape', logits)}")
    accuracy = (logits.argmax(dim=1) == y_test).double().mean().item()
    assert accuracy >= HELD_OUT_TARGET, (
        f"held-out accuracy {accuracy:.1%} after train(model, X, y, epochs={t['epochs']}, "
        f"lr={t['lr']}) is below {HELD_OUT_TARGET:.0%}")
