"""Argument checks of the public API: the one validation boundary (docs/design.md,
"Validation").

Everything a backend receives passes through here (or through the specs, which use these
checks) first, so the backends only ever see C-contiguous finite arrays of the network's
dtype with chained shapes. Each failure names the argument and the expected form.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """An integer (not a bool, not a float) of at least ``minimum``."""
    if type(value) is int:  # the common case, without the generic checks below
        number = value
    else:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        try:
            number = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {number}")
    return number


def check_sizes(sizes: Any) -> tuple[int, ...]:
    """Layer sizes ``[n0, ..., nL]``: at least two positive integers."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of layer sizes like [3, 4, 1], got {sizes!r}")
    result = tuple(check_int(n, f"sizes[{i}]", minimum=1) for i, n in enumerate(sizes))
    if len(result) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {list(result)}")
    return result


_FLOAT_MAX = sys.float_info.max


def check_positive(value: Any, name: str) -> float:
    """A finite real number > 0 (a learning rate, a scale)."""
    if type(value) is not float and (  # the common case first: a plain float
        isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
    ):
        raise TypeError(f"{name} must be a real number > 0, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int or Fraction beyond the float range
        number = math.inf
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_alpha(alpha: Any, dtype: np.dtype[np.floating] | None = None) -> float:
    """The learning rate: a finite real number > 0 (also once rounded to ``dtype``).

    Backends round alpha to the network's dtype, so a float32 network needs an alpha that
    stays non-zero in float32 (1e-50 would become zero) and is at most float32's largest
    number (one just above it would round down to it, 1e39 up to inf): one rule for every
    backend.
    """
    if (
        type(alpha) is float
        and 0.0 < alpha <= _FLOAT_MAX
        and (dtype is None or dtype.itemsize == 8)
    ):
        return alpha  # the common case (a float64 network's float alpha), without a call
    value = check_positive(alpha, "alpha")
    if dtype is not None and dtype.itemsize < 8:  # a float64 alpha is already its own rounding
        with np.errstate(all="ignore"):
            rounded = dtype.type(value)
        if not (np.isfinite(rounded) and rounded > 0 and value <= float(np.finfo(dtype).max)):
            info = np.finfo(dtype)
            raise ValueError(
                f"alpha must be a finite number > 0 once rounded to the network's "
                f"{dtype.name} (between {info.smallest_subnormal:.3g} and {info.max:.3g}), "
                f"got {alpha!r}"
            )
    return value


SEED_MAX = 2**32 - 1
"""The largest seed ``numpy.random.RandomState(seed)`` accepts."""


def check_seed(seed: Any) -> int | None:
    """``None`` (a fresh seed) or an integer accepted by ``numpy.random.RandomState``."""
    if seed is None:
        return None
    number = check_int(seed, "seed", minimum=0)
    if number > SEED_MAX:
        raise ValueError(f"seed must be an integer from 0 to 2**32 - 1 or None, got {number}")
    return number


@functools.cache
def physical_memory() -> int | None:
    """Bytes of RAM in this machine, or ``None`` where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # e.g. Windows has no sysconf
        return None


def check_memory(nbytes: int, what: str) -> None:
    """``MemoryError`` naming ``what`` if ``nbytes`` exceeds the machine's RAM.

    A guard against absurd sizes (say ``Network([10**6, 10**6, 1])``, 8 TB): refused up
    front with a message, rather than left to an allocation that may succeed under memory
    overcommit and then get the process killed when the pages are touched.
    """
    limit = physical_memory()
    if limit is not None and nbytes > limit:
        raise MemoryError(
            f"{what} needs {nbytes / 2**30:.3g} GiB, more than this machine's "
            f"{limit / 2**30:.3g} GiB of memory"
        )


def all_finite(array: NDArray[np.floating]) -> bool:
    """No NaN or inf in ``array`` (``count_nonzero`` is much cheaper than ``.all()``)."""
    if array.size <= _SMALL:  # one example's row: Python floats beat two ufunc calls
        return all(map(math.isfinite, array.ravel().tolist()))
    return bool(np.count_nonzero(np.isfinite(array)) == array.size)


_SMALL = 16


def as_matrix(
    value: Any, name: str, dtype: np.dtype[np.floating], *, columns: int | None = None
) -> NDArray[np.floating]:
    """``value`` as a finite, C-contiguous 2-D array of ``dtype`` (converted once).

    Integer and float inputs are accepted (the book's are ``int``); booleans, complex
    numbers, strings and objects are not. A 1-D ``value`` is read as one column when
    ``columns == 1`` (the book's ``walk_vs_stop`` vector). An array that already has the
    dtype and layout is returned as it is (not copied).
    """
    accepted = accept_matrix(value, dtype, columns or 0)
    if accepted is not None:  # the common case, decided in compiled code
        return accepted
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must not be a masked array: its masked entries would be used as numbers; "
            "pass value.filled(...) or drop the masked rows"
        )
    if type(value) is np.ndarray:
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:  # ragged nested lists, unconvertible objects
            raise ValueError(f"{name} must be a 2-D array of numbers: {exc}") from None
    kind = array.dtype.kind
    shape = array.shape
    if not (
        len(shape) == 2
        and kind in "iuf"
        and shape[0]
        and shape[1]
        and (columns is None or shape[1] == columns)
    ):
        array = _checked_shape(array, name, columns)
    converted = array
    if array.dtype != dtype or not array.flags.c_contiguous:
        if kind == "f" and array.dtype.itemsize > dtype.itemsize:
            # narrowing: out-of-range values become inf (reported below) and tiny ones 0 or
            # subnormal, whatever the caller's np.errstate
            with np.errstate(over="ignore", under="ignore"):
                converted = array.astype(dtype, order="C")
        else:  # integers and widening floats cannot overflow (errstate costs ~1 µs a call)
            converted = array.astype(dtype, order="C")
    # integers are finite in float32 and float64 (|int64| and uint64 < 2**64 < float32 max)
    if kind == "f" and not all_finite(converted):
        raise ValueError(
            f"{name} must be finite (no NaN or inf) as {dtype.name} "
            f"(|values| <= {np.finfo(dtype).max:.3g})"
        )
    return converted


# -- compiled fast paths ---------------------------------------------------------------------
# _core.accept_matrix, _core.accept_data and _core.views_intact decide the common case of
# as_matrix, as_data and WeightBuffer.check_views in compiled code (about a microsecond each
# on the book network, a tenth of its fit; BENCHMARKS.md) and answer None/False for
# everything else, so the rules and the messages stay in Python. Bound on first use, not at
# import; without the compiled core (a numba-only install) every call takes the Python path.


AcceptMatrix = Callable[[Any, np.dtype[np.floating], int], NDArray[np.floating] | None]
AcceptData = Callable[
    [Any, Any, np.dtype[np.floating], int, int],
    tuple[NDArray[np.floating], NDArray[np.floating]] | None,
]
ViewsIntact = Callable[[list[Any], list[tuple[int, int]], np.dtype[np.floating], bool], bool | None]
_FAST_PATHS = ("accept_matrix", "accept_data", "views_intact")


def _no_fast_path(*args: Any) -> None:
    return None


def _bind_fast_paths() -> None:
    try:
        from . import _core

        found = {name: getattr(_core, name) for name in _FAST_PATHS}
    except ImportError:
        found = dict.fromkeys(_FAST_PATHS, _no_fast_path)
    globals().update(found)


def _first_call(name: str) -> Callable[..., Any]:
    """A stand-in for fast path ``name`` that binds every fast path, then calls it."""

    def first_call(*args: Any) -> Any:
        _bind_fast_paths()
        return globals()[name](*args)

    return first_call


accept_matrix: AcceptMatrix = _first_call("accept_matrix")
"""``value`` as as_matrix returns it, or ``None``: as_matrix decides (``columns`` 0: any)."""

accept_data: AcceptData = _first_call("accept_data")
"""``(X, y)`` as as_data returns them, or ``None``: as_data decides (columns 0: any)."""

views_intact: ViewsIntact = _first_call("views_intact")
"""True if every weight view still has its shape, dtype, layout (and is writeable if
asked); false: :meth:`grokprop._weights.WeightBuffer.check_views` finds out why."""


def _checked_shape(array: NDArray[Any], name: str, columns: int | None) -> NDArray[Any]:
    """``array`` checked as as_matrix describes, or a TypeError/ValueError saying why not."""
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold real numbers (int or float), got dtype {array.dtype.name}"
        )
    if array.ndim == 1 and columns == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows, features), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns, got shape {array.shape}")
    return array


def as_data(
    X: Any,
    y: Any,
    dtype: np.dtype[np.floating],
    x_columns: int | None = None,
    y_columns: int | None = None,
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Training data: ``X`` and ``y`` each :func:`as_matrix` (with ``x_columns`` and
    ``y_columns``), with as many rows."""
    accepted = accept_data(X, y, dtype, x_columns or 0, y_columns or 0)
    if accepted is not None:  # the common case, decided in compiled code
        return accepted
    rows = as_matrix(X, "X", dtype, columns=x_columns)
    targets = as_matrix(y, "y", dtype, columns=y_columns)
    if rows.shape[0] != targets.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {rows.shape[0]} and {targets.shape[0]}"
        )
    return rows, targets


def check_batch_size(batch_size: Any, n_rows: int) -> int:
    """``None`` (full batch) or an integer in ``[1, n_rows]``."""
    if batch_size is None:
        return n_rows
    if type(batch_size) is int and 1 <= batch_size <= n_rows:
        return batch_size
    size = check_int(batch_size, "batch_size", minimum=1)
    if size > n_rows:
        raise ValueError(
            f"batch_size must be between 1 and the number of rows ({n_rows}) or None for "
            f"full-batch, got {size}"
        )
    return size


# -- sweeps (grokprop.sweep) ---------------------------------------------------------------


def check_seeds(seeds: Any) -> NDArray[np.int64]:
    """One seed or an iterable of them: integers in ``[0, 2**32 - 1]``, as a 1-D array."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be an integer or an iterable of integers, got {seeds!r}")
    array = seeds if isinstance(seeds, np.ndarray) else np.asarray(list(seeds))
    if array.ndim != 1:
        raise ValueError(f"seeds must be one integer or a 1-D sequence, got shape {array.shape}")
    if array.size == 0:
        raise ValueError("seeds must hold at least one seed")
    if array.dtype.kind == "O":  # Python ints beyond int64, or mixed objects: one by one
        array = np.asarray([check_int(s, f"seeds[{i}]", minimum=0) for i, s in enumerate(array)])
        if array.dtype.kind == "O":
            raise ValueError(f"seeds must be integers in [0, 2**32 - 1], got {max(array)}")
    if array.dtype.kind not in "iu":
        raise TypeError(f"seeds must be integers, got dtype {array.dtype.name}")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > SEED_MAX:
        bad = low if low < 0 else high
        raise ValueError(f"seeds must be integers in [0, 2**32 - 1], got {bad}")
    return array.astype(np.int64)


def check_alphas(alphas: Any, dtype: np.dtype[np.floating]) -> NDArray[np.float64]:
    """One learning rate or an iterable of them, each finite and > 0 (also in ``dtype``)."""
    if isinstance(alphas, (str, bytes)):
        raise TypeError(f"alphas must be a real number > 0 or an iterable of them, got {alphas!r}")
    values = list(alphas) if hasattr(alphas, "__iter__") else [alphas]
    if not values:
        raise ValueError("alphas must hold at least one learning rate")
    checked = []
    for i, alpha in enumerate(values):
        try:
            value = check_alpha(alpha)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"alphas[{i}]: {exc}") from None
        with np.errstate(over="ignore"):  # overflow to inf is what is checked here
            rounded = dtype.type(value)
        if not (np.isfinite(rounded) and rounded > 0):
            raise ValueError(f"alphas[{i}] must stay finite and > 0 as {dtype.name}, got {alpha!r}")
        checked.append(value)
    return np.asarray(checked, dtype=np.float64)
