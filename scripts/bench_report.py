#!/usr/bin/env python3
"""Turn pytest-benchmark JSON files into the markdown tables of BENCHMARKS.md.

    python scripts/bench_report.py main.json threads.json > tables.md
    python scripts/bench_report.py --repeats run1.json run2.json run3.json

For every benchmark group (in the order the run met them): each benchmark's median, its
interquartile range and rounds, and the ratio of the group's baseline median to its median
("x faster than the baseline", measured in the same run). The baseline is the entry whose
name contains ``--baseline`` (default ``book_loop``, the book-style ``np.dot`` loop), or
else ``sequential`` (the threads groups). The machine and timer of each file come first.

With ``--repeats`` the files are repeated runs of one suite (a noisy, shared machine): each
benchmark gets the median over the runs of its median, and the median over the runs of its
within-run ratio, with the range of those ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
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


def short_name(name: str) -> str:
    return name.removeprefix("test_")


def groups(benchmarks: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
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


def ratios(entries: Sequence[dict[str, Any]], pattern: str) -> dict[str, float]:
    """Each entry's name -> baseline median / its median (empty without a baseline)."""
    baseline = find_baseline(entries, pattern)
    if baseline is None:
        return {}
    return {b["name"]: baseline["stats"]["median"] / b["stats"]["median"] for b in entries}


def _head(entries: Sequence[dict[str, Any]], pattern: str) -> str:
    baseline = find_baseline(entries, pattern)
    return f"× {short_name(baseline['name'])}" if baseline else "ratio"


def group_table(name: str, entries: Sequence[dict[str, Any]], pattern: str) -> list[str]:
    by_name = ratios(entries, pattern)
    lines = [
        f"### {name}",
        "",
        f"| benchmark | median | IQR | rounds | {_head(entries, pattern)} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for benchmark in sorted(entries, key=lambda b: -b["stats"]["median"]):
        stats = benchmark["stats"]
        ratio = format_ratio(by_name[benchmark["name"]]) if by_name else "–"
        lines.append(
            f"| {short_name(benchmark['name'])} | {format_seconds(stats['median'])} "
            f"| {format_seconds(stats['iqr'])} | {stats['rounds']} | {ratio} |"
        )
    return [*lines, ""]


def repeated_table(name: str, runs: Sequence[Sequence[dict[str, Any]]], pattern: str) -> list[str]:
    """One group over repeated runs: median of medians, median (and range) of the ratios."""
    medians: dict[str, list[float]] = {}
    run_ratios: dict[str, list[float]] = {}
    for entries in runs:
        for benchmark in entries:
            medians.setdefault(benchmark["name"], []).append(benchmark["stats"]["median"])
        for key, value in ratios(entries, pattern).items():
            run_ratios.setdefault(key, []).append(value)
    head = f"| benchmark | median of {len(runs)} run medians | {_head(runs[0], pattern)}"
    lines = [
        f"### {name}",
        "",
        f"{head}, median of the runs | range |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key in sorted(medians, key=lambda k: -statistics.median(medians[k])):
        values = run_ratios.get(key, [])
        ratio = format_ratio(statistics.median(values)) if values else "–"
        spread = f"{format_ratio(min(values))} – {format_ratio(max(values))}" if values else "–"
        lines.append(
            f"| {short_name(key)} | {format_seconds(statistics.median(medians[key]))} "
            f"| {ratio} | {spread} |"
        )
    return [*lines, ""]


def machine_lines(data: dict[str, Any], title: str) -> list[str]:
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
        f"**{title}** — {data.get('datetime', '')}, timer {', '.join(timers)}",
        "",
        f"- CPU: {cpu}, {ours.get('logical_cpus', '?')} logical CPUs",
        f"- {versions}, BLAS: {blas or '?'}",
        f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {ours.get('openblas_env', {})}",
        f"- grokprop C++: {build}, used {ours.get('simd_used', '?')}",
        "",
    ]


def report(paths: Sequence[Path], pattern: str, *, repeats: bool = False) -> str:
    data = [json.loads(path.read_text()) for path in paths]
    lines: list[str] = []
    if repeats:
        lines += machine_lines(data[0], " + ".join(path.name for path in paths))
        per_run = [groups(d.get("benchmarks", [])) for d in data]
        for name in per_run[0]:
            lines += repeated_table(name, [run[name] for run in per_run if name in run], pattern)
        return "\n".join(lines)
    for path, one in zip(paths, data):
        lines += machine_lines(one, path.name)
        for name, entries in groups(one.get("benchmarks", [])).items():
            lines += group_table(name, entries, pattern)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", nargs="+", type=Path, help="pytest-benchmark --benchmark-json")
    parser.add_argument(
        "--baseline", default="book_loop", help="name part of each group's baseline entry"
    )
    parser.add_argument(
        "--repeats", action="store_true", help="the files are repeated runs of one suite"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(report(args.json, args.baseline, repeats=args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
