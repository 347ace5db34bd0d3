"""The C++ backend: :mod:`grokprop._core`, bit for bit equal to the reference.

The kernels are header-only C++ (``cpp/include/grokprop``) compiled without FMA
contraction or fast-math, in the evaluation order of the contract
(:mod:`grokprop.backends._protocol`). :meth:`CppBackend.train` runs every epoch in one
C++ call with the GIL released, updating the caller's weight arrays in place.

``_core`` takes arrays exactly as given -- never converted or copied -- and checks
them itself (dtype, shape, layout, writeable weights), so even a direct call cannot
crash the interpreter. :meth:`CppBackend.sweep` trains blocks of networks in lock-step
(SIMD across networks, ``cpp/include/grokprop/sweep.hpp``) on several threads. The
methods here only forward: the Python layer has already
validated the arguments. Importing this module raises :class:`ImportError` when the
extension was not built, which :mod:`grokprop.backends` reports as unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .. import _core
from ._protocol import FloatArray, SweepArrays

__all__ = ["CppBackend"]


class CppBackend:
    """``cpp``: the compiled core (pybind11)."""

    name = "cpp"

    def forward(self, weights: Sequence[FloatArray], X: FloatArray, relu: bool) -> list[FloatArray]:
        return _core.forward(weights, X, relu)

    def relu(self, z: FloatArray) -> FloatArray:
        return _core.relu(z)

    def relu_deriv(self, out: FloatArray) -> FloatArray:
        return _core.relu_deriv(out)

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        return _core.example_errors(output, Y)

    def deltas(
        self, weights: Sequence[FloatArray], layers: Sequence[FloatArray], Y: FloatArray, relu: bool
    ) -> list[FloatArray]:
        return _core.deltas(weights, layers, Y, relu)

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        return _core.weight_deltas(layers, deltas)

    def update(
        self, weights: Sequence[FloatArray], weight_deltas: Sequence[FloatArray], alpha: float
    ) -> None:
        _core.update(weights, weight_deltas, alpha)

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
        return _core.train(weights, X, Y, alpha, epochs, batch_size, relu)

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
        final_errors, diverged, curve_rows, final_weights = _core.sweep(
            list(sizes), X, Y, seeds, alphas, epochs, batch_size, relu, curves, weights, threads
        )
        return SweepArrays(final_errors, diverged, curve_rows, final_weights)
