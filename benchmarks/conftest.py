"""Shared pieces of the benchmark suite: workloads, the book-style loops, the reference cache.

Run ``pytest benchmarks --benchmark-only`` (see BENCHMARKS.md for the exact commands) and
compare medians *within one run*; ``scripts/bench_report.py`` turns the JSON into the table.
Every benchmark asserts its result: compiled backends bitwise against the NumPy reference
(computed once per session and cached), the book-style ``np.dot`` loops within a relative
tolerance (BLAS may fuse and block its sums; docs/design.md, "Evaluation order").

BLAS runs on one thread in every benchmark (the targets compare single-thread speed).
"""

from __future__ import annotations

import itertools
import os
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import grokprop as gp
from grokprop import _core


@pytest.fixture(scope="session", autouse=True)
def _single_thread_blas() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """What BENCHMARKS.md needs to say about the machine, recorded in the JSON."""
    model = platform.processor()
    if sys.platform.startswith("linux"):
        with Path("/proc/cpuinfo").open() as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                model,
            )
    with threadpool_limits(limits=1):
        blas = [
            {
                key: info.get(key)
                for key in ("internal_api", "version", "architecture", "num_threads")
            }
            for info in threadpool_info()
        ]
    machine_info["grokprop"] = {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "compiler": _core.build_info()["compiler"],
        "simd_built": _core.build_info()["simd_built"],
        "simd_used": _core.get_simd(),
        "numpy": np.__version__,
        "blas": blas,
        "openblas_env": {
            name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        },
    }


# --------------------------------------------------------------------------- workloads


