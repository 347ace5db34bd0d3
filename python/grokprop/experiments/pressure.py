"""The chapter's "up and down pressure" table: which way each example pushes each weight."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _display, datasets
from .._typing import FloatArray
from ..chapter6 import BOOK_WEIGHTS
from ..network import Network
from ..specs import Activation
from ._common import Data, PathLike, one_of
from ._table import columns, g, signed

__all__ = [
    "AT_CHOICES",
    "DEFAULTS",
    "PressureDefaults",
    "PressureResult",
    "pressure",
    "pressure_signs",
]

At = Literal["book", "start", "trained"]
#: Where :func:`pressure` can evaluate the predictions (see its ``at``).
AT_CHOICES: tuple[At, ...] = get_args(At)


@dataclass(frozen=True)
class PressureDefaults:
    """The defaults of :func:`pressure` and of ``grokprop pressure``: the chapter's program 2."""

    data: Data = "linear"
    at: At = "book"
    alpha: float = 0.1
    epochs: int = 40


DEFAULTS = PressureDefaults()


@dataclass(frozen=True, repr=False)
class PressureResult(_display.TableDisplay):
    """Each example's pressure on each weight of a linear network ``[n, 1]``.

    The pressure of example ``i`` on weight ``k`` is the sign of ``-(x[i, k] * delta[i])``
    with ``delta[i] = prediction[i] - goal[i]``: the direction in which the example's
    weight delta moves the weight (``+1`` up, ``-1`` down, ``0`` untouched because the
    input is 0 or the prediction is right). ``net`` adds the signs per weight, as the
    chapter's table is read.
    """

    X: FloatArray
    """``(m, n)`` the examples."""
    goals: FloatArray
    """``(m,)`` their targets."""
    at: str
    """Which predictions the pressure was evaluated at (see :func:`pressure`)."""
    predictions: FloatArray
    """``(m,)`` the prediction for each example at that point."""
    pressure: NDArray[np.int8]
    """``(m, n)`` ``+1``, ``-1`` or ``0``."""
    start: FloatArray
    """``(n,)`` the weights training started from."""
    trained: FloatArray
    """``(n,)`` the weights after ``epochs`` epochs of stochastic descent from ``start``."""
    alpha: float
    epochs: int
    data: str

    @property
    def deltas(self) -> FloatArray:
        return self.predictions - self.goals

    @property
    def net(self) -> NDArray[np.int64]:
        """``(n,)`` per weight: the number of ``+`` minus the number of ``-``."""
        total: NDArray[np.int64] = self.pressure.sum(axis=0, dtype=np.int64)
        return total

    def table(self) -> str:
        n = self.X.shape[1]
        head = [
            f"Weight pressure: a linear network [{n}, 1] on the {self.data} streetlights.",
            "pressure = sign of -(input * delta), delta = prediction - goal: the direction each",
            "example pushes each weight (+ up, - down, 0 untouched).",
            f"evaluated at: {self.at}",
            "",
        ]
        symbols = {1: "+", -1: "-", 0: "0"}
        weights = [f"w{k}" for k in range(n)]
        rows: list[list[str]] = [["example", "inputs", "goal", "prediction", "delta", *weights]]
        rows += [
            [
                str(i),
                " ".join(g(v) for v in self.X[i]),
                g(self.goals[i]),
                g(self.predictions[i], 4),
                g(self.deltas[i], 4),
                *(symbols[int(p)] for p in self.pressure[i]),
            ]
            for i in range(self.X.shape[0])
        ]
        footer = [
            ("net pressure (number of + minus -)", [signed(c) for c in self.net]),
            ("weights at the start", [f"{w:.4g}" for w in self.start]),
            (
                f"trained ({self.epochs} epochs, alpha {self.alpha:g})",
                [f"{w:.4g}" for w in self.trained],
            ),
        ]
        return "\n".join(head + columns(rows, left=2, footer=footer))

    def plot(self, path: PathLike) -> Path:
        """The pressure table as a picture (+ green, - red, the net pressure below), written
        to ``path``.

        Returns the file written: ``path``, with ``.png`` added if it has no extension.
        """
        from ..plot import figure_path, pressure_table

        written = figure_path(path)
        pressure_table(
            self.X,
            self.goals,
            self.pressure,
            path=written,
            title=f"Weight pressure on the {self.data} streetlights, at {self.at}",
        )
        return written


def pressure_signs(inputs: ArrayLike, deltas: ArrayLike) -> NDArray[np.int8]:
    """``(m, n, k)``: which way example ``i`` pushes the weight from input ``n`` to output
    ``k`` -- the sign of ``-(inputs[i, n] * deltas[i, k])``, its weight delta's direction
    (``+1`` up, ``-1`` down, ``0`` untouched). ``inputs`` ``(m, n)`` are a layer's values
    for each example, ``deltas`` ``(m, k)`` the next layer's deltas."""
    a, d = np.asarray(inputs), np.asarray(deltas)
    signs: NDArray[np.int8] = np.sign(-(a[:, :, None] * d[:, None, :])).astype(np.int8)
    return signs


def pressure(
    data: Data = DEFAULTS.data,
    *,
    at: At = DEFAULTS.at,
    start: ArrayLike = BOOK_WEIGHTS,
    alpha: float = DEFAULTS.alpha,
    epochs: int = DEFAULTS.epochs,
    backend: str | None = None,
) -> PressureResult:
    """The weight-pressure table of a linear network ``[3, 1]`` on the streetlights.

    ``at`` chooses the predictions the pressure is evaluated at:

    * ``"book"`` (the chapter's table): a prediction halfway between the goals (0.5) for
      every example, as before the network has learned anything — an example with goal 1
      pushes the weights of its lit inputs up, one with goal 0 pushes them down;
    * ``"start"``: the predictions of the starting weights ``start``;
    * ``"trained"``: the predictions after training (the pressure that is left).

    The network is trained from ``start`` (the chapter's ``[0.5, 0.48, -0.7]``) for
    ``epochs`` epochs of stochastic descent with ``alpha`` (the chapter's program 2).
    """
    if at not in AT_CHOICES:
        raise ValueError(f"at must be {one_of(AT_CHOICES)}, got {at!r}")
    X_int, y_int = datasets.streetlights(data)
    net = Network(weights=start, activation=Activation.LINEAR)
    X = X_int.astype(net.dtype)
    goals = y_int[:, 0].astype(net.dtype)
    start_weights = net.weights[0][:, 0].copy()
    before = net.predict(X, backend=backend)[:, 0]
    net.fit(X, y_int, alpha=alpha, epochs=epochs, backend=backend)
    if at == "book":
        halfway = (goals.min() + goals.max()) / 2
        predictions = np.full_like(goals, halfway)
        where = f"a prediction of {g(halfway)} for every example (the chapter's table)"
    elif at == "start":
        predictions, where = before, f"the starting weights {start_weights.tolist()}"
    else:
        predictions = net.predict(X, backend=backend)[:, 0]
        where = f"the weights after {epochs} epochs of training"
    return PressureResult(
        X=X,
        goals=goals,
        at=where,
        predictions=predictions,
        pressure=pressure_signs(X, (predictions - goals)[:, None])[:, :, 0],
        start=start_weights,
        trained=net.weights[0][:, 0].copy(),
        alpha=alpha,
        epochs=epochs,
        data=data,
    )
