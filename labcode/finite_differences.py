r"""Checking a gradient against finite differences, and why that wants float64.

The central difference

.. math::

    \hat g_i = \frac{f(\theta + \epsilon e_i) - f(\theta - \epsilon e_i)}{2\epsilon}

estimates :math:`\partial f/\partial \theta_i` with an error of :math:`O(\epsilon^2)`
truncation plus about :math:`\text{machine-}\epsilon \cdot |f| / \epsilon` rounding. In
float32 (machine epsilon :math:`\approx 1.2\times10^{-7}`) the rounding term swamps any
useful :math:`\epsilon`; in float64 (:math:`\approx 2.2\times10^{-16}`) it does not. That
is why ``torch.autograd.gradcheck`` wants float64 inputs.

* :func:`finite_difference_gradient`: the estimate, for any scalar function;
* :func:`run_gradcheck`: ``gradcheck`` on :class:`~labcode.linear.LinearFunction`;
* :func:`precision_comparison`: the same check in float32 and in float64;
* :func:`finite_difference_errors`: the error of the estimate against the step, for
  one linear layer under cross-entropy (:func:`linear_cross_entropy_problem`).

Comparing a gradient with autograd's is :mod:`labcode.gradients`.
"""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import _validate
from .gradients import BACKWARD, GradientComparison, compare_gradients, random_linear_problem
from .linear import LinearFunction, linear_backward, linear_forward, linear_function


