#!/usr/bin/env python3
"""Peak memory of the W3 / W4 trainings against their number of epochs.

For each workload, backend and epoch count, a fresh Python process builds the data and the
network, then fits; it reports the peak resident set size (ru_maxrss) after the data was
built and after the fit, and the fit's tracemalloc peak (every NumPy allocation, including
the C++ loop's workspace). The peak must not grow with the epochs. With --valgrind, the
C++ fit also runs under valgrind and the heap allocation counts (malloc/new calls of the
whole process) of two epoch counts are compared: the compiled loop allocates nothing per
step or epoch.

    python scripts/bench_memory.py [--epochs 1 3] [--valgrind]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

CHILD = r"""
import json, resource, sys, tracemalloc
import numpy as np
import grokprop as gp
workload, backend, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows, batch = (2000, 1) if workload.startswith("W3") else (10000, 100)
dtype = workload.split()[1]
X, y = gp.datasets.random_onehot(rows, 784, 10, seed=0)
X, y = X.astype(dtype), y.astype(dtype)
rng = np.random.RandomState(0)
net = gp.Network(weights=[0.2 * rng.random_sample(s) - 0.1 for s in [(784, 128), (128, 10)]],
                 dtype=dtype)
net.copy().fit(X[:200], y[:200], alpha=0.005, epochs=1, batch_size=batch, backend=backend)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
net.fit(X, y, alpha=0.005, epochs=epochs, batch_size=batch, backend=backend)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_before_kib": before, "rss_after_kib": after, "tracemalloc_peak": peak}))
"""


def measure(workload: str, backend: str, epochs: int) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, backend, str(epochs)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def valgrind_allocs(epochs: int) -> int:
    """Heap allocations of a whole process fitting W3 (200 rows) with the C++ loop."""
    code = CHILD.replace("X, y = X.astype", "X, y = X[:200].astype").replace(
        "y.astype(dtype)", "y[:200].astype(dtype)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}
    out = subprocess.run(
        [
            "valgrind",
            "--tool=memcheck",
            sys.executable,
            "-c",
            code,
            "W3 float64",
            "cpp",
            str(epochs),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    match = re.search(r"total heap usage: ([\d,]+) allocs", out.stderr)
    if match is None:
        raise RuntimeError(out.stderr[-2000:])
    return int(match.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, nargs=2, default=[1, 3])
    parser.add_argument("--valgrind", action="store_true")
    args = parser.parse_args()
    few, many = args.epochs
    print(
        f"| workload | backend | peak RSS, {few} / {many} epochs | fit's tracemalloc peak, "
        f"{few} / {many} epochs |"
    )
    print("| --- | --- | ---: | ---: |")
    for workload in ["W3 float64", "W3 float32", "W4 float64", "W4 float32"]:
        for backend in ["cpp", "numba"]:
            a, b = measure(workload, backend, few), measure(workload, backend, many)
            print(
                f"| {workload} | {backend} | {a['rss_after_kib'] / 1024:.1f} / "
                f"{b['rss_after_kib'] / 1024:.1f} MiB | {a['tracemalloc_peak'] / 1024:.1f} / "
                f"{b['tracemalloc_peak'] / 1024:.1f} KiB |"
            )
    if args.valgrind:
        if shutil.which("valgrind") is None:
            print("\nvalgrind not found")
            return 1
        counts = {epochs: valgrind_allocs(epochs) for epochs in (few, many)}
        print(
            f"\nvalgrind, whole process fitting 200 W3 rows with cpp: {counts[few]:,} heap "
            f"allocations with {few} epoch(s), {counts[many]:,} with {many}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
