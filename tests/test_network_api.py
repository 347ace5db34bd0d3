"""The Network API's promises a new user leans on: weights that cannot be set by accident,
short reprs, a fit that is a transaction under Ctrl-C and under any np.errstate, and no
deadlock when converting the data calls back into the network."""

from __future__ import annotations

import os
import pickle
import threading
import warnings
from typing import Any

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends.reference import ReferenceBackend

X, Y = gp.datasets.streetlights("nonlinear")


def _bits(net: gp.Network) -> list[bytes]:
    return [w.tobytes() for w in net.weights]


def test_item_assignment_to_weights_is_a_type_error_saying_how() -> None:
    net = gp.Network([3, 4, 1], seed=1)
    before = _bits(net)
    with pytest.raises(TypeError, match=r"set_weights"):
        net.weights[0] = np.zeros((3, 4))
    assert _bits(net) == before


def test_weights_are_live_views() -> None:
    net = gp.Network([3, 4, 1], seed=1)
    net.weights[0][0, 0] = 0.25
    assert net.weights[0][0, 0] == 0.25


@pytest.mark.parametrize("how", ["set_weights", "property"])
def test_set_weights_replaces_every_weight_in_place(how: str) -> None:
    net = gp.Network([3, 4, 1], seed=1)
    old_view = net.weights[0]
    new = [np.full((3, 4), 0.5), np.full((4, 1), -0.25)]
    if how == "set_weights":
        net.set_weights(new)
    else:
        net.weights = new
    assert np.array_equal(net.weights[0], new[0]) and np.array_equal(net.weights[1], new[1])
    assert np.array_equal(old_view, new[0])  # the views handed out earlier see the change
    expected = gp.Network(weights=new).fit(X, Y, alpha=0.2, epochs=5)
    assert np.array_equal(net.fit(X, Y, alpha=0.2, epochs=5).errors, expected.errors)


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ([np.ones((3, 3)), np.ones((3, 1))], ValueError, "shapes"),
        ([np.ones((3, 4)), np.full((4, 1), np.nan)], ValueError, r"weights\[1\].*finite"),
        ([np.ones((3, 4)), np.ones((5, 1))], ValueError, r"weights\[1\]"),
        ("weights", TypeError, "weights"),
    ],
)
def test_set_weights_validates_as_the_constructor(weights: Any, error: type, match: str) -> None:
    net = gp.Network([3, 4, 1], seed=1)
    before = _bits(net)
    with pytest.raises(error, match=match):
        net.set_weights(weights)
    assert _bits(net) == before


def test_repr_names_the_activation_only_where_it_plays_a_role() -> None:
    assert repr(gp.Network(weights=[0.5, 0.48, -0.7])) == "Network([3, 1], dtype='float64')"
    assert (
        repr(gp.Network([3, 4, 1], seed=1, activation="linear", dtype="float32"))
        == "Network([3, 4, 1], activation='linear', dtype='float32')"
    )


def test_len_of_a_history_is_its_number_of_epochs() -> None:
    history = gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=7)
    assert len(history) == 7 == len(history.errors)


def test_dir_of_grokprop_lists_no_future_import() -> None:
    assert "annotations" not in dir(gp)


def test_a_weight_scale_that_overflows_the_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match=r"weight_scale.*float32"):
        gp.Network([3, 4, 1], seed=1, dtype="float32", weight_scale=1e39)
    assert np.isfinite(gp.Network([3, 4, 1], seed=1, weight_scale=1e39).weights[0]).all()


def test_an_alpha_beyond_float32_is_refused_on_every_backend(backend: str) -> None:
    # 3.4028235e38 * (1 + 2**-30) rounds down to FLT_MAX: one rule, refused everywhere
    alpha = float(np.finfo(np.float32).max) * (1 + 2**-30)
    net = gp.Network([3, 4, 1], seed=1, dtype="float32")
    before = _bits(net)
    with pytest.raises(ValueError, match="alpha"):
        net.fit(X, Y, alpha=alpha, epochs=1, backend=backend)
    assert _bits(net) == before


