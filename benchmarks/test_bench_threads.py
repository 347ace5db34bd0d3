"""Two Python threads fitting two different networks at once, against one after the other.

The C++ loop (and numba's, ``nogil=True``) runs without the GIL, so on two free cores the two
fits overlap: ~2x the throughput. The results must not change (also checked in
tests/test_threads.py). Time this group on the wall clock, the default timer: a CPU-time
timer adds both threads' time up and cannot show the overlap (BENCHMARKS.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import grokprop as gp


def _second_start(w: Any) -> gp.Network:
    rng = np.random.RandomState(1)
    weights = [0.2 * rng.random_sample(a.shape) - 0.1 for a in w.weights]
    return gp.Network(weights=weights, dtype=w.dtype)


def _sequential(w: Any, nets: list[gp.Network], backend: str) -> list[gp.History]:
    return [w.fit(net, backend) for net in nets]


def _threaded(w: Any, nets: list[gp.Network], backend: str) -> list[gp.History]:
    results: list[Any] = [None] * len(nets)

    def fit(i: int) -> None:
        results[i] = w.fit(nets[i], backend)

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(len(nets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("how", ["sequential", "two_threads"])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_two_fits(benchmark: Any, backend: str, how: str, workloads: Callable[[str], Any]) -> None:
    benchmark.group = f"threads: two W3 float64 fits with {backend}, one after the other or at once"
    w = workloads("W3 float64")
    expected_nets = [w.network(), _second_start(w)]
    expected = _sequential(w, expected_nets, backend)  # also compiles numba before the timing
    run = _sequential if how == "sequential" else _threaded

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (w, [w.network(), _second_start(w)], backend), {}

    cpu_per_wall: list[float] = []

    def fits(w: Any, nets: list[gp.Network], backend: str) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run(w, nets, backend), nets
        cpu_per_wall.append((time.process_time() - cpu) / (time.perf_counter() - wall))
        return result

    histories, nets = benchmark.pedantic(fits, setup=setup, rounds=5)
    # how many cores the process kept busy: ~2 if the threads overlapped on two free cores
    benchmark.extra_info["cpu_time_per_wall_time"] = sorted(cpu_per_wall)[len(cpu_per_wall) // 2]
    for history, net, want, want_net in zip(histories, nets, expected, expected_nets):
        assert np.array_equal(history.errors, want.errors)
        for a, b in zip(net.weights, want_net.weights):
            assert np.array_equal(a, b)
