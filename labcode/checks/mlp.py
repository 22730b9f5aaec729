"""``check_mlp``: a student's MLP class, built in several sizes and probed as a black box.

Each model of :data:`MLP_CONFIGS` is built from the student's class, seeded, and checked
for what the lab asks of an MLP: an ``nn.Module`` with registered parameters, logits of
shape ``(N, C)``, a nonlinearity (it must not be affine), and gradients that reach
every parameter.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
from torch import nn

from ..seeding import seeded
from ._support import Findings, add_exception, callable_name, describe, safe_call, single_threaded
from .report import CaseResult, CheckReport

#: The models ``check_mlp`` builds: ``(in_features, hidden_features, out_features)``.
MLP_CONFIGS: tuple[tuple[int, tuple[int, ...], int], ...] = (
    (2, (16,), 2),
    (3, (8, 5), 4),
    (5, (7, 6, 4), 3),
)
#: Batch sizes of the forward passes whose output shape is checked (a batch of one included).
MLP_BATCH_SIZES = (1, 7, 32)


def _graph_leaves(output: torch.Tensor) -> list[torch.Tensor]:
    """Every leaf tensor that requires grad and that ``output`` depends on."""
    leaves, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # AccumulateGrad nodes hold the leaf
        if variable is not None:
            leaves.append(variable)
        stack.extend(nxt for nxt, _ in node.next_functions)
    return leaves


def _affine_error(model: nn.Module, in_features: int, dtype: torch.dtype, seed: int) -> float:
    r"""Largest relative violation of :math:`f(a x_1 + (1-a) x_2) = a f(x_1) + (1-a) f(x_2)`.

    An affine map (any stack of linear layers with no nonlinearity between them)
    satisfies it exactly, for every ``a``; a ReLU/tanh network does not, once inputs
    straddle its kinks. Inputs are wide (standard deviation 3) and the weights ``a``
    include extrapolation (``a = -1.5``), so a nonlinear network shows it.
    """
    generator = torch.Generator().manual_seed(seed)
    x1 = 3 * torch.randn(64, in_features, generator=generator, dtype=dtype)
    x2 = 3 * torch.randn(64, in_features, generator=generator, dtype=dtype)
    worst = 0.0
    with torch.no_grad():
        f1, f2 = model(x1), model(x2)
        scale = max(f1.abs().max().item(), f2.abs().max().item(), 1e-12)
        for a in (0.3, -1.5):
            lhs = model(a * x1 + (1 - a) * x2)
            rhs = a * f1 + (1 - a) * f2
            worst = max(worst, (lhs - rhs).abs().max().item() / scale)
    return worst


def _check_model(model_class: Callable[..., nn.Module], call: str, index: int, d_in: int,
                 hidden: tuple[int, ...], n_out: int, findings: Findings) -> CaseResult:
    """One row of :func:`check_mlp`: build ``call`` and probe it as a black box."""
    cells = {"module": "—", "output (N, C)": "—", "nonlinear": "—", "gradients": "—"}
    codes: list[str] = []
    notes: list[str] = []

    def add(code: str, message: str, note: str) -> None:
        findings.add(code, message, call)
        codes.append(code)
        notes.append(note)

    def finish() -> CaseResult:
        return CaseResult(call, not codes, tuple(cells.items()), (), "; ".join(notes))

    model, exc, _ = safe_call(model_class, d_in, list(hidden), n_out)
    if exc is not None:
        text = add_exception(findings, exc, call, f"building {call}",
                             "check_mlp builds model_class(in_features, hidden_features, "
                             "out_features), with hidden_features a list of widths.")
        codes.append("raised")
        notes.append(text)
        cells["module"] = "raised"
        return finish()
    if not isinstance(model, nn.Module):
        add("not_a_module", f"{call} returned {describe(model)}, not a torch.nn.Module: "
            "subclass nn.Module and call super().__init__() first.", "not an nn.Module")
        cells["module"] = "no"
        return finish()
    params = dict(model.named_parameters())
    if not params:
        add("no_parameters", f"{call} has no registered parameters: create the layers as "
            "attributes (self.layers = nn.Sequential(...) or nn.ModuleList), not in a plain "
            "Python list or a local variable.", "no parameters")
        cells["module"] = "no parameters"
    else:
        cells["module"] = f"ok, {sum(p.numel() for p in params.values())} parameters"

    # Output shape, finiteness, logits (evaluation mode: dropout would blur the tests).
    model.eval()
    generator = torch.Generator().manual_seed(100 + index)
    shapes_ok, last_output = True, None
    for n in MLP_BATCH_SIZES:
        x = torch.randn(n, d_in, generator=generator)
        with torch.no_grad():
            out, exc, _ = safe_call(model, x)
        if exc is not None:
            text = add_exception(findings, exc, call, f"the forward pass on x of shape {(n, d_in)}")
            codes.append("raised")
            notes.append(text)
            cells["output (N, C)"] = "raised"
            shapes_ok = False
            break
        if not isinstance(out, torch.Tensor):
            add("wrong_output", f"forward must return a tensor of logits of shape (N, C), got "
                f"{describe(out)}.", "output not a tensor")
            cells["output (N, C)"] = "not a tensor"
            shapes_ok = False
            break
        if tuple(out.shape) != (n, n_out):
            hint = ""
            if tuple(out.shape) == (n_out, n):
                hint = " It is transposed."
            elif out.numel() == n:
                hint = (" One number per sample: return one logit per class, (N, C), not the "
                        "predicted class or a squeezed output.")
            add("wrong_shape", f"for x of shape {(n, d_in)}, forward returned shape "
                f"{tuple(out.shape)}; it must return logits of shape (N, C) = {(n, n_out)}."
                + hint, f"shape {tuple(out.shape)} for N={n}")
            cells["output (N, C)"] = f"shape {tuple(out.shape)}"
            shapes_ok = False
            break
        if not torch.isfinite(out).all():
            add("not_finite", "forward returned NaN or inf.", "NaN/inf output")
            cells["output (N, C)"] = "NaN/inf"
            shapes_ok = False
            break
        last_output = out
    if shapes_ok:
        cells["output (N, C)"] = "ok for N = " + ", ".join(map(str, MLP_BATCH_SIZES))
        out = last_output
        probabilities = bool(n_out > 1 and (out >= 0).all()
                             and torch.allclose(out.sum(dim=1), torch.ones(len(out)), atol=1e-5))
        if probabilities:
            add("softmax_output", "forward returns probabilities (each row is >= 0 and sums "
                "to 1): return the raw logits; nn.CrossEntropyLoss applies log-softmax itself, "
                "so a softmax in forward is applied twice.", "outputs are probabilities")
            cells["output (N, C)"] = "probabilities"
        elif (out >= 0).all():
            add("activation_on_output", f"every logit is >= 0 on {out.shape[0]} random "
                "inputs: an activation seems to follow the last linear layer; the output layer "
                "must have no activation (logits can be negative).", "all logits >= 0")
            cells["output (N, C)"] = "all >= 0"

    # Nonlinearity: an affine map satisfies the affine-combination identity exactly.
    if shapes_ok:
        error, exc = None, None
        try:
            error = _affine_error(copy.deepcopy(model).double(), d_in, torch.float64, 200 + index)
            threshold = 1e-6
        except Exception:  # a model that only runs in float32: test it in float32
            try:
                error = _affine_error(model, d_in, torch.float32, 200 + index)
                threshold = 1e-3
            except Exception as caught:
                exc = caught
        if exc is not None:
            cells["nonlinear"] = "raised"
        elif error < threshold:
            add("no_nonlinearity", "the model is affine in its input: f(a*x1 + (1-a)*x2) "
                f"equals a*f(x1) + (1-a)*f(x2) to {error:.1e} (relative). Without a "
                "nonlinearity (e.g. nn.ReLU) between the linear layers, the MLP collapses to a "
                "single linear map: a linear model, which cannot separate the moons.",
                "affine: no nonlinearity")
            cells["nonlinear"] = f"no (affine to {error:.0e})"
        else:
            cells["nonlinear"] = f"yes (affine error {error:.1e})"

    # Gradient flow, in training mode and the model's own dtype.
    if shapes_ok:
        model.train()
        model.zero_grad(set_to_none=True)
        x = torch.randn(8, d_in, generator=generator)
        y = torch.randint(0, n_out, (8,), generator=generator)
        out, exc, _ = safe_call(model, x)
        if exc is not None:
            text = add_exception(findings, exc, call, "the forward pass in training mode")
            codes.append("raised")
            notes.append(text)
            cells["gradients"] = "raised"
        elif not out.requires_grad:
            add("no_gradient", "the output does not require grad, so no parameter can get a "
                "gradient: forward breaks the autograd graph (torch.no_grad(), .detach(), "
                ".item(), .numpy() or torch.tensor(...) on an intermediate result).",
                "output detached from the graph")
            cells["gradients"] = "none"
        else:
            ids = {id(p) for p in params.values()}
            stray = [t for t in _graph_leaves(out) if id(t) not in ids]
            if stray:
                shapes = ", ".join(str(tuple(t.shape)) for t in stray[:4])
                add("unregistered_parameter", f"forward uses {len(stray)} trainable tensor(s) "
                    f"that the model does not register (shapes {shapes}): model.parameters() "
                    "and so the optimizer never see them. Keep layers in nn.Sequential or "
                    "nn.ModuleList (not a Python list), and wrap tensors in nn.Parameter.",
                    "unregistered trainable tensors")
            _, exc, _ = safe_call(lambda: nn.functional.cross_entropy(out, y).backward())
            if exc is not None:
                text = add_exception(findings, exc, call, "backward through the model")
                codes.append("raised")
                notes.append(text)
                cells["gradients"] = "raised"
                return finish()
            missing = [name for name, p in params.items() if p.requires_grad and p.grad is None]
            if missing:
                add("no_gradient", f"no gradient reached {', '.join(missing)}: these parameters "
                    "are created in __init__ but not used in forward (or used through a "
                    "detached path).", f"no gradient: {', '.join(missing)}")
                cells["gradients"] = f"missing for {len(missing)}"
            elif stray:
                cells["gradients"] = "unregistered tensors"
            else:
                cells["gradients"] = f"ok, all {len(params)} tensors"
    return finish()


@single_threaded
def check_mlp(model_class: Callable[..., nn.Module]) -> CheckReport:
    """Check an MLP class: shapes, parameters, a nonlinearity, gradients to every parameter.

    For each ``(in_features, hidden_features, out_features)`` in :data:`MLP_CONFIGS`,
    builds ``model_class(in_features, hidden_features, out_features)`` (the first three
    arguments of :class:`labcode.MLP`; ``hidden_features`` is a list of widths such as
    ``[16]``), seeded, and checks that:

    * it is an ``nn.Module`` with registered parameters;
    * ``model(x)`` returns logits of shape ``(N, C)`` for ``N`` in :data:`MLP_BATCH_SIZES`,
      finite, not probabilities (``nn.CrossEntropyLoss`` applies the softmax itself) and
      not all non-negative (no activation after the last layer);
    * it is not affine in its input: in float64 it must violate
      ``f(a x1 + (1-a) x2) = a f(x1) + (1-a) f(x2)`` by more than ``1e-6`` relative
      (a linear-only MLP satisfies it to about ``1e-15``): else it "collapses to a
      linear model";
    * a cross-entropy loss's gradient reaches every parameter, and the output depends
      on no trainable tensor that the model does not register (a layer kept in a
      plain Python list is invisible to ``model.parameters()`` and to the optimizer).

    Each model is built and probed under its own fixed seed (:func:`labcode.seeded`),
    so a model that draws random numbers (dropout in training mode, say) gets the same
    report on every run, and the caller's global random state is left as it was.

    Args:
        model_class: your MLP class (the class itself, not an instance).

    Returns:
        a :class:`CheckReport`.

    Example:
        >>> from labcode import MLP
        >>> check_mlp(MLP).passed
        True
    """
    if isinstance(model_class, nn.Module):
        raise TypeError(
            f"model_class must be your MLP class itself, got an instance of "
            f"{type(model_class).__name__}: pass MLP, not MLP(...) (check_mlp builds its own models)"
        )
    if not callable(model_class):
        raise TypeError(
            "model_class must be a class called as model_class(in_features, hidden_features, "
            f"out_features), got {describe(model_class)}"
        )
    start = time.perf_counter()
    findings = Findings()
    cases: list[CaseResult] = []
    cls = callable_name(model_class)
    for index, (d_in, hidden, n_out) in enumerate(MLP_CONFIGS):
        call = f"{cls}({d_in}, {list(hidden)}, {n_out})"
        # The student's code may draw random numbers (an init, dropout in training mode):
        # a fixed seed per case gives the same report on every run, and seeded() leaves
        # the caller's generator as it was.
        with seeded(index):
            cases.append(_check_model(model_class, call, index, d_in, hidden, n_out, findings))

    return CheckReport(f"check_mlp({cls})", cases, findings.diagnoses(),
                       time.perf_counter() - start)


__all__ = ["MLP_BATCH_SIZES", "MLP_CONFIGS", "check_mlp"]
