"""Grids of sweeps on any executor, streamed to Parquet and resumable (docs/design.md,
"Grids").

A :class:`Grid` is a table of *cells* — a dataset, hidden layer sizes, an activation, epochs,
a batch size and a dtype — each with its seeds × learning rates. :func:`sweep_grid` numbers
the networks of all cells in one order (cells in order; in a cell seeds outer, alphas
inner, as :func:`grokprop.sweep`), cuts that sequence into chunks of ``chunk_size``
networks and trains each chunk with the backends' fused sweep. The chunks depend only on
the grid and ``chunk_size``, so a run on one thread, a process pool or a Dask cluster
gives the same bits; each network is what ``Network(...).fit(...)`` gives alone.

Only specs, the cells' data and seed ranges travel to a worker (:class:`ChunkTask`), which
makes the chunk's rows and counts; its rows come back (as the bytes of their Parquet file
with ``out=``). The driver writes each chunk, as it arrives, to its own file (temp file,
fsync, ``os.replace``: grokprop._atomic) beside a manifest of the grid; a rerun skips the
chunks on disk.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import dataclasses
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import _display, _interrupt, datasets
from . import _validation as check
from ._atomic import replace_atomically
from ._typing import FloatArray
from ._version import __version__
from .backends import backend_info, resolve
from .backends._protocol import SweepArrays
from .specs import FLOAT_DTYPES, Activation, SweepSpec, as_float_dtype

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Cell",
    "ChunkResult",
    "ChunkTask",
    "Grid",
    "GridRun",
    "read_grid",
    "resolve_dataset",
    "sweep_grid",
]

#: Networks per chunk unless told otherwise: about 0.1 s of one core for the book network,
#: so scheduling and the Parquet write cost a few percent (BENCHMARKS.md, "Grids").
DEFAULT_CHUNK_SIZE = 1 << 17
#: The manifest's name in an ``out=`` directory, and the format it describes.
MANIFEST = "manifest.json"
#: 2: a chunk file holds only the outcomes (each row's cell, seed and alpha follow from the
#: manifest and the row's place); 1: it also held cell, seed and alpha (refused now).
_FORMAT = 2
_CONVERGED = 1e-3
#: Finished chunks that may wait for the writer thread (their memory is the bound).
_PENDING_WRITES = 2
#: A piece of a chunk uses one more thread per this many networks (up to ``threads``).
_NETWORKS_PER_THREAD = 2048
#: What a failed write says it could not save (grokprop._atomic).
_SUBJECT = "a grid chunk"
_INSTALL_HINT = "pip install 'grokprop[parquet]'"


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(f"grids need pyarrow: {_INSTALL_HINT}") from exc
    return pa


# --------------------------------------------------------------------------- the grid


def resolve_dataset(spec: Any, *, base: Path | None = None) -> tuple[str, Any, Any]:
    """``(name, X, y)`` from a dataset's description.

    * ``"streetlights"`` / ``"streetlights-nonlinear"``: the chapter's problems;
    * a name of :data:`grokprop.datasets.BOOLEAN_FUNCTIONS` (two inputs and the always-on
      light, as :func:`grokprop.datasets.truth_table`);
    * a mapping ``{"function": 105, "inputs": 3}`` (``always_on`` and ``name`` optional):
      any truth table; or ``{"file": "data.npz", "name": ...}``: arrays ``X`` and ``y``
      (a relative path is read from ``base``);
    * a pair ``(X, y)`` (named ``"data"``) or a triple ``(name, X, y)``.
    """
    if isinstance(spec, str):
        if spec in ("streetlights", "streetlights-linear"):
            return ("streetlights", *datasets.streetlights("linear"))
        if spec == "streetlights-nonlinear":
            return (spec, *datasets.streetlights("nonlinear"))
        if spec.lower() in datasets.BOOLEAN_FUNCTIONS:
            return (spec.lower(), *datasets.truth_table(spec))
        raise ValueError(
            "datasets: a name must be 'streetlights', 'streetlights-nonlinear' or one of "
            f"{sorted(datasets.BOOLEAN_FUNCTIONS)}, got {spec!r}"
        )
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"name", "function", "inputs", "always_on", "file"}
        if unknown or ("function" in spec) == ("file" in spec):
            raise ValueError(
                "datasets: a table needs 'function' (with 'inputs', 'always_on') or 'file', "
                f"and optionally 'name'; got {dict(spec)!r}"
            )
        if "file" in spec:
            path = Path(spec["file"])
            path = path if path.is_absolute() or base is None else base / path
            with np.load(path, allow_pickle=False) as data:
                X, y = data["X"], data["y"]
            return (str(spec.get("name", path.stem)), X, y)
        function = spec["function"]
        X, y = datasets.truth_table(
            function, spec.get("inputs"), always_on=bool(spec.get("always_on", True))
        )
        default = f"{function}/{spec.get('inputs', 2)}"
        return (str(spec.get("name", default)), X, y)
    if isinstance(spec, tuple) and len(spec) == 3 and isinstance(spec[0], str):
        return spec[0], spec[1], spec[2]
    if isinstance(spec, tuple) and len(spec) == 2:
        return "data", spec[0], spec[1]
    raise TypeError(
        "datasets: each must be a name, a {'function': ...} / {'file': ...} table, (X, y) or "
        f"(name, X, y), got {type(spec).__name__}"
    )


def _hidden_sizes(value: Any) -> tuple[int, ...]:
    """A hidden setting as layer sizes: ``0`` none, ``k`` one layer, ``(k1, k2)`` two."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        width = check.check_int(value, "hidden", minimum=0)
        return () if width == 0 else (width,)
    if isinstance(value, (list, tuple)):
        return tuple(check.check_int(v, "hidden", minimum=1) for v in value)
    raise TypeError(f"hidden must be a width (0: none) or a list of widths, got {value!r}")


