"""The chapter's programs 1–5 on every backend print the book's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop import chapter6


def test_program1_one_streetlight(backend: str) -> None:
    lines = chapter6.one_streetlight(backend)
    assert len(lines) == 20
    assert lines[0] == "Error:0.04 Prediction:-0.2"
    assert lines[-1] == "Error:8.30767497366e-06 Prediction:-0.00288230376152"


def test_program2_whole_dataset(backend: str) -> None:
    lines = chapter6.whole_dataset(backend)
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 40
    assert errors[:3] == ["Error:2.6561231104", "Error:0.962870177672", "Error:0.550916586684"]
    assert errors[-2:] == ["Error:0.000614343567483", "Error:0.000533736773285"]


def test_program2_middle_light_wins(backend: str) -> None:
    X, y = gp.datasets.streetlights()
    net = gp.Network(weights=chapter6.BOOK_WEIGHTS)
    net.fit(X, y, alpha=0.1, epochs=40, backend=backend)
    np.testing.assert_allclose(net.weights[0].ravel(), [0.0139, 1.0138, -0.0160], atol=5e-5)


def test_program3_deep_forward(backend: str) -> None:
    lines = chapter6.deep_forward(backend)
    assert lines[-1].startswith("layer_2 = [[0.391943")


def test_program4_backprop_iteration(backend: str) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 3, 1], seed=1)
    before = [w.copy() for w in net.weights]
    trace = net.step(X[0:1], y[0:1], alpha=0.2, backend=backend)
    hidden = trace.layers[1][0]
    assert np.count_nonzero(hidden) == 1
    assert hidden.max() == pytest.approx(0.13, abs=0.005)
    assert trace.prediction[0, 0] == pytest.approx(-0.02, abs=0.005)
    assert trace.error == pytest.approx(1.04, abs=0.005)
    # the update applied is exactly alpha * weight_delta, from the old weights
    for w_old, w_new, g in zip(before, net.weights, trace.weight_deltas):
        assert np.array_equal(w_new, w_old - 0.2 * g)
    assert any(line.startswith("layer_1_delta") for line in chapter6.backprop_iteration(backend))


def test_program5_putting_it_together(backend: str, program5_errors: list[str]) -> None:
    assert chapter6.putting_it_together(backend) == [f"Error:{e}" for e in program5_errors]
