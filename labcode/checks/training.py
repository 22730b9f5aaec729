"""``check_training``: a student's training loop, run on a known model and data.

The model (``labcode.MLP``) and the two-moons data are fixed, so only the loop is under
test: that it runs, takes a backward pass per epoch, clears gradients before each one
(``zero_grad``), updates the parameters, lowers the loss and reaches a held-out
accuracy. A short run is also compared with reference loops (``labcode.train`` with and
without ``zero_grad``) as a second piece of evidence.
"""

import copy
import functools
import math
from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..data import make_moons
from ..mlp import MLP
from ..seeding import seeded
from ..train import History, accuracy, train
from ._support import Findings, callable_name, safe_call, single_threaded
from .mistakes import _loop
from .report import CaseResult, CheckReport

#: The known model and data: ``MLP(2, TRAINING_HIDDEN, 2)`` on ``TRAINING_SAMPLES`` moons
#: points (noise 0.1), and a held-out set of the same size.
TRAINING_HIDDEN, TRAINING_SAMPLES = (16, 16), 200
#: Epochs of the short runs whose parameters are compared with the reference loops.
TRAJECTORY_EPOCHS = 3
_REFERENCES = {
    f"labcode.train(optimizer={o!r}){without}": functools.partial(
        train if not without else functools.partial(_loop, zero_grad=None), optimizer=o
    )
    for o in ("adam", "sgd")
    for without in ("", " without zero_grad")
}
#: What ``retain_graph=True`` adds when the loss is computed once, outside the loop.
RETAIN_GRAPH_HINT = (
    "This is the follow-up of computing the loss once, outside the loop: "
    "retain_graph=True keeps that graph, but optimizer.step() changes in place "
    "the weights it saved, so the next backward finds them modified."
)


