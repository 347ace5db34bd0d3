#!/usr/bin/env python3
"""W1 without Python: grokprop's C++ kernel against a hand-written C++ loop, per instruction set.

Builds benchmarks/handwritten/compare_w1.cpp once per instruction set this CPU runs (the
flags of CMakeLists.txt's kernel copies, always -O3 -ffp-contract=off), runs it with the
book's seed-1 weights and prints a markdown table: median CPU time per 60-epoch training,
the ratio, and whether both loops gave the same bits.

    python scripts/bench_handwritten.py [--cxx g++]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from grokprop import _core

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "benchmarks" / "handwritten" / "compare_w1.cpp"
FLAGS = {  # as CMakeLists.txt's GROKPROP_SIMD_FLAGS_*
    "baseline": [],
    "avx2": ["-mavx2"],
    "avx512": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq"],
}


def seed_one_weights() -> list[str]:
    rng = np.random.RandomState(1)
    w01 = 2 * rng.random_sample((3, 4)) - 1
    w12 = 2 * rng.random_sample((4, 1)) - 1
    return [repr(float(v)) for v in [*w01.ravel(), *w12.ravel()]]


def run(cxx: str, level: str, workdir: Path) -> dict[str, object]:
    binary = workdir / f"compare_w1_{level}"
    command = [cxx, "-O3", "-std=c++17", "-ffp-contract=off", *FLAGS[level]]
    command += ["-I", str(ROOT / "cpp" / "include"), str(SOURCE), "-o", str(binary)]
    subprocess.run(command, check=True)
    output = subprocess.run(
        [str(binary), *seed_one_weights()], check=False, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(output.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cxx", default=shutil.which("c++") or "g++", help="C++ compiler")
    args = parser.parse_args()
    print("| instruction set | hand-written loop | grokprop::train | ratio | same bits |")
    print("| --- | ---: | ---: | ---: | --- |")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for level in _core.simd_levels():
            r = run(args.cxx, level, Path(tmp))
            hand, ours = float(r["handwritten_s"]), float(r["grokprop_s"])  # type: ignore[arg-type]
            ok = ok and bool(r["bitwise_equal"])
            print(
                f"| {level} | {hand * 1e6:.2f} µs | {ours * 1e6:.2f} µs | {ours / hand:.2f}× "
                f"| {'yes' if r['bitwise_equal'] else 'NO'} |"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
