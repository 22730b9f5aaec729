"""Every labcode function works on the device its tensors are on (issue 2).

These run only where CUDA is available; on a CPU-only machine they are skipped, and
the CPU path is what the rest of the suite tests. (Device *arguments* are also checked
on CPU with the "meta" device in test_data.py and test_train.py.)
"""

from __future__ import annotations

import pytest
import torch

from labcode import (
    MLP,
    LinearFunction,
    ManualLinear,
    accuracy,
    collapse,
    compare_gradients,
    linear_backward,
    linear_forward,
    make_moons,
    random_linear_problem,
    seeded,
    train,
)

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA device on this machine (torch.cuda.is_available() is False)",
)


def test_linear_forward_and_backward_run_on_cuda():
    p = random_linear_problem((2, 3), 4, 5, device="cuda", seed=0)
    assert p.x.is_cuda
    y = linear_forward(p.x, p.weight, p.bias)
    grads = linear_backward(p.grad_output, p.x, p.weight, p.bias)
    assert y.is_cuda and all(g.is_cuda for g in grads)
    cpu = {k: v.cpu() for k, v in p.items()}
    torch.testing.assert_close(y.cpu(), linear_forward(cpu.x, cpu.weight, cpu.bias))
    for g_cuda, g_cpu in zip(grads, linear_backward(cpu.grad_output, cpu.x, cpu.weight, cpu.bias)):
        torch.testing.assert_close(g_cuda.cpu(), g_cpu)


def test_linear_function_gradcheck_on_cuda():
    p = random_linear_problem((3,), 4, 2, device="cuda", seed=1)
    inputs = tuple(t.requires_grad_(True) for t in (p.x, p.weight, p.bias))
    assert torch.autograd.gradcheck(LinearFunction.apply, inputs)


def test_manual_linear_grads_match_nn_linear_on_cuda():
    with seeded(0):  # built on the CPU under the seed, then moved
        ours = ManualLinear(3, 5)
    with seeded(0):
        reference = torch.nn.Linear(3, 5)
    ours, reference = ours.cuda(), reference.cuda()
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1)).cuda()
    ours(x).square().sum().backward()
    reference(x).square().sum().backward()
    assert compare_gradients(ours.weight.grad, reference.weight.grad).passed
    assert compare_gradients(ours.bias.grad, reference.bias.grad).passed


def test_train_and_collapse_on_cuda():
    X, y = make_moons(1000, 0.1, seed=0, device="cuda")
    X_test, y_test = make_moons(1000, 0.1, seed=1, device="cuda")
    assert X.is_cuda and y.is_cuda
    with seeded(0):
        model = MLP(2, [32, 32], 2, manual=True)
    model = model.cuda()
    history = train(model, X, y, batch_size=100, epochs=30, X_val=X_test, y_val=y_test)
    assert history.loss[-1] < history.loss[0]
    with seeded(0):
        model = MLP(2, [32, 32], 2)
    model = model.cuda()
    train(model, X, y)
    assert accuracy(model, X_test, y_test) >= 0.97
    with seeded(1):
        linear = MLP(2, [8], 2, activation=None)
    linear = linear.cuda()
    single = collapse(linear)
    assert single.weight.is_cuda
    torch.testing.assert_close(single(X_test), linear(X_test), rtol=1e-5, atol=1e-5)


def test_seeded_leaves_the_cuda_generator_where_it_was():
    # torch.manual_seed would also seed CUDA, and fork_rng(devices=[]) would not restore it.
    torch.rand(1, device="cuda")  # a draw, so the state is not that of a fresh seed
    cuda_state = torch.cuda.get_rng_state()
    cpu_state = torch.random.get_rng_state()
    with seeded(12345):
        MLP(2, [8], 2)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state)
    assert torch.equal(torch.random.get_rng_state(), cpu_state)