@dataclass(frozen=True, eq=False, repr=False)
class Cell(_display.ShortRepr):
    """One setting of a grid: what a backend sweep of seeds × alphas shares, and its data.

    Made through :meth:`Grid.product` (or directly, from validated values): ``X`` and ``y``
    are finite C-contiguous arrays of ``dtype``, ``batch_size`` is resolved.
    """

    dataset: str
    X: FloatArray
    y: FloatArray
    hidden: tuple[int, ...]
    activation: Activation
    epochs: int
    batch_size: int
    dtype: np.dtype[np.floating]
    seeds: NDArray[np.int64]
    alphas: NDArray[np.float64]

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.X.shape[1], *self.hidden, self.y.shape[1])

    def __len__(self) -> int:
        return len(self.seeds) * len(self.alphas)

    def networks(self, start: int, stop: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The seeds and alphas of networks ``start:stop`` (seeds outer, alphas inner)."""
        return _networks(self.seeds, self.alphas, start, stop)

    def seed_block(self, start: int, stop: int) -> SeedBlock:
        """The seeds networks ``start:stop`` use, each once, as they travel (:class:`SeedBlock`)."""
        per_seed = len(self.alphas)
        seeds = self.seeds[start // per_seed : (stop - 1) // per_seed + 1]
        step = int(seeds[1] - seeds[0]) if len(seeds) > 1 else 1
        # a run of seeds (range(...): what a grid of many seeds is) travels as three numbers
        if len(seeds) < 2 or (step != 0 and bool(np.all(np.diff(seeds) == step))):
            return SeedBlock(int(seeds[0]), step, len(seeds), None)
        return SeedBlock(0, 0, len(seeds), seeds.astype(np.uint32))

    def seed_values(self) -> dict[str, int] | list[int]:
        """The seeds as the manifest records them, to rebuild the rows' ``seed`` column: a run
        as ``{"first", "step", "count"}``, other seeds listed."""
        block = self.seed_block(0, len(self))
        if block.listed is not None:
            return [int(s) for s in block.listed]
        return {"first": block.first, "step": block.step, "count": block.count}

    def spec(self, curves: bool, weights: bool) -> SweepSpec:
        return SweepSpec(
            self.sizes, self.epochs, self.batch_size, self.activation, self.dtype, curves, weights
        )

    def describe(self) -> dict[str, Any]:
        """The cell as plain values (the manifest, the summary)."""
        return {
            "dataset": self.dataset,
            "sizes": list(self.sizes),
            "activation": self.activation.label,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "dtype": self.dtype.name,
            "seeds": len(self.seeds),
            "alphas": [float(a) for a in self.alphas],
        }

    def fingerprint(self, digest: Any) -> None:
        """Feed everything that decides this cell's results into ``digest``."""
        digest.update(json.dumps(self.describe(), sort_keys=True).encode())
        for array in (self.X, self.y, self.seeds, self.alphas):
            digest.update(np.ascontiguousarray(array).tobytes())


@dataclass(frozen=True, eq=False, repr=False)
class Grid:
    """Cells in order; ``grid_a + grid_b`` runs one after the other."""

    cells: tuple[Cell, ...]

    def __repr__(self) -> str:
        return f"Grid({len(self.cells)} cells, {len(self)} networks)"

    def __post_init__(self) -> None:
        if not self.cells or not all(isinstance(c, Cell) for c in self.cells):
            raise ValueError("a grid needs at least one cell (grokprop.grid.Cell)")

    @classmethod
    def product(
        cls,
        *,
        datasets: Any,
        hidden: Any = 4,
        activations: Any = "relu",
        alphas: Any = 0.1,
        epochs: Any,
        batch_sizes: Any = 1,
        seeds: Any,
        dtype: Any = "float64",
    ) -> Grid:
        """Every combination of the settings: datasets outer, then hidden, activations,
        epochs, batch sizes; each cell trains every seed × every alpha.

        ``datasets``: one or a list of what :func:`resolve_dataset` takes, or a mapping
        ``{name: (X, y)}``. ``hidden``: a width (``0``: no hidden layer), a list of widths
        and depths (``[0, 4, [4, 4]]``). ``batch_sizes``: ``1`` stochastic, ``b``, ``None``
        full. Scalars are one-element axes. The other settings as for :func:`grokprop.sweep`.
        """
        float_dtype = as_float_dtype(dtype)
        if isinstance(datasets, Mapping):
            data = [resolve_dataset((str(k), *v)) for k, v in datasets.items()]
        else:
            data = [resolve_dataset(d) for d in _axis(datasets, "datasets", (str, tuple, Mapping))]
        hidden_axis = [_hidden_sizes(h) for h in _axis(hidden, "hidden", (int, np.integer))]
        act_axis = [Activation.parse(a) for a in _axis(activations, "activations", (str,))]
        epoch_axis = [
            check.check_int(e, "epochs", minimum=0) for e in _axis(epochs, "epochs", (int,))
        ]
        batch_axis = _axis(batch_sizes, "batch_sizes", (int, type(None)))
        if isinstance(seeds, range):  # no list of Python ints on the way (a grid's seeds)
            seeds = np.arange(seeds.start, seeds.stop, seeds.step, dtype=np.int64)
        seed_values = check.check_seeds(seeds)
        alpha_values = check.check_alphas(alphas, float_dtype)
        cells = []
        for name, X, y in data:
            rows, targets = check.as_data(X, y, float_dtype)
            for h, act, n_epochs, batch in itertools.product(
                hidden_axis, act_axis, epoch_axis, batch_axis
            ):
                check.check_sizes((rows.shape[1], *h, targets.shape[1]))
                cells.append(
                    Cell(
                        name,
                        rows,
                        targets,
                        h,
                        act,
                        n_epochs,
                        check.check_batch_size(batch, rows.shape[0]),
                        float_dtype,
                        seed_values,
                        alpha_values,
                    )
                )
        return cls(tuple(cells))

    def __add__(self, other: Grid) -> Grid:
        if not isinstance(other, Grid):
            return NotImplemented
        return Grid(self.cells + other.cells)

    def __len__(self) -> int:
        """The number of networks."""
        return sum(len(c) for c in self.cells)

    def fingerprint(self, chunk_size: int, curves: bool, weights: bool) -> str:
        """A hash of everything the results depend on (the manifest compares it)."""
        digest = hashlib.sha256(f"{_FORMAT}:{chunk_size}:{curves}:{weights}".encode())
        for c in self.cells:
            c.fingerprint(digest)
        return digest.hexdigest()


def _axis(value: Any, name: str, scalar_types: tuple[type, ...]) -> list[Any]:
    """A setting as a list: a scalar is a one-element axis; an empty axis is refused."""
    if isinstance(value, scalar_types) or value is None:
        return [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a value or a list of values, got {value!r}")
    values = list(value)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


# --------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class Piece:
    """The networks ``start:stop`` of one cell (a chunk's part in that cell)."""

    cell: int
    start: int
    stop: int


def chunk_plan(grid: Grid, chunk_size: int) -> list[list[Piece]]:
    """The chunks: consecutive runs of ``chunk_size`` networks in the grid's order, each a
    list of pieces of cells. Depends on nothing but the grid and ``chunk_size``."""
    plan: list[list[Piece]] = []
    current: list[Piece] = []
    room = chunk_size
    for index, c in enumerate(grid.cells):
        start = 0
        while start < len(c):
            take = min(room, len(c) - start)
            current.append(Piece(index, start, start + take))
            start += take
            room -= take
            if room == 0:
                plan.append(current)
                current, room = [], chunk_size
    if current:
        plan.append(current)
    return plan


@dataclass(frozen=True)
class SeedBlock:
    """A cell's seeds ``first, first + step, ...`` (``count`` of them), or their ``listed``
    values when they are no arithmetic run: a chunk's seeds without an array of them."""

    first: int
    step: int
    count: int
    listed: NDArray[np.uint32] | None

    def values(self) -> NDArray[np.int64]:
        if self.listed is not None:
            return self.listed.astype(np.int64)
        return np.arange(self.count, dtype=np.int64) * self.step + self.first


def _networks(
    seeds: NDArray[np.int64], alphas: NDArray[np.float64], start: int, stop: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The seeds and alphas of a cell's networks ``start:stop`` (seeds outer, alphas inner)."""
    per_seed = len(alphas)
    used = seeds[start // per_seed : (stop - 1) // per_seed + 1]
    return _expand(used, alphas, start % per_seed, stop - start)


def _expand(
    seeds: NDArray[np.int64], alphas: NDArray[np.float64], offset: int, n: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """``n`` networks' seeds and alphas: each seed with every alpha (seeds outer), from
    alpha ``offset`` of the first seed on."""
    per_seed = len(alphas)
    seeds = np.repeat(seeds, per_seed)[offset : offset + n]
    return seeds, np.tile(alphas, len(seeds) // per_seed + 2)[offset : offset + n]


@dataclass(frozen=True)
class PieceTask:
    """One piece of a chunk as it travels: its cell's spec and data, where it starts in the
    cell (``start``: network ``start`` has alpha ``start % len(alphas)``), its size and its
    seeds as a :class:`SeedBlock`. Kilobytes, whatever the chunk size."""

    cell: int
    start: int
    size: int
    spec: SweepSpec
    X: FloatArray
    y: FloatArray
    seeds: SeedBlock
    alphas: NDArray[np.float64]


@dataclass(frozen=True)
class ChunkTask:
    """What a worker needs to train one chunk and make its rows: specs, the cells' data and
    seed ranges, no Network and no per-network array."""

    index: int
    backend: str
    threads: int | None
    parts: tuple[PieceTask, ...]
    threshold: float
    """The summary's convergence threshold (:class:`CellSummary`)."""
    encode: bool
    """Return the rows as Parquet bytes (``out=``, from an executor) rather than a table."""


@dataclass(frozen=True)
class ChunkResult:
    """A trained chunk: its rows (an Arrow table, or the bytes of its Parquet file) and,
    per piece, its cell and counts per alpha (networks, converged, diverged)."""

    index: int
    rows: Any
    counts: tuple[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]], ...]


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Train a chunk (in a worker or here), one backend sweep per piece, and make its rows
    and counts there, so only kilobytes travel out and the rows' bytes back. On a process's
    main thread the training runs in a worker thread, so Ctrl-C stops it (grokprop._interrupt)."""
    engine = resolve(task.backend)
    threads = task.threads or os.cpu_count() or 1
    polls = backend_info(engine.name).polls_stop
    parts = [_canonical(part) for part in task.parts]

    def train(stop: _interrupt.StopFlag) -> list[SweepArrays]:
        results = []
        for piece, (spec, X, y, seeds, alphas) in zip(task.parts, parts):
            # a small piece is not worth a thread's start (results never depend on it)
            use = max(1, min(threads, piece.size // _NETWORKS_PER_THREAD))
            args = (X, y, seeds.astype(np.uint32), alphas, spec, use)
            results.append(engine.sweep(*args, stop) if polls else engine.sweep(*args))
        return results

    results = _interrupt.run(train, expected_seconds=_interrupt.INLINE_SECONDS if polls else 0.0)
    spec = task.parts[0].spec
    table = _chunk_table(task.parts, results, spec.curves, spec.weights)
    # from the backend's arrays, not the table's columns (no unpacking of the bits): the
    # errors as doubles, as the rows hold them
    counts = tuple(
        (piece.cell, *_counts(piece.start, len(piece.alphas), *_outcomes(out), task.threshold))
        for piece, out in zip(task.parts, results)
    )
    return ChunkResult(task.index, _parquet(table) if task.encode else table, counts)


def _outcomes(out: SweepArrays) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A piece's final errors (as doubles, as the rows hold them) and diverged flags."""
    return out.final_errors.astype(np.float64, copy=False), out.diverged


def _canonical(piece: PieceTask) -> Part:
    """A piece as it arrived from a pickle, with the dtypes the backends expect, and its
    networks' seeds and alphas made here (:func:`_expand`).

    An unpickled dtype equals ``np.dtype("float64")`` but is another object: the pieces get
    NumPy's own dtype objects (views), so that no backend's fast path depends on how a
    transport rebuilt them; and a transport may hand out unaligned or read-only buffers,
    which are copied. The values are unchanged.
    """
    dtype = FLOAT_DTYPES[piece.spec.dtype.name]

    def plain(array: NDArray[Any], kind: np.dtype[Any]) -> NDArray[Any]:
        return np.require(array, kind, ["C", "A"]).view(kind)

    alphas = plain(piece.alphas, np.dtype(np.float64))
    seeds, per_network = _expand(
        piece.seeds.values(), alphas, piece.start % len(alphas), piece.size
    )
    return (
        dataclasses.replace(piece.spec, dtype=dtype),
        plain(piece.X, dtype),
        plain(piece.y, dtype),
        seeds,
        per_network,
    )


#: A piece as a backend trains it: its spec, ``X``, ``y``, each network's seed and alpha.
Part = tuple[SweepSpec, FloatArray, FloatArray, NDArray[np.int64], NDArray[np.float64]]


def _task(
    grid: Grid,
    index: int,
    pieces: list[Piece],
    backend: str,
    threads: int | None,
    flags: Any,
    threshold: float,
    encode: bool,
) -> ChunkTask:
    parts = []
    for p in pieces:
        c = grid.cells[p.cell]
        block = c.seed_block(p.start, p.stop)
        parts.append(
            PieceTask(p.cell, p.start, p.stop - p.start, c.spec(*flags), c.X, c.y, block, c.alphas)
        )
    return ChunkTask(index, backend, threads, tuple(parts), threshold, encode)


def _counts(
    start: int,
    per_seed: int,
    errors: NDArray[Any],
    diverged: NDArray[np.bool_],
    threshold: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Networks, converged (final error below ``threshold``, not diverged) and diverged per
    alpha of consecutive networks of a cell from network ``start`` on."""
    # seeds outer, alphas inner: network k of the cell has alpha k % per_seed; rows
    # first .. end of a sequence that starts at a seed's first alpha
    first = start % per_seed
    end = first + len(errors)
    alpha = np.arange(per_seed, dtype=np.int64)
    networks = (end - alpha + per_seed - 1) // per_seed - (first - alpha + per_seed - 1) // per_seed

    def per_alpha(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
        # only the flagged rows are counted (bincount of them: no pass over a matrix)
        counted: NDArray[np.int64] = np.bincount(
            (np.flatnonzero(flags) + first) % per_seed, minlength=per_seed
        )
        return counted

    converged = ~diverged & (errors < threshold)
    return networks, per_alpha(converged), per_alpha(diverged)


# --------------------------------------------------------------------------- results


def _chunk_table(
    pieces: tuple[PieceTask, ...], results: list[SweepArrays], curves: bool, weights: bool
) -> pa.Table:
    """One chunk's rows: each network's outcome, nothing that can be derived. Its cell,
    seed, alpha and the cell's settings are joined in when the rows are read
    (:func:`_with_settings`, from the grid or its manifest and the rows' places): written
    per row they cost more to encode than the outcomes. No column has nulls: declared so,
    the Parquet encoder writes no definition levels (a third of its time)."""
    pa = _pyarrow()
    lengths = [p.size for p in pieces]

    def joined(arrays: list[NDArray[Any]]) -> Any:
        # one piece (the usual chunk): its array as it is, no copy
        return pa.array(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))

    columns = {
        "final_error": joined([_outcomes(out)[0] for out in results]),
        "diverged": joined([out.diverged for out in results]),
    }
    if curves:
        columns["curve"] = pa.concat_arrays(
            [_lists(pa, out.curves.reshape(n, -1)) for out, n in zip(results, lengths)
             if out.curves is not None]
        )  # fmt: skip
    if weights:
        columns["weights"] = pa.concat_arrays(
            [_weight_lists(pa, out.weights, n) for out, n in zip(results, lengths)
             if out.weights is not None]
        )  # fmt: skip
    schema = pa.schema([pa.field(k, v.type, nullable=False) for k, v in columns.items()])
    return pa.Table.from_arrays(list(columns.values()), schema=schema)


def _weight_lists(pa: Any, layers: list[FloatArray], n: int) -> Any:
    """Per network a list of its layers' weights, each flattened row-major."""
    per_layer = [_lists(pa, w.reshape(n, -1)) for w in layers]
    # network-major: network 0's layers, then network 1's, ...
    order = (np.arange(len(layers))[None, :] * n + np.arange(n)[:, None]).ravel()
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * len(layers))
    return pa.ListArray.from_arrays(offsets, pa.concat_arrays(per_layer).take(pa.array(order)))


def _lists(pa: Any, matrix: NDArray[Any]) -> Any:
    """Each row of ``matrix`` as one list (float64) of an Arrow list array."""
    n, width = matrix.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
    return pa.ListArray.from_arrays(offsets, pa.array(matrix.astype(np.float64).ravel()))


@dataclass(repr=False)
class CellSummary(_display.ShortRepr):
    """Counts per learning rate of one cell, accumulated chunk by chunk (so their memory
    does not grow with the grid)."""

    threshold: float
    networks: NDArray[np.int64]
    converged: NDArray[np.int64]
    """Final error below ``threshold`` (and not diverged)."""
    diverged: NDArray[np.int64]

    @classmethod
    def empty(cls, alphas: int, threshold: float) -> CellSummary:
        return cls(threshold, *(np.zeros(alphas, dtype=np.int64) for _ in range(3)))

    def add(
        self, networks: NDArray[np.int64], converged: NDArray[np.int64], diverged: NDArray[np.int64]
    ) -> None:
        """Add a piece's counts per alpha (:func:`_counts`)."""
        self.networks += networks
        self.converged += converged
        self.diverged += diverged


@dataclass(repr=False)
class GridRun(_display.TableDisplay):
    """What :func:`sweep_grid` did: the result (in memory, or the ``out=`` directory)."""

    grid: Grid
    chunks: int
    chunks_run: int
    chunks_skipped: int
    seconds: float
    path: Path | None
    summary: list[CellSummary]
    threshold: float = _CONVERGED
    _table: Any = field(default=None, repr=False)

    def to_arrow(self) -> pa.Table:
        """Every network as one row (read from ``path`` for a streamed run)."""
        if self._table is not None:
            return self._table
        assert self.path is not None
        return read_grid(self.path)

    def to_pandas(self) -> Any:
        """:meth:`to_arrow` as a ``pandas.DataFrame`` (needs pandas)."""
        try:
            import pandas as pd  # noqa: F401 -- pyarrow's own message does not say what to do
        except ImportError as exc:
            raise ImportError("to_pandas needs pandas: pip install pandas") from exc
        return self.to_arrow().to_pandas()

    def table(self) -> str:
        """One line per cell and alpha: the settings, networks, converged, diverged."""
        from .experiments._table import columns, percent

        rows = [
            ["cell", "dataset", "sizes", "act", "epochs", "batch", "alpha", "nets", "conv", "div"]
        ]
        for index, (c, s) in enumerate(zip(self.grid.cells, self.summary)):
            rows += [
                [
                    str(index),
                    c.dataset,
                    "-".join(map(str, c.sizes)),
                    c.activation.label,
                    str(c.epochs),
                    str(c.batch_size),
                    f"{alpha:g}",
                    str(s.networks[k]),
                    percent(s.converged[k] / s.networks[k]) if s.networks[k] else "-",
                    str(s.diverged[k]),
                ]
                for k, alpha in enumerate(c.alphas)
            ]
        foot = (
            f"{len(self.grid)} networks in {self.chunks} chunks ({self.chunks_skipped} already "
            f"on disk) in {self.seconds:.2f} s; conv = final error < {self.threshold:g}."
        )
        return "\n".join([*columns(rows, left=4), "", foot])


def read_grid(path: str | os.PathLike[str], *, partial: bool = False) -> pa.Table:
    """The rows of an ``out=`` directory in the grid's order (chunk files by name), with
    each cell's settings (from the manifest) as columns.

    A run that has not finished (a crash, Ctrl-C) is refused unless ``partial=True``,
    which reads the chunks written so far."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    directory = Path(path)
    files = sorted(directory.glob("chunk-*.parquet"))
    if not files or not (directory / MANIFEST).exists():
        raise ValueError(f"path: {os.fspath(path)!r} holds no grid (no {MANIFEST} or chunks)")
    manifest = _read_manifest(directory, "path")
    if len(files) < manifest["chunks"] and not partial:
        raise ValueError(
            f"path: {os.fspath(path)!r} holds {len(files)} of the grid's {manifest['chunks']} "
            "chunks: rerun the sweep to finish it, or read_grid(path, partial=True)"
        )
    cells = manifest["cells"]
    tables = [pq.read_table(f) for f in files]
    # chunk k is networks k * chunk_size ... of the grid (chunk_plan)
    starts = [int(f.name[len("chunk-") : -len(".parquet")]) * manifest["chunk_size"] for f in files]
    networks = [(_seed_array(c["seed_values"]), np.array(c["alphas"], np.float64)) for c in cells]
    rows = pa.concat_tables(tables)
    return _with_settings(rows, cells, networks, zip(starts, (t.num_rows for t in tables)))


def _seed_array(values: dict[str, int] | list[int]) -> NDArray[np.int64]:
    """A cell's seeds from the manifest (:meth:`Cell.seed_values`)."""
    if isinstance(values, dict):
        return SeedBlock(values["first"], values["step"], values["count"], None).values()
    return np.array(values, dtype=np.int64)


def _with_settings(
    rows: pa.Table,
    cells: list[dict[str, Any]],
    networks: list[tuple[NDArray[np.int64], NDArray[np.float64]]],
    runs: Iterable[tuple[int, int]],
) -> pa.Table:
    """``rows`` (outcomes, from consecutive ``runs`` of the grid's networks: first network,
    count) with each row's ``cell``, its cell's settings (text columns dictionary-encoded:
    one copy of each value), ``seed`` and ``alpha`` in front. ``networks``: each cell's
    seeds and alphas; the values are made as for training (:func:`_networks`)."""
    pa = _pyarrow()
    index, seed, alpha = _row_networks(networks, runs)
    front = {"cell": pa.array(index)}
    settings = {
        "dataset": [c["dataset"] for c in cells],
        "sizes": ["-".join(map(str, c["sizes"])) for c in cells],
        "hidden": ["x".join(map(str, c["sizes"][1:-1])) or "0" for c in cells],
        "activation": [c["activation"] for c in cells],
        "epochs": [c["epochs"] for c in cells],
        "batch_size": [c["batch_size"] for c in cells],
        "dtype": [c["dtype"] for c in cells],
    }
    for name, values in settings.items():
        if isinstance(values[0], str):
            column = pa.array(values).dictionary_encode()
        else:
            column = pa.array(values, type=pa.int32())
        front[name] = column.take(front["cell"])
    front["seed"], front["alpha"] = pa.array(seed), pa.array(alpha)
    fields = [pa.field(k, v.type, nullable=k in settings) for k, v in front.items()]
    schema = pa.schema(fields + list(rows.schema))
    return pa.Table.from_arrays([*front.values(), *rows.columns], schema=schema)


def _row_networks(
    networks: list[tuple[NDArray[np.int64], NDArray[np.float64]]], runs: Iterable[tuple[int, int]]
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.float64]]:
    """Each row's cell, seed and alpha, for ``runs`` of the grid's networks (first, count):
    the grid's order, cells in order (:func:`chunk_plan`)."""
    sizes = np.array([len(s) * len(a) for s, a in networks], dtype=np.int64)
    ends = np.cumsum(sizes)
    cells, seeds, alphas = [], [], []
    for first, count in runs:
        at, stop = first, first + count
        while at < stop:
            c = int(np.searchsorted(ends, at, side="right"))
            begin = int(ends[c] - sizes[c])
            take = min(stop, int(ends[c])) - at
            s, a = _networks(*networks[c], at - begin, at - begin + take)
            cells.append(np.full(take, c, dtype=np.int32))
            seeds.append(s)
            alphas.append(a)
            at += take
    return np.concatenate(cells), np.concatenate(seeds), np.concatenate(alphas)


# --------------------------------------------------------------------------- the output


def _chunk_name(index: int) -> str:
    return f"chunk-{index:08d}.parquet"


def _open_output(
    out: str | os.PathLike[str], fingerprint: str, grid: Grid, chunk_size: int, n_chunks: int
) -> Path:
    """The ``out`` directory with this grid's manifest (made, or checked against)."""
    directory = Path(out)
    manifest = directory / MANIFEST
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"out must be a directory (a Parquet dataset), got a file: {out!r}")
    if manifest.exists():
        recorded = _read_manifest(directory, "out")
        if recorded.get("fingerprint") != fingerprint:
            raise ValueError(
                f"out={os.fspath(out)!r} holds the results of a different grid (its "
                f"{MANIFEST} does not match these settings, data, seeds, chunk_size or "
                "curves/weights): use another path, or delete it to start over"
            )
        return directory
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(
            f"out={os.fspath(out)!r} is a non-empty directory without a grokprop {MANIFEST}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {
            "format": _FORMAT,
            "grokprop": __version__,
            "fingerprint": fingerprint,
            "chunk_size": chunk_size,
            "chunks": n_chunks,
            "networks": len(grid),
            "cells": [c.describe() | {"seed_values": c.seed_values()} for c in grid.cells],
        },
        indent=1,
    )
    data = text.encode()
    replace_atomically(os.fspath(manifest), lambda file: file.write(data), _SUBJECT)
    return directory


def _read_manifest(directory: Path, name: str) -> dict[str, Any]:
    """An ``out=`` directory's manifest, refused if another format wrote it (``name``: the
    argument the error names)."""
    recorded: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    if recorded.get("format") != _FORMAT:
        raise ValueError(
            f"{name}={os.fspath(directory)!r} was written by grokprop "
            f"{recorded.get('grokprop', '?')} in grid format {recorded.get('format')!r}, which "
            f"this grokprop ({__version__}, format {_FORMAT}) neither resumes nor reads: read "
            "it with the grokprop that wrote it, or delete it (or use another path) and rerun "
            "the sweep"
        )
    return recorded


def _parquet(table: pa.Table) -> Any:
    """A chunk's Parquet file, as bytes (a ``pyarrow.Buffer``)."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    # outcomes only (no column a reader filters on): no dictionary, no statistics
    pq.write_table(
        table,
        sink,
        use_dictionary=False,
        write_statistics=False,
        # final errors are as random as doubles get: compressing them costs, gains nothing
        compression={
            name: "none" if name == "final_error" else "snappy" for name in table.column_names
        },
    )
    return sink.getvalue()


def _write_chunk(directory: Path, index: int, rows: Any) -> None:
    """Write a chunk's file atomically: its Parquet bytes (made by a worker) or, from a
    table, encoded here (on the writer thread, overlapping the next chunk's training)."""
    data = _parquet(rows) if isinstance(rows, _pyarrow().Table) else rows
    replace_atomically(
        os.fspath(directory / _chunk_name(index)), lambda file: file.write(data), _SUBJECT
    )


def _written_rows(path: Path) -> int | None:
    """The rows of a finished chunk file, ``None`` if there is none (or it cannot be read)."""
    import pyarrow.parquet as pq

    if not path.exists():
        return None
    try:
        return int(pq.read_metadata(path).num_rows)
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- running


Executor = cf.Executor | Callable[[Callable[[ChunkTask], ChunkResult], Iterable[Any]], Any]


def sweep_grid(
    grid: Grid,
    *,
    executor: Executor | None = None,
    out: str | os.PathLike[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: str | None = None,
    threads: int | None = None,
    curves: bool = False,
    weights: bool = False,
    progress: bool | None = None,
    max_in_flight: int = 64,
    threshold: float = _CONVERGED,
) -> GridRun:
    """Train every network of ``grid``, chunk by chunk, on ``executor``.

    Parameters
    ----------
    grid
        The cells (:meth:`Grid.product`).
    executor
        ``None`` (here, on this process's threads), a :class:`concurrent.futures.Executor`
        (a ``ProcessPoolExecutor``, Dask's ``client.get_executor()``) or a map-like callable
        ``executor(function, tasks)`` (SciPy's ``workers=``, e.g. ``Pool.imap``). Results
        never depend on it.
    out
        A directory: one Parquet file per chunk is written there as it finishes, with a
        manifest of the grid. Rerunning the same call resumes; a different grid at the
        same path is refused. ``None``: the rows stay in memory.
    chunk_size
        Networks per chunk: the unit of scheduling, writing and resuming.
    backend, threads
        The backend (a name; default the selected one) and the threads each chunk may use
        (default: all cores without an executor, 1 with one: the executor parallelises).
    curves, weights
        Also keep each network's epoch errors (column ``curve``) / final weights (column
        ``weights``: per layer, row-major).
    progress
        A bar over chunks (tqdm): ``True``, ``False`` or ``None`` (on a terminal).
    max_in_flight
        Chunks submitted to an executor at once (bounds the driver's memory).
    threshold
        The summary (:attr:`GridRun.summary`) counts a network whose final error is below
        this as converged.
    """
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a grokprop.Grid, got {type(grid).__name__}")
    size = check.check_int(chunk_size, "chunk_size", minimum=1)
    window = check.check_int(max_in_flight, "max_in_flight", minimum=1)
    limit = check.check_positive(threshold, "threshold")
    n_threads = None if threads is None else check.check_int(threads, "threads", minimum=1)
    for name, flag in (("curves", curves), ("weights", weights)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if executor is not None and not (isinstance(executor, cf.Executor) or callable(executor)):
        raise TypeError(
            "executor must be a concurrent.futures.Executor or a map-like callable "
            f"(function, iterable) -> results, got {type(executor).__name__}"
        )
    engine_name = resolve(backend).name
    if executor is not None and n_threads is None:
        n_threads = 1
    _pyarrow()  # fail before any work if pyarrow is missing
    flags = (bool(curves), bool(weights))
    plan = chunk_plan(grid, size)
    directory = None
    if out is not None:
        directory = _open_output(out, grid.fingerprint(size, *flags), grid, size, len(plan))

    summary = [CellSummary.empty(len(c.alphas), limit) for c in grid.cells]
    tables: dict[int, Any] = {}
    todo: list[int] = []
    skipped = 0
    for index, pieces in enumerate(plan):
        expected = sum(p.stop - p.start for p in pieces)
        if directory is not None and _written_rows(directory / _chunk_name(index)) == expected:
            skipped += 1
            _summarise_file(grid, pieces, directory / _chunk_name(index), summary, limit)
        else:
            todo.append(index)

    # an executor's workers make the Parquet bytes (the driver only writes them); here, the
    # writer thread encodes while the next chunk trains
    encode = directory is not None and executor is not None

    def make_task(index: int) -> ChunkTask:
        return _task(grid, index, plan[index], engine_name, n_threads, flags, limit, encode)

    start = time.perf_counter()
    bar = _bar(progress, len(plan), skipped)
    # one writer thread: a chunk's write (which releases the GIL) overlaps the next chunk's
    # training; at most _PENDING_WRITES chunks wait for it
    with cf.ThreadPoolExecutor(1, thread_name_prefix="grokprop-write") as writer:
        writes: collections.deque[cf.Future[None]] = collections.deque()
        try:
            for result in _execute(executor, todo, make_task, window):
                for cell, *counts in result.counts:
                    summary[cell].add(*counts)
                if directory is None:
                    tables[result.index] = result.rows
                else:
                    writes.append(writer.submit(_write_chunk, directory, result.index, result.rows))
                    while len(writes) > _PENDING_WRITES:
                        writes.popleft().result()
                if bar is not None:
                    bar.update(1)
            while writes:
                writes.popleft().result()
        finally:
            if bar is not None:
                bar.close()
    seconds = time.perf_counter() - start
    table = None
    if directory is None:
        pa = _pyarrow()
        rows = pa.concat_tables([tables[i] for i in range(len(plan))])
        networks = [(c.seeds, c.alphas) for c in grid.cells]
        described = [c.describe() for c in grid.cells]
        table = _with_settings(rows, described, networks, [(0, len(grid))])
    return GridRun(grid, len(plan), len(todo), skipped, seconds, directory, summary, limit, table)


def _execute(
    executor: Executor | None,
    todo: list[int],
    make_task: Callable[[int], ChunkTask],
    window: int,
) -> Iterator[ChunkResult]:
    """Chunk results as chunks finish (in any order); tasks are made lazily."""
    if executor is None:
        for index in todo:
            yield run_chunk(make_task(index))
        return
    if not isinstance(executor, cf.Executor):
        yield from executor(run_chunk, map(make_task, todo))
        return
    running: set[cf.Future[ChunkResult]] = set()
    try:
        for index in todo:
            running.add(executor.submit(run_chunk, make_task(index)))
            while len(running) >= window:
                yield from _collect(running)
        while running:
            yield from _collect(running)
    finally:
        for future in running:  # Ctrl-C or a failure: drop what has not started
            future.cancel()


def _collect(running: set[cf.Future[ChunkResult]]) -> Iterator[ChunkResult]:
    done, _ = cf.wait(running, timeout=0.1, return_when=cf.FIRST_COMPLETED)
    for future in done:
        running.discard(future)
        yield future.result()


def _summarise_file(
    grid: Grid, pieces: list[Piece], path: Path, summary: list[CellSummary], threshold: float
) -> None:
    """Add a chunk file's counts (a resumed run's chunk on disk)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["final_error", "diverged"])
    errors = table.column("final_error").to_numpy()
    diverged = table.column("diverged").to_numpy(zero_copy_only=False)
    row = 0
    for p in pieces:
        n = p.stop - p.start
        per_seed = len(grid.cells[p.cell].alphas)
        cut = slice(row, row + n)
        summary[p.cell].add(*_counts(p.start, per_seed, errors[cut], diverged[cut], threshold))
        row += n


def _bar(progress: bool | None, total: int, done: int) -> Any:
    from . import _progress

    # more than one chunk to run counts as long (chunks are sized to ~0.1 s and more)
    if not _progress.wanted(progress, _progress.LONG_RUN_SECONDS * (total - done > 1)):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="grid", unit="chunk", leave=False)
