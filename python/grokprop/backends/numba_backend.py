"""The Numba backend: the reference's loops, JIT-compiled, bit for bit equal to it.

Every kernel is ``numba.njit(nogil=True, cache=CACHE)`` -- never ``fastmath`` and
never ``parallel``, so LLVM may neither contract ``a * b + c`` into an FMA nor
reassociate a sum (SPEC §3). Each reduction keeps the contract's order: it starts
from zero and adds its terms in increasing index order; vectorising happens only
over the *output* index, which LLVM may do without changing any result.

float32 stays float32: a float literal such as ``0.0`` is float64 in Numba and
would promote the arithmetic, and ``float32 / int`` is float64. So the kernels use
no float literals at all. ``alpha``, zero and one arrive already rounded to the
network dtype (``X.dtype.type(...)``), scalars start from the typed zero, and a
batch's row count is converted by storing it in an array of the dtype.

Weights are passed to the kernels as a *tuple* of 2-D arrays: all ``W[l]`` share
one dtype and layout, so the tuple is a homogeneous ``UniTuple`` that the kernels
index with a runtime layer number. Building it and passing it costs well under a
microsecond (building a ``numba.typed.List`` of them costs about 20 µs), and the
kernels write through it into the caller's arrays, so the update is in place.
Each new depth compiles one more specialisation, once; networks are shallow.
The row kernels are inlined (``inline="always"``) into the fused loop: as calls
they cost about half again of its run time.

The on-disk cache is on unless ``GROKPROP_NUMBA_CACHE`` is ``0``/``false``/``no``/``off``
(read once, when this module is imported). This module is the only one in
grokprop that imports numba; :mod:`grokprop.backends` imports it lazily.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from ._protocol import FloatArray, SweepArrays

__all__ = ["CACHE", "CACHE_ENV_VAR", "NumbaBackend", "cache_enabled"]

CACHE_ENV_VAR = "GROKPROP_NUMBA_CACHE"
_CACHE_OFF = frozenset({"0", "false", "no", "off"})


def cache_enabled(value: str | None) -> bool:
    """Whether a ``GROKPROP_NUMBA_CACHE`` value leaves the on-disk cache on.

    Unset (``None``) and every value except ``0``/``false``/``no``/``off`` (any
    case, surrounding blanks ignored) mean on.
    """
    return value is None or value.strip().lower() not in _CACHE_OFF


CACHE: bool = cache_enabled(os.environ.get(CACHE_ENV_VAR))

_jit = numba.njit(nogil=True, cache=CACHE)
_jit_inline = numba.njit(nogil=True, cache=CACHE, inline="always")


# --------------------------------------------------------------------------- kernels
#
# Row kernels first: one example at a time, writing into preallocated outputs.
# The fused loop and the primitives are both built from them, so the order of
# every operation is stated once.


@_jit_inline
def _affine_row(a, W, z, zero):  # type: ignore[no-untyped-def]
    """``z[j] = ((0 + a[0]*W[0,j]) + a[1]*W[1,j]) + ...`` (vectorisable over ``j``)."""
    n_out = W.shape[1]
    for j in range(n_out):
        z[j] = zero
    for k in range(W.shape[0]):
        ak = a[k]
        for j in range(n_out):
            z[j] += ak * W[k, j]


@_jit_inline
def _relu_row(z, zero):  # type: ignore[no-untyped-def]
    """In place ``z if z > 0 else +0`` (NaN and -0 become +0, as in ``np.where``)."""
    for j in range(z.shape[0]):
        if not z[j] > zero:
            z[j] = zero


@_jit_inline
def _error_row(out, y, d, zero):  # type: ignore[no-untyped-def]
    """``d = out - y``; returns ``sum_j d[j] * d[j]`` summed in order."""
    e = zero
    for j in range(out.shape[0]):
        diff = out[j] - y[j]
        d[j] = diff
        e += diff * diff
    return e


@_jit_inline
def _backprop_row(d_next, W, a, relu, zero, one, d):  # type: ignore[no-untyped-def]
    """``d[k] = (sum_j d_next[j] * W[k,j]) * relu'(a[k])``, the sum in order."""
    for k in range(W.shape[0]):
        s = zero
        for j in range(W.shape[1]):
            s += d_next[j] * W[k, j]
        if relu:
            s = s * (one if a[k] > zero else zero)
        d[k] = s


