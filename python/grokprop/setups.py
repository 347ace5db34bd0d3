"""Shareable setups: what a network and its training are, as a small JSON document
(docs/design.md, "The explorer").

A :class:`Setup` is the explorer's state — the data, the hidden size, the activation, alpha,
the seed, the gradient-descent mode and the number of epochs — as a frozen dataclass whose
fields are checked when it is made. It round-trips through JSON (:meth:`Setup.to_json`,
:meth:`Setup.from_json`) and builds the network and the data it describes
(:meth:`Setup.network`, :meth:`Setup.data`, ``gp.Network.from_setup``)::

    {"format": "grokprop-setup", "version": 1,
     "data": {"kind": "truth", "function": "xor", "inputs": 2},
     "hidden": 4, "activation": "relu", "alpha": 0.2, "seed": 1,
     "batch_size": 1, "epochs": 60}

Every key but ``format``/``version`` may be left out (it takes the default: the book's
program 5). A bad value raises ``ValueError``/``TypeError`` naming the field
(``setup.alpha: ...``).

Trained weights export as the ``.npz`` of :meth:`grokprop.Network.save` or as JSON
(:func:`weights_json`, :func:`network_from_weights_json`): Python writes every float with the
shortest repr that reads back to the same bits, so the JSON round trip is exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _persist, datasets
from . import _validation as check
from ._atomic import replace_atomically
from ._typing import FloatArray
from .specs import Activation

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "DATA_KINDS",
    "Setup",
    "network_from_weights_json",
    "parse_table",
    "weights_json",
]

SETUP_FORMAT = "grokprop-setup"
WEIGHTS_FORMAT = "grokprop-weights"
VERSION = 1
#: ``data.kind``: the book's two streetlight problems, a truth table, a table of numbers.
DATA_KINDS = ("nonlinear", "linear", "truth", "table")
#: A typed table or a truth table is teaching material: at most this many rows / columns.
MAX_ROWS = 256
MAX_COLUMNS = 16
MAX_TRUTH_INPUTS = 8  # 256 rows
MAX_HIDDEN = 1024


def _field(name: str, exc: Exception) -> Exception:
    """``exc`` (a ValueError or TypeError) with the setup field it is about in front."""
    message = str(exc)
    return type(exc)(message if message.startswith("setup.") else f"setup.{name}: {message}")


def _matrix(rows: Any, name: str) -> tuple[tuple[float, ...], ...]:
    """A small table of finite numbers as a tuple of equally long row tuples."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list of rows of numbers, got {rows!r}")
    array = check.as_matrix(rows, name, np.dtype(np.float64))
    if not 1 <= array.shape[0] <= MAX_ROWS or array.shape[1] > MAX_COLUMNS:
        raise ValueError(
            f"{name} must have 1 to {MAX_ROWS} rows of 1 to {MAX_COLUMNS} numbers, "
            f"got shape {array.shape}"
        )
    return tuple(tuple(float(v) for v in row) for row in array)


