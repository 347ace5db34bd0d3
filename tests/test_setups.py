"""Shareable setups (grokprop.setups): the JSON document, the network and data it builds, the
errors that name the field, and the weights as exact JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp
from grokprop.setups import (
    Setup,
    format_table,
    network_from_weights_json,
    parse_table,
    weights_json,
)


def test_the_default_setup_is_program_5() -> None:
    setup = Setup()
    net = gp.Network.from_setup(setup)
    book = gp.Network([3, 4, 1], seed=1)
    assert net.sizes == (3, 4, 1) and net.activation == "relu"
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, book.weights))
    X, y = setup.data_arrays()
    lights, walk = gp.datasets.streetlights("nonlinear")
    assert np.array_equal(X, lights) and np.array_equal(y, walk)
    assert (setup.alpha, setup.batch_size, setup.epochs) == (0.2, 1, 60)


@pytest.mark.parametrize(
    "setup",
    [
        Setup(),
        Setup(data="linear", hidden=0, activation="linear", alpha=0.1, seed=0, epochs=40),
        Setup(data="truth", function="majority", inputs=3, hidden=6, batch_size=None),
        Setup(data="truth", function="6", inputs=2, batch_size=2),
        Setup(data="table", X=((1.0, 0.5), (0.0, 1.0)), y=((1.0,), (0.25,)), hidden=2),
    ],
)
def test_json_round_trip(setup: Setup) -> None:
    text = setup.to_json()
    document = json.loads(text)
    assert document["format"] == "grokprop-setup" and document["version"] == 1
    assert Setup.from_json(text) == setup
    assert Setup.coerce(document) == setup
    net = gp.Network.from_setup(text)
    assert net.sizes == setup.sizes
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, setup.network().weights))


def test_sizes_and_data_of_each_kind() -> None:
    truth = Setup(data="truth", function="and", inputs=3, hidden=5)
    assert truth.sizes == (4, 5, 1) and truth.rows == 8
    X, y = truth.data_arrays()
    tX, ty = gp.datasets.truth_table("and", 3)
    assert np.array_equal(X, tX) and np.array_equal(y, ty)
    table = Setup(data="table", X=[[1, 2, 3]], y=[[4, 5]], hidden=0)
    assert table.sizes == (3, 2)
    assert table.X == ((1.0, 2.0, 3.0),)  # normalised to tuples of floats


def test_a_minimal_document_takes_the_defaults() -> None:
    assert Setup.from_json('{"hidden": 2}') == Setup(hidden=2)
    assert Setup.from_dict({"data": "linear"}) == Setup(data="linear")


@pytest.mark.parametrize(
    ("document", "error", "field"),
    [
        ({"alpha": -1}, ValueError, "setup.alpha"),
        ({"alpha": "fast"}, TypeError, "setup.alpha"),
        ({"hidden": 1.5}, TypeError, "setup.hidden"),
        ({"hidden": -1}, ValueError, "setup.hidden"),
        ({"epochs": -3}, ValueError, "setup.epochs"),
        ({"seed": 2**32}, ValueError, "setup.seed"),
        ({"seed": None}, TypeError, "setup.seed"),
        ({"activation": "softmax"}, ValueError, "setup.activation"),
        ({"batch_size": 5}, ValueError, "setup.batch_size"),  # 4 rows
        ({"batch_size": 0}, ValueError, "setup.batch_size"),
        ({"data": "mnist"}, ValueError, "setup.data"),
        ({"data": {"kind": "truth", "function": "maybe"}}, ValueError, "setup.function"),
        ({"data": {"kind": "truth", "inputs": 9}}, ValueError, "setup.inputs"),
        ({"data": {"kind": "table", "X": [[1, 2]], "y": [[1], [2]]}}, ValueError, "setup.y"),
        ({"data": {"kind": "table", "X": [[1, "a"]], "y": [[1]]}}, TypeError, "setup.X"),
        ({"data": {"kind": "table", "X": [[1, float("nan")]], "y": [[1]]}}, ValueError, "setup.X"),
        ({"data": {"kind": "linear", "X": [[1]]}}, ValueError, "setup.X"),
        ({"data": {"kind": "linear", "colour": 1}}, ValueError, "setup.data"),
        ({"alhpa": 0.1}, ValueError, "alhpa"),
        ({"format": "other"}, ValueError, "format"),
        ({"version": 2}, ValueError, "version"),
    ],
)
def test_bad_documents_name_the_field(document: dict, error: type[Exception], field: str) -> None:
    with pytest.raises(error, match=field.replace(".", r"\.")):
        Setup.from_dict(document)


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        Setup.from_json("{hidden: 2")
    with pytest.raises(TypeError, match="JSON object"):
        Setup.from_json("[1, 2]")


def test_files_are_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "setup.json"
    Setup(hidden=3).to_json(path)
    assert Setup.load(path) == Setup(hidden=3)
    assert [p.name for p in tmp_path.iterdir()] == ["setup.json"]  # no temporary file left


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_weights_json_is_exact(dtype: str, tmp_path: Path) -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=3, dtype=dtype)
    net.fit(X, y, alpha=0.2, epochs=7)
    copy = network_from_weights_json(weights_json(net, tmp_path / "w.json"))
    assert copy.dtype == net.dtype and copy.sizes == net.sizes and copy.activation == "relu"
    assert all(np.array_equal(a, b) for a, b in zip(copy.weights, net.weights))
    again = network_from_weights_json((tmp_path / "w.json").read_text())
    assert all(np.array_equal(a, b) for a, b in zip(again.weights, net.weights))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "grokprop-setup"}, "format"),
        ({"weights": [[[1.0, True]]]}, "finite numbers"),
        ({"weights": "none"}, "list of matrices"),
        ({"sizes": [3, 5, 1]}, "do not match"),
    ],
)
def test_bad_weights_documents(change: dict, message: str) -> None:
    document = json.loads(weights_json(gp.Network([3, 4, 1], seed=1)))
    document.update(change)
    with pytest.raises((ValueError, TypeError), match=message):
        network_from_weights_json(json.dumps(document))


def test_typed_tables() -> None:
    X, y = parse_table("# lights | walk\n1 0 1 | 1\n\n0,1,1 | 0.5\n")
    assert X == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]] and y == [[1.0], [0.5]]
    assert parse_table(format_table(X, y)) == (X, y)
    for text, line in [("1 0 | 1\n1 | 1", "line 2"), ("1 x | 1", "line 1"), ("1 0 1", "line 1")]:
        with pytest.raises(ValueError, match=line):
            parse_table(text)
    with pytest.raises(ValueError, match="empty"):
        parse_table("\n# nothing\n")


def test_fields_of_another_kind_of_data_are_not_part_of_the_setup() -> None:
    assert Setup(data="linear", function="nand", inputs=5) == Setup(data="linear")
    assert Setup.from_json(Setup(data="linear", function="nand").to_json()) == Setup(data="linear")
