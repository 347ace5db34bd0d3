"""numba == cpp == reference, bit for bit, on random shapes, modes and dtypes (docs/design.md,
"Evaluation order")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import Problem, problems

import grokprop as gp
from grokprop.backends import resolve

# moderate values: book-initialised weights, data in [-1, 1], small learning rates
PROBLEMS = problems(inputs=12, hidden_layers=(1, 3), width=64, outputs=6, rows=10, epochs=3)


def _fit(problem: Problem, backend: str) -> tuple[np.ndarray | int, list[np.ndarray]]:
    net = problem.network()
    try:
        history = problem.fit(net, backend)
    except gp.DivergenceError as exc:  # must then diverge identically everywhere
        return exc.epoch, net.weights
    assert history.backend == backend  # no silent fallback to another backend
    assert history.errors.dtype == net.dtype
    return history.errors, net.weights


@settings(max_examples=120, deadline=None)
@given(PROBLEMS)
def test_training_is_bitwise_equal_across_backends(
    checked_backends: tuple[str, ...], problem: Problem
) -> None:
    ref_errors, ref_weights = _fit(problem, "numpy")
    for name in checked_backends:
        errors, weights = _fit(problem, name)
        assert type(errors) is type(ref_errors), name
        assert np.array_equal(errors, ref_errors), name
        for w, ref in zip(weights, ref_weights):
            assert w.dtype == ref.dtype
            assert np.array_equal(w, ref), name


@settings(max_examples=60, deadline=None)
@given(PROBLEMS)
def test_primitives_are_bitwise_equal_across_backends(
    checked_backends: tuple[str, ...], problem: Problem
) -> None:
    net = gp.Network(problem.sizes, seed=problem.seed, dtype=problem.dtype)
    X, y = net._data(problem.X, problem.y)
    act = gp.Activation.parse(problem.activation)
    ref = resolve("numpy")
    ref_layers = ref.forward(net.weights, X, act)
    ref_deltas = ref.deltas(net.weights, ref_layers, y, act)
    ref_wd = ref.weight_deltas(ref_layers, ref_deltas)
    ref_step_weights = net.copy().weights
    ref_step = ref.step(ref_step_weights, X, y, problem.alpha, act)
    for name in checked_backends:
        engine = resolve(name)
        assert engine.name == name
        layers = engine.forward(net.weights, X, act)
        deltas = engine.deltas(net.weights, layers, y, act)
        step_weights = net.copy().weights
        step = engine.step(step_weights, X, y, problem.alpha, act)
        got = [
            *zip(layers, ref_layers),
            *zip(deltas, ref_deltas),
            *zip(engine.weight_deltas(layers, deltas), ref_wd),
            (engine.example_errors(layers[-1], y), ref.example_errors(ref_layers[-1], y)),
            (engine.activate(X - 0.5, act), ref.activate(X - 0.5, act)),
            (engine.activate_deriv(X - 0.5, act), ref.activate_deriv(X - 0.5, act)),
            *zip(step.layers, ref_step.layers),
            *zip(step.deltas, ref_step.deltas),
            *zip(step.weight_deltas, ref_step.weight_deltas),
            (step.errors, ref_step.errors),
            *zip(step_weights, ref_step_weights),
        ]
        for a, b in got:
            assert a.dtype == b.dtype, name
            assert np.array_equal(a, b), name
        weights, ref_weights = net.copy().weights, net.copy().weights
        engine.update(weights, ref_wd, problem.alpha)
        ref.update(ref_weights, ref_wd, problem.alpha)
        for w, r in zip(weights, ref_weights):
            assert np.array_equal(w, r), name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [1, 100, None])
def test_mnist_sized_network_is_bitwise_equal(
    dtype: str, batch_size: int | None, compiled_backends: tuple[str, ...]
) -> None:
    X, y = gp.datasets.random_onehot(200, 784, 10, seed=3)
    report = gp.verify(
        gp.Network([784, 128, 10], seed=0, dtype=dtype),
        X,
        y,
        alpha=0.005,
        epochs=1,
        batch_size=batch_size,
        include_blas=False,
    )
    assert report.backends == ("numpy", *compiled_backends)
    assert report.ok, report.table()


def test_full_batch_is_one_batch_of_all_rows(backend: str) -> None:
    X, y = gp.datasets.streetlights()
    a, b = gp.Network([3, 5, 1], seed=2), gp.Network([3, 5, 1], seed=2)
    ea = a.fit(X, y, alpha=0.05, epochs=5, batch_size=1, backend=backend).errors
    eb = b.fit(X, y, alpha=0.05, epochs=5, batch_size=None, backend=backend).errors
    full = gp.Network([3, 5, 1], seed=2)
    ef = full.fit(X, y, alpha=0.05, epochs=5, batch_size=6, backend=backend).errors
    assert np.array_equal(eb, ef)  # None means one batch of all rows
    assert not np.array_equal(ea, eb)  # stochastic and full batch are different algorithms


def test_float32_network_computes_in_float32(backend: str) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    net32 = gp.Network([3, 4, 1], seed=1, dtype="float32")
    errors = net32.fit(X, y, alpha=0.2, epochs=60, backend=backend).errors
    assert errors.dtype == np.float32
    assert all(w.dtype == np.float32 for w in net32.weights)
    # the same training in float64 then rounded would not give the same bits
    net64 = gp.Network([3, 4, 1], seed=1)
    errors64 = net64.fit(X, y, alpha=0.2, epochs=60, backend=backend).errors
    assert not np.array_equal(errors, errors64.astype(np.float32))
    assert np.allclose(errors, errors64, rtol=1e-3, atol=1e-6)
