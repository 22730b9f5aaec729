"""``check_training``: a student's training loop, run on a known model and data.

The model (``labcode.MLP``) and the two-moons data are fixed, so only the loop is under
test: that it runs, takes a backward pass per epoch, clears gradients before each one
(``zero_grad``), updates the parameters, lowers the loss and reaches a held-out
accuracy. A short run is also compared with reference loops (``labcode.train`` with
and without ``zero_grad``) as a second piece of evidence.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..seeding import seeded
from ..data import make_moons
from ..mlp import MLP
from ..train import History, accuracy, train
from ._support import Findings, add_exception, callable_name, describe, safe_call, single_threaded
from .report import CaseResult, CheckReport

#: The known model and data of ``check_training``: ``MLP(2, TRAINING_HIDDEN, 2)`` on
#: ``TRAINING_SAMPLES`` moons points (noise 0.1), held-out set of the same size.
TRAINING_HIDDEN, TRAINING_SAMPLES = (16, 16), 200
#: Epochs of the short runs whose parameters are compared with the reference loops.
TRAJECTORY_EPOCHS = 3


def _flat_parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _loop_without_zero_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
                            lr: float, optimizer: str) -> None:
    """``labcode.train``'s full-batch loop with the ``zero_grad`` line missing: the mistake."""
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        loss.backward()  # adds to .grad: without zero_grad, last step's gradient stays in
        opt.step()


def _reference_trajectories(model0: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int,
                            lr: float) -> dict[str, torch.Tensor]:
    """Parameters after ``epochs`` full-batch steps of each reference loop."""
    out = {}
    for optimizer in ("adam", "sgd"):
        model = copy.deepcopy(model0)
        train(model, X, y, epochs=epochs, lr=lr, optimizer=optimizer)
        out[f"labcode.train(optimizer={optimizer!r})"] = _flat_parameters(model)
        model = copy.deepcopy(model0)
        _loop_without_zero_grad(model, X, y, epochs, lr, optimizer)
        out[f"labcode.train(optimizer={optimizer!r}) without zero_grad"] = _flat_parameters(model)
    return out


def _trajectory_match(train_fn: Callable, model0: nn.Module, X: torch.Tensor, y: torch.Tensor,
                      lr: float, seed: int) -> tuple[str | None, BaseException | None]:
    """Which reference loop a short run of ``train_fn`` reproduces: its name, or ``None``."""
    model = copy.deepcopy(model0)
    with seeded(seed):  # the student's loop may draw (torch.randperm): same run every time
        _, exc, _ = safe_call(train_fn, model, X, y, epochs=TRAJECTORY_EPOCHS, lr=lr)
    if exc is not None:
        return None, exc
    got = _flat_parameters(model)
    scale = _flat_parameters(model0).abs().max().item()
    for name, params in _reference_trajectories(model0, X, y, TRAJECTORY_EPOCHS, lr).items():
        if (got - params).abs().max().item() <= 1e-5 * scale:
            return name, None
    return None, None


