"""Grids at scale: networks per second in one process and on a local Dask cluster of 1 and 2
worker processes (with grokprop's lean Dask settings, as ``grokprop sweep --workers``), the
per-chunk overhead, the CPU time of the whole process tree (psutil: the driver, and the
scheduler, nannies and workers) over the wall time, and the peak memory of a streamed grid
as it grows (BENCHMARKS.md, "Grids").

The overhead of a run is its process tree's CPU time over the baseline's (the same chunks'
plain ``gp.sweep``, nothing written), minus one: everything a grid adds — scheduling,
serialisation, the rows, the counts, the Parquet encoding and write, Dask's own loops.

The grid: the book network [3, 4, 1] on the nonlinear streetlights, 60 epochs, stochastic,
4 learning rates × N/4 seeds, streamed to Parquet at the default chunk size. N is
``GROKPROP_BENCH_GRID_NETWORKS`` (default 10**7); with ``--benchmark-disable`` (CI) it is
20,000, so the suite stays a quick check. Every run's final errors are hashed and must be
the same bits on every executor.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import psutil
import pytest

import grokprop as gp
from grokprop.grid import DEFAULT_CHUNK_SIZE
from grokprop.grid_cli import LEAN_DASK_CONFIG

pq = pytest.importorskip("pyarrow.parquet", reason="the test extra has pyarrow")
distributed = pytest.importorskip("distributed", reason="the test extra has dask[distributed]")

GROUP = "grid of book networks"
ALPHAS = [0.1, 0.2, 0.3, 0.4]
DIGESTS: dict[str, str] = {}
#: The baseline's CPU seconds (the first benchmark of this module), for the overheads.
BASELINE: dict[str, float] = {}


@pytest.fixture(scope="module")
def networks(request: pytest.FixtureRequest) -> int:
    if request.config.getoption("benchmark_disable"):
        return 20_000
    return int(os.environ.get("GROKPROP_BENCH_GRID_NETWORKS", "10000000"))


def book_grid(networks: int) -> gp.Grid:
    return gp.Grid.product(
        datasets="streetlights-nonlinear",
        hidden=4,
        alphas=ALPHAS,
        epochs=60,
        seeds=range(networks // len(ALPHAS)),
    )


def digest(path: Path) -> str:
    """A hash of every network's final error, chunk by chunk (bounded memory)."""
    h = hashlib.sha256()
    for file in sorted(path.glob("chunk-*.parquet")):
        h.update(pq.read_table(file, columns=["final_error"]).column(0).to_numpy().tobytes())
    return h.hexdigest()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu_seconds() -> float:
    """CPU time of this process and every process below it (a local cluster's nannies,
    workers, their helpers), as psutil reads it now."""
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def overhead(tree_cpu: float) -> float | None:
    """A run's CPU time over the baseline's, minus one (None without a baseline)."""
    return tree_cpu / BASELINE["cpu"] - 1 if "cpu" in BASELINE else None


def timed_grid(
    benchmark: Any, grid: gp.Grid, out: Path, label: str, workers_cpu: Any = None, **kwargs: Any
) -> None:
    """One streamed run (fresh directory), timed once; networks/s and CPU/wall recorded."""

    def fresh() -> tuple[tuple[()], dict[str, Any]]:
        shutil.rmtree(out, ignore_errors=True)
        return (), {}

    marks: dict[str, float] = {}

    def run() -> gp.GridRun:
        marks["cpu"], marks["wall"] = cpu_seconds(), time.perf_counter()
        marks["workers"] = workers_cpu() if workers_cpu else 0.0
        marks["tree"] = tree_cpu_seconds()
        result = gp.sweep_grid(grid, out=out, **kwargs)
        marks["wall"] = time.perf_counter() - marks["wall"]
        marks["tree"] = tree_cpu_seconds() - marks["tree"]
        marks["cpu"] = cpu_seconds() - marks["cpu"]
        marks["workers"] = (workers_cpu() if workers_cpu else 0.0) - marks["workers"]
        return result

    result = benchmark.pedantic(run, setup=fresh, rounds=1, iterations=1)
    assert result.chunks_run == result.chunks
    DIGESTS[label] = digest(out)
    assert len(set(DIGESTS.values())) == 1, DIGESTS  # the same bits on every executor
    benchmark.extra_info.update(
        networks=len(grid),
        chunks=result.chunks,
        chunk_size=DEFAULT_CHUNK_SIZE,
        networks_per_second=len(grid) / marks["wall"],
        driver_cpu_over_wall=marks["cpu"] / marks["wall"],
        workers_cpu_over_wall=marks["workers"] / marks["wall"],
        tree_cpu_seconds=marks["tree"],
        tree_cpu_over_wall=marks["tree"] / marks["wall"],
        overhead_over_baseline_cpu=overhead(marks["tree"]),
    )


