"""labcode.probes: the Part B probes return the numbers the book quotes.

The gradient probe is checked against a computation done here by hand, in plain Python
arithmetic from TOY_PARAMETERS (no torch, no autograd):
h = relu(W1 x + b1), p = softmax(W2 h + b2), L = -log p_y,
dL/dz = p - onehot(y), dL/dW2[c, j] = (p_c - [c = y]) h_j, and so on down the chain.
"""

from __future__ import annotations

import math

import pytest
import torch

import labcode.probes
from labcode import (
    MLP,
    TOY_INPUT,
    TOY_LABEL,
    TOY_LR,
    TOY_PARAMETERS,
    TOY_WEIGHT,
    GradientProbe,
    History,
    ManualLinear,
    NonlinearityProbe,
    accuracy,
    collapse,
    gradient_probe,
    nonlinearity_probe,
    toy_network,
)

W1_NAME, B1_NAME, W2_NAME, B2_NAME = (
    "layers.0.weight",
    "layers.0.bias",
    "layers.2.weight",
    "layers.2.bias",
)


def hand_forward(params, x=TOY_INPUT, y=TOY_LABEL):
    W1, b1, W2, b2 = (params[k] for k in (W1_NAME, B1_NAME, W2_NAME, B2_NAME))
    pre = [sum(W1[i][j] * x[j] for j in range(2)) + b1[i] for i in range(2)]
    h = [max(0.0, a) for a in pre]
    z = [sum(W2[c][j] * h[j] for j in range(2)) + b2[c] for c in range(2)]
    m = max(z)
    e = [math.exp(zc - m) for zc in z]
    p = [ec / sum(e) for ec in e]
    return {"pre": pre, "h": h, "z": z, "p": p, "loss": -math.log(p[y])}


def hand_gradients(params, x=TOY_INPUT, y=TOY_LABEL):
    f = hand_forward(params, x, y)
    W2 = params[W2_NAME]
    dz = [f["p"][c] - (1.0 if c == y else 0.0) for c in range(2)]
    dW2 = [[dz[c] * f["h"][j] for j in range(2)] for c in range(2)]
    dh = [sum(W2[c][j] * dz[c] for c in range(2)) for j in range(2)]
    dpre = [dh[j] * (1.0 if f["pre"][j] > 0 else 0.0) for j in range(2)]
    dW1 = [[dpre[i] * x[j] for j in range(2)] for i in range(2)]
    return {W1_NAME: dW1, B1_NAME: dpre, W2_NAME: dW2, B2_NAME: dz}


def sgd_step(params, grads, lr):
    def step(p, g):
        return (
            [step(pi, gi) for pi, gi in zip(p, g)] if isinstance(p, (list, tuple)) else p - lr * g
        )

    return {k: step(params[k], grads[k]) for k in params}


def weight_of(params, where=TOY_WEIGHT):
    name, (row, col) = where
    return params[name][row][col]


# ---- the toy network ------------------------------------------------------------------


def test_toy_weight_is_a_live_first_layer_weight_and_the_warm_up_an_output_weight():
    name, (i, _) = TOY_WEIGHT
    assert name == W1_NAME and hand_forward(TOY_PARAMETERS)["pre"][i] > 0  # the chain is open
    assert labcode.TOY_OUTPUT_WEIGHT[0] == W2_NAME  # dL/dW2[c, j] = (p_c - [c = y]) h_j


@pytest.mark.parametrize("manual", [False, True])
def test_toy_network_carries_the_fixed_parameters(manual):
    model = toy_network(manual=manual)
    params = dict(model.named_parameters())
    assert set(params) == set(TOY_PARAMETERS)
    for name, value in TOY_PARAMETERS.items():
        assert torch.equal(params[name], torch.tensor(value, dtype=torch.float64)), name
    assert model.activation == "relu"
    assert all(isinstance(layer, ManualLinear) == manual for layer in model.linear_layers())


