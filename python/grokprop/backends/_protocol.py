"""The backend protocol, and the compositions written once (docs/design.md, "The backend
protocol").

A backend supplies the chapter's eight per-layer *kernels* (:class:`Kernels`) and
inherits from :class:`Backend` the compositions of them: forward through the layers, the
deltas, the weight deltas, the update, one step, the training loop and a sweep one network
after another. It overrides a composition only where it has a faster fused one (the
compiled ``train`` and ``sweep``); the reference backend overrides nothing, so its
composed loop is the executable statement of the math.

What a backend receives has been validated by the Python API (docs/design.md,
"Validation"): C-contiguous, aligned arrays of one float dtype (``float32`` or
``float64``), writeable where updated in place, with chained shapes, finite data, and
specs (:class:`grokprop.specs.TrainSpec`, :class:`grokprop.specs.SweepSpec`) that checked
themselves. Nothing after that boundary depends on a backend's own checks.

Every kernel keeps the evaluation-order contract (docs/design.md, "Evaluation order"):
each reduction starts from zero and adds its terms one at a time in increasing index
order, products and sums are rounded separately (no FMA), ``alpha * G`` is
``alpha * (a[k] * d[j])``, and a batch's weight delta is the sequential sum over its rows
divided once by the row count.
"""

from __future__ import annotations

import abc
import enum
import itertools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._interrupt import StopFlag
from .._typing import FloatArray
from .._validation import all_finite
from .._weights import book_weights
from ..specs import Activation, SweepSpec, TrainSpec

__all__ = [
    "Backend",
    "Kernels",
    "Outcome",
    "StepArrays",
    "SweepArrays",
    "diverged",
    "last_error_finite",
    "sequential_sum",
    "settle",
    "transaction",
]


class StepArrays(NamedTuple):
    """What one update computed, all from the weights as they were before it."""

    layers: list[FloatArray]
    """``[a_0 = X, a_1, ..., a_L]``, each ``(m, n_l)``."""
    deltas: list[FloatArray]
    """``[d_1, ..., d_L]``: ``a_L - Y`` and the back-propagated hidden deltas."""
    weight_deltas: list[FloatArray]
    """``S[l] / m`` with ``S[l] = sum_rows outer(a_l, d_{l+1})``, each ``(n_l, n_{l+1})``."""
    errors: FloatArray
    """``(m,)`` per-row error ``sum_j (a_L[j] - Y[j])**2``."""


class SweepArrays(NamedTuple):
    """What :meth:`Backend.sweep` returns for ``n`` networks (see :func:`grokprop.sweep`)."""

    final_errors: FloatArray
    """``(n,)``: the last epoch's error (for a diverged network, the epoch it stopped in)."""
    diverged: NDArray[np.bool_]
    """``(n,)``: an epoch error or a final weight became inf/NaN."""
    curves: FloatArray | None
    """``(n, epochs)`` per-epoch errors, NaN after a divergence; ``None`` unless asked."""
    weights: list[FloatArray] | None
    """Per layer ``(n, n_l, n_{l+1})`` final weights; ``None`` unless asked."""


