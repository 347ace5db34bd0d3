"""grokprop._core called directly, and the cpp backend: both equal the reference bit for bit,
and _core rejects every bad argument.

The Python API validates before it calls a backend, but the compiled module must be safe
on its own (docs/design.md, "Validation"): a wrong argument raises TypeError/ValueError
(MemoryError for an absurd allocation) naming it, never crashes, and never leaves a
half-updated network. A spec argument may be any object with the spec's fields, so the
bad values here come in a ``SimpleNamespace`` (a ``grokprop.specs`` spec refuses them).
"""

from __future__ import annotations

import itertools
import math
import signal
from collections.abc import Callable
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from grokprop import _core
from grokprop._weights import WeightBuffer
from grokprop.backends._protocol import Outcome
from grokprop.backends.cpp import CppBackend
from grokprop.backends.reference import ReferenceBackend
from grokprop.specs import Activation, SweepSpec, TrainSpec

NONLINEAR_X = [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]]
NONLINEAR_Y = [[1], [1], [0], [0]]

Arrays = tuple[list[np.ndarray], np.ndarray, np.ndarray]


def book_network(dtype: str = "float64") -> Arrays:
    """The chapter's seed-1 [3, 4, 1] network and the nonlinear streetlights."""
    rng = np.random.RandomState(1)
    weights = [(2 * rng.random_sample(shape) - 1).astype(dtype) for shape in [(3, 4), (4, 1)]]
    return weights, np.array(NONLINEAR_X, dtype=dtype), np.array(NONLINEAR_Y, dtype=dtype)


def train_spec(**fields: Any) -> SimpleNamespace:
    """A TrainSpec-like object: the book's training (3 epochs here), with `fields` changed."""
    defaults = {"alpha": 0.2, "epochs": 3, "batch_size": 1, "activation": Activation.RELU}
    return SimpleNamespace(**(defaults | fields))


def sweep_spec(**fields: Any) -> SimpleNamespace:
    """A SweepSpec-like object for [3, 4, 1] networks, with `fields` changed."""
    defaults = {"sizes": (3, 4, 1), "epochs": 2, "batch_size": 1, "activation": Activation.RELU}
    return SimpleNamespace(**(defaults | {"curves": False, "weights": False} | fields))


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


def nan_at(array: np.ndarray, value: float = math.nan) -> np.ndarray:
    out = array.copy()
    out.flat[-1] = value
    return out


# --------------------------------------------------------------------------- the activation

#: What _core's messages list: "LINEAR=0, RELU=1".
CHOICES = ", ".join(f"{a.name}={int(a)}" for a in Activation)


def test_the_activation_enum_is_the_python_one() -> None:
    assert {a.name: int(a) for a in _core.Activation} == {a.name: int(a) for a in Activation}
    assert issubclass(_core.Activation, int)


# --------------------------------------------------------------------------- train

TrainCase = Callable[[list[np.ndarray], np.ndarray, np.ndarray], dict[str, Any]]


