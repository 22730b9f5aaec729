"""What the grader knows about the assignment, in one place: change it here when the starter
(book/starter.md) or the rubric (book/lesson-plan.md) changes.

Only the grading process reads this module. The sandbox that runs a submission gets the
calls to make as JSON (``calls()``): the inputs its functions see, never what the tests
expect of them.
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STARTER = REPO / "book" / "starter.md"
SAMPLE = REPO / "book" / "sample-submission.md"
RUBRIC = REPO / "book" / "lesson-plan.md"

# Part A: the names the starter's TODO cells ask a student to define, with the first line of
# the starter's cell that defines each (the rehearsal set fills those cells).
PART_A = {
    "MLP": "class MLP(nn.Module):",
    "train": "def train(",
    "linear_backward": "def linear_backward(",
}

# How the starter calls them: MLP(in, hidden, out, activation="relu"), activation=None for no
# nonlinearity; train(model, X, y, epochs, lr, X_val=None, y_val=None) -> a History (its
# .loss per epoch, its .val_accuracy per epoch when X_val, y_val are given; a plain list of
# losses is taken as .loss), on the moons of its training cell.
STARTER_MLP = (2, [32, 32], 2)
STARTER_TRAINING = {"epochs": 300, "lr": 0.5, "held_out": ("X_val", "y_val"), "train_seed": 0,
                    "test_seed": 1, "n_samples": 1000, "noise": 0.1, "model_seed": 0}
# The self-checks as the starter's check cells call them (its loop is plain SGD at lr=0.5).
CHECK_ARGUMENTS = {"MLP": {}, "train": {"lr": 0.5}, "linear_backward": {}}
HELD_OUT_TARGET = 0.95  # the lab's MLP reaches about 99 % on held-out moons

# Hidden cases, which neither the starter's cells nor labcode.checks run:
# (name, batch shape of x, in_features, out_features, bias, seed).
HIDDEN_LINEAR = (
    ("non-square, D_out > D_in", (7,), 3, 9, True, 71),
    ("a 4-D batch (2, 3, 4, D_in)", (2, 3, 4), 5, 2, True, 72),
    ("a 3-D batch, no bias", (3, 5), 6, 4, False, 73),
    ("a batch of one, no bias", (1,), 8, 3, False, 74),
)
GRADCHECK_PROBLEM = ((2, 3), 4, 3, 75)  # batch shape, in, out, seed: gradcheck with and without bias
# MLP(in, hidden, out) built by the sandbox, and a 3-D batch of inputs for it.
HIDDEN_MLP = {"args": (3, [7, 5], 4), "batch": (2, 6, 3), "linear_args": (2, [], 2), "seed": 3}

# Parts B and C: each question's answer runs from the first line matching its start (a
# paragraph of the starter) to the next question's start or a stop; code cells and their
# text outputs inside it are part of the answer (Part B's probes).
MANUAL = {
    "B1": "**Prediction 1**",
    "B2": "**Prediction 2**",
    "B3": "Now probe.",
    "C1": "**Does your gradient match autograd?**",
    "C2": "**What each gradient tells its weight to do**",
    # no rubric row of its own: the AI-use policy scores a criterion that forbidden use
    # touched 0, so markers read it beside every row
    "AI": "## AI use",
}
MANUAL_STOPS = ("## Part C", "## Before you hand in")
AI_POLICY = REPO / "book" / "ai-policy.md"
# C3 (defend) is scored in conversation: the notebook holds no answer to lay out.


def calls() -> dict:
    """What the sandbox runs the student's functions on: inputs and seeds only."""
    return {"part_a": PART_A, "check_arguments": CHECK_ARGUMENTS, "starter_mlp": STARTER_MLP, "training": STARTER_TRAINING,
            "hidden_linear": [case[1:] for case in HIDDEN_LINEAR],
            "gradcheck": GRADCHECK_PROBLEM, "hidden_mlp": HIDDEN_MLP}
