"""The explorer's widgets without a browser: set controls, press buttons (``.click()``), read
the displayed numbers, and compare them with direct ``Network`` calls, bit for bit."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp
from grokprop.setups import Setup

pytest.importorskip("ipywidgets", reason="the explorer needs ipywidgets (grokprop[explore])")
pytest.importorskip("matplotlib", reason="the explorer draws with matplotlib")

from grokprop.explorer._state import ExplorerState
from grokprop.explorer._widgets import Explorer

PROGRAM5 = Setup()  # the defaults: the book's program 5


def shown(html: str, css: str) -> str:
    """The text of the element of class ``css`` in a widget's HTML."""
    found = re.findall(rf'class="{css}"[^>]*>([^<]*)<', html)
    assert len(found) == 1, f"{css!r} appears {len(found)} times"
    return found[0]


def shown_weights(explorer: Explorer) -> dict[tuple[int, int, int], str]:
    cells = re.findall(r'class="gp-weight" data-weight="(\d+)-(\d+)-(\d+)"[^>]*>([^<]*)<',
                       explorer.weights_view.value)  # fmt: skip
    return {(int(l), int(i), int(j)): text for l, i, j, text in cells}


def assert_shows_weights(explorer: Explorer, net: gp.Network) -> None:
    expected = {
        (l, i, j): repr(float(v))
        for l, m in enumerate(net.weights)
        for (i, j), v in np.ndenumerate(np.asarray(m))
    }
    assert shown_weights(explorer) == expected


def program5_data() -> tuple[np.ndarray, np.ndarray]:
    X, y = gp.datasets.streetlights("nonlinear")
    return X.astype(float), y.astype(float)


@pytest.fixture(params=gp.available_backends())
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_step_then_epoch_show_what_network_step_and_fit_give(backend: str) -> None:
    explorer = Explorer(backend=backend)
    assert explorer.backend.value == backend
    X, y = program5_data()
    net = gp.Network([3, 4, 1], seed=1)
    assert_shows_weights(explorer, net)
    assert shown(explorer.status.value, "gp-step-error") == "-"

    explorer.step_button.click()
    trace = net.step(X[0:1], y[0:1], alpha=0.2, backend="numpy")
    assert shown(explorer.status.value, "gp-step-error") == repr(trace.error)
    assert shown(explorer.status.value, "gp-steps") == "1"
    assert_shows_weights(explorer, net)
    # the explanation is explain()'s, with the numbers of this very step
    explained = gp.explain.trace_explanation(
        trace, weights=explorer.state.last_step.before, alpha=0.2, goal=y[0:1], activation="relu"
    )
    assert shown(explorer.explain_view.value, "gp-explain") == _escape(explained)
    assert "layer_1_delta" in explained

    explorer.step_button.click()  # the next row
    trace = net.step(X[1:2], y[1:2], alpha=0.2)
    assert shown(explorer.status.value, "gp-step-error") == repr(trace.error)

    explorer.epoch_button.click()  # a whole pass, from row 0
    history = net.fit(X, y, alpha=0.2, epochs=1)
    assert shown(explorer.status.value, "gp-epoch-error") == repr(history.final_error)
    assert shown(explorer.status.value, "gp-epochs") == "1"
    assert_shows_weights(explorer, net)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def test_train_runs_in_a_thread_and_gives_one_fits_bits() -> None:
    explorer = Explorer()
    explorer.epochs.value = 60
    explorer.train_button.click()
    explorer.wait(60)
    assert not explorer.training
    X, y = program5_data()
    net = gp.Network([3, 4, 1], seed=1)
    history = net.fit(X, y, alpha=0.2, epochs=60)
    assert np.array_equal(explorer.state.errors, history.errors)
    assert shown(explorer.status.value, "gp-epoch-error") == repr(history.final_error)
    assert shown(explorer.status.value, "gp-epochs") == "60"
    assert_shows_weights(explorer, net)
    assert "trained 60 of 60 epochs" in explorer.message.value
    assert explorer.stop_button.disabled and not explorer.step_button.disabled


def test_stop_interrupts_between_chunks_and_the_weights_are_those_of_the_epochs_run() -> None:
    explorer = Explorer(Setup(data="truth", function="xor", inputs=8, hidden=16, alpha=0.01))
    explorer.epochs.value = 1_000_000  # minutes of training: stop must end it
    chunks = threading.Event()
    state = explorer.state
    original_fit = state.fit

    def fit(epochs: int) -> np.ndarray:
        errors = original_fit(epochs)
        chunks.set()
        return errors

    state.fit = fit  # type: ignore[method-assign]
    explorer.train_button.click()
    assert chunks.wait(30), "no chunk ran"
    assert explorer.training
    explorer.step_button.click()  # refused while training: the message says so
    assert "stop it first" in explorer.message.value
    explorer.stop_button.click()
    explorer.wait(30)
    assert not explorer.training
    done = len(state.errors)
    assert 0 < done < 1_000_000
    assert f"trained {done} of 1000000 epochs (stopped)" in explorer.message.value
    X, y = gp.datasets.truth_table("xor", 8)
    net = gp.Network([9, 16, 1], seed=1)
    history = net.fit(X, y, alpha=0.01, epochs=done)
    assert np.array_equal(state.errors, history.errors)
    assert_shows_weights(explorer, net)


