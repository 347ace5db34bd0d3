"""What the Numba modules share: the cache switch, the JIT decorators, the activations.

:mod:`.numba_backend` (the kernels and the fused training loops) and :mod:`.numba_sweep`
(the lock-step sweep) both import this module and nothing of each other.

Every function is ``numba.njit(nogil=True)`` -- never ``fastmath`` and never
``parallel``, so LLVM may neither contract ``a * b + c`` into an FMA nor reassociate a
sum (docs/design.md, "Evaluation order").

The on-disk cache is on unless ``GROKPROP_NUMBA_CACHE`` is ``0``/``false``/``no``/``off``
(read once, when this module is imported). Where numba finds no writable directory for
it (a read-only installation, no writable ``NUMBA_CACHE_DIR`` or user cache directory),
the functions are compiled without the cache, and a :class:`RuntimeWarning` says so once
per process: a missing cache costs compile time, never the backend.

The activations are written here, once for every compiled loop: each is a pair of row
functions, :func:`activate_row` and :func:`scale_by_deriv_row`, selected by the integer
value of :class:`grokprop.specs.Activation` (a kernel argument, compared with the
module-level constants below, which numba freezes as compile-time constants).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numba

from ..specs import Activation

__all__ = [
    "CACHE",
    "CACHE_ENV_VAR",
    "LINEAR",
    "RELU",
    "activate_row",
    "cache_enabled",
    "jit",
    "jit_inline",
    "scale_by_deriv_row",
]

CACHE_ENV_VAR = "GROKPROP_NUMBA_CACHE"
_CACHE_OFF = frozenset({"0", "false", "no", "off"})


def cache_enabled(value: str | None) -> bool:
    """Whether a ``GROKPROP_NUMBA_CACHE`` value leaves the on-disk cache on.

    Unset (``None``) and every value except ``0``/``false``/``no``/``off`` (any
    case, surrounding blanks ignored) mean on.
    """
    return value is None or value.strip().lower() not in _CACHE_OFF


#: Whether the on-disk cache was asked for (``GROKPROP_NUMBA_CACHE``, read at import).
CACHE: bool = cache_enabled(os.environ.get(CACHE_ENV_VAR))

# numba raises this (a RuntimeError) when it finds no writable cache directory
_NO_LOCATOR = "no locator available"
_warned = False
_warn_lock = threading.Lock()  # two threads may import the two numba modules at once


def _warn_uncached(exc: RuntimeError) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        f"grokprop's numba kernels are compiled without the on-disk cache, because numba "
        f"found no writable cache directory ({exc}); set NUMBA_CACHE_DIR to a writable "
        f"directory to keep compiled code between runs, or {CACHE_ENV_VAR}=0 to silence this",
        RuntimeWarning,
        stacklevel=3,  # the decorated function's module
    )


def _compiler(**options: Any) -> Callable[[Any], Any]:
    """A decorator: ``numba.njit(nogil=True, **options)``, cached when :data:`CACHE` and
    possible."""

    def decorate(func: Any) -> Any:
        if CACHE:
            try:
                return numba.njit(nogil=True, cache=True, **options)(func)
            except RuntimeError as exc:
                if _NO_LOCATOR not in str(exc):
                    raise
                _warn_uncached(exc)
        return numba.njit(nogil=True, **options)(func)

    return decorate


jit = _compiler()
#: For row functions used inside loops: as calls they cost about half again of a fused
#: loop's run time.
jit_inline = _compiler(inline="always")

LINEAR = int(Activation.LINEAR)
RELU = int(Activation.RELU)


@jit_inline
def activate_row(z, activation, zero):  # type: ignore[no-untyped-def]
    """In place: ``z[j] = activation(z[j])`` (relu: ``z if z > 0 else z - z``, which is +0
    for every finite z and NaN for NaN and -inf, as the reference; docs/design.md, "The
    math")."""
    if activation == RELU:
        for j in range(z.shape[0]):
            if not z[j] > zero:
                z[j] = z[j] - z[j]


@jit_inline
def scale_by_deriv_row(d, a, activation, zero, one):  # type: ignore[no-untyped-def]
    """In place: ``d[k] = d[k] * activation'(a[k])`` from the activation's output ``a``
    (relu: ``1 if a > 0 else 0``); nothing for ``LINEAR``, as the reference multiplies by
    nothing there."""
    if activation == RELU:
        for k in range(d.shape[0]):
            d[k] = d[k] * (one if a[k] > zero else zero)
