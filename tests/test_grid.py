"""Grids (grokprop.grid): every network bit for bit a fit; the same bits on every executor
and chunking; streamed to Parquet, resumable, refusing a changed grid; faults and Ctrl-C
never leave a partial chunk."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gridhelpers import KillingExecutor, interrupted_after

import grokprop as gp
from grokprop.grid import MANIFEST, Grid, read_grid, sweep_grid

pa = pytest.importorskip("pyarrow", reason="grids need pyarrow (the test extra has it)")
pytest.importorskip("pyarrow.parquet", reason="grids need pyarrow (the test extra has it)")

#: The per-network columns a result must reproduce exactly.
#: Chunks of the small grid's 2880 networks: 8 of them, the last shorter.
CHUNK = 400
OUTCOME = ("cell", "seed", "alpha", "final_error", "diverged")


def small_grid(seeds: int = 40) -> Grid:
    """Cells of different shapes, data, activations and batch sizes (some diverge)."""
    return Grid.product(
        datasets=["xor", "streetlights-nonlinear", {"function": 105, "inputs": 3}],
        hidden=[0, 3, [2, 2]],
        activations=["relu", "linear"],
        alphas=[0.2, 0.9],
        epochs=7,
        batch_sizes=[1, None],
        seeds=range(seeds),
    )


def columns(table: Any, names: tuple[str, ...] = OUTCOME) -> dict[str, np.ndarray]:
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in names}


def assert_same(a: Any, b: Any, names: tuple[str, ...] = OUTCOME) -> None:
    left, right = columns(a, names), columns(b, names)
    for name in names:
        assert np.array_equal(left[name], right[name], equal_nan=left[name].dtype.kind == "f"), name


@pytest.fixture(scope="module")
def reference() -> Any:
    return sweep_grid(small_grid(), chunk_size=CHUNK).to_arrow()


def test_every_network_is_its_fit() -> None:
    grid = Grid.product(
        datasets=[("xor", *gp.datasets.truth_table("xor")), "streetlights"],
        hidden=[0, 3, [2, 2]],
        activations=["relu", "linear"],
        alphas=[0.05, 0.2],
        epochs=6,
        batch_sizes=[1, 2, None],
        seeds=[0, 7],
        dtype="float32",
    )
    table = sweep_grid(grid, chunk_size=5, curves=True, weights=True).to_arrow().to_pylist()
    assert len(table) == len(grid) == 2 * 3 * 2 * 3 * 2 * 2
    for row in table:
        cell = grid.cells[row["cell"]]
        net = gp.Network(
            cell.sizes, seed=row["seed"], activation=row["activation"], dtype="float32"
        )
        history = net.fit(
            cell.X, cell.y, alpha=row["alpha"], epochs=row["epochs"], batch_size=row["batch_size"]
        )
        assert row["final_error"] == history.errors[-1]
        assert row["curve"] == history.errors.astype(np.float64).tolist()
        assert row["weights"] == [w.astype(np.float64).ravel().tolist() for w in net.weights]
        assert row["sizes"] == "-".join(map(str, cell.sizes))


@pytest.mark.parametrize(
    "seeds",
    [[9, 3, 7, 1000, 2], range(50, 10, -13), [5, 5, 5]],
    ids=["listed", "falling-run", "repeated"],
)
def test_seeds_that_travel_as_a_list_or_a_falling_run_are_their_fits(seeds: Any) -> None:
    # a chunk's seeds travel as (first, step, count) when they are a run and as a list
    # otherwise; chunks of 4 networks start in the middle of a seed's alphas
    grid = Grid.product(datasets=["streetlights"], alphas=[0.1, 0.2, 0.35], epochs=9, seeds=seeds)
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
        table = sweep_grid(grid, executor=pool, chunk_size=4).to_arrow().to_pylist()
    assert [row["seed"] for row in table] == [s for s in seeds for _ in range(3)]
    cell = grid.cells[0]
    for row in table:
        net = gp.Network(cell.sizes, seed=row["seed"])
        history = net.fit(cell.X, cell.y, alpha=row["alpha"], epochs=9)
        assert row["final_error"] == history.errors[-1]


def test_chunk_size_cannot_change_a_result(reference: Any) -> None:
    grid = small_grid()
    for size in (7, 37, len(grid)):
        assert_same(sweep_grid(grid, chunk_size=size).to_arrow(), reference)


def test_process_pool_and_a_map_give_the_same_bits(reference: Any) -> None:
    grid = small_grid()
    context = multiprocessing.get_context("spawn")  # what a fresh worker has: grokprop only
    with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
        assert_same(sweep_grid(grid, executor=pool, chunk_size=CHUNK).to_arrow(), reference)
        assert_same(sweep_grid(grid, executor=pool.map, chunk_size=CHUNK).to_arrow(), reference)
    assert_same(sweep_grid(grid, executor=map, chunk_size=CHUNK).to_arrow(), reference)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed", reason="the test extra has dask[distributed]")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_local_cluster_gives_the_same_bits(
    reference: Any, dask_client: Any, tmp_path: Path
) -> None:
    executor = dask_client.get_executor()
    grid = small_grid()
    assert_same(sweep_grid(grid, executor=executor, chunk_size=CHUNK).to_arrow(), reference)
    run = sweep_grid(grid, executor=executor, chunk_size=CHUNK, out=tmp_path / "r.parquet")
    assert_same(read_grid(run.path), reference)


def test_a_killed_dask_worker_is_rescheduled(
    reference: Any, dask_client: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    executor = KillingExecutor(dask_client.get_executor(), str(marker), victim=3)
    run = sweep_grid(small_grid(), executor=executor, chunk_size=CHUNK, out=tmp_path / "r")
    assert marker.exists()  # a worker did die
    assert_same(read_grid(run.path), reference)
    assert_only_chunks(tmp_path / "r", run.chunks)


def assert_only_chunks(directory: Path, chunks: int | None = None) -> list[str]:
    """The directory holds the manifest and whole chunk files, nothing half-written."""
    names = sorted(p.name for p in directory.iterdir())
    assert MANIFEST in names
    files = [n for n in names if n != MANIFEST]
    assert all(n.startswith("chunk-") and n.endswith(".parquet") for n in files), names
    if chunks is not None:
        assert files == [f"chunk-{i:08d}.parquet" for i in range(chunks)]
    return files


def test_a_killed_pool_worker_leaves_whole_chunks_and_resumes(
    reference: Any, tmp_path: Path
) -> None:
    out = tmp_path / "r.parquet"
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=context) as pool:
        executor = KillingExecutor(pool, str(tmp_path / "killed"), victim=3)
        with pytest.raises(cf.process.BrokenProcessPool):
            sweep_grid(small_grid(), executor=executor, chunk_size=CHUNK, out=out, max_in_flight=1)
    written = assert_only_chunks(out)
    assert written == [f"chunk-{i:08d}.parquet" for i in range(3)]  # 0-2 done, 3 died
    run = sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    assert (run.chunks_skipped, run.chunks_run) == (3, run.chunks - 3)
    assert_same(read_grid(out), reference)
    assert_only_chunks(out, run.chunks)


def test_an_interrupted_streamed_sweep_resumes_to_the_same_bits(
    reference: Any, tmp_path: Path
) -> None:
    out = tmp_path / "r.parquet"
    with pytest.raises(KeyboardInterrupt):
        sweep_grid(small_grid(), executor=interrupted_after(2), chunk_size=CHUNK, out=out)
    assert assert_only_chunks(out) == ["chunk-00000000.parquet", "chunk-00000001.parquet"]
    with pytest.raises(ValueError, match="2 of the grid's 8 chunks"):
        read_grid(out)
    assert_same(read_grid(out, partial=True), reference.slice(0, 2 * CHUNK))
    run = sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    assert (run.chunks_skipped, run.chunks_run) == (2, run.chunks - 2)
    assert_same(read_grid(out), reference)
    assert_same(run.to_arrow(), reference)
    again = sweep_grid(small_grid(), chunk_size=CHUNK, out=out)  # all on disk: nothing to do
    assert (again.chunks_skipped, again.chunks_run) == (run.chunks, 0)
    assert [s.networks.sum() for s in again.summary] == [len(c) for c in small_grid().cells]
    assert [s.converged.tolist() for s in again.summary] == [
        s.converged.tolist() for s in run.summary
    ]


def test_a_half_written_chunk_is_redone(reference: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    victim = out / "chunk-00000002.parquet"
    victim.write_bytes(victim.read_bytes()[:100])  # as a copy that was cut short
    run = sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    assert run.chunks_run == 1
    assert_same(read_grid(out), reference)


def test_a_changed_grid_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    sweep_grid(small_grid(seeds=5), chunk_size=100, out=out)
    before = sorted(p.name for p in out.iterdir())
    for changed in (
        {"grid": small_grid(seeds=6), "chunk_size": 100},
        {"grid": small_grid(seeds=5), "chunk_size": 50},
        {"grid": small_grid(seeds=5), "chunk_size": 100, "curves": True},
    ):
        with pytest.raises(ValueError, match="different grid"):
            sweep_grid(out=out, **changed)
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_directory_of_the_old_format_is_refused(reference: Any, tmp_path: Path) -> None:
    """Format 1 (chunk files with cell, seed and alpha) is neither resumed nor read."""
    import json

    import pyarrow.parquet as pq

    out = tmp_path / "r.parquet"
    sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["format"] = 1
    del manifest["cells"][0]["seed_values"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    for k in range(2):  # what format 1 wrote: the rows' cell, seed and alpha too
        pq.write_table(
            reference.slice(k * CHUNK, CHUNK).select(OUTCOME), out / f"chunk-{k:08d}.parquet"
        )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    message = re.escape(repr(str(out))) + r".* format 1\b.*delete it"
    with pytest.raises(ValueError, match="out=" + message):
        sweep_grid(small_grid(), chunk_size=CHUNK, out=out)
    with pytest.raises(ValueError, match="path=" + message):
        read_grid(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_out_must_be_a_grid_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="out must be a directory"):
        sweep_grid(small_grid(seeds=2), out=tmp_path / "file")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="without a grokprop manifest"):
        sweep_grid(small_grid(seeds=2), out=tmp_path / "other")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size"),
        ({"executor": 3}, TypeError, "executor"),
        ({"threads": 0}, ValueError, "threads"),
        ({"curves": "yes"}, TypeError, "curves"),
        ({"max_in_flight": 0}, ValueError, "max_in_flight"),
        ({"backend": "fortran"}, ValueError, "fortran"),
    ],
)
def test_bad_run_arguments_name_themselves(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        sweep_grid(small_grid(seeds=2), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"datasets": "nope"}, ValueError, "datasets"),
        ({"datasets": [{"function": 1, "file": "x"}]}, ValueError, "datasets"),
        ({"datasets": 3}, TypeError, "datasets"),
        ({"datasets": []}, ValueError, "datasets"),
        ({"hidden": -1}, ValueError, "hidden"),
        ({"hidden": "4"}, TypeError, "hidden"),
        ({"activations": "softmax"}, ValueError, "activation"),
        ({"epochs": -1}, ValueError, "epochs"),
        ({"batch_sizes": 9}, ValueError, "batch_size"),
        ({"seeds": [-1]}, ValueError, "seed"),
        ({"alphas": 0.0}, ValueError, "alpha"),
        ({"dtype": "int8"}, ValueError, "dtype"),
        ({"datasets": [("bad", [[1.0, np.nan]], [[1.0]])]}, ValueError, "X"),
    ],
)
def test_bad_grid_settings_name_themselves(kwargs: dict[str, Any], error: type, match: str) -> None:
    settings: dict[str, Any] = {"datasets": "xor", "epochs": 3, "seeds": 1, **kwargs}
    with pytest.raises(error, match=match):
        Grid.product(**settings)


def test_grids_add_and_count() -> None:
    a, b = small_grid(seeds=2), small_grid(seeds=3)
    both = a + b
    assert len(both) == len(a) + len(b) and len(both.cells) == 2 * len(a.cells)
    table = sweep_grid(both, chunk_size=64).to_arrow()
    assert table.num_rows == len(both)
    assert_same(table.slice(0, len(a)), sweep_grid(a).to_arrow())


#: The child's grid: 2 cells x SEEDS networks in chunks of 500, about 0.25 s a chunk on cpp
#: (AMD EPYC): two minutes in all, so the SIGINT always comes long before the end, however
#: slowly a loaded machine or a sanitized build runs this test (4,000 seeds, 16 chunks in
#: 4 s, once let a starved parent find the run over before it sent the signal).
SEEDS = 120_000
CHUNKS = 2 * SEEDS // 500

SIGINT_CHILD = textwrap.dedent(
    f"""
    import sys
    import grokprop as gp

    SEEDS = {SEEDS}

    grid = gp.Grid.product(datasets="xor", hidden=[8, 16], epochs=2000, seeds=range(SEEDS))
    try:
        gp.sweep_grid(grid, out=sys.argv[1], chunk_size=500, threads=1)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


