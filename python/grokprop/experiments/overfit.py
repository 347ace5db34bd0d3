"""Memorize vs generalize: networks trained on the first streetlights, scored on the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import _display, datasets
from .. import _validation as check
from .._typing import FloatArray
from ..backends.reference import stacked_errors
from ..specs import Activation
from ..sweep import SweepResult, sweep
from ._common import (
    CONVERGED,
    FIRST_SEED,
    PathLike,
    by_label,
    check_threshold,
    network_label,
    order_statistics,
    seed_range,
)
from ._table import columns, g, percent, seed_span

__all__ = [
    "DEFAULTS",
    "OverfitDefaults",
    "OverfitResult",
    "OverfitRow",
    "held_out_errors",
    "overfit",
]


@dataclass(frozen=True)
class OverfitDefaults:
    """The defaults of :func:`overfit` and of ``grokprop overfit``."""

    n_seeds: int = 10_000
    train_rows: int = 2
    alpha: float = 0.1
    epochs: int = 100


DEFAULTS = OverfitDefaults()


def held_out_errors(
    weights: Sequence[FloatArray], X: ArrayLike, Y: ArrayLike, activation: Activation | str
) -> FloatArray:
    """``(n,)`` the error of each of ``n`` networks of a sweep on the rows of ``X``.

    ``weights`` is a sweep's per-layer ``(n, n_l, n_{l+1})`` stack (``weights=True``). Each
    error has the bits of ``example_errors(Network(weights=...).predict(X), Y)`` summed
    row after row (the reference backend's :func:`~grokprop.backends.reference.stacked_errors`).
    """
    dtype = weights[0].dtype
    return stacked_errors(
        list(weights),
        np.asarray(X, dtype=dtype),
        np.asarray(Y, dtype=dtype),
        Activation.parse(activation),
    )


@dataclass(frozen=True, repr=False)
class OverfitRow(_display.ShortRepr):
    """One kind of network trained on the first rows only, over many seeds."""

    label: str
    result: SweepResult
    held_out: FloatArray
    """``(n,)`` each network's error on the rows it did not train on."""

    def memorized_fraction(self, threshold: float = CONVERGED) -> float:
        """The fraction whose training error fell below ``threshold``."""
        return float(np.mean(self.result.converged(threshold)))

    def generalized_fraction(self, threshold: float = CONVERGED) -> float:
        """The fraction whose error on the unseen rows is below ``threshold`` too."""
        return float(np.mean(self.result.converged(threshold) & (self.held_out < threshold)))


@dataclass(frozen=True, repr=False)
class OverfitResult(_display.TableDisplay):
    """Memorize vs generalize: train on the first rows, score on the others."""

    rows: list[OverfitRow]
    train_rows: int
    unseen_rows: int
    seeds: range
    alpha: float
    epochs: int
    threshold: float

    def __getitem__(self, label: str) -> OverfitRow:
        return by_label(self.rows, label)

    def table(self) -> str:
        head = [
            (
                f"Overfitting: trained on the first {self.train_rows} streetlights only, scored on "
                f"the other {self.unseen_rows}."
            ),
            (
                f"{len(self.seeds)} seeds ({seed_span(self.seeds)}), alpha {self.alpha:g}, "
                f"{self.epochs} epochs, stochastic. memorized = training error < "
                f"{self.threshold:g};"
            ),
            f"generalized = memorized and the error on the unseen rows < {self.threshold:g} too.",
            "",
        ]
        rows = [
            [
                "network",
                "memorized",
                "generalized",
                "train median",
                "unseen 5%",
                "unseen median",
                "unseen 95%",
            ]
        ]
        rows += [
            [
                row.label,
                percent(row.memorized_fraction(self.threshold)),
                percent(row.generalized_fraction(self.threshold)),
                # without epochs there is no training error (NaN), which is not a divergence
                g(float(order_statistics(row.result.final_errors, [0.5])[0]))
                if self.epochs
                else "-",
                *(g(q) for q in order_statistics(row.held_out, (0.05, 0.5, 0.95))),
            ]
            for row in self.rows
        ]
        return "\n".join(head + columns(rows))

    def plot(self, path: PathLike) -> Path:
        """Histograms of the training and the unseen-rows errors, written to ``path``.

        Returns the file written: ``path``, with ``.png`` added if it has no extension.
        """
        from ..plot import convergence_histogram, figure_path

        written = figure_path(path)

        errors: dict[str, Any] = {}
        for row in self.rows:
            errors[f"{row.label}: error on the {self.train_rows} trained rows"] = (
                row.result.final_errors
            )
            errors[f"{row.label}: error on the {self.unseen_rows} unseen rows"] = row.held_out
        convergence_histogram(
            errors,
            path=written,
            title=f"Trained on {self.train_rows} streetlights, scored on the rest",
            threshold=self.threshold,
            xlabel="error",
        )
        return written


def overfit(
    n_seeds: int = DEFAULTS.n_seeds,
    *,
    first_seed: int = FIRST_SEED,
    train_rows: int = DEFAULTS.train_rows,
    alpha: float = DEFAULTS.alpha,
    epochs: int = DEFAULTS.epochs,
    threshold: float = CONVERGED,
    backend: str | None = None,
    progress: bool | None = None,
) -> OverfitResult:
    """Train ``[3, 1]`` and ``[3, 4, 1]`` relu on the first ``train_rows`` streetlights.

    The chapter's remark: two examples can be fitted perfectly by weights that ignore the
    middle light (``w0 = -w2``), so a network can memorize them without learning the rule
    that decides the other four.
    """
    # every argument is checked before the first network trains
    X, y = datasets.streetlights("linear")
    if check.check_int(train_rows, "train_rows", minimum=1) >= len(X):
        raise ValueError(f"train_rows must be between 1 and {len(X) - 1}, got {train_rows!r}")
    seeds = seed_range(n_seeds, first_seed)
    alpha = check.check_positive(alpha, "alpha")
    epochs = check.check_int(epochs, "epochs", minimum=0)
    threshold = check_threshold(threshold)
    rows = []
    for sizes, activation in (((3, 1), Activation.LINEAR), ((3, 4, 1), Activation.RELU)):
        result = sweep(
            sizes,
            X[:train_rows],
            y[:train_rows],
            seeds=seeds,
            alphas=alpha,
            epochs=epochs,
            activation=activation.label,
            backend=backend,
            weights=True,
            progress=progress,
        )
        assert result.weights is not None
        unseen = held_out_errors(result.weights, X[train_rows:], y[train_rows:], activation)
        unseen = np.where(result.diverged, np.inf, unseen)
        rows.append(OverfitRow(network_label(sizes, activation), result, unseen))
    return OverfitResult(rows, train_rows, len(X) - train_rows, seeds, alpha, epochs, threshold)
