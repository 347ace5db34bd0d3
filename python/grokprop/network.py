"""The network users hold: sizes, activation, dtype and the weights it owns (SPEC §2, §6)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validation as check
from .backends import resolve
from .backends._protocol import Backend, FloatArray
from .errors import DivergenceError

__all__ = ["History", "Network", "StepTrace"]


@dataclass(frozen=True)
class History:
    """What :meth:`Network.fit` did: per-epoch errors and the settings that produced them."""

    errors: FloatArray
    alpha: float
    epochs: int
    batch_size: int
    backend: str

    @property
    def final_error(self) -> float:
        """The last epoch's error (``nan`` for a zero-epoch fit)."""
        return float(self.errors[-1]) if len(self.errors) else float("nan")

    @classmethod
    def _of(
        cls, errors: FloatArray, alpha: float, epochs: int, batch_size: int, backend: str
    ) -> History:
        """``History(...)`` for fit(): the frozen dataclass's ``__init__`` sets each field
        with its own ``object.__setattr__`` call, a sixth of fit()'s own time on the book
        network; one ``__dict__`` update gives the same object."""
        history = object.__new__(cls)
        history.__dict__.update(
            errors=errors, alpha=alpha, epochs=epochs, batch_size=batch_size, backend=backend
        )
        return history


@dataclass(frozen=True)
class StepTrace:
    """Everything one update computed, from the weights as they were before it."""

    layers: list[FloatArray]
    """``[layer_0, ..., layer_L]``: the input rows and every layer's output."""
    deltas: list[FloatArray]
    """``[delta_1, ..., delta_L]``: ``layer_L - y`` and the back-propagated hidden deltas."""
    weight_deltas: list[FloatArray]
    """The average ``outer(layer_l, delta_{l+1})`` over the rows, applied times ``alpha``."""
    errors: FloatArray
    """Per-row error ``sum_j (layer_L - y)**2`` before the update."""

    @property
    def prediction(self) -> FloatArray:
        return self.layers[-1]

    @property
    def error(self) -> float:
        """The summed error of the rows, in row order (as an epoch error is summed)."""
        total = self.errors.dtype.type(0)
        for e in self.errors:
            total = self.errors.dtype.type(total + e)
        return float(total)


class _FitArgs(NamedTuple):
    X: FloatArray
    y: FloatArray
    alpha: float
    epochs: int
    batch_size: int


