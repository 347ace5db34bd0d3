"""Fits in two Python threads at once give exactly the results of fits one after the other.

The compiled loops run without the GIL (docs/design.md, "The C++ core") and share nothing
but the read-only data; each network's weights and workspace are its own.
"""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends import resolve
from grokprop.specs import Activation, TrainSpec


@pytest.mark.parametrize("batch_size", [1, 10])
@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=pytest.mark.backends(n)) for n in ("cpp", "numba")]
)
def test_two_threads_fit_like_one_after_the_other(backend: str, batch_size: int) -> None:
    X, y = gp.datasets.random_onehot(300, 64, 10, seed=2)
    starts = [gp.Network([64, 48, 10], seed=seed, activation="relu") for seed in (3, 4, 5, 6)]
    for net in starts:  # a smaller start keeps the training from diverging
        for w in net.weights:
            w *= 0.1

    def fit(net: gp.Network) -> gp.History:
        return net.fit(X, y, alpha=0.01, epochs=3, batch_size=batch_size, backend=backend)

    alone = [net.copy() for net in starts]
    expected = [fit(net) for net in alone]

    together = [net.copy() for net in starts]
    results: list[gp.History | None] = [None] * len(together)

    def run(i: int) -> None:
        results[i] = fit(together[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(together))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for history, want, net, want_net in zip(results, expected, together, alone):
        assert history is not None
        assert np.array_equal(history.errors, want.errors)
        for a, b in zip(net.weights, want_net.weights):
            assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "backend", [pytest.param(n, marks=pytest.mark.backends(n)) for n in ("cpp", "numba")]
)
def test_the_training_loop_releases_the_gil(backend: str) -> None:
    """While a thread is inside the compiled loop, another thread keeps running Python.

    The backend's own ``train`` is called (nearly all of its time is the loop) while a
    second thread counts and notes the time every 1,000 counts. Were the GIL held for the
    loop, the counting would stop for all of it (the interpreter can switch threads only
    before and after the call): the longest pause would be most of the call.
    """
    engine = resolve(backend)
    X, y = gp.datasets.random_onehot(2000, 256, 10, seed=0)
    rng = np.random.RandomState(0)
    weights = [0.1 * rng.random_sample(s) - 0.05 for s in [(256, 256), (256, 10)]]
    # compile (numba) with a one-epoch run first
    engine.train([w.copy() for w in weights], X[:10], y[:10], TrainSpec(0.001, 1, 1))
    started, done = threading.Event(), threading.Event()
    ticks: list[float] = []

    def count() -> None:
        started.set()
        n = 0
        while not done.is_set():
            n += 1
            if n % 1000 == 0:
                ticks.append(time.perf_counter())

    counter = threading.Thread(target=count)
    counter.start()
    started.wait()
    try:
        begin = time.perf_counter()
        engine.train(weights, X, y, TrainSpec(0.001, 12, 1, Activation.RELU))
        end = time.perf_counter()
    finally:
        done.set()
        counter.join()
    during = [begin, *(t for t in ticks if begin < t < end), end]
    longest_pause = max(b - a for a, b in itertools.pairwise(during))
    assert longest_pause < 0.5 * (end - begin), (longest_pause, end - begin)