@_jit
def _check_network(weights, X, Y):  # type: ignore[no-untyped-def]
    """Raise ``ValueError`` unless ``X -> W[0] -> ... -> W[L-1] -> Y`` chain up.

    The kernels index without bounds checks, so the shapes are checked here,
    inside the compiled code, however the kernel was reached.
    """
    if X.shape[1] != weights[0].shape[0]:
        raise ValueError("X has a different number of columns than weights[0] has rows")
    for l in range(len(weights) - 1):
        if weights[l].shape[1] != weights[l + 1].shape[0]:
            raise ValueError("weights[l] columns differ from weights[l + 1] rows")
    if Y.shape[0] != X.shape[0]:
        raise ValueError("X and Y have a different number of rows")
    if Y.shape[1] != weights[len(weights) - 1].shape[1]:
        raise ValueError("Y has a different number of columns than the last weights")


@_jit
def _train_kernel(weights, X, Y, alpha, epochs, batch_size, relu, zero, one, errors):  # type: ignore[no-untyped-def]
    """Fused mini-batch descent; fills ``errors`` and returns the number of epochs run.

    ``alpha``, ``zero`` and ``one`` are scalars of the data dtype. Workspace is
    allocated once, here: the activations ``a_0..a_L`` and deltas of the current
    row (layer ``l`` at ``off[l]:off[l + 1]`` of ``acts`` / ``dels``) and, for
    batches of more than one row, the weight-delta sums ``S[l]`` (at
    ``woff[l]:woff[l + 1]`` of ``sums``, row-major like ``W[l]``).
    """
    _check_network(weights, X, Y)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if errors.shape[0] < epochs:
        raise ValueError("errors is shorter than epochs")
    n_layers = len(weights)
    last = n_layers - 1
    n_rows = X.shape[0]

    off = np.empty(n_layers + 2, np.int64)
    woff = np.empty(n_layers + 1, np.int64)
    off[0] = 0
    off[1] = X.shape[1]
    woff[0] = 0
    for l in range(n_layers):
        off[l + 2] = off[l + 1] + weights[l].shape[1]
        woff[l + 1] = woff[l] + weights[l].shape[0] * weights[l].shape[1]
    acts = np.empty(off[n_layers + 1], X.dtype)
    dels = np.empty(off[n_layers + 1], X.dtype)
    stochastic = batch_size == 1
    sums = np.empty(0 if stochastic else woff[n_layers], X.dtype)
    count = np.empty(1, X.dtype)  # a batch's row count, rounded to the dtype

    for epoch in range(epochs):
        epoch_error = zero
        for start in range(0, n_rows, batch_size):
            stop = min(start + batch_size, n_rows)
            if not stochastic:
                sums[:] = zero
            for r in range(start, stop):
                for k in range(off[1]):
                    acts[k] = X[r, k]
                for l in range(n_layers):
                    z = acts[off[l + 1] : off[l + 2]]
                    _affine_row(acts[off[l] : off[l + 1]], weights[l], z, zero)
                    if relu and l < last:
                        _relu_row(z, zero)
                epoch_error += _error_row(acts[off[n_layers] :], Y[r], dels[off[n_layers] :], zero)
                # every delta from the weights as they were before this step
                for l in range(last, 0, -1):
                    _backprop_row(
                        dels[off[l + 1] : off[l + 2]],
                        weights[l],
                        acts[off[l] : off[l + 1]],
                        relu,
                        zero,
                        one,
                        dels[off[l] : off[l + 1]],
                    )
                # stochastic: W -= alpha * (a_k * d_j) now; else S += outer(a_l, d_{l+1})
                for l in range(n_layers):
                    W = weights[l]
                    a = acts[off[l] : off[l + 1]]
                    d = dels[off[l + 1] : off[l + 2]]
                    n_out = W.shape[1]
                    if stochastic:
                        for k in range(W.shape[0]):
                            ak = a[k]
                            for j in range(n_out):
                                W[k, j] -= alpha * (ak * d[j])
                    else:
                        S = sums[woff[l] : woff[l + 1]]
                        for k in range(W.shape[0]):
                            ak = a[k]
                            row = k * n_out
                            for j in range(n_out):
                                S[row + j] += ak * d[j]
            if not stochastic:
                # W -= alpha * (S / m), the division first, as in the reference
                count[0] = stop - start
                m = count[0]
                for l in range(n_layers):
                    W = weights[l]
                    S = sums[woff[l] : woff[l + 1]]
                    n_out = W.shape[1]
                    for k in range(W.shape[0]):
                        row = k * n_out
                        for j in range(n_out):
                            W[k, j] -= alpha * (S[row + j] / m)
        errors[epoch] = epoch_error
        if not np.isfinite(epoch_error):
            return epoch + 1
    return epochs


