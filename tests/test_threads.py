"""Fits in two Python threads at once give exactly the results of fits one after the other.

The compiled loops run without the GIL (SPEC §5) and share nothing but the read-only data;
each network's weights and workspace are its own.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import grokprop as gp


@pytest.mark.parametrize("batch_size", [1, 10])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
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
