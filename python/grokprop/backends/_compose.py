"""The compositions of the kernels, written once for every backend (docs/design.md).

:class:`Composed` turns a backend's eight per-layer kernels (:class:`._protocol.Kernels`)
into the whole :class:`._protocol.Backend`: forward through the layers, the deltas, the
weight deltas, the update, one step, the training loop and a sweep one network after
another. A backend subclasses it, supplies its kernels, and overrides a composition only
where it has a faster fused one (the compiled ``train`` and ``sweep``); the reference
backend overrides nothing, so its composed loop is the executable statement of the math.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .._typing import FloatArray
from .._weights import book_weights
from ..specs import Activation, SweepSpec, TrainSpec
from ._protocol import StepArrays, SweepArrays

__all__ = ["Composed", "diverged", "sequential_sum"]


def sequential_sum(values: FloatArray, start: np.floating | None = None) -> np.floating:
    """``((start + v[0]) + v[1]) + ...`` in ``values``' dtype (``start`` 0 by default): how
    an epoch's error is summed over its rows."""
    scalar = values.dtype.type
    total = scalar(0) if start is None else start
    for value in values:
        total = scalar(total + value)
    return total


def diverged(errors: FloatArray, weights: Sequence[FloatArray]) -> bool:
    """A training diverged: an epoch error or a final weight is inf/NaN."""
    return not (
        bool(np.isfinite(errors).all()) and all(bool(np.isfinite(w).all()) for w in weights)
    )


class Composed:
    """The compositions, from the kernels a subclass defines (see :class:`._protocol.Kernels`)."""

    name: str

    # the kernels (declared here for type checkers; every subclass defines them)
    def layer_forward(self, A: FloatArray, W: FloatArray, activation: Activation) -> FloatArray:
        raise NotImplementedError

    def example_errors(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        raise NotImplementedError

    def output_delta(self, output: FloatArray, Y: FloatArray) -> FloatArray:
        raise NotImplementedError

    def layer_delta(
        self, D: FloatArray, W: FloatArray, A: FloatArray, activation: Activation
    ) -> FloatArray:
        raise NotImplementedError

    def weight_delta(self, A: FloatArray, D: FloatArray) -> FloatArray:
        raise NotImplementedError

    def update_layer(self, W: FloatArray, G: FloatArray, alpha: float) -> None:
        raise NotImplementedError

    # the compositions
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
        self, weights: Sequence[FloatArray], X: FloatArray, Y: FloatArray, spec: TrainSpec
    ) -> FloatArray:
        # overflow is how divergence shows: the caller checks the result, and the user's
        # error state (np.errstate(all="raise")) must not change the outcome
        with np.errstate(all="ignore"):
            errors = np.zeros(spec.epochs, dtype=X.dtype)
            batch = spec.batch_size
            for epoch in range(spec.epochs):
                epoch_error = X.dtype.type(0)
                for start in range(0, X.shape[0], batch):
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

    def sweep(
        self,
        X: FloatArray,
        Y: FloatArray,
        seeds: NDArray[np.uint32],
        alphas: NDArray[np.float64],
        spec: SweepSpec,
        threads: int,
    ) -> SweepArrays:
        """One network after the other: the oracle the compiled lock-step sweeps equal."""
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
            errors = self.train(weights, X, Y, spec.train_spec(alpha))
            if len(errors):
                final_errors[i] = errors[-1]
            is_diverged[i] = diverged(errors, weights)
            if curves is not None:
                curves[i, : len(errors)] = errors
            if final_weights is not None:
                for out, w in zip(final_weights, weights):
                    out[i] = w
        return SweepArrays(final_errors, is_diverged, curves, final_weights)
