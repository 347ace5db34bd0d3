"""Divergence (docs/design.md, "Divergence"): a clear error naming the epoch, and the weights from before the call.

A fit whose epoch error or weights become inf/NaN raises ``gp.DivergenceError`` (a
``FloatingPointError``) naming the 0-based epoch, identically on every backend, in every
mode and dtype; the network keeps the weights it had before the call (transactional).
``step`` likewise. test_validation.py has the basic stochastic float64 case.
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends.reference import ReferenceBackend

X, Y = gp.datasets.streetlights()

# (batch_size, alpha): each diverges a few epochs in, on a linear [3, 4, 1] seed-1 network
DIVERGING = [(1, 0.7), (2, 1.2), (None, 1.2)]


def _bits(net: gp.Network) -> list[bytes]:
    return [w.tobytes() for w in net.weights]


def _reference_divergence(
    net: gp.Network, alpha: float, epochs: int, batch_size: int
) -> tuple[int, float]:
    """The epoch and error at which the bare reference loop stops, on copies of the weights."""
    weights = [w.copy() for w in net.weights]
    data = [np.ascontiguousarray(a, dtype=net.dtype) for a in (X, Y)]
    spec = gp.TrainSpec.create(
        alpha=alpha,
        epochs=epochs,
        batch_size=batch_size,
        rows=len(X),
        activation="linear",
        dtype=net.dtype,
    )
    errors = ReferenceBackend().train(weights, *data, spec)
    assert len(errors) < epochs and not np.isfinite(errors[-1])  # it does diverge
    return len(errors) - 1, float(errors[-1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("batch_size", "alpha"), DIVERGING, ids=["stochastic", "mini", "full"])
def test_fit_divergence_names_the_epoch_and_keeps_the_weights(
    backend: str, dtype: str, batch_size: int | None, alpha: float
) -> None:
    net = gp.Network([3, 4, 1], seed=1, activation="linear", dtype=dtype)
    before = _bits(net)
    epoch, error = _reference_divergence(net, alpha, 100, batch_size or len(X))
    assert epoch >= 1  # not the trivial first-epoch case

    with pytest.raises(gp.DivergenceError, match=f"diverged in epoch {epoch} ") as info:
        net.fit(X, Y, alpha=alpha, epochs=100, batch_size=batch_size, backend=backend)
    assert isinstance(info.value, FloatingPointError)
    assert info.value.epoch == epoch
    assert np.array_equal(info.value.error, error, equal_nan=True)
    assert _bits(net) == before
    # and the network is as good as before: training on gives what a fresh copy gives
    fresh = net.copy()
    a = net.fit(X, Y, alpha=0.01, epochs=3, backend=backend).errors
    assert np.array_equal(a, fresh.fit(X, Y, alpha=0.01, epochs=3, backend="numpy").errors)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_infinite_error_in_the_last_epoch_is_divergence_too(backend: str, dtype: str) -> None:
    # the error overflows ((1e30)**2 in float32, (1e200)**2 in float64) while the update
    # alpha * a * d stays finite: the weights alone would not show it
    big = 1e30 if dtype == "float32" else 1e200
    net = gp.Network([3, 1], seed=0, dtype=dtype)
    before = _bits(net)
    with pytest.raises(gp.DivergenceError, match=r"diverged in epoch 0 .*inf") as info:
        net.fit(X, Y * big, alpha=1e-3, epochs=1, backend=backend)
    assert info.value.epoch == 0
    assert _bits(net) == before
    with pytest.raises(gp.DivergenceError, match="diverged in epoch 0"):
        net.step(X[:1], Y[:1] * 0 + big, alpha=1e-3, backend=backend)
    assert _bits(net) == before


@pytest.mark.parametrize(("dtype", "alpha"), [("float64", 1e300), ("float32", 1e30)])
@pytest.mark.parametrize("batch_size", [1, None])
def test_weights_that_overflow_with_a_finite_error_are_divergence(
    backend: str, dtype: str, alpha: float, batch_size: int | None
) -> None:
    # error (1e10)**2 = 1e20 is finite, but the update alpha * 1e20 overflows the weight
    net = gp.Network(weights=[np.ones((1, 1))], dtype=dtype)
    with pytest.raises(gp.DivergenceError, match="epoch 0") as info:
        net.fit([[1e10]], [[0.0]], alpha=alpha, epochs=1, batch_size=batch_size, backend=backend)
    assert info.value.error == float(np.dtype(dtype).type(1e10) ** 2)  # finite
    assert net.weights[0].tolist() == [[1.0]]
    with pytest.raises(gp.DivergenceError, match="epoch 0"):
        net.step([[1e10]], [[0.0]], alpha=alpha, backend=backend)
    assert net.weights[0].tolist() == [[1.0]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rows", [1, 3], ids=["one row", "mini-batch"])
def test_step_divergence_keeps_the_weights(backend: str, dtype: str, rows: int) -> None:
    net = gp.Network([3, 4, 1], seed=1, activation="linear", dtype=dtype)
    steps, diverged = 0, None
    while diverged is None and steps < 50:  # alpha 5: the weights blow up in a few steps
        before = _bits(net)
        try:
            net.step(X[:rows], Y[:rows], alpha=5.0, backend=backend)
            steps += 1
        except gp.DivergenceError as exc:
            diverged = exc
    assert steps >= 1 and diverged is not None
    assert diverged.epoch == 0 and "diverged in epoch 0" in str(diverged)
    assert _bits(net) == before  # the weights of the last successful step


def test_divergence_is_the_same_on_every_backend() -> None:
    outcomes = {}
    for backend in gp.available_backends():
        net = gp.Network([3, 8, 1], seed=4, activation="linear", dtype="float32")
        with pytest.raises(gp.DivergenceError) as info:
            net.fit(X, Y, alpha=1.0, epochs=100, batch_size=4, backend=backend)
        outcomes[backend] = (info.value.epoch, np.float32(info.value.error).tobytes())
    assert len(set(outcomes.values())) == 1, outcomes


def _book_program_errors(
    weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, alpha: float, epochs: int
) -> list[float]:
    """The book's own loop (relu as ``(x > 0) * x``, ``np.dot``): its epoch errors."""
    w = [m.copy() for m in weights]
    errors = []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            total = 0.0
            for x, y in zip(X, Y):
                layer_1 = (np.dot(x[None, :], w[0]) > 0) * np.dot(x[None, :], w[0])
                layer_2 = np.dot(layer_1, w[1])
                total += float(np.sum((layer_2 - y) ** 2))
                delta_2 = layer_2 - y
                delta_1 = np.dot(delta_2, w[1].T) * (layer_1 > 0)
                w[1] -= alpha * np.dot(layer_1.T, delta_2)
                w[0] -= alpha * np.dot(x[None, :].T, delta_1)
            errors.append(total)
    return errors


