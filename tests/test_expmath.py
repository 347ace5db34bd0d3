"""grokprop's exp, sigmoid and tanh: the constants, the accuracy bound, the edge values, and
the same bits on every backend and instruction-set copy (docs/design.md, "exp, sigmoid,
tanh"). The full measurement (10^6 inputs per function and dtype) is
``scripts/exp_accuracy.py``; here a smaller sample checks the bounds it established."""

from __future__ import annotations

import math
from collections.abc import Iterator

import mpmath
import numpy as np
import pytest

from grokprop import _core, _exp_accuracy
from grokprop.backends import _expmath, resolve
from grokprop.backends.cpp import CppBackend
from grokprop.backends.reference import ReferenceBackend
from grokprop.specs import Activation, TrainSpec

DTYPES = ["float64", "float32"]
# The max ULP errors measured by scripts/exp_accuracy.py (README.md), rounded up.
ULP_BOUNDS = {"exp": 1.2, "sigmoid": 2.5, "tanh": 2.75}
# The relative error of exp's polynomial q after rounding its coefficients
# (scripts/exp_minimax.py: float64 2**-55.38, float32 2**-25.39), rounded up.
Q_ERROR_BOUNDS = {"float64": 2.0**-55.3, "float32": 2.0**-25.3}


def _q(coefficients: tuple[np.floating, ...], r: mpmath.mpf) -> mpmath.mpf:
    """``c[1] + c[2] r + ... + c[n] r**(n-1)``, exactly (``c[0] = 1`` is exp's constant)."""
    total = mpmath.mpf(0)
    for coefficient in reversed(coefficients[1:]):
        total = mpmath.mpf(float(coefficient)) + r * total
    return total


@pytest.fixture(autouse=True)
def _restore_simd() -> Iterator[None]:
    yield
    _core.set_simd("auto")


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_constants_are_what_the_design_says(dtype: str) -> None:
    c = _expmath.CONSTANTS[np.dtype(dtype)]
    f = np.dtype(dtype).type
    assert c.exp_poly[0] == 1 and all(coefficient.dtype == f for coefficient in c.exp_poly)
    with mpmath.workprec(200):
        # q, the polynomial of exp(r) = 1 + r * q(r), with the coefficients as rounded: its
        # relative error against (exp(r) - 1) / r on |r| <= ln2/2 is scripts/exp_minimax.py's
        half_width = mpmath.log(2) / 2
        worst = max(
            abs(_q(c.exp_poly, r) / (mpmath.expm1(r) / r) - 1)
            for r in mpmath.linspace(-half_width, half_width, 2001)
            if r != 0
        )
        assert worst < Q_ERROR_BOUNDS[dtype]
        # tanh clamps -2|x| at tanh_lo: tanh(-tanh_lo / 2) already rounds to 1
        assert f(float(mpmath.tanh(-float(c.tanh_lo) / 2))) == 1
        # ln2_hi + ln2_lo is ln 2 to ln2_lo's precision, and k * ln2_hi is exact for every k
        split_error = mpmath.mpf(float(c.ln2_hi)) + float(c.ln2_lo) - mpmath.log(2)
        assert abs(split_error) <= float(np.spacing(c.ln2_lo)) / 2
    k_max = int(max(-c.lo, c.hi) / math.log(2)) + 1
    assert int(c.ln2_hi.view(c.int_type)) % 2 ** (k_max.bit_length()) == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_exp_accuracy.FUNCTIONS))
def test_the_error_is_within_the_measured_bound(name: str, dtype: str) -> None:
    x = _exp_accuracy.sample_inputs(name, dtype, 15_000, seed=12)
    errors = _exp_accuracy.ulp_errors(name, x)
    assert errors.max() <= ULP_BOUNDS[name], x[np.argmax(errors)]


def _edges(dtype: str) -> np.ndarray:
    info = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, float(info.max), float(info.smallest_subnormal)]
    values += [float(info.tiny), 1e-8, 0.35, 0.3499999, 0.3500001, 20.0, 40.0]
    values += [709.78, 709.79, 710.0, 745.0, 745.2, 746.0, 88.72, 88.73, 103.9, 104.0, 105.0]
    x = np.array(values, dtype=dtype)
    # either side of tanh's clamp (-2|x| at -40; C++ clamps -|x| at -20) and of exp's
    bounds = np.array([20.0, 746.0, 710.0, 105.0, 89.0], dtype=dtype)
    x = np.concatenate([x, np.nextafter(bounds, 0), np.nextafter(bounds, np.inf)])
    return np.concatenate([x, -x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_exp_accuracy.FUNCTIONS))
