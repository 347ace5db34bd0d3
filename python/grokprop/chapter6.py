"""The chapter's programs 1–5, printing what the book prints (docs/design.md, "The math").

Each program returns its lines so that the CLI prints them and the tests compare
them with the book. Numbers use the book's 12 significant digits (``'%.12g'``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from . import datasets
from .network import Network

__all__ = ["PROGRAMS", "fmt", "run_all"]

BOOK_WEIGHTS = [0.5, 0.48, -0.7]


def fmt(value: float) -> str:
    """A number as the book prints it: 12 significant digits."""
    return f"{float(value):.12g}"


def _fmt_matrix(matrix: np.ndarray) -> str:
    return "[" + ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in matrix) + "]"


def one_streetlight(backend: str | None = None) -> list[str]:
    """Program 1: learn one streetlight; error and prediction before each of 20 updates."""
    X, y = datasets.streetlights()
    net = Network(weights=BOOK_WEIGHTS)
    lines = []
    for _ in range(20):
        trace = net.step(X[0:1], y[0:1], alpha=0.1, backend=backend)
        lines.append(f"Error:{fmt(trace.errors[0])} Prediction:{fmt(trace.prediction[0, 0])}")
    return lines


def whole_dataset(backend: str | None = None) -> list[str]:
    """Program 2: stochastic gradient descent over all six streetlights, 40 epochs."""
    X, y = datasets.streetlights()
    net = Network(weights=BOOK_WEIGHTS)
    history = net.fit(X, y, alpha=0.1, epochs=40, backend=backend)
    lines = [f"Error:{fmt(e)}" for e in history.errors]
    lines.append("Weights:" + _fmt_matrix(net.weights[0].T) + "  (the middle light wins)")
    return lines


def deep_forward(backend: str | None = None) -> list[str]:
    """Program 3: the first deep network [3, 4, 1] (seed 1), forward pass on row 0."""
    X, _ = datasets.streetlights("nonlinear")
    layers = Network([3, 4, 1], seed=1).forward(X[0:1], backend=backend)
    return [f"layer_{i} = {_fmt_matrix(layer)}" for i, layer in enumerate(layers)]


def backprop_iteration(backend: str | None = None) -> list[str]:
    """Program 4: one iteration of backpropagation, [3, 3, 1] (seed 1), alpha 0.2, row 0."""
    X, y = datasets.streetlights("nonlinear")
    net = Network([3, 3, 1], seed=1)
    trace = net.step(X[0:1], y[0:1], alpha=0.2, backend=backend)
    lines = [f"layer_{i} = {_fmt_matrix(layer)}" for i, layer in enumerate(trace.layers)]
    lines.append(f"error = {fmt(trace.error)}")
    lines += [f"layer_{i + 1}_delta = {_fmt_matrix(d)}" for i, d in enumerate(trace.deltas)]
    lines += [
        f"weight_delta_{i}_{i + 1} = {_fmt_matrix(g)}" for i, g in enumerate(trace.weight_deltas)
    ]
    lines += [f"weights_{i}_{i + 1} = {_fmt_matrix(w)}" for i, w in enumerate(net.weights)]
    return lines


def putting_it_together(backend: str | None = None) -> list[str]:
    """Program 5: [3, 4, 1] relu network, alpha 0.2, 60 epochs; error every 10th epoch."""
    X, y = datasets.streetlights("nonlinear")
    history = Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60, backend=backend)
    return [f"Error:{fmt(e)}" for e in history.errors[9::10]]


PROGRAMS: dict[str, tuple[str, Callable[[str | None], list[str]]]] = {
    "1": ("Learning one streetlight (weights [0.5, 0.48, -0.7], alpha 0.1)", one_streetlight),
    "2": ("The whole dataset, stochastic gradient descent (40 epochs)", whole_dataset),
    "3": ("The first deep network, forward pass (seed 1, [3, 4, 1])", deep_forward),
    "4": ("One iteration of backpropagation (seed 1, [3, 3, 1], alpha 0.2)", backprop_iteration),
    "5": ("Putting it all together (seed 1, [3, 4, 1], alpha 0.2, 60 epochs)", putting_it_together),
}


def run_all(backend: str | None = None) -> Iterable[str]:
    """Every program in order, each under a heading."""
    for number, (title, program) in PROGRAMS.items():
        yield f"== {number}. {title}"
        yield from program(backend)
        yield ""