OVERFLOW = ([np.array([[1e-100]]), np.array([[1e150]])], [[1.0], [0.0]], [[1.0], [1.0]], 1e150)


def test_relu_of_nan_shows_a_divergence_where_the_book_shows_it(backend: str) -> None:
    """A hidden pre-activation that overflows (0 * -inf) is NaN through relu, as in the book:
    the divergence is reported in the epoch where it happens, with a NaN error."""
    weights, X_o, Y_o, alpha = OVERFLOW
    book = _book_program_errors(weights, np.array(X_o), np.array(Y_o), alpha, 3)
    first_nan = next(i for i, e in enumerate(book) if not np.isfinite(e))
    net = gp.Network(weights=weights)
    with pytest.raises(gp.DivergenceError) as info:
        net.fit(X_o, Y_o, alpha=alpha, epochs=3, backend=backend)
    assert info.value.epoch == first_nan == 0 and np.isnan(info.value.error)
    # a sweep of book-initialised networks: each curve is the book's up to its divergence
    for seed in range(5):
        start = gp.Network([1, 1, 1], seed=seed).weights
        book = _book_program_errors(list(start), np.array(X_o), np.array(Y_o), alpha, 3)
        result = gp.sweep(
            [1, 1, 1], X_o, Y_o, seeds=seed, alphas=alpha, epochs=3, curves=True, backend=backend
        )
        assert result.curves is not None
        stop = next((i for i, e in enumerate(book) if not np.isfinite(e)), 3)
        assert bool(result.diverged[0]) == (stop < 3), seed
        assert np.array_equal(result.curves[0][: stop + 1], book[: stop + 1], equal_nan=True)
        assert np.isnan(result.curves[0][stop + 1 :]).all()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_relu_gives_nan_for_nan_and_minus_inf_and_plus_zero_otherwise(
    backend: str, dtype: str
) -> None:
    from grokprop.backends import resolve

    z = np.array([[np.nan, -np.inf, -1.0, -0.0, 0.0, 1e-300, 2.0, np.inf]], dtype=dtype)
    out = resolve(backend).activate(z, gp.Activation.RELU)
    assert np.isnan(out[0, :2]).all()
    assert (out[0, 2:5] == 0).all() and not np.signbit(out[0, 2:5]).any()  # +0, never -0
    assert np.array_equal(out[0, 5:], z[0, 5:])
    deriv = resolve(backend).activate_deriv(out, gp.Activation.RELU)
    assert deriv.tolist() == [[0, 0, 0, 0, 0, 1 if dtype == "float64" else 0, 1, 1]]
