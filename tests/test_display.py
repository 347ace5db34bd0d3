"""Short reprs whatever the data size, notebook HTML with its content, and the fallback
to tables without matplotlib."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import sys
from typing import Any

import numpy as np
import pytest

import grokprop as gp
from grokprop import experiments

LIMIT = 1000  # characters: every repr of a result type stays under this


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib (and every submodule already loaded) cannot be imported."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.fixture(scope="module")
def large() -> dict[str, Any]:
    """One object of every result type, each on data large enough that printing its
    arrays would take far more than 1,000 characters."""
    X, y = gp.datasets.streetlights("nonlinear")
    wide_X, wide_y = gp.datasets.random_onehot(200, 784, 10, seed=0)
    wide = gp.Network([784, 128, 10], seed=0, weight_scale=0.1)
    deep = gp.Network([3, *([4] * 40), 1], seed=0)
    sweep = gp.sweep(
        [3, 4, 1], X, y, seeds=range(3000), alphas=[0.1, 0.2], epochs=50, curves=True, weights=True
    )
    report = gp.verify(
        gp.Network([20, 16, 4], seed=0), wide_X[:30, :20], wide_y[:30, :4], alpha=0.01, epochs=3
    )
    lvn = experiments.linear_vs_nonlinear(2000)
    objects: dict[str, Any] = {
        "Network wide": wide,
        "Network deep": deep,
        "History": gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=200_000),
        "StepTrace": wide.copy().step(wide_X, wide_y, alpha=0.01),
        "SweepResult": sweep,
        "VerifyReport": report,
        "BackendComparison": report["numpy"],
        "PressureResult": experiments.pressure(),
        "LinearVsNonlinearResult": lvn,
        "ConvergenceRow": lvn.rows[0],
        "OverfitResult": experiments.overfit(2000),
        "ModesResult": experiments.modes(n_seeds=300, epochs=300),
        "StepCheck": gp.check_step(
            wide, wide_X[:50], wide_y[:50], 0.01, deltas=[None, np.zeros((50, 10))]
        ),
    }
    grid = gp.Grid.product(
        datasets=["xor", "and", "or", {"function": 105, "inputs": 3}],
        hidden=[0, 4, [4, 4], [8, 8, 8]],
        activations=["relu", "tanh"],
        alphas=list(np.linspace(0.01, 1.0, 40)),
        epochs=3,
        seeds=range(50),
    )
    run = gp.sweep_grid(grid, curves=True, weights=True)
    objects |= {
        "BooleanFunctionsResult": experiments.boolean_functions(20, epochs=5),
        "Grid": grid,
        "Cell": grid.cells[-1],
        "GridRun": run,
        "CellSummary": run.summary[-1],
    }
    objects["TermCheck"] = objects["StepCheck"].terms[-1]
    overfit = objects["OverfitResult"]
    objects["OverfitRow"] = overfit.rows[1]
    objects["ModeRun"] = objects["ModesResult"].runs[0]
    return objects


def test_every_repr_stays_short_on_large_inputs(large: dict[str, Any]) -> None:
    for name, obj in large.items():
        text = repr(obj)
        assert len(text) < LIMIT, (name, len(text), text[:200])
        assert "\n" not in text, name
        assert text.startswith(name.split()[0] + "("), (name, text[:80])


def test_the_large_data_is_large_enough_to_matter(large: dict[str, Any]) -> None:
    # each of these arrays holds several times more numbers than the limit has characters
    for array in (
        large["History"].errors,
        large["SweepResult"].final_errors,
        large["StepTrace"].layers[0],
        large["ModesResult"].runs[0].seeds.curves,
    ):
        assert array.size > 5 * LIMIT


def test_reprs_say_what_the_object_is(large: dict[str, Any]) -> None:
    assert repr(large["Network wide"]) == (
        "Network([784, 128, 10], activation='relu', dtype='float64')"
    )
    assert "(42 layers)" in repr(large["Network deep"])
    history = repr(large["History"])
    assert "epochs=200000" in history and "alpha=0.2" in history and "..." in history
    sweep = repr(large["SweepResult"])
    assert sweep.startswith("SweepResult(6000 networks [3, 4, 1] relu float64")
    assert "curves=(6000, 50)" in sweep and "weights=[(6000, 3, 4), (6000, 4, 1)]" in sweep
    assert "alphas=[0.1, 0.2]" in sweep
    trace = repr(large["StepTrace"])
    assert "rows=200" in trace and "sizes=[784, 128, 10]" in trace
    assert "ok=True" in repr(large["VerifyReport"])
    cell = repr(large["Cell"])
    assert "hidden=(8, 8, 8), activation='tanh'" in cell and "dtype='float64'" in cell
    one_layer = repr(next(c for c in large["Grid"].cells if c.hidden == (4,)))
    assert "hidden=(4,)" in one_layer, one_layer
    modes = repr(large["ModesResult"])
    assert "4 ModeRun: 'stochastic', 'mini-batch', 'mini-batch', 'full'" in modes


def test_str_of_a_report_is_its_table(large: dict[str, Any]) -> None:
    report = large["VerifyReport"]
    assert str(report) == report.table()
    printed = str(report).splitlines()
    assert printed[-1] == report.summary()
    assert len(printed) == 2 + len(report.comparisons) + len(report.unavailable) + 1


def test_the_report_html_holds_every_backends_row(large: dict[str, Any]) -> None:
    report = dataclasses.replace(large["VerifyReport"], unavailable={"fpga": "no such card <here>"})
    page = report._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    first_cells = [
        re.sub(r"<[^>]+>", "", re.findall(r"<t[dh][^>]*>.*?</t[dh]>", r)[0]) for r in rows
    ]
    assert first_cells == ["backend", *report.backends, "fpga"]
    for c in report.comparisons:
        row = rows[1 + report.backends.index(c.backend)]
        assert ("yes" if c.bitwise else "NO") in row and str(c.max_ulp) in row
    assert "no such card &lt;here&gt;" in page  # escaped
    assert html.escape(report.summary()) in page


def test_history_html_has_a_curve_and_the_first_and_last_errors(program5_errors: list[str]) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    history = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60)
    page = history._repr_html_()
    assert page.count("<polyline") == 1
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert f"{history.errors[0]:.12g}" in cells
    assert program5_errors[-1] == f"{history.errors[-1]:.12g}" in cells  # epoch 60
    assert "..." in cells and "56" in cells and "6" not in cells  # epochs 1-5 and 56-60


def test_network_html_draws_the_network(large: dict[str, Any]) -> None:
    pytest.importorskip("matplotlib")
    page = gp.Network([3, 4, 1], seed=1)._repr_html_()
    assert "<svg" in page and 'id="w-0-0-0-value"' in page
    assert ">relu<" in page and ">float64<" in page and ">16<" in page  # 12 + 4 parameters


def test_network_html_falls_back_to_weight_tables(no_matplotlib: None) -> None:
    net = gp.Network([3, 2, 1], seed=1)
    page = net._repr_html_()
    assert "<svg" not in page
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    for W in net.weights:
        for value in W.ravel():
            assert f"{value:.4g}" in cells
    wide = gp.Network([784, 128, 10], seed=0)._repr_html_()
    assert "(784, 128)" in wide and len(wide) < 5000  # a summary, not 100,000 cells


def test_trace_html_is_the_figure_or_tables(no_matplotlib: None) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    trace = gp.Network([3, 3, 1], seed=1).step(X[0:1], y[0:1], alpha=0.2)
    page = trace._repr_html_()
    assert "<svg" not in page
    for name in (
        "layer_0",
        "layer_1",
        "layer_2",
        "layer_1_delta",
        "layer_2_delta",
        "weight_delta_0_1",
        "weight_delta_1_2",
    ):
        assert f">{name}</caption>" in page
    assert ">0.1318<" in page and ">-0.0213<" in page


def test_trace_html_with_matplotlib_is_the_step_figure() -> None:
    pytest.importorskip("matplotlib")
    X, y = gp.datasets.streetlights("nonlinear")
    trace = gp.Network([3, 3, 1], seed=1).step(X[0:1], y[0:1], alpha=0.2)
    page = trace._repr_html_()
    assert 'id="off-1-0"' in page and 'id="off-1-2"' in page


def test_sweep_html_summary_and_histogram(large: dict[str, Any]) -> None:
    pytest.importorskip("matplotlib")
    result = large["SweepResult"]
    page = result._repr_html_()
    assert "6,000 (seeds outer, alphas inner)" in page
    converged = f"{100 * result.converged(1e-3).mean():.2f}%"
    assert converged in page
    assert "<svg" in page


def test_sweep_html_without_matplotlib_counts_every_network(
    large: dict[str, Any], no_matplotlib: None
) -> None:
    result = large["SweepResult"]
    page = result._repr_html_()
    assert "<svg" not in page
    histogram = page[page.index("final errors</caption>") :]
    counts = [int(c) for c in re.findall(r"<td[^>]*>(\d+)</td>", histogram)]
    assert sum(counts) == len(result)


def test_experiment_results_show_their_tables(large: dict[str, Any]) -> None:
    for name in ("PressureResult", "LinearVsNonlinearResult", "OverfitResult", "ModesResult"):
        result = large[name]
        assert html.escape(result.table()) in result._repr_html_(), name


def test_every_html_works_without_matplotlib(run_hiding) -> None:
    code = """
