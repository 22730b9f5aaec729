"""The catalogue of known mistakes: what the checks diagnose, and what the tests plant.

:data:`MISTAKES` is one table. A row is a check, a diagnosis code, what the code means,
the message a report gives (a template the check fills in), and its *plants*: wrong code
that makes the mistake, built from the right answer.

* ``check_linear_backward``: ``plant(r, p)`` maps the right ``[grad_input, grad_weight,
  grad_bias]`` and the :class:`~labcode.gradients.LinearProblem` ``p`` to what the wrong
  backward returns. A row marked ``recognise`` is found by applying its plants to
  autograd's answer;
* ``check_mlp``: ``plant(MLP)`` turns the right class into a wrong one;
* ``check_training``: ``plant(model, X, y, epochs, lr)`` is a wrong loop.

The tests and ``benchmarks/checks_time.py`` hand every plant to its check and expect its
code (and ``also``, the further codes it gets): this is the one list of mistakes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, reduce

import torch
from torch import nn

from .. import linear as _linear
from ..gradients import LinearProblem
from ..mlp import MLP


@dataclass(frozen=True)
class Mistake:
    check: str  # "linear_backward", "mlp" or "training"
    code: str
    meaning: str
    message: str  # what a report says: a template the check fills in
    plants: tuple[Callable, ...]
    recognise: bool = False  # linear_backward: found by applying its plants to the answer
    also: tuple[str, ...] = ()  # further codes its plants get


def _raise(error: Exception):
    raise error


# ---- plants of check_linear_backward: plant(r, p) -> what the wrong backward returns
def _rows(p) -> torch.Tensor:  # grad_output, one row per batch position: (M, D_out)
    return p.grad_output.reshape(-1, p.weight.shape[0])


def _bias(grad_bias: torch.Tensor | None, r: list) -> list:  # a wrong grad_bias, if there is one
    return [r[0], r[1], None if r[2] is None else grad_bias]


def _each(fn: Callable, r: list) -> list:  # fn on every gradient there is
    return [None if g is None else fn(g) for g in r]


def _zero_input(r: list, p) -> list:
    p.grad_output.zero_()
    return r


# ---- plants of check_mlp: plant(MLP) -> a wrong class
class _Lambda(nn.Module):
    """A module that applies a function, with ``members`` (modules, parameters) as its
    attributes: to build a wrong model from the right one."""

    def __init__(self, fn: Callable, **members) -> None:
        super().__init__()
        self.fn = fn
        for name, member in members.items():
            setattr(self, name, member)

    def forward(self, x):
        return self.fn(x)


def _then(M, fn: Callable) -> Callable:  # the right MLP, then fn on its output
    return lambda *a: nn.Sequential(M(*a), fn if isinstance(fn, nn.Module) else _Lambda(fn))


def _layers_in_a_list(M):
    def build(*args):
        layers = list(M(*args).layers)  # a plain list: of these, only out is registered
        return _Lambda(lambda x: reduce(lambda h, layer: layer(h), layers, x), out=layers[-1])

    return build


# ---- plants of check_training: plant(model, X, y, epochs, lr) -> a wrong loop
def _loop(
    model, X, y, epochs, lr, zero_grad="before", step=True, optimizer="adam", batch=None, **kw
):
    """A full-batch (or minibatch) training loop, with the usual mistakes as switches:
    ``zero_grad`` before ``backward`` (right), ``None`` (never) or ``"after"`` it."""
    optim = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
    opt, losses = optim(model.parameters(), lr=lr, **kw), []
    for _ in range(epochs):
        for xb, yb in zip(X.split(batch or len(X)), y.split(batch or len(X))):
            loss = nn.functional.cross_entropy(model(xb), yb)
            if zero_grad == "before":
                opt.zero_grad()
            loss.backward()
            if zero_grad == "after":  # between backward and step: nothing left to step with
                opt.zero_grad()
            if step:
                opt.step()
        losses.append(loss.item())
    return losses


def _once(model, X, y, epochs, lr, retain_graph=False):
    """The loss computed once, before the loop: each step backpropagates the same graph."""
    opt, loss_fn = torch.optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss()
    loss = loss_fn(model(X), y)  # outside the loop: the graph is freed by the first backward
    for _ in range(epochs):
        opt.zero_grad()
        loss.backward(retain_graph=retain_graph)  # retain_graph: PyTorch's hint, followed
        opt.step()


BACKWARD, MODEL, LOOP = "linear_backward", "mlp", "training"  # the three checks

# fmt: off
#: Every mistake, in the order check_linear_backward tries to recognise them.
MISTAKES: list[Mistake] = [
    Mistake(BACKWARD, "not_implemented", "The function raises NotImplementedError: still a TODO",
            "{detail}", (lambda r, p: _raise(NotImplementedError("TODO: implement linear_backward")),)),
    Mistake(BACKWARD, "raised", "Calling the function raised an exception", "{detail}",
            (lambda r, p: _raise(ValueError("shapes do not line up")),
             lambda r, p: [r[0], r[1], _rows(p).sum(0) + 0 * p.bias.sum()])),  # uses bias: None
    Mistake(BACKWARD, "batch_dimensions", "Right for 2-D x, wrong with several batch dimensions",
            "{detail} It fails only where x has several batch dimensions: flatten them first "
            "(x.reshape(-1, D_in), grad_output.reshape(-1, D_out)) for the 2-D formulas; "
            "grad_input keeps x's shape.",
            (lambda r, p: [p.grad_output @ p.weight, p.grad_output.T @ p.x,  # the 2-D formulas
                           None if p.bias is None else p.grad_output.sum(0)],)),
    Mistake(BACKWARD, "wrong_return",
            "Not three values (grad_input, grad_weight, grad_bias), or one is not a tensor",
            "{detail}", (lambda r, p: r[:2], lambda r, p: r[0],
                         lambda r, p: None,  # a forgotten return statement
                         lambda r, p: _each(torch.Tensor.numpy, r))),
    Mistake(BACKWARD, "wrong_dtype", "A gradient's dtype differs from the inputs' (float64)",
            "{name} comes back as {dtype}: keep the inputs' dtype (no .float()); float32 keeps "
            "only about 7 digits.", (lambda r, p: _each(torch.Tensor.float, r),)),
    Mistake(BACKWARD, "not_finite", "A result contains NaN or inf",
            "{name} contains NaN or inf: look for a division by zero, a log of 0, or torch.empty.",
            (lambda r, p: [r[0], r[1].fill_(float("nan")), r[2]],)),
    Mistake(BACKWARD, "modified_input", "The function changed one of its input tensors in place",
            "Your function changed one of its inputs in place (/=, +=, .t_(), .zero_()): a "
            "backward pass must compute new tensors instead.", (_zero_input,)),
    Mistake(BACKWARD, "transposed_weight_gradient", "grad_weight is the right gradient transposed",
            "grad_weight is the right gradient transposed: it must be (D_out, D_in) = {want}, "
            "like weight, so multiply in the order grad_output.T @ x.",
            (lambda r, p: [r[0], r[1].mT, r[2]],), recognise=True),
    Mistake(BACKWARD, "transposed_input_gradient", "grad_input is the right gradient transposed",
            "grad_input is the right gradient transposed, shape {got}; it must have x's shape "
            "{want}: grad_output @ weight.", (lambda r, p: [r[0].mT, r[1], r[2]],), recognise=True),
    Mistake(BACKWARD, "batch_size_scale", "Gradients off by a factor of the batch size N (1/N or N)",
            "{name} is {scale:.4g} times the right gradient, with N = {M} samples (x.shape[0] = "
            "{N0}): grad_output already is dL/dY (a mean's 1/N is in it), so do not divide or "
            "multiply by N again.",
            (lambda r, p: [r[0], *_each(lambda g: g / len(_rows(p)), r[1:])],
             lambda r, p: _each(lambda g: g * len(_rows(p)), r),
             lambda r, p: [r[0], *_each(lambda g: g / p.x.shape[0], r[1:])]),  # N = x.shape[0]
            recognise=True),
    Mistake(BACKWARD, "bias_not_summed", "grad_bias is not the sum of grad_output over the batch",
            "grad_bias must be grad_output summed over every batch position, shape {want} (not "
            "one row, not the mean): the same bias is added to every sample, so each sample's "
            "gradient adds to it.",
            (lambda r, p: _bias(p.grad_output, r),
             lambda r, p: _bias(_rows(p)[0], r),  # the first sample's row
             lambda r, p: _bias(None if r[2] is None else r[2] / len(_rows(p)), r)),  # the mean
            recognise=True),
    Mistake(BACKWARD, "wrong_shape", "A gradient does not have the shape of its tensor",
            "{name} has shape {got} but must have the shape of {of}, {want}: a gradient has the "
            "shape of what it is the gradient of.",
            (lambda r, p: _bias(None if r[2] is None else r[2][None], r),  # keepdim=True
             lambda r, p: [r[0], p.grad_output.mT @ p.x, r[2]]),  # batch dims not summed
            recognise=True),
    Mistake(BACKWARD, "wrong_sign", "A gradient has the opposite sign",
            "{name} has the right size but the opposite sign: the chain rule only multiplies. The "
            "minus of w <- w - lr * grad belongs in the optimizer's step: remove the minus sign "
            "from {name}.", (lambda r, p: _each(torch.neg, r),), recognise=True),
    Mistake(BACKWARD, "constant_factor", "A gradient is off by a constant factor",
            "{name} is the right gradient times {scale:.4g}: the pattern is right but a constant "
            "factor is off.", (lambda r, p: [r[0], 0.4 * r[1], r[2]],)),
    Mistake(BACKWARD, "wrong_values", "A gradient has the right shape but wrong values",
            "{name} has the right shape but wrong values: re-derive it with the chain rule, "
            "element by element, on a tiny example.", (lambda r, p: [r[0].exp(), r[1], r[2]],)),

    Mistake(MODEL, "not_a_module", "The model is not a torch.nn.Module",
            "{call} returned {detail}, not a torch.nn.Module: subclass nn.Module and call "
            "super().__init__() first.", (lambda M: lambda *a: (lambda x: x),)),
    Mistake(MODEL, "no_parameters", "The model has no registered parameters",
            "{call} has no registered parameters: keep the layers in attributes (nn.Sequential, "
            "nn.ModuleList), not in a Python list or a local variable.",
            (lambda M: lambda *a: _Lambda(M(*a).__call__),),  # the MLP held by a function
            also=("unregistered_parameter",)),
    Mistake(MODEL, "wrong_layer_sizes",
            "The weights do not follow in_features, hidden_features, out_features",
            "{call} has weight matrices {got}; one linear layer per hidden width has {want}: a "
            "layer for each entry of hidden_features, from the previous width to that one, then "
            "the output layer.",
            (lambda M: lambda d_in, hidden, d_out: M(d_in, list(hidden)[:1], d_out),)),
    Mistake(MODEL, "wrong_output", "The forward pass does not return a tensor of logits (N, C)",
            "forward must return a tensor of logits of shape (N, C), got {detail}.",
            (lambda M: _then(M, torch.Tensor.tolist),)),
    Mistake(MODEL, "wrong_shape", "The forward pass returns the wrong shape",
            "For x of shape {x}, forward returned shape {got}; it must return logits of shape "
            "(N, C) = {want}.{detail}",
            (lambda M: _then(M, lambda z: z.argmax(dim=1).float()),)),  # the predicted class
    Mistake(MODEL, "not_finite", "The forward pass returns NaN or inf", "forward returned NaN or inf.",
            (lambda M: _then(M, lambda z: z / 0),)),
    Mistake(MODEL, "softmax_output", "The forward pass returns probabilities instead of logits",
            "forward returns probabilities (rows >= 0 that sum to 1): return the logits; "
            "nn.CrossEntropyLoss applies log-softmax itself.",
            (lambda M: _then(M, nn.Softmax(dim=1)),)),
    Mistake(MODEL, "activation_on_output", "An activation is applied after the last layer",
            "Every logit is >= 0 on {n} random inputs: the output layer must have no activation "
            "after it (logits can be negative).", (lambda M: _then(M, nn.ReLU()),)),
    Mistake(MODEL, "no_nonlinearity", "The model is affine in its input: one linear map",
            "The model is affine in its input: f(a*x1 + (1-a)*x2) = a*f(x1) + (1-a)*f(x2) to "
            "{error:.1e}. Without a nonlinearity (e.g. nn.ReLU) between its layers the MLP "
            "collapses to one linear map, which cannot separate the moons.",
            (lambda M: partial(M, activation=None),)),
    Mistake(MODEL, "no_gradient", "Some parameter gets no gradient from the loss", "{detail}",
            (lambda M: lambda *a: _Lambda(M(*a), scale=nn.Parameter(torch.ones(a[-1]))),  # unused
             lambda M: _then(M, torch.Tensor.detach))),
    Mistake(MODEL, "unregistered_parameter",
            "Forward uses a trainable tensor the model does not register",
            "forward uses {n} trainable tensor(s) the model does not register (shapes {shapes}), "
            "so the optimizer never sees them: use nn.Sequential, nn.ModuleList or nn.Parameter.",
            (_layers_in_a_list,)),
    Mistake(MODEL, "not_implemented", "The class raises NotImplementedError: still a TODO",
            "{detail}", (lambda M: lambda *a: _raise(NotImplementedError("TODO: implement MLP")),)),
    Mistake(MODEL, "raised", "Building or running the model raised an exception", "{detail}",
            (lambda M: lambda d_in, hidden, d_out: M(d_in, [hidden], d_out),)),  # one width only

    Mistake(LOOP, "zero_grad_missing", "Gradients accumulated: zero_grad was missing",
            "Gradients accumulated across steps because zero_grad was missing: {detail}. Call "
            "optimizer.zero_grad() once per step, before loss.backward().",
            (partial(_loop, zero_grad=None), partial(_loop, zero_grad=None, optimizer="sgd"),
             partial(_loop, zero_grad=None, batch=50))),
    Mistake(LOOP, "no_backward", "No backward pass reached the model's parameters",
            "No backward pass reached the model's parameters: call loss.backward() on a loss of "
            "model(X), for the model passed in (not a new one).",
            (lambda model, *a, **k: _loop(MLP(2, [16, 16], 2), *a, **k),)),
    Mistake(LOOP, "too_few_steps", "Fewer backward passes than epochs",
            "Only {n} backward passes for epochs={epochs}: one step (forward, loss, zero_grad, "
            "backward, step) per epoch, or more with minibatches.",
            (lambda model, X, y, epochs, lr: _loop(model, X, y, 1, lr),)),
    Mistake(LOOP, "no_update", "The model's parameters did not change",
            "The parameters did not change: call optimizer.step() after loss.backward(), on an "
            "optimizer of model.parameters(), with no zero_grad() between the two.",
            (partial(_loop, step=False), partial(_loop, zero_grad="after"))),
    Mistake(LOOP, "not_finite", "The training loss became NaN or inf",
            "The training loss became {loss}: the learning rate may be too large, or the loss "
            "is wrong.",
            (lambda m, X, y, epochs, lr: _loop(m, X, y, epochs, 1e30 * lr, optimizer="sgd"),)),
    Mistake(LOOP, "loss_not_decreasing", "The training loss did not go down",
            "The training loss went from {before:.4f} to {after:.4f} (measured before and after "
            "your function ran): check the update's sign, the loss and the learning rate.",
            (partial(_loop, maximize=True),)),
    Mistake(LOOP, "low_accuracy", "Held-out accuracy below the threshold",
            "Held-out accuracy {accuracy:.1%} is below {target:.0%} after {epochs} epochs at "
            "lr={lr:g}. {detail}", (partial(_loop, optimizer="sgd"),)),  # plain SGD at Adam's rate
    Mistake(LOOP, "not_implemented", "The training function raises NotImplementedError",
            "{detail}", (lambda *a, **k: _raise(NotImplementedError("TODO: implement train")),)),
    Mistake(LOOP, "raised", "Calling the training function raised an exception", "{detail}",
            (lambda model, X, y, n_epochs, learning_rate: None,)),  # other argument names
    Mistake(LOOP, "backward_twice",
            "The loop calls backward twice through the same graph: one forward pass for all steps",
            "{detail} Each step needs its own forward pass: compute the loss from model(X) inside "
            "the loop, then zero_grad, backward and step.",
            (_once, partial(_once, retain_graph=True))),
]
# fmt: on

#: Every diagnosis code a check can report, in the catalogue's order, with what it means (its
#: first meaning).
DIAGNOSIS_CODES: dict[str, str] = {
    code: next(m.meaning for m in MISTAKES if m.code == code)
    for code in dict.fromkeys(m.code for m in MISTAKES)
}


def mistake(code: str, check: str) -> Mistake:
    """The catalogue's entry for ``code`` as ``check`` diagnoses it."""
    return next(m for m in MISTAKES if m.code == code and m.check == check)


def planted(mistake: Mistake) -> list[Callable]:
    """The wrong functions (or classes) a student could have written, one per plant, each
    named as a student's is (``linear_backward``, ``MLP``, ``train``)."""

    def wrong(plant: Callable) -> Callable:
        def students(*args, **kwargs):
            if mistake.check == BACKWARD:  # plant(the right gradients, the problem)
                return plant(list(_linear.linear_backward(*args)), LinearProblem(*args))
            if mistake.check == MODEL:  # plant(the right class) is the wrong class
                return plant(MLP)(*args, **kwargs)
            return plant(*args, **kwargs)

        students.__qualname__ = students.__name__ = {
            BACKWARD: "linear_backward",
            MODEL: "MLP",
            LOOP: "train",
        }[mistake.check]
        return students

    return [wrong(plant) for plant in mistake.plants]
