"""Progress bars for long fits and sweeps: the compiled code runs in chunks between updates.

Chunking cannot change a result. A fit runs in chunks of epochs: an epoch is one pass
over the rows in order, and each chunk continues from the weights the previous one left
in place, so the errors of the chunks, concatenated, are bit for bit those of one call.
A sweep runs in chunks of networks, which are independent of each other
(tests/test_progress.py).
Chunks grow until each takes about :data:`CHUNK_SECONDS`, so the extra Python calls cost
far less than 1% of a run long enough to show a bar (benchmarks/test_bench_progress.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO

import numpy as np

from ._typing import FloatArray
from ._weights import count_weights
from .backends import BackendInfo
from .backends._protocol import SweepArrays

__all__ = [
    "CHUNK_SECONDS",
    "LONG_RUN_SECONDS",
    "expected_fit_seconds",
    "run_in_chunks",
    "sweep_in_chunks",
    "wanted",
]

#: In auto mode (``progress=None``) a bar appears when a run is expected to take this long.
LONG_RUN_SECONDS = 1.0
#: Chunks grow until each takes about this long (tqdm redraws every 0.1 s anyway).
CHUNK_SECONDS = 0.1
#: Networks in a sweep's first chunk (later chunks are sized by time).
FIRST_SWEEP_CHUNK = 64


def expected_fit_seconds(
    backend: BackendInfo, sizes: tuple[int, ...], rows: int, epochs: int, batch_size: int
) -> float:
    """A rough estimate of how long ``epochs`` epochs of a fit take on ``backend``."""
    return backend.cost.fit_seconds(count_weights(sizes), rows, epochs, batch_size)


def wanted(progress: object, seconds: float) -> bool:
    """Whether to show a bar: ``progress`` if it is a bool, else (``None``: auto) whether
    a run expected to take ``seconds`` is long and stderr is a TTY."""
    if progress is None:
        return seconds >= LONG_RUN_SECONDS and _stderr_is_tty()
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None (auto), got {progress!r}")
    return bool(progress)


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def run_in_chunks(
    run: Callable[[int], FloatArray],
    epochs: int,
    *,
    desc: str,
    file: IO[str] | None = None,
) -> FloatArray:
    """Call ``run(n)`` (train ``n`` more epochs, return their errors) until ``epochs`` are done.

    Stops early, like one call would, after a chunk that ended with a non-finite error
    (``run`` returns fewer errors than asked, or its last error is inf/NaN).
    """
    from tqdm import tqdm

    if epochs == 0:
        return run(0)
    pieces: list[FloatArray] = []
    done, chunk = 0, 1
    with tqdm(total=epochs, desc=desc, unit="epoch", file=file, leave=False) as bar:
        while done < epochs:
            n = min(chunk, epochs - done)
            start = time.perf_counter()
            errors = run(n)
            elapsed = time.perf_counter() - start
            pieces.append(errors)
            done += len(errors)
            bar.update(len(errors))
            if len(errors) < n or not np.isfinite(errors[-1]):
                break  # diverged: the caller sees the short history, as without chunks
            # aim for CHUNK_SECONDS per chunk, growing at most 8x (early timings are noisy)
            target = n * CHUNK_SECONDS / elapsed if elapsed > 0 else 8 * n
            chunk = max(1, min(int(target), 8 * n))
    return np.concatenate(pieces)


def sweep_in_chunks(
    run: Callable[[slice], SweepArrays],
    n_networks: int,
    *,
    desc: str,
    file: IO[str] | None = None,
) -> SweepArrays:
    """Call ``run(networks)`` on consecutive slices of the ``n_networks`` networks, joined.

    The first chunk is small (:data:`FIRST_SWEEP_CHUNK` networks), later ones grow to about
    :data:`CHUNK_SECONDS` each — large enough for the lock-step kernels to fill their blocks
    and threads.
    """
    from tqdm import tqdm

    pieces: list[SweepArrays] = []
    done, chunk = 0, FIRST_SWEEP_CHUNK
    with tqdm(total=n_networks, desc=desc, unit="net", file=file, leave=False) as bar:
        while done < n_networks:
            n = min(chunk, n_networks - done)
            start = time.perf_counter()
            pieces.append(run(slice(done, done + n)))
            elapsed = time.perf_counter() - start
            done += n
            bar.update(n)
            target = n * CHUNK_SECONDS / elapsed if elapsed > 0 else 8 * n
            chunk = max(FIRST_SWEEP_CHUNK, min(int(target), 8 * n))
    return SweepArrays(
        final_errors=np.concatenate([p.final_errors for p in pieces]),
        diverged=np.concatenate([p.diverged for p in pieces]),
        curves=_join([p.curves for p in pieces]),
        weights=None
        if pieces[0].weights is None
        else [np.concatenate(layer) for layer in zip(*(p.weights or [] for p in pieces))],
    )


def _join(parts: list[FloatArray | None]) -> FloatArray | None:
    return None if parts[0] is None else np.concatenate([p for p in parts if p is not None])
