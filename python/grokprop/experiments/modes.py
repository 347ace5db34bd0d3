"""Stochastic, mini-batch and full gradient descent on the streetlights."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _display, datasets
from .. import _validation as check
from .._typing import FloatArray
from ..chapter6 import BOOK_WEIGHTS
from ..network import Network
from ..specs import Activation
from ..sweep import SweepResult, sweep
from ._common import (
    CONVERGED,
    FIRST_SEED,
    Data,
    PathLike,
    check_threshold,
    network_label,
    seed_range,
)
from ._table import columns, g, percent

__all__ = ["DEFAULTS", "ModeRun", "ModesDefaults", "ModesResult", "modes"]


def _book_alphas() -> dict[Data, float]:
    return {"linear": 0.1, "nonlinear": 0.2}


@dataclass(frozen=True)
class ModesDefaults:
    """The defaults of :func:`modes` and of ``grokprop modes``.

    ``batch_sizes``: ``None`` is full batch. ``alphas``: the learning rate of each problem's
    book network (programs 2 and 5), used when ``alpha`` is not given.
    """

    data: Data = "linear"
    batch_sizes: tuple[int | None, ...] = (1, 2, 3, None)
    n_seeds: int = 1000
    epochs: int = 1000
    alphas: Mapping[Data, float] = field(default_factory=_book_alphas)


DEFAULTS = ModesDefaults()


def _epochs_to_reach(curves: FloatArray, threshold: float) -> NDArray[np.int64]:
    """Per curve, the first epoch (counting from 1) whose error is below ``threshold``; 0 if none."""
    below = np.asarray(curves) < threshold
    if below.shape[-1] == 0:  # no epochs: nothing was reached (and argmax has nothing to scan)
        return np.zeros(below.shape[:-1], dtype=np.int64)
    return np.where(below.any(axis=-1), below.argmax(axis=-1) + 1, 0)


@dataclass(frozen=True, repr=False)
class ModeRun(_display.ShortRepr):
    """One update mode: the chapter's starting network, and the same over many seeds."""

    label: str
    batch_size: int
    updates_per_epoch: int
    errors: FloatArray
    """Every epoch's error of the chapter's network (the book's start) in this mode."""
    seeds: SweepResult
    """The same training from the book initialisation of each seed (with curves)."""

    def epochs_to_converge(self, threshold: float = CONVERGED) -> int:
        """The first epoch whose error is below ``threshold`` (0: never)."""
        return int(_epochs_to_reach(self.errors, threshold))

    def seed_epochs_to_converge(self, threshold: float = CONVERGED) -> NDArray[np.int64]:
        assert self.seeds.curves is not None
        return _epochs_to_reach(self.seeds.curves, threshold)


@dataclass(frozen=True, repr=False)
class ModesResult(_display.TableDisplay):
    """Stochastic vs mini-batch vs full gradient descent on one problem."""

    runs: list[ModeRun]
    network: str
    data: str
    alpha: float
    epochs: int
    threshold: float

    def __getitem__(self, batch_size: int) -> ModeRun:
        """The run with this batch size (labels repeat: several sizes are mini-batch)."""
        for run in self.runs:
            if run.batch_size == batch_size:
                return run
        raise KeyError(
            f"no run of batch size {batch_size}; sizes are {[r.batch_size for r in self.runs]}"
        )

    def table(self) -> str:
        n_seeds = len(self.runs[0].seeds)
        head = [
            (
                f"Gradient descent modes: {self.network} on the {self.data} streetlights, alpha "
                f"{self.alpha:g}, up to {self.epochs} epochs."
            ),
            (
                f"converged = epoch error < {self.threshold:g}. 'book start': the chapter's network; "
                f"'{n_seeds} seeds': the book initialisation"
            ),
            "of each seed (epochs to converge: median over the seeds that converge).",
            "",
        ]
        rows = [
            [
                "mode",
                "batch",
                "updates/epoch",
                "book start: epochs",
                "updates",
                "final error",
                f"{n_seeds} seeds: converged",
                "epochs",
            ]
        ]
        for run in self.runs:
            epochs = run.epochs_to_converge(self.threshold)
            reached = run.seed_epochs_to_converge(self.threshold)
            reached = reached[reached > 0]
            rows.append(
                [
                    run.label,
                    str(run.batch_size),
                    str(run.updates_per_epoch),
                    str(epochs) if epochs else "never",
                    str(epochs * run.updates_per_epoch) if epochs else "-",
                    g(float(run.errors[-1])) if run.errors.size else "-",
                    percent(reached.size / len(run.seeds)),
                    g(float(np.median(reached)), 4) if reached.size else "-",
                ]
            )
        return "\n".join(head + columns(rows))

    def plot(self, path: PathLike) -> Path:
        """The error curve of the chapter's network in every mode, written to ``path``.

        Returns the file written: ``path``, with ``.png`` added if it has no extension.
        """
        from ..plot import error_curves, figure_path

        written = figure_path(path)

        error_curves(
            {f"{run.label} (batch {run.batch_size})": run.errors for run in self.runs},
            path=written,
            title=f"{self.network} on the {self.data} streetlights, alpha {self.alpha:g}",
            threshold=self.threshold,
        )
        return written


