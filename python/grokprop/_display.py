"""How grokprop's objects show themselves: short plain reprs and notebook HTML.

The classes keep one-line delegating methods (``__repr__``, ``_repr_html_``) that call in
here, so the display logic lives in one place and the classes stay about their data.

* Plain reprs stay short whatever the size of the data (a few hundred characters): sizes,
  settings, a handful of numbers and the shapes of arrays, never the arrays.
* ``_repr_html_`` (IPython's rich display) gives a summary table and, when matplotlib is
  installed, a figure from :mod:`grokprop.figures` inlined as SVG; without matplotlib the
  same HTML falls back to tables. A :class:`~grokprop.History`'s small error curve is a
  hand-written SVG polyline (tiny, instant, no matplotlib needed).
"""

from __future__ import annotations

import dataclasses
import enum
import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "history_html",
    "history_repr",
    "network_html",
    "network_repr",
    "short_repr",
    "sweep_html",
    "sweep_repr",
    "table_html",
    "trace_html",
    "trace_repr",
    "verify_html",
    "verify_repr",
]

_MAX_LIST = 6  # items of a list or sizes shown before "..."
_MAX_FIELD = 120  # characters of one field's summary in a generic repr
_MAX_REPR = 600  # characters of a whole generic repr
_MAX_DRAWN = 8  # weight matrices of a network drawn in its HTML
_CONVERGED = 1e-3  # the experiments' threshold (grokprop.experiments.CONVERGED)
_TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px;margin:2px 0 6px 0"
_CELL = "padding:1px 8px;border-bottom:1px solid #ddd;text-align:right"


# -- plain text pieces ------------------------------------------------------------------


def _g(value: Any, digits: int = 4) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.{digits}g}"


def _sizes(sizes: Sequence[int]) -> str:
    """``[784, 128, 10]``; a long list shows its ends."""
    values = [int(n) for n in sizes]
    if len(values) <= 2 * _MAX_LIST:
        return str(values)
    head = ", ".join(map(str, values[:_MAX_LIST]))
    tail = ", ".join(map(str, values[-2:]))
    return f"[{head}, ... {tail}] ({len(values)} layers)"


def _numbers(values: Any, digits: int = 4) -> str:
    """A 1-D run of numbers: all of them if few, else the first and last three."""
    flat = np.asarray(values).ravel()
    if flat.size <= _MAX_LIST:
        return "[" + ", ".join(_g(v, digits) for v in flat) + "]"
    head = ", ".join(_g(v, digits) for v in flat[:3])
    tail = ", ".join(_g(v, digits) for v in flat[-3:])
    return f"[{head}, ..., {tail}]"


def _activation(obj: Any) -> str:
    """The activation's name, whether it is a string or an enum with ``label``."""
    value = getattr(obj, "activation", "?")
    return str(getattr(value, "label", value))


def _dtype(obj: Any) -> str:
    value = getattr(obj, "dtype", "?")
    return str(getattr(value, "name", value))