def _parameters(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return nn.functional.cross_entropy(model(X), y).item()


def _watched_run(
    train_fn: Callable, model: nn.Module, X, y, epochs: int, lr: float, seed: int
) -> tuple[object, BaseException | None, int, list]:
    """Run ``train_fn`` on ``model``, looking at each ``p.grad`` just before a backward pass
    adds to it: ``(returned, exception, backward passes, stale gradients found)``."""
    passes, stale = dict.fromkeys(dict(model.named_parameters()), 0), []

    def hook(pname: str, param: torch.Tensor, grad: torch.Tensor) -> None:
        passes[pname] += 1
        if param.grad is not None and param.grad.abs().max().item() > 0:
            stale.append((passes[pname], pname, param.grad.abs().max().item()))

    for pname, param in model.named_parameters():  # the model is the check's own copy
        param.register_hook(functools.partial(hook, pname, param))
    with seeded(seed):  # a loop that draws (torch.randperm) gets the same run every time
        returned, exc, _ = safe_call(train_fn, model, X, y, epochs=epochs, lr=lr)
    return returned, exc, max(passes.values()), stale


def _trajectory(train_fn: Callable, model0: nn.Module, X, y, lr: float, seed: int):
    """``(the reference loop a short run reproduces, or None; the row's value; its note)``."""
    model = copy.deepcopy(model0)
    exc = _watched_run(train_fn, model, X, y, TRAJECTORY_EPOCHS, lr, seed)[1]
    if exc is not None:
        return None, "not compared", f"a {TRAJECTORY_EPOCHS}-epoch run raised {type(exc).__name__}"
    for name, reference in _REFERENCES.items():
        expected = copy.deepcopy(model0)
        reference(expected, X, y, epochs=TRAJECTORY_EPOCHS, lr=lr)
        scale = _parameters(model0).abs().max().item()
        if (_parameters(model) - _parameters(expected)).abs().max().item() <= 1e-5 * scale:
            return name, f"match {name}", ""
    return (
        None,
        "match no reference loop",
        (
            "not an error by itself (minibatches, momentum or another optimizer differ from the "
            "references); the other rows decide"
        ),
    )


def _raised(exc: BaseException, n_passes: int) -> tuple[str, str]:
    """The code and hint for an exception of the main run: ``backward_twice`` for autograd's
    error on a second backward through a freed graph (the loss computed once), and for its
    ``retain_graph=True`` follow-up, an in-place modification found after a backward pass
    went through; else ``raised``."""
    text = str(exc) if isinstance(exc, RuntimeError) else ""
    if "backward through the graph a second time" in text:
        return "backward_twice", ""
    if "modified by an inplace operation" in text and n_passes > 0:
        return "backward_twice", RETAIN_GRAPH_HINT
    return "raised", "check_training calls train_fn(model, X, y, epochs=..., lr=...)."


def _accuracy_advice(match: str | None, findings: Findings) -> str:
    """What to do about a low accuracy: the advice follows what the loop did."""
    if match == "labcode.train(optimizer='sgd')":
        return (
            "Your loop takes plain SGD steps, which need a larger learning rate than Adam: "
            "run check_training(train, lr=0.5)."
        )
    if findings.found:
        return "Fix the mistakes above first: they explain it."
    return "Train longer, or with a larger learning rate (plain SGD needs about lr=0.5)."


@single_threaded()
def check_training(
    train_fn: Callable,
    *,
    epochs: int = 300,
    lr: float = 0.01,
    min_accuracy: float = 0.9,
    seed: int = 0,
) -> CheckReport:
    """Check a training function: it learns, and it clears gradients every step.

    ``train_fn`` is called as ``train_fn(model, X, y, epochs=epochs, lr=lr)``, like
    :func:`labcode.train`, and must train ``model`` in place. The model is a known one,
    ``labcode.MLP(2, [16, 16], 2)`` (seeded), and the data are 200 two-moons points, so only
    the loop is under test.

    How ``zero_grad`` is checked, whatever the optimizer or batch size: a hook on every
    parameter looks at ``param.grad`` just *before* each backward pass adds to it. With
    ``zero_grad()`` once per step it is ``None`` (or zeros); without, it still holds the
    previous step's gradient. As independent evidence, a 3-epoch run is compared with
    reference loops (``labcode.train`` with Adam and with SGD, each with and without
    ``zero_grad``); a loop that matches none (minibatches, momentum) is not wrong for that.
    The other rows: it runs; at least one backward pass per epoch; the parameters change;
    the training loss (measured here, before and after) goes down; the held-out accuracy
    reaches ``min_accuracy``. The defaults suit Adam; for plain SGD pass ``lr=0.5``.

    Args:
        train_fn: your function ``train_fn(model, X, y, epochs, lr)``.
        epochs: epochs of the main run (> 0); lr: learning rate (> 0).
        min_accuracy: held-out accuracy to reach, in ``(0, 1]``.
        seed: seed of the model, the data and (through :func:`labcode.seeded`) of any
            random numbers ``train_fn`` draws; the caller's random state is untouched.

    Returns:
        a :class:`CheckReport` with one row per property of the loop (runs, backward
        passes, gradients cleared, parameters updated, loss, accuracy, trajectory).

    Example:
        >>> from labcode import train
        >>> check_training(train).passed
        True
    """
    _validate.student_code(
        "train_fn",
        train_fn,
        "a function train_fn(model, X, y, epochs, lr) that trains model in place",
        "train",
        (History, list, tuple, dict),
        (nn.Module,),
    )
    epochs, lr = _validate.positive_int("epochs", epochs), _validate.positive_float("lr", lr)
    min_accuracy, seed = (
        _validate.fraction("min_accuracy", min_accuracy),
        _validate.integer("seed", seed),
    )
    findings, rows, name = Findings("training"), [], callable_name(train_fn)
    (X, y), (X_test, y_test) = (
        make_moons(TRAINING_SAMPLES, noise=0.1, seed=seed + i) for i in (0, 1)
    )
    with seeded(seed):
        model0 = MLP(2, list(TRAINING_HIDDEN), 2)
    call = f"{name}(model, X, y, epochs={epochs}, lr={lr:g})"

    def row(case: str, passed: bool, value: str, note: str = "") -> None:
        rows.append(CaseResult(case, passed, (("value", value),), (), note))

    # The main run, watched: just before each backward pass adds to p.grad, look at p.grad.
    model = copy.deepcopy(model0)
    loss_before = _loss(model, X, y)
    returned, exc, n_passes, stale = _watched_run(train_fn, model, X, y, epochs, lr, seed)
    if exc is not None:
        code, hint = _raised(exc, n_passes)
        row(f"runs: {call}", False, "raised", findings.exception(exc, None, call, hint, code))
        return findings.report(f"check_training({name})", rows)
    row(f"runs: {call}", True, "ok")
    match, *trajectory_row = _trajectory(train_fn, model0, X, y, lr, seed)

    if n_passes < epochs:
        findings.add("no_backward" if n_passes == 0 else "too_few_steps", n=n_passes, epochs=epochs)
    row("backward passes (at least one per epoch)", n_passes >= epochs, str(n_passes))
    if stale:
        findings.add(
            "zero_grad_missing",
            detail=f"before backward pass {stale[0][0]}, {stale[0][1]}"
            f".grad still held an earlier gradient (max |grad| {stale[0][2]:.2e})",
        )
    if n_passes:
        row(
            "gradients cleared before each backward pass",
            not stale,
            f"stale in {len({s[0] for s in stale})} of {n_passes} passes"
            if stale
            else f"all {n_passes} passes",
        )
    changed = not torch.equal(_parameters(model0), _parameters(model))
    if n_passes and not changed:
        findings.add("no_update")
    row("parameters updated", changed, "yes" if changed else "no")

    loss_after = _loss(model, X, y)
    if not math.isfinite(loss_after):
        findings.add("not_finite", loss=loss_after)
    elif loss_after >= loss_before:
        findings.add("loss_not_decreasing", before=loss_before, after=loss_after)
    row(
        "training loss decreases (before -> after training)",
        loss_after < loss_before,
        f"{loss_before:.4f} -> {loss_after:.4f}",
    )
    test_accuracy = accuracy(model, X_test, y_test) if math.isfinite(loss_after) else 0.0
    if test_accuracy < min_accuracy:  # the advice follows what the loop did
        findings.add(
            "low_accuracy",
            accuracy=test_accuracy,
            target=min_accuracy,
            epochs=epochs,
            lr=lr,
            detail=_accuracy_advice(match, findings),
        )
    row(
        f"held-out accuracy >= {min_accuracy:.0%}",
        test_accuracy >= min_accuracy,
        f"{test_accuracy:.1%}",
    )

    # Second evidence: the parameters after a short run, against the reference loops.
    accumulates = match is not None and match.endswith("without zero_grad")
    if accumulates and "zero_grad_missing" not in findings.found:
        findings.add(
            "zero_grad_missing",
            detail=f"after {TRAJECTORY_EPOCHS} epochs the parameters "
            f"match {match} (and not the loop with zero_grad)",
        )
    row(f"parameters after {TRAJECTORY_EPOCHS} epochs", not accumulates, *trajectory_row)
    losses, notes = getattr(returned, "loss", returned), []  # a History's, or the loop's list
    if (
        isinstance(losses, (list, tuple))
        and losses
        and all(isinstance(v, (int, float)) for v in losses)
    ):
        notes.append(
            f"your function returned {len(losses)} losses: its own record, taken "
            "during training; the row above measures the loss before and after it."
        )
    return findings.report(f"check_training({name})", rows, notes)