def _batch_sizes(batch_sizes: Any, rows: int) -> list[int]:
    """Each batch size checked (``None``: full batch, ``rows``), before anything trains."""
    if isinstance(batch_sizes, (str, bytes)) or not isinstance(batch_sizes, Iterable):
        raise TypeError(
            f"batch_sizes must be a sequence of batch sizes (None: full batch), got {batch_sizes!r}"
        )
    sizes = [check.check_batch_size(size, rows) for size in batch_sizes]
    if not sizes:
        raise ValueError(f"batch_sizes must hold at least one batch size, got {batch_sizes!r}")
    return sizes


def _book_network(data: Data) -> Network:
    """The chapter's network for the problem: program 2's linear one, program 5's relu one."""
    if data == "linear":
        return Network(weights=BOOK_WEIGHTS, activation=Activation.LINEAR)
    return Network([3, 4, 1], seed=1, activation=Activation.RELU)


def modes(
    data: Data = DEFAULTS.data,
    *,
    batch_sizes: Sequence[int | None] = DEFAULTS.batch_sizes,
    n_seeds: int = DEFAULTS.n_seeds,
    first_seed: int = FIRST_SEED,
    alpha: float | None = None,
    epochs: int = DEFAULTS.epochs,
    threshold: float = CONVERGED,
    backend: str | None = None,
    progress: bool | None = None,
) -> ModesResult:
    """Train the chapter's network with each batch size (``None``: full batch).

    ``data="linear"``: the linear network from ``[0.5, 0.48, -0.7]`` on the six
    streetlights (alpha 0.1, program 2); ``"nonlinear"``: ``[3, 4, 1]`` relu from seed 1
    on the four nonlinear streetlights (alpha 0.2, program 5). The same training also
    runs from the book initialisation of ``n_seeds`` seeds.
    """
    # every argument is checked before the first network trains
    X, y = datasets.streetlights(data)
    sizes = _batch_sizes(batch_sizes, len(X))
    rate = check.check_positive(DEFAULTS.alphas[data] if alpha is None else alpha, "alpha")
    epochs = check.check_int(epochs, "epochs", minimum=0)
    threshold = check_threshold(threshold)
    seeds = seed_range(n_seeds, first_seed)
    book = _book_network(data)
    runs = []
    for size in sizes:
        label = "stochastic" if size == 1 else "full" if size == len(X) else "mini-batch"
        history = book.copy().fit(
            X, y, alpha=rate, epochs=epochs, batch_size=size, backend=backend, progress=progress
        )
        result = sweep(
            book.sizes,
            X,
            y,
            seeds=seeds,
            alphas=rate,
            epochs=epochs,
            activation=book.activation,
            batch_size=size,
            backend=backend,
            curves=True,
            progress=progress,
        )
        runs.append(ModeRun(label, size, -(-len(X) // size), history.errors, result))
    network = network_label(book.sizes, Activation.parse(book.activation))
    return ModesResult(runs, network, data, rate, epochs, threshold)
