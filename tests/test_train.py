"""labcode.train: the training loop, its defaults, its history, and accuracy()."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from labcode import MLP, History, accuracy, seeded, train


def seeded_mlp(seed, *args, **kwargs):
    """``MLP(*args, **kwargs)`` built under ``labcode.seeded(seed)``."""
    with seeded(seed):
        return MLP(*args, **kwargs)


def hand_cross_entropy(logits, y):
    """-mean log softmax(logits)[y], written out with log-sum-exp."""
    log_normalizer = logits.logsumexp(dim=1)
    return (log_normalizer - logits[torch.arange(len(y)), y]).mean()


# ---- what the book promises ------------------------------------------------------------


@pytest.mark.parametrize("model_seed", [0, 1, 2])
def test_train_default_call_fits_held_out_moons(model_seed, moons_train, moons_test):
    model = seeded_mlp(model_seed, 2, [32, 32], 2)
    train(model, *moons_train)
    X_test, y_test = moons_test
    with torch.no_grad():
        held_out = (model(X_test).argmax(dim=1) == y_test).double().mean().item()
    assert held_out >= 0.97


@pytest.mark.parametrize("model_seed", [0, 1, 2])
def test_train_without_nonlinearity_stays_below_a_linear_model(
    model_seed, moons_train, moons_test, logistic_regression_accuracy
):
    model = seeded_mlp(model_seed, 2, [32, 32], 2, activation=None)
    train(model, *moons_train)
    X_test, y_test = moons_test
    with torch.no_grad():
        held_out = (model(X_test).argmax(dim=1) == y_test).double().mean().item()
    assert held_out < 0.9
    assert held_out <= logistic_regression_accuracy + 0.005


# ---- the history ----------------------------------------------------------------------


def test_train_history_has_one_entry_per_epoch(moons_train, moons_test):
    X, y = moons_train
    model = seeded_mlp(0, 2, [8], 2)
    history = train(model, X[:200], y[:200], epochs=17, X_val=moons_test[0], y_val=moons_test[1])
    assert isinstance(history, History)
    assert history.epochs == len(history.loss) == len(history.accuracy) == 17
    assert len(history.val_accuracy) == 17
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    assert train(model, X[:200], y[:200], epochs=3).val_accuracy == []


def test_train_history_starts_from_the_untrained_model(moons_train):
    X, y = moons_train
    model = seeded_mlp(4, 2, [16], 2)
    untrained = copy.deepcopy(model)
    history = train(model, X, y, epochs=5)
    with torch.no_grad():
        logits = untrained(X)
    assert history.loss[0] == pytest.approx(hand_cross_entropy(logits, y).item(), rel=1e-6)
    correct = sum(int(row.argmax()) == label for row, label in zip(logits, y.tolist()))
    assert history.accuracy[0] == correct / len(y)  # exact, as accuracy() and val_accuracy


def test_train_val_accuracy_scores_the_model_after_each_epoch(moons_train, moons_test):
    model = seeded_mlp(0, 2, [16], 2)
    history = train(model, *moons_train, epochs=20, X_val=moons_test[0], y_val=moons_test[1])
    X_test, y_test = moons_test
    with torch.no_grad():
        correct = (model(X_test).argmax(dim=1) == y_test).sum().item()
    assert history.val_accuracy[-1] == correct / len(y_test) == accuracy(model, X_test, y_test)


def test_train_loss_decreases(moons_train):
    history = train(seeded_mlp(0, 2, [32, 32], 2), *moons_train)
    assert history.loss[-1] < history.loss[0] / 5
    assert sum(history.loss[-10:]) < sum(history.loss[:10])
    assert history.accuracy[-1] > history.accuracy[0]


# ---- the loop itself -------------------------------------------------------------------


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.5), ("adam", 0.01)])
def test_train_equals_a_plain_loop_with_zero_grad(optimizer, lr, moons_train):
    X, y = moons_train
    model = seeded_mlp(3, 2, [16, 16], 2)
    reference = copy.deepcopy(model)
    history = train(model, X, y, epochs=30, lr=lr, optimizer=optimizer)

    opt = (
        torch.optim.SGD(reference.parameters(), lr=lr)
        if optimizer == "sgd"
        else torch.optim.Adam(reference.parameters(), lr=lr)
    )
    losses = []
    for _ in range(30):
        loss = hand_cross_entropy(reference(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    torch.testing.assert_close(
        torch.tensor(history.loss), torch.tensor(losses), rtol=1e-5, atol=1e-6
    )
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_clears_stale_gradients(optimizer, moons_train):
    # If train skipped zero_grad, gradients left in .grad would be added to the first step.
    clean = seeded_mlp(1, 2, [8], 2)
    stale = copy.deepcopy(clean)
    for p in stale.parameters():
        p.grad = torch.full_like(p, 1e3)
    h_clean = train(clean, *moons_train, epochs=10, optimizer=optimizer, lr=0.1)
    h_stale = train(stale, *moons_train, epochs=10, optimizer=optimizer, lr=0.1)
    assert h_stale.loss == h_clean.loss
    for a, b in zip(clean.parameters(), stale.parameters()):
        assert torch.equal(a, b)


def test_train_is_deterministic(moons_train):
    runs = []
    for _ in range(2):
        model = seeded_mlp(0, 2, [32, 32], 2)
        runs.append((train(model, *moons_train, epochs=50), model))
    (h1, m1), (h2, m2) = runs
    assert h1.loss == h2.loss and h1.accuracy == h2.accuracy
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))


def test_train_minibatches_are_deterministic_per_seed(moons_train):
    def run(seed):
        model = seeded_mlp(0, 2, [16], 2)
        return train(model, *moons_train, epochs=5, batch_size=64, seed=seed)

    assert run(7).loss == run(7).loss
    assert run(7).loss != run(8).loss


def test_train_takes_one_step_per_minibatch(moons_train):
    X, y = moons_train
    model = seeded_mlp(0, 2, [8], 2)
    batch_sizes = []
    model.register_forward_hook(lambda module, args, out: batch_sizes.append(len(args[0])))
    train(model, X[:250], y[:250], epochs=3, batch_size=100)
    assert batch_sizes == [100, 100, 50] * 3


def test_train_minibatch_loss_is_the_mean_over_the_epoch(moons_train):
    # One minibatch as big as the data set is one full-batch step (up to summation order).
    X, y = moons_train
    full, mini = seeded_mlp(2, 2, [8], 2), seeded_mlp(2, 2, [8], 2)
    h_full = train(full, X, y, epochs=10)
    h_mini = train(mini, X, y, epochs=10, batch_size=len(y))
    torch.testing.assert_close(
        torch.tensor(h_mini.loss), torch.tensor(h_full.loss), rtol=1e-5, atol=1e-6
    )
    assert h_mini.accuracy == h_full.accuracy


@pytest.mark.parametrize("batch_size", [None, 32])
def test_train_does_not_touch_the_global_rng(batch_size, moons_train):
    model = seeded_mlp(0, 2, [8], 2)
    state = torch.random.get_rng_state()
    train(model, *moons_train, epochs=2, batch_size=batch_size)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_train_accepts_any_module_and_float64(moons_train):
    X, y = (t.double() if t.is_floating_point() else t for t in moons_train)
    with seeded(0):
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()
    history = train(model, X, y, epochs=100)
    assert history.loss[-1] < history.loss[0]
    assert next(model.parameters()).dtype == torch.float64


def test_accuracy_counts_rows_whose_largest_logit_is_the_label():
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))  # logits (x, -x): class 0 iff x > 0
    X = torch.tensor([[1.0], [-2.0], [3.0], [-4.0], [5.0]])
    y = torch.tensor([0, 0, 1, 1, 0])  # predictions 0, 1, 0, 1, 0: 3 of 5 right
    assert accuracy(model, X, y) == 3 / 5


@pytest.mark.parametrize("n, correct", [(10, 9), (3, 1), (7, 3), (1000, 973)])
def test_accuracy_is_the_exact_fraction_correct(n, correct):
    # Averaging in float32 gave 0.8999999761581421 for 9 of 10.
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))  # class 0 iff x > 0
    X = torch.ones(n, 1)  # every prediction is class 0
    y = torch.zeros(n, dtype=torch.int64)
    y[correct:] = 1
    assert accuracy(model, X, y) == correct / n


# ---- evaluation mode: dropout and batch norm ---------------------------------------------


def _dropout_model(seed=0):
    with seeded(seed):
        return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 2))


@pytest.mark.parametrize("training", [True, False])
def test_accuracy_of_a_dropout_model_is_deterministic_and_leaves_mode_and_rng_alone(
    training, moons_test
):
    model = _dropout_model()
    model.train(training)
    state = torch.random.get_rng_state()
    scores = [accuracy(model, *moons_test) for _ in range(3)]
    assert torch.equal(torch.random.get_rng_state(), state)  # dropout drew nothing
    assert all(m.training == training for m in model.modules())
    X_test, y_test = moons_test
    model.eval()
    with torch.no_grad():
        correct = (model(X_test).argmax(dim=1) == y_test).sum().item()
    assert scores == [correct / len(y_test)] * 3


def test_accuracy_restores_each_submodules_own_mode(moons_test):
    model = _dropout_model()
    model.train()
    model[2].eval()  # a caller's mixed modes come back exactly as they were
    accuracy(model, *moons_test)
    assert [m.training for m in model] == [True, True, False, True]
    assert model.training


def test_accuracy_restores_the_mode_when_the_forward_raises():
    model = _dropout_model()
    model.train()
    with pytest.raises(RuntimeError):
        accuracy(model, torch.ones(4, 3), torch.zeros(4, dtype=torch.int64))  # 3 != 2 inputs
    assert all(m.training for m in model.modules())


def test_train_with_dropout_scores_held_out_data_in_evaluation_mode(moons_train, moons_test):
    def run():
        model = _dropout_model()
        with seeded(1):  # training-mode dropout draws its masks from the global generator
            history = train(
                model, *moons_train, epochs=20, X_val=moons_test[0], y_val=moons_test[1]
            )
        return model, history

    model, history = run()
    assert model.training  # trained, and left, in training mode
    assert history.val_accuracy[-1] == accuracy(model, *moons_test)
    assert run()[1].val_accuracy == history.val_accuracy


def _batch_norm_model(seed=0):
    with seeded(seed):
        return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))


def test_train_fits_a_batch_norm_model(moons_train, moons_test):
    # An extra one-row forward in training mode made batch norm raise
    # "Expected more than 1 value per channel when training".
    model = _batch_norm_model()
    history = train(model, *moons_train, epochs=100, X_val=moons_test[0], y_val=moons_test[1])
    assert history.loss[-1] < history.loss[0] / 2
    assert history.val_accuracy[-1] == accuracy(model, *moons_test) > 0.85
    assert model[1].num_batches_tracked.item() == 100  # one update per training step, no more


def test_train_runs_one_forward_per_step_for_a_model_without_out_features(moons_train):
    model = _batch_norm_model()
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    train(model, *moons_train, epochs=3)
    assert calls == [len(moons_train[1])] * 3


def test_train_lets_torch_name_a_label_out_of_range_for_a_model_without_out_features(moons_train):
    """Without out_features the number of classes is known only from the logits: torch's
    cross-entropy names the label itself, before any update."""
    X, y = moons_train
    bad = y.clone()
    bad[5] = 2  # class 2 for a model with 2 outputs
    model = _batch_norm_model()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(IndexError, match=r"Target 2 is out of bounds"):
        train(model, X, bad, epochs=2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # no update


def test_accuracy_checks_labels_against_the_logits_of_a_model_without_out_features():
    with pytest.raises(
        ValueError,
        match=r"y must hold class indices in \[0, 1\] for a model "
        r"with 2 outputs, got values from 0 to 3",
    ):
        accuracy(_dropout_model(), torch.ones(4, 2), torch.tensor([0, 1, 3, 0]))


@pytest.mark.parametrize(
    "fit, error, match",
    [
        (
            accuracy,
            ValueError,
            r"model must map \(N, D_in\) to logits of shape \(N, C\), got a "
            r"float32 tensor of shape \(8,\)",
        ),
        (lambda m, X, y: train(m, X, y, epochs=1), ValueError, r"1D target must have size 1"),
    ],
    ids=["accuracy", "train"],
)
def test_logits_must_be_two_dimensional(fit, error, match):
    with seeded(0):
        model = nn.Sequential(nn.Linear(2, 2), nn.Flatten(0))  # (N, 2) -> (2N,)
    with pytest.raises(error, match=match):
        fit(model, torch.ones(4, 2), torch.zeros(4, dtype=torch.int64))


# ---- bad input -------------------------------------------------------------------------


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(10, 2, generator=g), torch.randint(0, 2, (10,), generator=g)


BAD_TRAIN_INPUT = [
    (
        dict(X=torch.ones(10, 2, dtype=torch.int64)),
        TypeError,
        r"X must be a floating-point tensor.*got dtype torch\.int64",
    ),
    (dict(X=[[0.0, 1.0]] * 10), TypeError, r"X must be a torch\.Tensor, got list"),
    (
        dict(y=torch.zeros(10)),
        TypeError,
        r"y must hold class indices as an int64 tensor, got dtype torch\.float32",
    ),
    (dict(y=torch.zeros(10, dtype=torch.int32)), TypeError, r"y must .*int64.*torch\.int32"),
    (dict(y=[0] * 10), TypeError, r"y must be a torch\.Tensor, got list"),
    (
        dict(X=torch.ones(20)),
        ValueError,
        r"X must have shape \(N, D_in\) with N >= 1 samples, got shape \(20,\)",
    ),
    (
        dict(y=torch.zeros(9, dtype=torch.int64)),
        ValueError,
        r"y must have shape \(N,\) = \(10,\) to match X, got shape \(9,\)",
    ),
    (
        dict(y=torch.zeros(10, 1, dtype=torch.int64)),
        ValueError,
        r"y must have shape \(N,\) = \(10,\) .*got shape \(10, 1\)",
    ),
    (
        dict(X=torch.ones(0, 2), y=torch.zeros(0, dtype=torch.int64)),
        ValueError,
        r"X must have shape \(N, D_in\) with N >= 1 samples, got shape \(0, 2\)",
    ),
    (
        dict(y=torch.tensor([0, 1, 2, 0, 1, 0, 1, 0, 1, 0])),
        ValueError,
        r"y must hold class indices in \[0, 1\] for a model with 2 outputs, got values from 0 to 2",
    ),
    (
        dict(y=torch.tensor([0, -1, 1, 0, 1, 0, 1, 0, 1, 0])),
        ValueError,
        r"y must hold class indices in \[0, 1\] .*got values from -1 to 1",
    ),
    (
        dict(X=torch.ones(10, 3)),
        ValueError,
        r"x must have shape \(N, in_features\) = \(N, 2\), got shape \(10, 3\)",
    ),
    (
        dict(X=torch.ones(10, 2, dtype=torch.float64)),
        TypeError,
        r"X must have the model's dtype and device and y its device, torch\.float32 on cpu, "
        r"got X torch\.float64 on cpu and y on cpu",
    ),
    (
        dict(X=torch.ones(10, 2, device="meta")),
        ValueError,
        r"X must have the model's dtype .* torch\.float32 on cpu, got X torch\.float32 on meta",
    ),
    (
        dict(y=torch.zeros(10, dtype=torch.int64, device="meta")),
        ValueError,
        r"y its device, torch\.float32 on cpu, got X torch\.float32 on cpu and y on meta$",
    ),
    (dict(epochs=0), ValueError, r"epochs must be a positive int, got 0"),
    (dict(epochs=-3), ValueError, r"epochs must be a positive int, got -3"),
    (dict(epochs=10.0), TypeError, r"epochs must be a positive int, got float 10\.0"),
    (dict(lr=0), ValueError, r"lr must be a positive, finite number, got 0"),
    (dict(lr=-0.01), ValueError, r"lr must be a positive, finite number, got -0\.01"),
    (dict(lr=math.nan), ValueError, r"lr must be a positive, finite number, got nan"),
    (dict(lr=math.inf), ValueError, r"lr must be a positive, finite number, got inf"),
    (dict(lr="0.01"), TypeError, r"lr must be a positive, finite number, got str '0\.01'"),
    (
        dict(optimizer="rmsprop"),
        ValueError,
        r"optimizer must be one of \['adam', 'sgd'\], got 'rmsprop'",
    ),
    (dict(batch_size=0), ValueError, r"batch_size must be a positive int, got 0"),
    (dict(batch_size=8.0), TypeError, r"batch_size must be a positive int, got float 8\.0"),
    (dict(seed="0"), TypeError, r"seed must be an int of 64 bits, .*got str '0'"),
    (dict(X_val=torch.ones(5, 2)), TypeError, r"y_val must be a torch\.Tensor, got None"),
    (dict(y_val=torch.zeros(5, dtype=torch.int64)), TypeError, r"X_val must be .*, got None"),
    (
        dict(X_val=torch.ones(5, 2), y_val=torch.zeros(4, dtype=torch.int64)),
        ValueError,
        r"y_val must have shape \(N,\) = \(5,\) to match X_val, got shape \(4,\)",
    ),
    (
        dict(X_val=torch.ones(5, 2), y_val=torch.full((5,), 3)),
        ValueError,
        r"y_val must hold class indices in \[0, 1\] .*got values from 3 to 3",
    ),
    (dict(model="MLP"), TypeError, r"model must be a torch\.nn\.Module, got str"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_TRAIN_INPUT)
def test_train_rejects_bad_input_naming_it(kwargs, error, match):
    X, y = _data()
    args = dict(model=seeded_mlp(0, 2, [4], 2), X=X, y=y, epochs=1) | kwargs
    model, X, y = args.pop("model"), args.pop("X"), args.pop("y")
    with pytest.raises(error, match=match):
        train(model, X, y, **args)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(y=torch.full((10,), 5)), ValueError, r"y must hold class indices in \[0, 1\]"),
        (dict(X=torch.ones(10, 2, dtype=torch.int64)), TypeError, r"X must be a floating-point"),
        (dict(model=None), TypeError, r"model must be a torch\.nn\.Module, got NoneType"),
    ],
)
def test_accuracy_rejects_bad_input_naming_it(kwargs, error, match):
    X, y = _data()
    args = dict(model=seeded_mlp(0, 2, [4], 2), X=X, y=y) | kwargs
    with pytest.raises(error, match=match):
        accuracy(args["model"], args["X"], args["y"])


@pytest.mark.parametrize(
    "X, y, match",
    [
        (torch.zeros(4, 2, dtype=torch.int64), torch.zeros(4, dtype=torch.int64), "^X must be"),
        (torch.zeros(4, 2), [0, 1, 0, 1], "^y must be"),
        (
            torch.zeros(4, 2),
            torch.zeros(3, dtype=torch.int64),
            r"^y must have shape \(N,\) = \(4,\) to match X",
        ),
    ],
)
def test_accuracy_names_its_bad_argument(X, y, match):
    with seeded(0):
        model = MLP(2, [4], 2)
    with pytest.raises((TypeError, ValueError), match=match):
        accuracy(model, X, y)


def test_train_names_a_model_that_returns_no_tensor():
    class Listy(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(x).tolist()

    X, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(
        TypeError,
        match=r"cross_entropy_loss\(\): argument 'input' .* must be "
        r"Tensor, not list",
    ):  # torch's own message says it
        train(Listy(), X, y, epochs=1)
