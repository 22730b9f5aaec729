"""Hidden tests of training: the student's train on the student's MLP, called as the
starter's training cell calls them, reaches the held-out accuracy the lab expects and
records it after every epoch."""
import torch
from otter.test_files import test_case

import labcode
from autograder.assignment import HELD_OUT_TARGET, STARTER_TRAINING

name = "training (hidden)"
T = STARTER_TRAINING


def _held_out_accuracy(found):
    _, y_test = labcode.make_moons(T["n_samples"], noise=T["noise"], seed=T["test_seed"])
    logits = found["logits"]
    assert isinstance(logits, torch.Tensor) and logits.shape == (len(y_test), 2), (
        f"the model's output on the held-out moons is {getattr(logits, 'shape', logits)}")
    return (logits.argmax(dim=1) == y_test).double().mean().item()


@test_case(name="held-out accuracy", points=2, hidden=True)
def held_out(submission):
    found = submission.part("training", "MLP", "train")
    accuracy = _held_out_accuracy(found)
    assert accuracy >= HELD_OUT_TARGET, (
        f"held-out accuracy {accuracy:.1%} after train(model, X, y, epochs={T['epochs']}, "
        f"lr={T['lr']}) is below {HELD_OUT_TARGET:.0%}")


@test_case(name="held-out accuracy recorded", points=1, hidden=True)
def recorded(submission):
    found = submission.part("training", "MLP", "train")
    val = found["val_accuracy"]
    given = ", ".join(f"{k}=X_test" if k.startswith("X") else f"{k}=y_test" for k in T["held_out"])
    assert isinstance(val, list) and len(val) == T["epochs"], (
        f"with {given}, history.val_accuracy must hold one accuracy per epoch "
        f"({T['epochs']}), got {val if isinstance(val, str) else f'{len(val)} values'}")
    final = _held_out_accuracy(found)
    assert abs(val[-1] - final) <= 1 / len(found["logits"]), (
        f"history.val_accuracy[-1] is {val[-1]:.4f}, but the trained model scores {final:.4f} "
        "on the held-out data: record accuracy(model, X_val, y_val) after each epoch's step")
