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


def check_positive(value: Any, name: str) -> float:
    """A finite real number > 0 (a learning rate, a scale)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number > 0, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_alpha(alpha: Any) -> float:
    """The learning rate: a finite real number > 0."""
    return check_positive(alpha, "alpha")


def as_matrix(
    value: Any, name: str, dtype: np.dtype[np.floating], *, columns: int | None = None
) -> NDArray[np.floating]:
    """``value`` as a finite, C-contiguous 2-D array of ``dtype`` (converted once).

    Integer and float inputs are accepted (the book's are ``int``); booleans, complex
    numbers, strings and objects are not. A 1-D ``value`` is read as one column when
    ``columns == 1`` (the book's ``walk_vs_stop`` vector).
    """
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
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
    converted = np.ascontiguousarray(array, dtype=dtype)
    if not np.isfinite(converted).all():
        raise ValueError(f"{name} must be finite (no NaN or inf) as {dtype.name}")
    return converted


def check_rows(X: NDArray[np.floating], y: NDArray[np.floating]) -> None:
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
        )


def check_batch_size(batch_size: Any, n_rows: int) -> int:
    """``None`` (full batch) or an integer in ``[1, n_rows]``."""
    if batch_size is None:
        return n_rows
    size = check_int(batch_size, "batch_size", minimum=1)
    if size > n_rows:
        raise ValueError(
            f"batch_size must be between 1 and the number of rows ({n_rows}) or None for "
            f"full-batch, got {size}"
        )
    return size


# -- sweeps (grokprop.sweep) ---------------------------------------------------------------

SEED_MAX = 2**32 - 1
"""The largest seed ``numpy.random.RandomState(seed)`` accepts."""


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
