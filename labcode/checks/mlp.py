"""``check_mlp``: a student's MLP class, built in several sizes and probed as a black box.

Each model of :data:`MLP_CONFIGS` is built from the student's class, seeded, and checked
for what the lab asks of an MLP: an ``nn.Module`` with registered parameters, one weight
per layer in the sizes asked for, logits of
shape ``(N, C)``, a nonlinearity (it must not be affine), and gradients that reach every
parameter.
"""

import copy
import itertools
from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..seeding import seeded
from ._support import Findings, callable_name, safe_call, single_threaded
from .report import CaseResult, CheckReport

#: The models ``check_mlp`` builds: ``(in_features, hidden_features, out_features)``.
MLP_CONFIGS: tuple[tuple[int, tuple[int, ...], int], ...] = (
    (2, (16,), 2),
    (3, (8, 5), 4),
    (5, (7, 6, 4), 3),
)
#: Batch sizes of the forward passes whose output shape is checked (a batch of one included).
MLP_BATCH_SIZES = (1, 7, 32)


def _graph_leaves(node, seen: set) -> list[torch.Tensor]:
    """Every leaf tensor that requires grad and that the autograd ``node`` depends on."""
    if node is None or node in seen:
        return []
    seen.add(node)
    found = [node.variable] if getattr(node, "variable", None) is not None else []  # a leaf's
    return found + [t for nxt, _ in node.next_functions for t in _graph_leaves(nxt, seen)]


def _affine_error(model: nn.Module, d_in: int, dtype: torch.dtype, seed: int) -> float:
    r"""Largest relative violation of :math:`f(a x_1 + (1-a) x_2) = a f(x_1) + (1-a) f(x_2)`,
    which an affine map satisfies for every ``a``; wide inputs (standard deviation 3) and an
    extrapolating ``a = -1.5`` make a ReLU/tanh network show it."""
    generator = torch.Generator().manual_seed(seed)
    x1, x2 = (3 * torch.randn(64, d_in, generator=generator, dtype=dtype) for _ in range(2))
    with torch.no_grad():
        f1, f2 = model(x1), model(x2)
        scale = max(f1.abs().max().item(), f2.abs().max().item(), 1e-12)
        return (
            max(
                (model(a * x1 + (1 - a) * x2) - (a * f1 + (1 - a) * f2)).abs().max().item()
                for a in (0.3, -1.5)
            )
            / scale
        )