def test_toy_network_forward_matches_the_hand_computation():
    f = hand_forward(TOY_PARAMETERS)
    logits = toy_network()(torch.tensor([TOY_INPUT], dtype=torch.float64))[0]
    torch.testing.assert_close(logits, torch.tensor(f["z"], dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_toy_network_takes_a_floating_dtype(dtype):
    model = toy_network(dtype=dtype)
    assert all(p.dtype == dtype for p in model.parameters())
    torch.testing.assert_close(
        model.layers[2].weight, torch.tensor(TOY_PARAMETERS[W2_NAME], dtype=dtype), rtol=0, atol=0
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(dtype="float64"),
            TypeError,
            r"dtype must be a floating-point torch\.dtype such as torch\.float64, got str 'float64'",
        ),
        (
            dict(dtype=torch.int64),
            TypeError,
            r"dtype must be a floating-point torch\.dtype .*int64",
        ),
        (dict(manual="yes"), TypeError, r"manual must be .*got str 'yes'"),
    ],
)
def test_toy_network_rejects_bad_input_naming_it(kwargs, error, match):
    with pytest.raises(error, match=match):
        toy_network(**kwargs)


def test_toy_input_makes_the_predicted_class_wrong():
    # The probe is interesting because the model is wrong at the start: p_y < 1/2.
    assert hand_forward(TOY_PARAMETERS)["p"][TOY_LABEL] < 0.5


# ---- the gradient probe ---------------------------------------------------------------


@pytest.mark.parametrize("manual", [False, True])
@pytest.mark.parametrize("lr", [TOY_LR, 0.1])
def test_gradient_probe_matches_the_hand_computation(lr, manual):
    probe = gradient_probe(lr=lr, manual=manual)
    assert isinstance(probe, GradientProbe)
    before = hand_forward(TOY_PARAMETERS)
    grads = hand_gradients(TOY_PARAMETERS)
    after_params = sgd_step(TOY_PARAMETERS, grads, lr)
    after = hand_forward(after_params)

    approx = lambda v: pytest.approx(v, rel=1e-12, abs=1e-12)  # noqa: E731
    assert probe.hidden == approx(tuple(before["h"]))
    assert probe.logits == approx(tuple(before["z"]))
    assert probe.probabilities == approx(tuple(before["p"]))
    # dL/dW1[i, k] = (W2^T (p - t))_i * relu'(a_i) * x_k for the book's weight and label
    (i, k) = TOY_WEIGHT[1]
    W2 = TOY_PARAMETERS[W2_NAME]
    back = sum(W2[c][i] * (before["p"][c] - (1.0 if c == TOY_LABEL else 0.0)) for c in range(2))
    expected_gradient = back * (before["pre"][i] > 0) * TOY_INPUT[k]
    assert expected_gradient == approx(weight_of(grads))
    assert probe.gradient_after == approx(weight_of(hand_gradients(after_params)))
    assert probe.gradient == approx(expected_gradient)
    assert probe.step == approx(-lr * expected_gradient)
    assert probe.weight_before == weight_of(TOY_PARAMETERS)
    assert probe.weight_after == approx(weight_of(TOY_PARAMETERS) - lr * expected_gradient)
    assert probe.loss_before == approx(before["loss"])
    assert probe.loss_after == approx(after["loss"])
    assert probe.lr == lr


def test_gradient_probe_answers_the_students_questions():
    probe = gradient_probe()
    f = hand_forward(TOY_PARAMETERS)
    assert probe.gradient > 0  # raising W1[0, 0] raises h_0, which feeds the wrong logit more
    assert probe.step < 0  # so SGD moves the weight down
    assert probe.weight_after < probe.weight_before
    assert probe.loss_after < probe.loss_before
    # rough magnitude: (W2[0, 0] - W2[1, 0]) (1 - p_1) x_0, each of which a student can estimate
    W2 = TOY_PARAMETERS[W2_NAME]
    assert probe.gradient == pytest.approx((W2[0][0] - W2[1][0]) * (1 - f["p"][1]) * TOY_INPUT[0])
    assert abs(probe.gradient_after) < abs(probe.gradient)  # the lab's "after" question