@_jit
def _train_two_layer(W0, W1, X, Y, alpha, epochs, relu, zero, one, errors):  # type: ignore[no-untyped-def]
    """Stochastic descent of a network with one hidden layer (the chapter's shape).

    The same order as :func:`_train_kernel` with ``batch_size == 1``, in fewer passes:
    per output unit ``o`` the output, its error and delta, the hidden delta's term from
    the old ``W1[:, o]`` and then ``W1[:, o]``'s step; and ``W0``'s step fused with the
    next row's hidden layer (each ``W0[k, :]`` used as soon as it is updated), so
    ``W0`` is read and written once per example. Returns the number of epochs run.
    """
    _check_network((W0, W1), X, Y)
    n_in, n_hidden = W0.shape
    n_out = W1.shape[1]
    n_rows = X.shape[0]
    if errors.shape[0] < epochs:
        raise ValueError("errors is shorter than epochs")
    h = np.empty(n_hidden, X.dtype)  # the current row's hidden layer
    d_hidden = np.empty(n_hidden, X.dtype)
    h_ready = False  # h already computed by the previous fused step
    for epoch in range(epochs):
        epoch_error = zero
        for r in range(n_rows):
            if not h_ready:
                for j in range(n_hidden):
                    h[j] = zero
                for k in range(n_in):
                    x_k = X[r, k]
                    for j in range(n_hidden):
                        h[j] += x_k * W0[k, j]
                if relu:
                    _relu_row(h, zero)
            error = zero
            for j in range(n_hidden):
                d_hidden[j] = zero
            for o in range(n_out):
                out = zero
                for j in range(n_hidden):
                    out += h[j] * W1[j, o]
                diff = out - Y[r, o]
                error += diff * diff
                for j in range(n_hidden):
                    d_hidden[j] += diff * W1[j, o]
                    W1[j, o] -= alpha * (zero + h[j] * diff)
            epoch_error += error
            if relu:
                for j in range(n_hidden):
                    d_hidden[j] = d_hidden[j] * (one if h[j] > zero else zero)
            h_ready = r + 1 < n_rows or epoch + 1 < epochs
            if h_ready:
                nxt = r + 1 if r + 1 < n_rows else 0
                for j in range(n_hidden):
                    h[j] = zero
                for k in range(n_in):
                    x_k = X[r, k]
                    x_next = X[nxt, k]
                    for j in range(n_hidden):
                        w = W0[k, j] - alpha * (zero + x_k * d_hidden[j])
                        W0[k, j] = w
                        h[j] += x_next * w
                if relu:
                    _relu_row(h, zero)
            else:
                for k in range(n_in):
                    x_k = X[r, k]
                    for j in range(n_hidden):
                        W0[k, j] -= alpha * (zero + x_k * d_hidden[j])
        errors[epoch] = epoch_error
        if not np.isfinite(epoch_error):
            return epoch + 1
    return epochs


# Primitive kernels: whole batches, each a loop over rows of a row kernel.


@_jit
def _forward_layer(A, W, apply_relu, zero):  # type: ignore[no-untyped-def]
    """``relu(A @ W)`` (or ``A @ W``), row by row."""
    if A.shape[1] != W.shape[0]:
        raise ValueError("layer input has a different width than the weights have rows")
    out = np.empty((A.shape[0], W.shape[1]), W.dtype)
    for r in range(A.shape[0]):
        _affine_row(A[r], W, out[r], zero)
        if apply_relu:
            _relu_row(out[r], zero)
    return out


@_jit
def _relu_flat(z, zero):  # type: ignore[no-untyped-def]
    out = z.copy()
    _relu_row(out, zero)
    return out


@_jit
def _relu_deriv_flat(a, zero, one):  # type: ignore[no-untyped-def]
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = one if a[i] > zero else zero
    return out


@_jit
def _errors_and_delta(output, Y, zero):  # type: ignore[no-untyped-def]
    """Per-row errors and the output delta ``output - Y``."""
    if output.shape[0] != Y.shape[0] or output.shape[1] != Y.shape[1]:
        raise ValueError("output and Y have different shapes")
    err = np.empty(output.shape[0], output.dtype)
    delta = np.empty(output.shape, output.dtype)
    for r in range(output.shape[0]):
        err[r] = _error_row(output[r], Y[r], delta[r], zero)
    return err, delta


@_jit
def _backprop_layer(D, W, A, relu, zero, one):  # type: ignore[no-untyped-def]
    """``(D @ W.T) * relu'(A)`` row by row (without relu ``A`` is not read)."""
    if D.shape[1] != W.shape[1]:
        raise ValueError("delta has a different width than the weights have columns")
    if A.shape[0] != D.shape[0] or A.shape[1] != W.shape[0]:
        raise ValueError("layer has a different shape than the delta it scales")
    out = np.empty((D.shape[0], W.shape[0]), W.dtype)
    for r in range(D.shape[0]):
        _backprop_row(D[r], W, A[r], relu, zero, one, out[r])
    return out


