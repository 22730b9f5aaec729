"""The catalogue of known mistakes: what the checks diagnose, and what the tests plant.

Each function below is one way to make a mistake, named for what a student does, and
registered under the mistake's code. Its docstring is the catalogue's text for that code:
the first line what the code means, the rest the message a report gives (a template the
check fills in). Its body *plants* the mistake from the right answer:

* for ``check_linear_backward``: ``plant(r, p)`` maps the right ``[grad_input,
  grad_weight, grad_bias]`` and the problem ``p`` (``grad_output``, ``x``, ``weight``,
  ``bias``) to what the wrong backward returns. The check recognises a wrong gradient by
  applying the same plants to autograd's answer;
* for ``check_mlp``: ``plant(MLP)`` turns the right class into a wrong one;
* for ``check_training``: ``plant(model, X, y, epochs, lr)`` is a wrong loop.

The tests and ``benchmarks/checks_time.py`` hand every plant to its check and expect its
code: this is the one list of mistakes.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch
from torch import nn

from .. import linear as _linear
from ..mlp import MLP


@dataclass
class Mistake:
    code: str
    check: str  # "linear_backward", "mlp" or "training"
    meaning: str
    message: str  # what a report says: a template the check fills in
    plants: list[Callable] = field(default_factory=list)
    recognise: bool = False  # linear_backward: found by applying its plants to the answer
    also: tuple[str, ...] = ()  # further codes its plants get


#: Every mistake, in the order check_linear_backward tries to recognise them.
MISTAKES: list[Mistake] = []


def _mistake(check: str, code: str | None = None, *, recognise: bool = False,
             also: tuple[str, ...] = ()) -> Callable:
    """Register the decorated function as a plant of ``code`` (default: its name); the
    first plant of a code gives the code's meaning and message in its docstring."""
    def register(plant: Callable) -> Callable:
        name = code or plant.__name__
        entry = next((m for m in MISTAKES if (m.code, m.check) == (name, check)), None)
        if entry is None:
            meaning, _, message = inspect.cleandoc(plant.__doc__).partition("\n\n")
            entry = Mistake(name, check, meaning.rstrip("."), " ".join(message.split()) or "{detail}",
                            recognise=recognise, also=also)
            MISTAKES.append(entry)
        entry.plants.append(plant)
        return plant
    return register


def _raise(error: Exception):
    raise error


def _rows(p) -> torch.Tensor:  # grad_output, one row per batch position: (M, D_out)
    return p.grad_output.reshape(-1, p.weight.shape[0])


def _bias(grad_bias: torch.Tensor | None, r: list) -> list:  # a wrong grad_bias, if there is one
    return [r[0], r[1], None if r[2] is None else grad_bias]


# ------------------------------------------------------------------ check_linear_backward
lb = functools.partial(_mistake, "linear_backward")


@lb("not_implemented")
def still_a_todo(r, p):
    """The function raises NotImplementedError: still a TODO."""
    raise NotImplementedError("TODO: implement linear_backward")


@lb()
def raised(r, p):
    """Calling the function raised an exception."""
    raise ValueError("shapes do not line up")


@lb("raised")
def uses_a_missing_bias(r, p):
    return [r[0], r[1], _rows(p).sum(0) + 0 * p.bias.sum()]


@lb()
def batch_dimensions(r, p):
    """Right for 2-D x, wrong with several batch dimensions.

    {detail} It fails only where x has several batch dimensions: flatten them first
    (x.reshape(-1, D_in), grad_output.reshape(-1, D_out)) for the 2-D formulas; grad_input
    keeps x's shape.
    """
    return [p.grad_output @ p.weight, p.grad_output.T @ p.x,  # the 2-D formulas, as they are
            None if p.bias is None else p.grad_output.sum(0)]


@lb()
def wrong_return(r, p):
    """Not three values (grad_input, grad_weight, grad_bias), or one is not a tensor."""
    return r[:2]


lb("wrong_return")(lambda r, p: r[0])
lb("wrong_return")(lambda r, p: None)  # a forgotten return statement
lb("wrong_return")(lambda r, p: [None if g is None else g.numpy() for g in r])


@lb()
def wrong_dtype(r, p):
    """A gradient's dtype differs from the inputs' (float64).

    {name} comes back as {dtype}: keep the inputs' dtype (no .float()); float32 keeps only
    about 7 digits.
    """
    return [None if g is None else g.float() for g in r]


@lb()
def not_finite(r, p):
    """A result contains NaN or inf.

    {name} contains NaN or inf: look for a division by zero, a log of 0, or torch.empty.
    """
    return [r[0], r[1].fill_(float("nan")), r[2]]


