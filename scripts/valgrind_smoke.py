"""A cpp-backend smoke test for scripts/valgrind.sh: every _core entry point, every path.

Small on purpose (valgrind runs it ~50x slower): the chapter's programs, fit in every mode
and dtype with both activations, forward/step, divergence (the truncated error history),
fits in two threads (the GIL-free loop), and each kind of error _core raises. numba is
never imported: only grokprop's own compiled code is under test.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

import grokprop as gp
from grokprop import _core
from grokprop.chapter6 import run_all


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

    w = [np.ones((5, 3))]
    X64 = np.ascontiguousarray(X)
    _expect(TypeError, _core.train, w, X64.astype(np.float32), y, 0.1, 1, 1, True)
    _expect(ValueError, _core.train, w, np.asfortranarray(X64), y, 0.1, 1, 1, True)
    _expect(ValueError, _core.train, w, X64, y[:3], 0.1, 1, 1, True)
    _expect(ValueError, _core.train, w, X64 * np.nan, y, 0.1, 1, 1, True)
    _expect(TypeError, _core.train, w, X64, y, "0.1", 1, 1, True)
    _expect(ValueError, _core.forward, [np.ones((4, 3))], X64, True)
    _expect(ValueError, _core.update, [np.ones((5, 3))], [np.ones((5, 2))], 0.1)
    _expect(TypeError, _core.relu, np.arange(3))
    print("valgrind smoke test: ok", file=sys.stderr)


if __name__ == "__main__":
    main()
