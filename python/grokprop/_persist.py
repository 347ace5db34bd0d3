"""Save and load networks as ``.npz`` files (:meth:`grokprop.Network.save` / ``load``).

A file is a zip archive of ``.npy`` entries holding plain arrays only:

========================  =====================================================
``format``                ``"grokprop.Network"`` (what makes the file ours)
``format_version``        ``1``
``grokprop_version``      the version that wrote it (informational)
``sizes``                 ``int64`` layer sizes ``[n0, ..., nL]``
``activation``            ``"relu"`` or ``"linear"``
``dtype``                 ``"float64"`` or ``"float32"``
``weights_0`` ...         ``W[l]`` of shape ``(n_l, n_{l+1})`` in the network dtype
========================  =====================================================

Weights are stored in the network's own dtype, so save → load gives back the same bits.

Loading trusts nothing in the file. It reads only regular files (a FIFO would block, a
device never end), and since a grokprop file's entries and their sizes follow from its
``sizes`` and ``dtype``, it checks the zip directory and every ``.npy`` header against
them before reading any weight: unexpected or duplicated entries, sizes the archive does
not hold (a zip bomb, a shape beyond memory), encryption, compression other than deflate,
and anything but plain numbers and text are refused with a ``ValueError`` naming the file.
The ``.npy`` headers are parsed here and the data read into arrays made here; nothing is
ever unpickled.

Saving checks the weights (finite, the shapes ``sizes`` gives, the dtype), writes a
temporary file beside the target and renames it over the target, so the path holds either
the old file or the new complete one, whatever happens during the write.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import numpy as np

from . import _validation as check
from ._atomic import kind as _kind
from ._atomic import not_saved, replace_atomically
from ._typing import FloatArray, FloatDType
from ._version import __version__
from .specs import FLOAT_DTYPES, Activation, as_float_dtype

__all__ = ["FORMAT", "FORMAT_VERSION", "read_network", "write_network"]

FORMAT = "grokprop.Network"
FORMAT_VERSION = 1
#: What a failed save says it could not save.
SUBJECT = "a grokprop network"
_HEADER = ("format", "format_version", "grokprop_version", "sizes", "activation", "dtype")
_WEIGHTS = re.compile(r"weights_(0|[1-9][0-9]{0,8})")

StrPath = str | os.PathLike[str]

# An .npy header is a few hundred bytes; the header entries (format ... dtype) are tiny
# too: a file declaring more is not ours, and nothing that large is read to find out.
_MAX_NPY_HEADER = 2**16
_MAX_HEADER_ENTRY = 2**20
# deflate cannot compress better than 1032:1, so a larger declared ratio is a lie
_DEFLATE_MAX_RATIO = 1032
_READ_CHUNK = 2**24
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"
# what zipfile and the .npy header parser raise for damaged or hostile entries
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    TypeError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)


# -- save -------------------------------------------------------------------------------------
def write_network(
    path: StrPath,
    sizes: Sequence[int],
    activation: str | Activation,
    dtype: Any,
    weights: Sequence[FloatArray],
) -> None:
    """Write one network to ``path`` exactly (no ``.npz`` is appended), atomically.

    ``ValueError`` (naming the weight) if a weight is not finite or not of the shape and
    dtype ``sizes`` and ``dtype`` give, or if ``path`` is a directory or another
    non-regular file; the ``OSError`` of a failed write names ``path``. Either way the file
    already at ``path`` is left as it was.
    """
    name = os.fspath(path)
    label = Activation.parse(activation).label
    dtype = as_float_dtype(dtype)
    sizes = tuple(sizes)
    _check_weights(name, sizes, dtype, weights)
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "grokprop_version": np.array(__version__),
        "sizes": np.array(sizes, dtype=np.int64),
        "activation": np.array(label),
        "dtype": np.array(dtype.name),
    }
    arrays.update({f"weights_{l}": w for l, w in enumerate(weights)})
    replace_atomically(name, lambda file: np.savez(file, **arrays), SUBJECT)


def _check_weights(
    name: str, sizes: tuple[int, ...], dtype: FloatDType, weights: Sequence[FloatArray]
) -> None:
    if len(weights) != len(sizes) - 1:
        raise _not_saved(name, f"sizes {list(sizes)} need {len(sizes) - 1} weight matrices")
    for l, w in enumerate(weights):
        shape = (sizes[l], sizes[l + 1])
        if not isinstance(w, np.ndarray) or w.shape != shape or w.dtype != dtype:
            got = f"{w.shape} and dtype {w.dtype}" if isinstance(w, np.ndarray) else repr(w)
            raise _not_saved(
                name,
                f"weights[{l}] must have shape {shape} and dtype {dtype.name} (from sizes "
                f"{list(sizes)}), got {got}",
            )
        if not check.all_finite(w):
            raise _not_saved(name, f"weights[{l}] holds NaN or inf")


def _not_saved(name: str, what: str) -> ValueError:
    return not_saved(name, SUBJECT, what)


# -- load -------------------------------------------------------------------------------------
def read_network(path: StrPath) -> tuple[str, str, list[FloatArray]]:
    """``(activation, dtype name, weights)`` from a file :func:`write_network` wrote.

    Raises ``ValueError`` naming the file and what is wrong for anything else (an
    ``OSError`` such as ``FileNotFoundError`` if it cannot be opened, ``MemoryError`` if
    the network it holds would not fit in memory).
    """
    name = os.fspath(path)
    with _open_regular(name) as (file, file_size):
        head = file.read(8)
        if not head:
            raise _bad(name, "it is empty, not an .npz archive")
        if head.startswith(_NPY_MAGIC):
            raise _bad(name, "it holds a single array (.npy), not a saved network (.npz)")
        if not head.startswith(_ZIP_MAGIC):
            raise _bad(
                name, f"it is not a grokprop network file: not an .npz archive (it begins {head!r})"
            )
        file.seek(0)
        try:
            archive = zipfile.ZipFile(file)
        except (*_UNREADABLE, OSError) as exc:
            raise _bad(name, f"it is not a readable .npz archive (damaged: {exc})") from exc
        with archive:
            return _Reader(archive, name, file_size).network()


@contextlib.contextmanager
def _open_regular(name: str) -> Iterator[tuple[IO[bytes], int]]:
    """``name`` open for reading, and its size; ``ValueError`` unless a regular file."""
    mode = os.stat(name).st_mode  # noqa: PTH116
    if not stat.S_ISREG(mode):
        raise _bad(name, f"it is {_kind(mode)}, not a regular file")
    # O_NONBLOCK: should a FIFO have replaced the file since, opening must not wait for a
    # writer; what was opened is checked again
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(name, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise _bad(name, f"it is {_kind(status.st_mode)}, not a regular file")
        if nonblock:
            os.set_blocking(fd, True)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file, status.st_size


def _entry(filename: str) -> str:
    return filename.removesuffix(".npy")


class _Reader:
    """One archive's entries, checked against each other before any weight is read."""

    def __init__(self, archive: zipfile.ZipFile, name: str, file_size: int) -> None:
        self.archive = archive
        self.name = name
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = _entry(info.filename)
            if key in self.infos:
                raise _bad(name, f"it holds the entry {key} twice")
            self.infos[key] = info
        if "format" not in self.infos:
            raise _bad(
                name, f"it has no '{FORMAT}' format marker; it was not written by Network.save"
            )
        unexpected = [
            key
            for key, info in self.infos.items()
            if not info.filename.endswith(".npy")
            or (key not in _HEADER and not _WEIGHTS.fullmatch(key))
        ]
        if unexpected:
            raise _bad(name, f"it has unexpected entries {sorted(unexpected)}")
        for key, info in self.infos.items():
            self._check_stored(key, info, file_size)

    def _check_stored(self, key: str, info: zipfile.ZipInfo, file_size: int) -> None:
        """What the zip directory says of an entry is possible (checked before reading)."""
        if info.flag_bits & 0x1:
            raise self.bad(key, "is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.bad(
                key,
                f"is compressed with method {info.compress_type}; a grokprop file's entries "
                "are stored or deflated",
            )
        if info.header_offset + info.compress_size > file_size:
            raise self.bad(key, "extends past the end of the file (damaged or truncated)")
        stored = info.compress_type == zipfile.ZIP_STORED
        if (stored and info.file_size != info.compress_size) or (
            info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 64
        ):
            raise self.bad(
                key,
                f"declares {info.file_size} bytes in {info.compress_size} bytes of the file, "
                "which no zip writer produces",
            )
        if key in _HEADER and info.file_size > _MAX_HEADER_ENTRY:
            raise self.bad(key, f"declares {info.file_size} bytes; it holds a single value")

    def network(self) -> tuple[str, str, list[FloatArray]]:
        missing = [key for key in _HEADER if key not in self.infos]
        if missing:
            raise self.bad_file(f"it lacks the entries {missing}")
        header = {key: self._read(key) for key in _HEADER}
        if header["format"].tolist() != FORMAT:
            raise self.bad_file(
                f"it has no '{FORMAT}' format marker; it was not written by Network.save"
            )
        version = self._scalar(header, "format_version")
        if version != FORMAT_VERSION:
            raise self.bad_file(
                f"it has format version {version!r}; this grokprop {__version__} reads "
                f"version {FORMAT_VERSION}"
            )
        activation = self._scalar(header, "activation")
        if activation not in Activation.labels():
            raise self.bad_file(
                f"its activation is {activation!r}, not one of {Activation.labels()}"
            )
        dtype_name = self._scalar(header, "dtype")
        if dtype_name not in FLOAT_DTYPES:
            raise self.bad_file(f"its dtype is {dtype_name!r}, not one of {list(FLOAT_DTYPES)}")
        dtype = FLOAT_DTYPES[dtype_name]
        sizes = header["sizes"]
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2 or sizes.min() < 1:
            raise self.bad_file(
                f"its sizes {sizes.tolist()!r} are not at least two positive integers"
            )
        layers = sizes.tolist()
        shapes = [(int(n_in), int(n_out)) for n_in, n_out in itertools.pairwise(layers)]
        expected = {f"weights_{l}" for l in range(len(shapes))}
        missing = sorted(expected - set(self.infos), key=lambda key: int(key[8:]))
        if missing:
            raise self.bad_file(f"it lacks {missing[0]} for sizes {layers}")
        extra = sorted(set(self.infos) - set(_HEADER) - expected)
        if extra:
            raise self.bad_file(f"it has unexpected entries {extra}")

        # every weight's size is known now: check each against the directory first
        for l, shape in enumerate(shapes):
            key = f"weights_{l}"
            nbytes = math.prod(shape) * dtype.itemsize
            declared = self.infos[key].file_size
            if not nbytes < declared <= nbytes + _MAX_NPY_HEADER:
                raise self.bad(
                    key,
                    f"declares {declared} bytes; sizes {layers} and dtype {dtype_name} need "
                    f"shape {shape}, {nbytes} bytes and a header",
                )
        total = sum(math.prod(shape) for shape in shapes) * dtype.itemsize
        # the arrays read here, then the network's own copy of them
        check.check_memory(2 * total, f"{self.name}: the network it holds")

        weights = []
        for l, shape in enumerate(shapes):
            key = f"weights_{l}"

            def weight_header(
                shape_: tuple[int, ...],
                dtype_: np.dtype[Any],
                key: str = key,
                shape: tuple[int, int] = shape,
            ) -> None:
                if shape_ != shape or dtype_.newbyteorder("=") != dtype:
                    raise self.bad_file(
                        f"{key} has shape {shape_} and dtype {dtype_.name}; sizes {layers} and "
                        f"dtype {dtype_name} need shape {shape}"
                    )

            w = self._read(key, weight_header)
            if not check.all_finite(w):
                raise self.bad_file(f"{key} holds NaN or inf")
            weights.append(np.ascontiguousarray(w, dtype=dtype))
        return activation, dtype_name, weights

    def _read(
        self, key: str, expect: Callable[[tuple[int, ...], np.dtype[Any]], None] | None = None
    ) -> np.ndarray:
        """The array in entry ``key``: its header parsed and checked (``expect`` raises if
        the shape or dtype is not the one wanted) before its data is read."""
        info = self.infos[key]
        with self._unreadable(key):
            member = self.archive.open(info)
        with member:
            with self._unreadable(key, "is not .npy array data"):
                version = np.lib.format.read_magic(member)
            if version not in ((1, 0), (2, 0)):
                raise self.bad(key, f"is .npy format version {version}, not 1.0 or 2.0")
            with self._unreadable(key, "has a damaged .npy header"):
                if version == (1, 0):
                    parsed = np.lib.format.read_array_header_1_0(member, _MAX_NPY_HEADER)
                else:
                    parsed = np.lib.format.read_array_header_2_0(member, _MAX_NPY_HEADER)
                header_size = member.tell()
            shape, fortran_order, dtype = parsed
            if dtype.hasobject:
                raise self.bad(key, "holds Python objects, not plain numbers or text")
            if dtype.kind not in "biufU" or dtype.fields is not None or dtype.subdtype:
                raise self.bad(key, f"holds {dtype}, not plain numbers or text")
            if any(n < 0 for n in shape):
                raise self.bad(key, f"declares the shape {shape}")
            if expect is not None:
                expect(shape, dtype)
            nbytes = math.prod(shape) * dtype.itemsize
            if header_size + nbytes != info.file_size:
                raise self.bad(
                    key,
                    f"declares shape {shape} and dtype {dtype} ({nbytes} bytes) but holds "
                    f"{info.file_size - header_size} bytes of data",
                )
            array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
            raw = array.reshape(-1, order="A").view(np.uint8)
            with self._unreadable(key):
                done = 0
                while done < nbytes:  # in chunks: no second copy of a large weight
                    chunk = member.read(min(_READ_CHUNK, nbytes - done))
                    if not chunk:
                        raise EOFError(f"{nbytes - done} bytes of its data are missing")
                    raw[done : done + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    done += len(chunk)
                member.read(1)  # at the end: zipfile checks the CRC
        return array

    @contextlib.contextmanager
    def _unreadable(self, key: str, what: str = "cannot be read") -> Iterator[None]:
        """zipfile's and NumPy's errors for a damaged entry, as the documented error."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error) as exc:  # whatever was being read
            raise self.bad(key, f"cannot be read (damaged: {exc})") from exc
        except _UNREADABLE as exc:
            raise self.bad(key, f"{what} ({exc})") from exc

    def _scalar(self, header: dict[str, np.ndarray], key: str) -> Any:
        value = header[key]
        if value.shape != ():
            raise self.bad(key, f"has shape {value.shape}, expected a single value")
        return value.item()

    def bad(self, key: str, what: str) -> ValueError:
        return _bad(self.name, f"its entry {key} {what}")

    def bad_file(self, what: str) -> ValueError:
        return _bad(self.name, what)


def _bad(name: str, what: str) -> ValueError:
    return ValueError(f"{name}: cannot load a grokprop network: {what}")
