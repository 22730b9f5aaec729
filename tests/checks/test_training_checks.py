"""Tests for labcode.checks.training: the reference passes; each planted mistake is named.

The planted mistakes are small wrong training loops, each the kind a student writes.
Every test asserts the diagnosis code found first (and that a loop which clears its
gradients is never blamed for not clearing them). ``benchmarks/checks_time.py`` reuses
them.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import labcode
from labcode.checks import check_training

# Fewer epochs than the default keep the training tests fast; the reference loop
# still reaches the accuracy threshold with them (asserted below).
FAST = {"epochs": 120, "lr": 0.02}


# ----------------------------------------------------------------- planted training bugs

def _full_batch_loop(model, X, y, epochs, lr, *, zero_grad=True, step=True, optimizer="adam",
                     zero_between=False, direction=1.0):
    opt_class = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_class(model.parameters(), lr=lr, maximize=direction < 0)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        if zero_between:
            opt.zero_grad()
        if step:
            opt.step()
        losses.append(loss.item())
    return losses


def student_train(model, X, y, epochs, lr):
    """A correct student loop, written independently of labcode.train."""
    return _full_batch_loop(model, X, y, epochs, lr)


def no_zero_grad(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False)


def no_zero_grad_sgd(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False, optimizer="sgd")


def no_zero_grad_minibatches(model, X, y, epochs, lr):
    """Minibatches of 50 and no zero_grad: matches no reference, the hooks still see it."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for xb, yb in zip(X.split(50), y.split(50)):
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()


def zero_grad_set_to_zeros(model, X, y, epochs, lr):
    """zero_grad(set_to_none=False) leaves zeros, not None: that is cleared too."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()


def no_step(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, step=False)


def zero_grad_between_backward_and_step(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, zero_grad=False, zero_between=True)


def gradient_ascent(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, epochs, lr, direction=-1.0)


def trains_a_new_model(model, X, y, epochs, lr):
    return _full_batch_loop(labcode.MLP(2, [16, 16], 2), X, y, epochs, lr)


def one_step_only(model, X, y, epochs, lr):
    return _full_batch_loop(model, X, y, 1, lr)


def train_not_implemented(model, X, y, epochs, lr):
    raise NotImplementedError("TODO: implement train")


def positional_only(model, X, y, n_epochs, learning_rate):
    return _full_batch_loop(model, X, y, n_epochs, learning_rate)


def test_reference_train_passes_every_check():
    report = check_training(labcode.train)
    assert report.passed, str(report)
    assert "match labcode.train(optimizer='adam')" in str(report)


def test_fast_settings_still_pass_the_reference():
    assert check_training(labcode.train, **FAST).passed


def test_independent_correct_loop_passes_and_matches_the_reference():
    report = check_training(student_train, **FAST)
    assert report.passed, str(report)
    assert "match labcode.train(optimizer='adam')" in str(report)


def test_zero_grad_set_to_zeros_passes():
    assert check_training(zero_grad_set_to_zeros, **FAST).passed


TRAINING_MISTAKES = [
    (no_zero_grad, "zero_grad_missing"),
    (no_zero_grad_sgd, "zero_grad_missing"),
    (no_zero_grad_minibatches, "zero_grad_missing"),
    (no_step, "no_update"),
    (zero_grad_between_backward_and_step, "no_update"),
    (gradient_ascent, "loss_not_decreasing"),
    (trains_a_new_model, "no_backward"),
    (one_step_only, "too_few_steps"),
    (train_not_implemented, "not_implemented"),
    (positional_only, "raised"),
]


@pytest.mark.parametrize("fn, code", TRAINING_MISTAKES, ids=[f.__name__ for f, _ in TRAINING_MISTAKES])
def test_training_mistake_gets_its_diagnosis_first(fn, code):
    report = check_training(fn, **FAST)
    assert not report.passed
    assert report.codes[0] == code, str(report)
    # a loop that clears its gradients is never blamed for not clearing them
    if code != "zero_grad_missing":
        assert "zero_grad_missing" not in report.codes


def sgd_loop(model, X, y, epochs, lr):
    """Correct, but plain SGD: it needs a larger learning rate than the Adam default."""
    return _full_batch_loop(model, X, y, epochs, lr, optimizer="sgd")


def test_sgd_loop_at_adam_learning_rate_gets_lr_advice_and_passes_with_it():
    slow = check_training(sgd_loop, **FAST)
    assert slow.codes == ["low_accuracy"]
    assert "plain SGD" in slow.diagnoses[0].message and "lr=0.5" in slow.diagnoses[0].message
    assert check_training(sgd_loop, epochs=FAST["epochs"], lr=0.5).passed


def test_missing_zero_grad_is_confirmed_by_the_trajectory():
    report = check_training(no_zero_grad_sgd, **FAST)
    assert "match labcode.train(optimizer='sgd') without zero_grad" in str(report)
    assert "before backward pass 2" in report.diagnoses[0].message


def shuffled_minibatches(model, X, y, epochs, lr):
    """A correct loop over shuffled minibatches: torch.randperm draws from the global generator."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        for batch in torch.randperm(len(X)).split(50):
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(loss.item())
    return losses


def test_check_training_is_deterministic_and_leaves_the_global_generator_alone():
    reports = []
    for caller_seed in (1, 2):  # callers whose global random streams differ
        with labcode.seeded(caller_seed):
            state = torch.random.get_rng_state()
            reports.append(check_training(shuffled_minibatches, epochs=30, lr=0.02))
            assert torch.equal(torch.random.get_rng_state(), state)
    first, second = reports
    assert first.notes and "returned 30 losses" in first.notes[0]  # the loop did run
    assert (first.cases, first.diagnoses, first.notes) == (second.cases, second.diagnoses,
                                                           second.notes)


def test_check_training_rejects_results_and_bad_settings():
    X, y = labcode.make_moons(20, seed=0)
    history = labcode.train(labcode.MLP(2, [4], 2), X, y, epochs=2)
    with pytest.raises(TypeError, match="pass train, not train"):
        check_training(history)
    with pytest.raises(TypeError, match="train_fn must be a function"):
        check_training(labcode.MLP(2, [4], 2))
    with pytest.raises(ValueError, match="epochs"):
        check_training(labcode.train, epochs=0)
    with pytest.raises(ValueError, match="min_accuracy"):
        check_training(labcode.train, min_accuracy=1.5)