def test_gradient_probe_manual_and_autograd_agree_exactly_enough():
    ours, theirs = gradient_probe(manual=True), gradient_probe(manual=False)
    for field in (
        "gradient",
        "gradient_after",
        "step",
        "weight_after",
        "loss_before",
        "loss_after",
    ):
        assert getattr(ours, field) == pytest.approx(getattr(theirs, field), rel=1e-14, abs=1e-15)


def test_gradient_probe_runs_each_layer_once_per_forward(monkeypatch):
    calls = []

    def counting_toy_network(**kwargs):
        model = toy_network(**kwargs)
        model.layers[0].register_forward_hook(lambda *args: calls.append(args[1][0].shape))
        return model

    monkeypatch.setattr(labcode.probes, "toy_network", counting_toy_network)
    gradient_probe()
    assert len(calls) == 2  # the forward before the step and the one after it


def test_gradient_probe_does_not_touch_the_global_rng():
    state = torch.random.get_rng_state()
    gradient_probe()
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(
    "lr, error, match",
    [
        (0.0, ValueError, r"lr must be a positive, finite number, got 0\.0"),
        (-0.5, ValueError, r"lr must be a positive, finite number, got -0\.5"),
        ("0.5", TypeError, r"lr must be a positive, finite number, got str '0\.5'"),
    ],
)
def test_gradient_probe_rejects_bad_lr_naming_it(lr, error, match):
    with pytest.raises(error, match=match):
        gradient_probe(lr=lr)


# ---- the nonlinearity probe -----------------------------------------------------------


@pytest.fixture(scope="module")
def default_probe():
    return nonlinearity_probe()  # the call the book makes


def test_nonlinearity_probe_default_reaches_the_books_numbers(default_probe):
    p = default_probe
    assert p.activation == "relu"
    assert p.test_accuracy_with >= 0.97
    assert p.test_accuracy_without < 0.9
    assert p.test_accuracy_without <= p.linear_model_accuracy + 0.005
    assert p.collapse_max_error < 1e-5


def test_nonlinearity_probe_linear_baseline_agrees_with_logistic_regression(
    default_probe, logistic_regression_accuracy
):
    # Both see the same data (moons seeds 0 and 1, noise 0.1, 1,000 points).
    assert default_probe.linear_model_accuracy == pytest.approx(
        logistic_regression_accuracy, abs=0.005
    )


def test_nonlinearity_probe_returns_full_curves(default_probe):
    p = default_probe
    for history in (p.with_activation, p.without_activation):
        assert len(history.loss) == len(history.accuracy) == len(history.val_accuracy) == 300
        assert history.loss[-1] < history.loss[0]
    assert p.with_activation.loss[-1] < p.without_activation.loss[-1]


def test_nonlinearity_probe_test_accuracies_are_the_histories_last_val_accuracy():
    histories = [
        History(loss=[1.0, 0.5], accuracy=[0.5, 0.75], val_accuracy=[0.5, a])
        for a in (0.875, 0.625)
    ]
    probe = NonlinearityProbe(
        activation="relu",
        with_activation=histories[0],
        without_activation=histories[1],
        linear_model_accuracy=0.625,
        collapse_max_error=0.0,
        model_with_activation=MLP(2, [4], 2),
        model_without_activation=MLP(2, [4], 2, activation=None),
    )
    assert (probe.test_accuracy_with, probe.test_accuracy_without) == (0.875, 0.625)