@dataclass(frozen=True)
class Setup:
    """A network and its training, as the explorer shows them (see the module).

    ``data`` is ``"nonlinear"`` or ``"linear"`` (the streetlights), ``"truth"`` (the truth
    table of ``function`` with ``inputs`` inputs, plus the always-on light, see
    :func:`grokprop.datasets.truth_table`) or ``"table"`` (the rows ``X`` and targets
    ``y``). ``hidden`` 0 is the two-layer network ``[n, k]``; else ``[n, hidden, k]``.
    ``batch_size`` 1 is stochastic descent, ``None`` full-batch.
    """

    data: str = "nonlinear"
    function: str = "xor"
    inputs: int = 2
    X: tuple[tuple[float, ...], ...] = ()
    y: tuple[tuple[float, ...], ...] = ()
    hidden: int = 4
    activation: str = "relu"
    alpha: float = 0.2
    seed: int = 1
    batch_size: int | None = 1
    epochs: int = 60

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)  # frozen: normalised once, here

        if self.data not in DATA_KINDS:
            raise ValueError(f"setup.data must be one of {DATA_KINDS}, got {self.data!r}")
        try:
            put("inputs", check.check_int(self.inputs, "inputs", minimum=1))
            if self.inputs > MAX_TRUTH_INPUTS:
                raise ValueError(f"inputs must be at most {MAX_TRUTH_INPUTS}, got {self.inputs}")
        except (TypeError, ValueError) as exc:
            raise _field("inputs", exc) from None
        function: Any = self.function
        if isinstance(function, bool) or not isinstance(function, (str, int)):
            raise TypeError(
                f"setup.function must be a name like 'xor' or an integer, got {function!r}"
            )
        put("function", str(function).strip().lower())
        if self.data == "truth":
            try:
                datasets.truth_table(_truth_function(self.function), self.inputs)
            except (TypeError, ValueError) as exc:
                raise _field("function", exc) from None
        else:  # not part of this setup: the defaults, so equal setups compare equal
            put("function", "xor")
            put("inputs", 2)
        for name in ("X", "y"):
            value = getattr(self, name)
            if self.data == "table":
                try:
                    put(name, _matrix(value, name))
                except (TypeError, ValueError) as exc:
                    raise _field(name, exc) from None
            elif len(value):
                raise ValueError(f"setup.{name} is only for data 'table', not {self.data!r}")
        if self.data == "table" and len(self.X) != len(self.y):
            raise ValueError(
                f"setup.y must have one row per row of X: {len(self.X)} rows of X, "
                f"{len(self.y)} of y"
            )
        try:
            put("hidden", check.check_int(self.hidden, "hidden", minimum=0))
            put("epochs", check.check_int(self.epochs, "epochs", minimum=0))
        except (TypeError, ValueError) as exc:
            raise _field("hidden" if "hidden" in str(exc) else "epochs", exc) from None
        if self.hidden > MAX_HIDDEN:
            raise ValueError(f"setup.hidden must be at most {MAX_HIDDEN}, got {self.hidden}")
        try:
            put("activation", Activation.parse(self.activation).label)
            put("alpha", check.check_alpha(self.alpha))
        except (TypeError, ValueError) as exc:
            raise _field("activation" if "activation" in str(exc) else "alpha", exc) from None
        try:
            seed = check.check_seed(self.seed)
            if seed is None:
                raise TypeError("seed must be an integer from 0 to 2**32 - 1, got None")
            put("seed", seed)
        except (TypeError, ValueError) as exc:
            raise _field("seed", exc) from None
        if self.batch_size is not None:
            try:
                put("batch_size", check.check_batch_size(self.batch_size, self.rows))
            except (TypeError, ValueError) as exc:
                raise _field("batch_size", exc) from None

    # -- what it describes -------------------------------------------------------------------
    def data_arrays(self) -> tuple[FloatArray, FloatArray]:
        """The rows and targets, as float64 arrays (fresh ones each call)."""
        if self.data in ("nonlinear", "linear"):
            X, y = datasets.streetlights(self.data)  # type: ignore[arg-type]
        elif self.data == "truth":
            X, y = datasets.truth_table(_truth_function(self.function), self.inputs)
        else:
            X, y = np.array(self.X), np.array(self.y)
        return X.astype(np.float64), y.astype(np.float64)

    @property
    def rows(self) -> int:
        """The number of examples."""
        if self.data == "table":
            return len(self.X)
        if self.data == "truth":
            return 1 << self.inputs
        return 4 if self.data == "nonlinear" else 6

    @property
    def sizes(self) -> tuple[int, ...]:
        """``(n_inputs, hidden, n_outputs)``, or ``(n_inputs, n_outputs)`` for hidden 0."""
        if self.data == "table":
            n_in, n_out = len(self.X[0]), len(self.y[0])
        elif self.data == "truth":
            n_in, n_out = self.inputs + 1, 1  # the always-on light
        else:
            n_in, n_out = 3, 1
        return (n_in, n_out) if self.hidden == 0 else (n_in, self.hidden, n_out)

    def network(self) -> Network:
        """The untrained network: the book's initialisation of ``seed``."""
        from .network import Network

        return Network(self.sizes, activation=self.activation, seed=self.seed)

    def replace(self, **changes: Any) -> Setup:
        """This setup with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    # -- the document -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.data}
        if self.data == "truth":
            data.update(function=self.function, inputs=self.inputs)
        elif self.data == "table":
            data.update(X=[list(r) for r in self.X], y=[list(r) for r in self.y])
        return {
            "format": SETUP_FORMAT,
            "version": VERSION,
            "data": data,
            "hidden": self.hidden,
            "activation": self.activation,
            "alpha": self.alpha,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
        }

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The setup document as JSON text; also written to ``path`` when given (atomically)."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"
        if path is not None:
            _write_text(path, text)
        return text

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Setup:
        """A setup from its document (missing keys take the defaults); errors name the key."""
        if not isinstance(document, Mapping):
            raise TypeError(f"a setup document is a JSON object, got {type(document).__name__}")
        doc = dict(document)
        _check_header(doc, SETUP_FORMAT)
        fields: dict[str, Any] = {}
        data = doc.pop("data", {"kind": cls.data})
        if isinstance(data, str):
            data = {"kind": data}
        if not isinstance(data, Mapping):
            raise TypeError(f"setup.data must be an object like {{'kind': 'xor'}}, got {data!r}")
        data = dict(data)
        if "kind" in data:
            fields["data"] = data.pop("kind")
        for key in ("function", "inputs", "X", "y"):
            if key in data:
                fields[key] = data.pop(key)
        if data:
            raise ValueError(f"setup.data has unknown keys {sorted(data)}")
        for key in ("hidden", "activation", "alpha", "seed", "batch_size", "epochs"):
            if key in doc:
                fields[key] = doc.pop(key)
        if doc:
            raise ValueError(
                f"the setup document has unknown keys {sorted(doc)}; known: data, hidden, "
                "activation, alpha, seed, batch_size, epochs"
            )
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | bytes) -> Setup:
        """A setup from JSON text (see :meth:`from_dict`)."""
        return cls.from_dict(_parse_json(text, "setup"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Setup:
        """A setup from a JSON file."""
        with open(path, encoding="utf-8") as file:  # noqa: PTH123
            return cls.from_json(file.read())

    @classmethod
    def coerce(cls, setup: Setup | Mapping[str, Any] | str | bytes) -> Setup:
        """A :class:`Setup` from itself, its document, or its JSON text."""
        if isinstance(setup, Setup):
            return setup
        if isinstance(setup, (str, bytes)):
            return cls.from_json(setup)
        return cls.from_dict(setup)


def _truth_function(function: str) -> str | int:
    """A truth-table function as :func:`grokprop.datasets.truth_table` takes it."""
    return int(function) if function.isdigit() else function


def _check_header(doc: dict[str, Any], expected: str) -> None:
    found = doc.pop("format", expected)
    if found != expected:
        raise ValueError(f"format must be {expected!r}, got {found!r}")
    version = doc.pop("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"version must be {VERSION} (this grokprop's), got {version!r}")


def _parse_json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the {what} document is not valid JSON: {exc}") from None


def _write_text(path: str | os.PathLike[str], text: str) -> None:
    data = text.encode("utf-8")
    replace_atomically(os.fspath(path), lambda file: file.write(data), _persist.SUBJECT)


def parse_table(text: str) -> tuple[list[list[float]], list[list[float]]]:
    """The rows and targets of a table typed one example per line, inputs ``|`` targets::

        1 0 1 | 1
        0 1 1 | 1

    (numbers separated by spaces or commas; blank lines and lines from ``#`` ignored).
    Raises ``ValueError`` naming the line that is wrong.
    """
    X: list[list[float]] = []
    y: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("|") != 1:
            raise ValueError(f"table line {number}: write inputs | targets, got {line!r}")
        parts = [_numbers(side, number) for side in line.split("|")]
        if not parts[0] or not parts[1]:
            raise ValueError(f"table line {number}: needs inputs and targets, got {line!r}")
        if X and (len(parts[0]), len(parts[1])) != (len(X[0]), len(y[0])):
            raise ValueError(
                f"table line {number}: {len(parts[0])} inputs | {len(parts[1])} targets, but "
                f"line 1 has {len(X[0])} | {len(y[0])}"
            )
        X.append(parts[0])
        y.append(parts[1])
    if not X:
        raise ValueError("the table is empty: type one example per line, inputs | targets")
    return X, y


def _numbers(text: str, line: int) -> list[float]:
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"table line {line}: not a number in {text.strip()!r}") from None


def format_table(X: Sequence[Sequence[float]], y: Sequence[Sequence[float]]) -> str:
    """The text :func:`parse_table` reads back to ``X`` and ``y``."""

    def numbers_text(values: Sequence[float]) -> str:
        return " ".join(repr(int(v)) if float(v).is_integer() else repr(float(v)) for v in values)

    return "\n".join(f"{numbers_text(a)} | {numbers_text(b)}" for a, b in zip(X, y))


# -- weights as JSON --------------------------------------------------------------------------


def weights_json(net: Network, path: str | os.PathLike[str] | None = None) -> str:
    """``net``'s sizes, activation, dtype and weights as JSON text (exact: every float is
    written with the digits that read back to its bits); also written to ``path``."""
    weights = [np.asarray(w) for w in net.weights]
    document = {
        "format": WEIGHTS_FORMAT,
        "version": VERSION,
        "sizes": list(net.sizes),
        "activation": net.activation,
        "dtype": net.dtype.name,
        "weights": [[[float(v) for v in row] for row in w] for w in weights],
    }
    try:
        text = json.dumps(document, allow_nan=False) + "\n"
    except ValueError:
        raise ValueError("weights_json: the weights hold NaN or inf, which JSON cannot") from None
    if path is not None:
        _write_text(path, text)
    return text


def network_from_weights_json(text: str | bytes) -> Network:
    """The network :func:`weights_json` wrote (the same bits)."""
    from .network import Network

    doc = _parse_json(text, "weights")
    if not isinstance(doc, dict):
        raise TypeError(f"a weights document is a JSON object, got {type(doc).__name__}")
    _check_header(doc, WEIGHTS_FORMAT)
    missing = {"sizes", "activation", "dtype", "weights"} - set(doc)
    if missing:
        raise ValueError(f"the weights document lacks {sorted(missing)}")
    weights = doc["weights"]
    if not isinstance(weights, list) or not all(isinstance(w, list) for w in weights):
        raise TypeError("weights must be a list of matrices (lists of rows)")
    for l, matrix in enumerate(weights):
        for row in matrix:
            if not isinstance(row, list) or not all(
                type(v) in (int, float) and math.isfinite(v)  # JSON numbers, not true/false
                for v in row
            ):
                raise ValueError(f"weights[{l}] must be rows of finite numbers")
    return Network(
        doc["sizes"],
        weights=[np.array(w, dtype=np.float64) for w in weights],
        activation=doc["activation"],
        dtype=doc["dtype"],
    )
