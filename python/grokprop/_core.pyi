"""Type stub of grokprop._core, the C++ core (private; use grokprop.backends.cpp).

Every array must be a C-contiguous, aligned numpy.ndarray of one float dtype
(float32 or float64) shared by all arguments of a call; weights that are updated
in place must be writeable. Nothing is converted: a wrong argument raises
TypeError (not an ndarray, wrong dtype) or ValueError (shape, layout, range).
"""

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

_FloatArray: TypeAlias = NDArray[np.floating]

def forward(weights: Sequence[_FloatArray], X: _FloatArray, relu: bool) -> list[_FloatArray]:
    """Layers ``[X, a_1, ..., a_L]`` for every row of ``X`` (``X`` itself first)."""

def relu(z: _FloatArray) -> _FloatArray:
    """``z if z > 0 else 0`` elementwise, as a new array."""

def relu_deriv(out: _FloatArray) -> _FloatArray:
    """``1 if out > 0 else 0`` elementwise on relu's output, as a new array."""

def example_errors(output: _FloatArray, Y: _FloatArray) -> _FloatArray:
    """Per-row error ``sum_j (output[j] - Y[j])**2``; shape ``(m,)``."""

def deltas(
    weights: Sequence[_FloatArray], layers: Sequence[_FloatArray], Y: _FloatArray, relu: bool
) -> list[_FloatArray]:
    """Deltas ``[d_1, ..., d_L]``, all from the given weights."""

def weight_deltas(
    layers: Sequence[_FloatArray], deltas: Sequence[_FloatArray]
) -> list[_FloatArray]:
    """Average weight deltas ``S[l] / m``, ``S[l] = sum over rows of outer(a_l, d_{l+1})``."""

def update(
    weights: Sequence[_FloatArray], weight_deltas: Sequence[_FloatArray], alpha: float
) -> None:
    """In place: ``weights[l] -= alpha * weight_deltas[l]`` (alpha rounded to the dtype)."""

def train(
    weights: Sequence[_FloatArray],
    X: _FloatArray,
    Y: _FloatArray,
    alpha: float,
    epochs: int,
    batch_size: int,
    relu: bool,
) -> _FloatArray:
    """Run ``epochs`` epochs of mini-batch descent, updating ``weights`` in place.

    Returns the per-epoch errors; stops after the first epoch whose error is not
    finite (the array is then shorter than ``epochs``). ``X``, ``Y`` and the weights
    must be finite (ValueError otherwise); an error history too large to allocate is a
    MemoryError naming ``epochs``.
    """

def sweep(
    sizes: Sequence[int],
    X: _FloatArray,
    Y: _FloatArray,
    seeds: NDArray[np.uint32],
    alphas: NDArray[np.float64],
    epochs: int,
    batch_size: int,
    relu: bool,
    curves: bool,
    weights: bool,
    threads: int,
) -> tuple[_FloatArray, NDArray[np.bool_], _FloatArray | None, list[_FloatArray] | None]:
    """Train network ``i`` from the book initialisation of ``seeds[i]`` with ``alphas[i]``.

    All networks of one shape train in lock-step on up to ``threads`` threads with the
    GIL released. Returns ``(final_errors, diverged, curves or None, weights or None)``.
    """

def book_uniforms(seeds: NDArray[np.uint32], count: int) -> NDArray[np.float64]:
    """Row ``i`` is ``numpy.random.RandomState(seeds[i]).random_sample(count)``."""

def simd_levels() -> list[str]:
    """Instruction sets of the training loop this build has and this CPU runs, slowest first."""

def get_simd() -> str:
    """The instruction set the training loop uses now."""

def set_simd(name: str) -> None:
    """Use instruction set ``name`` (or ``'auto'``, the best) from now on, in every thread."""

def build_info() -> dict[str, str]:
    """How this extension was built: compiler and the instruction sets compiled in."""
