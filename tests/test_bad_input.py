"""The bad-input battery (docs/design.md, "Validation"): whatever a user passes, a clear error and no damage.

Every case below is one malformed input to one entry point: ``Network(...)``, ``fit``,
``step``, ``forward``/``predict``, ``verify``, ``set_backend``/``use_backend``, the CLI, and
``grokprop._core`` called directly. Each must raise ``ValueError``/``TypeError`` (or
``MemoryError`` for absurd sizes) with a message naming the argument, and leave the
network's weights bitwise unchanged. Cases already covered elsewhere are not repeated:
``test_validation.py`` (the basic fit/Network table) and ``test_core_binding.py`` (``_core``
dtype, layout, shape, aliasing and range checks).

Decisions these tests pin down:

* The public API accepts any real-number array-like (ints, float16/32/64, long double,
  big-endian, Fortran-ordered, strided or read-only arrays, nested lists) and converts it
  once to the network's dtype; only the values matter, never the layout.
  ``_core`` converts nothing and rejects all of these (``test_core_binding.py``).
* The arrays ``net.weights`` hands out are the live ones: a user who makes one read-only,
  reshapes it or writes NaN into it gets a ``ValueError`` from the next call, not a crash.
* Sizes or epochs that need more memory than the machine has are a ``MemoryError`` up front.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import grokprop as gp
from grokprop.cli import main

X, Y = gp.datasets.streetlights("nonlinear")  # (4, 3) and (4, 1) int arrays
XF = X.astype(np.float64)


def _bits(net: gp.Network) -> list[tuple[tuple[int, ...], str, bytes]]:
    """Everything that makes the weights what they are, down to the last bit."""
    return [(w.shape, w.dtype.str, w.tobytes()) for w in net.weights]


def _nothing(net: gp.Network) -> None:
    pass


@dataclass(frozen=True)
class Case:
    """One malformed call on a fresh seed-1 ``[3, 4, 1]`` network."""

    call: Callable[[gp.Network, str], object]
    error: type[BaseException]
    match: str
    _: KW_ONLY
    prepare: Callable[[gp.Network], None] = field(default=_nothing)
    """What the user did to the network beforehand (counted in "before")."""
    dtype: str = "float64"


def _fit(**changes: Any) -> Callable[[gp.Network, str], object]:
    def call(net: gp.Network, backend: str) -> object:
        args = {"X": X, "y": Y, "alpha": 0.1, "epochs": 2, "backend": backend, **changes}
        return net.fit(args.pop("X"), args.pop("y"), **args)

    return call


def _step(**changes: Any) -> Callable[[gp.Network, str], object]:
    def call(net: gp.Network, backend: str) -> object:
        args = {"X": X[:1], "y": Y[:1], "alpha": 0.1, "backend": backend, **changes}
        return net.step(args.pop("X"), args.pop("y"), **args)

    return call


def _predict(rows: Any) -> Callable[[gp.Network, str], object]:
    return lambda net, backend: net.predict(rows, backend=backend)


def _forward(rows: Any) -> Callable[[gp.Network, str], object]:
    return lambda net, backend: net.forward(rows, backend=backend)


def _read_only(l: int) -> Callable[[gp.Network], None]:
    def prepare(net: gp.Network) -> None:
        net.weights[l].flags.writeable = False

    return prepare


def _poke(l: int, value: float) -> Callable[[gp.Network], None]:
    def prepare(net: gp.Network) -> None:
        net.weights[l][0, 0] = value

    return prepare


def _reshape(net: gp.Network) -> None:
    net.weights[0].shape = (12, 1)


def _masked(array: np.ndarray) -> np.ndarray:
    return np.ma.array(array, mask=array == 1)


# Run on every backend: the checks come before any backend work, and must not depend on it.
BACKEND_CASES: dict[str, Case] = {
    # ---- fit: X and y
    "fit X ragged list": Case(
        _fit(X=[[1, 0, 1], [0, 1]]), ValueError, "X must be a 2-D array of numbers"
    ),
    "fit X None": Case(_fit(X=None), TypeError, "X must hold real numbers"),
    "fit X dict": Case(_fit(X={"a": 1}), TypeError, "X must hold real numbers"),
    "fit X masked": Case(_fit(X=_masked(X)), TypeError, "X must not be a masked array"),
    "fit X 3-D": Case(_fit(X=X[None]), ValueError, r"X must be a 2-D array .* \(1, 4, 3\)"),
    "fit X scalar": Case(_fit(X=1.0), ValueError, r"X must be a 2-D array .* shape \(\)"),
    "fit X no columns": Case(_fit(X=np.zeros((4, 0))), ValueError, "X must not be empty"),
    "fit X +inf": Case(_fit(X=np.where(X == 1, np.inf, 0)), ValueError, "X must be finite"),
    "fit X -inf": Case(_fit(X=np.where(X == 1, -np.inf, 0)), ValueError, "X must be finite"),
    "fit X long double 1e400": Case(
        _fit(X=np.full((4, 3), np.longdouble("1e400"))), ValueError, "X must be finite"
    ),
    "fit X datetime": Case(_fit(X=X.astype("M8[s]")), TypeError, "X must hold real numbers"),
    "fit X bytes": Case(_fit(X=X.astype("S1")), TypeError, "X must hold real numbers"),
    "fit X timedelta": Case(_fit(X=X.astype("m8[s]")), TypeError, "X must hold real numbers"),
    "fit y NaN": Case(_fit(y=np.full((4, 1), np.nan)), ValueError, "y must be finite"),
    "fit y complex": Case(_fit(y=Y + 0j), TypeError, "y must hold real numbers"),
    "fit y object": Case(_fit(y=Y.astype(object)), TypeError, "y must hold real numbers"),
    "fit y str": Case(_fit(y=Y.astype(str)), TypeError, "y must hold real numbers"),
    "fit y empty": Case(_fit(y=np.zeros((0, 1))), ValueError, "y must not be empty"),
    "fit y 3-D": Case(_fit(y=Y[None]), ValueError, "y must be a 2-D array"),
    "fit y too many rows": Case(_fit(y=np.ones((5, 1))), ValueError, "got 4 and 5"),
    # ---- fit: float32 networks get data and alpha rounded to float32
    "fit float32 X overflows": Case(
        _fit(X=XF * 1e39), ValueError, r"X must be finite .* as float32", dtype="float32"
    ),
    "fit float32 y overflows": Case(
        _fit(y=Y * -1e39), ValueError, r"y must be finite .* as float32", dtype="float32"
    ),
    "fit float32 alpha overflows": Case(
        _fit(alpha=1e39),
        ValueError,
        r"alpha .* once rounded to the network's float32",
        dtype="float32",
    ),
    "fit float32 alpha underflows": Case(
        _fit(alpha=1e-50),
        ValueError,
        r"alpha .* once rounded to the network's float32",
        dtype="float32",
    ),
    # ---- fit: alpha, epochs, batch_size
    "fit alpha -inf": Case(_fit(alpha=-math.inf), ValueError, "alpha must be a finite number"),
    "fit alpha numpy nan": Case(_fit(alpha=np.float64("nan")), ValueError, "alpha must be"),
    "fit alpha huge int": Case(_fit(alpha=10**400), ValueError, "alpha must be a finite number"),
    "fit alpha huge Fraction": Case(
        _fit(alpha=Fraction(10**400, 3)), ValueError, "alpha must be a finite number"
    ),
    "fit alpha None": Case(_fit(alpha=None), TypeError, "alpha must be a real number"),
    "fit alpha complex": Case(_fit(alpha=0.1 + 0j), TypeError, "alpha must be a real number"),
    "fit alpha bool": Case(_fit(alpha=True), TypeError, "alpha must be a real number"),
    "fit alpha array": Case(_fit(alpha=np.array([0.1])), TypeError, "alpha must be a real"),
    "fit epochs None": Case(_fit(epochs=None), TypeError, "epochs must be an integer"),
    "fit epochs str": Case(_fit(epochs="3"), TypeError, "epochs must be an integer"),
    "fit epochs numpy float": Case(
        _fit(epochs=np.float64(3)), TypeError, "epochs must be an integer"
    ),
    "fit epochs 10**30": Case(_fit(epochs=10**30), MemoryError, r"epochs=10{30} \(one error"),
    "fit epochs 2**40": Case(_fit(epochs=2**40), MemoryError, "epochs=1099511627776"),
    "fit batch_size -1": Case(
        _fit(batch_size=-1), ValueError, "batch_size must be an integer >= 1"
    ),
    "fit batch_size 1.0": Case(_fit(batch_size=1.0), TypeError, "batch_size must be an integer"),
    "fit batch_size 'full'": Case(
        _fit(batch_size="full"), TypeError, "batch_size must be an integer"
    ),
    "fit batch_size True": Case(_fit(batch_size=True), TypeError, "batch_size must be an integer"),
    "fit batch_size 10**20": Case(
        _fit(batch_size=10**20), ValueError, r"batch_size must be between 1 and .* \(4\)"
    ),
    # ---- the user changed the live arrays net.weights returns
    "fit weights[0] read-only": Case(
        _fit(), ValueError, r"weights\[0\] is read-only", prepare=_read_only(0)
    ),
    "fit weights[1] read-only": Case(
        _fit(batch_size=None), ValueError, r"weights\[1\] is read-only", prepare=_read_only(1)
    ),
    "fit weights[1] set to NaN": Case(
        _fit(), ValueError, r"weights\[1\] must be finite", prepare=_poke(1, math.nan)
    ),
    "fit weights[0] set to -inf": Case(
        _fit(), ValueError, r"weights\[0\] must be finite", prepare=_poke(0, -math.inf)
    ),
    "fit weights[0] reshaped in place": Case(
        _fit(),
        ValueError,
        r"weights\[0\] must have shape \(3, 4\) .* got shape \(12, 1\)",
        prepare=_reshape,
    ),
    # ---- step
    "step X columns": Case(_step(X=X[:1, :2]), ValueError, "X must have 3 columns"),
    "step y rows": Case(_step(y=Y[:2]), ValueError, "X and y must have the same number of rows"),
    "step X NaN": Case(_step(X=[[np.nan, 0, 1]]), ValueError, "X must be finite"),
    "step alpha 0": Case(_step(alpha=0.0), ValueError, "alpha must be a finite number > 0"),
    "step alpha str": Case(_step(alpha="fast"), TypeError, "alpha must be a real number"),
    "step float32 alpha overflows": Case(
        _step(alpha=1e300), ValueError, "alpha .* float32", dtype="float32"
    ),
    "step weights[1] read-only": Case(
        _step(), ValueError, r"weights\[1\] is read-only", prepare=_read_only(1)
    ),
    "step weights[0] NaN": Case(
        _step(), ValueError, r"weights\[0\] must be finite", prepare=_poke(0, math.nan)
    ),
    # ---- forward / predict
    "predict X columns": Case(_predict(np.ones((2, 4))), ValueError, "X must have 3 columns"),
    "predict X inf": Case(_predict([[1, math.inf, 0]]), ValueError, "X must be finite"),
    "predict X str": Case(_predict([["a", "b", "c"]]), TypeError, "X must hold real numbers"),
    "predict X bool": Case(_predict(X.astype(bool)), TypeError, "X must hold real numbers"),
    "predict X empty list": Case(_predict([]), ValueError, r"X must be a 2-D array .* \(0,\)"),
    "forward X 3-D": Case(_forward(np.ones((1, 2, 3))), ValueError, "X must be a 2-D array"),
    "forward weights[1] inf": Case(
        _forward(X), ValueError, r"weights\[1\] must be finite", prepare=_poke(1, math.inf)
    ),
    "predict weights[0] reshaped": Case(
        _predict(X), ValueError, r"weights\[0\] must have shape \(3, 4\)", prepare=_reshape
    ),
    # ---- backend names
    "fit backend ''": Case(_fit(backend=""), ValueError, "unknown backend ''"),
    "fit backend CPP": Case(_fit(backend="CPP"), ValueError, "unknown backend 'CPP'.*'cpp'"),
    "predict backend 3": Case(
        lambda net, backend: net.predict(X, backend=3),  # type: ignore[arg-type]
        TypeError,
        "backend must be a backend name",
    ),
}


@pytest.mark.parametrize("case", BACKEND_CASES.values(), ids=list(BACKEND_CASES))
def test_every_entry_point_rejects_bad_input_and_keeps_weights(case: Case, backend: str) -> None:
    net = gp.Network([3, 4, 1], seed=1, dtype=case.dtype)
    case.prepare(net)
    before = _bits(net)
    with pytest.raises(case.error, match=case.match):
        case.call(net, backend)
    assert _bits(net) == before


# --------------------------------------------------------------------------- Network(...)

CONSTRUCTION: dict[str, tuple[dict[str, Any], type[BaseException], str]] = {
    "sizes 10**6 x 10**6": (
        {"sizes": [10**6, 10**6, 1]},
        MemoryError,
        r"a network of sizes \[1000000, 1000000, 1\] needs .* GiB",
    ),
    "sizes 2**64": ({"sizes": [2**64, 1]}, MemoryError, r"sizes \[18446744073709551616, 1\]"),
    "sizes float32 10**5 x 10**5": (
        {"sizes": [10**5, 10**5, 1], "dtype": "float32"},
        MemoryError,
        r"sizes \[100000, 100000, 1\]",
    ),
    "sizes negative": ({"sizes": [3, -1]}, ValueError, r"sizes\[1\] must be an integer >= 1"),
    "sizes None element": ({"sizes": [None, 1]}, TypeError, r"sizes\[0\] must be an integer"),
    "sizes nested": ({"sizes": [[3], 1]}, TypeError, r"sizes\[0\] must be an integer"),
    "sizes int": ({"sizes": 3}, TypeError, "sizes must be a sequence"),
    "sizes bool element": ({"sizes": [3, True]}, TypeError, r"sizes\[1\] must be an integer"),
    "seed negative": ({"sizes": [3, 1], "seed": -1}, ValueError, "seed must be an integer >= 0"),
    "seed 2**32": ({"sizes": [3, 1], "seed": 2**32}, ValueError, "seed must be .* 2\\*\\*32 - 1"),
    "seed str": ({"sizes": [3, 1], "seed": "1"}, TypeError, "seed must be an integer"),
    "seed float": ({"sizes": [3, 1], "seed": 1.5}, TypeError, "seed must be an integer"),
    "activation None": ({"sizes": [3, 1], "activation": None}, TypeError, "activation must be"),
    "activation RELU": ({"sizes": [3, 1], "activation": "RELU"}, ValueError, "activation must"),
    "dtype int": ({"sizes": [3, 1], "dtype": int}, ValueError, "dtype must be 'float64' or"),
    "dtype complex128": ({"sizes": [3, 1], "dtype": "complex128"}, ValueError, "dtype must be"),
    "weights ragged": ({"weights": [[[1, 2], [3]]]}, ValueError, r"weights\[0\] must be a 2-D"),
    "weights 3-D array": ({"weights": np.ones((2, 3, 3))}, TypeError, "weights must be a list"),
    "weights generator": (
        {"weights": (w for w in [np.ones((3, 1))])},
        TypeError,
        "weights must be a list",
    ),
    "weights -inf": (
        {"weights": [np.ones((3, 2)), np.full((2, 1), -np.inf)]},
        ValueError,
        r"weights\[1\] must be finite",
    ),
    "weights bool": ({"weights": [np.ones((3, 1), bool)]}, TypeError, r"weights\[0\] must hold"),
    "weights str": ({"weights": [[["a"], ["b"]]]}, TypeError, r"weights\[0\] must hold real"),
    "weights complex": ({"weights": [np.ones((3, 1)) * 1j]}, TypeError, r"weights\[0\] must"),
    "weights float32 overflow": (
        {"weights": [np.full((3, 1), 1e39)], "dtype": "float32"},
        ValueError,
        r"weights\[0\] must be finite .* as float32",
    ),
    "weights empty matrix": (
        {"weights": [np.ones((3, 0)), np.ones((0, 1))]},
        ValueError,
        r"weights\[0\] must not be empty",
    ),
    "weights masked": (
        {"weights": [np.ma.array(np.ones((3, 1)), mask=True)]},
        TypeError,
        r"weights\[0\] must not be a masked array",
    ),
}


@pytest.mark.parametrize("case", CONSTRUCTION.values(), ids=list(CONSTRUCTION))
def test_network_construction_rejects_bad_input(
    case: tuple[dict[str, Any], type[BaseException], str],
) -> None:
    kwargs, error, match = case
    with pytest.raises(error, match=match):
        gp.Network(**kwargs)


# --------------------------------------------------------------------------- verify

VERIFY: dict[str, tuple[Callable[[gp.Network], object], type[BaseException], str]] = {
    "net is not a Network": (
        lambda net: gp.verify("net", X, Y, alpha=0.1, epochs=1),  # type: ignore[arg-type]
        TypeError,
        "net must be a grokprop.Network, got str",
    ),
    "backends is a str": (
        lambda net: gp.verify(net, X, Y, alpha=0.1, epochs=1, backends="cpp"),
        TypeError,
        "backends must be a list of backend names",
    ),
    "backends empty": (
        lambda net: gp.verify(net, X, Y, alpha=0.1, epochs=1, backends=[]),
        ValueError,
        "backends must name at least one",
    ),
    "backends unknown": (
        lambda net: gp.verify(net, X, Y, alpha=0.1, epochs=1, backends=["cpp", "gpu"]),
        ValueError,
        "unknown backend 'gpu'",
    ),
    "X columns": (
        lambda net: gp.verify(net, X[:, :1], Y, alpha=0.1, epochs=1),
        ValueError,
        "X must have 3 columns",
    ),
    "alpha negative": (
        lambda net: gp.verify(net, X, Y, alpha=-0.1, epochs=1),
        ValueError,
        "alpha must be a finite number > 0",
    ),
    "batch_size 0": (
        lambda net: gp.verify(net, X, Y, alpha=0.1, epochs=1, batch_size=0),
        ValueError,
        "batch_size must be an integer >= 1",
    ),
    "net weights[0] NaN": (
        lambda net: (_poke(0, math.nan)(net), gp.verify(net, X, Y, alpha=0.1, epochs=1)),
        ValueError,
        r"weights\[0\] must be finite",
    ),
}


@pytest.mark.parametrize("case", VERIFY.values(), ids=list(VERIFY))
def test_verify_rejects_bad_input(
    case: tuple[Callable[[gp.Network], object], type[BaseException], str],
) -> None:
    call, error, match = case
    net = gp.Network([3, 4, 1], seed=1)
    with pytest.raises(error, match=match):
        call(net)


def test_reading_a_network_with_read_only_weights_is_fine() -> None:
    # predict, copy and verify only read the network (verify trains copies)
    net = gp.Network([3, 4, 1], seed=1)
    net.weights[0].flags.writeable = False
    before = _bits(net)
    assert gp.verify(net, X, Y, alpha=0.1, epochs=2).ok
    assert net.predict(X).shape == (4, 1)
    assert net.copy().fit(X, Y, alpha=0.1, epochs=1).errors.shape == (1,)
    assert _bits(net) == before


# --------------------------------------------------------------------------- backend selection

SELECTION: dict[str, tuple[Callable[[], object], type[BaseException], str]] = {
    "set_backend ''": (lambda: gp.set_backend(""), ValueError, "unknown backend ''"),
    "set_backend list": (
        lambda: gp.set_backend(["cpp"]),  # type: ignore[arg-type]
        TypeError,
        r"backend must be a backend name \(str\)",
    ),
    "set_backend bytes": (
        lambda: gp.set_backend(b"cpp"),  # type: ignore[arg-type]
        TypeError,
        "backend must be a backend name",
    ),
    "use_backend 3": (
        lambda: gp.use_backend(3).__enter__(),  # type: ignore[arg-type]
        TypeError,
        "backend must be a backend name",
    ),
    "use_backend None": (
        lambda: gp.use_backend(None).__enter__(),  # type: ignore[arg-type]
        TypeError,
        "backend must be a backend name",
    ),
    "use_backend ' cpp'": (lambda: gp.use_backend(" cpp").__enter__(), ValueError, "unknown"),
}


@pytest.mark.parametrize("case", SELECTION.values(), ids=list(SELECTION))
def test_backend_selection_rejects_bad_names_and_keeps_the_choice(
    case: tuple[Callable[[], object], type[BaseException], str],
) -> None:
    gp.set_backend("numpy")  # not the default, and always available
    call, error, match = case
    with pytest.raises(error, match=match):
        call()
    assert gp.get_backend() == "numpy"


def test_env_var_with_blanks_is_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROKPROP_BACKEND", "numba ")
    with pytest.raises(ValueError, match="GROKPROP_BACKEND environment variable value 'numba '"):
        gp.Network([3, 1], seed=0).predict(X)


# --------------------------------------------------------------------------- the CLI

CLI: dict[str, tuple[list[str], int, str]] = {
    "sizes not integers": (["verify", "--sizes", "3,x,1"], 2, "--sizes"),
    "sizes one layer": (["verify", "--sizes", "3"], 2, "--sizes"),
    "sizes zero": (["verify", "--sizes", "0,1"], 2, "--sizes"),
    "sizes huge": (["verify", "--sizes", "1000000,1000000,1"], 1, "sizes"),
    "alpha nan": (["verify", "--alpha", "nan"], 1, "alpha must be a finite number"),
    "alpha negative": (["verify", "--alpha", "-1"], 1, "alpha must be a finite number"),
    "alpha word": (["verify", "--alpha", "fast"], 2, "--alpha"),
    "epochs negative": (["verify", "--epochs", "-1"], 1, "epochs must be an integer >= 0"),
    "epochs fraction": (["verify", "--epochs", "1.5"], 2, "--epochs"),
    "epochs 10**30": (["verify", "--epochs", "1" + "0" * 30], 1, "epochs="),
    "batch-size 0": (["verify", "--batch-size", "0"], 1, "batch_size must be an integer >= 1"),
    "batch-size > rows": (["verify", "--batch-size", "99"], 1, "batch_size must be between"),
    "batch-size word": (["verify", "--batch-size", "half"], 2, "--batch-size"),
    "rows 0": (["verify", "--data", "random", "--rows", "0"], 2, "--rows"),
    "dtype float16": (["verify", "--dtype", "float16"], 2, "--dtype"),
    "activation softmax": (["verify", "--activation", "softmax"], 2, "--activation"),
    "backend gpu": (["verify", "--backend", "gpu"], 2, "--backend"),
    "seed negative": (["verify", "--seed", "-1"], 1, "seed must be an integer >= 0"),
    "chapter6 backend gpu": (["chapter6", "--backend", "gpu"], 2, "--backend"),
    "no such command": (["train"], 2, "No such command"),
}


@pytest.mark.parametrize("case", CLI.values(), ids=list(CLI))
def test_cli_rejects_bad_input_with_a_message_not_a_traceback(
    case: tuple[list[str], int, str],
) -> None:
    args, exit_code, named = case
    result = CliRunner().invoke(main, args)
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, not a crash
    assert "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error:") and named in last, result.output


# --------------------------------------------------------------------------- accepted and converted


def _converted_fit(X_in: Any, y_in: Any, backend: str, dtype: str = "float64") -> tuple:
    net = gp.Network([3, 4, 1], seed=1, dtype=dtype)
    errors = net.fit(X_in, y_in, alpha=0.1, epochs=3, batch_size=2, backend=backend).errors
    return errors.tobytes(), [w.tobytes() for w in net.weights], net.predict(X_in).tobytes()


def _read_only_copy(array: np.ndarray) -> np.ndarray:
    out = array.copy()
    out.flags.writeable = False
    return out


LAYOUTS: dict[str, Callable[[np.ndarray], Any]] = {
    "int64": lambda a: a.astype(np.int64),
    "uint8": lambda a: a.astype(np.uint8),
    "float16": lambda a: a.astype(np.float16),
    "float32": lambda a: a.astype(np.float32),
    "long double": lambda a: a.astype(np.longdouble),
    "big-endian": lambda a: a.astype(">f8"),
    "Fortran order": np.asfortranarray,
    "strided view": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    "negative strides": lambda a: a[::-1, ::-1].copy()[::-1, ::-1],
    "read-only": _read_only_copy,
    "nested lists": lambda a: a.tolist(),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_public_api_converts_any_real_array_like_once(
    layout: Callable[[np.ndarray], Any], backend: str
) -> None:
    data = _converted_fit(XF, Y.astype(np.float64), backend)
    assert _converted_fit(layout(X), layout(Y), backend) == data


def test_float64_data_is_rounded_once_into_a_float32_network(backend: str) -> None:
    rng = np.random.RandomState(5)
    X64, y64 = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (4, 1))
    rounded = _converted_fit(X64.astype(np.float32), y64.astype(np.float32), backend, "float32")
    assert _converted_fit(X64, y64, backend, "float32") == rounded
    # and the float64 values would have given other bits: the rounding really happened
    assert not np.array_equal(X64.astype(np.float32).astype(np.float64), X64)


def test_float32_data_is_widened_exactly_into_a_float64_network(backend: str) -> None:
    X32 = np.random.RandomState(6).uniform(-1, 1, (4, 3)).astype(np.float32)
    y = Y.astype(np.float64)
    assert _converted_fit(X32, y, backend) == _converted_fit(X32.astype(np.float64), y, backend)


def test_data_that_is_a_view_of_the_weights_is_read_as_it_was(backend: str) -> None:
    # fit(net.weights[0], ...) trains on memory it updates: the data are copied first, so
    # every backend sees the values of the call (_core alone would refuse the overlap)
    net = gp.Network([4, 4, 4], seed=3)
    data = net.weights[0]
    expected_net = net.copy()
    expected = expected_net.fit(data.copy(), data.copy(), alpha=0.05, epochs=2, backend="numpy")
    history = net.fit(data, data, alpha=0.05, epochs=2, backend=backend)
    assert history.errors.tobytes() == expected.errors.tobytes()
    assert _bits(net) == _bits(expected_net)
    trace = net.step(net.weights[1][:1], net.weights[1][:1], alpha=0.05, backend=backend)
    assert not np.shares_memory(trace.layers[0], net.weights[1])
