"""Argument checks shared by the public API (SPEC §6).

Everything a backend receives passes through here first, so the compiled code only
ever sees C-contiguous finite arrays of the network's dtype with chained shapes.
Each failure names the argument and the expected form.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np
from numpy.typing import NDArray

FLOAT_DTYPES: dict[str, np.dtype[np.floating]] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}
ACTIVATIONS = ("relu", "linear")


def as_float_dtype(dtype: Any) -> np.dtype[np.floating]:
    """``"float64"`` / ``"float32"`` (or the NumPy types) as a dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float64' or 'float32', got {dtype!r}") from exc
    if resolved.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return FLOAT_DTYPES[resolved.name]


def check_activation(activation: Any) -> str:
    if not isinstance(activation, str):
        raise TypeError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


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


def check_alpha(alpha: Any) -> float:
    """The learning rate: a finite real number > 0."""
    if type(alpha) is not float and (
        isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real)
    ):
        raise TypeError(f"alpha must be a real number > 0, got {alpha!r}")
    value = float(alpha)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    return value


def all_finite(array: NDArray[np.floating]) -> bool:
    """No NaN or inf in ``array`` (``count_nonzero`` is much cheaper than ``.all()``)."""
    return bool(np.count_nonzero(np.isfinite(array)) == array.size)


def as_matrix(
    value: Any, name: str, dtype: np.dtype[np.floating], *, columns: int | None = None
) -> NDArray[np.floating]:
    """``value`` as a finite, C-contiguous 2-D array of ``dtype`` (converted once).

    Integer and float inputs are accepted (the book's are ``int``); booleans, complex
    numbers, strings and objects are not. A 1-D ``value`` is read as one column when
    ``columns == 1`` (the book's ``walk_vs_stop`` vector). An array that already has the
    dtype and layout is returned as it is (not copied).
    """
    array = value if type(value) is np.ndarray else np.asarray(value)
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
        converted = array.astype(dtype, order="C")
    # integers are finite in float32 and float64 (|int64| and uint64 < 2**64 < float32 max)
    if kind == "f" and not all_finite(converted):
        raise ValueError(f"{name} must be finite (no NaN or inf) as {dtype.name}")
    return converted


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


def check_rows(X: NDArray[np.floating], y: NDArray[np.floating]) -> None:
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
        )


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
