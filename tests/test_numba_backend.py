"""What is specific to the Numba backend: its cache switch and cache fallback, float32
typing, the shape checks its compiled code keeps, and bitwise equality of every kernel,
step, training loop and sweep with the NumPy reference.

numba is a test dependency: it is imported normally, so a missing numba fails here
instead of skipping.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import grokprop
import grokprop.backends._numba_jit as jitmod
import grokprop.backends.numba_backend as nbmod
import grokprop.backends.numba_sweep as sweepmod
from grokprop.backends._numba_jit import cache_enabled
from grokprop.backends.numba_backend import NumbaBackend
from grokprop.backends.reference import ReferenceBackend
from grokprop.specs import Activation, SweepSpec, TrainSpec

NB = NumbaBackend()
REF = ReferenceBackend()
DTYPES = [np.float32, np.float64]
ACTIVATIONS = list(Activation)
RELU, LINEAR = Activation.RELU, Activation.LINEAR
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
PACKAGE_ROOT = Path(grokprop.__file__).resolve().parents[1]


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


def _spec(
    alpha: float, epochs: int, batch_size: int, activation: Activation, dtype: type
) -> TrainSpec:
    return TrainSpec(alpha, epochs, batch_size, activation, np.dtype(dtype))


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
    assert cache_enabled(os.environ.get(jitmod.CACHE_ENV_VAR)) is jitmod.CACHE


_CACHE_PROBE = """
import numpy as np
from grokprop.backends import _numba_jit, numba_backend as m
from grokprop.specs import TrainSpec
W = [np.full((2, 3), 0.5), np.full((3, 1), -0.25)]
m.NumbaBackend().train(W, np.ones((2, 2)), np.zeros((2, 1)), TrainSpec(0.1, 2, 1))
print(_numba_jit.CACHE)
"""


@pytest.mark.parametrize(("value", "cached"), [("0", False), ("off", False), ("1", True)])
def test_cache_switch_controls_files_on_disk(tmp_path: Path, value: str, cached: bool) -> None:
    """``GROKPROP_NUMBA_CACHE=0`` writes no cache file; on, the same run writes some."""
    cache_dir = tmp_path / "numba-cache"
    env = {
        **os.environ,
        "GROKPROP_NUMBA_CACHE": value,
        "NUMBA_CACHE_DIR": str(cache_dir),
        "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]),
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


# Runs grokprop from the copy given as argv[1] (not from an editable install's finder),
# recording every warning, and reports what worked.
_UNCACHED_PROBE = """
import json, sys, warnings
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import numpy as np
    import grokprop as gp
    status = gp.backend_status()["numba"]
    from grokprop.backends.numba_backend import NumbaBackend
    from grokprop.specs import SweepSpec, TrainSpec
    X, y = gp.datasets.streetlights("nonlinear")
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(-1, 1)
    rng = np.random.RandomState(1)
    W = [2 * rng.random_sample((3, 4)) - 1, 2 * rng.random_sample((4, 1)) - 1]
    errors = NumbaBackend().train(W, X, y, TrainSpec(0.2, 60, 1))
    swept = NumbaBackend().sweep(
        X, y, np.array([1], np.uint32), np.array([0.2]), SweepSpec((3, 4, 1), 60, 1), 1
    )
