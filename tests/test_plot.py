"""Figures render to real PNG files; without matplotlib the message names grokprop[plot]."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from pathhelpers import read_only

import grokprop as gp
from grokprop import experiments, plot
from grokprop.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header, after checking the signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


def test_error_curves_of_a_fit_render_to_png(tmp_path: Path) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    history = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60)
    path = tmp_path / "errors.png"
    fig = plot.error_curves(
        {"seed 1": history, "raw": history.errors[::-1]}, path=path, threshold=1e-3
    )
    assert png_size(path) == (700, 380)  # 7 x 3.8 inches at 100 dpi
    assert path.stat().st_size > 10_000  # axes, two curves and a legend, not an empty canvas
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["seed 1", "raw", "0.001"]


def test_convergence_histogram_handles_zero_inf_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "hist.png"
    errors = {
        "a": np.array([0.0, 1e-12, 1e-4, 0.5, np.inf, np.nan]),
        "b": np.full(10, 1.3),
    }
    fig = plot.convergence_histogram(errors, path=path, threshold=1e-3)
    width, height = png_size(path)
    assert (width, height) == (700, 400)  # one 1.5-inch panel per entry + 1 inch
    assert path.stat().st_size > 10_000
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["a — 50.0% below 0.001, 2 diverged", "b — 0.0% below 0.001"]
    # every finite value is counted, the zero in the lowest bin
    assert sum(p.get_height() for p in fig.axes[0].patches) == 4
    assert sum(p.get_height() for p in fig.axes[1].patches) == 10


def test_an_empty_histogram_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="final_errors must hold at least one entry"):
        plot.convergence_histogram({})


def test_every_experiment_plots(tmp_path: Path) -> None:
    results = {
        "lvn": experiments.linear_vs_nonlinear(50),
        "overfit": experiments.overfit(50),
        "modes": experiments.modes(n_seeds=5, epochs=100),
    }
    for name, result in results.items():
        path = tmp_path / f"{name}.png"
        result.plot(path)
        width, height = png_size(path)
        assert width == 700 and height >= 380, name


def test_the_cli_writes_the_figure(tmp_path: Path) -> None:
    path = tmp_path / "lvn.png"
    result = CliRunner().invoke(main, ["linear-vs-nonlinear", "--seeds", "20", "--plot", str(path)])
    assert result.exit_code == 0, result.output
    assert f"figure written to {path}" in result.output
    assert png_size(path)[0] == 700


@pytest.fixture
def without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide matplotlib as if it were not installed (a None entry makes import fail)."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.mark.usefixtures("without_matplotlib")
def test_without_matplotlib_the_error_names_the_extra(tmp_path: Path) -> None:
    with pytest.raises(ImportError, match=r"pip install 'grokprop\[plot\]'"):
        plot.error_curves({"x": [1.0, 0.5]}, path=tmp_path / "x.png")
    with pytest.raises(ImportError, match=r"grokprop\[plot\]"):
        experiments.linear_vs_nonlinear(5).plot(tmp_path / "y.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.usefixtures("without_matplotlib")
def test_without_matplotlib_the_cli_prints_the_table_then_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["overfit", "--seeds", "5", "--plot", str(tmp_path / "o.png")]
    )
    assert result.exit_code == 1
    assert "Overfitting: trained on the first 2 streetlights" in result.output
    assert "Error: plotting needs matplotlib" in result.output
    assert "pip install 'grokprop[plot]'" in result.output
    assert "Traceback" not in result.output


def test_a_figure_path_without_extension_gets_png_and_the_cli_says_so(tmp_path: Path) -> None:
    assert plot.figure_path(tmp_path / "errors.svg") == tmp_path / "errors.svg"
    assert plot.figure_path(tmp_path / "errors") == tmp_path / "errors.png"
    result = CliRunner().invoke(
        main, ["modes", "--seeds", "2", "--epochs", "20", "--plot", str(tmp_path / "curves")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"figure written to {tmp_path / 'curves.png'}"
    assert png_size(tmp_path / "curves.png")[0] == 700
    assert not (tmp_path / "curves").exists()


def test_the_pressure_table_as_a_picture(tmp_path: Path) -> None:
    result = experiments.pressure()
    written = result.plot(tmp_path / "pressure.png")
    assert written == tmp_path / "pressure.png"
    width, height = png_size(written)
    assert width == 470 and height > 400  # 2 + 0.9 inches per weight; a row per example
    fig = plot.pressure_table(result.X, result.goals, result.pressure)
    ax = fig.axes[0]
    cells = [text.get_text() for text in ax.texts]
    minus = "\N{MINUS SIGN}"
    # the chapter's table: + up, - down, 0 untouched
    book = [[-1, 0, -1], [0, 1, 1], [0, 0, -1], [1, 1, 1], [0, 1, 1], [-1, 0, -1]]
    symbols = {1: "+", -1: minus, 0: "0"}
    assert cells[:18] == [symbols[push] for row in book for push in row]
    assert cells[18:] == [f"{minus}1", "+3", "0"]  # the net pressure row
    rows = [label.get_text() for label in ax.get_yticklabels()]
    assert rows[0] == "1 0 1 \N{RIGHTWARDS ARROW} 0" and rows[-1] == "net"


def test_the_cli_draws_the_pressure_table(tmp_path: Path) -> None:
    path = tmp_path / "pressure.svg"
    result = CliRunner().invoke(main, ["pressure", "--plot", str(path)])
    assert result.exit_code == 0, result.output
    assert experiments.pressure().table() in result.output
    assert result.output.splitlines()[-1] == f"figure written to {path}"
    assert path.read_text().lstrip().startswith("<?xml")


def _one_line_error(result: Result) -> str:
    """The message of a CLI failure that ended in a one-line ``Error:`` and no traceback."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), result.output
    return errors[0]


def test_plot_to_a_path_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for path, why in [
        (tmp_path / "missing" / "x.png", f"there is no directory {tmp_path / 'missing'}"),
        (tmp_path / "file" / "x.png", f"{tmp_path / 'file'} is not a directory"),
    ]:
        result = CliRunner().invoke(main, ["overfit", "--seeds", "2", "--plot", str(path)])
        assert why in _one_line_error(result)
        assert "Overfitting" not in result.output  # refused before the experiment ran


def test_plot_into_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):  # for root too (chattr +i)
        result = CliRunner().invoke(main, ["pressure", "--plot", str(locked / "p.png")])
    assert f"the directory {locked} is read-only" in _one_line_error(result)


def test_a_figure_write_that_fails_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Figure, "savefig", refuse)
    path = tmp_path / "p.png"
    result = CliRunner().invoke(main, ["pressure", "--plot", str(path)])
    assert "Weight pressure" in result.output  # the table came first
    message = _one_line_error(result)
    assert message == f"Error: cannot write the figure to {path}: Permission denied"


@pytest.mark.usefixtures("without_matplotlib")
@pytest.mark.parametrize(
    "command",
    [
        ["pressure"],
        ["linear-vs-nonlinear", "--seeds", "3"],
        ["overfit", "--seeds", "3"],
        ["modes", "--seeds", "2", "--epochs", "5"],
    ],
    ids=lambda command: command[0],
)
def test_every_plot_option_without_matplotlib_is_one_line_naming_the_extra(
    tmp_path: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(main, [*command, "--plot", str(tmp_path / "f.png")])
    assert _one_line_error(result) == f"Error: {plot.MISSING_MATPLOTLIB}"
    assert "pip install 'grokprop[plot]'" in plot.MISSING_MATPLOTLIB
    assert not (tmp_path / "f.png").exists()
