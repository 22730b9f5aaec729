"""labcode.checks.training: the reference passes; every planted mistake of the catalogue
gets its diagnosis first, and a loop that clears its gradients is never blamed for not
clearing them."""

from __future__ import annotations

import re

import pytest
import torch
from _planted import FAST, plant, plants, under_two_caller_seeds
from torch import nn

import labcode
from labcode.checks import check_training


def student_train(model, X, y, epochs, lr):
    """A correct student loop, written independently of labcode.train."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def zero_grad_set_to_zeros(model, X, y, epochs, lr):
    """zero_grad(set_to_none=False) leaves zeros, not None: that is cleared too."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()


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


@pytest.mark.parametrize("mistake, wrong", plants("training"))
def test_each_planted_mistake_gets_its_diagnosis_first(mistake, wrong):
    report = check_training(wrong, **FAST)
    assert not report.passed
    assert report.title == "check_training(train)"  # a plant is named as a student's loop is
    assert report.codes[0] == mistake.code, str(report)
    if mistake.code != "zero_grad_missing":
        assert "zero_grad_missing" not in report.codes


def test_sgd_loop_at_adam_learning_rate_gets_lr_advice_and_passes_with_it():
    sgd_loop = plant("low_accuracy", "training")  # correct, but plain SGD
    slow = check_training(sgd_loop, **FAST)
    assert slow.codes == ["low_accuracy"]
    assert "plain SGD" in slow.diagnoses[0].message and "lr=0.5" in slow.diagnoses[0].message
    assert check_training(sgd_loop, epochs=FAST["epochs"], lr=0.5).passed


def test_missing_zero_grad_is_confirmed_by_the_trajectory():
    report = check_training(plant("zero_grad_missing", "training", 1), **FAST)  # SGD
    assert "match labcode.train(optimizer='sgd') without zero_grad" in str(report)
    assert "before backward pass 2" in report.diagnoses[0].message


def test_an_adam_loop_without_zero_grad_gets_no_advice_about_sgd():
    """The advice follows what the loop did: Adam, not plain SGD."""
    report = check_training(plant("zero_grad_missing", "training", 0), **FAST)
    assert "SGD" not in " ".join(d.message for d in report.diagnoses)


def test_every_loss_in_a_report_is_the_one_the_check_measured():
    report = check_training(plant("zero_grad_missing", "training", 0), **FAST)
    row = next(c for c in report.cases if c.name.startswith("training loss"))
    measured = set(dict(row.cells)["value"].split(" -> "))
    # the student's own per-epoch losses are counted, never printed beside the measured ones
    assert set(re.findall(r"\b\d\.\d{4}\b", str(report))) == measured


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
    first, second = under_two_caller_seeds(check_training, shuffled_minibatches, epochs=30, lr=0.02)
    assert first.notes and "returned 30 losses" in first.notes[0]  # the loop did run
    assert (first.cases, first.diagnoses, first.notes) == (
        second.cases,
        second.diagnoses,
        second.notes,
    )


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


def test_retain_graph_follow_up_is_named_as_the_backward_twice_root_cause():
    """Issue 22 item 5: the forward moved out of the loop, then PyTorch's retain_graph=True
    hint followed: "modified by an inplace operation" has the same root cause."""
    first, follow_up = (
        check_training(plant("backward_twice", "training", i), **FAST) for i in (0, 1)
    )
    assert first.codes == follow_up.codes == ["backward_twice"]
    assert "a second time" in first.diagnoses[0].message
    message = follow_up.diagnoses[0].message
    assert "modified by an inplace operation" in message and "retain_graph=True" in message
    assert "inside the loop" in message


def test_an_inplace_error_before_any_backward_pass_is_not_called_backward_twice():
    def modifies_a_weight_first(model, X, y, epochs, lr):
        raise RuntimeError(
            "one of the variables needed for gradient computation has been "
            "modified by an inplace operation"
        )

    report = check_training(modifies_a_weight_first, **FAST)
    assert report.codes == ["raised"]
