"""labcode.mlp: the MLP (autograd and manual backward) and collapse()."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labcode import ACTIVATIONS, MLP, ManualLinear, collapse, seeded

ACTIVATION_FUNCTIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    None: lambda h: h,
}
CONFIGS = [  # (in, hidden, out)
    (2, [32, 32], 2),
    (3, [5], 4),
    (4, [], 3),
    (2, [7, 3, 6], 5),
]


def build(*args, seed=0, **kwargs):
    with seeded(seed):
        return MLP(*args, **kwargs)


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def hand_forward(mlp, x, activation):
    """Linear, activation, ..., Linear written out from the parameters."""
    weights = [p for name, p in mlp.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in mlp.named_parameters() if name.endswith("bias")]
    h = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = ACTIVATION_FUNCTIONS[activation](h)
    return h


def test_mlp_lists_the_issues_activations():
    assert set(ACTIVATIONS) == {"relu", "tanh", "sigmoid"}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_mlp_computes_linear_activation_linear(config, activation):
    mlp = build(*config, activation=activation).double()
    x = randn(6, config[0], dtype=torch.float64)
    out = mlp(x)
    assert out.shape == (6, config[2])
    torch.testing.assert_close(out, hand_forward(mlp, x, activation))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_mlp_layer_structure_follows_hidden_features(activation):
    mlp = build(3, [4, 5], 2, activation=activation)
    linears = mlp.linear_layers()
    assert [(m.in_features, m.out_features) for m in linears] == [(3, 4), (4, 5), (5, 2)]
    n_activations = sum(isinstance(m, tuple(ACTIVATIONS.values())) for m in mlp.modules())
    assert n_activations == (0 if activation is None else 2)  # none after the output layer
    assert isinstance(mlp.layers[-1], nn.Linear)


def test_mlp_with_no_hidden_layers_is_one_linear_layer():
    mlp = build(4, [], 3)
    assert len(list(mlp.layers)) == 1
    assert [name for name, _ in mlp.named_parameters()] == ["layers.0.weight", "layers.0.bias"]
    x = randn(5, 4)
    torch.testing.assert_close(mlp(x), x @ mlp.layers[0].weight.T + mlp.layers[0].bias)


@pytest.mark.parametrize("manual", [False, True])
def test_mlp_manual_switch_chooses_the_linear_layer(manual):
    linears = build(2, [3, 3], 2, manual=manual).linear_layers()
    assert len(linears) == 3
    assert all(type(m) is (ManualLinear if manual else nn.Linear) for m in linears)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_mlp_manual_and_autograd_have_identical_parameters(config, activation):
    ours = build(*config, activation=activation, manual=True, seed=5)
    theirs = build(*config, activation=activation, manual=False, seed=5)
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name in ours_params:
        assert torch.equal(ours_params[name], theirs_params[name]), name


def _train_step_by_step(mlp, X, y, optimizer, steps):
    opt = (
        torch.optim.Adam(mlp.parameters(), lr=0.01)
        if optimizer == "adam"
        else torch.optim.SGD(mlp.parameters(), lr=0.1)
    )
    losses, grads, params = [], [], []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(mlp(X), y)
        opt.zero_grad()
        loss.backward()
        grads.append([p.grad.clone() for p in mlp.parameters()])
        opt.step()
        losses.append(loss.detach())
        params.append([p.detach().clone() for p in mlp.parameters()])
    return losses, grads, params


@pytest.mark.parametrize(
    "dtype, tol",
    [(torch.float64, dict(rtol=1e-12, atol=1e-12)), (torch.float32, dict(rtol=1e-5, atol=1e-6))],
    ids=["float64", "float32"],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("activation", ["relu", "tanh", None])
def test_mlp_manual_and_autograd_train_identically_step_by_step(activation, optimizer, dtype, tol):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g, dtype=dtype)
    y = torch.randint(0, 4, (64,), generator=g)
    runs = [
        _train_step_by_step(
            build(3, [8, 6], 4, activation=activation, manual=manual, seed=1).to(dtype),
            X,
            y,
            optimizer,
            steps=25,
        )
        for manual in (True, False)
    ]
    (m_losses, m_grads, m_params), (a_losses, a_grads, a_params) = runs
    for step in range(25):
        torch.testing.assert_close(m_losses[step], a_losses[step], **tol)
        for ours, theirs in zip(m_grads[step], a_grads[step]):
            torch.testing.assert_close(ours, theirs, **tol)
        for ours, theirs in zip(m_params[step], a_params[step]):
            torch.testing.assert_close(ours, theirs, **tol)
    assert a_losses[-1] < a_losses[0]  # it did train


# ---- collapse --------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_mlp_without_nonlinearity_is_affine(config):
    # Independently of collapse: f(a u + (1 - a) v) = a f(u) + (1 - a) f(v) for an affine f.
    mlp = build(*config, activation=None, seed=2).double()
    g = torch.Generator().manual_seed(0)
    u, v = (torch.randn(10, config[0], generator=g, dtype=torch.float64) for _ in range(2))
    a = torch.rand(10, 1, generator=g, dtype=torch.float64) * 4 - 2
    torch.testing.assert_close(mlp(a * u + (1 - a) * v), a * mlp(u) + (1 - a) * mlp(v))


@pytest.mark.parametrize("manual", [False, True])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_collapse_equals_the_linear_only_mlp(config, manual):
    mlp = build(*config, activation=None, manual=manual, seed=3).double()
    single = collapse(mlp)
    assert type(single) is nn.Linear
    assert (single.in_features, single.out_features) == (config[0], config[2])
    assert single.weight.dtype == torch.float64
    x = randn(50, config[0], dtype=torch.float64) * 3
    torch.testing.assert_close(single(x), mlp(x))
    # the folded parameters, derived another way: W = W_L ... W_1 and b = f(0)
    weights = [m.weight for m in mlp.linear_layers()]
    expected_w = weights[0] if len(weights) == 1 else torch.linalg.multi_dot(weights[::-1])
    torch.testing.assert_close(single.weight, expected_w)
    torch.testing.assert_close(single.bias, mlp(torch.zeros(1, config[0], dtype=torch.float64))[0])


def test_collapse_is_detached_from_the_mlp():
    mlp = build(2, [4], 3, activation=None, seed=4)
    single = collapse(mlp)
    before = single.weight.detach().clone()
    with torch.no_grad():
        for p in mlp.parameters():
            p.add_(1.0)
    assert torch.equal(single.weight, before)
    assert all(p.grad_fn is None for p in single.parameters())


def test_collapse_holds_in_float32_to_rounding():
    mlp = build(2, [32, 32], 2, activation=None, seed=0)
    x = randn(200, 2)
    torch.testing.assert_close(collapse(mlp)(x), mlp(x), rtol=1e-5, atol=1e-5)


def test_collapse_does_not_consume_the_global_rng():
    mlp = build(3, [8, 8], 2, activation=None)
    state = torch.random.get_rng_state()
    collapse(mlp)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_collapse_refuses_an_mlp_with_a_nonlinearity(activation):
    with pytest.raises(ValueError, match=rf"activation=None, got activation='{activation}'"):
        collapse(build(2, [4], 2, activation=activation))


def test_collapse_refuses_a_non_mlp():
    with pytest.raises(TypeError, match=r"mlp must be a labcode\.MLP, got Linear"):
        collapse(nn.Linear(2, 2))


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(in_features=0), ValueError, r"in_features must be a positive int, got 0"),
        (dict(in_features=-2), ValueError, r"in_features must be a positive int, got -2"),
        (dict(in_features=2.0), TypeError, r"in_features must be a positive int, got float 2\.0"),
        (dict(in_features=True), TypeError, r"in_features must be a positive int, got bool True"),
        (dict(out_features=0), ValueError, r"out_features must be a positive int, got 0"),
        (dict(out_features="2"), TypeError, r"out_features must be a positive int, got str '2'"),
        (
            dict(hidden_features=[32, 0]),
            ValueError,
            r"hidden_features\[1\] must be a positive int, got 0",
        ),
        (
            dict(hidden_features=[-4]),
            ValueError,
            r"hidden_features\[0\] must be a positive int, got -4",
        ),
        (
            dict(hidden_features=[8.5]),
            TypeError,
            r"hidden_features\[0\] must be a positive int, got float 8\.5",
        ),
        (
            dict(hidden_features=32),
            TypeError,
            r"hidden_features must be a sequence of positive ints .*got int 32",
        ),
        (
            dict(hidden_features="32"),
            TypeError,
            r"hidden_features must be a sequence of positive ints .*got str '32'",
        ),
        (
            dict(activation="gelu"),
            ValueError,
            r"activation must be one of \['relu', 'sigmoid', 'tanh'\] or None, got str 'gelu'",
        ),
        (dict(activation="ReLU"), ValueError, r"activation must be one of .* got str 'ReLU'"),
        (dict(activation=["relu"]), TypeError, r"activation must be one of .* got list \['relu'\]"),
        (dict(activation=nn.ReLU), TypeError, r"activation must be one of .* got type"),
        (dict(manual="yes"), TypeError, r"manual must be True or False, got str 'yes'"),
    ],
)
def test_mlp_rejects_bad_arguments_naming_them(kwargs, error, match):
    args = dict(in_features=2, hidden_features=[4], out_features=2) | kwargs
    with pytest.raises(error, match=match):
        MLP(**args)


@pytest.mark.parametrize(
    "x, error, match",
    [
        (
            torch.zeros(5, 3),
            ValueError,
            r"x must have shape \(N, in_features\) = \(N, 2\), got shape \(5, 3\)",
        ),
        (torch.zeros(4, 5, 3), ValueError, r"got shape \(4, 5, 3\)"),
        (
            torch.ones(5, 2, dtype=torch.int64),
            TypeError,
            r"x must be a floating-point tensor.*got dtype torch\.int64",
        ),
        ([[0.0, 1.0]], TypeError, r"x must be a torch\.Tensor, got list"),
    ],
)
@pytest.mark.parametrize("manual", [False, True])
def test_mlp_forward_rejects_bad_input_naming_it(manual, x, error, match):
    with pytest.raises(error, match=match):
        build(2, [4], 2, manual=manual)(x)


@pytest.mark.parametrize("manual", [False, True])
def test_mlp_takes_leading_batch_dimensions_like_nn_linear(manual):
    mlp = build(2, [4], 2, manual=manual)
    x = randn(4, 5, 2)
    assert mlp(x).shape == (4, 5, 2)
    torch.testing.assert_close(mlp(x), mlp(x.reshape(20, 2)).reshape(4, 5, 2))
    torch.testing.assert_close(mlp(x[0, 0]), mlp(x[0, :1])[0])  # one sample, no batch dimension


@pytest.mark.parametrize(
    "x_dtype, model_dtype", [(torch.float64, torch.float32), (torch.float32, torch.float64)]
)
@pytest.mark.parametrize("manual", [False, True])
def test_mlp_forward_names_x_when_its_dtype_is_not_the_models(manual, x_dtype, model_dtype):
    mlp = build(2, [4], 2, manual=manual).to(model_dtype)
    with pytest.raises(
        TypeError,
        match=rf"^x must have the model's dtype and device, {model_dtype} on cpu, "
        rf"got {x_dtype} on cpu: move one to the other",
    ):
        mlp(randn(5, 2, dtype=x_dtype))


@pytest.mark.parametrize("manual", [False, True])
def test_mlp_forward_names_x_when_it_is_on_another_device(manual):
    mlp = build(2, [4], 2, manual=manual)
    with pytest.raises(
        ValueError,
        match=r"^x must have the model's dtype and device, torch.float32 on cpu, "
        r"got torch.float32 on meta: move one to the other \(x.to\(...\) or model.to\(...\)\)$",
    ):
        mlp(torch.empty(5, 2, device="meta"))


def test_mlp_defaults_to_torchs_own_linear_layers_and_relu():
    with seeded(0):
        model = MLP(2, [4], 3)
    assert [type(m) for m in model.layers] == [nn.Linear, nn.ReLU, nn.Linear]


def test_mlp_takes_one_sample_and_any_batch_shape():
    with seeded(0):
        model = MLP(2, [4], 3)
    x = torch.randn(4, 5, 2)
    assert model(x[0, 0]).shape == (3,)  # one sample, shape (in_features,)
    out = model(x)  # batch dimensions (4, 5) before the features
    assert out.shape == (4, 5, 3)
    torch.testing.assert_close(out[1, 2], model(x[1, 2]))
    with pytest.raises(ValueError, match="in_features"):
        model(torch.tensor(1.0))  # a scalar has no feature dimension


def test_collapse_keeps_the_models_dtype():
    with seeded(0):
        model = MLP(2, [4, 3], 2, activation=None).double()
    single = collapse(model)
    assert single.weight.dtype == single.bias.dtype == torch.float64
    x = torch.randn(5, 2, dtype=torch.float64)
    torch.testing.assert_close(single(x), model(x))
