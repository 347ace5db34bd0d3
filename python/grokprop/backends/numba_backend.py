"""The Numba backend: the reference's loops, JIT-compiled, bit for bit equal to it.

The eight kernels of :class:`._protocol.Kernels` are thin wrappers of compiled loops and
the compositions (forward, deltas, step, ...) are :class:`._protocol.Backend`'s; ``train``
and ``sweep`` are fused compiled loops of their own. The JIT options, the cache switch
and the activations' row functions are in :mod:`._numba_jit`.

Each reduction keeps the contract's order (docs/design.md, "Evaluation order"): it
starts from zero and adds its terms in increasing index order; vectorising happens only
over the *output* index, which LLVM may do without changing any result.

float32 stays float32: a float literal such as ``0.0`` is float64 in Numba and would
promote the arithmetic, and ``float32 / int`` is float64. So the kernels use no float
literals at all. ``alpha``, zero and one arrive already rounded to the network dtype
(``X.dtype.type(...)``), scalars start from the typed zero, and a batch's row count is
converted by storing it in an array of the dtype.

Weights are passed to the fused loop as a *tuple* of 2-D arrays: all ``W[l]`` share one
dtype and layout, so the tuple is a homogeneous ``UniTuple`` that the loop indexes with a
runtime layer number. Building it and passing it costs well under a microsecond
(building a ``numba.typed.List`` of them costs about 20 µs), and the loop writes through
it into the caller's arrays, so the update is in place. Each new depth compiles one more
specialisation, once; networks are shallow.

What the kernels receive has passed the Python API's validation (docs/design.md,
"Validation"). The only checks left inside them are of shapes: numba does not
bounds-check, so a direct call with shapes that do not chain would otherwise read and
write out of bounds. Dtypes and layouts are not checked again: a wrong one makes numba
compile another specialisation (or refuse to type it), which cannot touch memory it
should not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .._interrupt import StopFlag, new_flag
from .._typing import FloatArray
from ..specs import Activation, SweepSpec, TrainSpec
from ._numba_jit import activate_row, jit, jit_inline, scale_by_deriv_row
from ._protocol import Backend, SweepArrays

__all__ = ["NumbaBackend"]

_NEVER = new_flag()  # the stop flag of a run nobody interrupts (never set)


# --------------------------------------------------------------------------- row kernels
#
# One example at a time, writing into preallocated outputs. The fused loops and the
# per-layer kernels are both built from them, so the order of every operation is
# stated once.


@jit_inline
def _affine_row(a, W, z, zero):  # type: ignore[no-untyped-def]
    """``z[j] = ((0 + a[0]*W[0,j]) + a[1]*W[1,j]) + ...`` (vectorisable over ``j``)."""
    n_out = W.shape[1]
    for j in range(n_out):
        z[j] = zero
    for k in range(W.shape[0]):
        ak = a[k]
        for j in range(n_out):
            z[j] += ak * W[k, j]


@jit_inline
def _error_row(out, y, d, zero):  # type: ignore[no-untyped-def]
    """``d = out - y``; returns ``sum_j d[j] * d[j]`` summed in order."""
    e = zero
    for j in range(out.shape[0]):
        diff = out[j] - y[j]
        d[j] = diff
        e += diff * diff
    return e


@jit_inline
def _backprop_row(d_next, W, a, activation, zero, one, d):  # type: ignore[no-untyped-def]
    """``d[k] = (sum_j d_next[j] * W[k,j]) * activation'(a[k])``, the sum in order."""
    for k in range(W.shape[0]):
        s = zero
        for j in range(W.shape[1]):
            s += d_next[j] * W[k, j]
        d[k] = s
    scale_by_deriv_row(d, a, activation, zero, one)


# --------------------------------------------------------------------------- fused loops