def finite_difference_gradient(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    r"""Central-difference estimate of :math:`\nabla f(x)` for a scalar function ``f``.

    Each element is :math:`(f(x + \epsilon e_i) - f(x - \epsilon e_i)) / 2\epsilon`,
    evaluated in ``x``'s dtype: two calls of ``f`` per element, without gradients.

    Args:
        f: maps a tensor of ``x``'s shape to a scalar (a 0-dim tensor or a number).
        x: the point, a floating-point tensor of any shape (left unchanged).
        eps: the step :math:`\epsilon` (> 0).

    Returns:
        the estimate, a tensor of ``x``'s shape and dtype.

    Example:
        >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64)
        >>> g = finite_difference_gradient(lambda t: (t ** 2).sum(), x)  # exact: 2x
        >>> torch.allclose(g, 2 * x)
        True
    """
    x = x.detach()
    # Contiguous on purpose: for a non-contiguous x (a transpose, say) empty_like would
    # copy x's strides, and grad.reshape(-1) below would then be a copy, not a view.
    grad = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    flat, flat_grad = x.reshape(-1), grad.reshape(-1)
    with torch.no_grad():
        for i in range(flat.numel()):
            shifted = flat.clone()
            shifted[i] = flat[i] + eps
            f_plus = f(shifted.reshape(x.shape))
            shifted[i] = flat[i] - eps
            f_minus = f(shifted.reshape(x.shape))
            flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def run_gradcheck(batch_shape: Sequence[int] = (6,), in_features: int = 5,
        out_features: int = 3, *, bias: bool = True, dtype: torch.dtype = torch.float64,
        seed: int = 0, backward: Callable | None = None) -> bool:  # fmt: skip
    """Run ``torch.autograd.gradcheck`` on :class:`~labcode.linear.LinearFunction`.

    Returns ``True`` when our backward agrees with gradcheck's finite differences at
    gradcheck's default tolerances (``eps=1e-6, atol=1e-5, rtol=1e-3``). With
    ``dtype=torch.float32`` it returns ``False``: those tolerances assume float64 (the
    float32 warning that gradcheck prints is silenced here because the page shows it).

    Args:
        batch_shape, in_features, out_features, bias, dtype, seed: the random problem,
            as in :func:`~labcode.gradients.random_linear_problem`.
        backward: check this backward instead of ours (``backward(grad_output, x,
            weight, bias)``, through :func:`~labcode.linear.linear_function`).

    Example:
        >>> run_gradcheck((4,), 3, 2)
        True
    """
    if backward is not None:
        _validate.student_backward("backward", backward, "None or a function " + BACKWARD)
    p = random_linear_problem(
        batch_shape, in_features, out_features, bias=bias, dtype=dtype, seed=seed
    )
    inputs = tuple(t.requires_grad_(True) for t in (p.x, p.weight, p.bias) if t is not None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*double precision floating point.*")
        function = LinearFunction if backward is None else linear_function(backward)
        return torch.autograd.gradcheck(function.apply, inputs, raise_exception=False)


@dataclass(frozen=True)
class PrecisionRow:
    """Finite differences against the hand gradient of ``weight`` in one dtype."""

    dtype: str
    eps: float
    comparison: GradientComparison
    gradcheck_passed: bool


def precision_comparison(eps: float = 1e-6, seed: int = 0) -> list[PrecisionRow]:
    r"""Why float64: the same finite-difference check in float32 and in float64.

    For one random linear layer and :math:`L = \sum Y \odot G`, the central-difference
    estimate of :math:`\partial L/\partial W` (step ``eps``) is compared with
    :func:`~labcode.linear.linear_backward` at gradcheck's tolerances
    (``atol=1e-5, rtol=1e-3``), and gradcheck itself is run, in each dtype.

    Args:
        eps: the finite-difference step (> 0).
        seed: seed of the random layer (:func:`~labcode.gradients.random_linear_problem`
            with 6 rows, 5 inputs, 3 outputs).

    Returns:
        two :class:`PrecisionRow`, float32 first, then float64.

    Example:
        >>> [row.dtype for row in precision_comparison()]
        ['float32', 'float64']
    """
    eps = _validate.positive_float("eps", eps)
    return [_precision_row(dtype, eps, seed) for dtype in (torch.float32, torch.float64)]


def _precision_row(dtype: torch.dtype, eps: float, seed: int) -> PrecisionRow:
    p = random_linear_problem((6,), 5, 3, dtype=dtype, seed=seed)

    def loss(w: torch.Tensor) -> torch.Tensor:
        return (LinearFunction.apply(p.x, w, p.bias) * p.grad_output).sum()

    name = _validate.dtype_name(dtype)
    estimate = finite_difference_gradient(loss, p.weight, eps=eps)
    _, hand, _ = linear_backward(*p)
    comparison = compare_gradients(
        hand, estimate, name=f"grad_weight ({name})", rtol=1e-3, atol=1e-5
    )
    return PrecisionRow(name, eps, comparison, run_gradcheck(dtype=dtype, seed=seed))


class CrossEntropyProblem(NamedTuple):
    """A linear layer under cross-entropy, with its exact weight gradient."""

    x: torch.Tensor  # (N, D_in)
    weight: torch.Tensor  # (C, D_in)
    bias: torch.Tensor  # (C,)
    labels: torch.Tensor  # (N,), int64
    grad_weight: torch.Tensor  # (C, D_in)


def linear_cross_entropy_problem(seed: int = 0) -> CrossEntropyProblem:
    r"""One linear layer under a cross-entropy loss, with its exact weight gradient.

    The loss, as a function of the weight :math:`W`, is the batch mean

    .. math::

        L(W) = \operatorname{CE}(X W^\top + b,\ y)
             = -\frac{1}{N} \sum_{n} \log P_{n, y_n},
        \qquad P = \operatorname{softmax}(X W^\top + b),

    and its exact gradient is :math:`\partial L/\partial W = G^\top X` with
    :math:`G = (P - Y_\text{onehot}) / N`, computed by
    :func:`~labcode.linear.linear_backward` (no autograd). The problem is
    :func:`~labcode.gradients.random_linear_problem` with ``N = 6`` rows, ``D_in = 4`` inputs and
    ``C = 3`` classes, in float64; the labels cycle through the classes.

    Args:
        seed: seed of the random ``x``, ``weight`` and ``bias``.

    Returns:
        a :class:`CrossEntropyProblem` of float64 tensors ``x (N, D_in)``, ``weight
        (C, D_in)``, ``bias (C,)``, int64 ``labels (N,)`` and ``grad_weight (C, D_in)``.

    Example:
        >>> p = linear_cross_entropy_problem(seed=0)
        >>> p.labels.tolist(), tuple(p.grad_weight.shape)
        ([0, 1, 2, 0, 1, 2], (3, 4))
    """
    n, in_features, classes = 6, 4, 3
    p = random_linear_problem((n,), in_features, classes, seed=seed)
    x, weight, bias = p.x, p.weight, p.bias
    labels = torch.arange(n) % classes  # classes 0, 1, 2, 0, 1, 2
    probabilities = torch.softmax(linear_forward(x, weight, bias), dim=1)  # (N, C)
    one_hot = torch.nn.functional.one_hot(labels, classes).to(x.dtype)  # (N, C)
    grad_output = (probabilities - one_hot) / n  # dL/dY for the mean loss
    _, grad_weight, _ = linear_backward(grad_output, x, weight, bias)  # (C, D_in)
    return CrossEntropyProblem(x, weight, bias, labels, grad_weight)


def finite_difference_errors(
    eps_values: Sequence[float], dtype: torch.dtype = torch.float64, *, seed: int = 0
) -> list[tuple[float, float]]:
    r"""How far central differences land from the exact gradient, step by step.

    For each step :math:`\epsilon` in ``eps_values``, the central-difference estimate
    of :math:`\partial L/\partial W` for :func:`linear_cross_entropy_problem` is
    computed with every loss evaluation in ``dtype``, and compared with the exact
    float64 gradient :math:`G^\top X`:

    .. math::

        \text{error}(\epsilon) = \max_{k,j}\,
        \bigl|\hat g_{kj}(\epsilon) - (G^\top X)_{kj}\bigr|
        \approx \frac{\epsilon^2}{6}\,|L'''| + \frac{u\,|L|}{\epsilon},

    truncation plus rounding, where :math:`u` is ``dtype``'s machine epsilon. Over a
    wide range of steps the errors trace a V whose bottom sits near :math:`u^{2/3}`.
    A step too small to change a weight in ``dtype`` gives an estimate of exactly 0,
    and then the error is :math:`\max |G^\top X|` itself.

    Args:
        eps_values: the steps :math:`\epsilon`, each a positive, finite number.
        dtype: floating-point dtype the loss is evaluated in (``torch.float32`` or
            ``torch.float64``).
        seed: seed of the problem (see :func:`linear_cross_entropy_problem`).

    Returns:
        one ``(eps, max_error)`` pair of floats per step, in the order given.

    Example:
        >>> [(eps, err)] = finite_difference_errors([1e-6], torch.float64)
        >>> err < 1e-8  # float64: central differences are accurate here
        True
    """
    p = linear_cross_entropy_problem(seed=seed)
    x, bias, labels = p.x.to(dtype), p.bias.to(dtype), p.labels
    weight, exact = p.weight.to(dtype), p.grad_weight  # exact: float64

    def loss(w: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(linear_forward(x, w, bias), labels)

    errors = []
    for eps in eps_values:
        estimate = finite_difference_gradient(loss, weight, eps=eps)  # (C, D_in)
        errors.append((eps, (estimate.double() - exact).abs().max().item()))
    return errors