@lb()
def modified_input(r, p):
    """The function changed one of its input tensors in place.

    Your function changed one of its inputs in place (/=, +=, .t_(), .zero_()): a backward
    pass must compute new tensors instead.
    """
    p.grad_output.zero_()
    return r


@lb(recognise=True)
def transposed_weight_gradient(r, p):
    """grad_weight is the right gradient transposed.

    grad_weight is the right gradient transposed: it must be (D_out, D_in) = {want}, like
    weight, so multiply in the order grad_output.T @ x.
    """
    return [r[0], r[1].mT, r[2]]


@lb(recognise=True)
def transposed_input_gradient(r, p):
    """grad_input is the right gradient transposed.

    grad_input is the right gradient transposed, shape {got}; it must have x's shape {want}:
    grad_output @ weight.
    """
    return [r[0].mT, r[1], r[2]]


@lb(recognise=True)
def batch_size_scale(r, p):
    """Gradients off by a factor of the batch size N (1/N or N).

    {name} is {scale:.4g} times the right gradient, with N = {M} samples (x.shape[0] = {N0}):
    grad_output already is dL/dY (a mean's 1/N is in it), so do not divide or multiply by N
    again.
    """
    return [r[0], r[1] / len(_rows(p)), None if r[2] is None else r[2] / len(_rows(p))]


lb("batch_size_scale")(lambda r, p: [None if g is None else g * len(_rows(p)) for g in r])
lb("batch_size_scale")(lambda r, p: [r[0], r[1] / p.x.shape[0],  # x.shape[0] as "N" of 3-D x
                                     None if r[2] is None else r[2] / p.x.shape[0]])


@lb(recognise=True)
def bias_not_summed(r, p):
    """grad_bias is not the sum of grad_output over the batch.

    grad_bias must be grad_output summed over every batch position, shape {want} (not one row,
    not the mean): the same bias is added to every sample, so each sample's gradient adds to it.
    """
    return _bias(p.grad_output, r)


lb("bias_not_summed")(lambda r, p: _bias(_rows(p)[0], r))  # the first sample's row
lb("bias_not_summed")(lambda r, p: _bias(None if r[2] is None else r[2] / len(_rows(p)), r))  # mean


@lb(recognise=True)
def wrong_shape(r, p):
    """A gradient does not have the shape of its tensor.

    {name} has shape {got} but must have the shape of {of}, {want}: a gradient has the shape
    of what it is the gradient of.
    """
    return _bias(None if r[2] is None else r[2][None], r)  # keepdim=True


lb("wrong_shape")(lambda r, p: [r[0], p.grad_output.mT @ p.x, r[2]])  # batch dims not summed


@lb(recognise=True)
def wrong_sign(r, p):
    """A gradient has the opposite sign.

    {name} has the right size but the opposite sign: the chain rule only multiplies. The minus
    of w <- w - lr * grad belongs in the optimizer's step: remove the minus sign from {name}.
    """
    return [None if g is None else -g for g in r]


@lb()
def constant_factor(r, p):
    """A gradient is off by a constant factor.

    {name} is the right gradient times {scale:.4g}: the pattern is right but a constant factor
    is off.
    """
    return [r[0], 0.4 * r[1], r[2]]


@lb()
def wrong_values(r, p):
    """A gradient has the right shape but wrong values.

    {name} has the right shape but wrong values: re-derive it with the chain rule, element by
    element, on a tiny example.
    """
    return [r[0].exp(), r[1], r[2]]


# ------------------------------------------------------------------------------ check_mlp
mlp = functools.partial(_mistake, "mlp")


class _Lambda(nn.Module):
    """A module that applies a function: to build a wrong model from the right one."""

    def __init__(self, fn: Callable) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _then(M, fn: Callable) -> Callable:  # the right MLP, then fn on its output
    return lambda *a: nn.Sequential(M(*a), fn if isinstance(fn, nn.Module) else _Lambda(fn))


@mlp()
def not_a_module(M):
    """The model is not a torch.nn.Module.

    {call} returned {detail}, not a torch.nn.Module: subclass nn.Module and call
    super().__init__() first.
    """
    return lambda *a: (lambda x: x)


@mlp(also=("unregistered_parameter",))
def no_parameters(M):
    """The model has no registered parameters.

    {call} has no registered parameters: keep the layers in attributes (nn.Sequential,
    nn.ModuleList), not in a Python list or a local variable.
    """
    return lambda *a: _Lambda(M(*a).__call__)  # the whole MLP held by a function, not registered


@mlp()
def wrong_layer_sizes(M):
    """The weights do not follow in_features, hidden_features, out_features.

    {call} has weight matrices {got}; one linear layer per hidden width has {want}: a layer
    for each entry of hidden_features, from the previous width to that one, then the output
    layer.
    """
    return lambda d_in, hidden, d_out: M(d_in, list(hidden)[:1], d_out)  # the first width only


