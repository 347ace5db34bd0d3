"""The chapter's figures, drawn as SVG: a network, one step of backpropagation, the
streetlights, error curves, and the weights over a fit (the optional ``grokprop[plot]``).

Why matplotlib: the project already has it as its plotting extra (``grokprop.plot`` draws
the experiments' PNGs with it), so the figures need no second drawing library; its Agg and
SVG renderers need no display server; and its SVG keeps each artist's ``gid`` as an element
``id`` and, with ``svg.fonttype = "none"``, each text as ``<text>`` — so a weight printed
on an edge is in the SVG as its number, which the notebook and the tests can read. Only
the object-oriented API is used (``matplotlib.figure.Figure``): no pyplot state.
matplotlib is imported when a figure is made, never by ``import grokprop``.

Names in the SVG (element ids), for tools and tests:

* ``unit-{l}-{i}``: unit ``i`` of ``layer_l``; ``off-{l}-{i}`` marks a relu unit that is
  switched off in a step figure (drawn grey and dashed, labelled "off");
* ``w-{l}-{i}-{j}``: the edge of ``weights_{l}_{l+1}[i, j]``; ``w-{l}-{i}-{j}-value``
  its number (the weight, or in a step figure the weight delta).

Every function returns the ``Figure``; :func:`to_svg` turns one into SVG text, and
``path=`` writes it (the format follows the file name: ``.svg``, ``.png``, ``.pdf``).
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .plot import MISSING_MATPLOTLIB, error_curves

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "error_curves",
    "network_figure",
    "step_figure",
    "streetlights_figure",
    "to_svg",
    "weights_animation",
]

PathLike = str | os.PathLike[str]

#: Units drawn per layer; a wider layer shows its first units and how many are left out.
MAX_UNITS = 12
_NUMBERED_EDGES = 40  # numbers on the edges by default up to this many drawn edges
_POSITIVE, _NEGATIVE, _OFF = "#2166ac", "#b2182b", "#9a9a9a"
_VALUE, _DELTA = "#111111", "#d95f02"
_SPACING, _GAP = 1.5, 2.6  # between the units of a layer, between layers


class _Weighted(Protocol):
    @property
    def weights(self) -> Sequence[NDArray[np.floating]]: ...


@contextmanager
def _svg_settings() -> Iterator[None]:
    import matplotlib as mpl

    # text stays text (numbers readable in the SVG); a fixed salt makes the ids reproducible
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "grokprop"}):
        yield


def to_svg(fig: Figure) -> str:
    """The figure as SVG text (an ``<svg>`` element, without the XML prologue), so it can
    be embedded in HTML."""
    buffer = io.StringIO()
    with _svg_settings():
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _save(fig: Figure, path: PathLike | None) -> Figure:
    if path is not None:
        with _svg_settings():
            fig.savefig(path, metadata={"Date": None} if str(path).endswith(".svg") else None)
    return fig


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _number(value: float, digits: int = 3) -> str:
    """A short number for a figure: ``0`` for either zero, else ``digits`` significant."""
    return "0" if value == 0 else f"{value:.{digits}g}"


# -- the network as layers of units ----------------------------------------------------


class _Layout:
    """Where the units are: layer ``l`` on row ``l`` (layer_0 at the bottom, as the book
    draws its networks), its drawn units spread evenly and centred."""

    def __init__(self, sizes: Sequence[int], max_units: int) -> None:
        self.sizes = list(sizes)
        self.shown = [min(n, max_units) for n in sizes]
        self.width = max(self.shown)

    def x(self, l: int, i: int) -> float:
        return _SPACING * (i - (self.shown[l] - 1) / 2)

    def y(self, l: int) -> float:
        return _GAP * l

    @property
    def half_width(self) -> float:
        return _SPACING * (self.width - 1) / 2 + 0.5


def _axes(fig: Figure, layout: _Layout) -> Axes:
    ax = fig.add_subplot()
    ax.set_xlim(-layout.half_width - 1.6, layout.half_width + 1.6)
    ax.set_ylim(-0.6, layout.y(len(layout.sizes) - 1) + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _draw_edges(
    ax: Axes,
    layout: _Layout,
    matrices: Sequence[NDArray[np.floating]],
    *,
    numbers: bool,
    off: Sequence[NDArray[np.bool_]] | None = None,
    zeros: bool = True,
) -> None:
    """One line per matrix entry: width and colour from its size and sign, relative to
    the largest entry of the figure; its number on the line when asked (exact zeros
    too unless ``zeros`` is false: they are drawn dotted grey)."""
    largest = max(
        (float(np.nanmax(np.abs(m[: layout.shown[l], : layout.shown[l + 1]]), initial=0.0)))
        for l, m in enumerate(matrices)
    )
    scale = largest if largest > 0 and np.isfinite(largest) else 1.0
    for l, matrix in enumerate(matrices):
        n_in, n_out = layout.shown[l], layout.shown[l + 1]
        # where along its edge a number sits: edges that cross the middle at one point
        # (i + j equal) get their numbers at different heights
        stagger = 0.28 / max(n_in - 1, n_out - 1, 1)
        for i in range(n_in):
            for j in range(n_out):
                t = 0.5 + stagger * (i - j) if n_in > 1 and n_out > 1 else 0.5
                value = float(matrix[i, j])
                dead = off is not None and (off[l][i] or off[l + 1][j])
                magnitude = min(abs(value) / scale, 1.0) if np.isfinite(value) else 1.0
                color = _OFF if dead or value == 0 else _POSITIVE if value > 0 else _NEGATIVE
                x0, y0 = layout.x(l, i), layout.y(l)
                x1, y1 = layout.x(l + 1, j), layout.y(l + 1)
                (line,) = ax.plot(
                    [x0, x1],
                    [y0, y1],
                    color=color,
                    linewidth=0.4 + 4.0 * magnitude,
                    linestyle=":" if dead or value == 0 else "-",
                    alpha=0.35 + 0.65 * magnitude,
                    zorder=1,
                    solid_capstyle="round",
                )
                line.set_gid(f"w-{l}-{i}-{j}")
                if numbers and (zeros or value != 0):
                    text = ax.text(
                        x0 + t * (x1 - x0),
                        y0 + t * (y1 - y0),
                        _number(value),
                        fontsize=7,
                        color=color if color != _OFF else "#666666",
                        ha="center",
                        va="center",
                        zorder=3,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                    )
                    text.set_gid(f"w-{l}-{i}-{j}-value")


def _draw_units(
    ax: Axes,
    layout: _Layout,
    *,
    values: Sequence[NDArray[np.floating]] | None = None,
    deltas: Sequence[NDArray[np.floating] | None] | None = None,
    off: Sequence[NDArray[np.bool_]] | None = None,
) -> None:
    from matplotlib.patches import Circle

    for l, n in enumerate(layout.sizes):
        y = layout.y(l)
        for i in range(layout.shown[l]):
            x = layout.x(l, i)
            dead = off is not None and bool(off[l][i])
            circle = Circle(
                (x, y),
                0.34,
                facecolor="#e6e6e6" if dead else "white",
                edgecolor=_OFF if dead else "#333333",
                linestyle="--" if dead else "-",
                linewidth=1.2,
                zorder=4,
            )
            circle.set_gid(f"off-{l}-{i}" if dead else f"unit-{l}-{i}")
            ax.add_patch(circle)
            if values is not None:
                ax.text(
                    x,
                    y + (0.08 if dead else 0.0),
                    _number(float(values[l][i])),
                    fontsize=7.5,
                    ha="center",
                    va="center",
                    zorder=5,
                    color=_OFF if dead else _VALUE,
                )
            if dead:
                ax.text(x, y - 0.16, "off", fontsize=6.5, ha="center", va="center", zorder=5)
            if deltas is not None and (delta := deltas[l]) is not None:
                ax.text(
                    x + 0.3,
                    y + 0.3,
                    f"δ {_number(float(delta[i]))}",
                    fontsize=7,
                    ha="left",
                    va="bottom",
                    zorder=5,
                    color=_OFF if dead else _DELTA,
                )
        if layout.shown[l] < n:
            ax.text(
                layout.x(l, layout.shown[l] - 1) + 0.55,
                y,
                f"+{n - layout.shown[l]} more",
                fontsize=7,
                ha="left",
                va="center",
                color="#555555",
            )
        ax.text(
            -layout.half_width - 1.5,
            y,
            f"layer_{l}",
            fontsize=8,
            ha="left",
            va="center",
            family="monospace",
        )
        if l:
            ax.text(
                -layout.half_width - 1.5,
                y - _GAP / 2,
                f"weights_{l - 1}_{l}",
                fontsize=7,
                ha="left",
                va="center",
                family="monospace",
                color="#555555",
            )


def _size(layout: _Layout) -> tuple[float, float]:
    """Inches: about 0.55 inch per data unit, whatever the layer sizes."""
    return 0.55 * (2 * layout.half_width + 3.2) + 0.2, 0.55 * (
        layout.y(len(layout.sizes) - 1) + 1.3
    ) + 0.5


def network_figure(
    net: _Weighted,
    *,
    numbers: bool | None = None,
    title: str | None = None,
    path: PathLike | None = None,
    max_units: int = MAX_UNITS,
) -> Figure:
    """A network as the book draws it: layers of units, ``layer_0`` at the bottom, one edge
    per weight whose width shows its size and colour its sign (blue +, red −).

    ``net`` is a :class:`grokprop.Network` (or anything with ``weights``). ``numbers``
    prints each weight on its edge (3 significant digits); by default only when at most
    40 edges are drawn. Layers wider than ``max_units`` show their first units.
    """
    matrices = [np.asarray(w) for w in net.weights]
    sizes = [matrices[0].shape[0], *(m.shape[1] for m in matrices)]
    layout = _Layout(sizes, max_units)
    drawn_edges = sum(a * b for a, b in itertools.pairwise(layout.shown))
    fig = _figure(*_size(layout))
    ax = _axes(fig, layout)
    numbered = drawn_edges <= _NUMBERED_EDGES if numbers is None else numbers
    _draw_edges(ax, layout, matrices, numbers=numbered)
    _draw_units(ax, layout)
    activation = getattr(net, "activation", None)
    ax.set_title(
        title
        if title is not None
        else f"Network {sizes}" + (f", {activation}" if activation is not None else ""),
        fontsize=9,
    )
    return _save(fig, path)


# -- one step of backpropagation --------------------------------------------------------


class _Traced(Protocol):
    @property
    def layers(self) -> list[NDArray[np.floating]]: ...
    @property
    def deltas(self) -> list[NDArray[np.floating]]: ...
    @property
    def weight_deltas(self) -> list[NDArray[np.floating]]: ...
    @property
    def errors(self) -> NDArray[np.floating]: ...


def switched_off(trace: _Traced, relu: bool | None = None, row: int = 0) -> list[NDArray[np.bool_]]:
    """Per layer, which units of ``row`` relu switched off (``relu2deriv`` is 0): no delta
    flows back through them and every weight delta that touches them is 0.

    ``relu=True``: hidden units whose value is not > 0; ``False``: none (a linear network).
    ``None`` infers it from the trace: a hidden unit whose value and delta are both exactly 0
    (as relu leaves them). The input and output layers are never switched off.
    """
    out = []
    last = len(trace.layers) - 1
    for l, layer in enumerate(trace.layers):
        values = np.asarray(layer)[row]
        if l in (0, last) or relu is False:
            out.append(np.zeros(values.shape, dtype=bool))
        elif relu:
            out.append(~(values > 0))
        else:
            out.append((values == 0) & (np.asarray(trace.deltas[l - 1])[row] == 0))
    return out


def step_figure(
    trace: _Traced,
    *,
    relu: bool | None = None,
    goal: ArrayLike | None = None,
    row: int = 0,
    numbers: bool | None = None,
    title: str | None = None,
    path: PathLike | None = None,
    max_units: int = MAX_UNITS,
) -> Figure:
    """One iteration of backpropagation, as the book's figure: every unit's value, the
    deltas flowing back (``δ``, orange), each weight delta on its edge, and the hidden units
    relu switched off greyed out, dashed and labelled "off" (see :func:`switched_off`).

    ``trace`` is what :meth:`grokprop.Network.step` returns; a mini-batch trace shows the
    values of ``row`` and the batch's (average) weight deltas. ``goal`` (default: the
    prediction minus its delta) is printed by the output with the error. ``numbers``
    prints each non-zero weight delta on its edge; by default only when at most 40 edges
    are drawn.
    """
    layers = [np.asarray(a) for a in trace.layers]
    deltas = [np.asarray(d) for d in trace.deltas]
    layout = _Layout([a.shape[1] for a in layers], max_units)
    off = switched_off(trace, relu, row)
    fig = _figure(*_size(layout))
    ax = _axes(fig, layout)
    drawn_edges = sum(a * b for a, b in itertools.pairwise(layout.shown))
    _draw_edges(
        ax,
        layout,
        [np.asarray(g) for g in trace.weight_deltas],
        numbers=drawn_edges <= _NUMBERED_EDGES if numbers is None else numbers,
        off=off,
        zeros=False,
    )
    _draw_units(
        ax,
        layout,
        values=[a[row] for a in layers],
        deltas=[None, *(d[row] for d in deltas)],
        off=off,
    )
    target = layers[-1][row] - deltas[-1][row] if goal is None else np.ravel(goal)
    top = layout.y(len(layers) - 1)
    ax.text(
        layout.half_width + 1.5,
        top,
        f"goal {', '.join(_number(float(g)) for g in target)}\n"
        f"error {_number(float(np.asarray(trace.errors)[row]))}",
        fontsize=7.5,
        ha="right",
        va="center",
    )
    m = layers[0].shape[0]
    ax.set_title(
        title
        if title is not None
        else "One iteration of backpropagation"
        + (f" (row {row} of {m}; weight deltas averaged)" if m > 1 else "")
        + "\nvalues, deltas δ flowing back, weight deltas on the edges",
        fontsize=9,
    )
    return _save(fig, path)


# -- the streetlights ----------------------------------------------------------------------


def streetlights_figure(
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    labels: tuple[str, str] = ("STOP", "WALK"),
    title: str | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Each row of ``X`` as a streetlight (a column of lights, lit where the input is 1) with
    its target under it (``labels[0]`` for 0, ``labels[1]`` for 1), as the book draws them.
    Values between 0 and 1 are drawn as dimmed lights."""
    from matplotlib.patches import Circle, FancyBboxPatch

    lights = np.asarray(X, dtype=np.float64)
    if lights.ndim != 2:
        raise ValueError(f"X must be a 2-D array of lights, got shape {lights.shape}")
    goals = None if y is None else np.asarray(y, dtype=np.float64).reshape(len(lights), -1)
    rows, n = lights.shape
    fig = _figure(0.9 * rows + 0.6, 0.55 * n + 1.2)
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, rows - 0.4)
    ax.set_ylim(-1.1, n + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    for r in range(rows):
        ax.add_patch(
            FancyBboxPatch(
                (r - 0.3, -0.05),
                0.6,
                n - 0.1,
                boxstyle="round,pad=0.02",
                facecolor="#333333",
                edgecolor="none",
            )
        )
        for k in range(n):
            on = float(np.clip(lights[r, k], 0.0, 1.0)) if np.isfinite(lights[r, k]) else 0.0
            light = Circle(
                (r, n - 0.5 - k),
                0.24,
                facecolor=(1.0, 0.85 * on + 0.15, 0.15 * (1 - on) + 0.05 * on) if on else "#5a5a5a",
                edgecolor="#222222",
            )
            light.set_gid(f"light-{r}-{k}-{'on' if on else 'off'}")
            ax.add_patch(light)
        if goals is not None:
            ax.text(
                r,
                -0.45,
                " ".join(labels[int(g > 0.5)] if g in (0, 1) else _number(g) for g in goals[r]),
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                color="#1b7837" if goals[r, 0] > 0.5 else "#b2182b",
            )
    ax.set_title(title if title is not None else f"{rows} streetlights", fontsize=9)
    return _save(fig, path)


# -- weights over a fit -------------------------------------------------------------------


def weights_animation(
    net: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    alpha: float,
    epochs: int,
    batch_size: int | None = 1,
    every: int = 1,
    path: PathLike | None = None,
    fps: int = 8,
    backend: str | None = None,
) -> str:
    """The network's weights after every ``every`` epochs of a fit, as an animation.

    Trains a copy of ``net`` (``net`` itself is not changed) one chunk of ``every``
    epochs at a time — the same bits as one fit, since an epoch depends only on the
    weights it starts from. With ``path`` ending in ``.gif`` writes a GIF (pillow, which
    matplotlib depends on) and returns the path; otherwise returns the animation as
    self-contained HTML (for a notebook: ``IPython.display.HTML(...)``).
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive integer, got {every!r}")
    model = net.copy()
    frames: list[list[NDArray[np.floating]]] = [[w.copy() for w in model.weights]]
    errors = [float("nan")]
    done = 0
    while done < epochs:
        chunk = min(every, epochs - done)
        history = model.fit(X, y, alpha=alpha, epochs=chunk, batch_size=batch_size, backend=backend)
        done += chunk
        frames.append([w.copy() for w in model.weights])
        errors.append(history.final_error)
    fig = network_figure(model, numbers=False)
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    title = ax.title
    layout = _Layout(model.sizes, MAX_UNITS)
    largest = max(float(np.abs(w).max()) for frame in frames for w in frame) or 1.0

    def show(k: int) -> list[Any]:
        for l, matrix in enumerate(frames[k]):
            for i in range(layout.shown[l]):
                for j in range(layout.shown[l + 1]):
                    line = lines[f"w-{l}-{i}-{j}"]
                    value = float(matrix[i, j])
                    magnitude = min(abs(value) / largest, 1.0)
                    line.set_color(_POSITIVE if value > 0 else _NEGATIVE)
                    line.set_linewidth(0.4 + 4.0 * magnitude)
                    line.set_alpha(0.35 + 0.65 * magnitude)
        epoch = min(k * every, epochs)
        error = "" if k == 0 else f", error {errors[k]:.3g}"
        title.set_text(f"Network {list(model.sizes)}: epoch {epoch}{error}")
        return [*lines.values(), title]

    animation = FuncAnimation(fig, show, frames=len(frames), interval=1000 / fps, blit=False)
    if path is not None and str(path).lower().endswith(".gif"):
        animation.save(os.fspath(path), writer=PillowWriter(fps=fps))
        return os.fspath(path)
    html: str = animation.to_jshtml(fps=fps, default_mode="once")
    if path is not None:
        Path(path).write_text(html, encoding="utf-8")
    return html
