"""The NumPy reference backend: the chapter's math, in the contract's evaluation order.

Every reduction is a Python loop over the *reduced* index with the other axes
vectorised, so each sum is ``((0 + t_0) + t_1) + ...`` exactly as the compiled
backends compute it. ``np.dot`` / ``@`` / ``np.sum`` are deliberately not used:
BLAS may contract into FMA or block the sum, and ``np.sum`` is pairwise.
The fused :meth:`ReferenceBackend.train` is just the primitives composed, so the
reference reads like the book.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._protocol import FloatArray


def _matvec_rows(A: FloatArray, W: FloatArray) -> FloatArray:
    """``A @ W`` for a batch of rows, summed over ``k`` in increasing order."""
    out = np.zeros((A.shape[0], W.shape[1]), dtype=W.dtype)
    for k in range(W.shape[0]):
        out += A[:, k : k + 1] * W[k]
    return out


def _matvec_rows_transposed(D: FloatArray, W: FloatArray) -> FloatArray:
    """``D @ W.T`` for a batch of rows, summed over ``j`` in increasing order."""
    out = np.zeros((D.shape[0], W.shape[0]), dtype=W.dtype)
    for j in range(W.shape[1]):
        out += D[:, j : j + 1] * W[:, j]
    return out


class ReferenceBackend:
    """``numpy``: the reference every other backend must equal bit for bit."""

    name = "numpy"

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
                z = _matvec_rows(layers[-1], W)
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
            back = _matvec_rows_transposed(deltas[0], weights[l])
            if relu:
                back = back * self.relu_deriv(layers[l])
            deltas.insert(0, back)
        return deltas

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        result = []
        for a, d in zip(layers[:-1], deltas):
            total = np.zeros((a.shape[1], d.shape[1]), dtype=d.dtype)
            for r in range(a.shape[0]):
                total += a[r][:, None] * d[r][None, :]
            result.append(total / d.dtype.type(a.shape[0]))
        return result

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
            return self._train(weights, X, Y, alpha, epochs, batch_size, relu)

    def _train(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        epochs: int,
        batch_size: int,
        relu: bool,
    ) -> FloatArray:
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


class BookBackend(ReferenceBackend):
    """``numpy-blas``: what a reader writes from the book (``np.dot`` everywhere).

    Not part of the bitwise contract: BLAS may fuse multiply-adds or block sums, so
    :func:`grokprop.verify` reports how far it drifts instead of requiring equality.
    It is also the baseline of the benchmarks.
    """

    name = "numpy-blas"

    def forward(self, weights: Sequence[FloatArray], X: FloatArray, relu: bool) -> list[FloatArray]:
        layers = [X]
        last = len(weights) - 1
        for l, W in enumerate(weights):
            z = np.dot(layers[-1], W)
            layers.append(self.relu(z) if relu and l < last else z)
        return layers

    def deltas(
        self, weights: Sequence[FloatArray], layers: Sequence[FloatArray], Y: FloatArray, relu: bool
    ) -> list[FloatArray]:
        deltas: list[FloatArray] = [layers[-1] - Y]
        for l in range(len(weights) - 1, 0, -1):
            back = np.dot(deltas[0], weights[l].T)
            if relu:
                back = back * self.relu_deriv(layers[l])
            deltas.insert(0, back)
        return deltas

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        return [np.dot(a.T, d) / d.dtype.type(a.shape[0]) for a, d in zip(layers[:-1], deltas)]
