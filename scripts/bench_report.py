#!/usr/bin/env python3
"""Turn pytest-benchmark JSON files into the markdown tables of BENCHMARKS.md.

    python scripts/bench_report.py main.json threads.json > tables.md

For every benchmark group (in the order the run met them): each benchmark's median, its
interquartile range and rounds, and the ratio of the group's baseline median to its median
("x faster than the baseline", measured in the same run). The baseline is the entry whose
name contains ``--baseline`` (default ``book_loop``, the book-style ``np.dot`` loop), or
else ``sequential`` (the threads group). The machine and timer of each file come first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FALLBACK_BASELINES = ("sequential",)


def _three_digits(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def format_seconds(seconds: float) -> str:
    """3 significant digits in the largest unit that keeps the value >= 1."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{_three_digits(seconds / scale)} {unit}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def format_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×"


def _short_name(benchmark: dict[str, Any]) -> str:
    name: str = benchmark["name"]
    return name.removeprefix("test_")


def groups(benchmarks: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for benchmark in benchmarks:
        result.setdefault(benchmark.get("group") or "(no group)", []).append(benchmark)
    return result


def find_baseline(entries: Sequence[dict[str, Any]], pattern: str) -> dict[str, Any] | None:
    for wanted in (pattern, *FALLBACK_BASELINES):
        matches = [b for b in entries if wanted in b["name"]]
        if len(matches) == 1:
            return matches[0]
    return None


def group_table(name: str, entries: Sequence[dict[str, Any]], pattern: str) -> list[str]:
    baseline = find_baseline(entries, pattern)
    ratio_head = f"× {_short_name(baseline)}" if baseline else "ratio"
    lines = [
        f"### {name}",
        "",
        f"| benchmark | median | IQR | rounds | {ratio_head} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for benchmark in sorted(entries, key=lambda b: -b["stats"]["median"]):
        stats = benchmark["stats"]
        ratio = format_ratio(baseline["stats"]["median"] / stats["median"]) if baseline else "–"
        lines.append(
            f"| {_short_name(benchmark)} | {format_seconds(stats['median'])} "
            f"| {format_seconds(stats['iqr'])} | {stats['rounds']} | {ratio} |"
        )
    return [*lines, ""]


def machine_lines(data: dict[str, Any], path: Path) -> list[str]:
    machine = data.get("machine_info", {})
    ours = machine.get("grokprop", {})
    timers = sorted({b["options"].get("timer", "?") for b in data.get("benchmarks", [])})
    blas = "; ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')} kernels, "
        f"{b.get('num_threads')} thread)"
        for b in ours.get("blas", [])
    )
    cpu = ours.get("cpu_model", machine.get("processor", "?"))
    versions = f"Python {machine.get('python_version', '?')}, NumPy {ours.get('numpy', '?')}"
    build = f"{ours.get('compiler', '?')}, instruction sets built {ours.get('simd_built', '?')}"
    return [
        f"**{path.name}** — {data.get('datetime', '')}, timer {', '.join(timers)}",
        "",
        f"- CPU: {cpu}, {ours.get('logical_cpus', '?')} logical CPUs",
        f"- {versions}, BLAS: {blas or '?'}",
        f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {ours.get('openblas_env', {})}",
        f"- grokprop C++: {build}, used {ours.get('simd_used', '?')}",
        "",
    ]


def report(paths: Sequence[Path], pattern: str) -> str:
    lines: list[str] = []
    for path in paths:
        data = json.loads(path.read_text())
        lines += machine_lines(data, path)
        for name, entries in groups(data.get("benchmarks", [])).items():
            lines += group_table(name, entries, pattern)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", nargs="+", type=Path, help="pytest-benchmark --benchmark-json")
    parser.add_argument(
        "--baseline", default="book_loop", help="name part of each group's baseline entry"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(report(args.json, args.baseline))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