def _summary(value: Any) -> str:
    """One field of a generic repr, at most :data:`_MAX_FIELD` characters."""
    if isinstance(value, np.ndarray):
        if value.size <= _MAX_LIST and value.ndim <= 1:
            text = _numbers(value)
        else:
            text = f"<array {value.shape} {value.dtype.name}>"
    elif isinstance(value, (float, np.floating)):
        text = _g(value, 6)
    elif isinstance(value, np.dtype):
        text = repr(value.name)  # dtype='float64', as Network's repr shows it
    elif isinstance(value, enum.Enum) and hasattr(value, "label"):
        text = repr(value.label)  # activation='relu', not <Activation.RELU: 0>
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, np.ndarray) for v in value):
            shapes = ", ".join(str(v.shape) for v in value[:_MAX_LIST])
            more = ", ..." if len(value) > _MAX_LIST else ""
            text = f"<{len(value)} arrays {shapes}{more}>"
        else:
            inner = ", ".join(_summary(v) for v in value[:_MAX_LIST])
            more = f", ... ({len(value)} items)" if len(value) > _MAX_LIST else ""
            if isinstance(value, tuple) and len(value) == 1:
                inner += ","  # (4,), not (4)
            text = ("[{}]" if isinstance(value, list) else "({})").format(inner + more)
            if len(text) > _MAX_FIELD and value:
                # objects with long reprs of their own: count them, name them by label
                kinds = sorted({type(v).__name__ for v in value})
                labels = [repr(v.label) for v in value[:_MAX_LIST] if hasattr(v, "label")]
                named = f": {', '.join(labels)}" if labels else ""
                text = f"[{len(value)} {'/'.join(kinds)}{named}{more and ', ...'}]"
    elif isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {_summary(v)}" for k, v in list(value.items())[:_MAX_LIST])
        text = "{" + inner + ("" if len(value) <= _MAX_LIST else ", ...") + "}"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_FIELD else text[: _MAX_FIELD - 4] + " ..."


def short_repr(obj: Any, fields: Iterable[str] | None = None) -> str:
    """``Name(field=summary, ...)`` for a dataclass (or the named attributes), every field
    summarised (arrays by shape, floats to 6 digits) and the whole under 600 characters."""
    names = [f.name for f in dataclasses.fields(obj) if f.repr] if fields is None else list(fields)
    parts = [f"{name}={_summary(getattr(obj, name))}" for name in names]
    text = f"{type(obj).__name__}({', '.join(parts)})"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 5] + " ...)"


# -- HTML pieces ----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value))


def table_html(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, caption: str | None = None
) -> str:
    """A small HTML table, every cell escaped; the first column flush left."""

    def cells(row: Sequence[Any], tag: str) -> str:
        return "".join(
            f'<{tag} style="{_CELL}{";text-align:left" if k == 0 else ""}">{_e(c)}</{tag}>'
            for k, c in enumerate(row)
        )

    head = f"<tr>{cells(header, 'th')}</tr>"
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    cap = (
        f'<caption style="text-align:left;font-weight:bold">{_e(caption)}</caption>'
        if caption
        else ""
    )
    return f'<table style="{_TABLE_STYLE}">{cap}{head}{body}</table>'