def test_nonlinearity_probe_returns_the_two_trained_networks(default_probe, moons_test):
    p = default_probe
    assert p.model_with_activation.activation == "relu"
    assert p.model_without_activation.activation is None
    # the trained networks themselves: their held-out accuracy is the histories' last
    assert accuracy(p.model_with_activation, *moons_test) == p.test_accuracy_with
    assert accuracy(p.model_without_activation, *moons_test) == p.test_accuracy_without
    X_test, _ = moons_test
    linear = p.model_without_activation
    with torch.no_grad():
        assert (
            collapse(linear)(X_test) - linear(X_test)
        ).abs().max().item() == p.collapse_max_error


def test_nonlinearity_probe_honours_its_arguments():
    p = nonlinearity_probe(n_samples=200, epochs=20, activation="tanh", hidden_features=(8,))
    assert p.activation == "tanh"
    assert len(p.with_activation.loss) == len(p.without_activation.val_accuracy) == 20
    assert p.collapse_max_error < 1e-5
    # accuracies are fractions of 200 held-out points
    for acc in (p.test_accuracy_with, p.test_accuracy_without, p.linear_model_accuracy):
        assert acc * 200 == pytest.approx(round(acc * 200), abs=1e-4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(activation=None), ValueError, r"activation must name the nonlinearity.*got None"),
        (dict(activation="swish"), ValueError, r"activation must be one of .* got str 'swish'"),
        (dict(n_samples=0), ValueError, r"n_samples must be a positive int, got 0"),
        (dict(noise=-1.0), ValueError, r"noise must be a finite number >= 0, got -1\.0"),
        (dict(epochs=0), ValueError, r"epochs must be a positive int, got 0"),
        (dict(lr=-1.0), ValueError, r"lr must be a positive, finite number, got -1\.0"),
        (
            dict(hidden_features=(8, 0)),
            ValueError,
            r"hidden_features\[1\] must be a positive int, got 0",
        ),
        (
            dict(hidden_features=32),
            TypeError,
            r"hidden_features must be a sequence of positive ints such as \(32, 32\), got int 32",
        ),
        (
            dict(hidden_features="32"),
            TypeError,
            r"hidden_features must be a sequence .*got str '32'",
        ),
        (dict(seed=2**64), ValueError, r"seed must be an int of 64 bits, in \[-2\*\*63, 2\*\*64"),
        (
            dict(seed=2**64 - 1),
            ValueError,
            r"seed must be below 2\*\*64 - 1 \(the held-out data use",
        ),
        (dict(seed="0"), TypeError, r"seed must be an int of 64 bits, .*got str '0'"),
    ],
)
def test_nonlinearity_probe_rejects_bad_arguments_naming_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        nonlinearity_probe(**kwargs)


def test_gradient_probe_reports_every_parameters_gradient_and_the_dead_unit_gets_none():
    probe = gradient_probe()
    model = toy_network()
    x = torch.tensor([TOY_INPUT], dtype=torch.float64)
    torch.nn.functional.cross_entropy(model(x), torch.tensor([TOY_LABEL])).backward()
    for name, parameter in model.named_parameters():
        assert torch.equal(torch.tensor(probe.gradients[name], dtype=torch.float64), parameter.grad)
    # hidden unit 1 is off (its pre-activation is negative): no gradient reaches its weights
    assert probe.hidden[1] == 0
    assert all(g == 0 for g in probe.gradients["layers.0.weight"][1])
    first, (i, j) = labcode.TOY_FIRST_LAYER_WEIGHT  # the optional prediction's weight, into h_1
    assert first == "layers.0.weight" and i == 1 and probe.gradients[first][i][j] == 0
    name, (row, col) = TOY_WEIGHT
    assert probe.gradients[name][row][col] == probe.gradient


def test_nonlinearity_probe_repr_gives_the_numbers_to_compare_not_every_epoch(default_probe):
    text = repr(default_probe)
    p = default_probe
    for number in (
        p.test_accuracy_with,
        p.test_accuracy_without,
        p.linear_model_accuracy,
        p.with_activation.accuracy[-1],
        p.without_activation.accuracy[-1],
    ):
        assert f"{number:.1%}" in text
    assert f"{p.collapse_max_error:.1e}" in text and len(text) < 400
    w, wo = p.with_activation, p.without_activation  # the last epoch's, in this order
    assert f"(training {w.accuracy[-1]:.1%}, {wo.accuracy[-1]:.1%})" in text
    assert f"final loss {w.loss[-1]:.3g} with, {wo.loss[-1]:.3g} without" in text