class Network:
    """A fully connected network without biases, as in chapter 6.

    Parameters
    ----------
    sizes
        Layer sizes ``[n0, n1, ..., nL]``. May be omitted when ``weights`` is given.
    activation
        ``"relu"`` (hidden layers use relu) or ``"linear"`` (hidden layers are identity).
    seed
        Seed of the book's initialisation: ``W[l] = 2 * rng.random_sample(shape) - 1`` with
        ``rng = numpy.random.RandomState(seed)``, layer by layer. ``None`` draws a fresh seed.
    weights
        Explicit starting weights: a list of ``(n_l, n_{l+1})`` matrices, or a 1-D vector for a
        single-output network without hidden layers (the chapter's ``[0.5, 0.48, -0.7]``).
        They are copied; the network owns its arrays.
    dtype
        ``"float64"`` (default) or ``"float32"``; every operation runs in this precision.
    """

    def __init__(
        self,
        sizes: Sequence[int] | None = None,
        *,
        activation: str = "relu",
        seed: int | None = None,
        weights: Sequence[ArrayLike] | ArrayLike | None = None,
        dtype: Any = "float64",
    ) -> None:
        self._dtype = check.as_float_dtype(dtype)
        self._activation = check.check_activation(activation)
        self._relu = self._activation == "relu"
        if weights is None:
            if sizes is None:
                raise TypeError("Network needs sizes (e.g. [3, 4, 1]) or weights")
            self._sizes = check.check_sizes(sizes)
            rng = np.random.RandomState(seed)
            self._buffer, self._weights = _pack(
                [
                    (2 * rng.random_sample((n_in, n_out)) - 1).astype(self._dtype)
                    for n_in, n_out in zip(self._sizes[:-1], self._sizes[1:])
                ],
                self._dtype,
            )
        else:
            if seed is not None:
                raise ValueError("give either seed or weights, not both")
            self._buffer, self._weights = _pack(_own_weights(weights, self._dtype), self._dtype)
            self._sizes = (self._weights[0].shape[0], *(w.shape[1] for w in self._weights))
            if sizes is not None and check.check_sizes(sizes) != self._sizes:
                raise ValueError(
                    f"sizes {list(sizes)} do not match the weights' shapes, which give "
                    f"{list(self._sizes)}"
                )

    # -- what the network is ---------------------------------------------------------------
    @property
    def sizes(self) -> tuple[int, ...]:
        return self._sizes

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def dtype(self) -> np.dtype[np.floating]:
        return self._dtype

    @property
    def weights(self) -> list[FloatArray]:
        """The weight matrices the network owns (updated in place by training)."""
        return list(self._weights)

    def copy(self) -> Network:
        """An independent network with the same sizes, activation, dtype and weights."""
        return Network(weights=self._weights, activation=self._activation, dtype=self._dtype)

    def __repr__(self) -> str:
        return (
            f"Network({list(self._sizes)}, activation={self._activation!r}, "
            f"dtype={self._dtype.name!r})"
        )

    # -- using it --------------------------------------------------------------------------
    def forward(self, X: ArrayLike, *, backend: str | None = None) -> list[FloatArray]:
        """Every layer's output for the rows of ``X``: ``[layer_0, ..., layer_L]``."""
        rows = check.as_matrix(X, "X", self._dtype, columns=self._sizes[0])
        return resolve(backend).forward(self._weights, rows, self._relu)

    def predict(self, X: ArrayLike, *, backend: str | None = None) -> FloatArray:
        """The output layer for the rows of ``X``, shape ``(rows, n_L)``."""
        return self.forward(X, backend=backend)[-1]

    def step(
        self, X: ArrayLike, y: ArrayLike, *, alpha: float, backend: str | None = None
    ) -> StepTrace:
        """One update from the rows of ``X`` (one example: stochastic; several: a mini-batch).

        Returns the layers, deltas and weight deltas, all computed from the weights as they
        were before this update.
        """
        rows, targets = self._data(X, y)
        alpha = check.check_alpha(alpha)
        engine = resolve(backend)
        saved = self._snapshot()
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked below
            layers = engine.forward(self._weights, rows, self._relu)
            deltas = engine.deltas(self._weights, layers, targets, self._relu)
            weight_deltas = engine.weight_deltas(layers, deltas)
            errors = engine.example_errors(layers[-1], targets)
            trace = StepTrace(layers, deltas, weight_deltas, errors)
            engine.update(self._weights, weight_deltas, alpha)
        if not check.all_finite(self._buffer):
            self._restore(saved)
            raise DivergenceError(0, trace.error)
        return trace

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        alpha: float,
        epochs: int,
        batch_size: int | None = 1,
        backend: str | None = None,
    ) -> History:
        """Train for ``epochs`` passes over the rows in order.

        ``batch_size=1`` is the chapter's stochastic gradient descent, an integer ``b`` is
        mini-batch descent (the average weight delta of ``b`` consecutive rows), ``None``
        is full-batch descent. Runs every epoch inside the selected backend's fused loop.
        If the error or a weight becomes inf/NaN, raises :class:`DivergenceError` and the
        network keeps the weights it had before this call.
        """
        # _fit_args, _snapshot and _train inline: on the book network all of fit() but the
        # training loop takes about as long as the loop itself, so every call counts
        engine = resolve(backend)
        rows, targets = self._data(X, y)
        alpha = check.check_alpha(alpha)
        epochs = check.check_int(epochs, "epochs", minimum=0)
        batch_size = check.check_batch_size(batch_size, rows.shape[0])
        saved = self._buffer.copy()
        errors = engine.train(self._weights, rows, targets, alpha, epochs, batch_size, self._relu)
        if len(errors) < epochs or not check.all_finite(self._buffer):
            self._restore(saved)
            raise DivergenceError(len(errors) - 1, float(errors[-1]))
        return History._of(errors, alpha, epochs, batch_size, engine.name)

    # -- internals shared with grokprop.verify ------------------------------------------------
    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        rows = check.as_matrix(X, "X", self._dtype, columns=self._sizes[0])
        targets = check.as_matrix(y, "y", self._dtype, columns=self._sizes[-1])
        if rows.shape[0] != targets.shape[0]:
            check.check_rows(rows, targets)
        return rows, targets

    def _fit_args(
        self, X: ArrayLike, y: ArrayLike, alpha: Any, epochs: Any, batch_size: Any
    ) -> _FitArgs:
        rows, targets = self._data(X, y)
        return _FitArgs(
            rows,
            targets,
            check.check_alpha(alpha),
            check.check_int(epochs, "epochs", minimum=0),
            check.check_batch_size(batch_size, rows.shape[0]),
        )

    def _train(self, engine: Backend, args: _FitArgs) -> FloatArray:
        return engine.train(
            self._weights, args.X, args.y, args.alpha, args.epochs, args.batch_size, self._relu
        )

    # The weights are views into one buffer: a fit saves, checks and restores all of them
    # with one NumPy call each, which matters for the chapter's tiny networks.
    def _snapshot(self) -> FloatArray:
        saved: FloatArray = self._buffer.copy()
        return saved

    def _restore(self, saved: FloatArray) -> None:
        np.copyto(self._buffer, saved)


