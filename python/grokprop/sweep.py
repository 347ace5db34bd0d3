"""Train many book networks at once: every seed × every learning rate (docs/design.md,
"Sweeps").

:func:`sweep` trains ``len(seeds) * len(alphas)`` networks of one shape on one dataset and
returns a :class:`SweepResult`. Each network is bit for bit the network
``Network(sizes, seed=s, activation=..., dtype=...).fit(X, y, alpha=a, ...)`` would give:
the compiled backends train blocks of networks in lock-step (SIMD across networks), but
every network's own operations keep the evaluation order of docs/design.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _interrupt, _progress
from . import _validation as check
from ._typing import FloatArray
from ._weights import count_weights
from .backends import backend_info, resolve
from .backends._protocol import SweepArrays
from .specs import Activation, SweepSpec, as_float_dtype

__all__ = ["MAX_THREADS", "SweepResult", "sweep"]

#: More threads than this are never started (``threads`` is a hint).
MAX_THREADS = 256
#: Networks a compiled sweep trains side by side per thread, at most (a memory estimate).
_LANES_PER_THREAD = 64


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: no generated ==
class SweepResult:
    """The outcome of :func:`sweep`: one entry per network, seeds outer, alphas inner.

    Network ``i`` started from the book initialisation of ``seeds[i]`` and trained with
    ``alphas[i]``. For a network that did not diverge, ``final_errors[i]``, ``curves[i]``
    and ``weights[l][i]`` equal what :meth:`grokprop.Network.fit` gives, bit for bit.
    A diverged network (an epoch error or a final weight became inf/NaN) stopped updating
    after the epoch whose error was not finite: its curve is NaN after that epoch, its
    final error is that epoch's error and its weights are those it had then. Sweeps do
    not raise on divergence; look at ``diverged``.
    """

    sizes: tuple[int, ...]
    activation: str
    dtype: np.dtype[np.floating]
    epochs: int
    batch_size: int
    """The batch size used (``None`` was resolved to the number of rows)."""
    backend: str
    seeds: NDArray[np.int64]
    """``(n,)`` each network's seed."""
    alphas: NDArray[np.float64]
    """``(n,)`` each network's learning rate (as given; training rounds it to ``dtype``)."""
    final_errors: FloatArray
    """``(n,)`` the last epoch's error (``nan`` when ``epochs == 0``)."""
    diverged: NDArray[np.bool_]
    """``(n,)`` whether the network diverged."""
    curves: FloatArray | None
    """``(n, epochs)`` every epoch's error, or ``None`` unless ``curves=True``."""
    weights: list[FloatArray] | None
    """Per layer an ``(n, n_l, n_{l+1})`` array of final weights, or ``None`` unless asked."""

    def __len__(self) -> int:
        return len(self.seeds)

    def converged(self, threshold: float) -> NDArray[np.bool_]:
        """``(n,)``: not diverged and the final error below ``threshold``."""
        return ~self.diverged & (self.final_errors < threshold)

    def to_dict(self) -> dict[str, NDArray[Any]]:
        """Tidy columns, one row per network: ``seed``, ``alpha``, ``final_error``, ``diverged``.

        ``pandas.DataFrame(result.to_dict())`` makes a table of it.
        """
        return {
            "seed": self.seeds,
            "alpha": self.alphas,
            "final_error": self.final_errors,
            "diverged": self.diverged,
        }

    # display: the logic lives in grokprop._display
    def __repr__(self) -> str:
        from . import _display

        return _display.sweep_repr(self)

    def _repr_html_(self) -> str:
        from . import _display

        return _display.sweep_html(self)


