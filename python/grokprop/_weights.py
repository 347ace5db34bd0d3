"""A network's weights: the book initialisation and the one aligned buffer they live in.

Every weight matrix of a :class:`grokprop.Network` is a C-contiguous view into one
zero-padded buffer, each starting on a 64-byte boundary. A fit's transaction saves, checks
and restores all of them at once through :attr:`WeightBuffer.buffer` (one copy, one pass;
grokprop.backends._protocol.transaction, or one ``_core`` call on cpp), which matters for
the chapter's tiny networks, and the compiled kernels' vector loads of a row never straddle
cache lines needlessly.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

import numpy as np

from . import _validation as check
from ._typing import FloatArray, FloatDType

__all__ = ["ALIGNMENT", "WeightBuffer", "WeightMatrices", "book_weights", "count_weights"]

ALIGNMENT = 64  # bytes: a cache line, and the widest vector the C++ kernels load


@functools.lru_cache(maxsize=256)
def count_weights(sizes: tuple[int, ...]) -> int:
    """How many weights a network of layer ``sizes`` has: ``sum(n_l * n_{l+1})``."""
    return sum(a * b for a, b in itertools.pairwise(sizes))


def book_weights(
    sizes: Sequence[int], seed: int | None, dtype: FloatDType, scale: float = 1.0
) -> list[FloatArray]:
    """The book's initialisation: ``W[l] = 2 * rng.random_sample((n_l, n_{l+1})) - 1``.

    ``rng = numpy.random.RandomState(seed)`` draws the layers in order; each matrix is
    computed in float64, times ``scale`` unless it is 1 (the book's own bits), and rounded
    to ``dtype`` once. Refuses (``MemoryError``) a network larger than the machine's memory.
    """
    shapes = list(itertools.pairwise(sizes))
    # random_sample draws float64 and the expression makes a temporary: 2 float64 matrices
    largest = max(n_in * n_out for n_in, n_out in shapes)
    total = sum(n_in * n_out for n_in, n_out in shapes)
    check.check_memory(
        total * dtype.itemsize + 2 * largest * 8, f"a network of sizes {list(sizes)}"
    )
    rng = np.random.RandomState(seed)
    try:
        with np.errstate(all="ignore"):  # a scale too large for the dtype is refused below
            weights = [
                np.ascontiguousarray(
                    (2 * rng.random_sample(shape) - 1) * scale
                    if scale != 1.0
                    else 2 * rng.random_sample(shape) - 1,
                    dtype=dtype,
                )
                for shape in shapes
            ]
    except MemoryError as exc:
        raise MemoryError(
            f"not enough memory for a network of sizes {list(sizes)}: {exc}"
        ) from None
    if scale != 1.0 and not all(check.all_finite(w) for w in weights):
        raise ValueError(
            f"weight_scale={scale!r} makes weights that are not finite in {dtype.name} "
            f"(|weights| up to {scale:.3g}, {dtype.name}'s largest is {np.finfo(dtype).max:.3g})"
        )
    return weights


class WeightMatrices(tuple):  # type: ignore[type-arg]
    """``net.weights``: the network's live weight matrices, in a sequence that cannot be
    reassigned item by item (``net.weights[0] = ...`` would silently change nothing)."""

    __slots__ = ()

    def __setitem__(self, index: object, value: object) -> None:
        raise TypeError(
            "net.weights cannot be assigned item by item; set all of them with "
            "net.set_weights([...]) (or net.weights = [...]), or change values in place, "
            "e.g. net.weights[0][k, j] = value"
        )


class WeightBuffer:
    """The weight matrices as views into one aligned buffer (see the module docstring)."""

    __slots__ = ("buffer", "dtype", "shapes", "views")

    def __init__(self, matrices: Sequence[FloatArray], dtype: FloatDType) -> None:
        """Copy ``matrices`` (already of ``dtype``, chained shapes) into a fresh buffer."""
        step = ALIGNMENT // dtype.itemsize
        offsets = []
        total = 0
        for matrix in matrices:
            offsets.append(total)
            total += -(-matrix.size // step) * step
        raw = np.zeros(total + step, dtype=dtype)
        start = (-raw.ctypes.data % ALIGNMENT) // dtype.itemsize
        self.buffer: FloatArray = raw[start : start + total]
        self.dtype = dtype
        self.views: list[FloatArray] = []
        for matrix, offset in zip(matrices, offsets):
            view = self.buffer[offset : offset + matrix.size].reshape(matrix.shape)
            view[...] = matrix
            self.views.append(view)
        self.shapes: list[tuple[int, int]] = [(w.shape[0], w.shape[1]) for w in self.views]

    def all_finite(self) -> bool:
        """No weight is NaN or inf (one pass over the buffer)."""
        return check.all_finite(self.buffer)

    def detached(self, data: FloatArray) -> FloatArray:
        """2-D ``data``, copied if it lies at least partly in the weights' memory.

        ``net.fit(net.weights[0], ...)`` must read the data as it was when called, on every
        backend alike (``_core`` would refuse the overlap; numba would read moving values).
        Called with the network's lock held, as training is.
        """
        base = data.base
        if base is None:
            return data  # owns its memory (the weights' is 1-D: every matrix is a view of it)
        if type(base) is np.ndarray and base.flags.owndata and base is not self.buffer.base:
            # NumPy points a view's base at the array that owns the memory, here another
            # allocation than the weights': half of may_share_memory's time (the book's rows
            # are such views, X[i : i + 1])
            return data
        # may_share_memory compares the memory extents only, a fraction of a microsecond
        # (reading __array_interface__ builds a dict, several microseconds)
        if np.may_share_memory(data, self.buffer):
            copied: FloatArray = data.copy()
            return copied
        return data

    def copies(self) -> list[FloatArray]:
        """Independent copies of the weight matrices."""
        return [w.copy() for w in self.views]

    def check_trainable(self) -> None:
        """``check_views(writeable=True, finite=False)``, for fit and step: their transaction
        settles finiteness instead (a pass less; non-finite weights end in a non-finite
        outcome). The fast path first: a step on the book network is a few microseconds."""
        if not check.views_intact(self.views, self.shapes, self.dtype, True):
            self.check_views(writeable=True, finite=False)

    def check_views(self, *, writeable: bool, finite: bool = True) -> None:
        """The views are still fit to compute with (and to train, if ``writeable``).

        The views are handed out, so a user can change them in place: assign NaN, reshape
        (``w.shape = ...``), or set ``w.flags.writeable = False``. The compiled loops must
        never see such an array (numba does not bounds-check), so every call checks first:
        a few attribute reads plus one ``isfinite`` pass over the buffer (none with
        ``finite=False``, for a caller that checks the outcome instead, as fit does).
        """
        finite_buffer = not finite or self.all_finite()
        if finite_buffer and check.views_intact(self.views, self.shapes, self.dtype, writeable):
            return
        dtype = self.dtype
        for l, w in enumerate(self.views):
            flags, shape = w.flags, self.shapes[l]
            if w.shape != shape or (w.dtype is not dtype and w.dtype != dtype):
                raise ValueError(
                    f"weights[{l}] must have shape {shape} and dtype {dtype.name}, got shape "
                    f"{w.shape} and dtype {w.dtype.name}; it was changed in place through "
                    "net.weights"
                )
            if not (flags.c_contiguous and flags.aligned):
                raise ValueError(
                    f"weights[{l}] must be C-contiguous and aligned; it was changed in place"
                )
            if writeable and not flags.writeable:
                raise ValueError(
                    f"weights[{l}] is read-only (flags.writeable is False) but training "
                    f"updates it in place; set net.weights[{l}].flags.writeable = True, or "
                    "train net.copy()"
                )
            if not finite_buffer and not check.all_finite(w):
                raise ValueError(
                    f"weights[{l}] must be finite (no NaN or inf); it was changed in place "
                    "through net.weights"
                )
