"""The fixed cost of ``net.fit`` / ``net.step`` on cpp against the raw ``_core`` calls.

W1 (the book network): a 60-epoch fit on the book's int data against ``_core.train`` of the
same work, and a one-row step (a row owning its memory, and a row view ``X[:1]`` as the book
writes it; and one without ``backend=``, which walks the selection precedence) against
``_core.step``. ``timeit`` minimum of 3 x 2,000 calls, the calls
interleaved 7 times, medians of the 7 (BENCHMARKS.md, "The redesign ..."); then the median
of single calls (20 rounds of 500 each, interleaved, less an empty call's), which a shared
machine's preemptions disturb less than any batch's mean. Run with an optional label:
``python scripts/bench_fixed_cost.py after``.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from collections.abc import Callable

import grokprop as gp
from grokprop import _core
from grokprop.specs import Activation, TrainSpec


def main() -> None:
    X_int, y_int = gp.datasets.streetlights("nonlinear")  # the book's int arrays
    X, y = X_int.astype(float), y_int.astype(float)
    fitted = gp.Network([3, 4, 1], seed=1)
    stepped = gp.Network([3, 4, 1], seed=1)
    spec = TrainSpec(0.2, 60, 1, Activation.RELU)
    row, goal = X[:1].copy(), y[:1].copy()
    row_view, goal_view = X[:1], y[:1]
    calls: dict[str, Callable[[], object]] = {
        "fit": lambda: fitted.fit(X_int, y_int, alpha=0.2, epochs=60, backend="cpp"),
        "raw_train": lambda: _core.train(fitted._weights.views, X, y, spec),
        "step": lambda: stepped.step(row, goal, alpha=0.2, backend="cpp"),
        "step_view_row": lambda: stepped.step(row_view, goal_view, alpha=0.2, backend="cpp"),
        # no backend=: the precedence walk (context, set_backend, GROKPROP_BACKEND, default)
        "step_default": lambda: stepped.step(row, goal, alpha=0.2),
        "raw_step": lambda: _core.step(stepped._weights.views, row, goal, 0.2, Activation.RELU),
    }
    for call in calls.values():
        call()
    runs: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(7):
        for name, call in calls.items():
            runs[name].append(min(timeit.repeat(call, number=2000, repeat=3)) / 2000 * 1e6)
    med = {name: statistics.median(times) for name, times in runs.items()}
    label = sys.argv[1] if len(sys.argv) > 1 else ""
    print(label, " ".join(f"{name}={us:.2f}us" for name, us in med.items()))
    print(
        f"fit/raw={med['fit'] / med['raw_train']:.2f}x "
        f"step-raw={med['step'] - med['raw_step']:.2f}us "
        f"view-raw={med['step_view_row'] - med['raw_step']:.2f}us "
        f"default-raw={med['step_default'] - med['raw_step']:.2f}us"
    )
    single = _single_call_medians({**calls, "empty": lambda: None})
    empty = single.pop("empty")
    print("single calls:", " ".join(f"{name}={us - empty:.2f}us" for name, us in single.items()))
    print(
        f"single calls: fit/raw={(single['fit'] - empty) / (single['raw_train'] - empty):.2f}x "
        f"step-raw={single['step'] - single['raw_step']:.2f}us "
        f"view-raw={single['step_view_row'] - single['raw_step']:.2f}us "
        f"default-raw={single['step_default'] - single['raw_step']:.2f}us"
    )


def _single_call_medians(calls: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The median of each call's own time (µs), the calls interleaved in rounds."""
    clock = time.perf_counter_ns
    times: dict[str, list[int]] = {name: [] for name in calls}
    for _ in range(20):
        for name, call in calls.items():
            for _ in range(500):
                start = clock()
                call()
                times[name].append(clock() - start)
    return {name: statistics.median(ns) / 1000 for name, ns in times.items()}


if __name__ == "__main__":
    main()
