"""The NumPy reference backend: the chapter's math, in the contract's evaluation order.

Every reduction is a Python loop over the *reduced* index with the other axes
vectorised, so each sum is ``((0 + t_0) + t_1) + ...`` exactly as the compiled
backends compute it. ``np.dot`` / ``@`` / ``np.sum`` are deliberately not used:
BLAS may contract into FMA or block the sum, and ``np.sum`` is pairwise.
The fused :meth:`ReferenceBackend.train` is just the primitives composed, so the
reference reads like the book.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ._protocol import Backend, FloatArray, SweepArrays


class ReferenceBackend:
    """``numpy``: the reference every other backend must equal bit for bit."""

    name = "numpy"

    # The three reductions, each summed in the contract's order (BookBackend swaps in BLAS).
    @staticmethod
    def _rows_times(A: FloatArray, W: FloatArray) -> FloatArray:
        """``A @ W`` for a batch of rows, summed over ``k`` in increasing order."""
        out = np.zeros((A.shape[0], W.shape[1]), dtype=W.dtype)
        for k in range(W.shape[0]):
            out += A[:, k : k + 1] * W[k]
        return out

    @staticmethod
    def _rows_times_transposed(D: FloatArray, W: FloatArray) -> FloatArray:
        """``D @ W.T`` for a batch of rows, summed over ``j`` in increasing order."""
        out = np.zeros((D.shape[0], W.shape[0]), dtype=W.dtype)
        for j in range(W.shape[1]):
            out += D[:, j : j + 1] * W[:, j]
        return out

    @staticmethod
    def _sum_of_outers(A: FloatArray, D: FloatArray) -> FloatArray:
        """``A.T @ D``: the sum over rows of ``outer(A[r], D[r])``, rows in order."""
        total = np.zeros((A.shape[1], D.shape[1]), dtype=D.dtype)
        for r in range(A.shape[0]):
            total += A[r][:, None] * D[r][None, :]
        return total

    def relu(self, z: FloatArray) -> FloatArray:
        return np.where(z > 0, z, z.dtype.type(0))

    def relu_deriv(self, out: FloatArray) -> FloatArray:
        return (out > 0).astype(out.dtype)

    def forward(self, weights: Sequence[FloatArray], X: FloatArray, relu: bool) -> list[FloatArray]:
        # values may overflow to inf/NaN: returned as such, without a warning, as the
        # compiled backends (which cannot warn) return them
        with np.errstate(over="ignore", invalid="ignore"):
            layers = [X]
            last = len(weights) - 1
            for l, W in enumerate(weights):
                z = self._rows_times(layers[-1], W)
                layers.append(self.relu(z) if relu and l < last else z)
        return layers

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        err = np.zeros(output.shape[0], dtype=output.dtype)
        for j in range(output.shape[1]):
            diff = output[:, j] - Y[:, j]
            err += diff * diff
        return err

    def deltas(
        self, weights: Sequence[FloatArray], layers: Sequence[FloatArray], Y: FloatArray, relu: bool
    ) -> list[FloatArray]:
        deltas: list[FloatArray] = [layers[-1] - Y]
        for l in range(len(weights) - 1, 0, -1):
            back = self._rows_times_transposed(deltas[0], weights[l])
            if relu:
                back = back * self.relu_deriv(layers[l])
            deltas.insert(0, back)
        return deltas

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        return [
            self._sum_of_outers(a, d) / d.dtype.type(a.shape[0])
            for a, d in zip(layers[:-1], deltas)
        ]

    def update(
        self, weights: Sequence[FloatArray], weight_deltas: Sequence[FloatArray], alpha: float
    ) -> None:
        for W, G in zip(weights, weight_deltas):
            W -= W.dtype.type(alpha) * G

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
        # overflow is how divergence shows; the caller checks the result, not warnings
        with np.errstate(over="ignore", invalid="ignore"):
            dtype = X.dtype.type
            errors = np.zeros(epochs, dtype=X.dtype)
            n_rows = X.shape[0]
            for epoch in range(epochs):
                epoch_error = dtype(0)
                for start in range(0, n_rows, batch_size):
                    xb, yb = X[start : start + batch_size], Y[start : start + batch_size]
                    layers = self.forward(weights, xb, relu)
                    for e in self.example_errors(layers[-1], yb):
                        epoch_error = dtype(epoch_error + e)
                    deltas = self.deltas(weights, layers, yb, relu)
                    self.update(weights, self.weight_deltas(layers, deltas), alpha)
                errors[epoch] = epoch_error
                if not np.isfinite(epoch_error):
                    return errors[: epoch + 1]
            return errors

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
        # one network after the other: the oracle the compiled lock-step sweeps must equal
        return sweep_one_by_one(
            self, sizes, X, Y, seeds, alphas, epochs, batch_size, relu, curves, weights
        )


def book_weights(sizes: Sequence[int], seed: int, dtype: np.dtype[np.floating]) -> list[FloatArray]:
    """The book's initialisation: ``W[l] = 2 * rng.random_sample((n_l, n_{l+1})) - 1``.

    ``rng = numpy.random.RandomState(seed)`` draws the layers in order; each matrix is
    computed in float64 and rounded to ``dtype`` once (as :class:`grokprop.Network` does).
    """
    rng = np.random.RandomState(seed)
    return [
        np.ascontiguousarray(2 * rng.random_sample((n_in, n_out)) - 1, dtype=dtype)
        for n_in, n_out in itertools.pairwise(sizes)
    ]


def sweep_one_by_one(
    backend: Backend,
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
) -> SweepArrays:
    """:meth:`Backend.sweep` as a loop of :meth:`Backend.train` calls, one network at a time."""
    n = len(seeds)
    final_errors = np.full(n, np.nan, dtype=X.dtype)
    diverged = np.zeros(n, dtype=bool)
    curve_rows = np.full((n, epochs), np.nan, dtype=X.dtype) if curves else None
    final_weights = (
        [np.empty((n, a, b), dtype=X.dtype) for a, b in itertools.pairwise(sizes)]
        if weights
        else None
    )
    for i, (seed, alpha) in enumerate(zip(seeds, alphas)):
        net_weights = book_weights(sizes, int(seed), X.dtype)
        errors = backend.train(net_weights, X, Y, float(alpha), epochs, batch_size, relu)
        if len(errors):
            final_errors[i] = errors[-1]
        diverged[i] = not np.isfinite(errors).all() or not all(
            np.isfinite(w).all() for w in net_weights
        )
        if curve_rows is not None:
            curve_rows[i, : len(errors)] = errors
        if final_weights is not None:
            for out, w in zip(final_weights, net_weights):
                out[i] = w
    return SweepArrays(final_errors, diverged, curve_rows, final_weights)


class BookBackend(ReferenceBackend):
    """``numpy-blas``: what a reader writes from the book (``np.dot`` everywhere).

    Not part of the bitwise contract: BLAS may fuse multiply-adds or block sums, so
    :func:`grokprop.verify` reports how far it drifts instead of requiring equality.
    It is also the baseline of the benchmarks.
    """

    name = "numpy-blas"

    @staticmethod
    def _rows_times(A: FloatArray, W: FloatArray) -> FloatArray:
        return np.asarray(np.dot(A, W))

    @staticmethod
    def _rows_times_transposed(D: FloatArray, W: FloatArray) -> FloatArray:
        return np.asarray(np.dot(D, W.T))

    @staticmethod
    def _sum_of_outers(A: FloatArray, D: FloatArray) -> FloatArray:
        return np.asarray(np.dot(A.T, D))
