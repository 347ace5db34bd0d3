"""What is specific to the Numba backend: its cache switch, float32 typing, and bitwise
equality of every primitive and of the fused loop with the NumPy reference.

numba is a test dependency: it is imported normally, so a missing numba fails here
instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import grokprop.backends.numba_backend as nbmod
from grokprop.backends.numba_backend import NumbaBackend, cache_enabled
from grokprop.backends.reference import ReferenceBackend

NB = NumbaBackend()
REF = ReferenceBackend()
DTYPES = [np.float32, np.float64]
# (layer sizes, rows): one matrix, one to three hidden layers, widths 1..64
SHAPES = [
    ([3, 1], 4),
    ([1, 1, 1], 1),
    ([3, 4, 1], 4),
    ([5, 17, 3], 7),
    ([12, 64, 2], 20),
    ([7, 9, 13, 4], 11),
    ([2, 33, 1, 8, 5], 6),
]


def _problem(sizes: list[int], rows: int, dtype: type, seed: int = 0) -> tuple:
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, (rows, sizes[0])).astype(dtype)
    Y = rng.uniform(-1, 1, (rows, sizes[-1])).astype(dtype)
    # scaled by 1/sqrt(fan-in) so that a few epochs at a small alpha stay finite
    W = [
        ((2 * rng.random_sample((a, b)) - 1) / np.sqrt(a)).astype(dtype)
        for a, b in itertools.pairwise(sizes)
    ]
    return W, X, Y


def _assert_same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True)


def _assert_all_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _assert_same(g, w)


# --------------------------------------------------------------------------- cache switch


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("", True),
        ("1", True),
        ("true", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        (" Off ", False),
        ("off", False),
    ],
)
def test_cache_env_value_parsing(value: str | None, expected: bool) -> None:
    assert cache_enabled(value) is expected


def test_cache_flag_matches_environment_at_import() -> None:
    assert cache_enabled(os.environ.get(nbmod.CACHE_ENV_VAR)) is nbmod.CACHE


_CACHE_PROBE = """
import numpy as np
from grokprop.backends import numba_backend as m
W = [np.full((2, 3), 0.5), np.full((3, 1), -0.25)]
m.NumbaBackend().train(W, np.ones((2, 2)), np.zeros((2, 1)), 0.1, 2, 1, True)
print(m.CACHE)
"""


@pytest.mark.parametrize(("value", "cached"), [("0", False), ("off", False), ("1", True)])
def test_cache_switch_controls_files_on_disk(tmp_path: Path, value: str, cached: bool) -> None:
    """``GROKPROP_NUMBA_CACHE=0`` writes no cache file; on, the same run writes some."""
    cache_dir = tmp_path / "numba-cache"
    package_root = Path(nbmod.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "GROKPROP_NUMBA_CACHE": value,
        "NUMBA_CACHE_DIR": str(cache_dir),
        "PYTHONPATH": os.pathsep.join([str(package_root), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", _CACHE_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(cached)]
    files = [p for p in cache_dir.rglob("*") if p.is_file()] if cache_dir.exists() else []
    assert bool(files) is cached, files


def test_import_grokprop_does_not_import_numba() -> None:
    package_root = Path(nbmod.__file__).resolve().parents[2]
    code = "import sys, grokprop; assert 'numba' not in sys.modules, 'numba imported'"
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------- float32 typing

_F64_ARITH = re.compile(r"= (?:fadd|fsub|fmul|fdiv|frem|fneg)\b[^\n]*\bdouble\b|\bfpext\b")
_FAST_FLAGS = re.compile(
    r"= (?:fadd|fsub|fmul|fdiv|fneg)(?: (?:fast|contract|reassoc|nnan|ninf|nsz|arcp|afn))+\b"
)


def _fresh_compile(kernel, *args):  # type: ignore[no-untyped-def]
    """Compile ``kernel`` anew, without the on-disk cache (cached code cannot be inspected)."""
    fresh = numba.njit(nogil=True)(kernel.py_func)
    fresh(*args)
    sig = fresh.signatures[-1]
    return fresh.overloads[sig].fndesc.typemap, fresh.inspect_llvm(sig)


def _kernel_calls(dtype: type) -> list[tuple]:
    dt = np.dtype(dtype).type
    W, X, Y = _problem([3, 4, 2], 5, dtype)
    layers = REF.forward(W, X, True)
    deltas = REF.deltas(W, layers, Y, True)
    zero, one = dt(0), dt(1)
    return [
        (nbmod._train_kernel, tuple(W), X, Y, dt(0.2), 2, 2, True, zero, one, np.zeros(2, dtype)),
        (nbmod._forward_layer, X, W[0], True, zero),
        (nbmod._relu_flat, X.ravel(), zero),
        (nbmod._relu_deriv_flat, X.ravel(), zero, one),
        (nbmod._errors_and_delta, layers[-1], Y, zero),
        (nbmod._backprop_layer, deltas[1], W[1], layers[1], True, zero, one),
        (nbmod._weight_delta, layers[0], deltas[0], zero),
        (nbmod._update_layer, W[0].copy(), W[0], dt(0.2)),
    ]


@pytest.mark.parametrize("index", range(8))
def test_float32_kernels_do_no_float64_arithmetic(index: int) -> None:
    kernel, *args = _kernel_calls(np.float32)[index]
    typemap, llvm_ir = _fresh_compile(kernel, *args)
    wide = {name: str(t) for name, t in typemap.items() if "float64" in str(t)}
    assert not wide, f"{kernel.__name__}: float64 values {wide}"
    assert not _F64_ARITH.findall(llvm_ir), f"{kernel.__name__} computes in double"


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_loop_has_no_fma_or_fast_math(dtype: type) -> None:
    kernel, *args = _kernel_calls(dtype)[0]
    _, llvm_ir = _fresh_compile(kernel, *args)
    assert re.search(r"= fmul (?:<\d+ x )?(?:float|double)", llvm_ir)  # the IR is the kernel's
    assert not _FAST_FLAGS.findall(llvm_ir)
    assert "llvm.fma" not in llvm_ir
    assert "llvm.fmuladd" not in llvm_ir


def test_float32_results_stay_float32_and_match_where_float64_would_differ() -> None:
    W, X, Y = _problem([16, 32, 8], 12, np.float32, seed=7)
    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    got = NB.train(got_w, X, Y, 0.01, 5, 3, True)
    want = REF.train(ref_w, X, Y, 0.01, 5, 3, True)
    assert got.dtype == np.float32
    assert all(w.dtype == np.float32 for w in got_w)
    _assert_same(got, want)
    _assert_all_same(got_w, ref_w)
    # the same run with float64 arithmetic rounded to float32 at the end is different,
    # so the equality above could not hold with a float64 accumulator anywhere
    wide_w = [w.astype(np.float64) for w in W]
    wide = REF.train(wide_w, X.astype(np.float64), Y.astype(np.float64), 0.01, 5, 3, True)
    assert not np.array_equal(wide.astype(np.float32), got)
    assert not all(np.array_equal(w.astype(np.float32), g) for w, g in zip(wide_w, got_w))
    # and per primitive: the float32 forward pass differs from a float64 one rounded down
    layers = NB.forward(W, X, True)
    _assert_all_same(layers, REF.forward(W, X, True))
    wide_out = REF.forward([w.astype(np.float64) for w in W], X.astype(np.float64), True)[-1]
    assert not np.array_equal(wide_out.astype(np.float32), layers[-1])


# --------------------------------------------------------------------------- primitives


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_primitives_equal_reference(sizes: list[int], rows: int, relu: bool, dtype: type) -> None:
    W, X, Y = _problem(sizes, rows, dtype, seed=len(sizes) * 100 + rows)
    layers = NB.forward(W, X, relu)
    want_layers = REF.forward(W, X, relu)
    _assert_all_same(layers, want_layers)
    assert layers[0] is X

    _assert_same(NB.example_errors(layers[-1], Y), REF.example_errors(layers[-1], Y))

    deltas = NB.deltas(W, layers, Y, relu)
    _assert_all_same(deltas, REF.deltas(W, layers, Y, relu))

    grads = NB.weight_deltas(layers, deltas)
    _assert_all_same(grads, REF.weight_deltas(layers, deltas))

    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    ids = [id(w) for w in got_w]
    NB.update(got_w, grads, 0.2)
    REF.update(ref_w, grads, 0.2)
    _assert_all_same(got_w, ref_w)
    assert [id(w) for w in got_w] == ids


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), ()])
def test_relu_and_relu_deriv_equal_reference(shape: tuple[int, ...], dtype: type) -> None:
    z = np.random.RandomState(3).standard_normal(shape).astype(dtype)
    if z.size:
        z.flat[0] = -0.0
    for got, want in [(NB.relu(z), REF.relu(z)), (NB.relu_deriv(z), REF.relu_deriv(z))]:
        _assert_same(got, want)
        assert not np.signbit(got).any()  # relu(-0.0) is +0, like np.where
    special = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1e-30], dtype)
    _assert_same(NB.relu(special), REF.relu(special))
    _assert_same(NB.relu_deriv(special), REF.relu_deriv(special))


# --------------------------------------------------------------------------- fused loop


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_train_equals_reference(sizes: list[int], rows: int, relu: bool, dtype: type) -> None:
    W, X, Y = _problem(sizes, rows, dtype, seed=rows * 10 + len(sizes))
    for batch_size in sorted({1, 3, rows, rows + 2}):
        got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
        ids = [id(w) for w in got_w]
        got = NB.train(got_w, X, Y, 0.05, 4, batch_size, relu)
        want = REF.train(ref_w, X, Y, 0.05, 4, batch_size, relu)
        assert np.isfinite(got).all()
        _assert_same(got, want)
        _assert_all_same(got_w, ref_w)
        assert [id(w) for w in got_w] == ids  # updated in place, not replaced


def test_book_numbers(program5_errors: list[str]) -> None:
    X = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
    Y = np.array([[1], [1], [0], [0]], dtype=np.float64)
    rng = np.random.RandomState(1)
    W = [2 * rng.random_sample((3, 4)) - 1, 2 * rng.random_sample((4, 1)) - 1]
    errors = NB.train(W, X, Y, 0.2, 60, 1, True)
    assert [f"{e:.12g}" for e in errors[9::10]] == program5_errors


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_divergence_stops_after_first_non_finite_epoch(dtype: type, batch_size: int) -> None:
    W, X, Y = _problem([3, 4, 1], 4, dtype, seed=1)
    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    got = NB.train(got_w, X, Y, 10.0, 500, batch_size, False)
    with np.errstate(all="ignore"):
        want = REF.train(ref_w, X, Y, 10.0, 500, batch_size, False)
    assert 0 < len(got) < 500
    assert not np.isfinite(got[-1])
    assert np.isfinite(got[:-1]).all()
    _assert_same(got, want)
    _assert_all_same(got_w, ref_w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_epochs_returns_empty_errors_and_keeps_weights(dtype: type) -> None:
    W, X, Y = _problem([3, 4, 1], 4, dtype)
    got_w = [w.copy() for w in W]
    errors = NB.train(got_w, X, Y, 0.2, 0, 1, True)
    assert errors.shape == (0,)
    assert errors.dtype == dtype
    _assert_all_same(got_w, W)


# --------------------------------------------------------------------------- bad input


def test_compiled_code_rejects_shapes_that_do_not_chain() -> None:
    W, X, Y = _problem([3, 4, 1], 4, np.float64)
    bad = [W[0], np.zeros((5, 1))]
    before = [w.copy() for w in bad]
    with pytest.raises(ValueError, match="weights"):
        NB.train(bad, X, Y, 0.2, 3, 1, True)
    _assert_all_same(bad, before)
    with pytest.raises(ValueError, match="X"):
        NB.train(W, X[:, :2].copy(), Y, 0.2, 3, 1, True)
    with pytest.raises(ValueError, match="rows"):
        NB.train(W, X, Y[:3].copy(), 0.2, 3, 1, True)
    with pytest.raises(ValueError, match="Y"):
        NB.train(W, X, np.zeros((4, 2)), 0.2, 3, 1, True)
    with pytest.raises(ValueError, match="batch_size"):
        NB.train(W, X, Y, 0.2, 3, 0, True)
    with pytest.raises(ValueError, match="width"):
        NB.forward(bad, X, True)
    with pytest.raises(ValueError, match="shapes"):
        NB.update(W, [W[1], W[0]], 0.1)


def test_mixed_dtypes_are_rejected() -> None:
    W, X, Y = _problem([3, 4, 1], 4, np.float64)
    with pytest.raises(TypeError, match="one dtype"):
        NB.train(W, X.astype(np.float32), Y, 0.2, 3, 1, True)
    with pytest.raises(TypeError, match="float32 or float64"):
        NB.relu(np.arange(3))
    with pytest.raises(ValueError, match="at least one"):
        NB.train([], X, Y, 0.2, 3, 1, True)