@jit
def _check_network(weights, X, Y):  # type: ignore[no-untyped-def]
    """Raise ``ValueError`` unless ``X -> W[0] -> ... -> W[L-1] -> Y`` chain up.

    The loops index without bounds checks, so a direct call with shapes that do not
    chain would read and write out of bounds; this check is what stands between.
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


@jit
def _train_kernel(weights, X, Y, alpha, epochs, batch_size, activation, zero, one, errors, stop):  # type: ignore[no-untyped-def]
    """Fused mini-batch descent; fills ``errors`` (at least ``epochs`` long) and returns
    the number of epochs run.

    ``alpha``, ``zero`` and ``one`` are scalars of the data dtype. Workspace is
    allocated once, here: the activations ``a_0..a_L`` and deltas of the current
    row (layer ``l`` at ``off[l]:off[l + 1]`` of ``acts`` / ``dels``) and, for
    batches of more than one row, the weight-delta sums ``S[l]`` (at
    ``woff[l]:woff[l + 1]`` of ``sums``, row-major like ``W[l]``). ``stop[0]`` set by
    another thread ends the loop at the next row (docs/design.md, "Interrupts").
    """
    _check_network(weights, X, Y)
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
            end = min(start + batch_size, n_rows)
            if not stochastic:
                sums[:] = zero
            for r in range(start, end):
                if stop[0]:
                    return epoch
                for k in range(off[1]):
                    acts[k] = X[r, k]
                for l in range(n_layers):
                    z = acts[off[l + 1] : off[l + 2]]
                    _affine_row(acts[off[l] : off[l + 1]], weights[l], z, zero)
                    if l < last:
                        activate_row(z, activation, zero)
                epoch_error += _error_row(acts[off[n_layers] :], Y[r], dels[off[n_layers] :], zero)
                # every delta from the weights as they were before this step
                for l in range(last, 0, -1):
                    _backprop_row(
                        dels[off[l + 1] : off[l + 2]],
                        weights[l],
                        acts[off[l] : off[l + 1]],
                        activation,
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
                count[0] = end - start
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


@jit
def _train_two_layer(W0, W1, X, Y, alpha, epochs, activation, zero, one, errors, stop):  # type: ignore[no-untyped-def]
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
    h = np.empty(n_hidden, X.dtype)  # the current row's hidden layer
    d_hidden = np.empty(n_hidden, X.dtype)
    h_ready = False  # h already computed by the previous fused step
    for epoch in range(epochs):
        epoch_error = zero
        for r in range(n_rows):
            if stop[0]:
                return epoch
            if not h_ready:
                for j in range(n_hidden):
                    h[j] = zero
                for k in range(n_in):
                    x_k = X[r, k]
                    for j in range(n_hidden):
                        h[j] += x_k * W0[k, j]
                activate_row(h, activation, zero)
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
            scale_by_deriv_row(d_hidden, h, activation, zero, one)
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
                activate_row(h, activation, zero)
            else:
                for k in range(n_in):
                    x_k = X[r, k]
                    for j in range(n_hidden):
                        W0[k, j] -= alpha * (zero + x_k * d_hidden[j])
        errors[epoch] = epoch_error
        if not np.isfinite(epoch_error):
            return epoch + 1
    return epochs


# --------------------------------------------------------------------------- per-layer kernels
#
# Whole batches, each a loop over rows of a row kernel; each checks the shapes it would
# otherwise index out of bounds with.


@jit
def _forward_layer(A, W, activation, zero):  # type: ignore[no-untyped-def]
    """``activation(A @ W)``, row by row."""
    if A.shape[1] != W.shape[0]:
        raise ValueError("layer input has a different width than the weights have rows")
    out = np.empty((A.shape[0], W.shape[1]), W.dtype)
    for r in range(A.shape[0]):
        _affine_row(A[r], W, out[r], zero)
        activate_row(out[r], activation, zero)
    return out


@jit
def _activate_flat(z, activation, zero):  # type: ignore[no-untyped-def]
    out = z.copy()
    activate_row(out, activation, zero)
    return out


@jit
def _activate_deriv_flat(a, activation, zero, one):  # type: ignore[no-untyped-def]
    """``activation'(a)`` as ``1 * activation'(a)``, which is the same number."""
    out = np.empty_like(a)
    out[:] = one
    scale_by_deriv_row(out, a, activation, zero, one)
    return out


@jit
def _example_errors(output, Y, zero):  # type: ignore[no-untyped-def]
    """Per-row errors ``sum_j (output[r, j] - Y[r, j])**2``."""
    if output.shape[0] != Y.shape[0] or output.shape[1] != Y.shape[1]:
        raise ValueError("output and Y have different shapes")
    err = np.empty(output.shape[0], output.dtype)
    scratch = np.empty(output.shape[1], output.dtype)
    for r in range(output.shape[0]):
        err[r] = _error_row(output[r], Y[r], scratch, zero)
    return err


@jit
def _output_delta(output, Y):  # type: ignore[no-untyped-def]
    """``output - Y``."""
    if output.shape[0] != Y.shape[0] or output.shape[1] != Y.shape[1]:
        raise ValueError("output and Y have different shapes")
    delta = np.empty(output.shape, output.dtype)
    for r in range(output.shape[0]):
        for j in range(output.shape[1]):
            delta[r, j] = output[r, j] - Y[r, j]
    return delta


@jit
def _backprop_layer(D, W, A, activation, zero, one):  # type: ignore[no-untyped-def]
    """``(D @ W.T) * activation'(A)`` row by row (for ``LINEAR``, ``A`` is not read)."""
    if D.shape[1] != W.shape[1]:
        raise ValueError("delta has a different width than the weights have columns")
    if A.shape[0] != D.shape[0] or A.shape[1] != W.shape[0]:
        raise ValueError("layer has a different shape than the delta it scales")
    out = np.empty((D.shape[0], W.shape[0]), W.dtype)
    for r in range(D.shape[0]):
        _backprop_row(D[r], W, A[r], activation, zero, one, out[r])
    return out


