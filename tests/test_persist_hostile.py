"""Network.load of hostile and odd files: each refused with a ValueError naming the file.

The archives are built here byte by byte (:func:`build_zip`), so a test can declare sizes,
flags and compression methods that no well-behaved writer produces, while staying small on
disk. Nothing in a file may make ``load`` allocate what the file does not hold, block,
unpickle, or fail with anything but the documented error.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import threading
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import grokprop as gp

LOAD_ERROR = "cannot load a grokprop network"


@dataclass
class Member:
    """One zip entry as it will be written: ``payload`` is stored as given (already
    compressed if ``method`` says so); ``size`` and ``crc`` describe the uncompressed data."""

    name: str
    payload: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_STORED
    flags: int = 0

    @classmethod
    def stored(cls, name: str, data: bytes) -> Member:
        return cls(name, data, len(data), zlib.crc32(data))


def build_zip(members: list[Member]) -> bytes:
    """A zip archive of ``members``, the same fields in local and central headers."""
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        name = m.name.encode()
        fields = (m.flags, m.method, 0, 0x21, m.crc, len(m.payload), m.size, len(name))
        out += struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", 20, *fields, 0) + name + m.payload
        central += (
            struct.pack(
                "<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, offset
            )
            + name
        )
    n = len(members)
    end = struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0)
    return bytes(out + central + end)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype.hasobject)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.npz"
    gp.Network([3, 4, 1], seed=3).save(path)
    return path


def members_of(path: Path) -> list[Member]:
    """The entries of a saved network, stored, in their order."""
    with zipfile.ZipFile(path) as archive:
        return [Member.stored(i.filename, archive.read(i)) for i in archive.infolist()]


def replaced(members: list[Member], name: str, member: Member) -> list[Member]:
    return [member if m.name == name else m for m in members]


def refused(path: Path, *messages: str) -> str:
    """Load ``path``; it must raise the documented ValueError naming it and ``messages``."""
    with pytest.raises(ValueError, match=LOAD_ERROR) as info:
        gp.Network.load(path)
    text = str(info.value)
    assert str(path) in text
    for message in messages:
        assert message in text, text
    assert "pickle" not in text.lower(), text  # never advice to load pickled data
    return text


def test_the_zip_builder_writes_archives_load_reads(tmp_path: Path, good: Path) -> None:
    """Guard for every test below: a rebuilt good file loads, so refusals are the damage's."""
    path = tmp_path / "rebuilt.npz"
    path.write_bytes(build_zip(members_of(good)))
    loaded = gp.Network.load(path)
    original = gp.Network.load(good)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, original.weights))


# -- what the file is not ---------------------------------------------------------------------
def test_a_foreign_file_is_not_an_npz_archive_without_pickle_advice(tmp_path: Path) -> None:
    path = tmp_path / "errors.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64))
    refused(path, "not a grokprop network file", "not an .npz archive")


def test_a_directory_is_refused_before_opening(tmp_path: Path) -> None:
    refused(tmp_path, "directory", "not a regular file")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "net.npz"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            gp.Network.load(fifo)
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 -- reported to the main thread below
            outcome.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    blocked = thread.is_alive()
    if blocked:  # let the blocked open() return: a writer opens and closes the FIFO
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
    assert not blocked, "Network.load blocked on a FIFO"
    (exc,) = outcome
    assert isinstance(exc, ValueError), repr(exc)
    assert LOAD_ERROR in str(exc) and str(fifo) in str(exc) and "not a regular file" in str(exc)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # left alone


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused() -> None:
    with pytest.raises(ValueError, match="not a regular file"):
        gp.Network.load("/dev/zero")


# -- sizes the headers declare ----------------------------------------------------------------
def test_an_entry_declaring_a_shape_far_beyond_memory_is_refused_unread(
    tmp_path: Path, good: Path
) -> None:
    huge = npy_header((4_000_000_000,)) + bytes(80)  # 32 GB declared, 80 bytes held
    for name, where in [("weights_0.npy", "weights_0"), ("big.npy", "big")]:
        members = members_of(good)
        if name in {m.name for m in members}:
            members = replaced(members, name, Member.stored(name, huge))
        else:
            members.append(Member.stored(name, huge))
        path = tmp_path / f"huge-{where}.npz"
        path.write_bytes(build_zip(members))
        tracemalloc.start()
        try:
            refused(path, where)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 10 * 2**20, (
            f"load allocated {peak} bytes for a {path.stat().st_size}-byte file"
        )


