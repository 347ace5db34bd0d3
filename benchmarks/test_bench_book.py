"""W1: the book network ([3, 4, 1], seed 1, alpha 0.2, 60 epochs x 4 rows, stochastic).

Run ``pytest benchmarks --benchmark-only`` and compare the medians *within one run*:
the baseline is the loop a reader writes from the book (``np.dot``), and every
benchmark asserts its result before it counts.
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends import BACKEND_NAMES

X, Y = gp.datasets.streetlights("nonlinear")
BOOK_ERRORS = [
    0.634231159844,
    0.358384076763,
    0.0830183113303,
    0.0064670549571,
    0.000329266900075,
    1.50556226651e-05,
]


def book_loop(X: np.ndarray, Y: np.ndarray, epochs: int = 60, alpha: float = 0.2) -> list[float]:
    """The chapter's program as a reader types it (the benchmark baseline)."""
    rng = np.random.RandomState(1)
    weights_0_1 = 2 * rng.random_sample((3, 4)) - 1
    weights_1_2 = 2 * rng.random_sample((4, 1)) - 1
    errors = []
    for _ in range(epochs):
        layer_2_error = 0.0
        for i in range(len(X)):
            layer_0 = X[i : i + 1]
            layer_1 = np.maximum(np.dot(layer_0, weights_0_1), 0)
            layer_2 = np.dot(layer_1, weights_1_2)
            layer_2_error += np.sum((layer_2 - Y[i : i + 1]) ** 2)
            layer_2_delta = layer_2 - Y[i : i + 1]
            layer_1_delta = layer_2_delta.dot(weights_1_2.T) * (layer_1 > 0)
            weights_1_2 -= alpha * layer_1.T.dot(layer_2_delta)
            weights_0_1 -= alpha * layer_0.T.dot(layer_1_delta)
        errors.append(layer_2_error)
    return errors


@pytest.mark.benchmark(group="W1 book network")
def test_w1_book_loop_numpy_blas(benchmark) -> None:
    Xf, Yf = X.astype(float), Y.astype(float)
    errors = benchmark(book_loop, Xf, Yf)
    np.testing.assert_allclose(errors[9::10], BOOK_ERRORS, rtol=1e-9)


@pytest.mark.benchmark(group="W1 book network")
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_w1_fit(benchmark, backend: str) -> None:
    start = gp.Network([3, 4, 1], seed=1)
    start.fit(X, Y, alpha=0.2, epochs=1, backend=backend)  # warm up (JIT compile)

    def fit() -> gp.History:
        return gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60, backend=backend)

    history = benchmark(fit)
    assert [f"{e:.12g}" for e in history.errors[9::10]] == [f"{e:.12g}" for e in BOOK_ERRORS]
