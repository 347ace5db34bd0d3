"""The cost of sigmoid and tanh (grokprop's own exp) against relu, on the cpp backend.

Three groups, each timing relu and the new activations in one run so that their ratio is
taken under the same load: W1 (the book's [3, 4, 1] fit, 60 epochs of 4 rows, stochastic),
W3 (one epoch of per-sample SGD on [784, 128, 10], 2,000 rows, float64) and the W2 sweep
(10,000 book networks [3, 4, 1], 60 epochs, one thread). Every benchmark first checks its
result bit for bit against the NumPy reference (W3: on its first 20 rows; the sweep: on a
few seeds), then times. Targets (issue 12): W1 sigmoid within 2x of relu, W3 sigmoid within
2x, the sweep with tanh within 2.5x.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import grokprop as gp

ACTIVATIONS = ["relu", "sigmoid", "tanh"]
X4, Y4 = gp.datasets.streetlights("nonlinear")


@pytest.mark.benchmark(group="activations: W1 book network fit (cpp)")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_w1_fit_activation(benchmark: Any, activation: str) -> None:
    def fit(backend: str) -> tuple[gp.Network, gp.History]:
        net = gp.Network([3, 4, 1], seed=1, activation=activation)
        return net, net.fit(X4, Y4, alpha=0.2, epochs=60, backend=backend)

    (want_net, want), (got_net, got) = fit("numpy"), fit("cpp")
    assert np.array_equal(got.errors, want.errors)
    assert all(map(np.array_equal, got_net.weights, want_net.weights))
    net = gp.Network([3, 4, 1], seed=1, activation=activation)
    benchmark(net.fit, X4, Y4, alpha=0.2, epochs=60, backend="cpp")


@pytest.mark.benchmark(group="activations: W3 784-128-10 per-sample, 2,000 rows (cpp)")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_w3_fit_activation(
    benchmark: Any, activation: str, workloads: Callable[[str], Any]
) -> None:
    w = workloads("W3 float64")

    def network() -> gp.Network:
        return gp.Network(weights=list(w.weights), activation=activation, dtype=w.dtype)

    def fit(net: gp.Network, rows: int, backend: str) -> gp.History:
        return net.fit(w.X[:rows], w.y[:rows], alpha=w.alpha, epochs=1, backend=backend)

    nets = {backend: network() for backend in ("numpy", "cpp")}
    histories = {backend: fit(net, 20, backend) for backend, net in nets.items()}
    assert np.array_equal(histories["cpp"].errors, histories["numpy"].errors)
    assert all(map(np.array_equal, nets["cpp"].weights, nets["numpy"].weights))

    def timed(net: gp.Network) -> gp.History:
        return fit(net, w.X.shape[0], "cpp")

    benchmark.pedantic(timed, setup=lambda: ((network(),), {}), rounds=5)


@pytest.mark.benchmark(group="activations: sweep of 10,000 book networks, 1 thread (cpp)")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_sweep_activation(benchmark: Any, activation: str) -> None:
    def run() -> gp.SweepResult:
        return gp.sweep(
            [3, 4, 1], X4, Y4, seeds=range(10_000), alphas=0.2, epochs=60,
            activation=activation, backend="cpp", threads=1,
        )  # fmt: skip

    result = run()
    for seed in (0, 1, 9999):
        alone = gp.Network([3, 4, 1], seed=seed, activation=activation)
        history = alone.fit(X4, Y4, alpha=0.2, epochs=60, backend="numpy")
        assert result.final_errors[seed] == history.final_error
    benchmark.extra_info["networks"] = 10_000
    benchmark.pedantic(run, rounds=3)
