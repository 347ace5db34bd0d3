"""One step of backpropagation explained: every equation with its numbers plugged in, in the
book's notation (``layer_0``, ``weights_0_1``, ``layer_1_delta``, ``relu2deriv``).

* :func:`explain_step` ``(net, X, y, alpha=...)`` prints the whole step of ``net`` on the
  rows ``X`` (``net`` is not changed): the forward pass, the error, each delta, each
  weight delta and each updated weight matrix.
* ``trace.explain()`` (:func:`explain_trace`) prints what a :class:`grokprop.StepTrace`
  holds; given the weights from before the step and alpha, the update too.
* ``grokprop explain`` (:mod:`grokprop.cli`) prints it on the command line; by
  default for the book's program 4 (seed 1, ``[3, 3, 1]``, alpha 0.2, row 0).

``convention="book"`` is the chapter's ``layer_2_delta = layer_2 - goal`` with
``weights -= alpha * weight_delta``; ``"other"`` is the one the book's program 5 writes,
``layer_2_delta = goal - layer_2`` with ``weights += alpha * weight_delta``; ``"both"``
prints both and checks that they give the same new weights, bit for bit.

``·`` is the matrix (dot) product, ``*`` elementwise, ``ᵀ`` the transpose. Numbers are
printed with 5 decimals (``digits=``), exact zeros as ``0``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from typing import IO, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _stepmath
from ._stepmath import Array
from .specs import Activation

__all__ = ["explain_step", "explain_trace", "explanation", "trace_explanation"]

Convention = Literal["book", "other", "both"]
CONVENTIONS = ("book", "other", "both")
_MAX_ITEMS = 8  # entries per row, and rows, printed before "..."


# -- formatting -----------------------------------------------------------------------------


class _Fmt:
    def __init__(self, digits: int) -> None:
        if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 17:
            raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
        self.digits = digits

    def num(self, value: Any) -> str:
        v = float(value)
        if v == 0:
            return "0"
        if not np.isfinite(v):
            return str(v)
        if v.is_integer() and abs(v) < 1e6:
            return str(int(v))  # the book's 0/1 lights and goals
        if 10.0 ** (-self.digits + 1) <= abs(v) < 1e6:
            return f"{v:.{self.digits}f}"
        return f"{v:.{self.digits - 1}e}"

    def row(self, values: Any) -> str:
        flat = list(np.asarray(values).ravel())
        if len(flat) > _MAX_ITEMS:
            shown = [*map(self.num, flat[: _MAX_ITEMS - 2]), "...", self.num(flat[-1])]
        else:
            shown = list(map(self.num, flat))
        return "[" + ", ".join(shown) + "]"

    def matrix(self, values: Any) -> str:
        """A 2-D array; a single row is printed as a vector, like the book's ``layer_1``."""
        array = np.asarray(values)
        if array.ndim == 2 and array.shape[0] == 1:
            return self.row(array[0])
        rows = [self.row(r) for r in array]
        if len(rows) > _MAX_ITEMS:
            rows = [*rows[: _MAX_ITEMS - 2], "...", rows[-1]]
        return "[" + ", ".join(rows) + "]"


