"""What a progress bar costs a long fit, measured two ways.

    python benchmarks/progress_overhead.py [--repeats 15]

1. End to end: the same fit with ``progress=False`` and ``progress=True`` alternately (so
   drifting machine load hits both alike): the median of each and of the paired ratios.
   On a loaded machine this is noisy at the percent level.
2. Decomposed, which load hardly disturbs: inside a fit with a bar, the time the chunk
   loop spends outside the compiled chunks (tqdm, growing the chunks, joining the errors)
   plus each extra chunk's call into the backend (priced as a whole 0-epoch fit, an upper
   bound), as a fraction of the fit.

The bar draws to an in-memory stream here; a terminal costs the same (tqdm redraws at
most every 0.1 s). Every run is checked to give the same bits.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr

import numpy as np

import grokprop as gp
from grokprop import _progress

CASES = {
    # name: (sizes, rows, epochs, batch_size) -- tiny epochs are the worst case for chunking
    "book net, 1,000,000 epochs": ((3, 4, 1), None, 1_000_000, 1),
    "[784, 128, 10], 100 rows, 60 epochs": ((784, 128, 10), 100, 60, 1),
}


def data(sizes: tuple[int, ...], rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    if rows is None:
        return gp.datasets.streetlights("nonlinear")
    return gp.datasets.random_onehot(rows, sizes[0], sizes[-1], seed=0)


def timed_fit(
    sizes: tuple[int, ...], X: np.ndarray, y: np.ndarray, epochs: int, batch: int, **kw: object
) -> tuple[float, np.ndarray]:
    net = gp.Network(sizes, seed=1)
    start = time.perf_counter()
    history = net.fit(X, y, alpha=0.01, epochs=epochs, batch_size=batch, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - start, history.errors


def decomposed_overhead(
    sizes: tuple[int, ...], X: np.ndarray, y: np.ndarray, epochs: int, batch: int, backend: str
) -> tuple[float, int]:
    """(overhead / fit time, number of chunks) of one fit with a bar."""
    inside: list[float] = []  # each chunk's time in the backend
    around: list[float] = []  # the whole of run_in_chunks
    original = _progress.run_in_chunks

    def timed_chunks(run: Callable[[int], np.ndarray], n: int, **kw: object) -> np.ndarray:
        def timed_run(k: int) -> np.ndarray:
            start = time.perf_counter()
            errors = run(k)
            inside.append(time.perf_counter() - start)
            return errors

        start = time.perf_counter()
        errors = original(timed_run, n, **kw)  # type: ignore[arg-type]
        around.append(time.perf_counter() - start)
        return errors

    _progress.run_in_chunks = timed_chunks  # type: ignore[assignment]
    try:
        with redirect_stderr(io.StringIO()):
            total, _ = timed_fit(sizes, X, y, epochs, batch, backend=backend, progress=True)
    finally:
        _progress.run_in_chunks = original  # type: ignore[assignment]
    per_call = min(timed_fit(sizes, X, y, 0, batch, backend=backend)[0] for _ in range(200))
    # the fit's own validation and checks are the same with or without a bar: not counted
    overhead = (around[0] - sum(inside)) + (len(inside) - 1) * per_call
    return overhead / total, len(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--backends", default="cpp,numba")
    options = parser.parse_args()
    for backend in options.backends.split(","):
        for name, (sizes, rows, epochs, batch) in CASES.items():
            X, y = data(sizes, rows)
            _, reference = timed_fit(sizes, X, y, epochs, batch, backend=backend)  # and warm up
            plain: list[float] = []
            bar: list[float] = []
            for i in range(options.repeats):
                for progress in (False, True) if i % 2 else (True, False):
                    with redirect_stderr(io.StringIO()):
                        seconds, errors = timed_fit(
                            sizes, X, y, epochs, batch, backend=backend, progress=progress
                        )
                    (bar if progress else plain).append(seconds)
                    assert np.array_equal(errors, reference)
            ratios = [b / p for b, p in zip(bar, plain)]
            decomposed = [
                decomposed_overhead(sizes, X, y, epochs, batch, backend) for _ in range(5)
            ]
            fraction = statistics.median(f for f, _ in decomposed)
            print(
                f"{backend:6} {name:38} no bar {statistics.median(plain):6.3f} s  "
                f"bar {statistics.median(bar):6.3f} s  paired ratio "
                f"{100 * (statistics.median(ratios) - 1):+.2f}%  decomposed "
                f"{100 * fraction:.3f}% ({decomposed[0][1]} chunks)"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