_ALIGNMENT = 64  # bytes: a cache line, and the widest vector the C++ kernels load


def _pack(
    matrices: list[NDArray[np.floating]], dtype: np.dtype[np.floating]
) -> tuple[NDArray[np.floating], list[NDArray[np.floating]]]:
    """Copy ``matrices`` into one zero-padded buffer; return it and C-contiguous views.

    Each matrix starts on a 64-byte boundary, so the compiled kernels' vector loads of
    a row never straddle cache lines needlessly.
    """
    step = _ALIGNMENT // dtype.itemsize
    offsets = []
    total = 0
    for matrix in matrices:
        offsets.append(total)
        total += -(-matrix.size // step) * step
    raw = np.zeros(total + step, dtype=dtype)
    start = (-raw.ctypes.data % _ALIGNMENT) // dtype.itemsize
    buffer = raw[start : start + total]
    views = []
    for matrix, offset in zip(matrices, offsets):
        view = buffer[offset : offset + matrix.size].reshape(matrix.shape)
        view[...] = matrix
        views.append(view)
    return buffer, views


def _own_weights(weights: Any, dtype: np.dtype[np.floating]) -> list[NDArray[np.floating]]:
    """User weights as C-contiguous matrices of ``dtype``, checking shapes and values."""
    if isinstance(weights, np.ndarray) and weights.ndim in (1, 2):
        matrices: list[Any] = [weights.reshape(-1, 1) if weights.ndim == 1 else weights]
    elif (
        isinstance(weights, (list, tuple))
        and weights
        and all(isinstance(w, numbers.Real) for w in weights)
    ):
        matrices = [np.asarray(weights).reshape(-1, 1)]  # the chapter's weight vector
    elif isinstance(weights, (list, tuple)):
        matrices = list(weights)
    else:
        raise TypeError(
            "weights must be a list of 2-D matrices (n_l, n_l+1) or a 1-D weight vector, "
            f"got {type(weights).__name__}"
        )
    if not matrices:
        raise ValueError("weights must hold at least one matrix")
    owned: list[NDArray[np.floating]] = []
    for l, matrix in enumerate(matrices):
        array = check.as_matrix(matrix, f"weights[{l}]", dtype)  # _pack copies it
        if owned and owned[-1].shape[1] != array.shape[0]:
            raise ValueError(
                f"weights[{l}] has shape {array.shape} but weights[{l - 1}] has "
                f"{owned[-1].shape}: rows of each matrix must equal the previous one's columns"
            )
        owned.append(array)
    return owned
