"""grokprop._core called directly: it equals the reference and rejects every bad argument.

The Python layer validates before it calls a backend, but the compiled module must
be safe on its own (SPEC §6): a wrong argument raises TypeError/ValueError naming
it, never crashes, and never leaves a half-updated network.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grokprop import _core
from grokprop.backends.cpp import CppBackend
from grokprop.backends.reference import ReferenceBackend

NONLINEAR_X = [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]]
NONLINEAR_Y = [[1], [1], [0], [0]]

Arrays = tuple[list[np.ndarray], np.ndarray, np.ndarray]


def book_network(dtype: str = "float64") -> Arrays:
    """The chapter's seed-1 [3, 4, 1] network and the nonlinear streetlights."""
    rng = np.random.RandomState(1)
    weights = [(2 * rng.random_sample(shape) - 1).astype(dtype) for shape in [(3, 4), (4, 1)]]
    return weights, np.array(NONLINEAR_X, dtype=dtype), np.array(NONLINEAR_Y, dtype=dtype)


def read_only(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.flags.writeable = False
    return array


def unaligned(array: np.ndarray) -> np.ndarray:
    raw = np.zeros(array.nbytes + 1, dtype=np.uint8)[1:]
    out = raw.view(array.dtype).reshape(array.shape)
    out[...] = array
    assert not out.flags.aligned
    return out


def fortran(array: np.ndarray) -> np.ndarray:
    out = np.asfortranarray(array)
    assert not out.flags.c_contiguous
    return out


def strided(array: np.ndarray) -> np.ndarray:
    out = np.repeat(array, 2, axis=1)[:, ::2]
    assert not out.flags.c_contiguous
    return out


def sharing(first: tuple[int, int], second: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    buffer = np.zeros(max(first[0] * first[1], second[0] * second[1]))
    return buffer[: first[0] * first[1]].reshape(first), buffer[: second[0] * second[1]].reshape(
        second
    )


def layers_and_deltas(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple:
    ref = ReferenceBackend()
    layers = ref.forward(weights, X, True)
    return layers, ref.deltas(weights, layers, Y, True)


# --------------------------------------------------------------------------- train

TrainCase = Callable[[list[np.ndarray], np.ndarray, np.ndarray], dict[str, Any]]


def _train_args(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    return {
        "weights": weights,
        "X": X,
        "Y": Y,
        "alpha": 0.2,
        "epochs": 3,
        "batch_size": 1,
        "relu": True,
    }


def _with(**changes: Callable[[list[np.ndarray], np.ndarray, np.ndarray], Any]) -> TrainCase:
    def build(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
        args = _train_args(weights, X, Y)
        args.update({name: change(weights, X, Y) for name, change in changes.items()})
        return args

    return build


def _f32_network(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    return _train_args(
        [w.astype(np.float32) for w in weights], X.astype(np.float32), Y.astype(np.float32)
    ) | {"alpha": 1e39}


def _x_overlaps_weights(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    w0, x = sharing((3, 4), (4, 3))
    return _train_args([w0, weights[1]], x, Y)


TRAIN_CASES: dict[str, tuple[TrainCase, type[Exception], str]] = {
    "X int": (
        _with(X=lambda w, x, y: x.astype(np.int64)),
        TypeError,
        "X must have dtype float32 or float64, got int64",
    ),
    "X float16": (
        _with(X=lambda w, x, y: x.astype(np.float16)),
        TypeError,
        "X must have dtype float32 or float64",
    ),
    "X big-endian": (
        _with(X=lambda w, x, y: x.astype(">f8")),
        TypeError,
        "X must have dtype float32 or float64",
    ),
    "X list": (_with(X=lambda w, x, y: x.tolist()), TypeError, "X: numpy.ndarray"),
    "weights[1] float32": (
        _with(weights=lambda w, x, y: [w[0], w[1].astype(np.float32)]),
        TypeError,
        r"weights\[1\] has dtype float32 but X has float64; all arrays must share one float dtype",
    ),
    "Y float32": (
        _with(Y=lambda w, x, y: y.astype(np.float32)),
        TypeError,
        "Y has dtype float32 but X has float64",
    ),
    "weights[0] list": (
        _with(weights=lambda w, x, y: [w[0].tolist(), w[1]]),
        TypeError,
        r"weights\[0\] must be a numpy.ndarray",
    ),
    "weights None": (
        _with(weights=lambda w, x, y: None),
        TypeError,
        "weights: collections.abc.Sequence",
    ),
    "X Fortran": (_with(X=lambda w, x, y: fortran(x)), ValueError, "X must be C-contiguous"),
    "X strided": (_with(X=lambda w, x, y: strided(x)), ValueError, "X must be C-contiguous"),
    "X unaligned": (_with(X=lambda w, x, y: unaligned(x)), ValueError, "X must be aligned"),
    "Y Fortran": (
        _with(Y=lambda w, x, y: fortran(np.hstack([y, y]))),
        ValueError,
        "Y must be C-contiguous",
    ),
    "weights[0] Fortran": (
        _with(weights=lambda w, x, y: [fortran(w[0]), w[1]]),
        ValueError,
        r"weights\[0\] must be C-contiguous",
    ),
    "weights[0] read-only": (
        _with(weights=lambda w, x, y: [read_only(w[0]), w[1]]),
        ValueError,
        r"weights\[0\] must be writeable",
    ),
    "weights[1] read-only": (
        _with(weights=lambda w, x, y: [w[0], read_only(w[1])]),
        ValueError,
        r"weights\[1\] must be writeable",
    ),
    "X 1-D": (
        _with(X=lambda w, x, y: x[0].copy()),
        ValueError,
        "X must be a 2-D array, got shape \\(3,\\)",
    ),
    "weights[1] 1-D": (
        _with(weights=lambda w, x, y: [w[0], w[1].ravel()]),
        ValueError,
        r"weights\[1\] must be a 2-D array",
    ),
    "X empty": (_with(X=lambda w, x, y: np.zeros((0, 3))), ValueError, "X must not be empty"),
    "weights[0] empty": (
        _with(weights=lambda w, x, y: [np.zeros((3, 0)), w[1]]),
        ValueError,
        r"weights\[0\] must not be empty",
    ),
    "no weights": (_with(weights=lambda w, x, y: []), ValueError, "weights must hold at least one"),
    "weights do not chain": (
        _with(weights=lambda w, x, y: [w[0], np.zeros((5, 1))]),
        ValueError,
        r"weights\[1\] has shape \(5, 1\) but weights\[0\] has shape \(3, 4\)",
    ),
    "X columns": (
        _with(X=lambda w, x, y: x[:, :2].copy()),
        ValueError,
        r"X has shape \(4, 2\) but must have shape \(4, 3\)",
    ),
    "Y columns": (
        _with(Y=lambda w, x, y: np.hstack([y, y])),
        ValueError,
        r"Y has shape \(4, 2\) but must have shape \(4, 1\)",
    ),
    "Y rows": (_with(Y=lambda w, x, y: y[:3].copy()), ValueError, r"Y has shape \(3, 1\)"),
    "weights share memory": (
        _with(weights=lambda w, x, y: [*sharing((3, 4), (4, 1))]),
        ValueError,
        r"weights\[1\] shares memory with weights\[0\]",
    ),
    "X overlaps weights[0]": (
        _x_overlaps_weights,
        ValueError,
        r"weights\[0\] shares memory with X",
    ),
    "batch_size 0": (
        _with(batch_size=lambda w, x, y: 0),
        ValueError,
        r"batch_size must be an integer from 1 to the number of rows \(4\), got 0",
    ),
    "batch_size > rows": (
        _with(batch_size=lambda w, x, y: 5),
        ValueError,
        "batch_size must be .* got 5",
    ),
    "batch_size float": (
        _with(batch_size=lambda w, x, y: 1.0),
        TypeError,
        "batch_size: typing.SupportsInt",
    ),
    "epochs -1": (
        _with(epochs=lambda w, x, y: -1),
        ValueError,
        "epochs must be an integer >= 0, got -1",
    ),
    "epochs too big for C": (
        _with(epochs=lambda w, x, y: 2**70),
        TypeError,
        "epochs: typing.SupportsInt",
    ),
    "alpha nan": (
        _with(alpha=lambda w, x, y: float("nan")),
        ValueError,
        "alpha must be a finite number > 0.*got nan",
    ),
    "alpha inf": (
        _with(alpha=lambda w, x, y: float("inf")),
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "alpha 0": (_with(alpha=lambda w, x, y: 0.0), ValueError, "alpha must be a finite number > 0"),
    "alpha negative": (
        _with(alpha=lambda w, x, y: -0.1),
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "alpha overflows float32": (_f32_network, ValueError, "alpha must be .* float32"),
    "relu int": (_with(relu=lambda w, x, y: 1), TypeError, "relu: bool"),
}


@pytest.mark.parametrize("case", TRAIN_CASES.values(), ids=list(TRAIN_CASES))
def test_train_rejects_bad_arguments_and_keeps_weights(
    case: tuple[TrainCase, type[Exception], str],
) -> None:
    build, error, message = case
    args = build(*book_network())
    weights = args["weights"] if isinstance(args["weights"], list) else []
    before = [w.copy() for w in weights if isinstance(w, np.ndarray)]
    with pytest.raises(error, match=message):
        _core.train(**args)
    after = [w for w in weights if isinstance(w, np.ndarray)]
    for old, new in zip(before, after, strict=True):
        assert np.array_equal(old, new)


# --------------------------------------------------------------------------- primitives


def _forward(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> list[np.ndarray]:
    return _core.forward(kw.get("weights", w), kw.get("X", x), True)


def _deltas(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> list[np.ndarray]:
    layers, _ = layers_and_deltas(w, x, y)
    return _core.deltas(
        kw.get("weights", w), kw.get("layers", lambda a: a)(layers), kw.get("Y", y), True
    )


def _weight_deltas(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> Any:
    layers, deltas = layers_and_deltas(w, x, y)
    return _core.weight_deltas(
        kw.get("layers", lambda a: a)(layers), kw.get("deltas", lambda d: d)(deltas)
    )


def _update(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> None:
    layers, deltas = layers_and_deltas(w, x, y)
    grads = ReferenceBackend().weight_deltas(layers, deltas)
    weights = kw.get("weights", w)
    _core.update(
        weights, kw.get("weight_deltas", lambda g, ws: g)(grads, weights), kw.get("alpha", 0.2)
    )


PrimitiveCase = tuple[Callable[..., Any], dict[str, Any], type[Exception], str]
PRIMITIVE_CASES: dict[str, PrimitiveCase] = {
    "forward X int": (
        _forward,
        {"X": np.array(NONLINEAR_X)},
        TypeError,
        "X must have dtype float32 or float64",
    ),
    "forward weights[0] float32": (
        _forward,
        {"weights": [np.ones((3, 4), np.float32), np.ones((4, 1))]},
        TypeError,
        r"weights\[0\] has dtype float32 but X has float64",
    ),
    "forward X Fortran": (
        _forward,
        {"X": fortran(np.ones((4, 3)))},
        ValueError,
        "X must be C-contiguous",
    ),
    "forward X columns": (_forward, {"X": np.ones((4, 2))}, ValueError, r"X has shape \(4, 2\)"),
    "forward X 1-D": (_forward, {"X": np.ones(3)}, ValueError, "X must be a 2-D array"),
    "forward weights chain": (
        _forward,
        {"weights": [np.ones((3, 4)), np.ones((2, 1))]},
        ValueError,
        r"weights\[1\] has shape \(2, 1\)",
    ),
    "forward no weights": (_forward, {"weights": []}, ValueError, "weights must hold at least one"),
    "deltas layers count": (
        _deltas,
        {"layers": lambda a: a[:2]},
        ValueError,
        "layers must hold 3 arrays",
    ),
    "deltas layers[1] shape": (
        _deltas,
        {"layers": lambda a: [a[0], a[1][:, :3].copy(), a[2]]},
        ValueError,
        r"layers\[1\] has shape \(4, 3\)",
    ),
    "deltas layers[2] rows": (
        _deltas,
        {"layers": lambda a: [a[0], a[1], a[2][:3].copy()]},
        ValueError,
        r"layers\[2\] has shape \(3, 1\)",
    ),
    "deltas layers[1] int": (
        _deltas,
        {"layers": lambda a: [a[0], a[1].astype(int), a[2]]},
        TypeError,
        r"layers\[1\] must have dtype float32 or float64",
    ),
    "deltas Y shape": (_deltas, {"Y": np.ones((4, 2))}, ValueError, r"Y has shape \(4, 2\)"),
    "deltas Y float32": (
        _deltas,
        {"Y": np.ones((4, 1), np.float32)},
        TypeError,
        "Y has dtype float32 but weights",
    ),
    "weight_deltas deltas count": (
        _weight_deltas,
        {"deltas": lambda d: d[:1]},
        ValueError,
        "deltas must hold 2 arrays",
    ),
    "weight_deltas deltas[0] shape": (
        _weight_deltas,
        {"deltas": lambda d: [d[0][:, :2].copy(), d[1]]},
        ValueError,
        r"deltas\[0\] has shape \(4, 2\)",
    ),
    "weight_deltas one layer": (
        _weight_deltas,
        {"layers": lambda a: a[:1], "deltas": lambda d: []},
        ValueError,
        "layers must hold at least 2",
    ),
    "weight_deltas deltas[1] strided": (
        _weight_deltas,
        {"deltas": lambda d: [d[0], strided(d[1])]},
        ValueError,
        r"deltas\[1\] must be C-contiguous",
    ),
    "update weights[1] read-only": (
        _update,
        {"weights": [np.ones((3, 4)), read_only(np.ones((4, 1)))]},
        ValueError,
        r"weights\[1\] must be writeable",
    ),
    "update count": (
        _update,
        {"weight_deltas": lambda g, w: g[:1]},
        ValueError,
        "weight_deltas must hold 2 arrays",
    ),
    "update shape": (
        _update,
        {"weight_deltas": lambda g, w: [g[0], g[0]]},
        ValueError,
        r"weight_deltas\[1\] has shape \(3, 4\)",
    ),
    "update deltas are the weights": (
        _update,
        {"weight_deltas": lambda g, w: w},
        ValueError,
        r"weights\[0\] shares memory with weight_deltas\[0\]",
    ),
    "update float32 deltas": (
        _update,
        {"weight_deltas": lambda g, w: [x.astype(np.float32) for x in g]},
        TypeError,
        r"weight_deltas\[0\] has dtype float32 but weights\[0\] has float64",
    ),
    "update alpha nan": (
        _update,
        {"alpha": float("nan")},
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "update alpha negative": (
        _update,
        {"alpha": -1.0},
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "relu int": (
        lambda w, x, y: _core.relu(np.arange(3)),
        {},
        TypeError,
        "z must have dtype float32 or float64",
    ),
    "relu Fortran": (
        lambda w, x, y: _core.relu(fortran(np.ones((2, 3)))),
        {},
        ValueError,
        "z must be C-contiguous",
    ),
    "relu list": (lambda w, x, y: _core.relu([1.0, -1.0]), {}, TypeError, "z: numpy.ndarray"),
    "relu_deriv int": (
        lambda w, x, y: _core.relu_deriv(np.arange(3)),
        {},
        TypeError,
        "out must have dtype float32 or float64",
    ),
    "relu_deriv unaligned": (
        lambda w, x, y: _core.relu_deriv(unaligned(np.ones(4))),
        {},
        ValueError,
        "out must be aligned",
    ),
    "example_errors Y shape": (
        lambda w, x, y: _core.example_errors(np.ones((4, 1)), np.ones((4, 2))),
        {},
        ValueError,
        r"Y has shape \(4, 2\) but must have shape \(4, 1\)",
    ),
    "example_errors output 1-D": (
        lambda w, x, y: _core.example_errors(np.ones(4), np.ones(4)),
        {},
        ValueError,
        "output must be a 2-D array",
    ),
    "example_errors dtypes": (
        lambda w, x, y: _core.example_errors(np.ones((4, 1)), np.ones((4, 1), np.float32)),
        {},
        TypeError,
        "Y has dtype float32 but output has float64",
    ),
}


@pytest.mark.parametrize("case", PRIMITIVE_CASES.values(), ids=list(PRIMITIVE_CASES))
def test_primitives_reject_bad_arguments(case: PrimitiveCase) -> None:
    call, changes, error, message = case
    weights, X, Y = book_network()
    before = [w.copy() for w in weights]
    touched = [w for w in changes.get("weights", []) if w.flags.writeable]
    touched_before = [w.copy() for w in touched]
    with pytest.raises(error, match=message):
        call(weights, X, Y, **changes)
    for old, new in zip(before + touched_before, weights + touched, strict=True):
        assert np.array_equal(old, new)


# --------------------------------------------------------------------------- equality


@pytest.mark.parametrize("relu", [True, False], ids=["relu", "linear"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_core_equals_reference_bit_for_bit(dtype: str, relu: bool) -> None:
    ref, cpp = ReferenceBackend(), CppBackend()
    rng = np.random.RandomState(7)
    sizes = [5, 17, 9, 3]
    weights = [
        (2 * rng.random_sample((a, b)) - 1).astype(dtype) for a, b in itertools.pairwise(sizes)
    ]
    X = rng.uniform(-1, 1, (9, sizes[0])).astype(dtype)
    Y = rng.uniform(-1, 1, (9, sizes[-1])).astype(dtype)

    layers = ref.forward(weights, X, relu)
    assert all(map(np.array_equal, layers, cpp.forward(weights, X, relu)))
    z = layers[1] - np.dtype(dtype).type(0.5)
    assert np.array_equal(ref.relu(z), cpp.relu(z))
    assert np.array_equal(ref.relu_deriv(z), cpp.relu_deriv(z))
    assert np.array_equal(ref.example_errors(layers[-1], Y), cpp.example_errors(layers[-1], Y))
    deltas = ref.deltas(weights, layers, Y, relu)
    assert all(map(np.array_equal, deltas, cpp.deltas(weights, layers, Y, relu)))
    grads = ref.weight_deltas(layers, deltas)
    assert all(map(np.array_equal, grads, cpp.weight_deltas(layers, deltas)))
    expected, got = [w.copy() for w in weights], [w.copy() for w in weights]
    ref.update(expected, grads, 0.03)
    cpp.update(got, grads, 0.03)
    assert all(map(np.array_equal, expected, got))

    for batch_size in (1, 4, 9):
        expected, got = [w.copy() for w in weights], [w.copy() for w in weights]
        errors = cpp.train(got, X, Y, 0.03, 5, batch_size, relu)
        assert errors.dtype == np.dtype(dtype)
        assert np.array_equal(ref.train(expected, X, Y, 0.03, 5, batch_size, relu), errors)
        assert all(map(np.array_equal, expected, got))


def test_train_updates_the_callers_arrays_and_prints_the_books_numbers(
    program5_errors: list[str],
) -> None:
    weights, X, Y = book_network()
    arrays = list(weights)
    errors = _core.train(weights, X, Y, 0.2, 60, 1, True)
    assert all(a is b for a, b in zip(arrays, weights))
    assert [f"{e:.12g}" for e in errors[9::10]] == program5_errors
    assert _core.train(weights, X, Y, 0.2, 0, 4, True).shape == (0,)


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_train_stops_after_the_first_non_finite_epoch_like_the_reference(batch_size: int) -> None:
    expected, X, Y = book_network("float32")
    got = [w.copy() for w in expected]
    errors = _core.train(got, X, Y, 10.0, 200, batch_size, False)
    assert 0 < len(errors) < 200
    assert not np.isfinite(errors[-1])
    assert np.isfinite(errors[:-1]).all()
    with np.errstate(all="ignore"):
        reference = ReferenceBackend().train(expected, X, Y, 10.0, 200, batch_size, False)
    assert np.array_equal(reference, errors, equal_nan=True)
