"""W3 and W4: an MNIST-sized network [784, 128, 10] on random one-hot data, one epoch.

W3 is per-sample SGD on 2,000 rows, W4 mini-batches of 100 on 10,000 rows; each in float64
and float32, alpha 0.005, from the book's MNIST initialisation (benchmarks/conftest.py).
Each round trains a fresh copy of the starting network (made outside the timing) and the
result is checked: compiled backends bitwise against the NumPy reference, the book-style
loop and the reference against each other within a tolerance. The reference is slow
(seconds), so it runs once; its timed run is the session's cached reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grokprop.backends import BACKEND_NAMES

COMPILED = [name for name in BACKEND_NAMES if name != "numpy"]
WORKLOADS = ["W3 float64", "W3 float32", "W4 float64", "W4 float32"]
RTOL = {"float64": 1e-9, "float32": 2e-3}  # book-style np.dot loop vs the reference
ROUNDS = {"book": 3, "compiled": 5}


def _group(name: str) -> str:
    kind = "per-sample SGD, 2,000 rows" if name.startswith("W3") else "mini-batch 100, 10,000 rows"
    return f"{name}: {kind}"


@pytest.mark.parametrize("name", WORKLOADS)
def test_numpy_reference(
    benchmark: Any, name: str, workloads: Callable[[str], Any], bench: Any
) -> None:
    w = workloads(name)
    benchmark.group = _group(name)

    def fit(net: Any) -> Any:
        return w.fit(net, "numpy"), net

    history, net = benchmark.pedantic(fit, setup=lambda: ((w.network(),), {}), rounds=1)
    w.cache.setdefault("reference", (history.errors, net.weights))
    bench.close((history.errors, net.weights), bench.book_result(w), RTOL[w.dtype])


@pytest.mark.parametrize("name", WORKLOADS)
def test_book_loop(benchmark: Any, name: str, workloads: Callable[[str], Any], bench: Any) -> None:
    w = workloads(name)
    benchmark.group = _group(name)

    def train(weights: list[Any]) -> tuple[list[float], list[Any]]:
        return bench.book_train(w, weights), weights

    def fresh_weights() -> tuple[tuple[list[Any]], dict[str, Any]]:
        return ([a.astype(w.dtype) for a in w.weights],), {}

    result = benchmark.pedantic(train, setup=fresh_weights, rounds=ROUNDS["book"])
    bench.close(result, w.reference(), RTOL[w.dtype])


@pytest.mark.parametrize("backend", COMPILED)
@pytest.mark.parametrize("name", WORKLOADS)
def test_fit(
    benchmark: Any, name: str, backend: str, workloads: Callable[[str], Any], bench: Any
) -> None:
    w = workloads(name)
    benchmark.group = _group(name)
    w.fit(w.network(), backend)  # compile (numba) and fault in the data before timing

    def fit(net: Any) -> Any:
        return w.fit(net, backend), net

    history, net = benchmark.pedantic(
        fit, setup=lambda: ((w.network(),), {}), rounds=ROUNDS["compiled"]
    )
    bench.bitwise(history, net, w)