@jit
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


@jit
def _update_layer(W, G, alpha):  # type: ignore[no-untyped-def]
    """In place ``W -= alpha * G``."""
    if W.shape[0] != G.shape[0] or W.shape[1] != G.shape[1]:
        raise ValueError("weights and weight delta have different shapes")
    for k in range(W.shape[0]):
        for j in range(W.shape[1]):
            W[k, j] -= alpha * G[k, j]


# --------------------------------------------------------------------------- backend


class NumbaBackend(Backend):
    """``numba``: the reference's evaluation order, JIT-compiled; equal to it bit for bit."""

    name = "numba"

    # -- the kernels ---------------------------------------------------------------------
    def layer_forward(self, A: FloatArray, W: FloatArray, activation: Activation) -> FloatArray:
        return _forward_layer(A, W, int(activation), W.dtype.type(0))  # type: ignore[no-any-return]

    def activate(self, z: FloatArray, activation: Activation) -> FloatArray:
        flat = np.ascontiguousarray(z).reshape(-1)
        return _activate_flat(flat, int(activation), z.dtype.type(0)).reshape(z.shape)  # type: ignore[no-any-return]

    def activate_deriv(self, out: FloatArray, activation: Activation) -> FloatArray:
        flat = np.ascontiguousarray(out).reshape(-1)
        dt = out.dtype.type
        return _activate_deriv_flat(flat, int(activation), dt(0), dt(1)).reshape(out.shape)  # type: ignore[no-any-return]

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        return _example_errors(output, Y, output.dtype.type(0))  # type: ignore[no-any-return]

    def output_delta(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        return _output_delta(output, Y)  # type: ignore[no-any-return]

    def layer_delta(
        self, D: FloatArray, W: FloatArray, A: FloatArray, activation: Activation
    ) -> FloatArray:
        dt = W.dtype.type
        return _backprop_layer(D, W, A, int(activation), dt(0), dt(1))  # type: ignore[no-any-return]

    def weight_delta(self, A: FloatArray, D: FloatArray) -> FloatArray:
        return _weight_delta(A, D, D.dtype.type(0))  # type: ignore[no-any-return]

    def update_layer(self, W: FloatArray, G: FloatArray, alpha: float) -> None:
        _update_layer(W, G, W.dtype.type(alpha))

    # -- the fused loops -----------------------------------------------------------------
    def train(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        spec: TrainSpec,
        stop: StopFlag | None = None,
    ) -> FloatArray:
        dt = X.dtype.type
        flag = _NEVER if stop is None else stop
        epochs = spec.epochs
        errors = np.empty(epochs, dtype=X.dtype)  # the loops fill the epochs they run
        if len(weights) == 2 and spec.batch_size == 1:
            done = _train_two_layer(
                weights[0],
                weights[1],
                X,
                Y,
                dt(spec.alpha),
                epochs,
                int(spec.activation),
                dt(0),
                dt(1),
                errors,
                flag,
            )
        else:
            done = _train_kernel(
                tuple(weights),
                X,
                Y,
                dt(spec.alpha),
                epochs,
                spec.batch_size,
                int(spec.activation),
                dt(0),
                dt(1),
                errors,
                flag,
            )
        return errors if done == epochs else errors[:done]

    def sweep(
        self,
        X: FloatArray,
        Y: FloatArray,
        seeds: NDArray[np.uint32],
        alphas: NDArray[np.float64],
        spec: SweepSpec,
        threads: int,
        stop: StopFlag | None = None,
    ) -> SweepArrays:
        from .numba_sweep import sweep  # imported (and compiled) on first use only

        return sweep(X, Y, seeds, alphas, spec, threads, _NEVER if stop is None else stop)
