"""What the experiments share: the convergence threshold, seeds, labels and order statistics."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal, Protocol, TypeVar, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _validation as check
from ..specs import Activation

#: A network has converged when its final epoch error is below this.
CONVERGED = 1e-3
#: The final-error quantiles the tables show, and their column names.
QUANTILES = (0.0, 0.05, 0.5, 0.95, 1.0)
QUANTILE_NAMES = ("min", "5%", "median", "95%", "max")
#: Sweeps over seeds start from this seed unless told otherwise.
FIRST_SEED = 0

PathLike = str | os.PathLike[str]
Data = Literal["linear", "nonlinear"]
#: The streetlight problems an experiment can run on (``datasets.streetlights`` kinds).
DATA_KINDS: tuple[Data, ...] = get_args(Data)


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


Row = TypeVar("Row", bound=Labelled)


def one_of(choices: Sequence[str]) -> str:
    """``"'book', 'start' or 'trained'"``: the choices as an error message lists them."""
    quoted = [repr(choice) for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def check_threshold(threshold: Any) -> float:
    """The error below which a network counts as converged: a finite number > 0."""
    return check.check_positive(threshold, "threshold")


def seed_range(n_seeds: int, first_seed: int) -> range:
    """``first_seed .. first_seed + n_seeds - 1``, after checking both."""
    count = check.check_int(n_seeds, "n_seeds", minimum=1)
    first = check.check_int(first_seed, "first_seed", minimum=0)
    if first + count - 1 > check.SEED_MAX:
        raise ValueError(
            f"seeds must be at most 2**32 - 1: n_seeds={count} from first_seed={first} run to "
            f"{first + count - 1}"
        )
    return range(first, first + count)


def network_label(sizes: Sequence[int], activation: Activation) -> str:
    """``"[3, 4, 1] relu"``; the activation plays no role without a hidden layer."""
    kind = activation.label if len(sizes) > 2 else "no hidden layer"
    return f"{list(sizes)} {kind}"


def by_label(rows: Sequence[Row], label: str) -> Row:
    """The row whose ``label`` is ``label``."""
    for row in rows:
        if row.label == label:
            return row
    raise KeyError(f"no row {label!r}; rows are {[row.label for row in rows]}")


def nan_as_inf(errors: ArrayLike) -> NDArray[np.float64]:
    """Final errors with a diverged network's NaN counted as inf (infinitely bad)."""
    values = np.asarray(errors, dtype=np.float64)
    return np.where(np.isnan(values), np.inf, values)


def order_statistics(errors: ArrayLike, quantiles: Sequence[float]) -> NDArray[np.float64]:
    """Quantiles as values of the data (the lower one at a tie, no interpolation), so that a
    diverged network's inf stays inf instead of turning into NaN."""
    return np.quantile(nan_as_inf(errors), quantiles, method="lower")
