"""The chapter's data (docs/design.md, "The math"), truth tables of boolean functions, and a
seeded random problem for larger networks."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["BOOLEAN_FUNCTIONS", "random_onehot", "streetlights", "truth_table"]

_LINEAR_LIGHTS = [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1], [0, 1, 1], [1, 0, 1]]
_WALK_VS_STOP = [0, 1, 0, 1, 1, 0]  # STOP = 0, WALK = 1: the middle light decides
_NONLINEAR_LIGHTS = [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]]
_NONLINEAR_TARGETS = [[1], [1], [0], [0]]  # no single light correlates with walking


def streetlights(
    kind: Literal["linear", "nonlinear"] = "linear",
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The streetlight inputs and walk/stop targets, as integer arrays like the book's.

    ``kind="linear"`` is the 6-row problem of the chapter's first networks (targets of
    shape ``(6, 1)``); ``kind="nonlinear"`` is the 4-row problem of the first deep
    network. Fresh arrays every call, so callers may modify them.
    """
    if kind == "linear":
        X, y = _LINEAR_LIGHTS, [[t] for t in _WALK_VS_STOP]
    elif kind == "nonlinear":
        X, y = _NONLINEAR_LIGHTS, _NONLINEAR_TARGETS
    else:
        raise ValueError(f"kind must be 'linear' or 'nonlinear', got {kind!r}")
    return np.array(X, dtype=np.int64), np.array(y, dtype=np.int64)


def random_onehot(
    rows: int, n_inputs: int, n_classes: int, *, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``rows`` uniform [0, 1) inputs with random one-hot targets (e.g. MNIST-sized nets)."""
    for name, value in (("rows", rows), ("n_inputs", n_inputs), ("n_classes", n_classes)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    rng = np.random.RandomState(seed)
    X = rng.random_sample((rows, n_inputs))
    y = np.zeros((rows, n_classes))
    y[np.arange(rows), rng.randint(0, n_classes, size=rows)] = 1.0
    return X, y


def _on(bits: NDArray[np.int64]) -> NDArray[np.int64]:
    """How many inputs of each row are on."""
    counts: NDArray[np.int64] = bits.sum(axis=1)
    return counts


#: The functions :func:`truth_table` knows by name, each of any number of inputs: a map
#: from the ``(rows, k)`` 0/1 inputs to each row's truth value.
BOOLEAN_FUNCTIONS: dict[str, Callable[[NDArray[np.int64]], NDArray[Any]]] = {
    "and": lambda bits: _on(bits) == bits.shape[1],
    "or": lambda bits: _on(bits) > 0,
    "xor": lambda bits: _on(bits) % 2 == 1,  # an odd number on (two inputs: exactly one)
    "nand": lambda bits: _on(bits) < bits.shape[1],
    "nor": lambda bits: _on(bits) == 0,
    "xnor": lambda bits: _on(bits) % 2 == 0,
    "majority": lambda bits: 2 * _on(bits) > bits.shape[1],
}


def truth_table(
    function: str | int | Callable[..., object],
    inputs: int | None = None,
    *,
    always_on: bool = True,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every input pattern of a boolean function of ``inputs`` lights, and its output.

    ``function`` is one of

    * a name from :data:`BOOLEAN_FUNCTIONS` (``"xor"``, ``"and"``, ``"or"``, ``"nand"``,
      ``"nor"``, ``"xnor"``, ``"majority"``), for any ``inputs`` (default 2);
    * an integer of ``2**inputs`` bits, the function's outputs: bit ``i`` (counting from
      the least significant, ``(function >> i) & 1``) is the output of row ``i``. With
      two inputs, ``0b0110 == 6`` is xor, ``8`` and, ``14`` or, ``7`` nand. ``inputs``
      must be given (a 16-row table and a 4-row one share small integers);
    * a callable taking one 0/1 argument per input and returning a truth value, e.g.
      ``lambda a, b: a != b``; ``inputs`` defaults to its number of positional parameters without a default.

    Bit order: the rows count in binary, row ``i`` holding the digits of ``i`` with the
    first input the most significant: for two inputs ``[0, 0], [0, 1], [1, 0], [1, 1]``.

    ``always_on`` adds the light the book's third streetlight plays: a last input column
    that is 1 on every row, so a network without biases can shift its sums. With it,
    ``truth_table("xor")`` holds the same four rows and targets as
    ``streetlights("nonlinear")`` (which lists them in the book's order, not counting
    order).

    Returns ``X`` of shape ``(2**inputs, inputs + always_on)`` and ``y`` of shape
    ``(2**inputs, 1)``, integer arrays like the book's.
    """
    if isinstance(function, bool):
        raise TypeError(f"function must be a name, an integer or a callable, got {function!r}")
    k = _input_count(function, inputs)
    rows = 1 << k
    bits = (np.arange(rows, dtype=np.int64)[:, None] >> np.arange(k - 1, -1, -1)) & 1
    if isinstance(function, str):
        try:
            outputs = BOOLEAN_FUNCTIONS[function.lower()](bits)
        except KeyError:
            raise ValueError(
                f"function must be one of {sorted(BOOLEAN_FUNCTIONS)}, an integer or a "
                f"callable, got {function!r}"
            ) from None
    elif isinstance(function, (int, np.integer)):
        value = int(function)
        if not 0 <= value < 1 << rows:
            raise ValueError(
                f"a function of {k} inputs is an integer in [0, 2**{rows} - 1] (one bit per "
                f"row), got {value}"
            )
        outputs = np.array([(value >> i) & 1 for i in range(rows)])
    elif callable(function):
        outputs = np.array([bool(function(*(int(b) for b in row))) for row in bits])
    else:
        raise TypeError(f"function must be a name, an integer or a callable, got {function!r}")
    X = np.hstack([bits, np.ones((rows, 1), dtype=np.int64)]) if always_on else bits
    return X, np.asarray(outputs, dtype=bool).astype(np.int64).reshape(rows, 1)


_MAX_INPUTS = 20  # a million rows: beyond that a truth table is not teaching material


def _input_count(function: object, inputs: int | None) -> int:
    if inputs is None:
        if isinstance(function, str):
            return 2
        if isinstance(function, (int, np.integer)):
            raise TypeError(
                "inputs must be given with an integer function: its bits are one output per "
                "row of 2**inputs rows"
            )
        if callable(function):
            try:
                parameters = inspect.signature(function).parameters.values()
            except (TypeError, ValueError):
                raise TypeError(
                    "inputs must be given: the callable's parameters cannot be counted"
                ) from None
            # parameters with defaults are settings, not inputs
            positional = [
                p
                for p in parameters
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
            ]
            if not positional or any(p.kind is p.VAR_POSITIONAL for p in parameters):
                raise TypeError("inputs must be given: the callable takes no fixed arguments")
            return len(positional)
        raise TypeError(f"function must be a name, an integer or a callable, got {function!r}")
    if (
        not isinstance(inputs, (int, np.integer))
        or isinstance(inputs, bool)
        or not 1 <= inputs <= _MAX_INPUTS
    ):
        raise ValueError(f"inputs must be an integer from 1 to {_MAX_INPUTS}, got {inputs!r}")
    return int(inputs)
