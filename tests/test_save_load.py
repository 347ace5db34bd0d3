"""Network.save / Network.load: .npz of plain arrays, bitwise round trip, clear errors."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pathhelpers import read_only

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
        ({"activation": np.array("softmax")}, "activation is 'softmax'"),
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
    objects = np.empty((3, 4), dtype=object)
    objects[...] = 0.5
    (tmp_path / "objects.npz").write_bytes(data)
    rewrite(tmp_path / "objects.npz", weights_0=objects)  # np.savez pickles object arrays
    # a bit flipped inside the stored weights: the zip checksum catches it
    corrupted = bytearray(data)
    at = data.index(b"weights_0.npy") + 200
    corrupted[at] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(corrupted))

    expected = {
        "text.npz": "not a grokprop network file: not an .npz archive",
        "truncated.npz": "not a readable .npz archive",
        "empty.npz": "it is empty",
        "array.npy": "single array (.npy)",
        "other.npz": "format marker",
        "objects.npz": "weights_0 holds Python objects",
        "flipped.npz": "weights_0 cannot be read",
    }
    for name, message in expected.items():
        path = tmp_path / name
        with pytest.raises(ValueError, match="cannot load a grokprop network") as info:
            gp.Network.load(path)
        assert str(path) in str(info.value), name
        assert message in str(info.value), (name, str(info.value))
        assert "pickle" not in str(info.value).replace(str(path), ""), name  # no unpickling advice


def test_the_corrupted_fixture_really_breaks_the_checksum(tmp_path: Path) -> None:
    """Guard for the test above: the flipped byte lies inside a stored member."""
    good = tmp_path / "good.npz"
    trained([3, 4, 1], "relu", "float64").save(good)
    data = bytearray(good.read_bytes())
    data[good.read_bytes().index(b"weights_0.npy") + 200] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with zipfile.ZipFile(tmp_path / "bad.npz") as archive:
        assert archive.testzip() is not None


# -- save: atomic, checked --------------------------------------------------------------------
def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_write_failing_midway_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    before = path.read_bytes()
    real_savez = np.savez

    def fail_halfway(file: Any, *args: Any, **kwds: Any) -> None:
        whole = io.BytesIO()
        real_savez(whole, *args, **kwds)
        file.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        raise error

    monkeypatch.setattr(np, "savez", fail_halfway)
    with pytest.raises(type(error)):
        gp.Network([3, 5, 1], seed=9).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["net.npz"]


def test_save_over_an_existing_file_replaces_it_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    path.chmod(0o640)
    new = gp.Network([3, 5, 2, 1], seed=9, activation="linear", dtype="float32")
    new.save(path)
    loaded = gp.Network.load(path)
    assert loaded.sizes == (3, 5, 2, 1) and loaded.activation == "linear"
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, new.weights))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert files_in(tmp_path) == ["net.npz"]


def test_a_new_file_gets_the_permissions_any_new_file_gets(tmp_path: Path) -> None:
    reference = tmp_path / "plain"
    reference.write_bytes(b"")  # created with the process umask, as open() does
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_save_through_a_symlink_writes_the_file_it_points_to(tmp_path: Path) -> None:
    target = tmp_path / "real.npz"
    trained([3, 4, 1], "relu", "float64").save(target)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    new = gp.Network([3, 2, 1], seed=5)
    new.save(link)
    assert link.is_symlink() and link.resolve() == target
    assert gp.Network.load(target).sizes == (3, 2, 1)


def test_save_to_a_directory_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "models"
    target.mkdir()
    with pytest.raises(ValueError, match="cannot save a grokprop network") as info:
        trained([3, 4, 1], "relu", "float64").save(target)
    assert str(target) in str(info.value) and "directory" in str(info.value)
    assert files_in(target) == [] and files_in(tmp_path) == ["models"]


def test_save_into_a_read_only_directory_names_the_path_and_writes_nothing(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    before = path.read_bytes()
    with read_only(directory):
        with pytest.raises(PermissionError) as info:
            gp.Network([3, 5, 1], seed=9).save(path)
        assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert files_in(directory) == ["net.npz"]


def test_save_over_a_read_only_file_is_refused_as_writing_it_would_be(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    trained([3, 4, 1], "relu", "float64").save(path)
    before = path.read_bytes()
    with read_only(path):
        with pytest.raises(PermissionError) as info:
            gp.Network([3, 5, 1], seed=9).save(path)
        assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["net.npz"]


def test_save_of_weights_made_nan_in_place_is_refused_and_the_old_file_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "net.npz"
    net = trained([3, 4, 1], "relu", "float64")
    net.save(path)
    before = path.read_bytes()
    net.weights[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="cannot save a grokprop network") as info:
        net.save(path)
    assert str(path) in str(info.value) and "weights[0]" in str(info.value)
    assert "NaN" in str(info.value)
    assert path.read_bytes() == before and files_in(tmp_path) == ["net.npz"]


def test_save_of_a_weight_reshaped_in_place_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    net = trained([3, 4, 1], "relu", "float64")
    net.weights[1].shape = (1, 4)
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(4, 1\)") as info:
        net.save(path)
    assert str(path) in str(info.value)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_networks_round_trip(tmp_path: Path, activation: str) -> None:
    net = gp.Network([3, 4, 1], seed=2, activation=activation, dtype="float32")
    net.save(tmp_path / "net.npz")
    loaded = gp.Network.load(tmp_path / "net.npz")
    assert loaded.activation == net.activation
    X, _ = gp.datasets.streetlights("nonlinear")
    assert np.array_equal(loaded.predict(X), net.predict(X))