@pytest.mark.parametrize("batch_size", [1, 2, None])
def test_the_users_errstate_does_not_change_a_fit(backend: str, batch_size: int | None) -> None:
    tiny = np.array([[1e-50, 1.0, 1.0], [1.0, 1e-300, 1.0]])  # underflows in float32
    data = (np.vstack([X, tiny]), np.vstack([Y, [[0.0], [1.0]]]))
    for dtype in ("float64", "float32"):
        plain = gp.Network([3, 4, 1], seed=1, dtype=dtype)
        expected = plain.fit(*data, alpha=0.2, epochs=20, batch_size=batch_size, backend=backend)
        net = gp.Network([3, 4, 1], seed=1, dtype=dtype)
        with np.errstate(all="raise"):
            got = net.fit(*data, alpha=0.2, epochs=20, batch_size=batch_size, backend=backend)
            trace = gp.Network([3, 4, 1], seed=1, dtype=dtype).step(
                data[0][-2:], data[1][-2:], alpha=0.2, backend=backend
            )
        assert np.array_equal(got.errors, expected.errors)
        assert _bits(net) == _bits(plain)
        assert np.isfinite(trace.error)


class _Interrupt(ReferenceBackend):
    """The reference, interrupted (as by Ctrl-C) after ``after`` layer updates."""

    name = "numpy"

    def __init__(self, after: int) -> None:
        self.left = after

    def update_layer(self, W: Any, G: Any, alpha: float) -> None:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        super().update_layer(W, G, alpha)


@pytest.mark.parametrize("after", [0, 1, 7, 30])
def test_ctrl_c_mid_fit_leaves_the_weights_as_they_were(
    monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    net = gp.Network([3, 4, 1], seed=1)
    before = _bits(net)
    monkeypatch.setattr("grokprop.network.resolve", lambda _name=None: _Interrupt(after))
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, alpha=0.2, epochs=60)
    assert _bits(net) == before
    # two layers: an interrupt after the first layer's update would tear the step
    monkeypatch.setattr("grokprop.network.resolve", lambda _name=None: _Interrupt(after % 2))
    with pytest.raises(KeyboardInterrupt):
        net.step(X, Y, alpha=0.2)
    assert _bits(net) == before


class _CallsBack:
    """An array-like whose conversion uses the network it is given to."""

    def __init__(self, net: gp.Network, data: np.ndarray) -> None:
        self.net, self.data = net, data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self.net.predict(self.data)
        return self.data if dtype is None else self.data.astype(dtype)


def test_converting_the_data_may_call_back_into_the_network() -> None:
    net = gp.Network([3, 4, 1], seed=1)
    done = threading.Event()

    def work() -> None:
        net.fit(_CallsBack(net, X.astype(float)), Y, alpha=0.2, epochs=3)
        net.step(_CallsBack(net, X[:1].astype(float)), Y[:1], alpha=0.2)
        done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert done.is_set(), "fit/step deadlocked converting data that calls predict"


def test_save_while_another_thread_fits_writes_a_consistent_network(
    tmp_path: Any, backend: str
) -> None:
    rows, targets = gp.datasets.random_onehot(400, 64, 10, seed=0)
    net = gp.Network([64, 128, 10], seed=0, weight_scale=0.1)
    start = [w.copy() for w in net.weights]
    thread = threading.Thread(
        target=lambda: net.fit(rows, targets, alpha=0.001, epochs=40, backend=backend)
    )
    thread.start()
    path = tmp_path / "net.npz"
    net.save(path)
    thread.join()
    saved = gp.Network.load(path).weights
    after = net.weights
    same_as = [all(np.array_equal(s, w) for s, w in zip(saved, state)) for state in (start, after)]
    assert any(same_as), "the saved weights mix the network before and after the fit"


def test_a_network_pickles_bit_for_bit() -> None:
    net = gp.Network([3, 4, 1], seed=1, dtype="float32")
    net.fit(X, Y, alpha=0.2, epochs=3)
    clone = pickle.loads(pickle.dumps(net))
    assert _bits(clone) == _bits(net) and repr(clone) == repr(net)
    assert np.array_equal(
        clone.fit(X, Y, alpha=0.2, epochs=3).errors, net.fit(X, Y, alpha=0.2, epochs=3).errors
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork exists on POSIX only")
def test_a_fit_in_a_forked_child_works(backend: str) -> None:
    expected = gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60, backend=backend)
    gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=2, backend=backend)  # loaded
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: we know
        pid = os.fork()
    if pid == 0:  # the child: train, send the errors' bytes, leave without cleanup
        try:
            history = gp.Network([3, 4, 1], seed=1).fit(X, Y, alpha=0.2, epochs=60, backend=backend)
            os.write(write, history.errors.tobytes())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        got = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert got == expected.errors.tobytes()
