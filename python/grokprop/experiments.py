"""The chapter's claims, measured (SPEC §4 programs 6–8 and the chapter's overfitting remark).

Each experiment is a function returning a result object that holds the data and renders
it with ``table()`` (the CLI prints that) and, where it makes sense, ``plot(path)``:

* :func:`pressure` — which way each example pushes each weight of a linear network
  (the chapter's "up and down pressure" table) and where training takes the weights;
* :func:`linear_vs_nonlinear` — the deep network with and without relu, and a network
  without hidden layer, on the nonlinear streetlights, over many seeds;
* :func:`overfit` — networks trained on the first two streetlights only, scored on the
  four they never saw;
* :func:`modes` — stochastic, mini-batch and full gradient descent on the streetlights.

Sweeps over seeds run through :func:`grokprop.sweep` (all networks in compiled code);
held-out errors follow the evaluation order of SPEC §3, so they equal what
``Network(weights=...).predict`` gives, bit for bit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validation as check
from . import datasets
from .backends import resolve
from .backends._protocol import FloatArray
from .backends.reference import ReferenceBackend
from .chapter6 import BOOK_WEIGHTS
from .network import Network
from .sweep import SweepResult, sweep

__all__ = [
    "ConvergenceRow",
    "LinearVsNonlinearResult",
    "ModeRun",
    "ModesResult",
    "OverfitResult",
    "OverfitRow",
    "PressureResult",
    "held_out_errors",
    "linear_vs_nonlinear",
    "modes",
    "overfit",
    "pressure",
]

#: A network has converged when its final epoch error is below this (SPEC §4, program 7).
CONVERGED = 1e-3
QUANTILES = (0.0, 0.05, 0.5, 0.95, 1.0)
_QUANTILE_NAMES = ("min", "5%", "median", "95%", "max")
_REFERENCE = ReferenceBackend()  # its relu and per-row error, in the contract's order

PathLike = str | os.PathLike[str]
Data = Literal["linear", "nonlinear"]


def _columns(
    rows: Sequence[Sequence[str]],
    left: int = 1,
    footer: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[str]:
    """Rows of cells as aligned text: the first ``left`` columns flush left, the rest right.

    A ``footer`` row is a label spanning the leading columns, then cells for the last ones.
    """
    n = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(n)]
    for _, cells in footer:  # widen the last columns for footer cells if needed
        for i, cell in zip(range(n - len(cells), n), cells):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str], first: int) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
            for i, cell in zip(range(first, n), cells)
        )

    lines = [line(row, 0).rstrip() for row in rows]
    for label, cells in footer:
        span = sum(widths[: n - len(cells)]) + 2 * (n - len(cells) - 1)
        lines.append(f"{label.ljust(span)}  {line(cells, n - len(cells))}".rstrip())
    return lines


def _g(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"


def _nan_as_inf(errors: FloatArray) -> NDArray[np.float64]:
    """Final errors with a diverged network's NaN counted as inf (infinitely bad)."""
    values = np.asarray(errors, dtype=np.float64)
    return np.where(np.isnan(values), np.inf, values)


def _order_statistics(errors: ArrayLike, quantiles: Sequence[float]) -> NDArray[np.float64]:
    """Quantiles as values of the data (the lower one at a tie, no interpolation), so that a
    diverged network's inf stays inf instead of turning into NaN."""
    return np.quantile(_nan_as_inf(np.asarray(errors)), quantiles, method="lower")


def _quantiles(errors: FloatArray) -> list[str]:
    return [_g(q) for q in _order_statistics(errors, QUANTILES)]


def _by_label(rows: Sequence[Any], label: str) -> Any:
    for row in rows:
        if row.label == label:
            return row
    raise KeyError(f"no row {label!r}; rows are {[row.label for row in rows]}")


def _label(sizes: Sequence[int], activation: str) -> str:
    kind = activation if len(sizes) > 2 else "no hidden layer"
    return f"{list(sizes)} {kind}"


# -- program 6: weight pressure ------------------------------------------------------------


