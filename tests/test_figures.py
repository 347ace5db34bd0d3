"""The figures' content, read back from their SVG: every weight's number on its edge, the
switched-off units of a step marked, the lights lit where the inputs are 1."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp
from grokprop import figures

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"


def elements(svg: str) -> dict[str, ET.Element]:
    """Every element with an id, by id."""
    root = ET.fromstring(svg)
    return {e.attrib["id"]: e for e in root.iter() if "id" in e.attrib}


def text_of(element: ET.Element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{SVG}text")).strip()


def stroke_width(element: ET.Element) -> float:
    path = next(element.iter(f"{SVG}path"))
    match = re.search(r"stroke-width:\s*([0-9.]+)", path.attrib["style"])
    assert match is not None
    return float(match.group(1))


@pytest.fixture
def program4() -> tuple[gp.Network, gp.StepTrace]:
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 3, 1], seed=1)
    return net, net.copy().step(X[0:1], y[0:1], alpha=0.2)


def test_the_network_svg_names_each_weights_value_on_its_edge() -> None:
    net = gp.Network([3, 4, 1], seed=1)
    ids = elements(figures.to_svg(figures.network_figure(net, numbers=True)))
    for l, W in enumerate(net.weights):
        for i, j in np.ndindex(W.shape):
            assert f"w-{l}-{i}-{j}" in ids
            assert text_of(ids[f"w-{l}-{i}-{j}-value"]) == f"{W[i, j]:.3g}"
    assert sum(1 for k in ids if k.endswith("-value")) == 3 * 4 + 4 * 1
    assert {f"unit-{l}-{i}" for l, n in enumerate(net.sizes) for i in range(n)} <= set(ids)


def test_edge_width_follows_the_weights_size() -> None:
    net = gp.Network(weights=[[[0.1], [-2.0], [1.0]]])
    ids = elements(figures.to_svg(net.draw(numbers=False)))
    widths = [stroke_width(ids[f"w-0-{i}-0"]) for i in range(3)]
    assert widths[1] > widths[2] > widths[0]
    assert not any(k.endswith("-value") for k in ids)


def test_numbers_default_to_small_networks_only() -> None:
    small = elements(figures.to_svg(gp.Network([3, 4, 1], seed=1).draw()))
    wide = elements(figures.to_svg(gp.Network([10, 10, 1], seed=1).draw()))
    assert "w-0-0-0-value" in small
    assert "w-0-0-0-value" not in wide


def test_a_wide_layer_shows_its_first_units_and_how_many_are_left_out() -> None:
    svg = figures.to_svg(gp.Network([784, 128, 10], seed=0).draw(max_units=8))
    ids = elements(svg)
    assert "unit-0-7" in ids and "unit-0-8" not in ids
    assert "unit-2-7" in ids and "unit-2-8" not in ids
    assert "+776 more" in svg and "+120 more" in svg


def test_the_step_figure_marks_the_units_relu_switched_off(
    program4: tuple[gp.Network, gp.StepTrace],
) -> None:
    _, trace = program4
    svg = figures.to_svg(trace.draw())
    ids = elements(svg)
    # the book's program 4: hidden units 0 and 2 are off, unit 1 carries 0.13177
    assert {"off-1-0", "off-1-2", "unit-1-1"} <= set(ids)
    assert "unit-1-0" not in ids and "off-1-1" not in ids
    assert not any(k.startswith(("off-0-", "off-2-")) for k in ids)
    assert re.findall(r">off<", svg) == [">off<"] * 2
    # the weight deltas: only the edges through the active unit carry one
    assert text_of(ids["w-1-1-0-value"]) == f"{trace.weight_deltas[1][1, 0]:.3g}" == "-0.135"
    assert text_of(ids["w-0-0-1-value"]) == "0.165"
    assert "w-1-0-0-value" not in ids  # exactly 0: drawn dotted, no number
    assert "δ -1.02" in svg and "δ 0.165" in svg  # the deltas flowing back
    assert "0.132" in svg and "-0.0213" in svg  # hidden value and prediction


def test_switched_off_units_inferred_or_given(program4: tuple[gp.Network, gp.StepTrace]) -> None:
    _, trace = program4
    inferred = figures.switched_off(trace)
    given = figures.switched_off(trace, relu=True)
    assert [o.tolist() for o in inferred] == [o.tolist() for o in given]
    assert inferred[1].tolist() == [True, False, True]
    assert not any(o.any() for o in figures.switched_off(trace, relu=False))
    X, y = gp.datasets.streetlights("nonlinear")
    linear = gp.Network([3, 3, 1], seed=1, activation="linear").step(X[0:1], y[0:1], alpha=0.2)
    assert not any(o.any() for o in figures.switched_off(linear))
    assert "off-1-" not in figures.to_svg(figures.step_figure(linear))


def test_a_mini_batch_step_figure_says_which_row_it_shows() -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    trace = gp.Network([3, 4, 1], seed=1).step(X, y, alpha=0.2)
    svg = figures.to_svg(trace.draw(row=2))
    assert "row 2 of 4; weight deltas averaged" in svg


def test_the_streetlights_are_lit_where_the_inputs_are_1() -> None:
    X, y = gp.datasets.streetlights()
    svg = figures.to_svg(figures.streetlights_figure(X, y))
    ids = elements(svg)
    for r, k in np.ndindex(X.shape):
        assert f"light-{r}-{k}-{'on' if X[r, k] else 'off'}" in ids
    assert svg.count(">WALK<") == 3 and svg.count(">STOP<") == 3
    with pytest.raises(ValueError, match="2-D array of lights"):
        figures.streetlights_figure([1, 0, 1])


def test_figures_write_svg_files(tmp_path: Path, program4: tuple[gp.Network, gp.StepTrace]) -> None:
    net, trace = program4
    path = tmp_path / "step.svg"
    figures.step_figure(trace, path=path)
    text = path.read_text(encoding="utf-8")
    assert "off-1-0" in text and text.lstrip().startswith("<?xml")
    assert figures.to_svg(net.draw()).startswith("<svg")


def test_history_draw_is_the_error_curve() -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    history = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60)
    line = history.draw().axes[0].get_lines()[0]
    assert np.array_equal(line.get_ydata(), history.errors)


def test_weights_animation_trains_a_copy_and_writes_a_gif(tmp_path: Path) -> None:
    from PIL import Image

    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=1)
    start = [w.copy() for w in net.weights]
    path = tmp_path / "weights.gif"
    assert figures.weights_animation(net, X, y, alpha=0.2, epochs=6, every=2, path=path) == str(
        path
    )
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4  # the start and after 2, 4, 6 epochs
    assert all(np.array_equal(a, b) for a, b in zip(start, net.weights))
    html = figures.weights_animation(net, X, y, alpha=0.2, epochs=2)
    assert "<script" in html and "animation" in html.lower()
    with pytest.raises(ValueError, match="every must be a positive integer"):
        figures.weights_animation(net, X, y, alpha=0.2, epochs=2, every=0)


def test_the_readme_figures_script_draws_program_4(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "make_figures.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    network = elements((tmp_path / "network.svg").read_text(encoding="utf-8"))
    W = gp.Network([3, 3, 1], seed=1).weights
    assert text_of(network["w-0-0-2-value"]) == f"{W[0][0, 2]:.3g}" == "-1"
    step = elements((tmp_path / "backprop_step.svg").read_text(encoding="utf-8"))
    assert {"off-1-0", "off-1-2", "unit-1-1"} <= set(step)
    assert (tmp_path / "streetlights.svg").stat().st_size > 1000
