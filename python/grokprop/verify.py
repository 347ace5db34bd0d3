"""Verify that every backend trains bit for bit like the NumPy reference (docs/design.md,
"Evaluation order")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ._typing import FloatArray
from .backends import REFERENCE, Backend, backend_info, backend_status, known_backends, resolve
from .backends._protocol import diverged
from .backends.reference import BookBackend
from .network import Network
from .specs import TrainSpec

__all__ = ["BackendComparison", "VerifyReport", "ulp_distance", "verify"]

_UINT = {4: np.uint32, 8: np.uint64}
_INT = {4: np.int32, 8: np.int64}


def ulp_distance(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Elementwise count of representable floats between ``a`` and ``b`` (same dtype).

    ``+0`` and ``-0`` are 0 apart; two NaNs are 0 apart; a NaN and a number are
    reported as the largest distance of the dtype.
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.dtype != y.dtype or x.dtype.kind != "f" or x.dtype.itemsize not in _INT:
        raise TypeError("ulp_distance needs two float32 or two float64 arrays")
    signed, unsigned = _INT[x.dtype.itemsize], _UINT[x.dtype.itemsize]
    lowest = np.iinfo(signed).min

    def ordered(v: np.ndarray) -> np.ndarray:
        bits = v.view(signed)
        # sign-magnitude floats to a monotone integer line; -0.0 and +0.0 both map to 0
        return np.where(bits < 0, lowest - bits, bits)

    ox, oy = ordered(x), ordered(y)
    # compare signed, subtract unsigned: the true distance fits, wrap-around cancels
    ux, uy = ox.view(unsigned), oy.view(unsigned)
    distance = np.where(ox >= oy, ux - uy, uy - ux)
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    distance = np.where(nan_x & nan_y, 0, distance)
    return np.where(nan_x ^ nan_y, np.iinfo(unsigned).max, distance).astype(unsigned)


@dataclass(frozen=True)
class BackendComparison:
    """One backend's training compared with the reference's."""

    backend: str
    required: bool
    """``True`` for backends under the bitwise contract; ``False`` for the BLAS flavour
    (and any registered backend that is not ``bitwise``)."""
    bitwise: bool
    max_abs: float
    max_ulp: int
    errors: FloatArray = field(repr=False)
    weights: list[FloatArray] = field(repr=False)


@dataclass(frozen=True)
class VerifyReport:
    """Per-backend comparison with the reference; ``ok`` iff every required one is bitwise."""

    sizes: tuple[int, ...]
    dtype: str
    alpha: float
    epochs: int
    batch_size: int
    comparisons: tuple[BackendComparison, ...]
    unavailable: dict[str, str]
    diverged_in_epoch: int | None = None
    """The epoch in which the reference's training diverged (its first non-finite error,
    or its last epoch if only the weights became non-finite), else ``None``."""

    @property
    def ok(self) -> bool:
        """Every backend under the contract gave the reference's bits."""
        return all(c.bitwise for c in self.comparisons if c.required)

    @property
    def diverged(self) -> bool:
        """The training compared diverged: the agreement holds, but it is no healthy result."""
        return self.diverged_in_epoch is not None

    def __getitem__(self, backend: str) -> BackendComparison:
        for comparison in self.comparisons:
            if comparison.backend == backend:
                return comparison
        raise KeyError(f"no comparison for backend {backend!r}; have {self.backends}")

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(c.backend for c in self.comparisons)

    def summary(self) -> str:
        """One line: each backend vs the reference, bitwise yes/no."""
        parts = [
            f"{c.backend} {'yes' if c.bitwise else 'NO'}"
            for c in self.comparisons
            if c.required and c.backend != REFERENCE
        ]
        parts += [f"{name} unavailable" for name in self.unavailable]
        verdict = "OK" if self.ok else "MISMATCH"
        line = f"verify vs numpy reference, bitwise: {', '.join(parts)} -> {verdict}"
        if self.diverged:
            line += (
                f"; WARNING: the training diverged in epoch {self.diverged_in_epoch} (compared "
                "up to there, NaN equal to NaN; a smaller alpha or weight_scale gives a "
                "training worth comparing)"
            )
        return line

    def table(self) -> str:
        """A fixed-width table of every comparison, one row per backend."""
        head = (
            f"sizes {list(self.sizes)}  dtype {self.dtype}  alpha {self.alpha:g}  "
            f"epochs {self.epochs}  batch_size {self.batch_size}"
        )
        rows = [f"{'backend':<12}{'bitwise':>9}{'max abs diff':>15}{'max ULP':>12}  note"]
        for c in self.comparisons:
            note = (
                "reference"
                if c.backend == REFERENCE
                else "must be bitwise"
                if c.required
                else "BLAS flavour, drift allowed"
            )
            rows.append(
                f"{c.backend:<12}{'yes' if c.bitwise else 'NO':>9}{c.max_abs:>15.3g}"
                f"{c.max_ulp:>12d}  {note}"
            )
        rows += [
            f"{name:<12}{'-':>9}{'-':>15}{'-':>12}  {why}" for name, why in self.unavailable.items()
        ]
        return "\n".join([head, *rows, self.summary()])

    # display: the logic lives in grokprop._display
    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        from . import _display

        return _display.verify_repr(self)

    def _repr_html_(self) -> str:
        from . import _display

        return _display.verify_html(self)