@pytest.mark.benchmark(group=GROUP)
def test_plain_sweeps_of_the_chunks(benchmark: Any, networks: int) -> None:
    """The baseline: gp.sweep over the same chunks, one thread, nothing written."""
    X, y = gp.datasets.streetlights("nonlinear")
    seeds = networks // len(ALPHAS)
    per_chunk = DEFAULT_CHUNK_SIZE // len(ALPHAS)

    def run() -> None:
        for first in range(0, seeds, per_chunk):
            gp.sweep(
                [3, 4, 1], X, y, seeds=range(first, min(seeds, first + per_chunk)),
                alphas=ALPHAS, epochs=60, threads=1,
            )  # fmt: skip

    start_cpu, start = tree_cpu_seconds(), time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)
    wall = time.perf_counter() - start
    BASELINE["cpu"] = tree_cpu_seconds() - start_cpu
    benchmark.extra_info.update(
        networks=networks,
        networks_per_second=networks / wall,
        tree_cpu_seconds=BASELINE["cpu"],
        tree_cpu_over_wall=BASELINE["cpu"] / wall,
    )


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("threads", [1, os.cpu_count() or 1], ids=["1-thread", "all-threads"])
def test_grid_in_one_process(benchmark: Any, networks: int, tmp_path: Path, threads: int) -> None:
    timed_grid(benchmark, book_grid(networks), tmp_path / "r", "one process", threads=threads)


