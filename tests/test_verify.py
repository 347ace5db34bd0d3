"""gp.verify and ulp_distance."""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.verify import ulp_distance


def test_verify_book_network_is_bitwise_on_every_backend(
    compiled_backends: tuple[str, ...],
) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=1)
    before = [w.copy() for w in net.weights]
    report = gp.verify(net, X, y, alpha=0.2, epochs=60)
    assert report.ok
    assert report.backends == ("numpy", *compiled_backends, "numpy-blas")
    for name in compiled_backends:
        assert report[name].bitwise and report[name].max_ulp == 0 and report[name].max_abs == 0
    assert not report["numpy-blas"].required
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))  # net untouched
    assert all(f"{name} yes" in report.summary() for name in compiled_backends)


@pytest.mark.backends("cpp", "numba")
def test_verify_reports_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokprop.backends import resolve

    cpp = resolve("cpp")
    real_train = type(cpp).train

    def off_by_one_ulp(self, weights, *args):  # a backend that drifts in the last bit
        errors = real_train(self, weights, *args)
        weights[0][0, 0] = np.nextafter(weights[0][0, 0], np.inf)
        return errors

    monkeypatch.setattr(type(cpp), "train", off_by_one_ulp)
    X, y = gp.datasets.streetlights("nonlinear")
    report = gp.verify(gp.Network([3, 4, 1], seed=1), X, y, alpha=0.2, epochs=5)
    assert not report.ok
    assert not report["cpp"].bitwise and report["cpp"].max_ulp == 1
    assert report["numba"].bitwise
    assert "MISMATCH" in report.summary()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ulp_distance(dtype: type) -> None:
    one = dtype(1)
    up = np.nextafter(one, dtype(2))
    a = np.array([one, -one, 0.0, -0.0, np.nan, np.nan, 1.0], dtype=dtype)
    b = np.array([up, -up, -0.0, np.nextafter(dtype(0), dtype(1)), np.nan, 1.0, 1.0], dtype=dtype)
    d = ulp_distance(a, b)
    assert list(d[:5]) == [1, 1, 0, 1, 0]
    assert d[5] == np.iinfo(d.dtype).max
    assert d[6] == 0
    tiny = np.nextafter(dtype(0), dtype(1))
    assert ulp_distance(np.array([tiny], dtype), np.array([-tiny], dtype))[0] == 2


def test_ulp_distance_rejects_mixed_dtypes() -> None:
    with pytest.raises(TypeError, match="float32 or two float64"):
        ulp_distance(np.zeros(1, np.float32), np.zeros(1))


def test_verify_says_when_the_training_diverged() -> None:
    X, y = gp.datasets.streetlights()
    net = gp.Network([3, 4, 1], seed=1, activation="linear")
    report = gp.verify(net, X, y, alpha=100.0, epochs=5, include_blas=False)
    assert report.ok  # every backend diverges identically
    assert report.diverged_in_epoch == 0
    assert "diverged in epoch 0" in report.summary()
    calm = gp.verify(net, X, y, alpha=0.01, epochs=5, include_blas=False)
    assert calm.diverged_in_epoch is None
    assert "diverged" not in calm.summary()


def test_verify_reports_weights_that_overflow_while_the_error_stays_finite() -> None:
    X, _ = gp.datasets.streetlights()
    y = np.full((len(X), 1), 1e10)
    net = gp.Network([3, 4, 1], seed=1, activation="linear")
    with pytest.raises(gp.DivergenceError):
        net.copy().fit(X, y, alpha=1e300, epochs=1, batch_size=None)
    report = gp.verify(net, X, y, alpha=1e300, epochs=1, batch_size=None, backends=["numpy"])
    assert np.isfinite(report["numpy"].errors).all()  # the error did not show it
    assert report.diverged and report.diverged_in_epoch == 0
    assert "WARNING: the training diverged in epoch 0" in report.summary()


def test_verify_shows_progress_on_request_with_the_same_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=1)
    quiet = gp.verify(net, X, y, alpha=0.2, epochs=30, progress=False)
    assert capsys.readouterr().err == ""
    shown = gp.verify(net, X, y, alpha=0.2, epochs=30, progress=True)
    assert "verify numpy" in capsys.readouterr().err
    for a, b in zip(quiet.comparisons, shown.comparisons):
        assert np.array_equal(a.errors, b.errors) and a.bitwise == b.bitwise
