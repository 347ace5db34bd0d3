"""``grokprop sweep CONFIG.toml``: a grid described in TOML, on this machine or a Dask
cluster (README, "Sweeps at scale"; docs/design.md, "Grids")."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .grid import DEFAULT_CHUNK_SIZE, Grid, sweep_grid

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- tomli is tomllib's backport
    import tomli as tomllib

__all__ = [
    "LEAN_DASK_CONFIG",
    "GridConfig",
    "dask_executor",
    "lean_dask_environment",
    "load_config",
    "sweep_command",
]

#: The settings of a grid (the axes of :meth:`grokprop.Grid.product`) and of a run.
_GRID_KEYS = frozenset(
    {"datasets", "hidden", "activations", "alphas", "epochs", "batch_sizes", "seeds", "dtype"}
)
_RUN_KEYS = frozenset({"chunk_size", "curves", "weights", "backend", "threads", "out"})


@dataclass(frozen=True)
class GridConfig:
    """A TOML document read: the grid and the run's settings (``[run]``)."""

    grid: Grid
    run: dict[str, Any]


def load_config(path: str | Path) -> GridConfig:
    """Read a grid from TOML: the settings at the top level (one product), or
    ``[[grid]]`` tables (products run one after the other); ``[run]`` for the run."""
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"CONFIG: {file} is not valid TOML: {exc}") from exc
    run = document.pop("run", {})
    if not isinstance(run, dict) or set(run) - _RUN_KEYS:
        raise ValueError(f"CONFIG: [run] takes {sorted(_RUN_KEYS)}, got {sorted(run)}")
    tables = document.pop("grid", None)
    if tables is None:
        tables = [document]
    elif document:
        raise ValueError(
            f"CONFIG: settings {sorted(document)} outside [[grid]]: put them in each [[grid]]"
        )
    grids = []
    for table in tables:
        if not isinstance(table, dict) or set(table) - _GRID_KEYS:
            unknown = sorted(set(table) - _GRID_KEYS) if isinstance(table, dict) else table
            raise ValueError(
                f"CONFIG: unknown grid settings {unknown}; known: {sorted(_GRID_KEYS)}"
            )
        for required in ("datasets", "epochs", "seeds"):
            if required not in table:
                raise ValueError(f"CONFIG: a grid needs '{required}'")
        settings = dict(table)
        settings["seeds"] = _seeds(settings["seeds"])
        if "batch_sizes" in settings:
            settings["batch_sizes"] = [
                None if b == "full" else b for b in _as_list(settings["batch_sizes"])
            ]
        settings["datasets"] = [
            d if not isinstance(d, dict) or "file" not in d else {**d, "file": _near(file, d)}
            for d in _as_list(settings["datasets"])
        ]
        grids.append(Grid.product(**settings))
    grid = grids[0]
    for more in grids[1:]:
        grid = grid + more
    if "out" in run:
        run["out"] = str(_near(file, run))
    return GridConfig(grid, run)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _near(config: Path, table: dict[str, Any]) -> Path:
    """A path of the config (``file`` / ``out``), relative to the config's directory."""
    value = Path(table["file" if "file" in table else "out"])
    return value if value.is_absolute() else config.parent / value


def _seeds(value: Any) -> Any:
    """``seeds = 1000`` (0..999), ``{start = 5, count = 10}`` or a list of seeds."""
    if isinstance(value, dict):
        if set(value) != {"start", "count"}:
            raise ValueError(
                f"CONFIG: seeds as a table is {{start = ..., count = ...}}, got {value}"
            )
        return range(value["start"], value["start"] + value["count"])
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"CONFIG: seeds = N needs N >= 1, got {value}")
        return range(value)
    return value


#: Dask settings for a cluster that only trains grid chunks: its monitoring costs, idle,
#: ~6% of a core per process by default (the workers' stack profiler every 10 ms, the event
#: loops' 20 ms ticks, memory checks every 100 ms) and ~1% with these (BENCHMARKS.md,
#: "Grids"); none changes a result.
LEAN_DASK_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def lean_dask_environment() -> dict[str, str]:
    """:data:`LEAN_DASK_CONFIG` as the environment variables Dask reads at start
    (``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``, ...): for a cluster started
    by hand, ``dask scheduler`` and ``dask worker`` with these set (README, "Sweeps at
    scale")."""
    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in LEAN_DASK_CONFIG.items()
    }


@contextlib.contextmanager
def dask_executor(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """Dask's executor for ``--scheduler`` / ``--workers``, else ``None`` (this process)."""
    if scheduler is not None and workers is not None:
        raise click.UsageError("give --scheduler or --workers, not both")
    if scheduler is None and workers is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise click.ClickException(
            "--scheduler and --workers need Dask: pip install 'grokprop[dask]'"
        ) from exc
    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor()
        return
    import dask

    with (
        dask.config.set(LEAN_DASK_CONFIG),  # the workers get it too (their nannies pass it on)
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client.get_executor()


@click.command(name="sweep")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(), default=None, help="Parquet dataset directory.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Start a local Dask cluster."
)
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="Networks per chunk.")
@click.option("--backend", default=None, help="cpp, numba or numpy (default: the selected one).")
@click.option("--progress/--no-progress", default=None, help="A bar over chunks (default: TTY).")
def sweep_command(
    config: str,
    out: str | None,
    scheduler: str | None,
    workers: int | None,
    chunk_size: int | None,
    backend: str | None,
    progress: bool | None,
) -> None:
    """Train the grid of CONFIG.toml (README: "Sweeps at scale"), print a table per cell.

    Rerunning with the same --out resumes; a different grid at that path is refused.
    """
    try:
        loaded = load_config(config)
        settings = dict(loaded.run)
        if out is not None:
            settings["out"] = out
        if chunk_size is not None:
            settings["chunk_size"] = chunk_size
        if backend is not None:
            settings["backend"] = backend
        settings.setdefault("chunk_size", DEFAULT_CHUNK_SIZE)
        with dask_executor(scheduler, workers) as executor:
            run = sweep_grid(loaded.grid, executor=executor, progress=progress, **settings)
    except (ValueError, TypeError, ImportError, MemoryError) as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from exc
    click.echo(run.table())
    if run.path is not None:
        click.echo(f"\nresults in {run.path} (grokprop.read_grid)")
