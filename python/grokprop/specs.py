"""What a training or a sweep is, as plain validated values (docs/design.md, "Specs").

:class:`TrainSpec` and :class:`SweepSpec` are frozen dataclasses that check their fields
when they are made, so a spec that exists is valid: the Python API builds one per call
from the user's arguments and every backend receives it as it is. The C++ core mirrors
them as plain structs (``cpp/include/grokprop/spec.hpp``) read attribute by attribute.
:class:`Activation` is an ``IntEnum`` whose values are those of the C++ ``enum class``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validation as check
from ._typing import FloatDType

__all__ = ["FLOAT_DTYPES", "Activation", "SweepSpec", "TrainSpec"]

#: The dtypes a network computes in, by name.
FLOAT_DTYPES: dict[str, FloatDType] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}
_DTYPE_SET = frozenset(FLOAT_DTYPES.values())


class Activation(enum.IntEnum):
    """The hidden layers' activation (the output layer is always linear).

    The integer values are the C++ core's ``grokprop::Activation`` (``_core.Activation``);
    the lower-case names are what the API and the command line accept.
    """

    LINEAR = 0
    RELU = 1
    SIGMOID = 2  # 1 / (1 + exp(-x)), derivative s * (1 - s) from the output s
    TANH = 3  # derivative 1 - t * t from the output t (docs/design.md, "exp, sigmoid, tanh")

    @property
    def label(self) -> str:
        """The name users write: ``"relu"``, ``"linear"``, ``"sigmoid"``, ``"tanh"``."""
        return self.name.lower()

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every accepted name, in definition order (the CLI's choices)."""
        return tuple(member.label for member in cls)

    @classmethod
    def parse(cls, value: Any) -> Activation:
        """An :class:`Activation` from itself or its name (``"relu"``); else a clear error."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            if value in cls.labels():  # the lower-case names only, as documented
                return cls[value.upper()]
            raise ValueError(f"activation must be one of {cls.labels()}, got {value!r}")
        raise TypeError(f"activation must be one of {cls.labels()}, got {value!r}")

    def __str__(self) -> str:
        return self.label


def as_float_dtype(dtype: Any) -> FloatDType:
    """``"float64"`` / ``"float32"`` (or the NumPy types) as a dtype; else a clear error."""
    if isinstance(dtype, np.dtype) and dtype in _DTYPE_SET:
        return dtype
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be 'float64' or 'float32', got {dtype!r}") from exc
    if resolved.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return FLOAT_DTYPES[resolved.name]


@dataclass(frozen=True, slots=True)
class TrainSpec:
    """How one network trains: ``epochs`` passes of mini-batch descent (docs/design.md).

    ``batch_size`` 1 is stochastic descent; ``alpha`` is rounded to ``dtype`` by the
    backends, once. Made by :meth:`create` from a user's arguments, or directly from
    values already of these types; either way the fields are checked here.
    """

    alpha: float
    epochs: int
    batch_size: int
    activation: Activation = Activation.RELU
    dtype: FloatDType = FLOAT_DTYPES["float64"]

    def __post_init__(self) -> None:
        if type(self.activation) is not Activation:
            raise TypeError(f"activation must be an Activation, got {self.activation!r}")
        if self.dtype not in _DTYPE_SET:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        # normalised in place (a frozen dataclass's fields are set once, here): a float and
        # two ints, whatever numbers the caller gave
        object.__setattr__(self, "alpha", check.check_alpha(self.alpha, self.dtype))
        object.__setattr__(self, "epochs", check.check_int(self.epochs, "epochs", minimum=0))
        object.__setattr__(
            self, "batch_size", check.check_int(self.batch_size, "batch_size", minimum=1)
        )

    @classmethod
    def create(
        cls,
        *,
        alpha: Any,
        epochs: Any,
        batch_size: Any,
        rows: int,
        activation: Any = Activation.RELU,
        dtype: Any = "float64",
    ) -> TrainSpec:
        """A spec from user values: ``batch_size=None`` is full batch (``rows``), the
        activation may be given by name, and ``batch_size`` may not exceed ``rows``."""
        spec = cls(
            alpha,
            epochs,
            rows if batch_size is None else batch_size,
            Activation.parse(activation),
            as_float_dtype(dtype),
        )
        if spec.batch_size > rows:
            raise ValueError(
                f"batch_size must be between 1 and the number of rows ({rows}) or None for "
                f"full-batch, got {spec.batch_size}"
            )
        return spec

    def with_epochs(self, epochs: int) -> TrainSpec:
        """The same training, for ``epochs`` epochs (a chunk of a longer one)."""
        return dataclasses.replace(self, epochs=epochs)


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What every network of a sweep shares; the seeds and learning rates vary per network.

    Network ``i`` of a sweep starts from the book initialisation of ``seeds[i]`` and trains
    as ``TrainSpec(alphas[i], epochs, batch_size, activation, dtype)`` (see
    :meth:`train_spec`). ``curves`` / ``weights``: also return every epoch's error / the
    final weights.
    """

    sizes: tuple[int, ...]
    epochs: int
    batch_size: int
    activation: Activation = Activation.RELU
    dtype: FloatDType = FLOAT_DTYPES["float64"]
    curves: bool = False
    weights: bool = False

    def __post_init__(self) -> None:
        if type(self.sizes) is not tuple or check.check_sizes(self.sizes) != self.sizes:
            raise TypeError(f"sizes must be a tuple of layer sizes, got {self.sizes!r}")
        if type(self.activation) is not Activation:
            raise TypeError(f"activation must be an Activation, got {self.activation!r}")
        if self.dtype not in _DTYPE_SET:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        check.check_int(self.epochs, "epochs", minimum=0)
        check.check_int(self.batch_size, "batch_size", minimum=1)
        for name in ("curves", "weights"):
            if type(getattr(self, name)) is not bool:
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def train_spec(self, alpha: float) -> TrainSpec:
        """How one network of this sweep trains, with learning rate ``alpha``."""
        return TrainSpec(float(alpha), self.epochs, self.batch_size, self.activation, self.dtype)
