"""Figures of fits and sweeps, written to PNG (the optional extra ``grokprop[plot]``).

matplotlib is imported only when a figure is made, and only its object-oriented API is
used (``matplotlib.figure.Figure``, rendered by Agg): no pyplot state, no display needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MISSING_MATPLOTLIB",
    "convergence_histogram",
    "error_curves",
    "figure_path",
]

MISSING_MATPLOTLIB = (
    "plotting needs matplotlib, which is not installed; install it with: "
    "pip install 'grokprop[plot]'"
)


def _matplotlib() -> Any:
    try:
        import matplotlib as mpl
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc
    return mpl


def _new_figure(height: float = 3.8, width: float = 7.0) -> Figure:
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def figure_path(path: str | os.PathLike[str]) -> Path:
    """The file a figure for ``path`` is written to.

    The format follows the file name (``.png``, ``.svg``, ``.pdf``); a name without an
    extension gets matplotlib's default one (``savefig.format``, ``.png`` unless changed),
    as ``savefig`` would add it.
    """
    target = Path(path)
    if target.suffix:
        return target
    return target.with_name(f"{target.name}.{_matplotlib().rcParams['savefig.format']}")


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        fig.savefig(figure_path(path))
    return fig


def error_curves(
    curves: Mapping[str, Any],
    *,
    path: str | os.PathLike[str] | None = None,
    title: str = "",
    threshold: float | None = None,
) -> Figure:
    """The error of every epoch, one line per entry, on a log scale.

    ``curves`` maps a label to a :class:`grokprop.History` or an array of epoch errors.
    Writes the figure to ``path`` when given (e.g. ``"errors.png"``) and returns it.
    """
    fig = _new_figure()
    ax = fig.add_subplot()
    for label, curve in curves.items():
        errors = np.asarray(getattr(curve, "errors", curve), dtype=np.float64)
        epochs = np.arange(1, len(errors) + 1)
        # an error of exactly 0 has no place on a log axis: show the last positive one
        ax.plot(epochs, np.where(errors > 0, errors, np.nan), label=label)
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=1, label=f"{threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (sum over the rows)")
    ax.set_title(title)
    ax.legend()
    return _finish(fig, path)


def convergence_histogram(
    final_errors: Mapping[str, ArrayLike],
    *,
    path: str | os.PathLike[str] | None = None,
    title: str = "",
    threshold: float | None = None,
    xlabel: str = "final error",
) -> Figure:
    """Histograms of the final errors of many networks, one panel per entry, log x axis.

    The panels share their bins, so their distributions compare at a glance. Errors of
    exactly 0 are counted in the lowest bin; diverged networks (inf or NaN) cannot be
    drawn and are counted in the panel's label instead.
    """
    values = {label: np.asarray(e, dtype=np.float64).ravel() for label, e in final_errors.items()}
    if not values:
        raise ValueError("final_errors must hold at least one entry")
    fig = _new_figure(height=1.0 + 1.5 * len(values))
    axes = fig.subplots(len(values), 1, sharex=True, squeeze=False)[:, 0]
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    positive = finite[finite > 0]
    low = np.floor(np.log10(positive.min())) if positive.size else -1.0
    high = np.ceil(np.log10(positive.max())) if positive.size else 1.0
    bins = np.logspace(low, max(high, low + 1), 80)
    for ax, (label, v), color in zip(axes, values.items(), _colors()):
        shown = v[np.isfinite(v)]
        text = label
        if threshold is not None:
            text += f" — {100 * np.mean(v < threshold):.1f}% below {threshold:g}"
        if shown.size < v.size:
            text += f", {v.size - shown.size} diverged"
        ax.hist(np.clip(shown, bins[0], None), bins=bins, color=color)
        if threshold is not None:
            ax.axvline(threshold, color="black", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_ylabel("networks")
        ax.set_title(text, fontsize="medium", loc="left")
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title)
    return _finish(fig, path)


def _colors() -> list[str]:
    return [f"C{i}" for i in range(10)] * 10