@single_threaded
def check_training(train_fn: Callable, *, epochs: int = 300, lr: float = 0.01,
                   min_accuracy: float = 0.9, seed: int = 0) -> CheckReport:
    """Check a training function: it learns, and it clears gradients every step.

    ``train_fn`` is called as ``train_fn(model, X, y, epochs=epochs, lr=lr)``, like
    :func:`labcode.train`, and must train ``model`` in place (its return value is not
    needed). The model is a known one, ``labcode.MLP(2, [16, 16], 2)`` (seeded), and the
    data are 200 two-moons points, so only the loop is under test.

    How ``zero_grad`` is checked (reliably, whatever the optimizer or batch size): a
    hook on every parameter looks at ``param.grad`` just *before* each backward pass
    adds to it. With ``zero_grad()`` once per step it is ``None`` (or zeros); without
    it, it still holds the previous step's gradient, and the report says at which
    backward pass and for which parameter. As a second, independent piece of evidence,
    a 3-epoch run of ``train_fn`` is compared with reference loops (``labcode.train``
    with Adam and with SGD, each with and without ``zero_grad``): the note says which
    one the parameters match. A loop that matches none (minibatches, momentum, another
    loss scaling) is not wrong for that; the other rows decide.

    The other checks: the function runs; it runs at least one backward pass per epoch;
    it changes the parameters; the training loss (measured here, before and after) goes
    down; the held-out accuracy is at least ``min_accuracy``. The defaults suit Adam
    (as in ``labcode.train``); for plain SGD pass a larger ``lr`` (e.g. ``lr=0.5``).

    Args:
        train_fn: your function ``train_fn(model, X, y, epochs, lr)``.
        epochs: epochs of the main run (> 0).
        lr: learning rate (> 0).
        min_accuracy: held-out accuracy to reach, in ``(0, 1]``.
        seed: seed of the model's initial weights and of the data; ``train_fn`` also
            runs under :func:`labcode.seeded` with it, so a loop that draws random
            numbers gives the same report every time and leaves the caller's global
            random state untouched.

    Returns:
        a :class:`CheckReport`.

    Example:
        >>> from labcode import train
        >>> check_training(train).passed
        True
    """
    if isinstance(train_fn, (History, list, tuple, dict)):
        raise TypeError(
            f"train_fn must be your training function itself, got {describe(train_fn)}: pass "
            "train, not train(...) (check_training runs it on its own model and data)"
        )
    if isinstance(train_fn, nn.Module) or not callable(train_fn):
        raise TypeError(
            "train_fn must be a function train_fn(model, X, y, epochs, lr) that trains model in "
            f"place, got {describe(train_fn)}"
        )
    epochs = _validate.positive_int("epochs", epochs)
    lr = _validate.positive_float("lr", lr)
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, (int, float)):
        raise TypeError(f"min_accuracy must be a number in (0, 1], got {describe(min_accuracy)}")
    if not 0 < min_accuracy <= 1:
        raise ValueError(f"min_accuracy must be in (0, 1], got {min_accuracy}")
    seed = _validate.integer("seed", seed)

    start = time.perf_counter()
    findings = Findings()
    name = callable_name(train_fn)
    X, y = make_moons(TRAINING_SAMPLES, noise=0.1, seed=seed)
    X_test, y_test = make_moons(TRAINING_SAMPLES, noise=0.1, seed=seed + 1)
    with seeded(seed):
        model0 = MLP(2, list(TRAINING_HIDDEN), 2)
    loss_fn = nn.CrossEntropyLoss()
    call = f"{name}(model, X, y, epochs={epochs}, lr={lr:g})"
    rows: list[CaseResult] = []

    def row(case: str, passed: bool, value: str, note: str = "") -> None:
        rows.append(CaseResult(case, passed, (("value", value),), (), note))

    # Main run, instrumented: before each backward pass adds to p.grad, look at p.grad.
    model = copy.deepcopy(model0)
    before = _flat_parameters(model)
    with torch.no_grad():
        loss_before = loss_fn(model(X), y).item()
    passes: dict[str, int] = {n: 0 for n, _ in model.named_parameters()}
    stale: list[tuple[int, str, float]] = []

    def watch(pname: str, param: torch.Tensor) -> Callable:
        def hook(grad: torch.Tensor) -> None:
            passes[pname] += 1
            prior = param.grad
            if prior is not None and prior.abs().max().item() > 0:
                stale.append((passes[pname], pname, prior.abs().max().item()))
        return hook

    handles = [p.register_hook(watch(n, p)) for n, p in model.named_parameters()]
    try:
        # A loop that draws random numbers (torch.randperm for minibatches, dropout) gets
        # the same run every time, and seeded() leaves the caller's generator as it was.
        with seeded(seed):
            returned, exc, _ = safe_call(train_fn, model, X, y, epochs=epochs, lr=lr)
    finally:
        for handle in handles:
            handle.remove()
    if exc is not None:
        text = add_exception(findings, exc, None, call,
                             "check_training calls train_fn(model, X, y, epochs=..., lr=...).")
        row(f"runs: {call}", False, "raised", text)
        return CheckReport(f"check_training({name})", rows, findings.diagnoses(),
                           time.perf_counter() - start)
    row(f"runs: {call}", True, "ok")
    match, trajectory_exc = _trajectory_match(train_fn, model0, X, y, lr, seed)

    n_passes = max(passes.values()) if passes else 0
    if n_passes == 0:
        findings.add("no_backward", "no backward pass reached the model's parameters: call "
                     "loss.backward() on a loss computed from model(X), for the model passed in "
                     "(not a new one built inside your function).")
        row("backward passes (at least one per epoch)", False, "0")
    elif n_passes < epochs:
        findings.add("too_few_steps", f"only {n_passes} backward passes for epochs={epochs}: "
                     "run one step (forward, loss, zero_grad, backward, step) per epoch, or more "
                     "with minibatches.")
        row("backward passes (at least one per epoch)", False, str(n_passes))
    else:
        row("backward passes (at least one per epoch)", True, str(n_passes))

    if stale:
        first_pass, pname, size = stale[0]
        findings.add("zero_grad_missing", "gradients accumulated across steps because zero_grad "
                     f"was missing: before backward pass {first_pass}, {pname}.grad still held an "
                     f"earlier gradient (max |grad| {size:.2e}), so the step used the sum of all past "
                     "gradients. Call optimizer.zero_grad() once per step, before loss.backward().")
        row("gradients cleared before each backward pass", False,
            f"stale in {len({s[0] for s in stale})} of {n_passes} passes")
    elif n_passes:
        row("gradients cleared before each backward pass", True, f"all {n_passes} passes")

    after = _flat_parameters(model)
    changed = not torch.equal(before, after)
    if n_passes and not changed:
        findings.add("no_update", "the parameters did not change: call optimizer.step() after "
                     "loss.backward(), build the optimizer on model.parameters() of the model passed "
                     "in, and do not call zero_grad() between backward() and step().")
    row("parameters updated", changed, "yes" if changed else "no")

    with torch.no_grad():
        loss_after = loss_fn(model(X), y).item()
    loss_cell = f"{loss_before:.4f} -> {loss_after:.4f}"
    if not math.isfinite(loss_after):
        findings.add("not_finite", f"the training loss became {loss_after}: the learning rate may be "
                     "too large, or the loss is computed wrongly.")
        row("training loss decreases", False, loss_cell)
    elif loss_after >= loss_before:
        findings.add("loss_not_decreasing", f"the training loss went from {loss_before:.4f} to "
                     f"{loss_after:.4f}: it should go down. Check the sign of the update (step() "
                     "moves against the gradient), the loss (cross-entropy of logits and labels) "
                     "and the learning rate.")
        row("training loss decreases", False, loss_cell)
    else:
        row("training loss decreases", True, loss_cell)

    test_accuracy = accuracy(model, X_test, y_test) if math.isfinite(loss_after) else 0.0
    if test_accuracy < min_accuracy:
        if match is not None and "'sgd'" in match and "without" not in match:
            advice = ("Your loop takes plain SGD steps, which need a larger learning rate than "
                      "Adam: run check_training(train, lr=0.5).")
        else:
            advice = ("With plain SGD, pass a larger lr (e.g. check_training(train, lr=0.5)); "
                      "otherwise see the other rows.")
        findings.add("low_accuracy", f"held-out accuracy {test_accuracy:.1%} is below "
                     f"{min_accuracy:.0%} after {epochs} epochs at lr={lr:g}. {advice}")
    row(f"held-out accuracy >= {min_accuracy:.0%}", test_accuracy >= min_accuracy,
        f"{test_accuracy:.1%}")

    # Second evidence: the parameters after a short run, against the reference loops.
    if trajectory_exc is not None:
        row(f"parameters after {TRAJECTORY_EPOCHS} epochs", True, "not compared",
            f"a {TRAJECTORY_EPOCHS}-epoch run raised {type(trajectory_exc).__name__}")
    else:
        accumulates = match is not None and match.endswith("without zero_grad")
        if accumulates and "zero_grad_missing" not in findings:
            findings.add("zero_grad_missing", "gradients accumulated across steps because "
                         f"zero_grad was missing: after {TRAJECTORY_EPOCHS} epochs the parameters "
                         f"match {match} (and not the loop with zero_grad). Call "
                         "optimizer.zero_grad() once per step, before loss.backward().")
        value = f"match {match}" if match else "match no reference loop"
        note = ("" if match else "not an error by itself (minibatches, momentum or another "
                "optimizer differ from the references); the other rows decide")
        row(f"parameters after {TRAJECTORY_EPOCHS} epochs", not accumulates, value, note)

    report = CheckReport(f"check_training({name})", rows, findings.diagnoses(),
                         time.perf_counter() - start)
    losses = getattr(returned, "loss", returned)
    if isinstance(losses, (list, tuple)) and losses and all(isinstance(v, (int, float)) for v in losses):
        report.notes.append(f"your function returned {len(losses)} losses, from {losses[0]:.4f} "
                            f"to {losses[-1]:.4f}.")
    return report


__all__ = ["TRAINING_HIDDEN", "TRAINING_SAMPLES", "TRAJECTORY_EPOCHS", "check_training"]
