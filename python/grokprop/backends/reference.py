"""The NumPy reference backend: the chapter's math, in the contract's evaluation order.

Every reduction is a Python loop over the *reduced* index with the other axes
vectorised, so each sum is ``((0 + t_0) + t_1) + ...`` exactly as the compiled
backends compute it (docs/design.md, "Evaluation order"). ``np.dot`` / ``@`` /
``np.sum`` are deliberately not used: BLAS may contract into FMA or block the sum,
and ``np.sum`` is pairwise. The reference supplies only the kernels; its training loop
is :class:`._protocol.Backend`'s composition of them, so it reads like the book.
"""

from __future__ import annotations

import numpy as np

from .._typing import FloatArray
from ..specs import Activation
from . import _expmath
from ._protocol import Backend

__all__ = ["BookBackend", "ReferenceBackend"]


def _quiet() -> np.errstate:
    """Floating-point conditions neither warn nor raise, whatever the caller's error state:
    overflow to inf/NaN is how a divergence shows (the caller checks results), and the
    compiled backends, which cannot warn, return the same values."""
    return np.errstate(all="ignore")


class ReferenceBackend(Backend):
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

    # -- the kernels ---------------------------------------------------------------------
    def activate(self, z: FloatArray, activation: Activation) -> FloatArray:
        if activation is Activation.RELU:
            # z - z: +0 for every finite z (so finite inputs give z or +0) and NaN for NaN
            # and -inf, which the book's (z > 0) * z also gives (docs/design.md, "The math")
            with _quiet():
                out: FloatArray = np.where(z > 0, z, z - z)
            return out
        if activation is Activation.SIGMOID:
            return _expmath.sigmoid(z)  # grokprop's own exp: the same bits on every backend
        if activation is Activation.TANH:
            return _expmath.tanh(z)
        copied: FloatArray = z.copy()
        return copied

    def activate_deriv(self, out: FloatArray, activation: Activation) -> FloatArray:
        one = out.dtype.type(1)
        with _quiet():
            if activation is Activation.RELU:
                return (out > 0).astype(out.dtype)
            if activation is Activation.SIGMOID:
                sigmoid_deriv: FloatArray = out * (one - out)
                return sigmoid_deriv
            if activation is Activation.TANH:
                tanh_deriv: FloatArray = one - out * out
                return tanh_deriv
        return np.ones_like(out)

    def layer_forward(self, A: FloatArray, W: FloatArray, activation: Activation) -> FloatArray:
        with _quiet():
            z = self._rows_times(A, W)
            return z if activation is Activation.LINEAR else self.activate(z, activation)

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        with _quiet():
            err = np.zeros(output.shape[0], dtype=output.dtype)
            for j in range(output.shape[1]):
                diff = output[:, j] - Y[:, j]
                err += diff * diff
            return err

    def output_delta(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        with _quiet():
            delta: FloatArray = output - Y
            return delta

    def layer_delta(
        self, D: FloatArray, W: FloatArray, A: FloatArray, activation: Activation
    ) -> FloatArray:
        with _quiet():
            back = self._rows_times_transposed(D, W)
            if activation is Activation.LINEAR:
                return back
            return back * self.activate_deriv(A, activation)

    def weight_delta(self, A: FloatArray, D: FloatArray) -> FloatArray:
        with _quiet():
            mean: FloatArray = self._sum_of_outers(A, D) / D.dtype.type(A.shape[0])
            return mean

    def update_layer(self, W: FloatArray, G: FloatArray, alpha: float) -> None:
        with _quiet():
            W -= W.dtype.type(alpha) * G


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


def stacked_errors(
    weights: list[FloatArray], X: FloatArray, Y: FloatArray, activation: Activation
) -> FloatArray:
    """``(n,)`` the error of each of ``n`` networks on the rows of ``X``.

    ``weights`` is a sweep's per-layer ``(n, n_l, n_{l+1})`` stack; ``X`` and ``Y`` are
    converted to its dtype (``Y`` to one row per row of ``X``). The error of a network
    is summed over the rows in order, each row's error over the outputs in order, every
    product summed in increasing index order (docs/design.md, "Evaluation order"),
    vectorised across networks: the same bits as ``example_errors`` of
    ``Network(weights=...).predict(X)`` summed row after row.
    """
    kernels = ReferenceBackend()
    dtype = weights[0].dtype
    rows = np.asarray(X, dtype=dtype)
    targets = np.asarray(Y, dtype=dtype).reshape(rows.shape[0], -1)
    n, last = weights[0].shape[0], len(weights) - 1
    total = np.zeros(n, dtype=dtype)
    # a diverged network's weights overflow: inf/NaN errors without warnings, as the kernels
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for r in range(rows.shape[0]):
            a = np.broadcast_to(rows[r], (n, rows.shape[1]))
            for l, W in enumerate(weights):
                # _rows_times with one row per network: network i's row times its own W[i]
                z = np.zeros((n, W.shape[2]), dtype=dtype)
                for k in range(W.shape[1]):
                    z += a[:, k : k + 1] * W[:, k, :]
                a = kernels.activate(z, activation) if l < last else z
            total += kernels.example_errors(a, np.broadcast_to(targets[r], a.shape))
    return total
