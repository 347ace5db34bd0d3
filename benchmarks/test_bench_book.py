"""W1: the book network ([3, 4, 1], seed 1, alpha 0.2, 60 epochs x 4 rows, stochastic).

The baseline is the chapter's program as a reader types it (``np.dot``), timed like every
other entry without the initialisation (``RandomState(1)`` alone costs ~0.1 ms). Each
benchmark first trains a fresh copy and checks it (the book's printed errors; compiled
backends bitwise against the reference), then times further 60-epoch fits of that same
network: the same work per call, and no setup call inside the timing.

Besides the public ``net.fit``, the raw kernels are timed: ``_core.train`` and the numba
backend's ``train`` (no Network layer), and a hand-written C++ loop
(benchmarks/handwritten/book_loop.cpp) through ctypes, the yardstick of the C++ kernel.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grokprop import _core
from grokprop.backends import BACKEND_NAMES, resolve
from grokprop.specs import Activation, TrainSpec

GROUP = "W1 book network"
BOOK_ERRORS = [  # the book's printout of program 5, every 10th epoch
    0.634231159844,
    0.358384076763,
    0.0830183113303,
    0.0064670549571,
    0.000329266900075,
    1.50556226651e-05,
]
HANDWRITTEN = Path(__file__).parent / "handwritten" / "book_loop.cpp"


def _book_digits(errors: Any) -> list[str]:
    return [f"{e:.12g}" for e in list(errors)[9::10]]


@pytest.mark.benchmark(group=GROUP)
def test_w1_book_loop(benchmark: Any, workloads: Callable[[str], Any], bench: Any) -> None:
    w = workloads("W1")
    errors, weights = bench.book_result(w)
    np.testing.assert_allclose(errors[9::10], BOOK_ERRORS, rtol=1e-9)
    bench.close((errors, weights), w.reference(), rtol=1e-9)

    def sixty_epochs() -> float:
        for _ in range(w.epochs):
            error = bench.book_sgd_epoch(w.X, w.y, *weights, w.alpha)
        return error

    benchmark(sixty_epochs)


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_w1_fit(benchmark: Any, backend: str, workloads: Callable[[str], Any], bench: Any) -> None:
    w = workloads("W1")
    net = w.network()
    history = w.fit(net, backend)  # also compiles numba's kernels before the timing
    assert _book_digits(history.errors) == [f"{e:.12g}" for e in BOOK_ERRORS]
    bench.bitwise(history, net, w)
    benchmark(w.fit, net, backend)


def _float_problem(w: Any) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    return [a.copy() for a in w.weights], w.X.astype(float), w.y.astype(float)


@pytest.mark.benchmark(group=GROUP)
def test_w1_raw_core_train(benchmark: Any, workloads: Callable[[str], Any]) -> None:
    w = workloads("W1")
    weights, X, y = _float_problem(w)
    spec = TrainSpec(w.alpha, w.epochs, 1, Activation.RELU)
    errors = _core.train(weights, X, y, spec)
    assert np.array_equal(errors, w.reference()[0])
    benchmark(_core.train, weights, X, y, spec)


@pytest.mark.benchmark(group=GROUP)
def test_w1_raw_numba_train(benchmark: Any, workloads: Callable[[str], Any]) -> None:
    engine = resolve("numba")
    w = workloads("W1")
    weights, X, y = _float_problem(w)
    spec = TrainSpec(w.alpha, w.epochs, 1, Activation.RELU)
    errors = engine.train(weights, X, y, spec)
    assert np.array_equal(errors, w.reference()[0])
    benchmark(engine.train, weights, X, y, spec)


STEP_GROUP = "W1 one step (book network, one row)"


@pytest.mark.benchmark(group=STEP_GROUP)
def test_w1_step(benchmark: Any, workloads: Callable[[str], Any]) -> None:
    """``net.step`` on cpp: the public call, validation included (target: raw + 3 us)."""
    import grokprop as gp

    w = workloads("W1")
    net = w.network()
    X, y = w.X[:1].astype(float), w.y[:1].astype(float)
    expected = resolve("numpy").step(list(net.copy().weights), X, y, w.alpha, Activation.RELU)
    trace = net.step(X, y, alpha=w.alpha, backend="cpp")
    assert np.array_equal(trace.errors, expected.errors)
    assert isinstance(trace, gp.StepTrace)
    alpha = w.alpha
    # called as a user writes it, and the raw kernel below the same way (a lambda each):
    # benchmark(f, *args, **kwargs) builds a dict per call, 0.3 us of a 5 us step
    benchmark(lambda: net.step(X, y, alpha=alpha, backend="cpp"))


@pytest.mark.benchmark(group=STEP_GROUP)
def test_w1_raw_core_step(benchmark: Any, workloads: Callable[[str], Any]) -> None:
    """``_core.step``: the fused kernel alone, no validation, no transaction."""
    w = workloads("W1")
    weights, _, _ = _float_problem(w)
    X, y = w.X[:1].astype(float), w.y[:1].astype(float)
    before = [m.copy() for m in weights]
    expected = resolve("numpy").step(before, X, y, w.alpha, Activation.RELU)
    out = _core.step(weights, X, y, w.alpha, Activation.RELU)
    assert np.array_equal(out[3], expected.errors)
    alpha, relu = w.alpha, Activation.RELU
    benchmark(lambda: _core.step(weights, X, y, alpha, relu))


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """book_loop.cpp built like grokprop's kernels: -O3, no FMA contraction, no -march."""
    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no C++ compiler on PATH to build the hand-written loop")
    library = tmp_path_factory.mktemp("handwritten") / "book_loop.so"
    subprocess.run(
        [compiler, "-O3", "-ffp-contract=off", "-shared", "-fPIC", "-o", library, HANDWRITTEN],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.book_loop.restype = None
    p = ctypes.c_void_p
    lib.book_loop.argtypes = [p, p, p, p, ctypes.c_double, ctypes.c_int, p]
    return lib


@pytest.mark.benchmark(group=GROUP)
def test_w1_raw_handwritten_cpp(
    benchmark: Any, workloads: Callable[[str], Any], handwritten: ctypes.CDLL
) -> None:
    w = workloads("W1")
    (w01, w12), X, y = _float_problem(w)
    errors = np.empty(w.epochs)
    args = (w01.ctypes.data, w12.ctypes.data, X.ctypes.data, y.ctypes.data)
    args += (w.alpha, w.epochs, errors.ctypes.data)
    handwritten.book_loop(*args)
    # the same order of operations as grokprop: the same bits
    ref_errors, ref_weights = w.reference()
    assert np.array_equal(errors, ref_errors)
    assert np.array_equal(w01, ref_weights[0]) and np.array_equal(w12, ref_weights[1])
    benchmark(handwritten.book_loop, *args)
