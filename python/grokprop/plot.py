"""Figures of fits and sweeps, written to PNG (the optional extra ``grokprop[plot]``).

matplotlib is imported only when a figure is made, and only its object-oriented API is
used (``matplotlib.figure.Figure``, rendered by Agg): no pyplot state, no display needed.
"""

from __future__ import annotations

import os
import textwrap
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
    "learned_heatmap",
    "pressure_table",
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


def learned_heatmap(
    fractions: ArrayLike,
    *,
    rows: list[str],
    widths: tuple[int, ...],
    path: str | os.PathLike[str] | None = None,
    title: str = "",
) -> Figure:
    """A heat map of fractions in [0, 1]: one row per function, one column per width."""
    values = np.asarray(fractions, dtype=np.float64)
    fig = _new_figure(height=9.0, width=5.5)
    ax = fig.subplots()
    image = ax.imshow(
        values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"
    )
    ax.set_xticks(range(len(widths)), [str(w) for w in widths])
    ax.set_xlabel("hidden width (0: no hidden layer)")
    step = max(1, len(rows) // 32)
    ax.set_yticks(range(0, len(rows), step), rows[::step], fontsize="x-small")
    ax.set_ylabel("function (ordered by rows on)")
    fig.colorbar(image, ax=ax, label="fraction of seeds learned")
    ax.set_title(title, fontsize="small")
    return _finish(fig, path)


def _colors() -> list[str]:
    return [f"C{i}" for i in range(10)] * 10


def pressure_table(
    X: ArrayLike,
    goals: ArrayLike,
    pressure: ArrayLike,
    *,
    path: str | os.PathLike[str] | None = None,
    title: str = "",
) -> Figure:
    """The weight-pressure table as a picture: one row per example, one column per weight.

    A cell is green with ``+`` where the example pushes the weight up, red with ``-``
    where it pushes it down and pale with ``0`` where it leaves it; each row is labelled
    with the example's inputs and goal, and the last row adds the signs per weight (the
    net pressure), shaded by its size.
    """
    inputs = np.asarray(X)
    targets = np.asarray(goals).ravel()
    signs = np.asarray(pressure, dtype=np.int64)
    m, n = signs.shape
    net = signs.sum(axis=0)
    lines = textwrap.wrap(title, 48)
    fig = _new_figure(height=1.0 + 0.45 * (m + 1) + 0.2 * len(lines), width=2.0 + 0.9 * n)
    ax = fig.add_subplot()
    # pushes in [-1, 1]; the net row scaled by the number of examples into the same range
    shades = np.vstack([signs, net[None, :] / max(m, 1)]).astype(np.float64)
    ax.imshow(shades, cmap="RdYlGn", vmin=-1.5, vmax=1.5, aspect="auto")
    symbols = {1: "+", -1: "\N{MINUS SIGN}", 0: "0"}
    for i in range(m):
        for k in range(n):
            ax.text(k, i, symbols[int(signs[i, k])], ha="center", va="center", fontsize="large")
    for k in range(n):
        count = int(net[k])
        text = f"{count:+d}".replace("-", "\N{MINUS SIGN}") if count else "0"
        ax.text(k, m, text, ha="center", va="center", weight="bold")
    ax.axhline(m - 0.5, color="black", linewidth=1.5)
    ax.set_xticks(range(n), [f"w{k}" for k in range(n)])
    ax.xaxis.tick_top()
    rows = [
        f"{' '.join(f'{v:g}' for v in inputs[i])} \N{RIGHTWARDS ARROW} {targets[i]:g}"
        for i in range(m)
    ]
    ax.set_yticks(range(m + 1), [*rows, "net"])
    ax.tick_params(length=0)
    ax.set_ylabel("example: inputs \N{RIGHTWARDS ARROW} goal")
    ax.set_title("\n".join(lines), fontsize="medium")
    return _finish(fig, path)