def _train_args(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    return {"weights": weights, "X": X, "Y": Y, "spec": train_spec()}


def _with(**changes: Callable[[list[np.ndarray], np.ndarray, np.ndarray], Any]) -> TrainCase:
    def build(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
        args = _train_args(weights, X, Y)
        args.update({name: change(weights, X, Y) for name, change in changes.items()})
        return args

    return build


def _spec(**fields: Any) -> TrainCase:
    return _with(spec=lambda w, x, y: train_spec(**fields))


def _f32_network(**fields: Any) -> TrainCase:
    def build(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
        args = _train_args(
            [w.astype(np.float32) for w in weights], X.astype(np.float32), Y.astype(np.float32)
        )
        return args | {"spec": train_spec(**fields)}

    return build


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
    "X bool": (_with(X=lambda w, x, y: x.astype(bool)), TypeError, "X must have dtype .* got bool"),
    "X complex": (
        _with(X=lambda w, x, y: x + 0j),
        TypeError,
        "X must have dtype .* got complex128",
    ),
    "X object": (
        _with(X=lambda w, x, y: x.astype(object)),
        TypeError,
        "X must have dtype .* got object",
    ),
    "X str": (_with(X=lambda w, x, y: x.astype(str)), TypeError, "X must have dtype .* got <U32"),
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
    "weights[1] None": (
        _with(weights=lambda w, x, y: [w[0], None]),
        TypeError,
        r"weights\[1\] must be a numpy.ndarray, got NoneType",
    ),
    "weights a str": (
        _with(weights=lambda w, x, y: "abc"),
        TypeError,
        r"weights\[0\] must be a numpy",
    ),
    "weights an int": (
        _with(weights=lambda w, x, y: 5),
        TypeError,
        "weights: collections.abc.Sequence",
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
    "X 3-D": (
        _with(X=lambda w, x, y: x[None].copy()),
        ValueError,
        r"X must be a 2-D array.*\(1, 4, 3\)",
    ),
    "Y 0-D": (
        _with(Y=lambda w, x, y: np.array(1.0)),
        ValueError,
        r"Y must be a 2-D array, got shape \(\)",
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
    "X NaN": (_with(X=lambda w, x, y: nan_at(x)), ValueError, "X must be finite"),
    "Y +inf": (_with(Y=lambda w, x, y: nan_at(y, math.inf)), ValueError, "Y must be finite"),
    "weights[1] NaN": (
        _with(weights=lambda w, x, y: [w[0], nan_at(w[1])]),
        ValueError,
        r"weights\[1\] must be finite",
    ),
    "weights[0] -inf float32": (
        lambda w, x, y: _train_args(
            [nan_at(m, -math.inf).astype(np.float32) for m in w],
            x.astype(np.float32),
            y.astype(np.float32),
        ),
        ValueError,
        r"weights\[0\] must be finite",
    ),
    "spec.batch_size 0": (
        _spec(batch_size=0),
        ValueError,
        r"spec.batch_size must be an integer >= 1, got 0",
    ),
    "spec.batch_size -1": (
        _spec(batch_size=-1),
        ValueError,
        "spec.batch_size must be .* got -1",
    ),
    "spec.batch_size > rows": (
        _spec(batch_size=5),
        ValueError,
        r"spec.batch_size must be an integer from 1 to the number of rows \(4\), got 5",
    ),
    "spec.batch_size float": (
        _spec(batch_size=1.0),
        TypeError,
        "spec.batch_size must be an integer, got 1.0",
    ),
    "spec.batch_size bool": (
        _spec(batch_size=True),
        TypeError,
        "spec.batch_size must be an integer, got True",
    ),
    "spec.epochs -1": (_spec(epochs=-1), ValueError, "spec.epochs must be an integer >= 0, got -1"),
    "spec.epochs too big for C": (
        _spec(epochs=2**70),
        ValueError,
        f"spec.epochs must be at most {2**63 - 1}, got {2**70}",
    ),
    "spec.epochs 2**45": (
        _spec(epochs=2**45),
        MemoryError,
        "spec.epochs=35184372088832: cannot allocate the error history",
    ),
    "spec.epochs float": (_spec(epochs=3.0), TypeError, "spec.epochs must be an integer, got 3.0"),
    "spec.alpha nan": (
        _spec(alpha=float("nan")),
        ValueError,
        "spec.alpha must be a finite number > 0.*got nan",
    ),
    "spec.alpha inf": (
        _spec(alpha=float("inf")),
        ValueError,
        "spec.alpha must be a finite number > 0",
    ),
    "spec.alpha 10**400": (
        _spec(alpha=10**400),
        ValueError,
        "spec.alpha must be a finite number > 0.*got inf",
    ),
    "spec.alpha 0": (_spec(alpha=0.0), ValueError, "spec.alpha must be a finite number > 0"),
    "spec.alpha negative": (
        _spec(alpha=-0.1),
        ValueError,
        "spec.alpha must be a finite number > 0",
    ),
    "spec.alpha str": (
        _spec(alpha="0.2"),
        TypeError,
        "spec.alpha must be a real number, got '0.2'",
    ),
    "spec.alpha bool": (_spec(alpha=True), TypeError, "spec.alpha must be a real number"),
    "spec.alpha overflows float32": (
        _f32_network(alpha=1e39),
        ValueError,
        "spec.alpha must be .* float32",
    ),
    "spec.alpha 1e-320 float32 rounds to 0": (
        _f32_network(alpha=1e-320),
        ValueError,
        "spec.alpha must be .* float32",
    ),
    "spec.activation True": (
        _spec(activation=True),
        TypeError,
        rf"spec.activation must be an Activation \({CHOICES}\), got True",
    ),
    "spec.activation None": (
        _spec(activation=None),
        TypeError,
        "spec.activation must be an Activation",
    ),
    "spec.activation 'relu'": (
        _spec(activation="relu"),
        TypeError,
        "spec.activation must be an Activation .* got 'relu'",
    ),
    "spec.activation past the last": (
        _spec(activation=len(Activation)),
        ValueError,
        rf"spec.activation must be an Activation \({CHOICES}\), got {len(Activation)}",
    ),
    "spec.activation -1": (
        _spec(activation=-1),
        ValueError,
        "spec.activation must be an Activation",
    ),
    "spec.activation 2**70": (
        _spec(activation=2**70),
        ValueError,
        "spec.activation must be an Activation",
    ),
    "spec without activation": (
        _with(spec=lambda w, x, y: SimpleNamespace(alpha=0.2, epochs=3, batch_size=1)),
        TypeError,
        r"spec must be a grokprop.specs.TrainSpec \(an object with the attribute 'activation'\),"
        + r" got types.SimpleNamespace",
    ),
    "spec a dict": (
        _with(spec=lambda w, x, y: dict(vars(train_spec()))),
        TypeError,
        "spec must be a grokprop.specs.TrainSpec .*'alpha'.* got dict",
    ),
}


@pytest.mark.parametrize("case", TRAIN_CASES.values(), ids=list(TRAIN_CASES))
def test_train_rejects_bad_arguments_and_keeps_weights(
    case: tuple[TrainCase, type[Exception], str],
) -> None:
    build, error, message = case
    args = build(*book_network())
    weights = args["weights"] if isinstance(args["weights"], list) else []
    arrays = [w for w in weights if isinstance(w, np.ndarray)]
    before = [w.tobytes() for w in arrays]
    with pytest.raises(error, match=message):
        _core.train(**args)
    assert [w.tobytes() for w in arrays] == before


def test_a_spec_is_any_object_with_the_fields_and_an_activation_any_integer() -> None:
    weights, X, Y = book_network()
    expected = _core.train([w.copy() for w in weights], X, Y, TrainSpec(0.2, 3, 1))
    specs = [train_spec(activation=a) for a in (Activation.RELU, _core.Activation.RELU, 1)]
    specs += [train_spec(epochs=np.int64(3), batch_size=np.uint8(1), activation=np.int32(1))]
    specs += [train_spec(alpha=np.float64(0.2)), train_spec(alpha=Fraction(1, 5))]
    for spec in specs:
        assert np.array_equal(_core.train([w.copy() for w in weights], X, Y, spec), expected)
    linear = _core.train([w.copy() for w in weights], X, Y, train_spec(activation=0))
    assert not np.array_equal(linear, expected)


# --------------------------------------------------------------------------- the kernels and step


def _step(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> Any:
    return _core.step(
        kw.get("weights", w), kw.get("X", x), kw.get("Y", y), kw.get("alpha", 0.2), Activation.RELU
    )


def _layers(w: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    return ReferenceBackend().forward(w, x, Activation.RELU)


def _layer_delta(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> Any:
    layers = _layers(w, x)
    D = layers[2] - y
    return _core.layer_delta(
        kw.get("D", D), kw.get("W", w[1]), kw.get("A", layers[1]), kw.get("activation", 1)
    )


def _weight_delta(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> Any:
    layers = _layers(w, x)
    return _core.weight_delta(kw.get("A", layers[1]), kw.get("D", layers[2] - y))


def _update_layer(w: list[np.ndarray], x: np.ndarray, y: np.ndarray, **kw: Any) -> None:
    W = kw.get("W", w[1])
    _core.update_layer(W, kw.get("G", lambda W: np.ones_like(w[1]))(W), kw.get("alpha", 0.2))


KernelCase = tuple[Callable[..., Any], dict[str, Any], type[Exception], str]
KERNEL_CASES: dict[str, KernelCase] = {
    "layer_forward A int": (
        lambda w, x, y: _core.layer_forward(np.array(NONLINEAR_X), w[0], 1),
        {},
        TypeError,
        "A must have dtype float32 or float64",
    ),
    "layer_forward A float16": (
        lambda w, x, y: _core.layer_forward(np.ones((2, 3), np.float16), w[0], 1),
        {},
        TypeError,
        "A must have dtype float32 or float64, got float16",
    ),
    "layer_forward A list": (
        lambda w, x, y: _core.layer_forward([[1.0, 0.0, 1.0]], w[0], 1),
        {},
        TypeError,
        "A: numpy.ndarray",
    ),
    "layer_forward W float32": (
        lambda w, x, y: _core.layer_forward(x, w[0].astype(np.float32), 1),
        {},
        TypeError,
        "W has dtype float32 but A has float64",
    ),
    "layer_forward A Fortran": (
        lambda w, x, y: _core.layer_forward(fortran(np.ones((4, 3))), w[0], 1),
        {},
        ValueError,
        "A must be C-contiguous",
    ),
    "layer_forward A 1-D": (
        lambda w, x, y: _core.layer_forward(np.ones(3), w[0], 1),
        {},
        ValueError,
        "A must be a 2-D array",
    ),
    "layer_forward W rows": (
        lambda w, x, y: _core.layer_forward(x, w[1], 1),
        {},
        ValueError,
        r"W has shape \(4, 1\) but must have shape \(3, 1\)",
    ),
    "step X int": (_step, {"X": np.array(NONLINEAR_X)}, TypeError, "X must have dtype float32"),
    "step weights[0] float32": (
        _step,
        {"weights": [np.ones((3, 4), np.float32), np.ones((4, 1))]},
        TypeError,
        r"weights\[0\] has dtype float32 but X has float64",
    ),
    "step X Fortran": (
        _step,
        {"X": fortran(np.ones((4, 3)))},
        ValueError,
        "X must be C-contiguous",
    ),
    "step X columns": (_step, {"X": np.ones((4, 2))}, ValueError, r"X has shape \(4, 2\)"),
    "step X 1-D": (_step, {"X": np.ones(3)}, ValueError, "X must be a 2-D array"),
    "step Y shape": (_step, {"Y": np.ones((4, 2))}, ValueError, r"Y has shape \(4, 2\)"),
    "step weights chain": (
        _step,
        {"weights": [np.ones((3, 4)), np.ones((2, 1))]},
        ValueError,
        r"weights\[1\] has shape \(2, 1\)",
    ),
    "step no weights": (_step, {"weights": []}, ValueError, "weights must hold at least one"),
    "step weights[1] None": (
        _step,
        {"weights": [np.ones((3, 4)), None]},
        TypeError,
        r"weights\[1\] must be a numpy.ndarray, got NoneType",
    ),
    "step weights[1] read-only": (
        _step,
        {"weights": [np.ones((3, 4)), read_only(np.ones((4, 1)))]},
        ValueError,
        r"weights\[1\] must be writeable",
    ),
    "step weights share memory": (
        _step,
        {"weights": [*sharing((3, 4), (4, 1))]},
        ValueError,
        r"weights\[1\] shares memory with weights\[0\]",
    ),
    "step alpha nan": (_step, {"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
    "step alpha negative": (_step, {"alpha": -1.0}, ValueError, "alpha must be a finite number"),
    "layer_delta A shape": (
        _layer_delta,
        {"A": np.ones((4, 3))},
        ValueError,
        r"A has shape \(4, 3\) but must have shape \(4, 4\)",
    ),
    "layer_delta A rows": (
        _layer_delta,
        {"A": np.ones((3, 4))},
        ValueError,
        r"A has shape \(3, 4\)",
    ),
    "layer_delta W columns": (
        _layer_delta,
        {"W": np.ones((4, 2))},
        ValueError,
        r"W has shape \(4, 2\) but must have shape \(4, 1\)",
    ),
    "layer_delta A int": (
        _layer_delta,
        {"A": np.ones((4, 4), int)},
        TypeError,
        "A must have dtype float32 or float64",
    ),
    "layer_delta activation None": (
        _layer_delta,
        {"activation": None},
        TypeError,
        "activation must be an Activation",
    ),
    "output_delta Y shape": (
        lambda w, x, y: _core.output_delta(np.ones((4, 1)), np.ones((4, 2))),
        {},
        ValueError,
        r"Y has shape \(4, 2\) but must have shape \(4, 1\)",
    ),
    "output_delta Y float32": (
        lambda w, x, y: _core.output_delta(np.ones((4, 1)), np.ones((4, 1), np.float32)),
        {},
        TypeError,
        "Y has dtype float32 but output has float64",
    ),
    "weight_delta D rows": (
        _weight_delta,
        {"D": np.ones((3, 1))},
        ValueError,
        r"D has shape \(3, 1\) but must have shape \(4, 1\)",
    ),
    "weight_delta D strided": (
        _weight_delta,
        {"D": strided(np.ones((4, 1)))},
        ValueError,
        "D must be C-contiguous",
    ),
    "weight_delta A None": (
        _weight_delta,
        {"A": None},
        TypeError,
        "A: numpy.ndarray",
    ),
    "update_layer W read-only": (
        _update_layer,
        {"W": read_only(np.ones((4, 1)))},
        ValueError,
        "W must be writeable",
    ),
    "update_layer G shape": (
        _update_layer,
        {"G": lambda W: np.ones((3, 4))},
        ValueError,
        r"G has shape \(3, 4\) but must have shape \(4, 1\)",
    ),
    "update_layer G is W": (
        _update_layer,
        {"G": lambda W: W},
        ValueError,
        "W shares memory with G",
    ),
    "update_layer G float32": (
        _update_layer,
        {"G": lambda W: np.ones((4, 1), np.float32)},
        TypeError,
        "G has dtype float32 but W has float64",
    ),
    "update_layer alpha nan": (
        _update_layer,
        {"alpha": float("nan")},
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "update_layer alpha negative": (
        _update_layer,
        {"alpha": -1.0},
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "update_layer alpha None": (
        _update_layer,
        {"alpha": None},
        TypeError,
        "alpha: typing.SupportsFloat",
    ),
    "activate int": (
        lambda w, x, y: _core.activate(np.arange(3), 1),
        {},
        TypeError,
        "z must have dtype float32 or float64",
    ),
    "activate Fortran": (
        lambda w, x, y: _core.activate(fortran(np.ones((2, 3))), 1),
        {},
        ValueError,
        "z must be C-contiguous",
    ),
    "activate list": (
        lambda w, x, y: _core.activate([1.0, -1.0], 1),
        {},
        TypeError,
        "z: numpy.ndarray",
    ),
    "activate_deriv int": (
        lambda w, x, y: _core.activate_deriv(np.arange(3), 1),
        {},
        TypeError,
        "out must have dtype float32 or float64",
    ),
    "activate_deriv unaligned": (
        lambda w, x, y: _core.activate_deriv(unaligned(np.ones(4)), 1),
        {},
        ValueError,
        "out must be aligned",
    ),
    "activate_deriv complex": (
        lambda w, x, y: _core.activate_deriv(np.ones(3, complex), 1),
        {},
        TypeError,
        "out must have dtype float32 or float64, got complex128",
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
    "example_errors object": (
        lambda w, x, y: _core.example_errors(np.ones((2, 1), object), np.ones((2, 1))),
        {},
        TypeError,
        "output must have dtype float32 or float64, got object",
    ),
}


@pytest.mark.parametrize("case", KERNEL_CASES.values(), ids=list(KERNEL_CASES))
def test_kernels_and_step_reject_bad_arguments_and_keep_weights(case: KernelCase) -> None:
    call, changes, error, message = case
    weights, X, Y = book_network()
    before = [w.copy() for w in weights]
    touched = [
        w
        for w in [*changes.get("weights", []), changes.get("W")]
        if isinstance(w, np.ndarray) and w.flags.writeable
    ]
    touched_before = [w.copy() for w in touched]
    with pytest.raises(error, match=message):
        call(weights, X, Y, **changes)
    for old, new in zip(before + touched_before, weights + touched, strict=True):
        assert np.array_equal(old, new)


ACTIVATION_CALLS: dict[str, Callable[[Any], object]] = {
    "layer_forward": lambda a: _core.layer_forward(np.ones((2, 3)), np.ones((3, 4)), a),
    "activate": lambda a: _core.activate(np.ones(3), a),
    "activate_deriv": lambda a: _core.activate_deriv(np.ones(3), a),
    "layer_delta": lambda a: _core.layer_delta(
        np.ones((2, 1)), np.ones((4, 1)), np.ones((2, 4)), a
    ),
    "step": lambda a: _core.step([np.ones((3, 4)), np.ones((4, 1))], *book_network()[1:], 0.1, a),
}
BAD_ACTIVATIONS: list[tuple[Any, type[Exception]]] = [
    (True, TypeError),
    (None, TypeError),
    ("relu", TypeError),
    (1.0, TypeError),
    (len(Activation), ValueError),
    (-1, ValueError),
]


@pytest.mark.parametrize(("value", "error"), BAD_ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("call", ACTIVATION_CALLS.values(), ids=list(ACTIVATION_CALLS))
def test_every_activation_argument_is_range_checked(
    call: Callable[[Any], object], value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match=rf"^activation must be an Activation \({CHOICES}\), got"):
        call(value)
    for good in (Activation.RELU, _core.Activation.LINEAR, 0, np.int32(1)):
        call(good)


@pytest.mark.parametrize(
    ("function", "args", "parameter"),
    [
        ("train", (None, np.ones((4, 3)), np.ones((4, 3)), train_spec()), "weights"),
        ("layer_forward", ("A", np.ones((3, 1)), 1), "A"),
        ("activate", (1.0, 1), "z"),
        ("activate_deriv", ("out", 1), "out"),
        ("example_errors", (np.ones((4, 3)), None), "Y"),
        ("update_layer", (np.ones((3, 1)), np.ones((3, 1)), "0.1"), "alpha"),
        ("step", ([], np.ones((4, 3)), np.ones((4, 3)), "0.1", 1), "alpha"),
    ],
)
def test_core_type_errors_from_pybind11_show_the_named_signature(
    function: str, args: tuple, parameter: str
) -> None:
    # pybind11 rejects a wrong Python type before our checks run, with its generic
    # "incompatible function arguments" message. That message lists the signature with
    # every parameter's name and type, so the argument is named (if not singled out).
    with pytest.raises(TypeError, match="incompatible function arguments") as info:
        getattr(_core, function)(*args)
    assert f"{parameter}: " in str(info.value)
    assert "Invoked with" in str(info.value)


# --------------------------------------------------------------------------- equality


@pytest.mark.parametrize("activation", list(Activation), ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cpp_backend_equals_reference_bit_for_bit(dtype: str, activation: Activation) -> None:
    ref, cpp = ReferenceBackend(), CppBackend()
    rng = np.random.RandomState(7)
    sizes = [5, 17, 9, 3]
    weights = [
        (2 * rng.random_sample((a, b)) - 1).astype(dtype) for a, b in itertools.pairwise(sizes)
    ]
    X = rng.uniform(-1, 1, (9, sizes[0])).astype(dtype)
    Y = rng.uniform(-1, 1, (9, sizes[-1])).astype(dtype)

    # the kernels, one by one (NaN, -0, -inf and negatives included)
    layers = ref.forward(weights, X, activation)
    assert all(map(np.array_equal, layers, cpp.forward(weights, X, activation)))
    for W, A in zip(weights, layers):
        for act in Activation:
            assert np.array_equal(ref.layer_forward(A, W, act), cpp.layer_forward(A, W, act))
    z = layers[1] - np.dtype(dtype).type(0.5)
    z.flat[:3] = [np.nan, -0.0, -np.inf]
    z3 = z.reshape(3, 3, -1)
    for act in Activation:
        for values in (z, z3, z[:0], z[1, 1, ...]):  # 2-D, 3-D, empty, 0-D
            assert np.array_equal(ref.activate(values, act), cpp.activate(values, act), True)
            deriv = ref.activate_deriv(values, act)  # sigmoid's and tanh's of NaN are NaN
            assert np.array_equal(deriv, cpp.activate_deriv(values, act), True)
            assert cpp.activate(values, act).shape == values.shape
    assert np.array_equal(ref.example_errors(layers[-1], Y), cpp.example_errors(layers[-1], Y))
    assert np.array_equal(ref.output_delta(layers[-1], Y), cpp.output_delta(layers[-1], Y))
    D = ref.output_delta(layers[-1], Y)
    assert np.array_equal(
        ref.layer_delta(D, weights[2], layers[2], activation),
        cpp.layer_delta(D, weights[2], layers[2], activation),
    )
    deltas = ref.deltas(weights, layers, Y, activation)
    assert all(map(np.array_equal, deltas, cpp.deltas(weights, layers, Y, activation)))
    grads = ref.weight_deltas(layers, deltas)
    assert all(map(np.array_equal, grads, cpp.weight_deltas(layers, deltas)))
    expected, got = [w.copy() for w in weights], [w.copy() for w in weights]
    ref.update(expected, grads, 0.03)
    cpp.update(got, grads, 0.03)
    assert all(map(np.array_equal, expected, got))

    # step: the fused update, one batch of every row (and of one row)
    for rows in (slice(None), slice(0, 1)):
        expected, got = [w.copy() for w in weights], [w.copy() for w in weights]
        want = ref.step(expected, X[rows], Y[rows], 0.03, activation)
        trace = cpp.step(got, X[rows], Y[rows], 0.03, activation)
        for field in ("layers", "deltas", "weight_deltas"):
            assert all(map(np.array_equal, getattr(want, field), getattr(trace, field))), field
            assert [a.dtype for a in getattr(trace, field)] == [np.dtype(dtype)] * len(
                getattr(want, field)
            )
        assert np.array_equal(want.errors, trace.errors)
        assert all(map(np.array_equal, expected, got))

    # train, in every mode
    for batch_size in (1, 4, 9):
        spec = TrainSpec(0.03, 5, batch_size, activation, np.dtype(dtype))
        expected, got = [w.copy() for w in weights], [w.copy() for w in weights]
        errors = cpp.train(got, X, Y, spec)
        assert errors.dtype == np.dtype(dtype)
        assert np.array_equal(ref.train(expected, X, Y, spec), errors)
        assert all(map(np.array_equal, expected, got))

    # sweep: 20 networks (several lane blocks), threads or not; the larger rates diverge
    seeds = np.arange(20, dtype=np.uint32)
    alphas = np.linspace(0.001, 0.1, 20)
    for batch_size in (1, 4):
        spec_s = SweepSpec(tuple(sizes), 4, batch_size, activation, np.dtype(dtype), True, True)
        want_s = ref.sweep(X, Y, seeds, alphas, spec_s, 1)
        for threads in (1, 3):
            result = cpp.sweep(X, Y, seeds, alphas, spec_s, threads)
            assert np.array_equal(want_s.final_errors, result.final_errors, equal_nan=True)
            assert np.array_equal(want_s.diverged, result.diverged)
            assert want_s.curves is not None and result.curves is not None
            assert np.array_equal(want_s.curves, result.curves, equal_nan=True)
            assert want_s.weights is not None and result.weights is not None
            for want_w, got_w in zip(want_s.weights, result.weights, strict=True):
                assert np.array_equal(want_w, got_w, equal_nan=True)


def test_step_updates_the_callers_arrays_in_place_and_returns_x_itself() -> None:
    weights, X, Y = book_network()
    arrays = list(weights)
    before = [w.copy() for w in weights]
    layers, deltas, weight_deltas, errors = _core.step(weights, X, Y, 0.2, Activation.RELU)
    assert all(a is b for a, b in zip(arrays, weights))
    assert layers[0] is X
    assert [a.shape for a in layers] == [(4, 3), (4, 4), (4, 1)]
    assert [d.shape for d in deltas] == [(4, 4), (4, 1)]
    assert [g.shape for g in weight_deltas] == [(3, 4), (4, 1)]
    assert errors.shape == (4,)
    for w, old, g in zip(weights, before, weight_deltas):
        assert np.array_equal(w, old - 0.2 * g)


def test_train_updates_the_callers_arrays_and_prints_the_books_numbers(
    program5_errors: list[str],
) -> None:
    weights, X, Y = book_network()
    arrays = list(weights)
    errors = _core.train(weights, X, Y, TrainSpec(0.2, 60, 1, Activation.RELU))
    assert all(a is b for a, b in zip(arrays, weights))
    assert [f"{e:.12g}" for e in errors[9::10]] == program5_errors
    assert _core.train(weights, X, Y, TrainSpec(0.2, 0, 4)).shape == (0,)


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_train_stops_after_the_first_non_finite_epoch_like_the_reference(batch_size: int) -> None:
    expected, X, Y = book_network("float32")
    got = [w.copy() for w in expected]
    spec = TrainSpec(10.0, 200, batch_size, Activation.LINEAR, np.dtype(np.float32))
    errors = _core.train(got, X, Y, spec)
    assert 0 < len(errors) < 200
    assert not np.isfinite(errors[-1])
    assert np.isfinite(errors[:-1]).all()
    with np.errstate(all="ignore"):
        reference = ReferenceBackend().train(expected, X, Y, spec)
    assert np.array_equal(reference, errors, equal_nan=True)


# --------------------------------------------------------------------- transactions


def _buffered(dtype: str, poison: bool = False) -> tuple[WeightBuffer, Arrays]:
    weights, X, Y = book_network(dtype)
    if poison:
        weights[1][2, 0] = np.nan
    return WeightBuffer(weights, np.dtype(dtype)), (weights, X, Y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("alpha", "activation", "poison", "outcome"),
    [
        (0.2, Activation.RELU, False, Outcome.COMMITTED),
        (10.0, Activation.LINEAR, False, Outcome.DIVERGED),
        (0.2, Activation.RELU, True, Outcome.NOT_FINITE_BEFORE),
    ],
)
def test_compiled_transactions_equal_the_protocols_written_once(
    dtype: str, alpha: float, activation: Activation, poison: bool, outcome: Outcome
) -> None:
    """_core's train_transaction / step_transaction end as Backend's Python ones do: the
    same outcome, errors and traces, and the weights kept or restored alike."""
    spec = TrainSpec(alpha, 200, 1, activation, np.dtype(dtype))
    results = {}
    for engine in (CppBackend(), ReferenceBackend()):
        buffer, (before, X, Y) = _buffered(dtype, poison)
        with np.errstate(all="ignore"):
            errors, got = engine.train_transaction(buffer.buffer, buffer.views, X, Y, spec)
        assert got is outcome, engine.name
        step_buffer, _ = _buffered(dtype, poison)
        huge = (X * (np.sqrt(np.finfo(dtype).max) * 10)).astype(dtype)  # its error overflows
        with np.errstate(all="ignore"):
            trace, step_outcome = engine.step_transaction(
                step_buffer.buffer, step_buffer.views, huge, Y, alpha, activation
            )
        results[engine.name] = (errors, buffer.copies(), trace, step_outcome, step_buffer)
        if outcome is not Outcome.COMMITTED:  # restored: bit for bit what came in
            assert all(np.array_equal(w, b, equal_nan=True) for w, b in zip(buffer.views, before))
    cpp, ref = results["cpp"], results["numpy"]
    assert np.array_equal(cpp[0], ref[0], equal_nan=True)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(cpp[1], ref[1]))
    assert cpp[3] is ref[3]
    assert cpp[3] is not Outcome.COMMITTED
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(cpp[4].views, ref[4].views))
    for got_arrays, want_arrays in zip(cpp[2], ref[2]):
        arrays = [got_arrays] if isinstance(got_arrays, np.ndarray) else got_arrays
        wanted = [want_arrays] if isinstance(want_arrays, np.ndarray) else want_arrays
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(arrays, wanted))


def test_compiled_transaction_checks_the_buffer_covers_the_weights() -> None:
    buffer, (weights, X, Y) = _buffered("float64")
    spec = TrainSpec(0.2, 3, 1, Activation.RELU)
    with pytest.raises(ValueError, match=r"weights\[0\] must lie inside buffer"):
        _core.train_transaction(buffer.buffer, weights, X, Y, spec)
    with pytest.raises(ValueError, match="buffer must be a 1-D array"):
        _core.train_transaction(buffer.buffer.reshape(1, -1), buffer.views, X, Y, spec)
    with pytest.raises(TypeError, match="buffer"):
        _core.step_transaction(
            buffer.buffer.astype(np.float32), buffer.views, X, Y, 0.2, Activation.RELU
        )
    read_only = buffer.buffer.view()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="buffer must be writeable"):
        _core.step_transaction(read_only, buffer.views, X, Y, 0.2, Activation.RELU)
    assert all(np.array_equal(w, b) for w, b in zip(buffer.views, weights))


def test_compiled_transaction_restores_the_weights_when_a_signal_handler_raises() -> None:
    """A signal that arrives during the compiled call is handled before it commits: the
    handler's exception leaves with the weights restored (a Python transaction's except
    clause would see it too)."""
    buffer, (before, _, _) = _buffered("float64")
    rng = np.random.default_rng(0)
    X, Y = rng.random((2000, 3)), rng.random((2000, 1))
    spec = TrainSpec(1e-3, 5000, 1, Activation.RELU)  # about 0.25 s of training

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            _core.train_transaction(buffer.buffer, buffer.views, X, Y, spec)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert all(np.array_equal(w, b) for w, b in zip(buffer.views, before))


# --------------------------------------------------------------------------- sweep

SWEEP_X, SWEEP_Y = np.ones((4, 3)), np.ones((4, 1))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"spec": sweep_spec(sizes=(3, 2**70, 1))},
            ValueError,
            r"spec.sizes\[1\] must be an integer from 1 to 10\*\*12",
        ),
        (
            {"spec": sweep_spec(sizes=(3, 2**30, 2**30, 1))},
            ValueError,
            "more than 10\\*\\*12 weights",
        ),
        ({"spec": sweep_spec(sizes=(3, 4.0, 1))}, TypeError, r"spec.sizes\[1\] must be an integer"),
        (
            {"spec": sweep_spec(sizes=(3, True, 1))},
            TypeError,
            r"spec.sizes\[1\] must be an integer",
        ),
        ({"spec": sweep_spec(sizes=(3,))}, ValueError, "at least an input and an output"),
        ({"spec": sweep_spec(sizes="341")}, TypeError, "spec.sizes must be a sequence"),
        (
            {"spec": sweep_spec(sizes=(2, 4, 1))},
            ValueError,
            r"X has shape \(4, 3\) but must have shape \(4, 2\)",
        ),
        ({"seeds": np.arange(3)}, TypeError, "seeds must be a uint32 array"),
        ({"seeds": np.arange(6, dtype=np.uint32)[::2]}, ValueError, "seeds must be C-contiguous"),
        ({"alphas": np.full(2, 0.1)}, ValueError, "alphas must have one entry per seed"),
        (
            {"alphas": np.array([0.1, np.nan, 0.1])},
            ValueError,
            r"alphas\[1\] must be a finite number",
        ),
        ({"X": np.ones((4, 3), np.float32)}, TypeError, "must share one float dtype"),
        (
            {"spec": sweep_spec(batch_size=5)},
            ValueError,
            "spec.batch_size must be an integer from 1",
        ),
        ({"spec": sweep_spec(epochs=-2)}, ValueError, "spec.epochs must be an integer >= 0"),
        ({"spec": sweep_spec(activation=5)}, ValueError, "spec.activation must be an Activation"),
        ({"spec": sweep_spec(curves=1)}, TypeError, "spec.curves must be True or False, got 1"),
        ({"spec": sweep_spec(weights=None)}, TypeError, "spec.weights must be True or False"),
        ({"spec": train_spec()}, TypeError, "spec must be a grokprop.specs.SweepSpec .*'sizes'"),
        ({"threads": 0}, ValueError, "threads must be an integer >= 1"),
    ],
)
def test_core_sweep_checks_its_arguments(change: dict, error: type, match: str) -> None:
    args = {
        "X": SWEEP_X, "Y": SWEEP_Y, "seeds": np.arange(3, dtype=np.uint32),
        "alphas": np.full(3, 0.1), "spec": sweep_spec(), "threads": 1, **change,
    }  # fmt: skip
    with pytest.raises(error, match=match):
        _core.sweep(*args.values())


def test_core_sweep_caps_threads() -> None:
    """More threads than blocks of networks (or than 256) just uses fewer threads."""
    seeds, alphas = np.arange(3, dtype=np.uint32), np.full(3, 0.1)
    spec = SweepSpec((3, 4, 1), 2, 1, curves=True, weights=True)
    one = _core.sweep(SWEEP_X, SWEEP_Y, seeds, alphas, spec, 1)
    many = _core.sweep(SWEEP_X, SWEEP_Y, seeds, alphas, spec, 10**6)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[2], many[2])


def test_core_sweep_and_stop_flag_take_unpickled_arrays() -> None:
    """An array that comes out of a pickle (a process pool's or Dask's result or task) has a
    dtype equal to NumPy's own but another object: the core compares dtypes, not objects."""
    import pickle

    seeds, alphas = np.arange(3, dtype=np.uint32), np.full(3, 0.1)
    stop = np.zeros(1, np.uint8)
    copies = pickle.loads(pickle.dumps((seeds, alphas, stop), protocol=5))
    assert all(c.dtype is not a.dtype for c, a in zip(copies, (seeds, alphas, stop)))
    spec = SweepSpec((3, 4, 1), 2, 1, curves=True, weights=True)
    expected = _core.sweep(SWEEP_X, SWEEP_Y, seeds, alphas, spec, 1)
    got = _core.sweep(SWEEP_X, SWEEP_Y, *copies[:2], spec, 1, copies[2])
    *arrays, weights = expected
    *got_arrays, got_weights = got
    assert all(np.array_equal(a, b) for a, b in zip(arrays, got_arrays))
    assert all(np.array_equal(a, b) for a, b in zip(weights, got_weights))
