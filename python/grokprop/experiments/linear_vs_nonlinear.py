"""The deep network with and without relu, and one without hidden layer, over many seeds."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _display, datasets
from .. import _validation as check
from ..backends import resolve
from ..specs import Activation
from ..sweep import SweepResult, sweep
from ._common import (
    CONVERGED,
    FIRST_SEED,
    QUANTILE_NAMES,
    QUANTILES,
    PathLike,
    by_label,
    check_threshold,
    network_label,
    order_statistics,
    seed_range,
)
from ._table import columns, percent, quantile_cells, seed_span

__all__ = [
    "DEFAULTS",
    "ConvergenceRow",
    "LinearVsNonlinearDefaults",
    "LinearVsNonlinearResult",
    "linear_vs_nonlinear",
]


@dataclass(frozen=True)
class LinearVsNonlinearDefaults:
    """The defaults of :func:`linear_vs_nonlinear` and of ``grokprop linear-vs-nonlinear``:
    the chapter's program 5 settings, over many seeds."""

    n_seeds: int = 10_000
    alpha: float = 0.2
    epochs: int = 60
    hidden: int = 4
    activations: tuple[Activation, ...] = (Activation.RELU,)


DEFAULTS = LinearVsNonlinearDefaults()


@dataclass(frozen=True, repr=False)
class ConvergenceRow(_display.ShortRepr):
    """One kind of network over many seeds."""

    label: str
    result: SweepResult

    def converged_fraction(self, threshold: float = CONVERGED) -> float:
        return float(np.mean(self.result.converged(threshold)))

    def quantiles(self) -> NDArray[np.float64]:
        """Final-error quantiles (:data:`QUANTILES`); a diverged network counts as inf."""
        return order_statistics(self.result.final_errors, QUANTILES)


@dataclass(frozen=True, repr=False)
class LinearVsNonlinearResult(_display.TableDisplay):
    """The deep network with and without relu, and one without hidden layer, over seeds."""

    rows: list[ConvergenceRow]
    seeds: range
    alpha: float
    epochs: int
    threshold: float
    seconds: float
    """Wall time of the sweeps (all rows)."""

    def __getitem__(self, label: str) -> ConvergenceRow:
        return by_label(self.rows, label)

    def table(self) -> str:
        first = self.rows[0].result
        head = [
            (
                f"Linear vs nonlinear: the nonlinear streetlights, {len(self.seeds)} seeds "
                f"({seed_span(self.seeds)}), alpha {self.alpha:g}, {self.epochs} epochs, "
                "stochastic."
            ),
            (
                f"converged = final error < {self.threshold:g}; quantiles of the final error over "
                "the seeds."
            ),
            "",
        ]
        rows = [["network", "converged", "diverged", *QUANTILE_NAMES]]
        rows += [
            [
                row.label,
                percent(row.converged_fraction(self.threshold)),
                str(int(row.result.diverged.sum())),
                # without epochs there is no final error (NaN), which is not a divergence
                *(quantile_cells(row.result.final_errors) if self.epochs else ["-"] * 5),
            ]
            for row in self.rows
        ]
        foot = [
            "",
            (
                f"{len(self.rows) * len(self.seeds)} networks trained in {self.seconds:.3f} s on "
                f"the {first.backend} backend."
            ),
        ]
        return "\n".join(head + columns(rows) + foot)

    def plot(self, path: PathLike) -> Path:
        """A histogram of the final errors of each kind of network, written to ``path``.

        Returns the file written: ``path``, with ``.png`` added if it has no extension.
        """
        from ..plot import convergence_histogram, figure_path

        written = figure_path(path)

        convergence_histogram(
            {row.label: row.result.final_errors for row in self.rows},
            path=written,
            title=f"Nonlinear streetlights: final error after {self.epochs} epochs, "
            f"{len(self.seeds)} seeds",
            threshold=self.threshold,
        )
        return written


def linear_vs_nonlinear(
    n_seeds: int = DEFAULTS.n_seeds,
    *,
    first_seed: int = FIRST_SEED,
    alpha: float = DEFAULTS.alpha,
    epochs: int = DEFAULTS.epochs,
    hidden: int = DEFAULTS.hidden,
    activations: Sequence[Any] = DEFAULTS.activations,
    threshold: float = CONVERGED,
    backend: str | None = None,
    progress: bool | None = None,
) -> LinearVsNonlinearResult:
    """Train ``[3, hidden, 1]`` with relu, the same network linear, and ``[3, 1]``.

    ``activations``: the nonlinear rows, one ``[3, hidden, 1]`` row per activation (names or
    :class:`~grokprop.Activation`), in the order given, e.g. ``("relu", "sigmoid", "tanh")``;
    the linear rows always follow.

    Every kind of network is trained from the book initialisation of each seed in
    ``first_seed .. first_seed + n_seeds - 1`` on the nonlinear streetlights with the
    chapter's program 5 settings (alpha 0.2, 60 epochs, stochastic). Without relu the
    middle layer adds nothing — a product of matrices is one matrix — so the deep linear
    network fails like the network without hidden layer.
    """
    # every argument is checked before the first network trains
    X, y = datasets.streetlights("nonlinear")
    seeds = seed_range(n_seeds, first_seed)
    alpha = check.check_positive(alpha, "alpha")
    epochs = check.check_int(epochs, "epochs", minimum=0)
    hidden = check.check_int(hidden, "hidden", minimum=1)
    threshold = check_threshold(threshold)
    nonlinear = _nonlinear_activations(activations)
    networks = [
        *(((3, hidden, 1), activation) for activation in nonlinear),
        ((3, hidden, 1), Activation.LINEAR),
        ((3, 1), Activation.LINEAR),
    ]
    resolve(backend)  # load the backend first: the timing is of training, not of imports
    start = time.perf_counter()
    rows = [
        ConvergenceRow(
            network_label(sizes, activation),
            sweep(
                sizes,
                X,
                y,
                seeds=seeds,
                alphas=alpha,
                epochs=epochs,
                activation=activation.label,
                backend=backend,
                progress=progress,
            ),
        )
        for sizes, activation in networks
    ]
    seconds = time.perf_counter() - start
    return LinearVsNonlinearResult(rows, seeds, alpha, epochs, threshold, seconds)


def _nonlinear_activations(activations: Sequence[Any]) -> tuple[Activation, ...]:
    """The activations of the nonlinear rows: at least one, none twice, not linear."""
    if isinstance(activations, (str, Activation)):
        activations = [activations]
    parsed = tuple(Activation.parse(activation) for activation in activations)
    if not parsed or Activation.LINEAR in parsed or len(set(parsed)) < len(parsed):
        choices = [label for label in Activation.labels() if label != "linear"]
        raise ValueError(
            f"activations must be distinct names among {choices} (the linear rows are always "
            f"there), got {[str(a) for a in activations]}"
        )
    return parsed