def _check_model(model_class: Callable, index: int, findings: Findings) -> CaseResult:
    """One row of :func:`check_mlp`: build the model ``MLP_CONFIGS[index]`` and probe it as a
    black box. A cell shows what was found, or the code of the mistake seen there."""
    d_in, hidden, n_out = MLP_CONFIGS[index]
    call = f"{callable_name(model_class)}({d_in}, {list(hidden)}, {n_out})"
    cells = {"module": "—", "output (N, C)": "—", "nonlinear": "—", "gradients": "—"}
    notes: list[str] = []

    def add(code: str, column: str, **fields) -> CaseResult:
        findings.add(code, call, call=call, **fields)
        notes.append(code)
        cells[column] = code
        return CaseResult(call, False, tuple(cells.items()), (), "; ".join(notes))

    def raised(exc: BaseException, what: str, column: str, hint: str = "") -> CaseResult:
        notes.append(findings.exception(exc, call, what, hint))
        cells[column] = "raised"
        return CaseResult(call, False, tuple(cells.items()), (), "; ".join(notes))

    model, exc, _ = safe_call(model_class, d_in, list(hidden), n_out)
    if exc is not None:
        return raised(
            exc,
            f"building {call}",
            "module",
            "check_mlp builds model_class(in_features, "
            "hidden_features, out_features), with hidden_features a list of widths.",
        )
    if not isinstance(model, nn.Module):
        return add("not_a_module", "module", detail=_validate.describe(model))
    params = dict(model.named_parameters())
    cells["module"] = f"ok, {sum(p.numel() for p in params.values())} parameters"
    if not params:
        add("no_parameters", "module")

    model.eval()  # output shapes and values without dropout's noise
    generator, column = torch.Generator().manual_seed(100 + index), "output (N, C)"
    for n in MLP_BATCH_SIZES:
        with torch.no_grad():
            out, exc, _ = safe_call(model, torch.randn(n, d_in, generator=generator))
        if exc is not None:
            return raised(exc, f"the forward pass on x of shape {(n, d_in)}", column)
        if not isinstance(out, torch.Tensor):
            return add("wrong_output", column, detail=_validate.describe(out))
        shape, detail = tuple(out.shape), ""
        if shape == (n_out, n):
            detail = " It is transposed."
        elif out.numel() == n:
            detail = (
                " One number per sample: return one logit per class, not the predicted "
                "class or a squeezed output."
            )
        if shape != (n, n_out):
            return add(
                "wrong_shape", column, x=(n, d_in), got=shape, want=(n, n_out), detail=detail
            )
        if not torch.isfinite(out).all():
            return add("not_finite", column)
    cells[column] = "ok for N = " + ", ".join(map(str, MLP_BATCH_SIZES))
    if n_out > 1 and (out >= 0).all() and torch.allclose(out.sum(dim=1), torch.ones(n), atol=1e-5):
        add("softmax_output", column)
    elif (out >= 0).all():
        add("activation_on_output", column, n=n)

    # A nonlinearity: in float64 if the model allows (an affine map is then exact to ~1e-15).
    try:
        error, threshold = (
            _affine_error(copy.deepcopy(model).double(), d_in, torch.float64, 200 + index),
            1e-6,
        )
    except Exception:
        error, threshold = (
            safe_call(_affine_error, model, d_in, torch.float32, 200 + index)[0],
            1e-3,
        )
    if error is not None and error < threshold:
        add("no_nonlinearity", "nonlinear", error=error)
    else:
        cells["nonlinear"] = "raised" if error is None else f"yes (affine error {error:.1e})"

    # Gradients, in training mode and the model's own dtype.
    model.train()
    out, exc, _ = safe_call(model, torch.randn(8, d_in, generator=generator))
    if exc is not None:
        return raised(exc, "the forward pass in training mode", "gradients")
    if not out.requires_grad:
        return add(
            "no_gradient",
            "gradients",
            detail="The output does not require grad, so no "
            "parameter can get a gradient: forward breaks the autograd graph (torch.no_grad(), "
            ".detach(), .item(), .numpy() or torch.tensor(...) on an intermediate result).",
        )
    stray = [
        t for t in _graph_leaves(out.grad_fn, set()) if all(t is not p for p in params.values())
    ]
    if stray:
        add(
            "unregistered_parameter",
            "gradients",
            n=len(stray),
            shapes=", ".join(str(tuple(t.shape)) for t in stray[:4]),
        )
    y = torch.randint(0, n_out, (8,), generator=generator)
    _, exc, _ = safe_call(lambda: nn.functional.cross_entropy(out, y).backward())
    if exc is not None:
        return raised(exc, "backward through the model", "gradients")
    missing = [name for name, p in params.items() if p.requires_grad and p.grad is None]
    if missing:
        add(
            "no_gradient",
            "gradients",
            detail=f"No gradient reached {', '.join(missing)}: these "
            "parameters are created in __init__ but not used in forward (or only through a "
            "detached path).",
        )
    elif not stray:
        cells["gradients"] = f"ok, all {len(params)} tensors"
    # the weights, in order: one (out_features, in_features) per layer
    want = [(b, a) for a, b in itertools.pairwise((d_in, *hidden, n_out))]
    got = [tuple(p.shape) for p in params.values() if p.dim() == 2]
    if params and not stray and got != want:  # (unregistered layers are diagnosed as that)
        add("wrong_layer_sizes", "module", got=got, want=want)
    return CaseResult(call, not notes, tuple(cells.items()), (), "; ".join(notes))


@single_threaded()
def check_mlp(model_class: Callable[..., nn.Module]) -> CheckReport:
    """Check an MLP class: shapes, parameters, a nonlinearity, gradients to every parameter.

    For each ``(in_features, hidden_features, out_features)`` in :data:`MLP_CONFIGS`, builds
    ``model_class(in_features, hidden_features, out_features)`` (the first three arguments
    of :class:`labcode.MLP`; ``hidden_features`` is a list of widths), seeded, and checks
    that it is an ``nn.Module`` with registered parameters; that ``model(x)`` returns finite
    logits of shape ``(N, C)`` for ``N`` in :data:`MLP_BATCH_SIZES`, neither probabilities
    nor all non-negative; that it is not affine in its input (in float64 it must violate
    ``f(a x1 + (1-a) x2) = a f(x1) + (1-a) f(x2)`` by more than ``1e-6`` relative); and that
    a cross-entropy loss's gradient reaches every parameter and no unregistered trainable
    tensor. Each model is built and probed under its own fixed seed (:func:`labcode.seeded`).

    Args:
        model_class: your MLP class (the class itself, not an instance).

    Returns:
        a :class:`CheckReport` with one row per model of :data:`MLP_CONFIGS`.

    Example:
        >>> from labcode import MLP
        >>> check_mlp(MLP).passed
        True
    """
    _validate.student_code(
        "model_class",
        model_class,
        "a class called as model_class(in_features, hidden_features, out_features)",
        "MLP",
        (nn.Module,),
    )
    findings, cases = Findings("mlp"), []
    for index in range(len(MLP_CONFIGS)):
        with seeded(index):  # an init or dropout draws the same numbers on every run
            cases.append(_check_model(model_class, index, findings))
    return findings.report(f"check_mlp({callable_name(model_class)})", cases)