import json
import grokprop as gp
X, y = gp.datasets.streetlights("nonlinear")
net = gp.Network([3, 4, 1], seed=1)
objects = [net, net.copy().fit(X, y, alpha=0.2, epochs=60), net.copy().step(X, y, alpha=0.2),
           gp.sweep([3, 4, 1], X, y, seeds=range(50), epochs=60),
           gp.verify(net, X, y, alpha=0.2, epochs=10), gp.experiments.pressure(),
           gp.check_step(net, X[:1], y[:1], 0.2, deltas=[None, [[-0.6]]])]
print(json.dumps([type(o).__name__ + ":" + o._repr_html_() for o in objects]))
"""
    done = run_hiding(["matplotlib"], code)
    assert done.returncode == 0, done.stderr
    pages = json.loads(done.stdout)
    assert len(pages) == 7
    for page in pages:
        assert ("<table" in page or "<pre" in page) and "matplotlib" not in page.lower()


def test_import_grokprop_does_not_import_matplotlib(run_hiding) -> None:
    done = run_hiding(
        [],
        "import sys, grokprop as gp; gp.figures; gp.check_step; gp.explain_step\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'IPython')))",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_matplotlib_a_figure_names_the_extra(run_hiding) -> None:
    done = run_hiding(
        ["matplotlib"],
        "import grokprop as gp\n"
        "try:\n"
        "    gp.Network([3, 4, 1], seed=1).draw()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n",
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'grokprop[plot]'" in done.stdout


def test_html_of_large_objects_stays_small(large: dict[str, Any]) -> None:
    deep = large["Network deep"]._repr_html_()
    assert "<svg" not in deep and "(42 layers)" in deep  # 41 matrices: tables, not a poster
    assert len(deep) < 50_000  # the first 8 matrices
    for name in ("Network wide", "History", "StepTrace", "SweepResult"):
        assert len(large[name]._repr_html_()) < 200_000, name