def _compare(
    name: str,
    required: bool,
    result: tuple[FloatArray, list[FloatArray]],
    reference: tuple[FloatArray, list[FloatArray]],
) -> BackendComparison:
    (errors, weights), (ref_errors, ref_weights) = result, reference
    pairs = [(errors, ref_errors), *zip(weights, ref_weights)]
    same_shape = all(a.shape == b.shape for a, b in pairs)
    bitwise = same_shape and all(np.array_equal(a, b, equal_nan=True) for a, b in pairs)
    if same_shape:
        with np.errstate(invalid="ignore"):
            max_abs = max(float(np.nanmax(np.abs(a - b), initial=0.0)) for a, b in pairs)
        max_ulp = max(int(ulp_distance(a, b).max(initial=0)) for a, b in pairs)
    else:  # a backend stopped at a different epoch (divergence): nothing to line up
        max_abs, max_ulp = float("inf"), int(np.iinfo(np.uint64).max)
    return BackendComparison(name, required, bitwise, max_abs, max_ulp, errors, weights)


def _train_copy(
    net: Network,
    engine: Backend,
    rows: FloatArray,
    targets: FloatArray,
    spec: TrainSpec,
    progress: bool | None,
) -> tuple[FloatArray, list[FloatArray]]:
    """Train a copy of ``net`` on ``engine``: its epoch errors and final weights.

    With a progress bar (``progress``: as for :meth:`Network.fit`) the epochs run in chunks,
    which gives the same bits as one call (grokprop._progress).
    """
    clone = net.copy()
    errors = clone._train_shown(engine, rows, targets, spec, progress, desc=f"verify {engine.name}")
    return errors, list(clone.weights)


def verify(
    net: Network,
    X: ArrayLike,
    y: ArrayLike,
    *,
    alpha: float,
    epochs: int,
    batch_size: int | None = 1,
    backends: Sequence[str] | None = None,
    include_blas: bool = True,
    progress: bool | None = None,
) -> VerifyReport:
    """Train identical copies of ``net`` on every backend and compare with the reference.

    ``net`` itself is not changed. ``backends`` defaults to every available one; an
    explicitly named backend that is unavailable raises. With ``include_blas`` the
    book-style ``np.dot`` flavour (``numpy-blas``) is also reported, as drift only.
    ``progress``: a progress bar per backend (tqdm, on stderr): ``True``, ``False``, or
    ``None`` for one only on a terminal for a training expected to take over a second.

    A training that diverges is compared all the same (up to the epoch it stopped in, NaN
    equal to NaN); the report says so (:attr:`VerifyReport.diverged`).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a grokprop.Network, got {type(net).__name__}")
    if isinstance(backends, str) or not (backends is None or isinstance(backends, Sequence)):
        raise TypeError(f"backends must be a list of backend names or None, got {backends!r}")
    if backends is not None and not backends:
        raise ValueError(f"backends must name at least one of {known_backends()}, got []")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None (auto), got {progress!r}")
    rows, targets, spec = net._fit_args(X, y, alpha, epochs, batch_size)
    status = backend_status()
    if backends is None:
        chosen = [name for name in known_backends() if status[name] is None]
        unavailable = {name: why for name, why in status.items() if why is not None}
    else:
        chosen, unavailable = [resolve(name).name for name in backends], {}
    net = net.copy()  # one consistent start, even if another thread trains the original

    def train(engine: Backend) -> tuple[FloatArray, list[FloatArray]]:
        return _train_copy(net, engine, rows, targets, spec, progress)

    reference = train(resolve(REFERENCE))
    comparisons = [_compare(REFERENCE, True, reference, reference)]
    comparisons += [
        _compare(name, backend_info(name).bitwise, train(resolve(name)), reference)
        for name in chosen
        if name != REFERENCE
    ]
    if include_blas:
        blas = BookBackend()
        comparisons.append(_compare(blas.name, False, train(blas), reference))
    ref_errors, ref_weights = reference
    finite = np.isfinite(ref_errors)
    if not finite.all():
        diverged_in: int | None = int(np.argmin(finite))
    elif diverged(ref_errors, ref_weights):  # the weights overflowed, the errors did not
        diverged_in = len(ref_errors) - 1
    else:
        diverged_in = None
    return VerifyReport(
        net.sizes,
        net.dtype.name,
        spec.alpha,
        spec.epochs,
        spec.batch_size,
        tuple(comparisons),
        unavailable,
        diverged_in,
    )
