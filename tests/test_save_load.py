"""Network.save / Network.load: .npz of plain arrays, bitwise round trip, clear errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp

X, Y = gp.datasets.streetlights("nonlinear")


def trained(sizes: list[int], activation: str, dtype: str) -> gp.Network:
    net = gp.Network(sizes, seed=3, activation=activation, dtype=dtype)
    net.fit(X, Y, alpha=0.05, epochs=25, backend="numpy")
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("sizes", "activation"), [([3, 4, 1], "relu"), ([3, 5, 2, 1], "linear"), ([3, 1], "relu")]
)
def test_save_load_predict_round_trips_bitwise(
    tmp_path: Path, backend: str, sizes: list[int], activation: str, dtype: str
) -> None:
    net = trained(sizes, activation, dtype)
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = gp.Network.load(path)
    assert loaded.sizes == net.sizes
    assert loaded.activation == net.activation
    assert loaded.dtype == net.dtype
    for w_loaded, w in zip(loaded.weights, net.weights):
        assert w_loaded.dtype == w.dtype and np.array_equal(w_loaded, w)
    assert np.array_equal(loaded.predict(X, backend=backend), net.predict(X, backend=backend))
    # the loaded network trains on exactly like the original
    h_loaded = loaded.fit(X, Y, alpha=0.05, epochs=5, backend=backend)
    h = net.fit(X, Y, alpha=0.05, epochs=5, backend=backend)
    assert np.array_equal(h_loaded.errors, h.errors)


def test_the_file_holds_plain_arrays_and_the_version(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float32").save(str(path))
    with np.load(path, allow_pickle=False) as archive:
        contents = {key: archive[key] for key in archive.files}
    assert contents["format"].item() == "grokprop.Network"
    assert contents["grokprop_version"].item() == gp.__version__
    assert contents["sizes"].tolist() == [3, 4, 1]
    assert contents["activation"].item() == "relu"
    assert contents["dtype"].item() == "float32"
    assert contents["weights_0"].shape == (3, 4) and contents["weights_0"].dtype == np.float32
    assert contents["weights_1"].shape == (4, 1)


def test_save_writes_exactly_the_given_path(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"  # numpy would append .npz to a name; save must not
    net = trained([3, 4, 1], "relu", "float64")
    net.save(path)
    assert path.exists() and not (tmp_path / "model.bin.npz").exists()
    assert np.array_equal(gp.Network.load(path).predict(X), net.predict(X))


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        gp.Network.load(tmp_path / "nothing.npz")


def rewrite(path: Path, **changes: object) -> None:
    """Rewrite a saved network with entries changed (None removes one)."""
    with np.load(path, allow_pickle=False) as archive:
        contents: dict[str, object] = {key: archive[key] for key in archive.files}
    for key, value in changes.items():
        if value is None:
            del contents[key]
        else:
            contents[key] = value
    with Path(path).open("wb") as file:
        np.savez(file, **contents)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": np.array("something.else")}, "format marker"),
        ({"format_version": np.array(99)}, "format version 99"),
        ({"activation": None}, "lacks the entries ['activation']"),
        ({"activation": np.array("tanh")}, "activation is 'tanh'"),
        ({"dtype": np.array("float16")}, "dtype is 'float16'"),
        ({"sizes": np.array([3, 4, 2])}, "weights_1 has shape (4, 1)"),
        ({"sizes": np.array([3, 4, 1, 1])}, "lacks weights_2"),
        ({"sizes": np.array([[3, 4, 1]])}, "are not at least two positive integers"),
        ({"weights_0": np.zeros((3, 4), dtype=np.float32)}, "dtype float32"),
        ({"weights_0": np.full((3, 4), np.nan)}, "weights_0 holds NaN or inf"),
        ({"weights_7": np.zeros(2)}, "unexpected entries ['weights_7']"),
    ],
)
def test_a_damaged_network_file_names_the_file_and_the_problem(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    rewrite(path, **changes)
    with pytest.raises(ValueError, match="cannot load a grokprop network") as info:
        gp.Network.load(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_foreign_and_corrupted_files_give_a_clear_error(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    trained([3, 4, 1], "relu", "float64").save(good)
    data = good.read_bytes()

    cases: dict[str, bytes | None] = {
        "text.npz": b"this is not a network\n" * 10,
        "truncated.npz": data[: len(data) // 2],
        "empty.npz": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content or b"")
    np.save(tmp_path / "array.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    np.savez(tmp_path / "pickled.npz", a=np.array([{"x": 1}], dtype=object))
    # a bit flipped inside the stored weights: the zip checksum catches it
    corrupted = bytearray(data)
    at = data.index(b"weights_0.npy") + 200
    corrupted[at] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(corrupted))

    expected = {
        "text.npz": "not a readable .npz file",
        "truncated.npz": "not a readable .npz file",
        "empty.npz": "not a readable .npz file",
        "array.npy": "single array (.npy)",
        "other.npz": "format marker",
        "pickled.npz": "cannot be read",
        "flipped.npz": "cannot be read",
    }
    for name, message in expected.items():
        path = tmp_path / name
        with pytest.raises(ValueError, match="cannot load a grokprop network") as info:
            gp.Network.load(path)
        assert str(path) in str(info.value), name
        assert message in str(info.value), (name, str(info.value))


def test_the_corrupted_fixture_really_breaks_the_checksum(tmp_path: Path) -> None:
    """Guard for the test above: the flipped byte lies inside a stored member."""
    good = tmp_path / "good.npz"
    trained([3, 4, 1], "relu", "float64").save(good)
    data = bytearray(good.read_bytes())
    data[good.read_bytes().index(b"weights_0.npy") + 200] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with zipfile.ZipFile(tmp_path / "bad.npz") as archive:
        assert archive.testzip() is not None