class _Lines:
    """Equations: ``name = symbols``, then ``= numbers`` lines aligned under the ``=``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def eq(self, name: str, op: str, *steps: str) -> None:
        self.lines.append(f"{name} {op} {steps[0]}")
        pad = " " * (len(name) + len(op))  # the continuations' "=" under op's "="
        self.lines += [f"{pad}= {s}" for s in steps[1:]]

    def text(self, line: str = "") -> None:
        self.lines.append(line)


# -- what is explained -----------------------------------------------------------------------


def _activation_of(trace: Any, activation: Activation | str | None) -> Activation:
    """The hidden layers' activation: as given, else the trace's ``activation`` if it has
    one, else relu or linear inferred (relu leaves hidden values >= 0 and the delta of a 0
    unit exactly 0)."""
    if activation is None:
        activation = getattr(trace, "activation", None)
    if activation is not None:
        return _stepmath.activation_of(activation)
    hidden = list(zip(trace.layers[1:-1], trace.deltas[:-1]))
    relu = bool(hidden) and all(
        not np.any(np.asarray(a) < 0) and np.all(np.asarray(d)[np.asarray(a) == 0] == 0)
        for a, d in hidden
    )
    return Activation.RELU if relu else Activation.LINEAR


def _explain(
    layers: Sequence[Array],
    deltas: Sequence[Array],
    weight_deltas: Sequence[Array],
    errors: Array,
    *,
    activation: Activation,
    goal: Array,
    weights: Sequence[Array] | None,
    new_weights: Sequence[Array] | None,
    alpha: float | None,
    convention: str,
    digits: int,
    title: str,
) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    f = _Fmt(digits)
    out = _Lines()
    L = len(layers) - 1
    m = layers[0].shape[0]
    nonlinear = activation is not Activation.LINEAR
    act = activation.label
    deriv = _stepmath.DERIVATIVE_NAMES.get(activation, "")
    out.text(title)
    out.text("· is the dot product, * elementwise, ᵀ the transpose; every delta uses the")
    out.text("weights from before this step's update.")
    out.text()

    # forward
    out.eq("layer_0", "=", f.matrix(layers[0]))
    for l in range(1, L + 1):
        w = f"weights_{l - 1}_{l}"
        hidden = nonlinear and l < L
        symbolic = f"{act}(layer_{l - 1} · {w})" if hidden else f"layer_{l - 1} · {w}"
        steps = [symbolic]
        if weights is not None:
            product = f"{f.matrix(layers[l - 1])} · {f.matrix(weights[l - 1])}"
            steps.append(f"{act}({product})" if hidden else product)
            if hidden:
                pre = _stepmath.dot(layers[l - 1], weights[l - 1])
                steps.append(f"{act}({f.matrix(pre)})")
        steps.append(f.matrix(layers[l]))
        out.eq(f"layer_{l}", "=", *steps)
    total = errors.dtype.type(0)
    for e in errors:
        total = errors.dtype.type(total + e)
    out.eq(
        "error",
        "=",
        f"sum((layer_{L} - goal) ** 2)" + (" over the rows" if m > 1 else ""),
        f"sum(({f.matrix(layers[L])} - {f.matrix(goal)}) ** 2)",
        f.num(total),
    )

    passes = ["book", "other"] if convention == "both" else [convention]
    results: dict[str, list[Array]] = {}
    for which in passes:
        sign = 1 if which == "book" else -1
        out.text()
        if which == "book":
            out.text(f"The book's sign convention: layer_{L}_delta = layer_{L} - goal, weights -=")
        else:
            out.text(
                f"The other sign convention (the book's program 5): layer_{L}_delta = goal - "
                f"layer_{L}, weights +="
            )
        d = [sign * np.asarray(x) for x in deltas]  # negation is exact: the same numbers
        G = [sign * np.asarray(x) for x in weight_deltas]
        first, second = (f"layer_{L}", "goal") if sign > 0 else ("goal", f"layer_{L}")
        values = (layers[L], goal) if sign > 0 else (goal, layers[L])
        out.eq(
            f"layer_{L}_delta",
            "=",
            f"{first} - {second}",
            f"{f.matrix(values[0])} - {f.matrix(values[1])}",
            f.matrix(d[L - 1]),
        )
        for l in range(L - 1, 0, -1):
            w = f"weights_{l}_{l + 1}"
            symbolic = f"layer_{l + 1}_delta · {w}ᵀ" + (
                f" * {deriv}(layer_{l})" if nonlinear else ""
            )
            steps = [symbolic]
            mask = f.matrix(_stepmath.derivative(layers[l], activation))
            if weights is not None:
                product = f"{f.matrix(d[l])} · {f.matrix(weights[l].T)}"
                back = _stepmath.dot_t(d[l], weights[l])
                if nonlinear:
                    steps += [f"({product}) * {mask}", f"{f.matrix(back)} * {mask}"]
                else:
                    steps.append(product)
            elif nonlinear:
                steps.append(f"(layer_{l + 1}_delta · {w}ᵀ) * {mask}")
            steps.append(f.matrix(d[l - 1]))
            out.eq(f"layer_{l}_delta", "=", *steps)
        for l in range(L - 1, -1, -1):
            average = f" / {m}" if m > 1 else ""
            out.eq(
                f"weight_delta_{l}_{l + 1}",
                "=",
                f"layer_{l}ᵀ · layer_{l + 1}_delta{average}",
                f"{f.matrix(layers[l].T)} · {f.matrix(d[l])}{average}",
                f.matrix(G[l]),
            )
        op = "-=" if sign > 0 else "+="
        rate = "alpha" if alpha is None else f"{alpha:g}"
        updated: list[Array] = []
        for l in range(L - 1, -1, -1):
            name = f"weights_{l}_{l + 1}"
            steps = [f"alpha * weight_delta_{l}_{l + 1}"]
            if weights is not None and alpha is not None:
                W = weights[l]
                new = W - W.dtype.type(alpha) * G[l] if sign > 0 else W + W.dtype.type(alpha) * G[l]
                updated.insert(0, new)
                steps += [f"{f.matrix(W)} {op[0]} {rate} * {f.matrix(G[l])}", f.matrix(new)]
            elif alpha is not None:
                steps.append(f"{rate} * {f.matrix(G[l])}")
            out.eq(name, op, *steps)
        if weights is None or alpha is None:
            out.text("(give the weights from before the step and alpha to see the new weights)")
        else:
            results[which] = updated
    if len(results) == 2:
        same = all(np.array_equal(a, b) for a, b in zip(results["book"], results["other"]))
        out.text()
        out.text(
            "Both conventions give the same new weights, bit for bit: " + ("yes" if same else "NO")
        )
        out.text("(goal - layer is exactly -(layer - goal): every delta and weight delta flips")
        out.text("its sign, and += adds exactly what -= subtracts)")
    if new_weights is not None and "book" in results:
        agrees = all(np.array_equal(a, b) for a, b in zip(results["book"], new_weights))
        out.text()
        out.text("These are the network's new weights, bit for bit: " + ("yes" if agrees else "NO"))
    return "\n".join(out.lines)


def _as_list(values: Any) -> list[Array]:
    return [np.asarray(v) for v in values]


def _goal_of(prediction: Array, delta: Array) -> Array:
    """The goal a trace's ``delta = prediction - goal`` came from: ``prediction - delta``
    is the goal only up to rounding, so a round number that gives the delta back exactly
    (the book's 0/1 goals) is taken instead."""
    derived = prediction - delta
    for candidate in (np.round(derived), np.round(derived, 6)):
        if np.array_equal(prediction - candidate, delta):
            return candidate
    return derived


def trace_explanation(
    trace: Any,
    *,
    weights: Sequence[ArrayLike] | None = None,
    alpha: float | None = None,
    goal: ArrayLike | None = None,
    activation: Activation | str | None = None,
    convention: Convention = "book",
    digits: int = 5,
) -> str:
    """The text :func:`explain_trace` prints."""
    layers = _as_list(trace.layers)
    deltas = _as_list(trace.deltas)
    dtype = layers[0].dtype
    target = (
        _goal_of(layers[-1], deltas[-1])
        if goal is None
        else np.asarray(goal, dtype=dtype).reshape(layers[-1].shape)
    )
    matrices = None
    if weights is not None:
        matrices = [np.asarray(w, dtype=dtype) for w in weights]
        shapes = [(a.shape[1], b.shape[1]) for a, b in itertools.pairwise(layers)]
        if [w.shape for w in matrices] != shapes:
            raise ValueError(
                f"weights must have the shapes {shapes} of the trace's layers, got "
                f"{[w.shape for w in matrices]}"
            )
    hidden = _activation_of(trace, activation)
    sizes = [a.shape[1] for a in layers]
    rows = layers[0].shape[0]
    title = (
        f"One iteration of backpropagation: {sizes}, "
        f"{hidden.label} hidden layers"
        + (f", alpha = {alpha:g}" if alpha is not None else "")
        + (f", {rows} rows (weight deltas averaged)" if rows > 1 else "")
    )
    return _explain(
        layers,
        deltas,
        _as_list(trace.weight_deltas),
        np.asarray(trace.errors),
        activation=hidden,
        goal=target,
        weights=matrices,
        new_weights=None,
        alpha=alpha,
        convention=convention,
        digits=digits,
        title=title,
    )


def explain_trace(trace: Any, *, file: IO[str] | None = None, **options: Any) -> None:
    """Print each equation of the step ``trace`` records, with its numbers plugged in.

    A :class:`grokprop.StepTrace` holds the layers, deltas and weight deltas, not the
    weights it started from nor alpha: pass ``weights=`` (as they were before the step) and
    ``alpha=`` to see the products and the update, or use :func:`explain_step`. ``goal``
    defaults to the prediction minus its delta; ``activation`` (an :class:`Activation` or its
    name) is the trace's, else relu or linear inferred, unless given.
    ``convention`` is ``"book"``, ``"other"`` or ``"both"`` (see the module).
    """
    print(trace_explanation(trace, **options), file=file or sys.stdout)


def explanation(
    net: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    alpha: float,
    convention: Convention = "book",
    digits: int = 5,
    backend: str | None = None,
) -> str:
    """The text :func:`explain_step` prints."""
    hidden = _stepmath.activation_of(net.activation)
    model = net.copy()  # the step runs on a copy: net keeps its weights
    before = [w.copy() for w in model.weights]
    trace = model.step(X, y, alpha=alpha, backend=backend)
    dtype = before[0].dtype
    layers = _as_list(trace.layers)
    goal = np.asarray(y, dtype=dtype).reshape(layers[-1].shape)
    rows = layers[0].shape[0]
    title = (
        f"One iteration of backpropagation: Network {list(net.sizes)}, {hidden.label}, "
        f"alpha = {alpha:g}, {rows} row{'s' if rows > 1 else ''}"
        + (" (weight deltas averaged over the rows)" if rows > 1 else "")
    )
    return _explain(
        layers,
        _as_list(trace.deltas),
        _as_list(trace.weight_deltas),
        np.asarray(trace.errors),
        activation=hidden,
        goal=goal,
        weights=before,
        new_weights=[np.asarray(w) for w in model.weights],
        alpha=alpha,
        convention=convention,
        digits=digits,
        title=title,
    )


def explain_step(
    net: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    alpha: float,
    convention: Convention = "book",
    digits: int = 5,
    backend: str | None = None,
    file: IO[str] | None = None,
) -> None:
    """Print one step of ``net`` on the rows ``X`` with targets ``y``, every equation with
    its numbers: the forward pass, the error, the deltas, the weight deltas and the new
    weights (``net`` is not changed; the step runs on a copy).

    For the book's program 4::

        X, y = gp.datasets.streetlights("nonlinear")
        gp.explain_step(gp.Network([3, 3, 1], seed=1), X[0:1], y[0:1], alpha=0.2)

    prints ``layer_1 = ... = [0, 0.13177, 0]``, ``layer_2 = ... = [-0.02130]`` and
    ``error = ... = 1.04304``. ``convention="both"`` also prints the other sign convention
    and checks that it gives the same new weights.
    """
    text = explanation(
        net, X, y, alpha=alpha, convention=convention, digits=digits, backend=backend
    )
    print(text, file=file or sys.stdout)
