"""A cpp-backend smoke test for scripts/valgrind.sh: every _core entry point, every path.

Small on purpose (valgrind runs it ~50x slower): the chapter's programs, fit in every mode
and dtype with both activations, forward/step, divergence (the truncated error history),
fits in two threads (the GIL-free loop), every kernel and the fused step and sweep called
directly, and each kind of error _core raises (from the arrays and from a spec). numba is
never imported: only grokprop's own compiled code is under test.
"""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import numpy as np

import grokprop as gp
from grokprop import _core
from grokprop.chapter6 import run_all
from grokprop.specs import Activation, SweepSpec, TrainSpec


def _expect(error: type[BaseException], call: object, *args: object) -> None:
    try:
        call(*args)  # type: ignore[operator]
    except error:
        return
    raise AssertionError(f"{call} did not raise {error.__name__}")


def main() -> None:
    gp.set_backend("cpp")
    lines = list(run_all("cpp"))
    assert "Error:1.50556226651e-05" in lines, lines

    X, y = gp.datasets.random_onehot(12, 5, 3, seed=1)
    for dtype in ("float64", "float32"):
        for activation in ("relu", "linear"):
            for batch_size in (1, 5, None):
                net = gp.Network([5, 7, 4, 3], seed=2, dtype=dtype, activation=activation)
                net.fit(X, y, alpha=0.01, epochs=3, batch_size=batch_size)
                net.predict(X)
                net.step(X[:4], y[:4], alpha=0.01)
        net = gp.Network([5, 6, 3], seed=3, dtype=dtype, activation="linear")
        _expect(gp.DivergenceError, lambda n=net: n.fit(X, y, alpha=50.0, epochs=30))

    def fit_in_thread(seed: int) -> None:
        gp.Network([5, 16, 3], seed=seed).fit(X, y, alpha=0.01, epochs=20, batch_size=3)

    threads = [threading.Thread(target=fit_in_thread, args=(s,)) for s in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    X64 = np.ascontiguousarray(X)
    relu = Activation.RELU
    for dtype in ("float64", "float32"):  # every kernel, the fused step and sweep
        Xd, yd = X64.astype(dtype), y.astype(dtype)
        w = [np.full((5, 7), 0.1, dtype), np.full((7, 3), -0.1, dtype)]
        a1 = _core.layer_forward(Xd, w[0], relu)
        out = _core.layer_forward(a1, w[1], Activation.LINEAR)
        _core.activate(a1, relu)
        _core.activate_deriv(a1, relu)
        _core.example_errors(out, yd)
        d2 = _core.output_delta(out, yd)
        d1 = _core.layer_delta(d2, w[1], a1, relu)
        _core.update_layer(w[0], _core.weight_delta(Xd, d1), 0.01)
        _core.step(w, Xd, yd, 0.01, relu)
        spec = SweepSpec((5, 7, 3), 2, 5, relu, np.dtype(dtype), True, True)
        _core.sweep(Xd, yd, np.arange(20, dtype=np.uint32), np.full(20, 0.01), spec, 2)
    _core.book_uniforms(np.arange(3, dtype=np.uint32), 700)

    w = [np.ones((5, 3))]
    spec = TrainSpec(0.1, 1, 1, relu)
    _expect(TypeError, _core.train, w, X64.astype(np.float32), y, spec)
    _expect(ValueError, _core.train, w, np.asfortranarray(X64), y, spec)
    _expect(ValueError, _core.train, w, X64, y[:3], spec)
    _expect(ValueError, _core.train, w, X64 * np.nan, y, spec)
    bad_alpha = SimpleNamespace(alpha="0.1", epochs=1, batch_size=1, activation=relu)
    _expect(TypeError, _core.train, w, X64, y, bad_alpha)
    _expect(TypeError, _core.train, w, X64, y, SimpleNamespace(alpha=0.1))
    _expect(ValueError, _core.layer_forward, X64, np.ones((4, 3)), relu)
    _expect(ValueError, _core.step, [np.ones((4, 3))], X64, y, 0.1, relu)
    _expect(ValueError, _core.update_layer, np.ones((5, 3)), np.ones((5, 2)), 0.1)
    _expect(TypeError, _core.activate, np.arange(3), relu)
    _expect(ValueError, _core.activate, np.ones(3), 5)
    print("valgrind smoke test: ok", file=sys.stderr)


if __name__ == "__main__":
    main()