@mlp()
def wrong_output(M):
    """The forward pass does not return a tensor of logits (N, C).

    forward must return a tensor of logits of shape (N, C), got {detail}.
    """
    return _then(M, torch.Tensor.tolist)


@mlp("wrong_shape")
def returns_the_predicted_class(M):
    """The forward pass returns the wrong shape.

    For x of shape {x}, forward returned shape {got}; it must return logits of shape (N, C) =
    {want}.{detail}
    """
    return _then(M, lambda z: z.argmax(dim=1).float())


@mlp("not_finite")
def divides_by_zero(M):
    """The forward pass returns NaN or inf.

    forward returned NaN or inf.
    """
    return _then(M, lambda z: z / 0)


@mlp()
def softmax_output(M):
    """The forward pass returns probabilities instead of logits.

    forward returns probabilities (rows >= 0 that sum to 1): return the logits;
    nn.CrossEntropyLoss applies log-softmax itself.
    """
    return _then(M, nn.Softmax(dim=1))


@mlp()
def activation_on_output(M):
    """An activation is applied after the last layer.

    Every logit is >= 0 on {n} random inputs: the output layer must have no activation after it
    (logits can be negative).
    """
    return _then(M, nn.ReLU())


@mlp()
def no_nonlinearity(M):
    """The model is affine in its input: one linear map.

    The model is affine in its input: f(a*x1 + (1-a)*x2) = a*f(x1) + (1-a)*f(x2) to
    {error:.1e}. Without a nonlinearity (e.g. nn.ReLU) between its layers the MLP collapses
    to one linear map, which cannot separate the moons.
    """
    return functools.partial(M, activation=None)


@mlp("no_gradient")
def unused_layer(M):
    """Some parameter gets no gradient from the loss."""
    def build(*args):
        model = M(*args)
        model.scale = nn.Parameter(torch.ones(args[-1]))  # created, never used in forward
        return model
    return build


mlp("no_gradient")(lambda M: _then(M, torch.Tensor.detach))


@mlp("unregistered_parameter")
def hidden_layers_in_a_list(M):
    """Forward uses a trainable tensor the model does not register.

    forward uses {n} trainable tensor(s) the model does not register (shapes {shapes}), so
    the optimizer never sees them: use nn.Sequential, nn.ModuleList or nn.Parameter.
    """
    def build(*args):
        layers = list(M(*args).layers)  # a plain list: nothing in it is registered ...
        model = _Lambda(lambda x: functools.reduce(lambda h, layer: layer(h), layers, x))
        model.out = layers[-1]  # ... but the output layer
        return model
    return build


@mlp("not_implemented")
def mlp_still_a_todo(M):
    """The class raises NotImplementedError: still a TODO."""
    return lambda *a: _raise(NotImplementedError("TODO: implement MLP"))


@mlp("raised")
def takes_one_hidden_width(M):
    """Building or running the model raised an exception."""
    return lambda d_in, hidden, d_out: M(d_in, [hidden], d_out)


# ------------------------------------------------------------------------- check_training
training = functools.partial(_mistake, "training")


def _loop(model, X, y, epochs, lr, *, zero_grad=True, step=True, optimizer="adam",
          maximize=False, zero_between=False, batch=None, new_model=False, steps=None, lr_times=1):
    """A full-batch (or minibatch) training loop, with the usual mistakes as switches."""
    model = MLP(2, [16, 16], 2) if new_model else model
    optim = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
    opt, losses = optim(model.parameters(), lr=lr * lr_times, maximize=maximize), []
    for _ in range(epochs if steps is None else steps):
        for xb, yb in zip(X.split(batch or len(X)), y.split(batch or len(X))):
            loss = nn.functional.cross_entropy(model(xb), yb)
            if zero_grad: opt.zero_grad()  # noqa: E701 (a switch a line)
            loss.backward()
            if zero_between: opt.zero_grad()  # noqa: E701
            if step: opt.step()  # noqa: E701
        losses.append(loss.item())
    return losses


@training()
def zero_grad_missing(model, X, y, epochs, lr):
    """Gradients accumulated: zero_grad was missing.

    Gradients accumulated across steps because zero_grad was missing: {detail}. Call
    optimizer.zero_grad() once per step, before loss.backward().
    """
    return _loop(model, X, y, epochs, lr, zero_grad=False)


training("zero_grad_missing")(functools.partial(_loop, zero_grad=False, optimizer="sgd"))
training("zero_grad_missing")(functools.partial(_loop, zero_grad=False, batch=50))