class Kernels(abc.ABC):
    """The per-layer kernels a backend must supply (each returns a new array unless noted)."""

    name: str

    @abc.abstractmethod
    def layer_forward(self, A: FloatArray, W: FloatArray, activation: Activation) -> FloatArray:
        """``activate(A @ W)`` for the rows of ``A`` (``LINEAR`` for the output layer)."""

    @abc.abstractmethod
    def activate(self, z: FloatArray, activation: Activation) -> FloatArray:
        """The activation elementwise (relu: ``z if z > 0 else 0``, NaN and -inf as NaN)."""

    @abc.abstractmethod
    def activate_deriv(self, out: FloatArray, activation: Activation) -> FloatArray:
        """The activation's derivative from its *output* (relu: ``1 if out > 0 else 0``)."""

    @abc.abstractmethod
    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        """Per-row error ``sum_j (output[j] - Y[j])**2``; shape ``(m,)``."""

    @abc.abstractmethod
    def output_delta(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        """``output - Y``: the output layer's delta."""

    @abc.abstractmethod
    def layer_delta(
        self, D: FloatArray, W: FloatArray, A: FloatArray, activation: Activation
    ) -> FloatArray:
        """``(D @ W.T) * activate_deriv(A)``: a hidden layer's delta from the next one's."""

    @abc.abstractmethod
    def weight_delta(self, A: FloatArray, D: FloatArray) -> FloatArray:
        """``S / m`` with ``S = sum_rows outer(A[r], D[r])`` (rows in order), ``m`` rows."""

    @abc.abstractmethod
    def update_layer(self, W: FloatArray, G: FloatArray, alpha: float) -> None:
        """In place: ``W -= alpha * G`` with ``alpha`` rounded to ``W``'s dtype."""


def sequential_sum(values: FloatArray, start: np.floating | None = None) -> np.floating:
    """``((start + v[0]) + v[1]) + ...`` in ``values``' dtype (``start`` 0 by default): how
    an epoch's error is summed over its rows."""
    scalar = values.dtype.type
    if scalar is np.float64:
        # Python floats are IEEE doubles: the same sums, faster, and no overflow warning
        sum64 = 0.0 if start is None else float(start)
        for value in values.tolist():
            sum64 += value
        result: np.floating = np.float64(sum64)
        return result
    total = scalar(0) if start is None else start
    with np.errstate(all="ignore"):  # an overflow to inf is the caller's to see
        for value in values:
            total = scalar(total + value)
    return total


def diverged(errors: FloatArray, weights: Sequence[FloatArray]) -> bool:
    """A training diverged: an epoch error or a final weight is inf/NaN."""
    return not (
        bool(np.isfinite(errors).all()) and all(bool(np.isfinite(w).all()) for w in weights)
    )


R = TypeVar("R")


class Outcome(enum.IntEnum):
    """How a fit's or a step's transaction ended (docs/design.md, "Divergence")."""

    COMMITTED = 0
    """The result and every weight are finite: the update stays."""
    DIVERGED = 1
    """A non-finite result or weight: the weights were restored."""
    NOT_FINITE_BEFORE = 2
    """The weights were non-finite before the call (restored; not a divergence)."""


def transaction(
    buffer: FloatArray, run: Callable[[], R], result_finite: Callable[[R], bool]
) -> tuple[R, Outcome]:
    """``run()`` as a transaction on the weight ``buffer``: saved first, restored on any
    exception (Ctrl-C included) and, through :func:`settle`, when the result or a weight is
    not finite."""
    saved = buffer.copy()
    try:
        result = run()
    except BaseException:  # Ctrl-C or an error mid-update: the weights as they were
        np.copyto(buffer, saved)
        raise
    return result, settle(buffer, saved, result_finite(result))


def last_error_finite(errors: FloatArray) -> bool:
    """A training's outcome is finite: its loops stop at the first non-finite epoch error,
    so only the last can be."""
    return not len(errors) or math.isfinite(errors[-1])


def settle(buffer: FloatArray, saved: FloatArray, result_finite: bool) -> Outcome:
    """End a transaction on the weight ``buffer`` saved as ``saved``: keep the update if
    ``result_finite`` and every weight is finite, else put ``saved`` back and say why."""
    if result_finite and all_finite(buffer):
        return Outcome.COMMITTED
    np.copyto(buffer, saved)
    return Outcome.DIVERGED if all_finite(saved) else Outcome.NOT_FINITE_BEFORE


class Backend(Kernels):
    """Kernels plus their compositions: what every backend is (subclass it)."""

    def forward(
        self, weights: Sequence[FloatArray], X: FloatArray, activation: Activation
    ) -> list[FloatArray]:
        layers = [X]
        last = len(weights) - 1
        for l, W in enumerate(weights):
            layers.append(
                self.layer_forward(layers[-1], W, activation if l < last else Activation.LINEAR)
            )
        return layers

    def deltas(
        self,
        weights: Sequence[FloatArray],
        layers: Sequence[FloatArray],
        Y: FloatArray,
        activation: Activation,
    ) -> list[FloatArray]:
        """``[d_1, ..., d_L]``, every one from the given (old) weights."""
        deltas = [self.output_delta(layers[-1], Y)]
        for l in range(len(weights) - 1, 0, -1):
            deltas.insert(0, self.layer_delta(deltas[0], weights[l], layers[l], activation))
        return deltas

    def weight_deltas(
        self, layers: Sequence[FloatArray], deltas: Sequence[FloatArray]
    ) -> list[FloatArray]:
        return [self.weight_delta(a, d) for a, d in zip(layers[:-1], deltas)]

    def update(
        self, weights: Sequence[FloatArray], weight_deltas: Sequence[FloatArray], alpha: float
    ) -> None:
        for W, G in zip(weights, weight_deltas):
            self.update_layer(W, G, alpha)

    def step(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        activation: Activation,
    ) -> StepArrays:
        layers = self.forward(weights, X, activation)
        deltas = self.deltas(weights, layers, Y, activation)
        weight_deltas = self.weight_deltas(layers, deltas)
        errors = self.example_errors(layers[-1], Y)
        self.update(weights, weight_deltas, alpha)
        return StepArrays(layers, deltas, weight_deltas, errors)

    def train(
        self,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        spec: TrainSpec,
        stop: StopFlag | None = None,
    ) -> FloatArray:
        """Run ``spec.epochs`` epochs of mini-batch descent, updating ``weights`` in place.

        Returns the per-epoch errors. Stops after the first epoch whose error is not
        finite, so the returned array is then shorter than ``spec.epochs``; the caller
        restores the weights it saved. ``stop``: a one-byte flag another thread may set
        to 1; the loop then returns early, the weights part-way (docs/design.md,
        "Interrupts").
        """
        # overflow is how divergence shows: the caller checks the result, and the user's
        # error state (np.errstate(all="raise")) must not change the outcome
        with np.errstate(all="ignore"):
            errors = np.zeros(spec.epochs, dtype=X.dtype)
            batch = spec.batch_size
            for epoch in range(spec.epochs):
                epoch_error = X.dtype.type(0)
                for start in range(0, X.shape[0], batch):
                    if stop is not None and stop[0]:
                        return errors[:epoch]
                    trace = self.step(
                        weights,
                        X[start : start + batch],
                        Y[start : start + batch],
                        spec.alpha,
                        spec.activation,
                    )
                    epoch_error = sequential_sum(trace.errors, epoch_error)
                errors[epoch] = epoch_error
                if not np.isfinite(epoch_error):
                    return errors[: epoch + 1]
            return errors

    def train_transaction(
        self,
        buffer: FloatArray,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        spec: TrainSpec,
    ) -> tuple[FloatArray, Outcome]:
        """:meth:`train` as a transaction: ``buffer`` (1-D) holds every one of ``weights``;
        it is restored if the last epoch error or a weight is not finite (the
        :class:`Outcome` says which) or on any exception. For short runs (no stop flag);
        the C++ backend does it all in one compiled call."""
        return transaction(buffer, lambda: self.train(weights, X, Y, spec), last_error_finite)

    def step_transaction(
        self,
        buffer: FloatArray,
        weights: Sequence[FloatArray],
        X: FloatArray,
        Y: FloatArray,
        alpha: float,
        activation: Activation,
    ) -> tuple[StepArrays, Outcome]:
        """:meth:`step` as a transaction, as :meth:`train_transaction`; the result is
        finite when the rows' errors summed in row order are."""
        return transaction(
            buffer,
            lambda: self.step(weights, X, Y, alpha, activation),
            lambda out: math.isfinite(sequential_sum(out.errors)),
        )

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
        """Train network ``i`` from the book initialisation of ``seeds[i]`` with ``alphas[i]``,
        exactly as :meth:`train` trains it alone (``threads``: a hint; results never depend
        on it). Here one network after the other: the oracle the lock-step sweeps equal.
        ``stop`` as for :meth:`train` (the results are then incomplete)."""
        n = len(seeds)
        final_errors = np.full(n, np.nan, dtype=X.dtype)
        is_diverged = np.zeros(n, dtype=bool)
        curves = np.full((n, spec.epochs), np.nan, dtype=X.dtype) if spec.curves else None
        final_weights = (
            [np.empty((n, a, b), dtype=X.dtype) for a, b in itertools.pairwise(spec.sizes)]
            if spec.weights
            else None
        )
        for i, (seed, alpha) in enumerate(zip(seeds, alphas)):
            weights = book_weights(spec.sizes, int(seed), X.dtype)
            if stop is not None and stop[0]:
                break
            errors = self.train(weights, X, Y, spec.train_spec(alpha), stop)
            if len(errors):
                final_errors[i] = errors[-1]
            is_diverged[i] = diverged(errors, weights)
            if curves is not None:
                curves[i, : len(errors)] = errors
            if final_weights is not None:
                for out, w in zip(final_weights, weights):
                    out[i] = w
        return SweepArrays(final_errors, is_diverged, curves, final_weights)
