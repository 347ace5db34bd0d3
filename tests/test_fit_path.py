"""The lean fit path keeps every guarantee: History, owned aligned weights, restore on error."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import grokprop as gp
from grokprop.network import History


def test_the_fast_history_is_the_same_frozen_dataclass() -> None:
    errors = np.array([1.0, 0.5])
    fast = History._of(errors, 0.2, 2, 1, "cpp")
    slow = History(errors, 0.2, 2, 1, "cpp")
    for field in dataclasses.fields(History):
        assert getattr(fast, field.name) is getattr(slow, field.name)
    assert fast.final_error == 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.alpha = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_weights_are_separate_aligned_c_contiguous_arrays(dtype: str) -> None:
    net = gp.Network([5, 3, 7, 2], seed=0, dtype=dtype)
    weights = net.weights
    for w in weights:
        assert w.dtype == np.dtype(dtype) and w.flags.c_contiguous and w.flags.writeable
        assert w.ctypes.data % 64 == 0
    for i, a in enumerate(weights):
        for b in weights[i + 1 :]:
            assert not np.shares_memory(a, b)
    # the book's initialisation, layer by layer
    rng = np.random.RandomState(0)
    for w, shape in zip(weights, [(5, 3), (3, 7), (7, 2)]):
        assert np.array_equal(w, (2 * rng.random_sample(shape) - 1).astype(dtype))


def test_float_inputs_are_used_without_a_copy_and_still_checked(backend: str) -> None:
    X, y = (a.astype(float) for a in gp.datasets.streetlights("nonlinear"))
    net = gp.Network([3, 4, 1], seed=1)
    before = net.weights[0].copy()
    X_bad = X.copy()
    X_bad[2, 1] = np.inf
    with pytest.raises(ValueError, match="X must be finite"):
        net.fit(X_bad, y, alpha=0.2, epochs=1, backend=backend)
    assert np.array_equal(net.weights[0], before)
    history = net.fit(X, y, alpha=0.2, epochs=60, backend=backend)
    assert f"{history.final_error:.12g}" == "1.50556226651e-05"
