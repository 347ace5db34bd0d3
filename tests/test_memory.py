"""A fit's peak memory does not grow with its epochs (the workspace is allocated once).

tracemalloc sees every NumPy allocation, including the C++ loop's workspace (a NumPy array
owned by the binding); scripts/bench_memory.py measures the whole process (RSS) and counts
allocator calls under valgrind.
"""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import grokprop as gp


def _peak_bytes(backend: str, epochs: int, batch_size: int) -> int:
    """The peak of a fit's traced allocations, the fit run inline on a thread of its own.

    On the main thread a long fit (numpy's, here) trains in a worker thread while the main
    thread polls for Ctrl-C, and whatever a poll allocates would be counted at random
    moments; off the main thread the fit runs inline (grokprop._interrupt), and the main
    thread waits in a plain join, allocating nothing.
    """
    peaks: list[int] = []
    worker = threading.Thread(target=lambda: peaks.append(_traced_fit(backend, epochs, batch_size)))
    worker.start()
    worker.join()
    return peaks[0]


def _traced_fit(backend: str, epochs: int, batch_size: int) -> int:
    X, y = gp.datasets.random_onehot(200, 100, 10, seed=0)
    rng = np.random.RandomState(0)
    net = gp.Network(weights=[0.2 * rng.random_sample(s) - 0.1 for s in [(100, 40), (40, 10)]])
    # warm up with the same settings: the fit then reuses its spec, as the measured one does
    net.fit(X, y, alpha=0.005, epochs=epochs, batch_size=batch_size, backend=backend)
    # tracemalloc counts every thread's allocations: idle threads that earlier tests leave
    # (tqdm's monitor, Dask's offload and event-loop threads) must not run while the fit
    # holds the GIL, so the interpreter is asked not to hand it over meanwhile; a garbage
    # collection must not free or allocate in the middle either
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    gc.disable()
    tracemalloc.start()
    try:
        net.fit(X, y, alpha=0.005, epochs=epochs, batch_size=batch_size, backend=backend)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()
        sys.setswitchinterval(interval)


@pytest.mark.parametrize("batch_size", [1, 20])
def test_peak_memory_does_not_grow_with_epochs(backend: str, batch_size: int) -> None:
    # tracemalloc counts every thread's allocations, and earlier tests may leave idle ones
    # (tqdm's monitor, Dask's offload thread) that wake now and then: the least of three
    # measurements is the fit's own peak
    one = min(_peak_bytes(backend, 1, batch_size) for _ in range(3))
    many = min(_peak_bytes(backend, 6, batch_size) for _ in range(3))
    # the errors array grows by 5 float64 values; allow allocator rounding on top
    assert many - one <= 5 * 8 + 64, (one, many)
