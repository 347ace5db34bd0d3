"""The explorer's state without any widget: a network, its data, where it started, what it
did (docs/design.md, "The explorer").

:class:`ExplorerState` is what the buttons act on; the widgets (``_widgets.py``) only show
it. Every action is a plain :class:`grokprop.Network` call, so what the explorer displays
is what ``Network.step`` / ``Network.fit`` return, bit for bit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from ..experiments.pressure import pressure_signs
from ..explain import trace_explanation
from ..network import StepTrace
from ..setups import Setup
from ..verify import VerifyReport, verify

#: A long training runs in chunks of about this many seconds: the stop button and the
#: display are served between two chunks.
CHUNK_SECONDS = 0.1


@dataclass(frozen=True)
class LastStep:
    """The last *step*: its trace, the weights before it, the rows it used and its
    explanation (:func:`grokprop.explain.trace_explanation`)."""

    trace: StepTrace
    before: list[FloatArray]
    rows: slice
    explanation: str


# the settings that define the network: changing one builds a new network (the others --
# alpha, batch_size, epochs -- change how training goes on from the current weights)
STRUCTURAL = ("data", "function", "inputs", "X", "y", "hidden", "activation", "seed")


class ExplorerState:
    """A network built from a :class:`~grokprop.setups.Setup`, trained by steps and epochs.

    ``errors`` holds every epoch's error since the start (or the last rewind); *step*
    updates on the next batch of rows in order (row by row for stochastic descent) and an
    epoch always runs a whole pass from row 0, as :meth:`Network.fit` does.
    """

    def __init__(self, setup: Setup | None = None, *, backend: str | None = None) -> None:
        self.backend = backend
        self.lock = threading.RLock()  # a training thread and the buttons take turns
        self._configure(setup or Setup())

    # -- setup ------------------------------------------------------------------------------
    def _configure(self, setup: Setup) -> None:
        self.setup = setup
        self.X, self.y = setup.data_arrays()
        self.net = setup.network()
        self.start = [w.copy() for w in self.net.weights]
        self._reset_progress()

    def _reset_progress(self) -> None:
        self._error_chunks: list[FloatArray] = []  # one array per fit: 8 bytes an epoch
        self.next_batch = 0
        self.steps = 0
        self.last_step: LastStep | None = None

    def apply(self, setup: Setup) -> bool:
        """Use ``setup``; a new network (from its seed) if a structural field changed.
        Returns whether the network was rebuilt."""
        with self.lock:
            rebuild = any(getattr(setup, f) != getattr(self.setup, f) for f in STRUCTURAL)
            if rebuild:
                self._configure(setup)
            else:
                self.setup = setup
                self.next_batch = 0 if self.next_batch >= len(self.batches) else self.next_batch
            return rebuild

    @property
    def errors(self) -> FloatArray:
        """Every epoch's error since the start or the last rewind, in order (a new array)."""
        with self.lock:
            if len(self._error_chunks) > 1:  # joined once, so that the next call is cheap
                self._error_chunks = [np.concatenate(self._error_chunks)]
            return self._error_chunks[0].copy() if self._error_chunks else np.zeros(0)

    @property
    def batches(self) -> list[slice]:
        """The rows of each update of an epoch, in order."""
        rows = len(self.X)
        size = self.setup.batch_size or rows
        return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]

    # -- actions ----------------------------------------------------------------------------
    def step(self) -> LastStep:
        """One update on the next batch of rows (``Network.step``)."""
        with self.lock:
            rows = self.batches[self.next_batch]
            before = [w.copy() for w in self.net.weights]
            X, y = self.X[rows], self.y[rows]
            trace = self.net.step(X, y, alpha=self.setup.alpha, backend=self.backend)
            text = trace_explanation(
                trace,
                weights=before,
                alpha=self.setup.alpha,
                goal=y,
                activation=self.net.activation,
            )
            self.last_step = LastStep(trace, before, rows, text)
            self.steps += 1
            self.next_batch = (self.next_batch + 1) % len(self.batches)
            return self.last_step

    def fit(self, epochs: int) -> FloatArray:
        """``epochs`` epochs (``Network.fit``); their errors are appended to :attr:`errors`."""
        with self.lock:
            history = self.net.fit(
                self.X,
                self.y,
                alpha=self.setup.alpha,
                epochs=epochs,
                batch_size=self.setup.batch_size,
                backend=self.backend,
                progress=False,
            )
            self._error_chunks.append(history.errors)
            self.next_batch = 0
            return history.errors

    def train(
        self,
        epochs: int,
        *,
        stop: threading.Event,
        on_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """``epochs`` epochs in chunks of about :data:`CHUNK_SECONDS`, checking ``stop``
        between chunks and calling ``on_chunk(epochs_done)`` after each. The chunks give
        the bits one ``fit(epochs=epochs)`` gives (every fit starts at row 0 from the
        weights the last one left). Returns the epochs run."""
        done, chunk = 0, 1
        while done < epochs and not stop.is_set():
            n = min(chunk, epochs - done)
            began = time.perf_counter()
            self.fit(n)
            elapsed = time.perf_counter() - began
            done += n
            if on_chunk is not None:
                on_chunk(done)
            # the next chunk lasts about CHUNK_SECONDS (at most 4x this one's epochs)
            chunk = max(1, min(4 * n, int(n * CHUNK_SECONDS / max(elapsed, 1e-6))))
        return done

    def rewind(self) -> None:
        """Back to the starting weights (the seed's), with no epoch or step done."""
        with self.lock:
            self.net.set_weights(self.start)
            self._reset_progress()

    def new_seed(self, seed: int | None = None) -> Setup:
        """A new network from ``seed`` (default: the next seed)."""
        with self.lock:
            self._configure(self.setup.replace(seed=self.setup.seed + 1 if seed is None else seed))
            return self.setup

    def verify(self) -> VerifyReport:
        """``gp.verify`` on the current weights, data and training settings."""
        with self.lock:
            return verify(
                self.net,
                self.X,
                self.y,
                alpha=self.setup.alpha,
                epochs=self.setup.epochs,
                batch_size=self.setup.batch_size,
                progress=False,
            )

    # -- what is shown ----------------------------------------------------------------------
    def pressure(self) -> list[np.ndarray]:
        """Per weight matrix ``l``, ``(m, n_l, n_{l+1})``: which way each example pushes each
        weight at the current weights (:func:`grokprop.experiments.pressure.pressure_signs`
        of each layer and the next layer's deltas, from a full-batch step on a copy)."""
        with self.lock:
            copy = self.net.copy()
        trace = copy.step(self.X, self.y, alpha=self.setup.alpha, backend=self.backend)
        return [pressure_signs(trace.layers[l], trace.deltas[l]) for l in range(len(trace.deltas))]

    @property
    def weight_names(self) -> list[tuple[str, tuple[int, int, int]]]:
        """``("weights_0_1[2, 0]", (0, 2, 0))`` for every weight, in order."""
        return [
            (f"weights_{l}_{l + 1}[{i}, {j}]", (l, i, j))
            for l, w in enumerate(self.net.weights)
            for i in range(w.shape[0])
            for j in range(w.shape[1])
        ]
