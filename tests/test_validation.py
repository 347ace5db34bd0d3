"""Bad input gets a clear error naming the argument, and the network loses nothing (docs/design.md, "Validation")."""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp

X, Y = gp.datasets.streetlights()


def _net() -> gp.Network:
    return gp.Network([3, 4, 1], seed=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"X": X[:, :2]}, ValueError, "X must have 3 columns"),
        ({"X": X[0]}, ValueError, "X must be a 2-D array"),
        ({"X": np.zeros((0, 3))}, ValueError, "X must not be empty"),
        ({"y": Y[:4]}, ValueError, "same number of rows"),
        ({"y": np.ones((6, 2))}, ValueError, "y must have 1 columns"),
        ({"X": np.where(X == 1, np.nan, 0.0)}, ValueError, "X must be finite"),
        ({"y": np.full((6, 1), np.inf)}, ValueError, "y must be finite"),
        ({"X": X.astype(str)}, TypeError, "X must hold real numbers"),
        ({"X": X.astype(complex)}, TypeError, "X must hold real numbers"),
        ({"y": Y.astype(bool)}, TypeError, "y must hold real numbers"),
        ({"X": X.astype(object)}, TypeError, "X must hold real numbers"),
        ({"alpha": 0}, ValueError, "alpha must be a finite number > 0"),
        ({"alpha": -0.1}, ValueError, "alpha must be a finite number > 0"),
        ({"alpha": float("nan")}, ValueError, "alpha must be a finite number > 0"),
        ({"alpha": float("inf")}, ValueError, "alpha must be a finite number > 0"),
        ({"alpha": "0.1"}, TypeError, "alpha must be a real number"),
        ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
        ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
        ({"epochs": True}, TypeError, "epochs must be an integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"batch_size": 7}, ValueError, "batch_size must be between 1 and the number of rows"),
        ({"backend": "gpu"}, ValueError, "unknown backend 'gpu'"),
    ],
)
def test_fit_rejects_bad_input_and_keeps_weights(kwargs: dict, error: type, match: str) -> None:
    net = _net()
    before = [w.copy() for w in net.weights]
    args = {"X": X, "y": Y, "alpha": 0.1, "epochs": 3, **kwargs}
    with pytest.raises(error, match=match):
        net.fit(args.pop("X"), args.pop("y"), **args)
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sizes": [3]}, ValueError, "at least an input and an output"),
        ({"sizes": [3, 0, 1]}, ValueError, r"sizes\[1\] must be an integer >= 1"),
        ({"sizes": [3, 2.5, 1]}, TypeError, r"sizes\[1\] must be an integer"),
        ({"sizes": "341"}, TypeError, "sizes must be a sequence"),
        ({"sizes": [3, 1], "activation": "softmax"}, ValueError, "activation must be one of"),
        ({"sizes": [3, 1], "dtype": "float16"}, ValueError, "dtype must be 'float64' or"),
        ({"sizes": [3, 1], "dtype": "banana"}, TypeError, "dtype must be 'float64' or"),
        ({"weights": [[[1.0, 2.0]], [[1.0], [2.0], [3.0]]]}, ValueError, r"weights\[1\] has shape"),
        ({"weights": [0.5, float("nan"), 0.1]}, ValueError, r"weights\[0\] must be finite"),
        ({"weights": []}, ValueError, "at least one matrix"),
        ({"weights": "abc"}, TypeError, "weights must be a list"),
        ({"weights": [0.5, 0.48, -0.7], "sizes": [2, 1]}, ValueError, "do not match"),
        ({"weights": [0.5, 0.48, -0.7], "seed": 1}, ValueError, "either seed"),
        ({"weights": [0.5, 0.48, -0.7], "weight_scale": 0.1}, ValueError, "either seed"),
        ({"sizes": [3, 1], "weight_scale": 0}, ValueError, "weight_scale must be a finite"),
        ({}, TypeError, "needs sizes"),
    ],
)
def test_network_rejects_bad_construction(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gp.Network(**kwargs)


def test_divergence_raises_and_restores_weights(backend: str) -> None:
    net = gp.Network([3, 4, 1], seed=1, activation="linear")  # relu units could just die
    before = [w.copy() for w in net.weights]
    with pytest.raises(gp.DivergenceError, match="diverged in epoch") as info:
        net.fit(X, Y, alpha=100.0, epochs=50, backend=backend)
    assert isinstance(info.value, FloatingPointError)
    assert 0 <= info.value.epoch < 50
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))


def test_integer_inputs_are_converted_once(backend: str) -> None:
    a, b = _net(), _net()
    ea = a.fit(X, Y, alpha=0.1, epochs=3, backend=backend).errors
    eb = b.fit(X.astype(float), Y.ravel().astype(float), alpha=0.1, epochs=3, backend=backend)
    assert np.array_equal(ea, eb.errors)


def test_weights_are_owned_copies() -> None:
    start = np.array([0.5, 0.48, -0.7])
    net = gp.Network(weights=start)
    net.fit(X, Y, alpha=0.1, epochs=1)
    assert np.array_equal(start, [0.5, 0.48, -0.7])
    assert net.weights[0].flags.c_contiguous and not np.shares_memory(net.weights[0], start)


def test_weight_scale_scales_the_book_initialisation() -> None:
    book = gp.Network([3, 4, 1], seed=1)
    scaled = gp.Network([3, 4, 1], seed=1, weight_scale=0.1)
    rng = np.random.RandomState(1)
    for w_book, w_scaled in zip(book.weights, scaled.weights):
        expected = 2 * rng.random_sample(w_book.shape) - 1
        assert np.array_equal(w_book, expected)
        assert np.array_equal(w_scaled, 0.1 * expected)
