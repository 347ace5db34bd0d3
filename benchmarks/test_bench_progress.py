"""P1: what a progress bar costs.

* ``long``: one long fit of the book network (1,000,000 epochs of 4 rows) with and without
  a bar. The bar runs the fused loop in chunks of about 0.1 s; the target is < 2% overhead.
  Tiny epochs (~0.2 µs) are the worst case for chunking: every chunk boundary costs a
  Python call and the errors are concatenated at the end.
* ``book``: the 60-epoch book fit with ``progress=None`` (the default: decide
  automatically) vs ``progress=False``: the cost of deciding on the fast path.

Compare medians within one group (``--benchmark-group-by=group``).
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp

X, Y = gp.datasets.streetlights("nonlinear")
LONG_EPOCHS = 1_000_000


@pytest.mark.parametrize("progress", [False, True], ids=["no-bar", "bar"])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_long_fit(benchmark, backend: str, progress: bool) -> None:
    benchmark.group = f"progress-long-{backend}"
    reference = gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60, backend=backend)

    def fit() -> gp.History:
        net = gp.Network([3, 4, 1], seed=1)
        return net.fit(X, Y, alpha=0.2, epochs=LONG_EPOCHS, backend=backend, progress=progress)

    history = benchmark.pedantic(fit, rounds=9, iterations=1, warmup_rounds=1)
    assert len(history.errors) == LONG_EPOCHS
    assert np.array_equal(history.errors[:60], reference.errors)


@pytest.mark.parametrize("progress", [False, None], ids=["off", "auto"])
def test_book_fit_decision_cost(benchmark, progress: bool | None) -> None:
    benchmark.group = "progress-book-fit"
    net = gp.Network([3, 4, 1], seed=1)
    start = [w.copy() for w in net.weights]

    def fit() -> gp.History:
        for w, w0 in zip(net.weights, start):
            w[...] = w0
        return net.fit(X, Y, alpha=0.2, epochs=60, backend="cpp", progress=progress)

    history = benchmark(fit)
    assert f"{history.final_error:.12g}" == "1.50556226651e-05"