@dataclass(frozen=True)
class Workload:
    """One benchmark problem: data, starting weights and the training settings."""

    name: str
    X: np.ndarray
    y: np.ndarray
    weights: tuple[np.ndarray, ...]
    alpha: float
    epochs: int
    batch_size: int
    dtype: str = "float64"
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def network(self) -> gp.Network:
        return gp.Network(weights=list(self.weights), dtype=self.dtype)

    def fit(self, net: gp.Network, backend: str) -> gp.History:
        return net.fit(
            self.X,
            self.y,
            alpha=self.alpha,
            epochs=self.epochs,
            batch_size=self.batch_size,
            backend=backend,
        )

    def reference(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The NumPy reference's errors and final weights (computed once, then cached)."""
        if "reference" not in self.cache:
            net = self.network()
            self.cache["reference"] = (self.fit(net, "numpy").errors, net.weights)
        result: tuple[np.ndarray, list[np.ndarray]] = self.cache["reference"]
        return result


def book_init(sizes: list[int], seed: int) -> tuple[np.ndarray, ...]:
    """The chapter's initialisation, W = 2 * random - 1, layer by layer."""
    rng = np.random.RandomState(seed)
    return tuple(2 * rng.random_sample((a, b)) - 1 for a, b in itertools.pairwise(sizes))


def mnist_init(sizes: list[int], seed: int) -> tuple[np.ndarray, ...]:
    """The book's initialisation for its MNIST networks (chapter 8): 0.2 * random - 0.1.

    With the chapter-6 range [-1, 1) a 784-input network on [0, 1) inputs diverges at
    alpha 0.005 (float32 to NaN), so W3/W4 start here instead.
    """
    rng = np.random.RandomState(seed)
    return tuple(0.2 * rng.random_sample((a, b)) - 0.1 for a, b in itertools.pairwise(sizes))


def _w1() -> Workload:
    X, y = gp.datasets.streetlights("nonlinear")  # int arrays, as in the book
    return Workload("W1", X, y, book_init([3, 4, 1], 1), alpha=0.2, epochs=60, batch_size=1)


def _w3(dtype: str) -> Workload:
    X, y = gp.datasets.random_onehot(2000, 784, 10, seed=0)
    X, y = X.astype(dtype), y.astype(dtype)
    weights = mnist_init([784, 128, 10], 0)
    return Workload(f"W3 {dtype}", X, y, weights, 0.005, 1, 1, dtype)


def _w4(dtype: str) -> Workload:
    X, y = gp.datasets.random_onehot(10000, 784, 10, seed=0)
    X, y = X.astype(dtype), y.astype(dtype)
    weights = mnist_init([784, 128, 10], 0)
    return Workload(f"W4 {dtype}", X, y, weights, 0.005, 1, 100, dtype)


_WORKLOADS: dict[str, Callable[[], Workload]] = {
    "W1": _w1,
    "W3 float64": lambda: _w3("float64"),
    "W3 float32": lambda: _w3("float32"),
    "W4 float64": lambda: _w4("float64"),
    "W4 float32": lambda: _w4("float32"),
}


@pytest.fixture(scope="session")
def workloads() -> Callable[[str], Workload]:
    """``workloads(name)``: the session's one instance of each workload (with its cache)."""
    made: dict[str, Workload] = {}

    def get(name: str) -> Workload:
        if name not in made:
            made[name] = _WORKLOADS[name]()
        return made[name]

    return get


# --------------------------------------------------------------------------- book-style loops
#
# What a reader types from the book, with its np.dot: the baseline every ratio is taken to.
# They update the weights in place and return the epoch's error.


def relu(x: np.ndarray) -> np.ndarray:
    return (x > 0) * x


def relu2deriv(output: np.ndarray) -> np.ndarray:
    return output > 0


def book_sgd_epoch(
    X: np.ndarray, y: np.ndarray, weights_0_1: np.ndarray, weights_1_2: np.ndarray, alpha: float
) -> float:
    """One epoch of chapter 6's "putting it all together" program."""
    layer_2_error = 0.0
    for i in range(len(X)):
        layer_0 = X[i : i + 1]
        layer_1 = relu(np.dot(layer_0, weights_0_1))
        layer_2 = np.dot(layer_1, weights_1_2)
        layer_2_error += np.sum((layer_2 - y[i : i + 1]) ** 2)
        layer_2_delta = y[i : i + 1] - layer_2
        layer_1_delta = layer_2_delta.dot(weights_1_2.T) * relu2deriv(layer_1)
        weights_1_2 += alpha * layer_1.T.dot(layer_2_delta)
        weights_0_1 += alpha * layer_0.T.dot(layer_1_delta)
    return float(layer_2_error)


def book_minibatch_epoch(
    X: np.ndarray,
    y: np.ndarray,
    weights_0_1: np.ndarray,
    weights_1_2: np.ndarray,
    alpha: float,
    batch_size: int,
) -> float:
    """One epoch of the book's mini-batch loop (chapter 8): the delta divided by the batch."""
    error = 0.0
    for start in range(0, len(X), batch_size):
        layer_0 = X[start : start + batch_size]
        goal = y[start : start + batch_size]
        layer_1 = relu(np.dot(layer_0, weights_0_1))
        layer_2 = np.dot(layer_1, weights_1_2)
        error += np.sum((goal - layer_2) ** 2)
        layer_2_delta = (goal - layer_2) / len(layer_0)
        layer_1_delta = layer_2_delta.dot(weights_1_2.T) * relu2deriv(layer_1)
        weights_1_2 += alpha * layer_1.T.dot(layer_2_delta)
        weights_0_1 += alpha * layer_0.T.dot(layer_1_delta)
    return float(error)


def book_train(workload: Workload, weights: list[np.ndarray]) -> list[float]:
    """The workload's training with the book-style loop; updates ``weights`` in place."""
    alpha = weights[0].dtype.type(workload.alpha)
    errors = []
    for _ in range(workload.epochs):
        if workload.batch_size == 1:
            errors.append(book_sgd_epoch(workload.X, workload.y, *weights, alpha))
        else:
            errors.append(
                book_minibatch_epoch(workload.X, workload.y, *weights, alpha, workload.batch_size)
            )
    return errors


def book_result(workload: Workload) -> tuple[list[float], list[np.ndarray]]:
    """The book-style loop's errors and weights for the workload (computed once, cached)."""
    if "book" not in workload.cache:
        weights = [w.astype(workload.dtype) for w in workload.weights]
        workload.cache["book"] = (book_train(workload, weights), weights)
    result: tuple[list[float], list[np.ndarray]] = workload.cache["book"]
    return result


def assert_close(
    got: tuple[Any, list[np.ndarray]], want: tuple[Any, list[np.ndarray]], rtol: float
) -> None:
    """A book-style result against the reference: near, not bitwise (BLAS; docs/design.md, "Evaluation order")."""
    np.testing.assert_allclose(np.asarray(got[0]), np.asarray(want[0]), rtol=rtol)
    for w, ref in zip(got[1], want[1]):
        np.testing.assert_allclose(w, ref, rtol=rtol, atol=rtol * float(np.abs(ref).max()))


def assert_bitwise(history: gp.History, net: gp.Network, workload: Workload) -> None:
    """A compiled backend's result against the reference: every bit."""
    ref_errors, ref_weights = workload.reference()
    assert history.errors.dtype == ref_errors.dtype
    assert np.array_equal(history.errors, ref_errors)
    for w, ref in zip(net.weights, ref_weights):
        assert np.array_equal(w, ref)


@pytest.fixture(scope="session")
def bench() -> Any:
    """The helpers above, as a namespace (benchmark modules cannot import each other)."""

    class Helpers:
        book_sgd_epoch = staticmethod(book_sgd_epoch)
        book_train = staticmethod(book_train)
        book_result = staticmethod(book_result)
        close = staticmethod(assert_close)
        bitwise = staticmethod(assert_bitwise)

    return Helpers
