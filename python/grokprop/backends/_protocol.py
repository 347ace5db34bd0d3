"""The contract every backend implements (docs/design.md, "The backend protocol").

A backend supplies the chapter's *kernels* -- one layer at a time -- and may supply faster
fused versions of the compositions. :class:`grokprop.backends._compose.Composed` writes the
compositions once (forward through the layers, deltas, weight deltas, the update, one step,
the training loop, a sweep one network after another) from a backend's kernels, so a new
backend needs only the eight :class:`Kernels` methods.

What a backend receives has been validated by the Python API (docs/design.md,
"Validation"): C-contiguous, aligned arrays of one float dtype (``float32`` or
``float64``), writeable where updated in place, with chained shapes, finite data, and
specs (:class:`grokprop.specs.TrainSpec`, :class:`grokprop.specs.SweepSpec`) that checked
themselves. Nothing after that boundary depends on a backend's own checks.

Every kernel keeps the evaluation-order contract (docs/design.md, "Evaluation order"):
each reduction starts from zero and adds its terms one at a time in increasing index
order, products and sums are rounded separately (no FMA), ``alpha * G`` is
``alpha * (a[k] * d[j])``, and a batch's weight delta is the sequential sum over its rows
divided once by the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .._typing import FloatArray
from ..specs import Activation, SweepSpec, TrainSpec

__all__ = ["Backend", "Kernels", "StepArrays", "SweepArrays"]


class StepArrays(NamedTuple):
    """What one update computed, all from the weights as they were before it."""

    layers: list[FloatArray]
    """``[a_0 = X, a_1, ..., a_L]``, each ``(m, n_l)``."""
    deltas: list[FloatArray]
    """``[d_1, ..., d_L]``: ``a_L - Y`` and the back-propagated hidden deltas."""
    weight_deltas: list[FloatArray]
    """``S[l] / m`` with ``S[l] = sum_rows outer(a_l, d_{l+1})``, each ``(n_l, n_{l+1})``."""
    errors: FloatArray
    """``(m,)`` per-row error ``sum_j (a_L[j] - Y[j])**2``."""


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
class Kernels(Protocol):
    """The per-layer kernels a backend must supply (each returns a new array unless noted)."""

    name: str

    def layer_forward(self, A: FloatArray, W: FloatArray, activation: Activation) -> FloatArray:
        """``activate(A @ W)`` for the rows of ``A`` (``LINEAR`` for the output layer)."""
        ...

    def activate(self, z: FloatArray, activation: Activation) -> FloatArray:
        """The activation elementwise (relu: ``z if z > 0 else 0``, NaN and -inf as NaN)."""
        ...

    def activate_deriv(self, out: FloatArray, activation: Activation) -> FloatArray:
        """The activation's derivative from its *output* (relu: ``1 if out > 0 else 0``)."""
        ...

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        """Per-row error ``sum_j (output[j] - Y[j])**2``; shape ``(m,)``."""
        ...

    def output_delta(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        """``output - Y``: the output layer's delta."""
        ...

    def layer_delta(
        self, D: FloatArray, W: FloatArray, A: FloatArray, activation: Activation
    ) -> FloatArray:
        """``(D @ W.T) * activate_deriv(A)``: a hidden layer's delta from the next one's."""
        ...

    def weight_delta(self, A: FloatArray, D: FloatArray) -> FloatArray:
        """``S / m`` with ``S = sum_rows outer(A[r], D[r])`` (rows in order), ``m`` rows."""
        ...

    def update_layer(self, W: FloatArray, G: FloatArray, alpha: float) -> None:
        """In place: ``W -= alpha * G`` with ``alpha`` rounded to ``W``'s dtype."""
        ...


@runtime_checkable
class Backend(Kernels, Protocol):
    """Kernels plus the compositions (from ``Composed``, or a backend's faster own)."""

    def forward(
        self, weights: Sequence[FloatArray], X: FloatArray, activation: Activation
    ) -> list[FloatArray]:
        """Layers ``[a_0 = X, a_1, ..., a_L]`` for every row of ``X``."""
        ...

    def step(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        activation: Activation,
    ) -> StepArrays:
        """One update from all rows of ``X`` (one batch), in place; what it computed."""
        ...

    def train(
        self, weights: Sequence[FloatArray], X: FloatArray, Y: FloatArray, spec: TrainSpec
    ) -> FloatArray:
        """Run ``spec.epochs`` epochs of mini-batch descent, updating ``weights`` in place.

        Returns the per-epoch errors. Stops after the first epoch whose error is not
        finite, so the returned array is then shorter than ``spec.epochs``; the caller
        restores the weights it saved (see :meth:`grokprop.Network.fit`).
        """
        ...

    def sweep(
        self,
        X: FloatArray,
        Y: FloatArray,
        seeds: NDArray[np.uint32],
        alphas: NDArray[np.float64],
        spec: SweepSpec,
        threads: int,
    ) -> SweepArrays:
        """Train network ``i`` from the book initialisation of ``seeds[i]`` with ``alphas[i]``.

        Every network is trained exactly as :meth:`train` trains it alone, bit for bit,
        stopping after the epoch whose error is not finite (it is then ``diverged``, as is
        a network whose final weights are not all finite). ``threads`` >= 1 is a hint
        compiled backends may use; results never depend on it.
        """
        ...
