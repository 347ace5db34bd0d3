"""The C++ training loop's instruction-set copies (baseline, AVX2, AVX-512) are bitwise equal.

grokprop._core compiles its training loop once per instruction set and picks the best one the
CPU runs (``GROKPROP_SIMD`` overrides). Every copy must give the reference's bits: each test
here forces each available copy in turn. The shapes are chosen so that every block width of
the kernels runs (column and row tails), on both the small-network loop (hidden <= 8) and the
general stochastic and mini-batch loops, with every activation. The lock-step seed sweep
has its copies too: each one equals the reference sweep (the backends' ``sweep``, which
``gp.sweep`` calls).
"""

from __future__ import annotations

import itertools
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp
from grokprop import _core
from grokprop.backends.cpp import CppBackend
from grokprop.backends.reference import ReferenceBackend
from grokprop.specs import Activation, SweepSpec, TrainSpec

LEVELS = _core.simd_levels()

# [n0, hidden, n_out], rows: widths 63 / 127 / 255 / 511 cover every column block width
# (32+16+8+4+2+1 doubles with AVX-512 tiles, 128+...+1 for a row of the stochastic step);
# 7 rows cover row tiles of 4+2+1 and, with batch 3, a last batch of one row.
SHAPES = [
    ([3, 4, 1], 4),  # the book network (small-network loop)
    ([2, 8, 3], 7),  # the widest small network
    ([3, 5, 2], 1),  # one row: the fused step's next row is the same row
    ([4, 9, 2], 7),  # just too wide for the small-network loop
    ([5, 63, 7], 7),
    ([3, 127, 10], 7),
    ([2, 255, 3], 5),
    ([3, 511, 2], 5),
    ([6, 3], 7),  # no hidden layer
    ([4, 6, 5, 3], 7),  # two hidden layers
]


@pytest.fixture(autouse=True)
def _restore_simd() -> Iterator[None]:
    yield
    _core.set_simd("auto")


def _problem(sizes: list[int], rows: int, dtype: str, seed: int = 0):
    rng = np.random.RandomState(seed)
    weights = [
        (2 * rng.random_sample((n_in, n_out)) - 1).astype(dtype)
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    X = rng.uniform(-1, 1, (rows, sizes[0])).astype(dtype)
    Y = rng.uniform(-1, 1, (rows, sizes[-1])).astype(dtype)
    return weights, X, Y


def test_levels_are_named_and_the_best_is_the_default() -> None:
    assert LEVELS[0] == "baseline"
    assert set(LEVELS) <= {"baseline", "avx2", "avx512"}
    if os.environ.get("GROKPROP_SIMD", "auto") in ("", "auto"):
        assert _core.get_simd() == LEVELS[-1]


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")),
    reason="reads the CPU's features from /proc/cpuinfo (Linux x86-64)",
)
def test_an_x86_64_build_offers_what_the_cpu_supports() -> None:
    with Path("/proc/cpuinfo").open() as cpuinfo:
        flags = next(line for line in cpuinfo if line.startswith("flags")).split()
    expected = ["baseline"]
    if "avx2" in flags:
        expected.append("avx2")
    if {"avx512f", "avx512vl", "avx512bw", "avx512dq"} <= set(flags):
        expected.append("avx512")
    assert expected == LEVELS


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", list(Activation), ids=str)
@pytest.mark.parametrize("batch_size", [1, 3, None])
@pytest.mark.parametrize(("sizes", "rows"), SHAPES)
def test_every_instruction_set_equals_the_reference(
    sizes: list[int], rows: int, batch_size: int | None, activation: Activation, dtype: str
) -> None:
    batch = rows if batch_size is None else min(batch_size, rows)
    weights, X, Y = _problem(sizes, rows, dtype)
    spec = TrainSpec(0.01, 3, batch, activation, np.dtype(dtype))
    ref_weights = [w.copy() for w in weights]
    ref_errors = ReferenceBackend().train(ref_weights, X, Y, spec)
    for level in LEVELS:
        _core.set_simd(level)
        assert _core.get_simd() == level
        ws = [w.copy() for w in weights]
        errors = _core.train(ws, X, Y, spec)
        assert errors.dtype == ref_errors.dtype
        assert np.array_equal(errors, ref_errors), level
        for w, ref in zip(ws, ref_weights):
            assert np.array_equal(w, ref), level


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("sizes", [[3, 4, 1], [3, 40, 2]])
def test_every_instruction_set_diverges_like_the_reference(
    sizes: list[int], batch_size: int
) -> None:
    weights, X, Y = _problem(sizes, 4, "float64", seed=1)
    X *= 1e80  # the first products overflow
    spec = TrainSpec(0.5, 5, batch_size, Activation.RELU)
    ref_weights = [w.copy() for w in weights]
    with np.errstate(all="ignore"):
        ref_errors = ReferenceBackend().train(ref_weights, X, Y, spec)
    assert len(ref_errors) < 5  # it did diverge
    for level in LEVELS:
        _core.set_simd(level)
        ws = [w.copy() for w in weights]
        errors = _core.train(ws, X, Y, spec)
        assert np.array_equal(errors, ref_errors, equal_nan=True), level
        for w, ref in zip(ws, ref_weights):
            assert np.array_equal(w, ref, equal_nan=True), level


