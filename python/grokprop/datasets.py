"""The chapter's data (docs/design.md, "The math") and a seeded random problem for larger
networks."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["random_onehot", "streetlights"]

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