def test_edge_values_are_within_the_bound_overflow_and_underflow_included(
    name: str, dtype: str
) -> None:
    # inf and 0 results count only if the exact value rounds to them (_exp_accuracy)
    errors = _exp_accuracy.ulp_errors(name, _edges(dtype))
    assert errors.max() <= ULP_BOUNDS[name]


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(dtype: str) -> None:
    t = np.dtype(dtype).type
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=dtype)
    exp, sigmoid, tanh = _expmath.exp(x), _expmath.sigmoid(x), _expmath.tanh(x)
    assert exp.tolist()[:4] == [1.0, 1.0, np.inf, 0.0] and np.isnan(exp[4])
    assert sigmoid.tolist()[:4] == [0.5, 0.5, 1.0, 0.0] and np.isnan(sigmoid[4])
    assert tanh.tolist()[:4] == [0.0, 0.0, 1.0, -1.0] and np.isnan(tanh[4])
    # -0.0: exp 1, sigmoid 0.5 and tanh +0.0 (a + a * (a² * Q) with Q < 0), on every backend
    assert not np.signbit(tanh[0]) and not np.signbit(tanh[1])
    assert all(r.dtype == np.dtype(dtype) for r in (exp, sigmoid, tanh))
    tiny = np.array([np.finfo(dtype).smallest_subnormal], dtype=dtype)
    assert _expmath.tanh(tiny)[0] == tiny[0] and _expmath.sigmoid(tiny)[0] == t(0.5)


def _inputs(dtype: str) -> np.ndarray:
    rng = np.random.default_rng(5)
    parts = [
        rng.uniform(-30, 30, 20_000),
        rng.uniform(-0.5, 0.5, 5_000),
        rng.uniform(-800, 800, 5_000),
        _exp_accuracy.sample_inputs("exp", dtype, 10_000, seed=3).astype(np.float64),
    ]
    x = np.concatenate(parts).astype(dtype)
    x = np.concatenate([x, _edges(dtype), np.array([np.nan], dtype)])
    x = np.concatenate([x, np.zeros(-x.size % 7, dtype)])
    return x.reshape(-1, 7)  # odd row length: vector and scalar tails


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [Activation.SIGMOID, Activation.TANH], ids=str)
def test_cpp_gives_the_reference_bits(activation: Activation, dtype: str) -> None:
    # _core.activate is the baseline copy (the instruction-set copies are the training
    # loops': the last test), looped over the levels anyway in case that changes
    x = _inputs(dtype)
    want = ReferenceBackend().activate(x, activation)
    want_deriv = ReferenceBackend().activate_deriv(want, activation)
    for level in _core.simd_levels():
        _core.set_simd(level)
        cpp = CppBackend()
        assert np.array_equal(cpp.activate(x, activation), want, equal_nan=True), level
        got_deriv = cpp.activate_deriv(want, activation)
        assert np.array_equal(got_deriv, want_deriv, equal_nan=True), level


@pytest.mark.backends("numba")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [Activation.SIGMOID, Activation.TANH], ids=str)
def test_numba_gives_the_reference_bits(activation: Activation, dtype: str) -> None:
    x = _inputs(dtype)
    want = ReferenceBackend().activate(x, activation)
    want_deriv = ReferenceBackend().activate_deriv(want, activation)
    numba = resolve("numba")
    assert np.array_equal(numba.activate(x, activation), want, equal_nan=True)
    assert np.array_equal(numba.activate_deriv(want, activation), want_deriv, equal_nan=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", [Activation.SIGMOID, Activation.TANH], ids=str)
@pytest.mark.parametrize("width", [7, 15])  # the small-network loop; vector blocks and tails
def test_every_instruction_set_trains_through_the_edges_like_the_reference(
    width: int, activation: Activation, dtype: str
) -> None:
    # [w, w, w] with identity weights and one row per training: the hidden pre-activations
    # are the row itself, the output is act(row), and one full-batch step writes act(row)
    # and act'(act(row)) into the weights, which are compared bit for bit
    finite = _inputs(dtype).ravel()
    finite = finite[np.isfinite(finite)]
    finite = finite[np.random.default_rng(0).permutation(finite.size)[: 40 * width]]
    finite = np.concatenate([_edges(dtype)[np.isfinite(_edges(dtype))], finite])
    rows = finite[: finite.size // width * width].reshape(-1, width)
    identity = np.eye(width, dtype=dtype)
    spec = TrainSpec(1.0, 1, 1, activation, np.dtype(dtype))
    Y = np.zeros((1, width), dtype)
    with np.errstate(all="ignore"):
        expected = []
        for row in rows:
            weights = [identity.copy(), identity.copy()]
            errors = ReferenceBackend().train(weights, row[None, :], Y, spec)
            expected.append((errors, weights))
    for level in _core.simd_levels():
        _core.set_simd(level)
        for row, (errors, weights) in zip(rows, expected):
            got = [identity.copy(), identity.copy()]
            got_errors = _core.train(got, row[None, :], Y, spec)
            assert np.array_equal(got_errors, errors, equal_nan=True), (level, row)
            for w, ref in zip(got, weights):
                assert np.array_equal(w, ref, equal_nan=True), (level, row)