@training("no_backward")
def trains_a_new_model(model, X, y, epochs, lr):
    """No backward pass reached the model's parameters.

    No backward pass reached the model's parameters: call loss.backward() on a loss of
    model(X), for the model passed in (not a new one).
    """
    return _loop(model, X, y, epochs, lr, new_model=True)


@training("too_few_steps")
def one_step_only(model, X, y, epochs, lr):
    """Fewer backward passes than epochs.

    Only {n} backward passes for epochs={epochs}: one step (forward, loss, zero_grad,
    backward, step) per epoch, or more with minibatches.
    """
    return _loop(model, X, y, epochs, lr, steps=1)


@training("no_update")
def no_step(model, X, y, epochs, lr):
    """The model's parameters did not change.

    The parameters did not change: call optimizer.step() after loss.backward(), on an
    optimizer of model.parameters(), with no zero_grad() between the two.
    """
    return _loop(model, X, y, epochs, lr, step=False)


training("no_update")(functools.partial(_loop, zero_grad=False, zero_between=True))


@training("not_finite")
def diverges(model, X, y, epochs, lr):
    """The training loss became NaN or inf.

    The training loss became {loss}: the learning rate may be too large, or the loss is wrong.
    """
    return _loop(model, X, y, epochs, lr, optimizer="sgd", lr_times=1e30)


@training("loss_not_decreasing")
def gradient_ascent(model, X, y, epochs, lr):
    """The training loss did not go down.

    The training loss went from {before:.4f} to {after:.4f} (measured before and after your
    function ran): check the update's sign, the loss and the learning rate.
    """
    return _loop(model, X, y, epochs, lr, maximize=True)


@training("low_accuracy")
def plain_sgd_at_adams_rate(model, X, y, epochs, lr):
    """Held-out accuracy below the threshold.

    Held-out accuracy {accuracy:.1%} is below {target:.0%} after {epochs} epochs at
    lr={lr:g}. {detail}
    """
    return _loop(model, X, y, epochs, lr, optimizer="sgd")


@training("not_implemented")
def train_still_a_todo(model, X, y, epochs, lr):
    """The training function raises NotImplementedError."""
    raise NotImplementedError("TODO: implement train")


@training("raised")
def other_argument_names(model, X, y, n_epochs, learning_rate):
    """Calling the training function raised an exception."""


@training()
def backward_twice(model, X, y, epochs, lr):
    """The loop calls backward twice through the same graph: one forward pass for all steps.

    {detail} Each step needs its own forward pass: compute the loss from model(X) inside the
    loop, then zero_grad, backward and step.
    """
    _once(model, X, y, epochs, lr)


def _once(model, X, y, epochs, lr, retain_graph=False):
    """The loss computed once, before the loop: each step backpropagates the same graph."""
    opt, loss_fn = torch.optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    loss = loss_fn(model(X), y)  # outside the loop: the graph is freed by the first backward
    for _ in range(epochs):
        opt.zero_grad()
        loss.backward(retain_graph=retain_graph)
        opt.step()


# ... and PyTorch's hint followed: the graph is kept, but step() changed the weights it saved
training("backward_twice")(functools.partial(_once, retain_graph=True))


#: Every diagnosis code a check can report, with what it means (its first meaning).
DIAGNOSIS_CODES: dict[str, str] = {}
for _m in MISTAKES:
    DIAGNOSIS_CODES.setdefault(_m.code, _m.meaning)


def mistake(code: str, check: str) -> Mistake:
    """The catalogue's entry for ``code`` as ``check`` diagnoses it."""
    return next(m for m in MISTAKES if m.code == code and m.check == check)


def planted(mistake: Mistake) -> list[Callable]:
    """The wrong functions (or classes) a student could have written, one per plant, each
    named as a student's is (``linear_backward``, ``MLP``, ``train``)."""
    def backward(plant):
        def linear_backward(grad_output, x, weight, bias):
            p = SimpleNamespace(grad_output=grad_output, x=x, weight=weight, bias=bias)
            return plant(list(_linear.linear_backward(grad_output, x, weight, bias)), p)
        return linear_backward
    make = {"linear_backward": backward, "mlp": lambda plant: plant(MLP),
            "training": lambda plant: plant}[mistake.check]
    fns = [make(plant) for plant in mistake.plants]
    if mistake.check == "training":  # name the loop as a student's: wrap, keeping the plant
        fns = [functools.wraps(fn)(functools.partial(fn)) for fn in fns]
    for fn in fns:
        fn.__qualname__ = fn.__name__ = {"mlp": "MLP", "training": "train"}.get(mistake.check,
                                                                                "linear_backward")
    return fns
