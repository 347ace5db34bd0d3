"""Which boolean functions of three lights a book network learns, by hidden width.

For every function of three inputs (256 truth tables; the third streetlight's always-on
light added as a fourth input, :func:`grokprop.datasets.truth_table`) and every hidden
width (0: the chapter's two-layer network), the fraction of book initialisations that
learn it (final error below the threshold) under the chapter's training: alpha 0.2, 60
epochs, stochastic. The networks run as one grid (:func:`grokprop.sweep_grid`), so the
study runs on a Dask cluster as well as here, and streams to Parquet with ``out=``.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _display, datasets
from .. import _validation as check
from ..grid import DEFAULT_CHUNK_SIZE, Grid, sweep_grid
from ._common import CONVERGED, FIRST_SEED, PathLike, check_threshold, seed_range
from ._table import columns, percent, seed_span

__all__ = [
    "DEFAULTS",
    "BooleanFunctionsDefaults",
    "BooleanFunctionsResult",
    "boolean_functions",
    "linearly_separable",
]

#: Inputs of the functions (each has 2**2**INPUTS = 256 truth tables).
INPUTS = 3


# bytes a cell of the study takes in memory (its Cell, CellSummary and table entry):
# 2.4 kB measured with tracemalloc at max_width=200, rounded up
CELL_BYTES = 2500


@dataclass(frozen=True)
class BooleanFunctionsDefaults:
    """The defaults of :func:`boolean_functions` and ``grokprop boolean-functions``: the
    chapter's program 5 training (as :mod:`.linear_vs_nonlinear`), widths 0-8."""

    n_seeds: int = 1000
    alpha: float = 0.2
    epochs: int = 60
    max_width: int = 8


DEFAULTS = BooleanFunctionsDefaults()


def linearly_separable(function: int, inputs: int = INPUTS) -> bool:
    """Whether some weights and a threshold put the rows where ``function`` is 1 strictly
    above a plane and the others below (the functions a perceptron computes). Brute force
    over integer weights in [-3, 3], which suffice for up to three inputs."""
    bits, target = datasets.truth_table(function, inputs, always_on=False)
    weights = np.array(list(itertools.product(range(-3, 4), repeat=inputs)))
    sums = weights @ bits.T  # (weight choices, rows): exact small integers
    thresholds = np.arange(-3 * inputs, 3 * inputs + 1) - 0.5
    above = sums[:, None, :] > thresholds[None, :, None]
    return bool((above == (target.ravel() == 1)).all(axis=2).any())


@dataclass(frozen=True, repr=False)
class BooleanFunctionsResult(_display.TableDisplay):
    """``learned[f, k]``: the fraction of seeds whose network of width ``widths[k]`` learned
    function ``f`` (bit ``i`` of ``f`` is the output of row ``i``)."""

    learned: NDArray[np.float64]
    widths: tuple[int, ...]
    seeds: range
    alpha: float
    epochs: int
    threshold: float
    seconds: float
    networks: int
    backend_note: str

    @property
    def functions(self) -> range:
        return range(self.learned.shape[0])

    def table(self) -> str:
        head = [
            (
                f"Boolean functions of {INPUTS} lights (+ the always-on light): the fraction of "
                f"{len(self.seeds)} book initialisations ({seed_span(self.seeds)}) that learn each,"
            ),
            (
                f"alpha {self.alpha:g}, {self.epochs} epochs, stochastic; learned = final error "
                f"< {self.threshold:g}. 'sep': linearly separable; bits: outputs of rows 0..7."
            ),
            "",
        ]
        rows = [["f", "bits", "sep", *(f"w={w}" for w in self.widths)]]
        separable = _separable()
        for f in self.functions:
            bits = "".join(str((f >> i) & 1) for i in range(1 << INPUTS))
            rows.append(
                [
                    str(f),
                    bits,
                    "yes" if separable[f] else "",
                    *(percent(x) for x in self.learned[f]),
                ]
            )
        never = (self.learned == 0).sum(axis=0)
        foot = [
            ("mean", [percent(x) for x in self.learned.mean(axis=0)]),
            ("never learned", [str(int(n)) for n in never]),
        ]
        tail = [
            "",
            f"{self.networks} networks trained in {self.seconds:.2f} s {self.backend_note}.",
        ]
        return "\n".join(head + columns(rows, left=2, footer=foot) + tail)

    def plot(self, path: PathLike) -> Path:
        """A heat map: functions (rows, ordered by how many rows are on) × widths."""
        from ..plot import figure_path, learned_heatmap

        written = figure_path(path)
        ones = [int(f).bit_count() for f in self.functions]
        order = np.argsort(ones, kind="stable")
        learned_heatmap(
            self.learned[order],
            rows=[str(f) for f in order],
            widths=self.widths,
            path=written,
            title=(
                f"Boolean functions of {INPUTS} lights: fraction of {len(self.seeds)} seeds "
                f"learned (error < {self.threshold:g})"
            ),
        )
        return written


@functools.cache
def _separable() -> tuple[bool, ...]:
    return tuple(linearly_separable(f) for f in range(1 << (1 << INPUTS)))


def boolean_functions(
    n_seeds: int = DEFAULTS.n_seeds,
    *,
    first_seed: int = FIRST_SEED,
    alpha: float = DEFAULTS.alpha,
    epochs: int = DEFAULTS.epochs,
    max_width: int = DEFAULTS.max_width,
    threshold: float = CONVERGED,
    backend: str | None = None,
    executor: Any = None,
    out: PathLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
) -> BooleanFunctionsResult:
    """Train every function of three lights at every width ``0..max_width`` from each seed.

    Width 0 is the two-layer network ``[4, 1]``; width ``k`` is ``[4, k, 1]`` with relu.
    ``executor``, ``out``, ``chunk_size``, ``progress``: as for :func:`grokprop.sweep_grid`.
    """
    seeds = seed_range(n_seeds, first_seed)
    alpha = check.check_positive(alpha, "alpha")
    epochs = check.check_int(epochs, "epochs", minimum=0)
    max_width = check.check_int(max_width, "max_width", minimum=0)
    threshold = check_threshold(threshold)
    functions = 1 << (1 << INPUTS)
    # one grid cell per function and width, each held in memory with its summary and its
    # entry of the table: refused up front, before the cells are built, when they cannot fit
    cells = functions * (max_width + 1)
    check.check_memory(cells * CELL_BYTES, f"max_width={max_width} ({cells:,} grid cells)")
    widths = tuple(range(max_width + 1))
    grid = Grid.product(
        datasets=[{"function": f, "inputs": INPUTS, "name": str(f)} for f in range(functions)],
        hidden=list(widths),
        alphas=alpha,
        epochs=epochs,
        seeds=seeds,
    )
    start = time.perf_counter()
    run = sweep_grid(
        grid,
        executor=executor,
        out=out,
        chunk_size=chunk_size,
        backend=backend,
        progress=progress,
        threshold=threshold,
    )
    seconds = time.perf_counter() - start
    # cells: functions outer, widths inner
    learned = np.array([s.converged[0] / s.networks[0] for s in run.summary]).reshape(
        functions, len(widths)
    )
    where = "here" if executor is None else "on the executor"
    skipped = f", {run.chunks_skipped} of {run.chunks} chunks already on disk" if out else ""
    return BooleanFunctionsResult(
        learned, widths, seeds, alpha, epochs, threshold, seconds, len(grid), where + skipped
    )
