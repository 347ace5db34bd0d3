"""The contract every backend implements (SPEC §2, §3, §5).

A backend is a small object with the chapter's primitives and one fused training
loop. The Python layer (:mod:`grokprop.network`) validates everything *before* it
calls a backend, so backends receive:

* ``weights``: a list of C-contiguous, writeable arrays ``W[l]`` of shape
  ``(n_l, n_{l+1})``, all of one dtype (``float32`` or ``float64``);
* ``X``: ``(m, n_0)`` and ``Y``: ``(m, n_L)`` C-contiguous arrays of that same dtype;
* ``relu``: ``True`` for relu hidden layers, ``False`` for linear ones;
* ``alpha``: a Python float, rounded once to the network dtype by the backend.

Evaluation order (what makes backends bitwise identical): every reduction starts
from zero and adds its terms one at a time in increasing index order, products
and sums are rounded separately (no FMA), ``alpha * G`` is ``alpha * (a[k] * d[j])``,
and a batch's weight delta is the sequential sum over its rows divided once by
the row count. See :mod:`grokprop.backends.reference` for the executable statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]


class SweepArrays(NamedTuple):
    """What :meth:`Backend.sweep` returns for ``n`` networks (see :func:`grokprop.sweep`)."""

    final_errors: FloatArray
    """``(n,)``: the last epoch's error (for a diverged network, the epoch it stopped in)."""
    diverged: NDArray[np.bool_]
    """``(n,)``: an epoch error or a final weight became inf/NaN."""
    curves: FloatArray | None
    """``(n, epochs)`` per-epoch errors, NaN after a divergence; ``None`` unless asked."""
    weights: list[FloatArray] | None
    """Per layer ``(n, n_l, n_{l+1})`` final weights; ``None`` unless asked."""


@runtime_checkable
class Backend(Protocol):
    """Primitives and the fused training loop of one backend."""

    name: str

    def forward(self, weights: Sequence[FloatArray], X: FloatArray, relu: bool) -> list[FloatArray]:
        """Layers ``[a_0 = X, a_1, ..., a_L]`` for every row of ``X``; each ``(m, n_l)``."""
        ...

    def relu(self, z: FloatArray) -> FloatArray:
        """``z if z > 0 else 0`` elementwise (a new array)."""
        ...

    def relu_deriv(self, out: FloatArray) -> FloatArray:
        """``1 if out > 0 else 0`` elementwise, on the *output* of relu (a new array)."""
        ...

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        """Per-row error ``sum_j (output[j] - Y[j])**2``; shape ``(m,)``."""
        ...

    def deltas(
        self, weights: Sequence[FloatArray], layers: Sequence[FloatArray], Y: FloatArray, relu: bool
    ) -> list[FloatArray]:
        """Deltas ``[d_1, ..., d_L]`` (each ``(m, n_l)``), all from the given weights."""
        ...

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        """Average weight deltas ``S[l] / m`` with ``S[l] = sum_rows outer(a_l, d_{l+1})``."""
        ...

    def update(
        self, weights: Sequence[FloatArray], weight_deltas: Sequence[FloatArray], alpha: float
    ) -> None:
        """In place: ``W[l] -= alpha * weight_deltas[l]``."""
        ...

    def train(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        epochs: int,
        batch_size: int,
        relu: bool,
    ) -> FloatArray:
        """Run ``epochs`` epochs of mini-batch descent, updating ``weights`` in place.

        Returns the per-epoch errors. Stops after the first epoch whose error is
        not finite, so the returned array is then shorter than ``epochs``; the
        caller restores the weights it saved (see :meth:`grokprop.Network.fit`).
        """
        ...

    def sweep(
        self,
        sizes: Sequence[int],
        X: FloatArray,
        Y: FloatArray,
        seeds: NDArray[np.uint32],
        alphas: NDArray[np.float64],
        epochs: int,
        batch_size: int,
        relu: bool,
        curves: bool,
        weights: bool,
        threads: int,
    ) -> SweepArrays:
        """Train network ``i`` from the book initialisation of ``seeds[i]`` with ``alphas[i]``.

        Every network is trained exactly as :meth:`train` trains it alone, bit for bit,
        stopping after the epoch whose error is not finite (it is then ``diverged``, as is
        a network whose final weights are not all finite). ``X`` and ``Y`` have the dtype
        the networks train in; ``threads`` >= 1 is a hint compiled backends may use.
        """
        ...
