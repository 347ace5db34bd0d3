"""Save and load networks as ``.npz`` files (:meth:`grokprop.Network.save` / ``load``).

A file holds plain arrays only, so it loads with ``allow_pickle=False``:

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
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.npyio import NpzFile

from ._typing import FloatArray
from ._version import __version__
from .specs import FLOAT_DTYPES, Activation

__all__ = ["FORMAT", "FORMAT_VERSION", "read_network", "write_network"]

FORMAT = "grokprop.Network"
FORMAT_VERSION = 1
_HEADER = ("format", "format_version", "grokprop_version", "sizes", "activation", "dtype")

StrPath = str | os.PathLike[str]
# what np.load raises for files that are not (intact) .npy/.npz archives of plain arrays
_UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def write_network(
    path: StrPath,
    sizes: tuple[int, ...],
    activation: str,
    dtype: np.dtype[np.floating],
    weights: list[FloatArray],
) -> None:
    """Write one network to ``path`` exactly (no ``.npz`` is appended)."""
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "grokprop_version": np.array(__version__),
        "sizes": np.array(sizes, dtype=np.int64),
        "activation": np.array(activation),
        "dtype": np.array(dtype.name),
    }
    arrays.update({f"weights_{l}": w for l, w in enumerate(weights)})
    with Path(path).open("wb") as file:  # a file object, so numpy does not append ".npz"
        np.savez(file, **arrays)


def read_network(path: StrPath) -> tuple[str, str, list[FloatArray]]:
    """``(activation, dtype name, weights)`` from a file :func:`write_network` wrote.

    Raises ``ValueError`` naming the file and what is wrong for anything else.
    """
    name = os.fspath(path)
    # our own file object: np.load leaks the handle it opens when a zip is damaged
    with Path(path).open("rb") as file:
        try:
            loaded = np.load(file, allow_pickle=False)
        except _UNREADABLE as exc:
            raise _bad(name, f"it is not a readable .npz file ({exc})") from exc
        if not isinstance(loaded, NpzFile):
            raise _bad(name, "it holds a single array (.npy), not a saved network (.npz)")
        with loaded:
            try:
                contents = {key: loaded[key] for key in loaded.files}
            except _UNREADABLE as exc:
                raise _bad(name, f"an entry cannot be read ({exc})") from exc

    if contents.get("format", np.array("")).tolist() != FORMAT:
        raise _bad(name, f"it has no '{FORMAT}' format marker; it was not written by Network.save")
    missing = [key for key in _HEADER if key not in contents]
    if missing:
        raise _bad(name, f"it lacks the entries {missing}")
    version = _scalar(contents, "format_version", name)
    if version != FORMAT_VERSION:
        raise _bad(
            name,
            f"it has format version {version!r}; this grokprop {__version__} reads version "
            f"{FORMAT_VERSION}",
        )
    activation = _scalar(contents, "activation", name)
    if activation not in Activation.labels():
        raise _bad(name, f"its activation is {activation!r}, not one of {Activation.labels()}")
    dtype_name = _scalar(contents, "dtype", name)
    if dtype_name not in FLOAT_DTYPES:
        raise _bad(name, f"its dtype is {dtype_name!r}, not one of {list(FLOAT_DTYPES)}")
    sizes = contents["sizes"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2 or sizes.min() < 1:
        raise _bad(name, f"its sizes {sizes.tolist()!r} are not at least two positive integers")

    weights = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1].tolist(), sizes[1:].tolist())):
        key = f"weights_{l}"
        if key not in contents:
            raise _bad(name, f"it lacks {key} for sizes {sizes.tolist()}")
        w = contents[key]
        if w.shape != (n_in, n_out) or w.dtype.name != dtype_name:
            raise _bad(
                name,
                f"{key} has shape {w.shape} and dtype {w.dtype.name}; sizes {sizes.tolist()} "
                f"and dtype {dtype_name} need shape {(n_in, n_out)}",
            )
        if not np.isfinite(w).all():
            raise _bad(name, f"{key} holds NaN or inf")
        weights.append(w)
    extra = sorted(set(contents) - set(_HEADER) - {f"weights_{l}" for l in range(len(weights))})
    if extra:
        raise _bad(name, f"it has unexpected entries {extra}")
    return activation, dtype_name, weights


def _scalar(contents: dict[str, np.ndarray], key: str, name: str) -> Any:
    value = contents[key]
    if value.shape != ():
        raise _bad(name, f"its {key} entry has shape {value.shape}, expected a single value")
    return value.item()


def _bad(name: str, what: str) -> ValueError:
    return ValueError(f"{name}: cannot load a grokprop network: {what}")