print(json.dumps({
    "file": gp.__file__,
    "status": status,
    "errors": errors[9::10].tolist(),
    "swept": swept.final_errors.tolist(),
    "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
}))
"""


def test_no_writable_cache_directory_compiles_without_the_cache(
    tmp_path: Path, program5_errors: list[str]
) -> None:
    """numba installed read-only and no writable cache directory: the backend works,
    uncached, and says so once (numba itself refuses to decorate a cached function)."""
    site = tmp_path / "site"
    package = site / "grokprop"
    shutil.copytree(
        Path(grokprop.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    try:  # an editable install keeps the extension elsewhere
        import grokprop._core as core

        if not (package / Path(core.__file__).name).exists():
            shutil.copy2(core.__file__, package)
    except ImportError:
        pass  # the numba backend does not need it
    # Read-only for an ordinary user; and since root writes through permissions, every
    # place numba could cache in is also blocked by a file where a directory would be.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for directory in (package, package / "backends"):
        (directory / "__pycache__").write_text("")
    for path in sorted(site.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(blocker / "numba"),  # the user's choice: not writable
        "XDG_CACHE_HOME": str(blocker / "cache"),  # numba's user-wide default
        "HOME": str(blocker),
    }
    env.pop(jitmod.CACHE_ENV_VAR, None)  # the cache is asked for
    try:
        run = subprocess.run(
            [sys.executable, "-c", _UNCACHED_PROBE, str(site)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        for path in site.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert run.returncode == 0, run.stderr
    probe = json.loads(run.stdout)
    assert probe["file"].startswith(str(site))  # the read-only copy ran
    assert probe["status"] is None
    assert [f"{e:.12g}" for e in probe["errors"]] == program5_errors
    assert probe["swept"] == [probe["errors"][-1]]
    assert len(probe["warnings"]) == 1, probe["warnings"]
    assert probe["warnings"][0].startswith(
        "RuntimeWarning: grokprop's numba kernels are compiled without the on-disk cache"
    )
    assert "no locator available" in probe["warnings"][0]  # numba's reason, passed on
    assert not [p for p in site.rglob("*") if p.suffix in (".nbi", ".nbc")]


def test_numba_modules_do_not_import_each_other() -> None:
    """The kernels' module does not import the sweep's at import time, nor the reverse."""
    code = (
        "import sys; import grokprop.backends.numba_backend; "
        "assert 'grokprop.backends.numba_sweep' not in sys.modules; "
        "del sys.modules['grokprop.backends.numba_backend']; "
        "import grokprop.backends.numba_sweep; "
        "assert 'grokprop.backends.numba_backend' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
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
    layers = REF.forward(W, X, RELU)
    deltas = REF.deltas(W, layers, Y, RELU)
    zero, one, relu = dt(0), dt(1), int(RELU)
    return [
        (nbmod._train_kernel, tuple(W), X, Y, dt(0.2), 2, 2, relu, zero, one, np.zeros(2, dtype),
         np.zeros(1, np.uint8)),
        (nbmod._train_two_layer, W[0].copy(), W[1].copy(), X, Y, dt(0.2), 2, relu, zero, one,
         np.zeros(2, dtype), np.zeros(1, np.uint8)),
        (nbmod._forward_layer, X, W[0], relu, zero),
        (nbmod._activate_flat, X.ravel(), relu, zero),
        (nbmod._activate_deriv_flat, X.ravel(), relu, zero, one),
        (nbmod._example_errors, layers[-1], Y, zero),
        (nbmod._output_delta, layers[-1], Y),
        (nbmod._backprop_layer, deltas[1], W[1], layers[1], relu, zero, one),
        (nbmod._weight_delta, layers[0], deltas[0], zero),
        (nbmod._update_layer, W[0].copy(), W[0], dt(0.2)),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(10))
def test_float32_kernels_do_no_float64_arithmetic(index: int) -> None:
    kernel, *args = _kernel_calls(np.float32)[index]
    typemap, llvm_ir = _fresh_compile(kernel, *args)
    wide = {name: str(t) for name, t in typemap.items() if "float64" in str(t)}
    assert not wide, f"{kernel.__name__}: float64 values {wide}"
    assert not _F64_ARITH.findall(llvm_ir), f"{kernel.__name__} computes in double"


@pytest.mark.parametrize("index", range(2))
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_loops_have_no_fma_or_fast_math(dtype: type, index: int) -> None:
    kernel, *args = _kernel_calls(dtype)[index]
    _, llvm_ir = _fresh_compile(kernel, *args)
    assert re.search(r"= fmul (?:<\d+ x )?(?:float|double)", llvm_ir)  # the IR is the kernel's
    assert not _FAST_FLAGS.findall(llvm_ir)
    assert "llvm.fma" not in llvm_ir
    assert "llvm.fmuladd" not in llvm_ir


def test_float32_results_stay_float32_and_match_where_float64_would_differ() -> None:
    W, X, Y = _problem([16, 32, 8], 12, np.float32, seed=7)
    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    spec = _spec(0.01, 5, 3, RELU, np.float32)
    got = NB.train(got_w, X, Y, spec)
    want = REF.train(ref_w, X, Y, spec)
    assert got.dtype == np.float32
    assert all(w.dtype == np.float32 for w in got_w)
    _assert_same(got, want)
    _assert_all_same(got_w, ref_w)
    # the same run with float64 arithmetic rounded to float32 at the end is different,
    # so the equality above could not hold with a float64 accumulator anywhere
    wide_w = [w.astype(np.float64) for w in W]
    wide = REF.train(
        wide_w, X.astype(np.float64), Y.astype(np.float64), _spec(0.01, 5, 3, RELU, np.float64)
    )
    assert not np.array_equal(wide.astype(np.float32), got)
    assert not all(np.array_equal(w.astype(np.float32), g) for w, g in zip(wide_w, got_w))
    # and per kernel: the float32 forward pass differs from a float64 one rounded down
    layers = NB.forward(W, X, RELU)
    _assert_all_same(layers, REF.forward(W, X, RELU))
    wide_out = REF.forward([w.astype(np.float64) for w in W], X.astype(np.float64), RELU)[-1]
    assert not np.array_equal(wide_out.astype(np.float32), layers[-1])


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_kernels_equal_reference(
    sizes: list[int], rows: int, activation: Activation, dtype: type
) -> None:
    """Each of the eight kernels, on every layer of the network, from the same inputs."""
    W, X, Y = _problem(sizes, rows, dtype, seed=len(sizes) * 100 + rows)
    layers = REF.forward(W, X, activation)
    deltas = REF.deltas(W, layers, Y, activation)
    last = len(W) - 1
    for l, w in enumerate(W):
        act = activation if l < last else LINEAR
        _assert_same(NB.layer_forward(layers[l], w, act), REF.layer_forward(layers[l], w, act))
        _assert_same(NB.weight_delta(layers[l], deltas[l]), REF.weight_delta(layers[l], deltas[l]))
        if l > 0:
            _assert_same(
                NB.layer_delta(deltas[l], w, layers[l], activation),
                REF.layer_delta(deltas[l], w, layers[l], activation),
            )
        got_w, ref_w = w.copy(), w.copy()
        G = REF.weight_delta(layers[l], deltas[l])
        NB.update_layer(got_w, G, 0.2)
        REF.update_layer(ref_w, G, 0.2)
        _assert_same(got_w, ref_w)
    for z in layers:
        _assert_same(NB.activate(z, activation), REF.activate(z, activation))
        _assert_same(NB.activate_deriv(z, activation), REF.activate_deriv(z, activation))
    _assert_same(NB.example_errors(layers[-1], Y), REF.example_errors(layers[-1], Y))
    _assert_same(NB.output_delta(layers[-1], Y), REF.output_delta(layers[-1], Y))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_compositions_and_step_equal_reference(
    sizes: list[int], rows: int, activation: Activation, dtype: type
) -> None:
    W, X, Y = _problem(sizes, rows, dtype, seed=len(sizes) * 100 + rows)
    layers = NB.forward(W, X, activation)
    want_layers = REF.forward(W, X, activation)
    _assert_all_same(layers, want_layers)
    assert layers[0] is X

    _assert_same(NB.example_errors(layers[-1], Y), REF.example_errors(layers[-1], Y))

    deltas = NB.deltas(W, layers, Y, activation)
    _assert_all_same(deltas, REF.deltas(W, layers, Y, activation))

    grads = NB.weight_deltas(layers, deltas)
    _assert_all_same(grads, REF.weight_deltas(layers, deltas))

    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    ids = [id(w) for w in got_w]
    NB.update(got_w, grads, 0.2)
    REF.update(ref_w, grads, 0.2)
    _assert_all_same(got_w, ref_w)
    assert [id(w) for w in got_w] == ids

    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    got, want = NB.step(got_w, X, Y, 0.2, activation), REF.step(ref_w, X, Y, 0.2, activation)
    for field in got._fields:
        value = getattr(got, field)
        if isinstance(value, list):
            _assert_all_same(value, getattr(want, field))
        else:
            _assert_same(value, getattr(want, field))
    _assert_all_same(got_w, ref_w)
    # the step updated them (unless relu switched every unit off, so no weight delta is 0)
    changed = not all(np.array_equal(g, w) for g, w in zip(got_w, W))
    assert changed or not any(G.any() for G in want.weight_deltas)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), ()])
def test_activate_and_activate_deriv_equal_reference(
    shape: tuple[int, ...], activation: Activation, dtype: type
) -> None:
    z = np.random.RandomState(3).standard_normal(shape).astype(dtype)
    if z.size:
        z.flat[0] = -0.0
    pairs = [
        (NB.activate(z, activation), REF.activate(z, activation)),
        (NB.activate_deriv(z, activation), REF.activate_deriv(z, activation)),
    ]
    for got, want in pairs:
        _assert_same(got, want)
    if activation is RELU:
        for got, _ in pairs:
            assert not np.signbit(got).any()  # relu(-0.0) is +0, like np.where
    special = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1e-30], dtype)
    _assert_same(NB.activate(special, activation), REF.activate(special, activation))
    _assert_same(NB.activate_deriv(special, activation), REF.activate_deriv(special, activation))


# --------------------------------------------------------------------------- fused loops


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_train_equals_reference(
    sizes: list[int], rows: int, activation: Activation, dtype: type
) -> None:
    """Every mode: stochastic (the one-hidden-layer loop and the general one), mini-batch,
    full batch, and a batch larger than the data."""
    W, X, Y = _problem(sizes, rows, dtype, seed=rows * 10 + len(sizes))
    for batch_size in sorted({1, 3, rows, rows + 2}):
        got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
        ids = [id(w) for w in got_w]
        spec = _spec(0.05, 4, batch_size, activation, dtype)
        got = NB.train(got_w, X, Y, spec)
        want = REF.train(ref_w, X, Y, spec)
        assert np.isfinite(got).all()
        _assert_same(got, want)
        _assert_all_same(got_w, ref_w)
        assert [id(w) for w in got_w] == ids  # updated in place, not replaced


def test_book_numbers(program5_errors: list[str]) -> None:
    X = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
    Y = np.array([[1], [1], [0], [0]], dtype=np.float64)
    rng = np.random.RandomState(1)
    W = [2 * rng.random_sample((3, 4)) - 1, 2 * rng.random_sample((4, 1)) - 1]
    errors = NB.train(W, X, Y, _spec(0.2, 60, 1, RELU, np.float64))
    assert [f"{e:.12g}" for e in errors[9::10]] == program5_errors


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_divergence_stops_after_first_non_finite_epoch(dtype: type, batch_size: int) -> None:
    W, X, Y = _problem([3, 4, 1], 4, dtype, seed=1)
    got_w, ref_w = [w.copy() for w in W], [w.copy() for w in W]
    spec = _spec(10.0, 500, batch_size, LINEAR, dtype)
    got = NB.train(got_w, X, Y, spec)
    with np.errstate(all="ignore"):
        want = REF.train(ref_w, X, Y, spec)
    assert 0 < len(got) < 500
    assert not np.isfinite(got[-1])
    assert np.isfinite(got[:-1]).all()
    _assert_same(got, want)
    _assert_all_same(got_w, ref_w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_epochs_returns_empty_errors_and_keeps_weights(dtype: type) -> None:
    W, X, Y = _problem([3, 4, 1], 4, dtype)
    got_w = [w.copy() for w in W]
    errors = NB.train(got_w, X, Y, _spec(0.2, 0, 1, RELU, dtype))
    assert errors.shape == (0,)
    assert errors.dtype == dtype
    _assert_all_same(got_w, W)


# --------------------------------------------------------------------------- sweep


def _assert_sweeps_same(got: tuple, want: tuple) -> None:
    _assert_same(got.final_errors, want.final_errors)
    _assert_same(got.diverged, want.diverged)
    for name in ("curves", "weights"):
        g, w = getattr(got, name), getattr(want, name)
        assert (g is None) == (w is None)
        if isinstance(g, list):
            _assert_all_same(g, w)
        elif g is not None:
            _assert_same(g, w)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    ("sizes", "rows", "batch_size"),
    [((3, 1), 4, 1), ((3, 4, 1), 4, 1), ((3, 4, 1), 4, 3), ((2, 5, 3, 2), 5, 5)],
)
def test_sweep_equals_reference(
    sizes: tuple[int, ...], rows: int, batch_size: int, activation: Activation, dtype: type
) -> None:
    """More networks than one block of lanes; some diverge (every ninth alpha is huge: tanh
    and sigmoid bound the hidden values, so float64 needs a larger one to overflow)."""
    _, X, Y = _problem(list(sizes), rows, dtype, seed=sum(sizes))
    n = sweepmod.LANES + 3
    seeds = np.arange(1000, 1000 + n, dtype=np.uint32)
    huge = 1e30 if dtype == np.float32 else 1e150
    alphas = np.where(np.arange(n) % 9 == 4, huge, np.linspace(0.01, 0.3, n))
    spec = SweepSpec(sizes, 6, batch_size, activation, np.dtype(dtype), curves=True, weights=True)
    with np.errstate(all="ignore"):
        want = REF.sweep(X, Y, seeds, alphas, spec, 1)
    assert want.diverged.any() and not want.diverged.all()  # both kinds are compared
    for threads in (1, 2):
        _assert_sweeps_same(NB.sweep(X, Y, seeds, alphas, spec, threads), want)


@pytest.mark.parametrize(("curves", "weights"), [(False, False), (True, False), (False, True)])
def test_sweep_returns_what_was_asked(curves: bool, weights: bool) -> None:
    _, X, Y = _problem([3, 4, 1], 4, np.float64, seed=2)
    seeds = np.array([1, 2, 3], dtype=np.uint32)
    alphas = np.array([0.1, 0.2, 0.3])
    spec = SweepSpec((3, 4, 1), 5, 1, RELU, np.dtype(np.float64), curves, weights)
    got = NB.sweep(X, Y, seeds, alphas, spec, 1)
    _assert_sweeps_same(got, REF.sweep(X, Y, seeds, alphas, spec, 1))
    assert (got.curves is not None) is curves
    assert (got.weights is not None) is weights


# --------------------------------------------------------------------------- bad input
#
# The Python API validates everything (docs/design.md, "Validation"); what the compiled
# code still checks is what a direct call could otherwise read out of bounds with.


def test_compiled_code_rejects_shapes_that_do_not_chain() -> None:
    W, X, Y = _problem([3, 4, 1], 4, np.float64)
    spec = _spec(0.2, 3, 1, RELU, np.float64)
    bad = [W[0], np.zeros((5, 1))]
    before = [w.copy() for w in bad]
    with pytest.raises(ValueError, match="weights"):
        NB.train(bad, X, Y, spec)
    _assert_all_same(bad, before)
    with pytest.raises(ValueError, match="weights"):  # the general loop checks too
        NB.train([W[0], np.zeros((5, 1))], X, Y, _spec(0.2, 3, 2, RELU, np.float64))
    with pytest.raises(ValueError, match="X"):
        NB.train(W, X[:, :2].copy(), Y, spec)
    with pytest.raises(ValueError, match="rows"):
        NB.train(W, X, Y[:3].copy(), spec)
    with pytest.raises(ValueError, match="Y"):
        NB.train(W, X, np.zeros((4, 2)), spec)
    with pytest.raises(ValueError, match="batch_size"):  # refused by the spec itself
        NB.train(W, X, Y, _spec(0.2, 3, 0, RELU, np.float64))
    with pytest.raises(ValueError, match="width"):
        NB.forward(bad, X, RELU)
    with pytest.raises(ValueError, match="shapes"):
        NB.update(W, [W[1], W[0]], 0.1)


def test_kernels_reject_shapes_they_would_index_out_of_bounds() -> None:
    W, X, Y = _problem([3, 4, 1], 4, np.float64)
    layers = REF.forward(W, X, RELU)
    deltas = REF.deltas(W, layers, Y, RELU)
    with pytest.raises(ValueError, match="different shapes"):
        NB.example_errors(layers[-1], Y[:3])
    with pytest.raises(ValueError, match="different shapes"):
        NB.output_delta(layers[-1], np.zeros((4, 2)))
    with pytest.raises(ValueError, match="width"):
        NB.layer_delta(deltas[1], W[0], layers[1], RELU)
    with pytest.raises(ValueError, match="shape"):
        NB.layer_delta(deltas[1], W[1], layers[1][:3], RELU)
    with pytest.raises(ValueError, match="rows"):
        NB.weight_delta(layers[0], deltas[0][:2])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"X": np.zeros((4, 2))}, "X has a different number of columns"),
        ({"Y": np.zeros((3, 1))}, "different number of rows"),
        ({"Y": np.zeros((4, 2))}, "Y has a different number of columns"),
        ({"alphas": np.array([0.1])}, "seeds and alphas"),
    ],
)
def test_sweep_rejects_data_that_do_not_fit_the_sizes(change: dict, match: str) -> None:
    _, X, Y = _problem([3, 4, 1], 4, np.float64)
    args = {"X": X, "Y": Y, "alphas": np.array([0.1, 0.2])} | change
    spec = SweepSpec((3, 4, 1), 2, 1)
    with pytest.raises(ValueError, match=match):
        NB.sweep(args["X"], args["Y"], np.array([1, 2], np.uint32), args["alphas"], spec, 1)
