"""labcode: the Week 3 teaching package (MLPs and backpropagation).

Shape convention everywhere (PyTorch's): ``weight`` is ``(out_features, in_features)``
and a linear layer computes ``y = x @ weight.T + bias``.

Modules, one concept each:

* :mod:`labcode.linear`: one linear layer: ``linear_forward``, the hand-derived
  ``linear_backward``, ``LinearFunction`` (the two plugged into autograd) and
  ``ManualLinear`` (an ``nn.Linear`` using that backward);
* :mod:`labcode.mlp`: ``MLP`` and ``collapse``;
* :mod:`labcode.data`: ``make_moons``, ``make_circles``;
* :mod:`labcode.train`: ``train``, ``accuracy``, ``History``;
* :mod:`labcode.gradients`: checking a gradient against autograd;
* :mod:`labcode.finite_differences`: against finite differences and ``gradcheck``, and
  why that wants float64;
* :mod:`labcode.probes`: the Part B probes;
* :mod:`labcode.seeding`: ``seeded``, building under a seed without touching the caller's;
* :mod:`labcode.plotting`: the book's shared figures (matplotlib imported only when drawing);
* :mod:`labcode.checks`: self-checks a student runs on their own code.
"""

from . import checks  # after the modules it checks against
from .checks import CheckReport, check_linear_backward, check_mlp, check_training
from .data import make_circles, make_moons
from .finite_differences import (
    PrecisionRow,
    finite_difference_errors,
    finite_difference_gradient,
    linear_cross_entropy_problem,
    precision_comparison,
    run_gradcheck,
)
from .gradients import (
    GradientComparison,
    autograd_linear_gradients,
    compare_gradients,
    compare_linear_backward,
    default_tolerance,
    random_linear_problem,
    relative_error,
)
from .linear import LinearFunction, ManualLinear, linear_backward, linear_forward, linear_function
from .mlp import ACTIVATIONS, MLP, collapse
from .plotting import (
    plot_activations,
    plot_decision_boundary,
    plot_finite_difference_errors,
    plot_training_curves,
)
from .probes import (
    TOY_FIRST_LAYER_WEIGHT,
    TOY_INPUT,
    TOY_LABEL,
    TOY_LR,
    TOY_OUTPUT_WEIGHT,
    TOY_PARAMETERS,
    TOY_WEIGHT,
    GradientProbe,
    NonlinearityProbe,
    gradient_probe,
    nonlinearity_probe,
    toy_network,
)
from .seeding import seeded
from .train import History, accuracy, train

# The public names, by module, in the order imported above.
__all__ = [
    "checks", "CheckReport", "check_linear_backward", "check_mlp", "check_training",
    "make_circles", "make_moons",
    "PrecisionRow", "finite_difference_errors", "finite_difference_gradient",
    "linear_cross_entropy_problem", "precision_comparison", "run_gradcheck",
    "GradientComparison", "autograd_linear_gradients", "compare_gradients",
    "compare_linear_backward", "default_tolerance", "random_linear_problem", "relative_error",
    "LinearFunction", "ManualLinear", "linear_backward", "linear_forward", "linear_function",
    "ACTIVATIONS", "MLP", "collapse",
    "plot_activations", "plot_decision_boundary", "plot_finite_difference_errors",
    "plot_training_curves",
    "TOY_FIRST_LAYER_WEIGHT", "TOY_INPUT", "TOY_LABEL", "TOY_LR", "TOY_OUTPUT_WEIGHT",
    "TOY_PARAMETERS", "TOY_WEIGHT", "GradientProbe", "NonlinearityProbe", "gradient_probe",
    "nonlinearity_probe", "toy_network",
    "seeded",
    "History", "accuracy", "train",
]  # fmt: skip