# Sweeps: the chapter's shapes (compiled with fixed sizes) and one of run-time size; 12 seeds
# x 3 alphas = 36 networks make several lane blocks at every level (16 or 32 lanes) and a
# ragged last one. The largest alpha makes every linear network diverge (some relu networks
# die instead); the smallest none.
SWEEP_SHAPES = [([3, 4, 1], "nonlinear"), ([3, 1], "linear"), ([4, 6, 5, 3], "random")]
SWEEP_SEEDS = list(range(12))
SWEEP_ALPHAS = [0.01, 0.2, 1e30]


def _sweep_data(kind: str, sizes: list[int], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    if kind == "random":
        rng = np.random.RandomState(2)
        X, y = rng.uniform(-2, 2, (5, sizes[0])), rng.uniform(-2, 2, (5, sizes[-1]))
    else:
        X, y = gp.datasets.streetlights(kind)  # type: ignore[arg-type]
    return X.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", list(Activation), ids=str)
@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize(("sizes", "kind"), SWEEP_SHAPES, ids=["3-4-1", "3-1", "4-6-5-3"])
def test_every_instruction_set_sweeps_like_the_reference(
    sizes: list[int], kind: str, batch_size: int, activation: Activation, dtype: str
) -> None:
    X, y = _sweep_data(kind, sizes, dtype)
    # seeds outer, alphas inner (as gp.sweep): network i has alpha SWEEP_ALPHAS[i % 3]
    seeds = np.repeat(np.array(SWEEP_SEEDS, np.uint32), len(SWEEP_ALPHAS))
    alphas = np.tile(np.array(SWEEP_ALPHAS), len(SWEEP_SEEDS))
    spec = SweepSpec(tuple(sizes), 6, batch_size, activation, np.dtype(dtype), True, True)
    with np.errstate(all="ignore"):
        expected = ReferenceBackend().sweep(X, y, seeds, alphas, spec, 1)
    assert not expected.diverged[0 :: len(SWEEP_ALPHAS)].any()
    if activation is Activation.LINEAR:
        assert expected.diverged[2 :: len(SWEEP_ALPHAS)].all()
    assert expected.curves is not None and expected.weights is not None
    for level in LEVELS:
        _core.set_simd(level)
        result = CppBackend().sweep(X, y, seeds, alphas, spec, 2)
        assert np.array_equal(result.diverged, expected.diverged), level
        assert np.array_equal(result.final_errors, expected.final_errors, equal_nan=True), level
        assert result.curves is not None and result.weights is not None
        assert np.array_equal(result.curves, expected.curves, equal_nan=True), level
        for w, ref in zip(result.weights, expected.weights):
            assert w.dtype == ref.dtype
            assert np.array_equal(w, ref, equal_nan=True), level


def test_an_unknown_level_is_refused_with_the_available_ones() -> None:
    with pytest.raises(ValueError, match="unknown or unavailable instruction set 'sse9'") as info:
        _core.set_simd("sse9")
    assert "baseline" in str(info.value)
    assert _core.get_simd() == LEVELS[-1]  # unchanged


def _in_subprocess(code: str, simd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GROKPROP_SIMD": simd}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_the_environment_variable_chooses_the_level_at_import() -> None:
    result = _in_subprocess("from grokprop import _core; print(_core.get_simd())", "baseline")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "baseline"


def test_an_unavailable_level_in_the_environment_makes_cpp_unavailable_saying_why() -> None:
    code = "import grokprop; print(grokprop.backend_status()['cpp'])"
    result = _in_subprocess(code, "sse9")
    assert result.returncode == 0, result.stderr
    assert "GROKPROP_SIMD" in result.stdout
    assert "sse9" in result.stdout