def test_sizes_declaring_a_network_the_file_does_not_hold_are_refused(
    tmp_path: Path, good: Path
) -> None:
    """sizes [2, 2e9, 1] with matching .npy headers, but only 80 bytes of weights."""
    members = replaced(
        members_of(good),
        "sizes.npy",
        Member.stored("sizes.npy", npy(np.array([2, 2_000_000_000, 1]))),
    )
    members = replaced(
        members,
        "weights_0.npy",
        Member.stored("weights_0.npy", npy_header((2, 2_000_000_000)) + bytes(80)),
    )
    members = replaced(
        members,
        "weights_1.npy",
        Member.stored("weights_1.npy", npy_header((2_000_000_000, 1)) + bytes(80)),
    )
    path = tmp_path / "liar.npz"
    path.write_bytes(build_zip(members))
    refused(path, "weights_0")


def test_a_zip_entry_declaring_more_than_it_stores_is_refused(tmp_path: Path, good: Path) -> None:
    members = members_of(good)
    weights = next(m for m in members if m.name == "weights_0.npy")
    # a stored entry whose directory claims 3 GB uncompressed: no reader can trust it
    lying = Member("weights_0.npy", weights.payload, 3 * 2**30, weights.crc)
    path = tmp_path / "lying.npz"
    path.write_bytes(build_zip(replaced(members, "weights_0.npy", lying)))
    refused(path, "weights_0")


ZERO_MB = 2**20
BOMB_ZEROS = 640 * ZERO_MB  # uncompressed bytes of zeros per bomb entry


