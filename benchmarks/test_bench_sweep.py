"""W2: the book network trained for many seeds ([3, 4, 1], alpha 0.2, 60 epochs, stochastic).

``gp.sweep`` trains every seed's network in compiled code, many networks in lock-step.
Each benchmark times one whole sweep; ``extra_info["networks"]`` says how many networks
it trained, so the time per network is the median divided by that. The baseline is the
book's loop for one network (W1's: 60 epochs of conftest.py's ``np.dot`` loop), timed in
the same run. Every benchmark checks a subset of its networks against the NumPy reference, bit
for bit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import grokprop as gp

GROUP = "W2 seed sweep"
X, Y = gp.datasets.streetlights("nonlinear")
SIZES, ALPHA, EPOCHS = [3, 4, 1], 0.2, 60
SEEDS = range(10_000)
CHECKED = [0, 1, 2, 3, 1234, 5000, 8191, 9998, 9999]  # first block, middle, the ragged end
ALL_THREADS = os.cpu_count() or 1


def _reference_errors(seeds: list[int]) -> np.ndarray:
    """Each network trained alone by Network.fit on the NumPy reference."""
    return np.array(
        [
            gp.Network(SIZES, seed=s)
            .fit(X, Y, alpha=ALPHA, epochs=EPOCHS, backend="numpy")
            .errors[-1]
            for s in seeds
        ]
    )


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return _reference_errors(CHECKED)


def _sweep(backend: str, seeds: range | list[int], threads: int | None) -> gp.SweepResult:
    return gp.sweep(
        SIZES, X, Y, seeds=seeds, alphas=ALPHA, epochs=EPOCHS, backend=backend, threads=threads
    )


@pytest.mark.benchmark(group=GROUP)
def test_w2_book_loop_numpy_blas(
    benchmark: Any, workloads: Callable[[str], Any], bench: Any
) -> None:
    """The baseline: one network's 60 epochs by the book's loop (np.dot), timed as W1 does."""
    w = workloads("W1")  # the same network, data, alpha and epochs
    weights = [x.copy() for x in w.weights]  # a fresh network (W1's cached one trains on)
    errors = bench.book_train(w, weights)  # checked against the reference
    bench.close((errors, weights), w.reference(), rtol=1e-9)

    def sixty_epochs() -> float:
        for _ in range(w.epochs):
            error = bench.book_sgd_epoch(w.X, w.y, *weights, w.alpha)
        return error

    benchmark.extra_info["networks"] = 1
    benchmark(sixty_epochs)


@pytest.mark.benchmark(group=GROUP)
def test_w2_sweep_numpy_reference(benchmark, reference: np.ndarray) -> None:
    """The reference backend: one network after the other (few seeds; per network)."""
    seeds = CHECKED[:4]
    benchmark.extra_info["networks"] = len(seeds)
    result = benchmark(_sweep, "numpy", seeds, 1)
    assert np.array_equal(result.final_errors, reference[:4])


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("threads", [1, ALL_THREADS], ids=["1-thread", "all-threads"])
def test_w2_sweep_compiled(benchmark, reference: np.ndarray, backend: str, threads: int) -> None:
    """10,000 book networks in lock-step; a subset equals Network.fit bit for bit."""
    _sweep(backend, range(100), threads)  # warm up (JIT compile)
    benchmark.extra_info["networks"] = len(SEEDS)
    benchmark.extra_info["threads"] = threads
    result = benchmark(_sweep, backend, SEEDS, threads)
    assert len(result) == len(SEEDS) and not result.diverged.any()
    assert np.array_equal(result.final_errors[CHECKED], reference)