@dataclass(frozen=True)
class PressureResult:
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
                " ".join(_g(v) for v in self.X[i]),
                _g(self.goals[i]),
                _g(self.predictions[i], 4),
                _g(self.deltas[i], 4),
                *(symbols[int(p)] for p in self.pressure[i]),
            ]
            for i in range(self.X.shape[0])
        ]
        footer = [
            ("net pressure (number of + minus -)", [_signed(c) for c in self.net]),
            ("weights at the start", [f"{w:.4g}" for w in self.start]),
            (
                f"trained ({self.epochs} epochs, alpha {self.alpha:g})",
                [f"{w:.4g}" for w in self.trained],
            ),
        ]
        return "\n".join(head + _columns(rows, left=2, footer=footer))


def _signed(count: int) -> str:
    return f"{count:+d}" if count else "0"


def pressure(
    data: Data = "linear",
    *,
    at: Literal["book", "start", "trained"] = "book",
    start: ArrayLike = BOOK_WEIGHTS,
    alpha: float = 0.1,
    epochs: int = 40,
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
    if at not in ("book", "start", "trained"):
        raise ValueError(f"at must be 'book', 'start' or 'trained', got {at!r}")
    X_int, y_int = datasets.streetlights(data)
    net = Network(weights=start, activation="linear")
    X = X_int.astype(net.dtype)
    goals = y_int[:, 0].astype(net.dtype)
    start_weights = net.weights[0][:, 0].copy()
    before = net.predict(X, backend=backend)[:, 0]
    net.fit(X, y_int, alpha=alpha, epochs=epochs, backend=backend)
    if at == "book":
        halfway = (goals.min() + goals.max()) / 2
        predictions = np.full_like(goals, halfway)
        where = f"a prediction of {_g(halfway)} for every example (the chapter's table)"
    elif at == "start":
        predictions, where = before, f"the starting weights {start_weights.tolist()}"
    else:
        predictions = net.predict(X, backend=backend)[:, 0]
        where = f"the weights after {epochs} epochs of training"
    pushes = -(X * (predictions - goals)[:, None])
    return PressureResult(
        X=X,
        goals=goals,
        at=where,
        predictions=predictions,
        pressure=np.sign(pushes).astype(np.int8),
        start=start_weights,
        trained=net.weights[0][:, 0].copy(),
        alpha=alpha,
        epochs=epochs,
        data=data,
    )


# -- program 7: linear vs nonlinear ----------------------------------------------------------


@dataclass(frozen=True)
class ConvergenceRow:
    """One kind of network over many seeds."""

    label: str
    result: SweepResult

    def converged_fraction(self, threshold: float = CONVERGED) -> float:
        return float(np.mean(self.result.converged(threshold)))

    def quantiles(self) -> NDArray[np.float64]:
        """Final-error quantiles (:data:`QUANTILES`); a diverged network counts as inf."""
        return _order_statistics(self.result.final_errors, QUANTILES)


@dataclass(frozen=True)
class LinearVsNonlinearResult:
    """The deep network with and without relu, and one without hidden layer, over seeds."""

    rows: list[ConvergenceRow]
    seeds: range
    alpha: float
    epochs: int
    threshold: float
    seconds: float
    """Wall time of the sweeps (all rows)."""

    def __getitem__(self, label: str) -> ConvergenceRow:
        row: ConvergenceRow = _by_label(self.rows, label)
        return row

    def table(self) -> str:
        first = self.rows[0].result
        head = [
            (
                f"Linear vs nonlinear: the nonlinear streetlights, {len(self.seeds)} seeds "
                f"({_seed_span(self.seeds)}), alpha {self.alpha:g}, {self.epochs} epochs, "
                "stochastic."
            ),
            (
                f"converged = final error < {self.threshold:g}; quantiles of the final error over "
                "the seeds."
            ),
            "",
        ]
        rows = [["network", "converged", "diverged", *_QUANTILE_NAMES]]
        rows += [
            [
                row.label,
                _percent(row.converged_fraction(self.threshold)),
                str(int(row.result.diverged.sum())),
                *_quantiles(row.result.final_errors),
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
        return "\n".join(head + _columns(rows) + foot)

    def plot(self, path: PathLike) -> None:
        """A histogram of the final errors of each kind of network, written to ``path``."""
        from .plot import convergence_histogram

        convergence_histogram(
            {row.label: row.result.final_errors for row in self.rows},
            path=path,
            title=f"Nonlinear streetlights: final error after {self.epochs} epochs, "
            f"{len(self.seeds)} seeds",
            threshold=self.threshold,
        )


def _seed_span(seeds: range) -> str:
    return f"seed {seeds.start}" if len(seeds) == 1 else f"seeds {seeds.start}..{seeds[-1]}"


def _seeds(n_seeds: int, first_seed: int) -> range:
    count = check.check_int(n_seeds, "n_seeds", minimum=1)
    first = check.check_int(first_seed, "first_seed", minimum=0)
    return range(first, first + count)


def linear_vs_nonlinear(
    n_seeds: int = 10_000,
    *,
    first_seed: int = 0,
    alpha: float = 0.2,
    epochs: int = 60,
    hidden: int = 4,
    threshold: float = CONVERGED,
    backend: str | None = None,
    progress: bool | None = None,
) -> LinearVsNonlinearResult:
    """Train ``[3, hidden, 1]`` with relu, the same network linear, and ``[3, 1]``.

    Every kind of network is trained from the book initialisation of each seed in
    ``first_seed .. first_seed + n_seeds - 1`` on the nonlinear streetlights with the
    chapter's program 5 settings (alpha 0.2, 60 epochs, stochastic). Without relu the
    middle layer adds nothing — a product of matrices is one matrix — so the deep linear
    network fails like the network without hidden layer.
    """
    X, y = datasets.streetlights("nonlinear")
    seeds = _seeds(n_seeds, first_seed)
    networks = [((3, hidden, 1), "relu"), ((3, hidden, 1), "linear"), ((3, 1), "linear")]
    resolve(backend)  # load the backend first: the timing is of training, not of imports
    start = time.perf_counter()
    rows = [
        ConvergenceRow(
            _label(sizes, activation),
            sweep(
                sizes,
                X,
                y,
                seeds=seeds,
                alphas=alpha,
                epochs=epochs,
                activation=activation,
                backend=backend,
                progress=progress,
            ),
        )
        for sizes, activation in networks
    ]
    seconds = time.perf_counter() - start
    return LinearVsNonlinearResult(rows, seeds, alpha, epochs, threshold, seconds)


# -- overfitting -------------------------------------------------------------------------------


def held_out_errors(
    weights: Sequence[FloatArray], X: ArrayLike, Y: ArrayLike, relu: bool
) -> FloatArray:
    """``(n,)`` the error of each of ``n`` networks on the rows of ``X``.

    ``weights`` is a sweep's per-layer ``(n, n_l, n_{l+1})`` stack. The error of a network
    is summed over the rows in order, each row's error over the outputs in order, every
    product summed in increasing index order (SPEC §3), vectorised across networks: the
    same bits as ``example_errors(Network(weights=...).predict(X), Y)`` summed in order.
    """
    dtype = weights[0].dtype
    rows = np.asarray(X, dtype=dtype)
    targets = np.asarray(Y, dtype=dtype).reshape(rows.shape[0], -1)
    n, last = weights[0].shape[0], len(weights) - 1
    total = np.zeros(n, dtype=dtype)
    for r in range(rows.shape[0]):
        a = np.broadcast_to(rows[r], (n, rows.shape[1]))
        for l, W in enumerate(weights):
            z = np.zeros((n, W.shape[2]), dtype=dtype)
            for k in range(W.shape[1]):
                z += a[:, k : k + 1] * W[:, k, :]
            a = _REFERENCE.relu(z) if relu and l < last else z
        total += _REFERENCE.example_errors(a, np.broadcast_to(targets[r], a.shape))
    return total


@dataclass(frozen=True)
class OverfitRow:
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


@dataclass(frozen=True)
class OverfitResult:
    """Memorize vs generalize: train on the first rows, score on the others."""

    rows: list[OverfitRow]
    train_rows: int
    unseen_rows: int
    seeds: range
    alpha: float
    epochs: int
    threshold: float

    def __getitem__(self, label: str) -> OverfitRow:
        row: OverfitRow = _by_label(self.rows, label)
        return row

    def table(self) -> str:
        head = [
            (
                f"Overfitting: trained on the first {self.train_rows} streetlights only, scored on "
                f"the other {self.unseen_rows}."
            ),
            (
                f"{len(self.seeds)} seeds ({_seed_span(self.seeds)}), alpha {self.alpha:g}, "
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
                _percent(row.memorized_fraction(self.threshold)),
                _percent(row.generalized_fraction(self.threshold)),
                _g(float(_order_statistics(row.result.final_errors, [0.5])[0])),
                *(_g(q) for q in _order_statistics(row.held_out, (0.05, 0.5, 0.95))),
            ]
            for row in self.rows
        ]
        return "\n".join(head + _columns(rows))

    def plot(self, path: PathLike) -> None:
        """Histograms of the training and the unseen-rows errors, written to ``path``."""
        from .plot import convergence_histogram

        errors: dict[str, Any] = {}
        for row in self.rows:
            errors[f"{row.label}: error on the {self.train_rows} trained rows"] = (
                row.result.final_errors
            )
            errors[f"{row.label}: error on the {self.unseen_rows} unseen rows"] = row.held_out
        convergence_histogram(
            errors,
            path=path,
            title=f"Trained on {self.train_rows} streetlights, scored on the rest",
            threshold=self.threshold,
            xlabel="error",
        )


def overfit(
    n_seeds: int = 10_000,
    *,
    first_seed: int = 0,
    train_rows: int = 2,
    alpha: float = 0.1,
    epochs: int = 100,
    threshold: float = CONVERGED,
    backend: str | None = None,
    progress: bool | None = None,
) -> OverfitResult:
    """Train ``[3, 1]`` and ``[3, 4, 1]`` relu on the first ``train_rows`` streetlights.

    The chapter's remark: two examples can be fitted perfectly by weights that ignore the
    middle light (``w0 = -w2``), so a network can memorize them without learning the rule
    that decides the other four.
    """
    X, y = datasets.streetlights("linear")
    if check.check_int(train_rows, "train_rows", minimum=1) >= len(X):
        raise ValueError(f"train_rows must be between 1 and {len(X) - 1}, got {train_rows!r}")
    seeds = _seeds(n_seeds, first_seed)
    rows = []
    for sizes, activation in (((3, 1), "linear"), ((3, 4, 1), "relu")):
        result = sweep(
            sizes,
            X[:train_rows],
            y[:train_rows],
            seeds=seeds,
            alphas=alpha,
            epochs=epochs,
            activation=activation,
            backend=backend,
            weights=True,
            progress=progress,
        )
        assert result.weights is not None
        unseen = held_out_errors(
            result.weights, X[train_rows:], y[train_rows:], activation == "relu"
        )
        unseen = np.where(result.diverged, np.inf, unseen)
        rows.append(OverfitRow(_label(sizes, activation), result, unseen))
    return OverfitResult(rows, train_rows, len(X) - train_rows, seeds, alpha, epochs, threshold)


# -- program 8: stochastic, mini-batch and full gradient descent ---------------------------------


def _epochs_to_reach(curves: FloatArray, threshold: float) -> NDArray[np.int64]:
    """Per curve, the first epoch (counting from 1) whose error is below ``threshold``; 0 if none."""
    below = np.asarray(curves) < threshold
    return np.where(below.any(axis=-1), below.argmax(axis=-1) + 1, 0)


@dataclass(frozen=True)
class ModeRun:
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


@dataclass(frozen=True)
class ModesResult:
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
                    _g(float(run.errors[-1])),
                    _percent(reached.size / len(run.seeds)),
                    _g(float(np.median(reached)), 4) if reached.size else "-",
                ]
            )
        return "\n".join(head + _columns(rows))

    def plot(self, path: PathLike) -> None:
        """The error curve of the chapter's network in every mode, written to ``path``."""
        from .plot import error_curves

        error_curves(
            {f"{run.label} (batch {run.batch_size})": run.errors for run in self.runs},
            path=path,
            title=f"{self.network} on the {self.data} streetlights, alpha {self.alpha:g}",
            threshold=self.threshold,
        )


def modes(
    data: Data = "linear",
    *,
    batch_sizes: Sequence[int | None] = (1, 2, 3, None),
    n_seeds: int = 1000,
    first_seed: int = 0,
    alpha: float | None = None,
    epochs: int = 1000,
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
    X, y = datasets.streetlights(data)
    if data == "linear":
        book = Network(weights=BOOK_WEIGHTS, activation="linear")
        default_alpha = 0.1
    else:
        book = Network([3, 4, 1], seed=1, activation="relu")
        default_alpha = 0.2
    rate = default_alpha if alpha is None else alpha
    seeds = _seeds(n_seeds, first_seed)
    runs = []
    for batch_size in batch_sizes:
        size = len(X) if batch_size is None else batch_size
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
    network = _label(book.sizes, book.activation)
    return ModesResult(runs, network, data, rate, epochs, threshold)