@pytest.fixture(scope="module")
def bomb_entry() -> Member:
    """``big_i.npy``: a valid .npy of 80M float64 zeros (640 MB) deflated to about 660 KB.

    Deflate blocks ending in a full flush do not depend on what came before, so the
    stream is one compressed megabyte repeated (built in milliseconds, not seconds).
    """
    header = npy_header((BOMB_ZEROS // 8,))
    chunk = bytes(ZERO_MB)
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = (
        head.compress(header)
        + head.flush(zlib.Z_FULL_FLUSH)
        + (body.compress(chunk) + body.flush(zlib.Z_FULL_FLUSH)) * (BOMB_ZEROS // ZERO_MB)
        + b"\x03\x00"  # an empty final block
    )
    crc = zlib.crc32(header)
    for _ in range(BOMB_ZEROS // ZERO_MB):
        crc = zlib.crc32(chunk, crc)
    return Member("big.npy", stream, len(header) + BOMB_ZEROS, crc, zipfile.ZIP_DEFLATED)


def bomb(good: Path, entry: Member, path: Path) -> Path:
    extra = [
        Member(f"bomb_{i}.npy", entry.payload, entry.size, entry.crc, entry.method)
        for i in range(3)
    ]
    path.write_bytes(build_zip(members_of(good) + extra))
    return path


def test_the_zip_bomb_really_inflates(tmp_path: Path, good: Path, bomb_entry: Member) -> None:
    """Guard for the test below: the extra entries are valid 640 MB arrays of zeros."""
    path = bomb(good, bomb_entry, tmp_path / "bomb.npz")
    assert path.stat().st_size < 8 * 2**20
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("bomb_2.npy")
        assert info.file_size > 640 * 2**20 and info.compress_type == zipfile.ZIP_DEFLATED
        with archive.open(info) as member:
            assert np.lib.format.read_magic(member) == (1, 0)
            assert np.lib.format.read_array_header_1_0(member)[0] == (BOMB_ZEROS // 8,)
            assert member.read(ZERO_MB) == bytes(ZERO_MB)


def test_a_zip_bomb_is_refused_from_the_headers(
    tmp_path: Path, good: Path, bomb_entry: Member
) -> None:
    path = bomb(good, bomb_entry, tmp_path / "bomb.npz")
    tracemalloc.start()
    try:
        refused(path, "unexpected entries", "bomb_0")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"load inflated {peak} bytes"


def test_a_zip_bomb_under_a_weight_name_is_refused_from_the_headers(
    tmp_path: Path, good: Path, bomb_entry: Member
) -> None:
    bombed = Member(
        "weights_0.npy", bomb_entry.payload, bomb_entry.size, bomb_entry.crc, bomb_entry.method
    )
    path = tmp_path / "bomb0.npz"
    path.write_bytes(build_zip(replaced(members_of(good), "weights_0.npy", bombed)))
    tracemalloc.start()
    try:
        refused(path, "weights_0")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"load inflated {peak} bytes"


# -- what the entries hold --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["weights_0.npy", "sizes.npy", "format.npy"])
def test_an_entry_that_is_not_npy_data_is_refused(tmp_path: Path, good: Path, name: str) -> None:
    path = tmp_path / "raw.npz"
    raw = Member.stored(name, b"\x01\x02\x03" * 40)
    path.write_bytes(build_zip(replaced(members_of(good), name, raw)))
    refused(path, name.removesuffix(".npy"), "not .npy")


def test_object_arrays_are_refused_and_never_unpickled(tmp_path: Path, good: Path) -> None:
    path = tmp_path / "objects.npz"
    objects = np.empty((3, 4), dtype=object)
    objects[...] = 0.5
    member = Member.stored("weights_0.npy", npy(objects))
    path.write_bytes(build_zip(replaced(members_of(good), "weights_0.npy", member)))
    refused(path, "weights_0", "Python objects")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flags": 0x1}, "encrypted"),
        ({"method": 93}, "compressed with method 93"),  # zstd
        ({"method": 99}, "compressed with method 99"),  # WinZip AES
        ({"method": 12}, "compressed with method 12"),  # bzip2: zipfile reads it, we do not
    ],
)
def test_encrypted_or_exotically_compressed_entries_are_refused(
    tmp_path: Path, good: Path, change: dict[str, int], message: str
) -> None:
    members = members_of(good)
    weights = next(m for m in members if m.name == "weights_0.npy")
    patched = Member(weights.name, weights.payload, weights.size, weights.crc, **change)
    path = tmp_path / "patched.npz"
    path.write_bytes(build_zip(replaced(members, weights.name, patched)))
    refused(path, "weights_0", message)


def test_a_deflated_network_file_loads(tmp_path: Path, good: Path) -> None:
    """Entries may be deflated (np.savez_compressed): read bounded, same bits."""
    with np.load(good, allow_pickle=False) as archive:
        contents = {key: archive[key] for key in archive.files}
    path = tmp_path / "compressed.npz"
    with path.open("wb") as file:
        np.savez_compressed(file, **contents)
    loaded = gp.Network.load(path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, gp.Network.load(good).weights))


def test_a_duplicated_entry_is_refused(tmp_path: Path, good: Path) -> None:
    members = members_of(good)
    weights = next(m for m in members if m.name == "weights_0.npy")
    path = tmp_path / "twice.npz"
    path.write_bytes(build_zip([*members, weights]))
    refused(path, "weights_0", "twice")


def test_an_entry_past_the_end_of_the_file_is_refused(tmp_path: Path, good: Path) -> None:
    members = members_of(good)
    weights = next(m for m in members if m.name == "weights_0.npy")
    # the directory says 10 MB are stored; the file is a few hundred bytes
    lying = Member(weights.name, weights.payload, 10 * 2**20, weights.crc)
    path = tmp_path / "short.npz"
    data = build_zip(replaced(members, weights.name, lying))
    # the central directory's compressed size too (the entry's name follows its 46 bytes)
    at = data.rindex(weights.name.encode()) - 46 + 20
    data = data[:at] + struct.pack("<L", 10 * 2**20) + data[at + 4 :]
    path.write_bytes(data)
    refused(path, "weights_0")


def test_big_endian_and_fortran_order_weights_load_to_the_same_values(
    tmp_path: Path, good: Path
) -> None:
    """Other writers' valid .npy layouts hold the same numbers: load gives them back."""
    original = gp.Network.load(good)
    members = members_of(good)
    w0 = original.weights[0]
    members = replaced(
        members, "weights_0.npy", Member.stored("weights_0.npy", npy(w0.astype(">f8")))
    )
    members = replaced(
        members,
        "weights_1.npy",
        Member.stored("weights_1.npy", npy(np.asfortranarray(original.weights[1]))),
    )
    path = tmp_path / "layouts.npz"
    path.write_bytes(build_zip(members))
    loaded = gp.Network.load(path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, original.weights))
    assert all(w.dtype == np.float64 and w.dtype.isnative for w in loaded.weights)