def _fields_html(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(
        f'<tr><th style="{_CELL};text-align:left">{_e(k)}</th>'
        f'<td style="{_CELL};text-align:left">{_e(v)}</td></tr>'
        for k, v in pairs
    )
    return f'<table style="{_TABLE_STYLE}">{rows}</table>'


def _box(title: str, *parts: str) -> str:
    body = "".join(parts)
    return (
        '<div style="display:inline-block;vertical-align:top">'
        f'<div style="font-weight:bold;font-family:sans-serif">{_e(title)}</div>{body}</div>'
    )


def _pre(text: str) -> str:
    return f'<pre style="font-size:12px;line-height:1.25">{_e(text)}</pre>'


def _figure(draw: Callable[[], Any]) -> str | None:
    """``draw()``'s figure as inline SVG, or ``None`` without matplotlib."""
    try:
        from . import figures

        return figures.to_svg(draw())
    except ImportError:
        return None


def _matrix_html(matrix: Any, caption: str, limit: int = 12) -> str:
    values = np.asarray(matrix)
    if values.ndim == 2 and values.shape[0] <= limit and values.shape[1] <= limit:
        return table_html(
            ["", *(f"[:, {j}]" for j in range(values.shape[1]))],
            ([f"[{i}]", *(_g(v) for v in row)] for i, row in enumerate(values)),
            caption=caption,
        )
    finite = values[np.isfinite(values)]
    stats = [_g(finite.min()), _g(finite.mean()), _g(finite.max())] if finite.size else ["-"] * 3
    return table_html(
        ["shape", "min", "mean", "max"], [[str(values.shape), *stats]], caption=caption
    )


# -- Network ------------------------------------------------------------------------------


def network_repr(net: Any) -> str:
    # without a hidden layer the activation plays no role
    activation = f", activation={_activation(net)!r}" if len(net.sizes) > 2 else ""
    return f"Network({_sizes(net.sizes)}{activation}, dtype={_dtype(net)!r})"


def network_html(net: Any) -> str:
    """Sizes, activation, dtype and the parameter count; the network drawn (numbers on the
    edges when few), or without matplotlib a table per weight matrix."""
    weights = net.weights
    info = _fields_html(
        [
            ("sizes", _sizes(net.sizes)),
            ("activation", _activation(net)),
            ("dtype", _dtype(net)),
            ("weights", " + ".join(f"{w.shape[0]}x{w.shape[1]}" for w in weights[:8])),
            ("parameters", f"{sum(int(w.size) for w in weights):,}"),
        ]
    )
    from . import figures

    # a figure of dozens of layers would be pages tall: those get the tables
    svg = _figure(lambda: figures.network_figure(net)) if len(weights) <= _MAX_DRAWN else None
    if svg is None:
        tables = "".join(_matrix_html(w, f"weights_{l}_{l + 1}") for l, w in enumerate(weights[:8]))
        return _box("Network", info, tables)
    return _box("Network", info, svg)


# -- History --------------------------------------------------------------------------------


def history_repr(history: Any) -> str:
    errors = np.asarray(history.errors)
    return (
        f"History(epochs={history.epochs}, alpha={_g(history.alpha, 6)}, "
        f"batch_size={history.batch_size}, backend={history.backend!r}, "
        f"final_error={_g(history.final_error, 6)}, errors={_numbers(errors)})"
    )


def sparkline(values: Any, *, width: int = 260, height: int = 70, log: bool = True) -> str:
    """A tiny SVG line of ``values`` (log scale by default; non-positive or non-finite
    values are left out), at most ~200 points."""
    y = np.asarray(values, dtype=np.float64).ravel()
    x = np.arange(1, y.size + 1, dtype=np.float64)
    keep = np.isfinite(y) & ((y > 0) if log else True)
    x, y = x[keep], y[keep]
    if y.size < 2:
        return ""
    step = max(1, y.size // 200)
    x, y = x[::step], y[::step]
    v = np.log10(y) if log else y
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    pad = 4
    px = pad + (x - x[0]) / max(x[-1] - x[0], 1) * (width - 2 * pad)
    py = pad + (hi - v) / span * (height - 2 * pad)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
    label = f"{_g(10**hi if log else hi, 3)} … {_g(10**lo if log else lo, 3)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 14}" '
        f'class="grokprop-sparkline">'
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ddd"/>'
        f'<polyline fill="none" stroke="#2166ac" stroke-width="1.5" points="{points}"/>'
        f'<text x="2" y="{height + 11}" font-size="10" font-family="sans-serif">'
        f"{'log ' if log else ''}error {_e(label)}</text></svg>"
    )


def history_html(history: Any) -> str:
    """The settings, a small error curve (log scale) and the first and last epochs' errors."""
    errors = np.asarray(history.errors)
    info = _fields_html(
        [
            ("epochs", history.epochs),
            ("alpha", _g(history.alpha, 6)),
            ("batch_size", history.batch_size),
            ("backend", history.backend),
            ("final error", _g(history.final_error, 12)),
        ]
    )
    n = errors.size
    shown = list(range(n)) if n <= 10 else [*range(5), -1, *range(n - 5, n)]
    rows = [["...", "..."] if i < 0 else [i + 1, _g(errors[i], 12)] for i in shown]
    return _box("History", info, sparkline(errors), table_html(["epoch", "error"], rows))


# -- StepTrace ------------------------------------------------------------------------------


def trace_repr(trace: Any) -> str:
    layers = trace.layers
    sizes = [int(np.asarray(a).shape[1]) for a in layers]
    rows = int(np.asarray(layers[0]).shape[0])
    prediction = np.asarray(trace.prediction)
    return (
        f"StepTrace(rows={rows}, sizes={_sizes(sizes)}, error={_g(trace.error, 6)}, "
        f"prediction={_numbers(prediction)}; .layers, .deltas, .weight_deltas, .errors)"
    )


def trace_html(trace: Any) -> str:
    """The book's backpropagation figure, or without matplotlib the same numbers as tables:
    every layer, every delta, every weight delta."""
    from . import figures

    head = _fields_html([("error", _g(trace.error, 12)), ("rows", len(trace.layers[0]))])
    drawn = len(trace.weight_deltas) <= _MAX_DRAWN
    svg = _figure(lambda: figures.step_figure(trace)) if drawn else None
    if svg is not None:
        return _box("StepTrace: one iteration of backpropagation", head, svg)
    tables = [_matrix_html(a, f"layer_{l}") for l, a in enumerate(trace.layers)]
    tables += [_matrix_html(d, f"layer_{l + 1}_delta") for l, d in enumerate(trace.deltas)]
    tables += [
        _matrix_html(g, f"weight_delta_{l}_{l + 1}") for l, g in enumerate(trace.weight_deltas)
    ]
    return _box("StepTrace: one iteration of backpropagation", head, *tables)


# -- VerifyReport ---------------------------------------------------------------------------


def verify_repr(report: Any) -> str:
    return (
        f"VerifyReport(ok={report.ok}, sizes={_sizes(report.sizes)}, dtype={report.dtype!r}, "
        f"alpha={_g(report.alpha, 6)}, epochs={report.epochs}, "
        f"batch_size={report.batch_size}, backends={_summary(tuple(report.backends))}, "
        f"unavailable={_summary(list(report.unavailable))}); print() it for the table"
    )


def verify_html(report: Any) -> str:
    """Every backend's row (and every unavailable backend's reason) as an HTML table."""
    rows = []
    for c in report.comparisons:
        note = (
            "reference"
            if c.backend == "numpy"
            else "must be bitwise"
            if c.required
            else "BLAS flavour, drift allowed"
        )
        rows.append(
            [c.backend, "yes" if c.bitwise else "NO", _g(c.max_abs, 3), str(c.max_ulp), note]
        )
    rows += [[name, "-", "-", "-", why] for name, why in report.unavailable.items()]
    caption = (
        f"sizes {_sizes(report.sizes)}, dtype {report.dtype}, alpha {_g(report.alpha, 6)}, "
        f"epochs {report.epochs}, batch_size {report.batch_size}"
    )
    verdict = "OK" if report.ok else "MISMATCH"
    color = "#1b7837" if report.ok else "#b2182b"
    return _box(
        "VerifyReport",
        table_html(
            ["backend", "bitwise", "max abs diff", "max ULP", "note"], rows, caption=caption
        ),
        f'<div style="color:{color};font-family:monospace">{_e(report.summary())}</div>'
        if hasattr(report, "summary")
        else f'<div style="color:{color}">{verdict}</div>',
    )


# -- SweepResult ----------------------------------------------------------------------------


def _quantiles(errors: Any) -> list[str]:
    values = np.asarray(errors, dtype=np.float64)
    if values.size == 0:
        return ["-"] * 5
    values = np.where(np.isnan(values), np.inf, values)  # a diverged network: infinitely bad
    return [_g(q, 3) for q in np.quantile(values, (0, 0.05, 0.5, 0.95, 1), method="lower")]


def _shape(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, list):
        return "[" + ", ".join(str(np.asarray(v).shape) for v in value[:_MAX_LIST]) + "]"
    return str(np.asarray(value).shape)


def sweep_repr(result: Any) -> str:
    n = len(result.seeds)
    median = _quantiles(result.final_errors)[2]
    return (
        f"SweepResult({n} networks {_sizes(result.sizes)} {_activation(result)} "
        f"{_dtype(result)}, epochs={result.epochs}, batch_size={result.batch_size}, "
        f"backend={result.backend!r}, seeds={_numbers(result.seeds)}, "
        f"alphas={_numbers(np.unique(result.alphas))}, "
        f"diverged={int(np.count_nonzero(result.diverged))}, median final error={median}, "
        f"curves={_shape(result.curves)}, weights={_shape(result.weights)})"
    )


def _decade_histogram(errors: Any) -> str:
    """Counts of final errors per power of ten, as an HTML table of text bars."""
    values = np.asarray(errors, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    diverged = values.size - finite.size
    exponents = np.floor(np.log10(np.where(finite > 0, finite, np.nan)))
    zeros = int(np.count_nonzero(finite == 0))
    counts: dict[str, int] = {}
    if zeros:
        counts["0"] = zeros
    valid = exponents[np.isfinite(exponents)].astype(int)
    for e in range(int(valid.min()), int(valid.max()) + 1) if valid.size else ():
        counts[f"1e{e}"] = int(np.count_nonzero(valid == e))
    if diverged:
        counts["diverged"] = diverged
    top = max(counts.values(), default=1)
    rows = [[k, v, "█" * math.ceil(30 * v / top) if v else ""] for k, v in counts.items()]
    return table_html(["final error from", "networks", ""], rows, caption="final errors")


def sweep_html(result: Any) -> str:
    """The sweep's settings, the final errors' quantiles and convergence, and a histogram
    of the final errors (matplotlib's, else a table of text bars per power of ten)."""
    errors = np.asarray(result.final_errors)
    converged = ~np.asarray(result.diverged) & (errors < _CONVERGED)
    info = _fields_html(
        [
            ("networks", f"{len(result.seeds):,} (seeds outer, alphas inner)"),
            ("sizes", _sizes(result.sizes)),
            ("activation, dtype", f"{_activation(result)}, {_dtype(result)}"),
            ("epochs, batch_size", f"{result.epochs}, {result.batch_size}"),
            ("backend", result.backend),
            ("seeds", _numbers(result.seeds)),
            ("alphas", _numbers(np.unique(result.alphas))),
            ("diverged", int(np.count_nonzero(result.diverged))),
            (
                f"final error < {_CONVERGED:g}",
                f"{100 * converged.mean():.2f}%" if len(errors) else "-",
            ),
            ("curves, weights", f"{_shape(result.curves)}, {_shape(result.weights)}"),
        ]
    )
    quantiles = table_html(
        ["final error", "min", "5%", "median", "95%", "max"], [["", *_quantiles(errors)]]
    )

    def draw() -> Any:
        from .plot import convergence_histogram

        fig = convergence_histogram(
            {f"{_sizes(result.sizes)} {_activation(result)}": errors}, threshold=_CONVERGED
        )
        fig.set_size_inches(6.0, 2.4)
        return fig

    svg = _figure(draw) if errors.size else None
    return _box(
        "SweepResult", info, quantiles, svg if svg is not None else _decade_histogram(errors)
    )


# -- experiment results and other tables ----------------------------------------------------------


def table_result_html(result: Any, title: str | None = None) -> str:
    """A result that renders itself with ``table()``: that table, preformatted."""
    return _box(title or type(result).__name__, _pre(result.table()))


class ShortRepr:
    """Mixin: a short plain repr whatever the size of the data (a dataclass using it is
    declared with ``repr=False``, so that its generated repr does not replace this one)."""

    def __repr__(self) -> str:
        return short_repr(self)


class TableDisplay(ShortRepr):
    """Mixin for results that print a table: the short repr and the table as HTML."""

    def _repr_html_(self) -> str:
        return table_result_html(self)