@_jit
def _weight_delta(A, D, zero):  # type: ignore[no-untyped-def]
    """``(sum_r outer(A[r], D[r])) / m``, the sum over rows in order."""
    if A.shape[0] != D.shape[0]:
        raise ValueError("layer and delta have a different number of rows")
    n_out = D.shape[1]
    total = np.empty((A.shape[1], n_out), D.dtype)
    total[:] = zero
    for r in range(A.shape[0]):
        for k in range(A.shape[1]):
            ark = A[r, k]
            for j in range(n_out):
                total[k, j] += ark * D[r, j]
    count = np.empty(1, D.dtype)
    count[0] = A.shape[0]
    m = count[0]
    for k in range(A.shape[1]):
        for j in range(n_out):
            total[k, j] = total[k, j] / m
    return total


@_jit
def _update_layer(W, G, alpha):  # type: ignore[no-untyped-def]
    """In place ``W -= alpha * G``."""
    if W.shape[0] != G.shape[0] or W.shape[1] != G.shape[1]:
        raise ValueError("weights and weight delta have different shapes")
    for k in range(W.shape[0]):
        for j in range(W.shape[1]):
            W[k, j] -= alpha * G[k, j]


# --------------------------------------------------------------------------- backend


def _flat(x: FloatArray) -> FloatArray:
    return np.ascontiguousarray(x).reshape(-1)


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _same_dtype(arrays: Sequence[FloatArray], what: str) -> Any:
    """The arrays' one floating dtype's scalar type; ``TypeError`` otherwise."""
    dtype = arrays[0].dtype
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{what} must be float32 or float64 arrays, got {dtype}")
    for x in arrays[1:]:
        if x.dtype != dtype:
            raise TypeError(f"{what} must all have one dtype, got {dtype} and {x.dtype}")
    return dtype.type


class NumbaBackend:
    """``numba``: the reference's evaluation order, JIT-compiled; equal to it bit for bit."""

    name = "numba"

    def forward(self, weights: Sequence[FloatArray], X: FloatArray, relu: bool) -> list[FloatArray]:
        dt = _same_dtype([X, *weights], "X and weights")
        zero = dt(0)
        layers = [X]
        last = len(weights) - 1
        for l, W in enumerate(weights):
            layers.append(_forward_layer(layers[-1], W, bool(relu) and l < last, zero))
        return layers

    def relu(self, z: FloatArray) -> FloatArray:
        dt = _same_dtype([z], "z")
        return _relu_flat(_flat(z), dt(0)).reshape(z.shape)  # type: ignore[no-any-return]

    def relu_deriv(self, out: FloatArray) -> FloatArray:
        dt = _same_dtype([out], "out")
        return _relu_deriv_flat(_flat(out), dt(0), dt(1)).reshape(out.shape)  # type: ignore[no-any-return]

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        dt = _same_dtype([output, Y], "output and Y")
        return _errors_and_delta(output, Y, dt(0))[0]  # type: ignore[no-any-return]

    def deltas(
        self, weights: Sequence[FloatArray], layers: Sequence[FloatArray], Y: FloatArray, relu: bool
    ) -> list[FloatArray]:
        dt = _same_dtype([Y, *weights, *layers], "weights, layers and Y")
        zero, one = dt(0), dt(1)
        deltas = [_errors_and_delta(layers[-1], Y, zero)[1]]
        for l in range(len(weights) - 1, 0, -1):
            deltas.insert(
                0, _backprop_layer(deltas[0], weights[l], layers[l], bool(relu), zero, one)
            )
        return deltas

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        dt = _same_dtype([*layers, *deltas], "layers and deltas")
        zero = dt(0)
        return [_weight_delta(a, d, zero) for a, d in zip(layers[:-1], deltas)]

    def update(
        self, weights: Sequence[FloatArray], weight_deltas: Sequence[FloatArray], alpha: float
    ) -> None:
        dt = _same_dtype([*weights, *weight_deltas], "weights and weight_deltas")
        alpha_t = dt(alpha)
        for W, G in zip(weights, weight_deltas):
            _update_layer(W, G, alpha_t)

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
        if not weights:
            raise ValueError("weights must hold at least one matrix")
        dt = _same_dtype([X, Y, *weights], "X, Y and weights")
        errors = np.empty(epochs, dtype=X.dtype)  # the kernels fill the epochs they run
        if len(weights) == 2 and batch_size == 1:
            done = _train_two_layer(
                weights[0], weights[1], X, Y, dt(alpha), epochs, bool(relu), dt(0), dt(1), errors
            )
        else:
            done = _train_kernel(
                tuple(weights),
                X,
                Y,
                dt(alpha),
                epochs,
                batch_size,
                bool(relu),
                dt(0),
                dt(1),
                errors,
            )
        return errors if done == epochs else errors[:done]

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
        from .numba_sweep import sweep  # imported (and compiled) on first use only

        return sweep(sizes, X, Y, seeds, alphas, epochs, batch_size, relu, curves, weights, threads)
