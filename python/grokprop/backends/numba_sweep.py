"""The Numba sweep: blocks of networks trained in lock-step, each bit for bit as alone.

The numba counterpart of ``cpp/include/grokprop/sweep.hpp``: every array of the
per-network algorithm gets a trailing lane axis of ``LANES`` networks (weights ``w[i, lane]``
with ``i`` the flat index of ``W[l][k][j]``), and each operation of the reference's loop
becomes a loop over the lanes, which LLVM vectorises (no ``fastmath``: the lanes are
independent, nothing is reassociated). Within a lane the operations are exactly those of
:func:`grokprop.backends.numba_backend._train_kernel`, in the same order -- sums start from
zero, ``W -= alpha * (0 + a * d)`` -- so no argument beyond the contract is needed
(docs/design.md, "Sweeps"). The activations are :mod:`._numba_jit`'s row functions,
applied to a row of ``LANES`` values.

The book initialisation is computed here too: ``numpy.random.RandomState(seed)
.random_sample()`` is MT19937 (``init_genrand`` seeding, tempering, ``genrand_res53``), and
sweeps need only its first ``sum(n_l * n_{l+1})`` numbers, which come from the first
twist as long as there are at most 113 of them; otherwise the whole generator runs.

Numba compiles for the CPU it runs on (AVX2 / AVX-512 where present), which the
portable C++ build cannot assume; LLVM still contracts nothing into FMA without
``fastmath``, so the bits do not depend on the ISA.

Blocks are split into ``threads`` contiguous chunks, each trained by one call of the
kernel on its own Python thread (the kernel releases the GIL), so no ``parallel=True``
compilation is needed and results cannot depend on the number of threads.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._interrupt import StopFlag
from .._typing import FloatArray
from ..specs import SweepSpec
from ._numba_jit import activate_row, jit, jit_inline, scale_by_deriv_row
from ._protocol import SweepArrays

__all__ = ["LANES", "book_uniforms", "sweep"]

#: Networks per block. Long lane loops are deliberate: LLVM fully unrolls short ones and
#: then cannot vectorise them (it cannot prove the workspace arrays do not alias), while
#: a long loop gets one runtime alias check and vector code (measured: 8 lanes 10 µs per
#: book network, 64 lanes 3.4 µs, 128 lanes 2.7 µs, 256 lanes 3.1 µs).
LANES = 128

# MT19937 in uint64 arithmetic (numba would widen uint32 anyway), masked to 32 bits.
_MASK32 = np.uint64(0xFFFFFFFF)
_UPPER = np.uint64(0x80000000)
_LOWER = np.uint64(0x7FFFFFFF)
_MATRIX_A = np.uint64(0x9908B0DF)
_SEED_MULT = np.uint64(1812433253)
_N = 624
_M = 397
_FAST_DOUBLES = (_N - _M) // 2  # numbers computable from the first twist alone
_U0, _U1, _U5, _U6, _U7 = (np.uint64(v) for v in (0, 1, 5, 6, 7))
_U11, _U15, _U18, _U30 = (np.uint64(v) for v in (11, 15, 18, 30))
_TEMPER_B = np.uint64(0x9D2C5680)
_TEMPER_C = np.uint64(0xEFC60000)


@jit_inline
def _seed_word(previous, i):  # type: ignore[no-untyped-def]
    """init_genrand: key[i] from key[i - 1] (``i`` a uint64)."""
    return (_SEED_MULT * (previous ^ (previous >> _U30)) + i) & _MASK32


@jit_inline
def _twist(current, following, shifted):  # type: ignore[no-untyped-def]
    y = (current & _UPPER) | (following & _LOWER)
    return shifted ^ (y >> _U1) ^ (_MATRIX_A if (y & _U1) != _U0 else _U0)


@jit_inline
def _temper(y):  # type: ignore[no-untyped-def]
    y ^= y >> _U11
    y ^= (y << _U7) & _TEMPER_B
    y ^= (y << _U15) & _TEMPER_C
    y ^= y >> _U18
    return y & _MASK32


@jit_inline
def _res53(a, b):  # type: ignore[no-untyped-def]
    """genrand_res53: ((a >> 5) * 2**26 + (b >> 6)) / 2**53."""
    return (np.float64(a >> _U5) * 67108864.0 + np.float64(b >> _U6)) / 9007199254740992.0


@jit_inline
def _regenerate(key):  # type: ignore[no-untyped-def]
    """The twist: all 624 state words anew."""
    for kk in range(_N - _M):
        key[kk] = _twist(key[kk], key[kk + 1], key[kk + _M])
    for kk in range(_N - _M, _N - 1):
        key[kk] = _twist(key[kk], key[kk + 1], key[kk + _M - _N])
    key[_N - 1] = _twist(key[_N - 1], key[0], key[_M - 1])


@jit_inline
def _uniforms_full(seed, count, out, lane, key):  # type: ignore[no-untyped-def]
    """out[i, lane] = number i of RandomState(seed), the whole generator (any count)."""
    key[0] = np.uint64(seed)
    for i in range(1, _N):
        key[i] = _seed_word(key[i - 1], np.uint64(i))
    pos = _N
    for i in range(count):
        if pos == _N:
            _regenerate(key)
            pos = 0
        a = _temper(key[pos])
        pos += 1
        if pos == _N:
            _regenerate(key)
            pos = 0
        b = _temper(key[pos])
        pos += 1
        out[i, lane] = _res53(a, b)


@jit_inline
def _uniforms_block(seeds, count, out, low, high, key):  # type: ignore[no-untyped-def]
    """out[i, lane] = number i of RandomState(seeds[lane]) for every lane of a block.

    For count <= 113 only key[0 .. 2 count] and key[M .. M + 2 count) of the seeding are
    computed (the lanes' recurrences side by side) and twisted once; otherwise each lane
    runs the whole generator.
    """
    lanes = seeds.shape[0]
    if count > _FAST_DOUBLES:
        for lane in range(lanes):
            _uniforms_full(seeds[lane], count, out, lane, key)
        return
    words = 2 * count
    state = np.empty(lanes, np.uint64)
    for lane in range(lanes):
        state[lane] = np.uint64(seeds[lane])
        low[0, lane] = state[lane]
    for i in range(1, _M + words):
        ui = np.uint64(i)
        for lane in range(lanes):
            state[lane] = _seed_word(state[lane], ui)
        if i <= words:
            for lane in range(lanes):
                low[i, lane] = state[lane]
        elif i >= _M:
            for lane in range(lanes):
                high[i - _M, lane] = state[lane]
    for i in range(count):
        w = 2 * i
        for lane in range(lanes):
            a = _temper(_twist(low[w, lane], low[w + 1, lane], high[w, lane]))
            b = _temper(_twist(low[w + 1, lane], low[w + 2, lane], high[w + 1, lane]))
            out[i, lane] = _res53(a, b)


@jit
def _book_uniforms_kernel(seeds, count):  # type: ignore[no-untyped-def]
    n = seeds.shape[0]
    result = np.empty((n, count), np.float64)
    out = np.empty((count, LANES), np.float64)
    low = np.empty((_N - _M + 1, LANES), np.uint64)
    high = np.empty((_N - _M, LANES), np.uint64)
    key = np.empty(_N, np.uint64)
    block = np.empty(LANES, np.uint32)
    for begin in range(0, n, LANES):
        for lane in range(LANES):
            block[lane] = seeds[min(begin + lane, n - 1)]
        _uniforms_block(block, count, out, low, high, key)
        for lane in range(min(LANES, n - begin)):
            for i in range(count):
                result[begin + lane, i] = out[i, lane]
    return result


def book_uniforms(seeds: NDArray[np.uint32], count: int) -> NDArray[np.float64]:
    """Row ``i``: ``numpy.random.RandomState(seeds[i]).random_sample(count)`` (for tests)."""
    return _book_uniforms_kernel(np.ascontiguousarray(seeds, np.uint32), count)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- training


@jit_inline
def _forward_block(w, acts, X, r, sizes, woff, aoff, activation, zero):  # type: ignore[no-untyped-def]
    """Every layer for data row r in every lane: acts[aoff[l] + j] = a_{l+1}[j]."""
    n_layers = sizes.shape[0] - 1
    for l in range(n_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        for j in range(n_out):
            z = aoff[l] + j
            for lane in range(LANES):
                acts[z, lane] = zero
            for k in range(n_in):
                i = woff[l] + k * n_out + j
                if l == 0:
                    xk = X[r, k]
                    for lane in range(LANES):
                        acts[z, lane] += xk * w[i, lane]
                else:
                    a = aoff[l - 1] + k
                    for lane in range(LANES):
                        acts[z, lane] += acts[a, lane] * w[i, lane]
            if l < n_layers - 1:
                activate_row(acts[z], activation, zero)


@jit_inline
def _backward_block(w, acts, dels, Y, r, sizes, woff, aoff, activation, zero, one, error, example):  # type: ignore[no-untyped-def]
    """Output delta, the example's error added to ``error``, and the hidden deltas.

    ``example`` is scratch for the example's error (LANES entries).
    """
    n_layers = sizes.shape[0] - 1
    last = aoff[n_layers - 1]
    for lane in range(LANES):
        example[lane] = zero
    for j in range(sizes[n_layers]):
        yj = Y[r, j]
        for lane in range(LANES):
            diff = acts[last + j, lane] - yj
            dels[last + j, lane] = diff
            example[lane] += diff * diff
    for lane in range(LANES):
        error[lane] += example[lane]
    for l in range(n_layers - 1, 0, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        for k in range(n_in):
            d = aoff[l - 1] + k
            for lane in range(LANES):
                dels[d, lane] = zero
            for j in range(n_out):
                i, dn = woff[l] + k * n_out + j, aoff[l] + j
                for lane in range(LANES):
                    dels[d, lane] += dels[dn, lane] * w[i, lane]
            scale_by_deriv_row(dels[d], acts[d], activation, zero, one)


@jit_inline
def _outer_block(target, acts, dels, X, r, sizes, woff, aoff, alpha, stochastic, zero):  # type: ignore[no-untyped-def]
    """Stochastic: W -= alpha * (0 + a_k * d_j); batched: S += a_k * d_j (target is S)."""
    n_layers = sizes.shape[0] - 1
    for l in range(n_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        for k in range(n_in):
            for j in range(n_out):
                i, d = woff[l] + k * n_out + j, aoff[l] + j
                if l == 0:
                    xk = X[r, k]
                    if stochastic:
                        for lane in range(LANES):
                            target[i, lane] -= alpha[lane] * (zero + xk * dels[d, lane])
                    else:
                        for lane in range(LANES):
                            target[i, lane] += xk * dels[d, lane]
                else:
                    a = aoff[l - 1] + k
                    if stochastic:
                        for lane in range(LANES):
                            target[i, lane] -= alpha[lane] * (zero + acts[a, lane] * dels[d, lane])
                    else:
                        for lane in range(LANES):
                            target[i, lane] += acts[a, lane] * dels[d, lane]


@jit_inline
def _lane_weights_finite(w, lane):  # type: ignore[no-untyped-def]
    for i in range(w.shape[0]):  # noqa: SIM110 (a plain loop compiles best in numba)
        if not np.isfinite(w[i, lane]):
            return False
    return True


@jit
def _check_sweep(sizes, X, Y, seeds, alphas):  # type: ignore[no-untyped-def]
    """Raise ``ValueError`` unless the data fit the layer sizes and every seed has an alpha.

    The blocks index without bounds checks, so a direct call with data of other widths
    would read out of bounds; this check is what stands between. (The sizes themselves
    come from a :class:`grokprop.specs.SweepSpec`, which checked them.)
    """
    if X.shape[1] != sizes[0]:
        raise ValueError("X has a different number of columns than sizes[0]")
    if Y.shape[0] != X.shape[0]:
        raise ValueError("X and Y have a different number of rows")
    if Y.shape[1] != sizes[sizes.shape[0] - 1]:
        raise ValueError("Y has a different number of columns than sizes[-1]")
    if alphas.shape[0] != seeds.shape[0]:
        raise ValueError("seeds and alphas have different lengths")


@jit
def _train_blocks(  # type: ignore[no-untyped-def]
    first, last, sizes, X, Y, seeds, alphas, epochs, batch_size, activation, zero, one,
    final_errors, diverged, curves, weights, stop,
):  # fmt: skip
    """Train blocks [first, last): network i from RandomState(seeds[i]) with alphas[i].

    Fills final_errors, diverged and -- when they have a row per network -- curves
    (n, epochs) and weights (n, params). Lanes past the last network repeat it.
    ``stop[0]`` set by another thread ends the loop before the next block or the next epoch
    of a block (docs/design.md, "Interrupts"); the results are then incomplete.
    """
    _check_sweep(sizes, X, Y, seeds, alphas)
    n = seeds.shape[0]
    n_layers = sizes.shape[0] - 1
    want_curves = curves.shape[0] == n
    want_weights = weights.shape[0] == n
    woff = np.zeros(n_layers + 1, np.int64)
    aoff = np.zeros(n_layers + 1, np.int64)
    for l in range(n_layers):
        woff[l + 1] = woff[l] + sizes[l] * sizes[l + 1]
        aoff[l + 1] = aoff[l] + sizes[l + 1]
    params = woff[n_layers]
    n_rows = X.shape[0]
    stochastic = batch_size == 1
    w = np.empty((params, LANES), X.dtype)
    sums = np.empty((params, LANES), X.dtype)
    acts = np.empty((aoff[n_layers], LANES), X.dtype)
    dels = np.empty((aoff[n_layers], LANES), X.dtype)
    uniforms = np.empty((params, LANES), np.float64)
    low = np.empty((_N - _M + 1, LANES), np.uint64)
    high = np.empty((_N - _M, LANES), np.uint64)
    key = np.empty(_N, np.uint64)
    block_seeds = np.empty(LANES, np.uint32)
    alpha = np.empty(LANES, X.dtype)
    error = np.empty(LANES, X.dtype)
    example = np.empty(LANES, X.dtype)
    last_error = np.empty(LANES, X.dtype)
    active = np.empty(LANES, np.bool_)
    count = np.empty(1, X.dtype)  # a batch's row count, rounded to the dtype
    for b in range(first, last):
        if stop[0]:  # before a block's initialisation too, which can outlast its training
            break
        begin = b * LANES
        used = min(LANES, n - begin)
        for lane in range(LANES):
            net = begin + min(lane, used - 1)
            block_seeds[lane] = seeds[net]
            alpha[lane] = alphas[net]
            active[lane] = lane < used
            last_error[lane] = np.nan
        _uniforms_block(block_seeds, params, uniforms, low, high, key)
        for i in range(params):
            for lane in range(LANES):
                w[i, lane] = 2.0 * uniforms[i, lane] - 1.0
        running = used
        for epoch in range(epochs):
            if running == 0 or stop[0]:
                break
            for lane in range(LANES):
                error[lane] = zero
            for start in range(0, n_rows, batch_size):
                end = min(start + batch_size, n_rows)
                if not stochastic:
                    sums[:] = zero
                for r in range(start, end):
                    _forward_block(w, acts, X, r, sizes, woff, aoff, activation, zero)
                    _backward_block(
                        w,
                        acts,
                        dels,
                        Y,
                        r,
                        sizes,
                        woff,
                        aoff,
                        activation,
                        zero,
                        one,
                        error,
                        example,
                    )
                    target = w if stochastic else sums
                    _outer_block(target, acts, dels, X, r, sizes, woff, aoff, alpha, stochastic, zero)  # fmt: skip
                if not stochastic:
                    count[0] = end - start
                    m = count[0]
                    for i in range(params):
                        for lane in range(LANES):
                            w[i, lane] -= alpha[lane] * (sums[i, lane] / m)
            running = 0
            for lane in range(used):
                if not active[lane]:
                    continue
                net = begin + lane
                last_error[lane] = error[lane]
                if want_curves:
                    curves[net, epoch] = error[lane]
                if np.isfinite(error[lane]):
                    running += 1
                    continue
                # diverged: this network stops here, as the fused training loop does
                active[lane] = False
                diverged[net] = True
                if want_weights:
                    for i in range(params):
                        weights[net, i] = w[i, lane]
                if want_curves:
                    for e in range(epoch + 1, epochs):
                        curves[net, e] = np.nan
        for lane in range(used):
            net = begin + lane
            final_errors[net] = last_error[lane]
            if active[lane]:
                diverged[net] = not _lane_weights_finite(w, lane)
                if want_weights:
                    for i in range(params):
                        weights[net, i] = w[i, lane]


def sweep(
    X: FloatArray,
    Y: FloatArray,
    seeds: NDArray[np.uint32],
    alphas: NDArray[np.float64],
    spec: SweepSpec,
    threads: int,
    stop: StopFlag,
) -> SweepArrays:
    """:meth:`grokprop.backends.Backend.sweep` for the numba backend."""
    dtype = X.dtype
    n = len(seeds)
    epochs = spec.epochs
    layer_sizes = np.asarray(spec.sizes, dtype=np.int64)
    params = int(np.sum(layer_sizes[:-1] * layer_sizes[1:]))
    final_errors = np.empty(n, dtype=dtype)
    diverged = np.zeros(n, dtype=np.bool_)
    curve_rows = np.empty((n, epochs) if spec.curves else (0, epochs), dtype=dtype)
    flat_weights = np.empty((n, params) if spec.weights else (0, params), dtype=dtype)
    args: tuple[Any, ...] = (
        layer_sizes, X, Y, seeds, np.ascontiguousarray(alphas, dtype), epochs,
        spec.batch_size, int(spec.activation), dtype.type(0), dtype.type(1),
        final_errors, diverged, curve_rows, flat_weights, stop,
    )  # fmt: skip
    # contiguous ranges of blocks, one per thread (the kernel releases the GIL)
    n_blocks = -(-n // LANES)
    chunks = max(1, min(threads, n_blocks))
    bounds = [n_blocks * c // chunks for c in range(chunks + 1)]
    if chunks == 1:
        _train_blocks(0, n_blocks, *args)
    else:
        with ThreadPoolExecutor(max_workers=chunks - 1) as pool:
            others = [
                pool.submit(_train_blocks, bounds[c], bounds[c + 1], *args)
                for c in range(1, chunks)
            ]
            _train_blocks(bounds[0], bounds[1], *args)
            for future in others:
                future.result()
    stacked = None
    if spec.weights:
        stacked, offset = [], 0
        for n_in, n_out in itertools.pairwise(spec.sizes):
            layer = flat_weights[:, offset : offset + n_in * n_out]
            stacked.append(np.ascontiguousarray(layer).reshape(n, n_in, n_out))
            offset += n_in * n_out
    return SweepArrays(final_errors, diverged, curve_rows if spec.curves else None, stacked)
