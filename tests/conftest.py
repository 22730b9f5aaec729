"""Shared fixtures for labcode's tests.

The moons data sets are generated once per session: training data from seed 0,
held-out data from a *different* seed (1), so accuracy on them is held-out accuracy.
"""

from __future__ import annotations

import pytest
import torch

import labcode

# The suite's tensors are tiny (a few thousand numbers): with more than one intra-op
# thread, thread hand-off costs more than the arithmetic, and on a busy 2-core CI box
# oversubscribed threads made the suite several times slower.
torch.set_num_threads(1)

#: The issue's training set: 1,000 moons points, noise 0.1.
TRAIN_SEED, TEST_SEED = 0, 1


@pytest.fixture(scope="session")
def moons_train() -> tuple[torch.Tensor, torch.Tensor]:
    return labcode.make_moons(1000, 0.1, TRAIN_SEED)


@pytest.fixture(scope="session")
def moons_test() -> tuple[torch.Tensor, torch.Tensor]:
    return labcode.make_moons(1000, 0.1, TEST_SEED)


@pytest.fixture(scope="session")
def logistic_regression_accuracy(moons_train, moons_test) -> float:
    """Held-out accuracy of a converged logistic regression, fitted here without labcode.

    A linear classifier's best effort on the moons: full-batch L-BFGS in float64 on the
    binary cross-entropy of ``sigmoid(x . w + c)`` (3 parameters), run to convergence.
    """
    X, y = (t.double() for t in moons_train)
    X_test, y_test = (t.double() for t in moons_test)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    c = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, c],
        lr=1.0,
        max_iter=500,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + c, y)
        loss.backward()
        return loss

    opt.step(closure)
    assert w.grad.abs().max() < 1e-6, "the logistic-regression reference did not converge"
    with torch.no_grad():
        predicted = (X_test @ w + c > 0).double()
    return (predicted == y_test).double().mean().item()


@pytest.fixture
def recording_backward():
    """labcode's linear_backward, keeping in ``.seen`` the shapes of each call:
    ``(x.shape, weight.shape, bias.shape or None)``."""

    def backward(grad_output, x, weight, bias):
        backward.seen.append(
            (tuple(x.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape))
        )
        return labcode.linear_backward(grad_output, x, weight, bias)

    backward.seen = []
    return backward
