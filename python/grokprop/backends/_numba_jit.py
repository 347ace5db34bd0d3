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
module-level constants below, which numba freezes as compile-time constants). sigmoid and
tanh use grokprop's own exp (:mod:`._expmath`, docs/design.md, "exp, sigmoid, tanh"), here
as scalar functions with the reference's operations in the reference's order; numba picks
the float64 or float32 instance by the argument's type (``overload``), each with the
constants of its dtype frozen in.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numba
from numba.extending import overload

from ..specs import Activation
from ._expmath import CONSTANTS, ExpConstants

__all__ = [
    "CACHE",
    "CACHE_ENV_VAR",
    "LINEAR",
    "RELU",
    "SIGMOID",
    "TANH",
    "activate_row",
    "cache_enabled",
    "exp_scalar",
    "jit",
    "jit_inline",
    "scale_by_deriv_row",
    "sigmoid_scalar",
    "tanh_scalar",
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
SIGMOID = int(Activation.SIGMOID)
TANH = int(Activation.TANH)


def _scalar_functions(c: ExpConstants) -> dict[str, Callable[[Any], Any]]:
    """exp, sigmoid and tanh of one scalar of ``c``'s dtype, as ``_expmath`` computes them
    (the same operations in the same order; its docstrings explain them)."""
    lo, hi, inv_ln2, round_magic, half = c.lo, c.hi, c.inv_ln2, c.round_magic, c.half
    ln2_hi, ln2_lo = c.ln2_hi, c.ln2_lo
    q_top, q_rest = c.exp_poly[-1], c.exp_poly[-2:0:-1]
    bias_magic, exponent_mask, mantissa_bits = c.bias_magic, c.exponent_mask, c.mantissa_bits
    float_type, int_type = c.float_type, c.int_type
    zero, one, two, minus_two, tanh_lo = float_type(0), c.one, c.two, -c.two, c.tanh_lo

    @numba.njit
    def power_of_two(k):  # type: ignore[no-untyped-def]
        bits = float_type(k + bias_magic).view(int_type)
        return int_type((bits & exponent_mask) << mantissa_bits).view(float_type)

    @numba.njit  # compiled into the callers, which are cached
    def reduce(x):  # type: ignore[no-untyped-def]
        # comparisons, not min/max: NaN must pass through, as in the reference's np.where
        if x < lo:  # noqa: PLR1730
            x = lo
        if x > hi:  # noqa: PLR1730
            x = hi
        k = (x * inv_ln2 + round_magic) - round_magic
        r = (x - k * ln2_hi) - k * ln2_lo
        q = q_top
        for coefficient in q_rest:
            q = coefficient + r * q
        return k, r, q

    @numba.njit
    def exp(x):  # type: ignore[no-untyped-def]
        k, r, q = reduce(x)
        k1 = (k * half + round_magic) - round_magic
        k2 = k - k1
        p = one + r * q
        return (p * power_of_two(k1)) * power_of_two(k2)

    def sigmoid(x):  # type: ignore[no-untyped-def]
        negative = x < 0
        e = exp(x if negative else -x)
        return (e if negative else one) / (one + e)

    def tanh(x):  # type: ignore[no-untyped-def]
        negative = x < 0
        a = -x if negative else x
        y = a * minus_two
        if y < tanh_lo:  # noqa: PLR1730
            y = tanh_lo
        k, r, q = reduce(y)
        s = power_of_two(k)
        m = (s - one) + s * (r * q)
        t = -m / (two + m)
        return (-t if negative else t) + zero

    def exp_of(x):  # type: ignore[no-untyped-def]  # overload wants a Python function
        return exp(x)

    return {"exp": exp_of, "sigmoid": sigmoid, "tanh": tanh}


_SCALAR = {numba.from_dtype(dtype): _scalar_functions(c) for dtype, c in CONSTANTS.items()}


def exp_scalar(x: float) -> float:
    """grokprop's exp of one float64 or float32 (in numba code only)."""
    raise NotImplementedError("compiled by numba only")


def sigmoid_scalar(x: float) -> float:
    """sigmoid of one float64 or float32 (in numba code only)."""
    raise NotImplementedError("compiled by numba only")


def tanh_scalar(x: float) -> float:
    """tanh of one float64 or float32 (in numba code only)."""
    raise NotImplementedError("compiled by numba only")


def _overload_by_dtype(stub: Callable[[float], float], name: str) -> None:
    """Compile calls of ``stub`` as the ``name`` function of the argument's dtype."""

    def typed(x):  # type: ignore[no-untyped-def]  # numba: the stub's signature, unannotated
        functions = _SCALAR.get(x)
        return None if functions is None else functions[name]

    overload(stub)(typed)  # LLVM inlines it; numba IR inlining trips its SSA check


for _stub, _name in ((exp_scalar, "exp"), (sigmoid_scalar, "sigmoid"), (tanh_scalar, "tanh")):
    _overload_by_dtype(_stub, _name)


@jit_inline
def activate_row(z, activation, zero):  # type: ignore[no-untyped-def]
    """In place: ``z[j] = activation(z[j])`` (relu: ``z if z > 0 else z - z``, which is +0
    for every finite z and NaN for NaN and -inf, as the reference; docs/design.md, "The
    math"; sigmoid and tanh: :mod:`._expmath`)."""
    if activation == RELU:
        for j in range(z.shape[0]):
            if not z[j] > zero:
                z[j] = z[j] - z[j]
    elif activation == SIGMOID:
        for j in range(z.shape[0]):
            z[j] = sigmoid_scalar(z[j])
    elif activation == TANH:
        for j in range(z.shape[0]):
            z[j] = tanh_scalar(z[j])


@jit_inline
def scale_by_deriv_row(d, a, activation, zero, one):  # type: ignore[no-untyped-def]
    """In place: ``d[k] = d[k] * activation'(a[k])`` from the activation's output ``a``
    (relu: ``1 if a > 0 else 0``; sigmoid: ``a * (1 - a)``; tanh: ``1 - a * a``); nothing
    for ``LINEAR``, as the reference multiplies by nothing there."""
    if activation == RELU:
        for k in range(d.shape[0]):
            d[k] = d[k] * (one if a[k] > zero else zero)
    elif activation == SIGMOID:
        for k in range(d.shape[0]):
            d[k] = d[k] * (a[k] * (one - a[k]))
    elif activation == TANH:
        for k in range(d.shape[0]):
            d[k] = d[k] * (one - a[k] * a[k])