def test_rewind_returns_to_the_same_starting_weights_and_new_seed_to_the_next() -> None:
    explorer = Explorer()
    start = [w.copy() for w in explorer.state.net.weights]
    explorer.epoch_button.click()
    explorer.step_button.click()
    explorer.rewind_button.click()
    assert all(np.array_equal(a, b) for a, b in zip(explorer.state.net.weights, start))
    assert shown(explorer.status.value, "gp-epochs") == "0"
    assert shown(explorer.status.value, "gp-step-error") == "-"
    explorer.seed_button.click()
    assert explorer.seed.value == 2
    assert_shows_weights(explorer, gp.Network([3, 4, 1], seed=2))


@pytest.mark.parametrize(
    ("mode", "size", "batches"),
    [("mini-batch", 2, [slice(0, 2), slice(2, 4), slice(0, 2)]), ("full", 4, [slice(0, 4)] * 2)],
)
def test_modes_step_on_the_next_batch(mode: str, size: int, batches: list[slice]) -> None:
    explorer = Explorer()
    explorer.mode.value = mode
    explorer.batch_size.value = size
    assert explorer.state.setup.batch_size == (None if mode == "full" else size)
    X, y = program5_data()
    net = gp.Network([3, 4, 1], seed=1)
    for rows in batches:
        explorer.step_button.click()
        trace = net.step(X[rows], y[rows], alpha=0.2)
        assert shown(explorer.status.value, "gp-step-error") == repr(trace.error)
    explorer.epoch_button.click()
    history = net.fit(X, y, alpha=0.2, epochs=1, batch_size=None if mode == "full" else size)
    assert shown(explorer.status.value, "gp-epoch-error") == repr(history.final_error)
    assert_shows_weights(explorer, net)


def test_truth_table_hidden_size_and_activation_controls() -> None:
    explorer = Explorer()
    explorer.data.value = "truth"
    explorer.function.value = "majority"
    explorer.inputs.value = 3
    explorer.hidden.value = 5
    explorer.activation.value = "linear"
    explorer.alpha.value = 0.05
    explorer.seed.value = 7
    assert explorer.state.net.sizes == (4, 5, 1)
    explorer.epoch_button.click()
    X, y = gp.datasets.truth_table("majority", 3)
    net = gp.Network([4, 5, 1], activation="linear", seed=7)
    history = net.fit(X, y, alpha=0.05, epochs=1)
    assert shown(explorer.status.value, "gp-epoch-error") == repr(history.final_error)
    assert_shows_weights(explorer, net)
    explorer.function.value = "6"  # an integer function: xor of two inputs
    explorer.inputs.value = 2
    assert np.array_equal(explorer.state.y, gp.datasets.truth_table(6, 2)[1])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_sigmoid_or_tanh_step_is_explained_with_network_steps_numbers(activation: str) -> None:
    explorer = Explorer()
    explorer.activation.value = activation
    explorer.step_button.click()
    X, y = program5_data()
    net = gp.Network([3, 4, 1], activation=activation, seed=1)
    trace = net.step(X[:1], y[:1], alpha=0.2)
    assert shown(explorer.status.value, "gp-step-error") == repr(trace.error)
    assert_shows_weights(explorer, net)
    # explain()'s text for this very step, the activation and its derivative named
    assert explorer.state.last_step is not None
    explained = gp.explain.trace_explanation(
        trace, weights=explorer.state.last_step.before, alpha=0.2, goal=y[:1], activation=activation
    )
    assert explorer.state.last_step.explanation == explained
    assert shown(explorer.explain_view.value, "gp-explain") == _escape(explained)
    assert f"{activation}2deriv(layer_1)" in explained and "relu" not in explained


def test_a_typed_table_and_hidden_zero_is_the_two_layer_network() -> None:
    explorer = Explorer()
    explorer.data.value = "table"
    explorer.table.value = "1 0 | 1 0\n0 1 | 0 1\n1 1 | 0.5 0.5"
    explorer.hidden.value = 0
    assert explorer.state.net.sizes == (2, 2)
    explorer.step_button.click()
    net = gp.Network([2, 2], seed=1)
    trace = net.step([[1, 0]], [[1, 0]], alpha=0.2)
    assert shown(explorer.status.value, "gp-step-error") == repr(trace.error)
    explorer.table.value = "1 0 | 1\n0 1"  # a bad line: the message names it, nothing changes
    assert "table line 2" in explorer.message.value
    assert explorer.state.net.sizes == (2, 2)


