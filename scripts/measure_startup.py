"""Measure what a user waits for before grokprop computes: the import and numba's first call.

Usage: python scripts/measure_startup.py [--runs N] [--fits N]   (POSIX; measures the
grokprop that this python imports)

Every measurement is a fresh interpreter (a subprocess), as a user's script is:
* ``import grokprop``: wall and CPU time of ``python -c "import grokprop"``, next to
  ``python -c pass`` and ``import numpy`` (which grokprop cannot avoid); median of N runs.
* numba's first fit of the book network, timed inside the child after ``import grokprop``:
  ``cold`` with an empty NUMBA_CACHE_DIR (compile, then write the cache), ``warm`` with the
  same directory again (load from the cache), ``uncached`` with GROKPROP_NUMBA_CACHE=0
  (compile, no cache). ``import numba`` is timed apart; medians.
Medians, not asserted: a shared machine is noisy, and speed is not a test (tests/).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_FIT = """
import json, time
import grokprop as gp
from grokprop.backends import resolve
X, y = gp.datasets.streetlights("nonlinear")
net = gp.Network([3, 4, 1], seed=1)
t0 = time.perf_counter()
resolve("numba")  # imports numba and the backend module, compiles nothing yet
t1 = time.perf_counter()
net.fit(X, y, alpha=0.2, epochs=60, backend="numba")
t2 = time.perf_counter()
net.fit(X, y, alpha=0.2, epochs=60, backend="numba")
t3 = time.perf_counter()
print(json.dumps({"import numba": t1 - t0, "first fit": t2 - t1, "second fit": t3 - t2}))
"""


def startup_ms(code: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) milliseconds of ``python -c code``.

    CPU time is reported too because a shared machine's load inflates wall time."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def first_fit(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FIT],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    timings: dict[str, float] = json.loads(out.stdout)
    return timings


def median_of(results: list[dict[str, float]], key: str) -> str:
    return f"{1e3 * statistics.median(r[key] for r in results):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per import measurement")
    parser.add_argument("--fits", type=int, default=3, help="runs per numba measurement")
    args = parser.parse_args()

    import grokprop

    print(f"grokprop {grokprop.__version__} from {Path(grokprop.__file__).parent}")
    print(f"startup, median of {args.runs} fresh interpreters:")
    for label, code in [
        ("python -c pass", "pass"),
        ("import numpy", "import numpy"),
        ("import grokprop", "import grokprop"),
    ]:
        wall, cpu = startup_ms(code, args.runs)
        print(f"  {label:<32}{wall:8.1f} ms  (cpu {cpu:.1f} ms)")

    if grokprop.backend_status()["numba"] is not None:
        print(f"numba: {grokprop.backend_status()['numba']}")
        return
    cold, warm, uncached = [], [], []
    for _ in range(args.fits):
        with tempfile.TemporaryDirectory() as cache_dir:
            cold.append(first_fit({"NUMBA_CACHE_DIR": cache_dir}))
            warm.append(first_fit({"NUMBA_CACHE_DIR": cache_dir}))
        uncached.append(first_fit({"GROKPROP_NUMBA_CACHE": "0"}))
    print(f"numba, book network [3, 4, 1] x 60 epochs, median of {args.fits} fresh interpreters:")
    print(f"  {'import numba':<32}{median_of(cold + warm + uncached, 'import numba')}")
    print(f"  {'first fit, cold cache':<32}{median_of(cold, 'first fit')}")
    print(f"  {'first fit, warm cache':<32}{median_of(warm, 'first fit')}")
    print(f"  {'first fit, cache off':<32}{median_of(uncached, 'first fit')}")
    print(f"  {'second fit (compiled)':<32}{median_of(warm, 'second fit')}")


if __name__ == "__main__":
    main()
