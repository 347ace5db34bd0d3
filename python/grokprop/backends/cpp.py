"""The C++ backend: :mod:`grokprop._core`, bit for bit equal to the reference.

The kernels are header-only C++ (``cpp/include/grokprop``) compiled without FMA
contraction or fast-math, in the evaluation order of docs/design.md ("Evaluation order").
:class:`CppBackend` takes its eight kernels from ``_core`` and overrides the compositions
of :class:`._protocol.Backend` with fused ``_core`` calls: :meth:`~CppBackend.step` (one
update in one call), :meth:`~CppBackend.train` (every epoch in one call, GIL released),
both also as a transaction in the same call (``train_transaction``, ``step_transaction``),
and :meth:`~CppBackend.sweep` (blocks of networks in lock-step, SIMD across networks, on
several threads). Everything is forwarded as it is, specs included: the Python API has
validated the arguments (docs/design.md, "Validation"); ``_core``'s own checks are only a
safety net for direct calls. Importing this module raises :class:`ImportError` when the
extension was not built, which the registry reports as unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._interrupt import StopFlag
from .._typing import FloatArray
from ..specs import Activation, SweepSpec, TrainSpec
from ._protocol import Backend, Outcome, StepArrays, SweepArrays

__all__ = ["CppBackend"]


_OUTCOMES = tuple(Outcome)  # _core returns an Outcome's value


class CppBackend(Backend):
    """``cpp``: the compiled core (pybind11)."""

    name = "cpp"

    # the kernels: _core's functions themselves (no Python frame in between)
    layer_forward = staticmethod(_core.layer_forward)
    activate = staticmethod(_core.activate)
    activate_deriv = staticmethod(_core.activate_deriv)
    example_errors = staticmethod(_core.example_errors)
    output_delta = staticmethod(_core.output_delta)
    layer_delta = staticmethod(_core.layer_delta)
    weight_delta = staticmethod(_core.weight_delta)
    update_layer = staticmethod(_core.update_layer)

    # the fused compositions
    def step(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        activation: Activation,
    ) -> StepArrays:
        return StepArrays._make(_core.step(weights, X, Y, alpha, activation))

    def train(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        spec: TrainSpec,
        stop: StopFlag | None = None,
    ) -> FloatArray:
        return _core.train(weights, X, Y, spec, stop)

    def train_transaction(
        self,
        buffer: FloatArray,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        spec: TrainSpec,
    ) -> tuple[FloatArray, Outcome]:
        errors, outcome = _core.train_transaction(buffer, weights, X, Y, spec)
        return errors, _OUTCOMES[outcome]

    def step_transaction(
        self,
        buffer: FloatArray,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        activation: Activation,
    ) -> tuple[StepArrays, Outcome]:
        arrays, outcome = _core.step_transaction(buffer, weights, X, Y, alpha, activation)
        # StepArrays._make(arrays) without its call and length check (a step on the book
        # network is a few microseconds; _core returns the four arrays)
        return tuple.__new__(StepArrays, arrays), _OUTCOMES[outcome]

    def sweep(
        self,
        X: FloatArray,
        Y: FloatArray,
        seeds: NDArray[np.uint32],
        alphas: NDArray[np.float64],
        spec: SweepSpec,
        threads: int,
        stop: StopFlag | None = None,
    ) -> SweepArrays:
        return SweepArrays._make(_core.sweep(X, Y, seeds, alphas, spec, threads, stop))
