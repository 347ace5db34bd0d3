"""Type stub of grokprop._core, the C++ core (private; use grokprop.backends.cpp).

Every array must be a C-contiguous, aligned numpy.ndarray of one float dtype
(float32 or float64) shared by all arguments of a call; weights that are updated
in place must be writeable. Nothing is converted: a wrong argument raises
TypeError (not an ndarray, wrong dtype) or ValueError (shape, layout, range).

An ``activation`` argument is any integer with an :class:`Activation` value (a
``grokprop.specs.Activation``, an ``Activation`` of this module, or a plain int; not a
bool). A ``spec`` is any object with the fields of ``grokprop.specs.TrainSpec`` /
``SweepSpec``; each field is checked, and errors name it (``spec.epochs must be ...``).
These checks are a safety net for direct calls (docs/design.md, "Validation").
"""

import enum
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

import grokprop.specs
from grokprop.specs import SweepSpec, TrainSpec

_FloatArray: TypeAlias = NDArray[np.floating]

class Activation(enum.IntEnum):
    """The hidden layers' activation; the values of grokprop.specs.Activation."""

    LINEAR = 0
    RELU = 1
    SIGMOID = 2
    TANH = 3

def accept_matrix(value: object, dtype: np.dtype[np.floating], columns: int) -> _FloatArray | None:
    """grokprop._validation.as_matrix's fast path: ``value`` itself if it is a C-contiguous,
    aligned, finite 2-D ``numpy.ndarray`` of ``dtype`` with ``columns`` columns (0: any) and
    at least one row, a new array of ``dtype`` if it is such an array of integers, else
    ``None``. Never raises."""

def accept_data(
    X: object, y: object, dtype: np.dtype[np.floating], x_columns: int, y_columns: int
) -> tuple[_FloatArray, _FloatArray] | None:
    """grokprop._validation.as_data's fast path: ``(X, y)`` as :func:`accept_matrix` takes
    each, if it takes both and they have as many rows, else ``None``. Never raises."""

def views_intact(
    views: list[_FloatArray],
    shapes: list[tuple[int, int]],
    dtype: np.dtype[np.floating],
    writeable: bool,
) -> bool:
    """WeightBuffer.check_views's fast path: every ``views[l]`` still has shape ``shapes[l]``,
    ``dtype``, a C-contiguous aligned layout and, if ``writeable``, is writeable."""

def layer_forward(
    A: _FloatArray, W: _FloatArray, activation: grokprop.specs.Activation | int
) -> _FloatArray:
    """``activate(A @ W, activation)`` for the rows of ``A``."""

def activate(z: _FloatArray, activation: grokprop.specs.Activation | int) -> _FloatArray:
    """The activation elementwise (relu: ``z if z > 0 else 0``; sigmoid and tanh from
    grokprop's own exp), as a new array."""

def activate_deriv(out: _FloatArray, activation: grokprop.specs.Activation | int) -> _FloatArray:
    """The derivative from the activation's output (relu: ``1 if out > 0 else 0``; sigmoid:
    ``out * (1 - out)``; tanh: ``1 - out * out``)."""

def example_errors(output: _FloatArray, Y: _FloatArray) -> _FloatArray:
    """Per-row error ``sum_j (output[j] - Y[j])**2``; shape ``(m,)``."""

def output_delta(output: _FloatArray, Y: _FloatArray) -> _FloatArray:
    """``output - Y``: the output layer's delta."""

def layer_delta(
    D: _FloatArray, W: _FloatArray, A: _FloatArray, activation: grokprop.specs.Activation | int
) -> _FloatArray:
    """``(D @ W.T) * activate_deriv(A, activation)``: a hidden layer's delta."""

def weight_delta(A: _FloatArray, D: _FloatArray) -> _FloatArray:
    """``S / m`` with ``S = sum over the m rows r, in order, of outer(A[r], D[r])``."""

def update_layer(W: _FloatArray, G: _FloatArray, alpha: float) -> None:
    """In place: ``W -= alpha * G`` (alpha rounded to ``W``'s dtype)."""

def step(
    weights: Sequence[_FloatArray],
    X: _FloatArray,
    Y: _FloatArray,
    alpha: float,
    activation: grokprop.specs.Activation | int,
) -> tuple[list[_FloatArray], list[_FloatArray], list[_FloatArray], _FloatArray]:
    """One update from all rows of ``X`` as one batch, every delta from the old weights.

    Updates ``weights`` in place; returns ``(layers, deltas, weight_deltas, errors)``:
    ``[X, a_1, ..., a_L]``, ``[d_1, ..., d_L]``, ``[G_0, ..., G_{L-1}]`` and the ``(m,)``
    per-row errors (grokprop.backends.StepArrays).
    """

def train(
    weights: Sequence[_FloatArray],
    X: _FloatArray,
    Y: _FloatArray,
    spec: TrainSpec,
    stop: NDArray[np.uint8] | None = None,
) -> _FloatArray:
    """Run ``spec.epochs`` epochs of mini-batch descent, updating ``weights`` in place.

    Returns the per-epoch errors; stops after the first epoch whose error is not
    finite (the array is then shorter than ``spec.epochs``). ``X``, ``Y`` and the weights
    must be finite (ValueError otherwise); an error history too large to allocate is a
    MemoryError naming ``spec.epochs``.
    """

def train_transaction(
    buffer: _FloatArray,
    weights: Sequence[_FloatArray],
    X: _FloatArray,
    Y: _FloatArray,
    spec: TrainSpec,
) -> tuple[_FloatArray, int]:
    """``train`` as a transaction: ``buffer`` (1-D) holds every weight matrix; it is saved
    first and restored if the last error or a weight is not finite, or on an exception
    (a pending Ctrl-C is handled before the call returns). Returns ``(errors, outcome)``,
    the outcome a grokprop.backends._protocol.Outcome value. No stop flag: for short runs.
    """

def step_transaction(
    buffer: _FloatArray,
    weights: Sequence[_FloatArray],
    X: _FloatArray,
    Y: _FloatArray,
    alpha: float,
    activation: grokprop.specs.Activation | int,
) -> tuple[tuple[list[_FloatArray], list[_FloatArray], list[_FloatArray], _FloatArray], int]:
    """``step`` as a transaction, as ``train_transaction``: ``(step's result, outcome)``;
    the result is finite when the rows' errors summed in row order are."""

def sweep(
    X: _FloatArray,
    Y: _FloatArray,
    seeds: NDArray[np.uint32],
    alphas: NDArray[np.float64],
    spec: SweepSpec,
    threads: int,
    stop: NDArray[np.uint8] | None = None,
) -> tuple[_FloatArray, NDArray[np.bool_], _FloatArray | None, list[_FloatArray] | None]:
    """Train network ``i`` of shape ``spec.sizes`` from the book initialisation of
    ``seeds[i]`` with ``alphas[i]``.

    All networks train in lock-step on up to ``threads`` threads with the GIL released.
    Returns ``(final_errors, diverged, curves or None, weights or None)``.
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