def sweep(
    sizes: Iterable[int],
    X: ArrayLike,
    y: ArrayLike,
    *,
    seeds: int | Iterable[int],
    alphas: float | Iterable[float] = 0.1,
    epochs: int,
    activation: str = "relu",
    batch_size: int | None = 1,
    dtype: Any = "float64",
    backend: str | None = None,
    curves: bool = False,
    weights: bool = False,
    threads: int | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Train a network of layer ``sizes`` for every seed and every learning rate.

    Parameters
    ----------
    sizes, activation, dtype
        The networks, as for :class:`grokprop.Network`.
    X, y
        The rows and targets every network trains on, as for :meth:`grokprop.Network.fit`.
    seeds
        One seed or several, integers in ``[0, 2**32 - 1]``: the book initialisation
        ``numpy.random.RandomState(seed)``.
    alphas
        One learning rate or several (finite, > 0).
    epochs, batch_size
        As for :meth:`grokprop.Network.fit`: ``batch_size=1`` stochastic, ``b`` mini-batch,
        ``None`` full-batch.
    backend
        ``"cpp"``, ``"numba"`` or ``"numpy"`` (one network after the other); by default the
        selected backend (see :func:`grokprop.set_backend`).
    curves, weights
        Also return every epoch's error / the final weights of every network.
    threads
        Threads the compiled backends may use (``None``: all cores). Results do not
        depend on it.
    progress
        Show a progress bar (tqdm, on stderr; the networks train in chunks, same bits):
        ``True``, ``False``, or ``None`` for one only on a terminal for a sweep expected to
        take more than a second.

    Returns
    -------
    SweepResult
        ``len(seeds) * len(alphas)`` networks, seeds outer and alphas inner.
    """
    engine = resolve(backend)
    layer_sizes = check.check_sizes(sizes)
    float_dtype = as_float_dtype(dtype)
    act = Activation.parse(activation)
    rows, targets = check.as_data(
        X, y, float_dtype, x_columns=layer_sizes[0], y_columns=layer_sizes[-1]
    )
    n_epochs = check.check_int(epochs, "epochs", minimum=0)
    batch = check.check_batch_size(batch_size, rows.shape[0])
    seed_values = check.check_seeds(seeds)
    alpha_values = check.check_alphas(alphas, float_dtype)
    if threads is None:
        n_threads = os.cpu_count() or 1
    else:
        n_threads = check.check_int(threads, "threads", minimum=1)
    n_threads = min(n_threads, MAX_THREADS)  # a hint: results never depend on it
    for name, flag in (("curves", curves), ("weights", weights)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    n_networks = len(seed_values) * len(alpha_values)
    _check_sweep_memory(
        layer_sizes, float_dtype, n_networks, n_epochs, bool(curves), bool(weights), n_threads
    )
    spec = SweepSpec(layer_sizes, n_epochs, batch, act, float_dtype, bool(curves), bool(weights))

    # the Cartesian product, seeds outer and alphas inner
    net_seeds = np.repeat(seed_values, len(alpha_values))
    net_alphas = np.tile(alpha_values, len(seed_values))
    seeds32 = net_seeds.astype(np.uint32)

    info = backend_info(engine.name)
    # parallel sweeps train networks side by side on every thread, others one after another
    per_network = _progress.expected_fit_seconds(info, layer_sizes, len(rows), n_epochs, batch) / (
        n_threads if info.parallel_sweep else 1
    )

    def run(networks: slice) -> SweepArrays:
        """Train ``networks``; a long run answers Ctrl-C (grokprop._interrupt)."""
        chosen = (rows, targets, seeds32[networks], net_alphas[networks], spec, n_threads)
        seconds = per_network * len(chosen[2])
        if seconds < _interrupt.INLINE_SECONDS or not info.polls_stop:
            return engine.sweep(*chosen)
        return _interrupt.run(lambda stop: engine.sweep(*chosen, stop), expected_seconds=seconds)

    if progress is False or not _progress.wanted(progress, per_network * len(seeds32)):
        out = run(slice(None))
    else:
        out = _progress.sweep_in_chunks(run, len(seeds32), desc=f"sweep {list(layer_sizes)}")
    return SweepResult(
        sizes=layer_sizes,
        activation=act.label,
        dtype=float_dtype,
        epochs=n_epochs,
        batch_size=batch,
        backend=engine.name,
        seeds=net_seeds,
        alphas=net_alphas,
        final_errors=out.final_errors,
        diverged=out.diverged,
        curves=out.curves,
        weights=out.weights,
    )


def _check_sweep_memory(
    sizes: tuple[int, ...],
    dtype: np.dtype[np.floating],
    networks: int,
    epochs: int,
    curves: bool,
    weights: bool,
    threads: int,
) -> None:
    """Refuse up front (``MemoryError`` naming what) a sweep whose arrays cannot fit in memory,
    as :meth:`grokprop.Network.fit` does, instead of an allocation the OS kills later."""
    item = dtype.itemsize
    n_weights = count_weights(sizes)
    check.check_memory(epochs * item, f"epochs={epochs} (one error per epoch)")
    # every network in flight holds its weights, batch sums and layers (about 3x its weights)
    in_flight = min(networks, _LANES_PER_THREAD * threads)
    check.check_memory(
        3 * n_weights * item * in_flight, f"training networks of sizes {list(sizes)}"
    )
    if curves:
        check.check_memory(
            networks * epochs * item, f"curves of {networks} networks x {epochs} epochs"
        )
    if weights:
        check.check_memory(
            networks * n_weights * item,
            f"the final weights of {networks} networks of sizes {list(sizes)}",
        )