@pytest.fixture(scope="module", params=[1, 2], ids=["dask-1-worker", "dask-2-workers"])
def cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    with (
        dask.config.set(LEAN_DASK_CONFIG),  # as grokprop sweep --workers starts its cluster
        distributed.LocalCluster(
            n_workers=request.param, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.mark.benchmark(group=GROUP)
def test_grid_on_a_local_dask_cluster(
    benchmark: Any, networks: int, tmp_path: Path, cluster: Any
) -> None:
    def workers_cpu() -> float:
        return sum(cluster.run(cpu_seconds).values())

    workers = len(cluster.scheduler_info()["workers"])
    benchmark.extra_info["workers"] = workers
    timed_grid(
        benchmark,
        book_grid(networks),
        tmp_path / "r",
        f"dask {workers}",
        workers_cpu=workers_cpu,
        executor=cluster.get_executor(),
    )


MEMORY_CHILD = textwrap.dedent(
    """
    import sys
    import grokprop as gp
    n, out = int(sys.argv[1]), sys.argv[2]
    grid = gp.Grid.product(datasets="streetlights-nonlinear", hidden=4,
                           alphas=[0.1, 0.2, 0.3, 0.4], epochs=60, seeds=range(n // 4))
    gp.sweep_grid(grid, out=out, threads=1)
    # this process's peak RSS (ru_maxrss would count what the forking parent held)
    with open("/proc/self/status") as status:
        print(next(line.split()[1] for line in status if line.startswith("VmHWM")))  # KiB
    """
)


@pytest.mark.benchmark(group="grid memory")
def test_peak_memory_does_not_grow_with_the_grid(
    benchmark: Any, networks: int, tmp_path: Path
) -> None:
    """Peak RSS of a fresh process streaming N/4 and N networks (a quarter and the whole)."""
    small, large = networks // 4, networks
    peaks = {}
    for n in (small, large):
        out = tmp_path / f"r{n}"
        child = [sys.executable, "-c", MEMORY_CHILD, str(n), str(out)]
        if n == large:
            result = benchmark.pedantic(
                subprocess.run, args=(child,), kwargs={"capture_output": True, "text": True,
                                                       "check": True},
                rounds=1, iterations=1,
            )  # fmt: skip
        else:
            result = subprocess.run(child, capture_output=True, text=True, check=True)
        peaks[n] = int(result.stdout.split()[-1]) / 1024
    benchmark.extra_info.update(
        networks_small=small, networks_large=large,
        peak_rss_mib_small=peaks[small], peak_rss_mib_large=peaks[large],
    )  # fmt: skip
    # four times the networks: the peak may not grow with them (a chunk's arrays at most)
    assert peaks[large] < 1.25 * peaks[small] + 16, peaks


@pytest.mark.benchmark(group="grid chunk overhead")
def test_per_chunk_overhead(benchmark: Any, networks: int, tmp_path: Path) -> None:
    """CPU time of each stage of a chunk at the default chunk size, one thread, as a worker
    and the driver do them: making the task (driver), pickling it and its result (the
    transport), the worker's seeds and alphas, training (the backend's sweep), the Arrow
    table, the counts, the Parquet encoding (worker), the atomic write (driver). The
    overhead is everything but the training, relative to it."""
    import pickle

    import numpy as np

    from grokprop import grid as g
    from grokprop.backends import resolve

    grid = book_grid(min(networks, 4 * DEFAULT_CHUNK_SIZE))
    plan = g.chunk_plan(grid, DEFAULT_CHUNK_SIZE)
    names = ["task", "pickle", "inputs", "train", "table", "counts", "encode", "write"]
    stages: dict[str, float] = dict.fromkeys(names, 0.0)
    engine = resolve("cpp")
    task_bytes = result_bytes = 0

    def run() -> None:
        nonlocal task_bytes, result_bytes
        for index, pieces in enumerate(plan):
            clock = time.process_time()

            def lap(stage: str) -> None:
                nonlocal clock
                now = time.process_time()
                stages[stage] += now - clock
                clock = now

            task = g._task(grid, index, pieces, "cpp", 1, (False, False), 1e-3, True)
            lap("task")
            task = pickle.loads(sent := pickle.dumps(task, protocol=5))
            task_bytes = max(task_bytes, len(sent))
            lap("pickle")
            parts = [g._canonical(part) for part in task.parts]
            lap("inputs")
            results = [
                engine.sweep(X, y, seeds.astype(np.uint32), alphas, spec, 1)
                for spec, X, y, seeds, alphas in parts
            ]
            lap("train")
            table = g._chunk_table(task.parts, results, False, False)
            lap("table")
            for out in results:
                g._counts(0, len(ALPHAS), *g._outcomes(out), 1e-3)
            lap("counts")
            data = g._parquet(table)
            lap("encode")
            data = pickle.loads(back := pickle.dumps(data, protocol=5))
            result_bytes = max(result_bytes, len(back))
            lap("pickle")
            g._write_chunk(tmp_path, index, data)
            lap("write")

    # one untimed pass first: the first Arrow table and Parquet file of a process pay a
    # one-time setup (~60 ms, measured), which is no chunk's cost
    run()
    stages.update(dict.fromkeys(names, 0.0))
    benchmark.pedantic(run, rounds=1, iterations=1)
    overhead = sum(stages.values()) - stages["train"]
    benchmark.extra_info.update(
        chunks=len(plan),
        chunk_size=DEFAULT_CHUNK_SIZE,
        task_bytes=task_bytes,
        result_bytes=result_bytes,
        cpu_ms_per_chunk={k: 1e3 * v / len(plan) for k, v in stages.items()},
        overhead_fraction=overhead / stages["train"],
    )
