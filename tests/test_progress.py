"""Progress bars: chunked fits and sweeps give the same bits; the bar shows only when asked."""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
import pytest

import grokprop as gp
from grokprop import _progress
from grokprop.backends import backend_info, resolve

X, Y = gp.datasets.streetlights("nonlinear")
X6, Y6 = gp.datasets.streetlights("linear")


@pytest.fixture
def one_epoch_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk as small as possible: 1 epoch per fit chunk, 1 network per sweep chunk."""
    monkeypatch.setattr(_progress, "CHUNK_SECONDS", 0.0)
    monkeypatch.setattr(_progress, "FIRST_SWEEP_CHUNK", 1)


@pytest.fixture
def train_calls(monkeypatch: pytest.MonkeyPatch, backend: str) -> list[int]:
    """The epochs of every call Network.fit makes into ``backend``: a short fit's one
    transaction, or each chunk of a run under a bar."""
    calls: list[int] = []
    original = gp.Network._train
    engine_class = type(resolve(backend))
    original_transaction = engine_class.train_transaction

    def counting(
        self: gp.Network, engine: Any, rows: Any, targets: Any, spec: Any, *more: Any
    ) -> Any:
        calls.append(spec.epochs)
        return original(self, engine, rows, targets, spec, *more)

    def counting_transaction(
        self: Any, buffer: Any, weights: Any, X: Any, Y: Any, spec: Any
    ) -> Any:
        calls.append(spec.epochs)
        return original_transaction(self, buffer, weights, X, Y, spec)

    monkeypatch.setattr(gp.Network, "_train", counting)
    monkeypatch.setattr(engine_class, "train_transaction", counting_transaction)
    return calls


@pytest.mark.usefixtures("one_epoch_chunks")
@pytest.mark.parametrize("batch_size", [1, 2, None])
def test_a_fit_in_chunks_gives_the_same_bits(
    backend: str,
    batch_size: int | None,
    capsys: pytest.CaptureFixture[str],
    train_calls: list[int],
) -> None:
    plain, chunked = gp.Network([3, 4, 1], seed=1), gp.Network([3, 4, 1], seed=1)
    h_plain = plain.fit(X, Y, alpha=0.2, epochs=40, batch_size=batch_size, backend=backend)
    assert capsys.readouterr().err == "" and train_calls == [40]
    h_chunked = chunked.fit(
        X, Y, alpha=0.2, epochs=40, batch_size=batch_size, backend=backend, progress=True
    )
    assert "fit [3, 4, 1]" in capsys.readouterr().err  # the bar, on stderr
    assert train_calls[1:] == [1] * 40  # one epoch per chunk
    assert np.array_equal(h_chunked.errors, h_plain.errors)
    assert all(np.array_equal(a, b) for a, b in zip(chunked.weights, plain.weights))


@pytest.mark.usefixtures("one_epoch_chunks")
def test_a_float32_fit_in_chunks_gives_the_same_bits(backend: str) -> None:
    plain = gp.Network([3, 5, 1], seed=4, dtype="float32")
    chunked = plain.copy()
    h_plain = plain.fit(X6, Y6, alpha=0.1, epochs=30, backend=backend, progress=False)
    h_chunked = chunked.fit(X6, Y6, alpha=0.1, epochs=30, backend=backend, progress=True)
    assert h_chunked.errors.dtype == np.float32
    assert np.array_equal(h_chunked.errors, h_plain.errors)
    assert all(np.array_equal(a, b) for a, b in zip(chunked.weights, plain.weights))


@pytest.mark.usefixtures("one_epoch_chunks")
def test_divergence_in_a_chunked_fit_is_reported_like_without_chunks(backend: str) -> None:
    outcomes = []
    for progress in (False, True):
        net = gp.Network([3, 4, 1], seed=1, activation="linear")
        before = [w.copy() for w in net.weights]
        with pytest.raises(gp.DivergenceError) as info:
            net.fit(X, Y, alpha=0.7, epochs=50, backend=backend, progress=progress)
        assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))
        outcomes.append((info.value.epoch, info.value.error))
    assert outcomes[0][0] == outcomes[1][0] > 0  # diverged in the same epoch, not the first
    assert np.array_equal(outcomes[0][1], outcomes[1][1], equal_nan=True)


def test_chunks_grow_and_stop_at_a_non_finite_error() -> None:
    asked: list[int] = []

    def run(n: int) -> np.ndarray:
        asked.append(n)
        return np.ones(n)

    errors = _progress.run_in_chunks(run, 1000, desc="t", file=io.StringIO())
    assert len(errors) == 1000 and sum(asked) == 1000
    assert asked[0] == 1 and len(asked) > 1
    assert all(b <= 8 * a for a, b in itertools.pairwise(asked))  # growth is bounded

    calls: list[int] = []

    def diverges(n: int) -> np.ndarray:
        calls.append(n)
        return np.array([1.0] * (n - 1) + [np.inf])  # the chunk's last epoch diverges

    errors = _progress.run_in_chunks(diverges, 1000, desc="t", file=io.StringIO())
    assert len(calls) == 1 and len(errors) == 1 and np.isinf(errors[-1])


def test_a_zero_epoch_fit_with_progress(backend: str) -> None:
    history = gp.Network([3, 4, 1], seed=1).fit(
        X, Y, alpha=0.2, epochs=0, backend=backend, progress=True
    )
    assert len(history.errors) == 0


@pytest.mark.usefixtures("one_epoch_chunks")
@pytest.mark.parametrize(("curves", "weights"), [(False, False), (True, True)])
def test_a_sweep_in_chunks_gives_the_same_bits(
    backend: str, curves: bool, weights: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs: dict[str, Any] = {"seeds": range(5), "alphas": [0.1, 0.2], "epochs": 30}
    kwargs["backend"] = backend
    plain = gp.sweep([3, 4, 1], X, Y, curves=curves, weights=weights, progress=False, **kwargs)
    engine = resolve(backend)
    calls: list[int] = []
    original = engine.sweep

    def counting(sizes: Any, X: Any, Y: Any, seeds: Any, *args: Any) -> Any:
        calls.append(len(seeds))
        return original(sizes, X, Y, seeds, *args)

    monkeypatch.setattr(engine, "sweep", counting)
    chunked = gp.sweep([3, 4, 1], X, Y, curves=curves, weights=weights, progress=True, **kwargs)
    assert calls == [1] * 10  # one network per chunk
    assert np.array_equal(chunked.seeds, plain.seeds)
    assert np.array_equal(chunked.alphas, plain.alphas)
    assert np.array_equal(chunked.final_errors, plain.final_errors)
    assert np.array_equal(chunked.diverged, plain.diverged)
    if curves:
        assert chunked.curves is not None and plain.curves is not None
        assert np.array_equal(chunked.curves, plain.curves)
    else:
        assert chunked.curves is None
    if weights:
        assert chunked.weights is not None and plain.weights is not None
        assert all(np.array_equal(a, b) for a, b in zip(chunked.weights, plain.weights))
    else:
        assert chunked.weights is None


def test_auto_progress_is_silent_off_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_progress, "LONG_RUN_SECONDS", 0.0)  # every run counts as long
    gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60)
    gp.sweep([3, 4, 1], X, Y, seeds=range(3), epochs=10)
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a TTY


def test_auto_progress_on_a_terminal_only_for_long_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_progress, "_stderr_is_tty", lambda: True)
    gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60)  # microseconds: no bar
    gp.sweep([3, 4, 1], X, Y, seeds=range(3), epochs=10)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(_progress, "LONG_RUN_SECONDS", 0.0)
    gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60)
    assert "fit [3, 4, 1]" in capsys.readouterr().err
    gp.sweep([3, 4, 1], X, Y, seeds=range(3), epochs=10)
    assert "sweep [3, 4, 1]" in capsys.readouterr().err


def test_expected_seconds_grows_with_the_work() -> None:
    cpp, numpy = backend_info("cpp"), backend_info("numpy")
    small = _progress.expected_fit_seconds(cpp, (3, 4, 1), 4, 60, 1)
    assert small < 1e-3  # the book network: no bar
    assert _progress.expected_fit_seconds(cpp, (784, 128, 10), 1000, 100, 1) > 1.0
    assert _progress.expected_fit_seconds(numpy, (3, 4, 1), 4, 60, 1) > 10 * small


@pytest.mark.parametrize("progress", ["yes", 1, 0.5])
def test_progress_must_be_a_bool_or_none(progress: object) -> None:
    net = gp.Network([3, 4, 1], seed=1)
    before = [w.copy() for w in net.weights]
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        net.fit(X, Y, alpha=0.2, epochs=5, progress=progress)  # type: ignore[arg-type]
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        gp.sweep([3, 4, 1], X, Y, seeds=1, epochs=5, progress=progress)  # type: ignore[arg-type]
