"""scripts/bench_report.py: medians and ratios to the group's baseline, from pytest-benchmark JSON."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_report.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(name: str, group: str, median: float) -> dict:
    stats = {"median": median, "iqr": median / 100, "rounds": 7}
    return {"name": name, "group": group, "stats": stats, "options": {"timer": "process_time"}}


def test_ratios_are_to_the_book_loop_of_the_same_group(tmp_path: Path) -> None:
    data = {
        "machine_info": {"python_version": "3.11", "grokprop": {"cpu_model": "Test CPU"}},
        "datetime": "now",
        "benchmarks": [
            _bench("test_w1_book_loop", "W1", 3e-3),
            _bench("test_w1_fit[cpp]", "W1", 1e-5),
            _bench("test_w1_fit[numba]", "W1", 1.5e-5),
            _bench("test_two_fits[cpp-sequential]", "threads", 2.0),
            _bench("test_two_fits[cpp-two_threads]", "threads", 1.0),
        ],
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    text = _load().report([path], "book_loop")
    assert "Test CPU" in text and "process_time" in text
    assert "| w1_fit[cpp] | 10.0 µs | 100 ns | 7 | 300× |" in text
    assert "| w1_fit[numba] | 15.0 µs | 150 ns | 7 | 200× |" in text
    assert "| w1_book_loop | 3.00 ms | 30.0 µs | 7 | 1.00× |" in text
    assert "| two_fits[cpp-two_threads] | 1.00 s | 10.0 ms | 7 | 2.00× |" in text


def test_repeated_runs_report_the_median_ratio_and_its_range(tmp_path: Path) -> None:
    paths = []
    for i, (book, cpp) in enumerate([(3e-3, 1e-5), (4e-3, 1e-5), (3.5e-3, 1e-5)]):
        data = {
            "machine_info": {},
            "benchmarks": [_bench("test_w1_book_loop", "W1", book), _bench("test_fit", "W1", cpp)],
        }
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(data))
    text = _load().report(paths, "book_loop", repeats=True)
    assert "| fit | 10.0 µs | 350× | 300× – 400× |" in text
    assert "| w1_book_loop | 3.50 ms | 1.00× | 1.00× – 1.00× |" in text