def test_ctrl_c_stops_a_streamed_sweep_between_whole_chunks(tmp_path: Path) -> None:
    """A real SIGINT once chunks are on disk: the child stops long before the run would end
    (minutes: SEEDS), leaving only whole chunks; the resumed run equals an uninterrupted one."""
    out = tmp_path / "r.parquet"
    with subprocess.Popen(
        [sys.executable, "-c", SIGINT_CHILD, str(out)], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            deadline = time.monotonic() + 60
            while not list(out.glob("chunk-*.parquet")) and time.monotonic() < deadline:
                time.sleep(0.05)
            child.send_signal(signal.SIGINT)
            sent = time.perf_counter()
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "interrupted"
            response = time.perf_counter() - sent
            assert child.wait(timeout=60) == 0
        finally:
            child.kill()
    written = assert_only_chunks(out)
    assert 1 <= len(written) < CHUNKS
    assert response < 5.0, f"KeyboardInterrupt came {response:.2f} s after SIGINT"
    # chunk 0: the first 500 networks, the 500 first seeds of the first cell
    first = Grid.product(datasets="xor", hidden=8, epochs=2000, seeds=range(500))
    chunk_0 = read_grid(out, partial=True).slice(0, 500)  # a file holds only the outcomes
    assert_same(chunk_0, sweep_grid(first, threads=1).to_arrow())


def write_config(path: Path, seeds: int = 30) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""
            datasets = ["xor", {{ function = 105, inputs = 3, name = "f105" }}]
            hidden = [0, 3, [2, 2]]
            activations = ["relu", "linear"]
            alphas = [0.2, 0.9]
            epochs = 7
            batch_sizes = [1, "full"]
            seeds = {{ start = 0, count = {seeds} }}

            [run]
            chunk_size = 100
            out = "results.parquet"
            """
        )
    )
    return path


def test_cli_sweep_writes_resumes_and_refuses_a_changed_grid(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grokprop.cli import main

    config = write_config(tmp_path / "grid.toml")
    first = CliRunner().invoke(main, ["sweep", str(config)])
    assert first.exit_code == 0, first.output
    table = read_grid(tmp_path / "results.parquet")
    expected = Grid.product(
        datasets=["xor", {"function": 105, "inputs": 3, "name": "f105"}],
        hidden=[0, 3, [2, 2]],
        activations=["relu", "linear"],
        alphas=[0.2, 0.9],
        epochs=7,
        batch_sizes=[1, None],
        seeds=range(30),
    )
    assert_same(table, sweep_grid(expected).to_arrow())
    # the summary: one line per cell and alpha, its converged share computed from the rows
    lines = first.output.splitlines()
    assert lines[0].split()[:3] == ["cell", "dataset", "sizes"]
    assert len([line for line in lines if len(line.split()) == 10]) == 1 + 2 * len(expected.cells)
    assert "(0 already on disk)" in first.output
    again = CliRunner().invoke(main, ["sweep", str(config)])
    assert again.exit_code == 0, again.output
    chunks = len(list((tmp_path / "results.parquet").glob("chunk-*")))
    assert f"({chunks} already on disk)" in again.output
    changed = CliRunner().invoke(main, ["sweep", str(write_config(config, seeds=31))])
    assert changed.exit_code == 1 and "different grid" in changed.output


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("datasets = 'xor'\nepochs = 3\n", "needs 'seeds'"),
        ("datasets = 'xor'\nepochs = 3\nseeds = 2\ncolour = 1\n", "unknown grid settings"),
        ("datasets = 'xor'\nepochs = 3\nseeds = 2\n[run]\nspeed = 1\n", r"\[run\]"),
        ("datasets = 'xor'\nepochs = 3\nseeds = {start = 1}\n", "seeds"),
        ("datasets = 'xor'\nepochs = [\n", "not valid TOML"),
        ("datasets = 'xor'\nepochs = 3\nseeds = 2\nhidden = -2\n", "hidden"),
    ],
)
def test_cli_sweep_bad_config_is_one_line(tmp_path: Path, text: str, match: str) -> None:
    from click.testing import CliRunner

    from grokprop.cli import main

    config = tmp_path / "grid.toml"
    config.write_text(text)
    result = CliRunner().invoke(main, ["sweep", str(config)])
    assert result.exit_code == 1
    assert re.search(match, result.output), result.output
    assert result.output.count("\n") == 1


def test_cli_sweep_on_a_local_dask_cluster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grokprop.cli import main

    config = write_config(tmp_path / "grid.toml", seeds=4)
    local = CliRunner().invoke(main, ["sweep", str(config), "--out", str(tmp_path / "a")])
    dask = CliRunner().invoke(
        main, ["sweep", str(config), "--workers", "2", "--out", str(tmp_path / "b")]
    )
    assert local.exit_code == 0 and dask.exit_code == 0, (dask.output, dask.exception)
    assert_same(read_grid(tmp_path / "a"), read_grid(tmp_path / "b"))


def test_curves_and_weights_stream_and_resume(tmp_path: Path) -> None:
    grid = Grid.product(
        datasets="xor", hidden=[0, 2, [2, 3]], alphas=[0.1, 0.3], epochs=4, seeds=range(5)
    )
    whole = sweep_grid(grid, chunk_size=7, curves=True, weights=True).to_arrow()
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        sweep_grid(
            grid, chunk_size=7, curves=True, weights=True, out=out, executor=interrupted_after(1)
        )
    run = sweep_grid(grid, chunk_size=7, curves=True, weights=True, out=out)
    assert run.chunks_skipped == 1
    assert read_grid(out).to_pylist() == whole.to_pylist()
    row = whole.to_pylist()[-1]  # [3, 2, 3, 1]: three layers of weights
    assert [len(w) for w in row["weights"]] == [3 * 2, 2 * 3, 3 * 1] and len(row["curve"]) == 4


def test_cli_sweep_shows_a_bar_over_chunks(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grokprop.cli import main

    config = write_config(tmp_path / "grid.toml", seeds=4)
    result = CliRunner().invoke(main, ["sweep", str(config), "--progress"])
    assert result.exit_code == 0, result.output
    assert "chunk" in result.stderr and "grid" in result.stderr


def test_reprs_stay_short_whatever_the_grid() -> None:
    grid = Grid.product(datasets=["xor", "and"], hidden=[0, 4], epochs=2, seeds=range(10**5))
    run = sweep_grid(Grid(grid.cells[:1]))
    assert repr(grid) == f"Grid(4 cells, {4 * 10**5} networks)"
    for text in (repr(grid.cells[0]), repr(run), run._repr_html_()):
        assert len(text) < 2000 and "array([" not in text


def test_the_lean_dask_settings_read_from_the_environment() -> None:
    """lean_dask_environment()'s variables are LEAN_DASK_CONFIG, as Dask reads them (the
    README gives them as exports: tests/test_readme.py)."""
    dask = pytest.importorskip("dask", reason="the test extra has dask[distributed]")
    from grokprop.grid_cli import LEAN_DASK_CONFIG, lean_dask_environment

    env = lean_dask_environment()
    config: dict[str, Any] = {}
    dask.config.update(config, dask.config.collect_env(env))
    assert {key: dask.config.get(key, config=config) for key in LEAN_DASK_CONFIG} == (
        LEAN_DASK_CONFIG
    )


def test_the_summary_counts_what_the_rows_say(tmp_path: Path) -> None:
    """Counts per cell and alpha made by the workers (chunks of 7 start mid-seed) equal the
    rows' own, from a fresh run and from the files a resumed run finds on disk."""
    grid = small_grid(seeds=9)
    rows = columns(sweep_grid(grid).to_arrow())
    sweep_grid(grid, chunk_size=7, out=tmp_path / "r")
    resumed = sweep_grid(grid, chunk_size=7, out=tmp_path / "r")  # every chunk from its file
    assert resumed.chunks_run == 0
    runs = [sweep_grid(grid, chunk_size=7), sweep_grid(grid, chunk_size=7, executor=map), resumed]
    for run in runs:
        for index, (cell, counted) in enumerate(zip(grid.cells, run.summary)):
            mine = rows["cell"] == index
            alpha = np.searchsorted(cell.alphas, rows["alpha"][mine])
            ok = ~rows["diverged"][mine] & (rows["final_error"][mine] < run.threshold)
            assert counted.networks.tolist() == np.bincount(alpha, minlength=2).tolist()
            assert counted.converged.tolist() == np.bincount(alpha[ok], minlength=2).tolist()
            assert counted.diverged.tolist() == (
                np.bincount(alpha[rows["diverged"][mine]], minlength=2).tolist()
            )