def test_the_lab_names_every_field_of_the_probes_results():
    """The lab tells students what the probes return: a field it does not name is one they
    cannot find, and a renamed field would leave the page describing one that is gone."""
    import dataclasses
    from pathlib import Path

    lab = (Path(__file__).resolve().parents[1] / "book" / "lab.md").read_text(encoding="utf-8")
    section = lab[lab.index("(lab-probes)=") :]
    for cls in (labcode.GradientProbe, labcode.NonlinearityProbe):
        names = [f.name for f in dataclasses.fields(cls)] + [
            n for n, v in vars(cls).items() if isinstance(v, property)
        ]
        unnamed = [n for n in names if f"`{n}`" not in section and n not in ("lr", "activation")]
        assert unnamed == [], f"book/lab.md's probes section does not name {cls.__name__}.{unnamed}"


def test_the_lab_states_the_problems_constants_as_labcode_defines_them():
    """The lab is prose (its launch buttons would open it, not the starter): the constants
    that define Part B are written there by hand, so they are checked here, once."""
    import inspect
    from pathlib import Path

    from labcode.checks import check_training

    lab = (Path(__file__).resolve().parents[1] / "book" / "lab.md").read_text(encoding="utf-8")
    lab = " ".join(lab.split())

    def pmatrix(rows):
        rows = [r if isinstance(r, (tuple, list)) else (r,) for r in rows]
        return (
            r"\begin{pmatrix} "
            + r" \\ ".join(" & ".join(f"{v:g}" for v in r) for r in rows)
            + r" \end{pmatrix}"
        )

    for symbol, name in (("W_1", W1_NAME), ("b_1", B1_NAME), ("W_2", W2_NAME), ("b_2", B2_NAME)):
        assert f"{symbol} = {pmatrix(TOY_PARAMETERS[name])}" in lab, (
            f"the lab's {symbol} is not labcode's"
        )
    assert f"$x = ({TOY_INPUT[0]:g}, {TOY_INPUT[1]:g})$" in lab, (
        "the lab's toy input is not labcode's"
    )
    assert f"$y = {TOY_LABEL}$" in lab and rf"$\eta = {TOY_LR:g}$" in lab, "label or learning rate"
    for where, text in (
        (TOY_WEIGHT, "W_1[{}, {}]"),
        (labcode.TOY_OUTPUT_WEIGHT, "W_2[{}, {}]"),
        (labcode.TOY_FIRST_LAYER_WEIGHT, "W_1[{}, {}]"),
    ):
        assert f"${text.format(*where[1])}$" in lab, f"the lab does not name {where}"
    d = {n: p.default for n, p in inspect.signature(nonlinearity_probe).parameters.items()}
    hidden = list(d["hidden_features"])
    assert f"`MLP(2, {hidden}, 2)`" in lab
    assert (
        f"{d['n_samples']} training points, noise {d['noise']:g}, seed {d['seed']}; a held-out "
        f"set of the same size from seed {d['seed'] + 1}"
    ) in lab, "Prediction 2's data"
    assert (
        f"{d['epochs']} full-batch steps of plain SGD at learning rate {d['lr']:g}" in lab
        and d["optimizer"] == "sgd"
    ), "Prediction 2's training"
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert f"with its {count(MLP(2, hidden, 2, activation=None)):,} parameters" in lab
    assert (
        f"(logistic regression, {count(MLP(2, [], 2))} parameters), for "
        f"{labcode.probes.LINEAR_BASELINE_EPOCHS} steps" in lab
    )
    assert f"(its default, {inspect.signature(check_training).parameters['lr'].default:g}," in lab
