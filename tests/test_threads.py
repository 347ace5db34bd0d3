"""Threads: parallel fits are exact, a shared network is serialized, selection stays put.

The compiled loops release the GIL (cpp: ``gil_scoped_release``; numba: ``nogil=True``),
so fits really run at the same time. Decision (README, "Threads"): each network has a
lock that ``fit``, ``step``, ``forward``/``predict`` and ``copy`` hold, so calls on one
network from several threads are serialized -- whole calls one after the other, never
interleaved updates -- while different networks train in parallel.
"""

from __future__ import annotations

import asyncio
import copy
import pickle
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import grokprop as gp

X, Y = gp.datasets.random_onehot(32, 8, 3, seed=11)
SIZES = [8, 48, 3]
THREADS = 4


def _bits(net: gp.Network) -> list[bytes]:
    return [w.tobytes() for w in net.weights]


def _together(work: Callable[[int], object], n: int = THREADS) -> list[object]:
    """Run work(0..n-1) in n threads released at once; re-raise the first failure."""
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        return [f.result() for f in futures]


def _epochs(backend: str) -> int:
    return 3 if backend == "numpy" else 60  # the reference is ~100x slower


def test_fits_of_different_networks_in_threads_equal_sequential_fits(backend: str) -> None:
    epochs = _epochs(backend)

    def fit(seed: int) -> tuple[bytes, list[bytes]]:
        net = gp.Network(SIZES, seed=seed)
        errors = net.fit(X, Y, alpha=0.05, epochs=epochs, batch_size=4, backend=backend).errors
        return errors.tobytes(), _bits(net)

    sequential = [fit(seed) for seed in range(THREADS)]
    assert _together(fit) == sequential


@pytest.mark.parametrize("method", ["fit", "step"])
def test_one_network_fitted_from_several_threads_is_serialized(backend: str, method: str) -> None:
    # every call is the same, so any serial order gives the same bits as calling it
    # THREADS * calls times in a row; interleaved (torn) updates would not
    calls, epochs = 3, _epochs(backend)

    def train(net: gp.Network) -> None:
        if method == "fit":
            net.fit(X, Y, alpha=0.02, epochs=epochs, backend=backend)
        else:
            net.step(X, Y, alpha=0.02, backend=backend)

    expected = gp.Network(SIZES, seed=5)
    for _ in range(THREADS * calls):
        train(expected)
    shared = gp.Network(SIZES, seed=5)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between the Python calls a step makes
    try:
        _together(lambda i: [train(shared) for _ in range(calls)])
    finally:
        sys.setswitchinterval(interval)
    assert _bits(shared) == _bits(expected)


def test_predict_during_fit_sees_whole_fits_only(backend: str) -> None:
    net = gp.Network(SIZES, seed=2)
    states = [net.copy()]  # the weights after each whole fit
    seen: list[bytes] = []
    stop = threading.Event()

    def trainer() -> None:
        for _ in range(8):
            count = len(seen)
            net.fit(X, Y, alpha=0.05, epochs=_epochs(backend), backend=backend)
            states.append(net.copy())
            # the lock is not fair: let the reader in before the next fit
            deadline = time.monotonic() + 10
            while len(seen) == count and time.monotonic() < deadline:
                time.sleep(1e-4)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            seen.append(net.predict(X, backend=backend).tobytes())

    threads = [threading.Thread(target=trainer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    whole = {state.predict(X, backend=backend).tobytes() for state in states}
    assert len(seen) >= 8 and set(seen) <= whole


def test_a_network_with_its_lock_still_copies_and_pickles() -> None:
    net = gp.Network(SIZES, seed=3)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net)), copy.copy(net)):
        assert _bits(clone) == _bits(net)
        clone.fit(X, Y, alpha=0.05, epochs=1)  # has a working lock of its own
    assert copy.deepcopy(net)._lock is not net._lock


# --------------------------------------------------------------------------- backend selection


def test_set_backend_is_process_wide() -> None:
    thread = threading.Thread(target=gp.set_backend, args=("numpy",))
    thread.start()
    thread.join()
    assert gp.get_backend() == "numpy"  # set in another thread, seen here


def test_use_backend_in_concurrent_threads_stays_in_each_thread() -> None:
    names = ["numpy", "cpp", "numpy", "cpp"]  # backends every installation has
    gp.set_backend("cpp")

    def fit_inside(i: int) -> tuple[str, str]:
        with gp.use_backend(names[i]):
            used = gp.Network([3, 1], seed=i).fit(X[:, :3], Y[:, :1], alpha=0.1, epochs=2)
            return used.backend, gp.get_backend()

    assert _together(fit_inside) == [(name, name) for name in names]
    assert gp.get_backend() == "cpp"  # no block leaked into the process-wide choice


def test_use_backend_is_per_async_task() -> None:
    async def task(name: str, started: asyncio.Event, other: asyncio.Event) -> str:
        with gp.use_backend(name):
            started.set()
            await other.wait()  # the other task is inside its own block now
            return gp.get_backend()

    async def main() -> list[str]:
        a, b = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(task("numpy", a, b), task("cpp", b, a)))

    assert asyncio.run(main()) == ["numpy", "cpp"]
    assert gp.get_backend() == "cpp"


def test_result_is_independent_of_the_thread_that_computes_it() -> None:
    # the per-thread floating-point state (rounding, flush-to-zero) is the default everywhere
    subnormal = np.nextafter(0.0, 1.0) * 1e3

    def fit(_: int) -> bytes:
        net = gp.Network(weights=[np.full((3, 1), subnormal)])
        return net.fit(X[:, :3] * subnormal, Y[:, :1], alpha=0.5, epochs=2).errors.tobytes()

    assert set(_together(fit)) == {fit(0)}