def test_a_bad_setting_names_the_field_and_leaves_the_network() -> None:
    explorer = Explorer()
    before = [w.copy() for w in explorer.state.net.weights]
    explorer.alpha.value = -1.0
    assert "setup.alpha" in explorer.message.value
    explorer.epoch_button.click()  # trains with the last good alpha
    net = gp.Network([3, 4, 1], seed=1)
    assert not np.array_equal(explorer.state.net.weights[0], before[0])
    X, y = program5_data()
    assert shown(explorer.status.value, "gp-epoch-error") == repr(
        net.fit(X, y, alpha=0.2, epochs=1).final_error
    )


def test_divergence_is_a_message_and_the_weights_stay() -> None:
    explorer = Explorer(Setup(alpha=1e200))
    before = [w.copy() for w in explorer.state.net.weights]
    explorer.epoch_button.click()
    assert "gp-error-message" in explorer.message.value
    assert "diverged" in explorer.message.value
    assert all(np.array_equal(a, b) for a, b in zip(explorer.state.net.weights, before))


def test_switching_the_backend_gives_the_same_numbers() -> None:
    shown_errors = set()
    for name in gp.available_backends():
        explorer = Explorer()
        explorer.backend.value = name
        assert shown(explorer.status.value, "gp-backend") == name
        explorer.epoch_button.click()
        shown_errors.add(shown(explorer.status.value, "gp-epoch-error"))
    assert len(shown_errors) == 1


def test_verify_button_shows_gp_verify_of_the_current_setup() -> None:
    explorer = Explorer()
    explorer.epochs.value = 5
    explorer.step_button.click()
    net = explorer.state.net.copy()
    explorer.verify_button.click()
    X, y = program5_data()
    report = gp.verify(net, X, y, alpha=0.2, epochs=5)
    assert report.ok
    assert report.table() in _unescape(explorer.verify_view.value)


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_selecting_a_weight_shows_its_value() -> None:
    explorer = Explorer()
    explorer.epoch_button.click()
    explorer.weight_select.value = (0, 2, 3)
    value = float(explorer.state.net.weights[0][2, 3])
    assert shown(explorer.weight_value.value, "gp-selected-weight") == repr(value)
    labels = [label for label, _ in explorer.weight_select.options]
    assert labels[0] == "weights_0_1[0, 0]" and labels[-1] == "weights_1_2[3, 0]"


def test_pressure_table_is_the_pressure_experiments_for_a_linear_network() -> None:
    state = ExplorerState(Setup(data="linear", hidden=0, activation="linear"))
    start = state.net.weights[0][:, 0].copy()
    table = gp.experiments.pressure("linear", at="start", start=start)
    assert np.array_equal(state.pressure()[0][:, :, 0], table.pressure)


def test_setup_export_and_import_round_trip() -> None:
    explorer = Explorer()
    explorer.data.value = "truth"
    explorer.function.value = "nand"
    explorer.hidden.value = 3
    explorer.mode.value = "mini-batch"
    explorer.batch_size.value = 2
    explorer.epochs.value = 17
    explorer.export_button.click()
    document = explorer.setup_text.value
    other = Explorer()
    other.setup_text.value = document
    other.import_button.click()
    assert other.state.setup == explorer.state.setup
    assert other.hidden.value == 3 and other.mode.value == "mini-batch"
    assert other.epochs.value == 17 and other.function.value == "nand"
    assert_shows_weights(other, gp.Network.from_setup(document))
    other.epoch_button.click()
    other.weights_button.click()
    copy = gp.setups.network_from_weights_json(other.setup_text.value)
    assert all(np.array_equal(a, b) for a, b in zip(copy.weights, other.state.net.weights))
    other.setup_text.value = '{"alpha": "fast"}'
    other.import_button.click()
    assert "setup.alpha" in other.message.value


def test_explore_reads_its_setup_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPROP_EXPLORE_SETUP", Setup(hidden=2, seed=5).to_json())
    explorer = gp.explore()
    assert explorer.state.net.sizes == (3, 2, 1)
    assert_shows_weights(explorer, gp.Network([3, 2, 1], seed=5))


def test_the_served_notebook_is_package_data_that_calls_explore() -> None:
    import json

    from grokprop.explorer import notebook_path

    notebook = json.loads(notebook_path().read_text())
    (cell,) = notebook["cells"]
    assert "gp.explore()" in "".join(cell["source"])


def test_explore_command_refuses_a_bad_setup_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grokprop.cli import main

    bad = tmp_path / "setup.json"
    bad.write_text('{"hidden": -2}')
    result = CliRunner().invoke(main, ["explore", "--setup", str(bad)])
    assert result.exit_code == 1
    assert "setup.hidden" in result.output and str(bad) in result.output


def test_hovering_over_an_edge_shows_its_weight() -> None:
    explorer = Explorer()
    explorer.epoch_button.click()
    titles = dict(
        re.findall(r'<g id="w-([\d-]+)"><title>([^<]*)</title>', explorer.network_view.value)
    )
    net = explorer.state.net
    assert len(titles) == 16
    assert titles["1-2-0"] == f"weights_1_2[2, 0] = {float(net.weights[1][2, 0])!r}"
