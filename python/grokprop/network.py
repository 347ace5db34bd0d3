"""The network users hold: sizes, activation, dtype and the weights it owns.

Every public method here is on the validation boundary (docs/design.md, "Validation"): it
converts and checks its arguments once, into arrays and a :class:`grokprop.specs.TrainSpec`,
and hands them to the selected backend, which checks nothing more. A fit or a step is a
transaction (docs/design.md, "Divergence"): if it diverges, the weights are restored.
"""

from __future__ import annotations

import math
import numbers
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _interrupt, _persist, _progress
from . import _validation as check
from ._typing import FloatArray
from ._weights import WeightBuffer, WeightMatrices, book_weights
from .backends import REFERENCE, REGISTRY, Backend, backend_info, resolve
from .backends._protocol import (
    Outcome,
    StepArrays,
    last_error_finite,
    sequential_sum,
    transaction,
)
from .errors import DivergenceError
from .specs import Activation, TrainSpec, as_float_dtype

__all__ = ["History", "Network", "StepTrace"]


@dataclass(frozen=True)
class History:
    """What :meth:`Network.fit` did: per-epoch errors and the settings that produced them."""

    errors: FloatArray
    alpha: float
    epochs: int
    batch_size: int
    backend: str

    def __len__(self) -> int:
        """The number of epochs run (``len(errors)``)."""
        return len(self.errors)

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
        network; setting the instance ``__dict__``'s entries gives the same object."""
        history = object.__new__(cls)
        fields = history.__dict__
        fields["errors"], fields["alpha"], fields["epochs"] = errors, alpha, epochs
        fields["batch_size"], fields["backend"] = batch_size, backend
        return history

    # display: the logic lives in grokprop._display and grokprop.figures
    def __repr__(self) -> str:
        from . import _display

        return _display.history_repr(self)

    def _repr_html_(self) -> str:
        from . import _display

        return _display.history_html(self)

    def draw(self, **options: Any) -> Any:
        """The error of every epoch on a log scale (a matplotlib ``Figure``; ``path=`` saves
        it), see :func:`grokprop.figures.error_curves`."""
        from . import figures

        return figures.error_curves({f"alpha {self.alpha:g}": self}, **options)


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
    activation: Activation | None = None
    """The hidden layers' activation (what :meth:`explain` and :meth:`draw` name)."""

    @classmethod
    def _of(cls, out: StepArrays, activation: Activation) -> StepTrace:
        """``StepTrace(*out, activation)`` without the frozen dataclass's per-field
        ``__init__`` (as :meth:`History._of`): a step on the book network is a few
        microseconds."""
        trace = object.__new__(cls)
        fields = trace.__dict__
        fields["layers"], fields["deltas"], fields["weight_deltas"], fields["errors"] = out
        fields["activation"] = activation
        return trace

    @property
    def prediction(self) -> FloatArray:
        return self.layers[-1]

    @property
    def error(self) -> float:
        """The summed error of the rows, in row order (as an epoch error is summed)."""
        return float(sequential_sum(self.errors))

    # display: the logic lives in grokprop._display, grokprop.figures and grokprop.explain
    def __repr__(self) -> str:
        from . import _display

        return _display.trace_repr(self)

    def _repr_html_(self) -> str:
        from . import _display

        return _display.trace_html(self)

    def explain(self, **options: Any) -> None:
        """Print each equation of this step with its numbers; pass ``weights=`` (from before
        the step) and ``alpha=`` for the update, see :func:`grokprop.explain.explain_trace`."""
        from .explain import explain_trace

        explain_trace(self, **options)

    def draw(self, **options: Any) -> Any:
        """The book's backpropagation figure, see :func:`grokprop.figures.step_figure`."""
        from . import figures

        return figures.step_figure(self, **options)


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
    weight_scale
        Multiplies the seeded initial weights: ``weight_scale * (2 * r - 1)``. The default 1
        is the chapter's initialisation (bit for bit); wide networks such as 784-128-10 need
        smaller weights (the book's MNIST chapter uses 0.1) or their training diverges.
    weights
        Explicit starting weights: a list of ``(n_l, n_{l+1})`` matrices, or a 1-D vector for a
        single-output network without hidden layers (the chapter's ``[0.5, 0.48, -0.7]``).
        They are copied; the network owns its arrays.
    dtype
        ``"float64"`` (default) or ``"float32"``; every operation runs in this precision.

    Threads: a network may be shared. Every method that reads or writes its weights
    (``fit``, ``step``, ``forward``/``predict``, ``copy``) holds the network's lock, so two
    threads fitting one network are serialized -- one whole fit after the other, never
    interleaved updates -- and a ``predict`` never sees a half-trained network. Different
    networks train in parallel (the compiled loops release the GIL).
    """

    def __init__(
        self,
        sizes: Sequence[int] | None = None,
        *,
        activation: str | Activation = "relu",
        seed: int | None = None,
        weights: Sequence[ArrayLike] | ArrayLike | None = None,
        dtype: Any = "float64",
        weight_scale: float = 1.0,
    ) -> None:
        self._dtype = as_float_dtype(dtype)
        self._activation = Activation.parse(activation)
        if weights is None:
            if sizes is None:
                raise TypeError("Network needs sizes (e.g. [3, 4, 1]) or weights")
            self._sizes = check.check_sizes(sizes)
            matrices = book_weights(
                self._sizes,
                check.check_seed(seed),
                self._dtype,
                check.check_positive(weight_scale, "weight_scale"),
            )
        else:
            if seed is not None or weight_scale != 1.0:
                raise ValueError("give either seed (and weight_scale) or weights, not both")
            matrices = _own_weights(weights, self._dtype)
            self._sizes = (matrices[0].shape[0], *(w.shape[1] for w in matrices))
            if sizes is not None and check.check_sizes(sizes) != self._sizes:
                raise ValueError(
                    f"sizes {list(sizes)} do not match the weights' shapes, which give "
                    f"{list(self._sizes)}"
                )
        self._weights = WeightBuffer(matrices, self._dtype)
        self._lock = threading.Lock()
        self._last_spec: tuple[tuple[Any, ...], TrainSpec] | None = None
        self._last_cost: tuple[TrainSpec, str, float] | None = None  # see _train_shown

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:  # pickle / copy.deepcopy: everything but the lock and the buffer
            state = self.__dict__.copy()
            state["_weights"] = self._weights.copies()
        del state["_lock"], state["_last_spec"], state["_last_cost"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        matrices = state.pop("_weights")
        self.__dict__.update(state)
        # a fresh aligned buffer (an unpickled buffer's alignment would be chance)
        self._weights = WeightBuffer(matrices, self._dtype)
        self._lock = threading.Lock()
        self._last_spec = self._last_cost = None

    # -- what the network is ---------------------------------------------------------------
    @property
    def sizes(self) -> tuple[int, ...]:
        return self._sizes

    @property
    def activation(self) -> str:
        """The hidden layers' activation by name (``"relu"`` or ``"linear"``)."""
        return self._activation.label

    @property
    def dtype(self) -> np.dtype[np.floating]:
        return self._dtype

    @property
    def weights(self) -> WeightMatrices:
        """The weight matrices the network owns: live views, updated in place by training.

        A tuple: ``net.weights[l][k, j] = v`` changes a weight, ``net.weights = [...]`` (or
        :meth:`set_weights`) replaces all of them; ``net.weights[l] = ...`` is a TypeError.
        """
        return WeightMatrices(self._weights.views)

    @weights.setter
    def weights(self, weights: Sequence[ArrayLike] | ArrayLike) -> None:
        self.set_weights(weights)

    def set_weights(self, weights: Sequence[ArrayLike] | ArrayLike) -> None:
        """Replace every weight, validated as the constructor validates ``weights=``.

        The shapes must be the network's (``sizes`` stay); the values are copied into the
        network's own arrays, so views taken earlier from :attr:`weights` see them.
        """
        matrices = _own_weights(weights, self._dtype)
        shapes = [w.shape for w in matrices]
        if shapes != self._weights.shapes:
            raise ValueError(
                f"weights must have the network's shapes {self._weights.shapes} "
                f"(sizes {list(self._sizes)}), got {shapes}"
            )
        with self._lock:
            for view, matrix in zip(self._weights.views, matrices):
                np.copyto(view, matrix)

    def copy(self) -> Network:
        """An independent network with the same sizes, activation, dtype and weights."""
        with self._lock:
            self._weights.check_views(writeable=False)
            return Network(
                weights=self._weights.views, activation=self._activation, dtype=self._dtype
            )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write sizes, activation, dtype and weights to ``path`` (an ``.npz`` file).

        The file is written exactly at ``path``; :meth:`load` gives back the same bits.
        A fit running in another thread finishes first (the network's lock), so the file
        holds the network before or after it, never a mix.
        """
        with self._lock:  # a consistent copy; the file is written without holding the lock
            weights = self._weights.copies()
        _persist.write_network(path, self._sizes, self._activation, self._dtype, weights)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Network:
        """The network :meth:`save` wrote to ``path``.

        Raises ``ValueError`` naming the file and what is wrong when it is not such a file
        (anything but a regular file is refused before it is opened), ``MemoryError`` for
        a network larger than this machine's memory.
        """
        activation, dtype, weights = _persist.read_network(path)
        return cls(weights=weights, activation=activation, dtype=dtype)

    @classmethod
    def from_setup(cls, setup: Any) -> Network:
        """The untrained network a shareable setup describes: a :class:`grokprop.Setup`, its
        document (a dict) or its JSON text (see :mod:`grokprop.setups`)."""
        from .setups import Setup

        return Setup.coerce(setup).network()

    # -- using it --------------------------------------------------------------------------
    def forward(self, X: ArrayLike, *, backend: str | None = None) -> list[FloatArray]:
        """Every layer's output for the rows of ``X``: ``[layer_0, ..., layer_L]``."""
        engine = resolve(backend)
        rows = check.as_matrix(X, "X", self._dtype, columns=self._sizes[0])
        with self._lock:
            self._weights.check_views(writeable=False)
            return engine.forward(self._weights.views, rows, self._activation)

    def predict(self, X: ArrayLike, *, backend: str | None = None) -> FloatArray:
        """The output layer for the rows of ``X``, shape ``(rows, n_L)``."""
        return self.forward(X, backend=backend)[-1]

    def step(
        self, X: ArrayLike, y: ArrayLike, *, alpha: float, backend: str | None = None
    ) -> StepTrace:
        """One update from the rows of ``X`` (one example: stochastic; several: a mini-batch).

        Returns the layers, deltas and weight deltas, all computed from the weights as they
        were before this update. If the error or a weight becomes inf/NaN, raises
        :class:`DivergenceError` (epoch 0) and the weights stay as they were.
        """
        engine = resolve(backend)
        # converted before taking the lock: an array-like's __array__ may use this network
        rows, targets = self._data(X, y)
        alpha = check.check_alpha(alpha, self._dtype)
        with self._lock:
            weights = self._weights
            weights.check_trainable()
            rows, targets = weights.detached(rows), weights.detached(targets)
            out, outcome = engine.step_transaction(
                weights.buffer, weights.views, rows, targets, alpha, self._activation
            )
            trace = StepTrace._of(out, self._activation)
            if outcome:
                self._refuse(outcome, 0, trace.error)
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
        progress: bool | None = None,
    ) -> History:
        """Train for ``epochs`` passes over the rows in order.

        ``batch_size=1`` is the chapter's stochastic gradient descent, an integer ``b`` is
        mini-batch descent (the average weight delta of ``b`` consecutive rows), ``None``
        is full-batch descent. Runs every epoch inside the selected backend's fused loop.
        If the error or a weight becomes inf/NaN, raises :class:`DivergenceError` naming the
        epoch, and the network keeps the weights it had before this call.

        Divergence costs almost nothing when it does not happen: one copy of the weights
        per call (the snapshot), the compiled loop tests each epoch's error once and stops
        at the first non-finite one, and one ``isfinite`` pass over the weights at the end.

        ``progress=True`` shows a progress bar (tqdm, on stderr) and ``False`` never does;
        ``None`` shows one only when stderr is a terminal and the fit is expected to take
        more than a second. The results are the same bits either way.
        """
        # on the book network all of fit() but the training loop takes about as long as the
        # loop itself, so every call here counts (see BENCHMARKS.md)
        engine = resolve(backend)
        # converted before taking the lock: an array-like's __array__ may use this network
        rows, targets, spec = self._fit_args(X, y, alpha, epochs, batch_size)
        with self._lock:
            weights = self._weights
            weights.check_trainable()
            rows, targets = weights.detached(rows), weights.detached(targets)
            seconds = self._expected_seconds(engine, spec, len(rows))
            if seconds < _interrupt.INLINE_SECONDS and not _progress.wanted(progress, seconds):
                # a short fit, no bar, no stop flag: the backend's transaction (on cpp one
                # compiled call, a third of the book network's fit)
                errors, outcome = engine.train_transaction(
                    weights.buffer, weights.views, rows, targets, spec
                )
            else:
                errors, outcome = transaction(
                    weights.buffer,
                    lambda: self._train_shown(engine, rows, targets, spec, progress, desc="fit"),
                    last_error_finite,
                )
            if outcome:
                self._refuse(
                    outcome, len(errors) - 1, float(errors[-1]) if len(errors) else math.nan
                )
            return History._of(errors, spec.alpha, spec.epochs, spec.batch_size, engine.name)

    def _refuse(self, outcome: Outcome, epoch: int, error: float) -> NoReturn:
        """Raise for a transaction that did not commit (the weights are restored)."""
        if outcome is Outcome.NOT_FINITE_BEFORE:  # not a divergence: they came in non-finite
            self._weights.check_views(writeable=True)  # the ValueError naming the matrix
        raise DivergenceError(epoch, error)

    # -- internals shared with grokprop.verify ------------------------------------------------
    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``X`` and ``y`` converted and checked (not yet ``WeightBuffer.detached``)."""
        sizes = self._sizes
        return check.as_data(X, y, self._dtype, sizes[0], sizes[-1])

    def _fit_args(
        self, X: ArrayLike, y: ArrayLike, alpha: Any, epochs: Any, batch_size: Any
    ) -> tuple[FloatArray, FloatArray, TrainSpec]:
        """The data and the spec of a fit, validated (also used by :func:`grokprop.verify`)."""
        rows, targets = self._data(X, y)
        # the spec of the last fit is reused when the same settings come again (a spec is
        # immutable and was validated when made): refitting the book network is common, and
        # making a spec costs as much as a tenth of its training
        key = (alpha, type(alpha), epochs, type(epochs), batch_size, type(batch_size), len(rows))
        cached = self._last_spec
        if cached is not None and cached[0] == key:
            return rows, targets, cached[1]
        spec = TrainSpec.create(
            alpha=alpha,
            epochs=epochs,
            batch_size=batch_size,
            rows=rows.shape[0],
            activation=self._activation,
            dtype=self._dtype,
        )
        check.check_memory(
            spec.epochs * self._dtype.itemsize, f"epochs={spec.epochs} (one error per epoch)"
        )
        self._last_spec = (key, spec)
        return rows, targets, spec

    def _expected_seconds(self, engine: Backend, spec: TrainSpec, rows: int) -> float:
        """The backend's cost model's estimate of a training by ``spec`` on ``rows`` rows."""
        # the estimate depends only on the backend and the spec (which fixes the rows), so
        # a refit with the same settings reuses the last one (a tenth of a book fit's time)
        cached = self._last_cost
        if cached is not None and cached[0] is spec and cached[1] == engine.name:
            return cached[2]
        # an unregistered flavour (numpy-blas) costs about what the reference costs
        info = REGISTRY.get(engine.name) or backend_info(REFERENCE)
        seconds = _progress.expected_fit_seconds(
            info, self._sizes, rows, spec.epochs, spec.batch_size
        )
        self._last_cost = (spec, engine.name, seconds)
        return seconds

    def _train_shown(
        self,
        engine: Backend,
        rows: FloatArray,
        targets: FloatArray,
        spec: TrainSpec,
        progress: bool | None,
        *,
        desc: str,
    ) -> FloatArray:
        """:meth:`_train`, in chunks under a progress bar when ``progress`` asks for one
        (``None``: a long run on a terminal); the chunks give the same bits as one call.
        ``desc`` starts the bar's label ("fit", "verify cpp"); the sizes follow it."""
        seconds = self._expected_seconds(engine, spec, len(rows))
        if progress is False or not _progress.wanted(progress, seconds):
            return self._train(engine, rows, targets, spec, seconds)
        per_epoch = seconds / max(spec.epochs, 1)
        return _progress.run_in_chunks(
            lambda n: self._train(engine, rows, targets, spec.with_epochs(n), n * per_epoch),
            spec.epochs,
            desc=f"{desc} {list(self._sizes)}",
        )

    def _train(
        self,
        engine: Backend,
        rows: FloatArray,
        targets: FloatArray,
        spec: TrainSpec,
        seconds: float = 0.0,
    ) -> FloatArray:
        """``engine.train`` on this network's weights; a run expected to take ``seconds`` or
        longer on a backend that polls a stop flag answers Ctrl-C (grokprop._interrupt)."""
        if seconds < _interrupt.INLINE_SECONDS:
            return engine.train(self._weights.views, rows, targets, spec)
        info = REGISTRY.get(engine.name)  # None for an unregistered flavour (numpy-blas)
        if info is None or not info.polls_stop:
            return engine.train(self._weights.views, rows, targets, spec)
        views = self._weights.views
        return _interrupt.run(
            lambda stop: engine.train(views, rows, targets, spec, stop), expected_seconds=seconds
        )

    # display: the logic lives in grokprop._display and grokprop.figures
    def __repr__(self) -> str:
        from . import _display

        return _display.network_repr(self)

    def _repr_html_(self) -> str:
        from . import _display

        return _display.network_html(self)

    def draw(self, **options: Any) -> Any:
        """The network as the book draws it, see :func:`grokprop.figures.network_figure`."""
        from . import figures

        return figures.network_figure(self, **options)


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
        array = check.as_matrix(matrix, f"weights[{l}]", dtype)  # WeightBuffer copies it
        if owned and owned[-1].shape[1] != array.shape[0]:
            raise ValueError(
                f"weights[{l}] has shape {array.shape} but weights[{l - 1}] has "
                f"{owned[-1].shape}: rows of each matrix must equal the previous one's columns"
            )
        owned.append(array)
    return owned
