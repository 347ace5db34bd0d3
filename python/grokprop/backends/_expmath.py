"""grokprop's own ``exp``, and sigmoid and tanh from it (docs/design.md, "exp, sigmoid, tanh").

``np.exp``, numba's (LLVM/libm) ``exp`` and the C++ standard library's are different
implementations that disagree in the last bit, so every backend computes ``exp`` with this
one scheme instead, written three times in the same operation order: vectorised here (the
reference), scalar in :mod:`._numba_jit`, across SIMD lanes in
``cpp/include/grokprop/expmath.hpp``. Only ``+ - * /``, comparisons, selects and integer
bit operations are used; each is one correctly rounded (or exact) IEEE operation, so the
three give the same bits. A network's dtype is the dtype of every operation: float32
evaluates its own (shorter) polynomials in float32.

exp(x), x already clamped to ``[lo, hi]`` (below ``lo`` the result is +0, above ``hi`` it
is +inf; NaN passes through unchanged, since NaN compares false)::

    k  = (x * inv_ln2 + round_magic) - round_magic     # round(x / ln2), ties to even
    r  = (x - k * ln2_hi) - k * ln2_lo                 # Cody-Waite: k * ln2_hi is exact
    p  = c[n] ; p = c[i] + r * p  for i = n-1 .. 0     # Taylor 1 / i!, Horner
    k1 = (k * 0.5 + round_magic) - round_magic ; k2 = k - k1
    exp = (p * 2**k1) * 2**k2                          # 2**k from its exponent bits

``2**k`` is split in two normal powers of two so that overflow (inf) and subnormal results
come out of the last multiplication, rounded once. ``sigmoid`` and ``tanh`` only ever call
it on ``x <= 0``, where it cannot overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._typing import FloatArray

__all__ = ["CONSTANTS", "ExpConstants", "exp", "sigmoid", "tanh"]


@dataclass(frozen=True)
class ExpConstants:
    """The constants of one float dtype, each a scalar of that dtype (integers: its
    same-width integer type)."""

    float_type: Any
    int_type: Any
    inv_ln2: Any
    ln2_hi: Any  # ln 2 with its low bits zero: k * ln2_hi is exact for every k used
    ln2_lo: Any  # ln 2 - ln2_hi
    round_magic: Any  # 1.5 * 2**mantissa_bits: adding and subtracting it rounds to an integer
    lo: Any  # exp(lo) rounds to +0: every x < lo is computed as lo
    hi: Any  # exp(hi) overflows to +inf: every x > hi is computed as hi
    exp_poly: tuple[Any, ...]  # 1 / i!, i = 0 .. n
    bias_magic: Any  # 2**mantissa_bits + exponent bias: k + it holds k + bias in its low bits
    exponent_mask: Any  # the biased exponent's bits, before the shift
    mantissa_bits: Any  # the shift that moves them into place
    half: Any
    one: Any
    two: Any
    tanh_small: Any  # |x| below it: tanh from its odd Taylor polynomial
    tanh_poly: tuple[Any, ...]  # tanh's Taylor coefficients of x**3, x**5, ...


def _make(
    dtype: type[np.floating[Any]],
    int_type: type[np.signedinteger[Any]],
    mantissa_bits: int,
    bias: int,
    ln2_hi: str,
    ln2_lo: str,
    bounds: tuple[float, float],
    exp_degree: int,
    tanh_poly: tuple[str, ...],
) -> ExpConstants:
    f = dtype
    return ExpConstants(
        float_type=dtype,
        int_type=int_type,
        inv_ln2=f(1 / math.log(2)),
        ln2_hi=f(float.fromhex(ln2_hi)),
        ln2_lo=f(float.fromhex(ln2_lo)),
        round_magic=f(1.5 * 2.0**mantissa_bits),
        lo=f(bounds[0]),
        hi=f(bounds[1]),
        exp_poly=tuple(f(1 / math.factorial(i)) for i in range(exp_degree + 1)),
        bias_magic=f(2.0**mantissa_bits + bias),
        exponent_mask=int_type(2 * bias + 1),
        mantissa_bits=int_type(mantissa_bits),
        half=f(0.5),
        one=f(1),
        two=f(2),
        tanh_small=f(0.35),
        tanh_poly=tuple(f(float.fromhex(c)) for c in tanh_poly),
    )


# tanh's Taylor coefficients of x**3, x**5, ..., x**25, rounded to float64 (mpmath.taylor;
# tests/test_expmath.py recomputes them). 0.35**27 * |c_27| < 2**-56 * tanh(0.35).
_TANH_POLY_64 = (
    "-0x1.5555555555555p-2", "0x1.1111111111111p-3", "-0x1.ba1ba1ba1ba1cp-5",
    "0x1.664f4882c10fap-6", "-0x1.226e355e6c23dp-7", "0x1.d6d3d0e157de0p-9",
    "-0x1.7da36452b75e3p-10", "0x1.3558248036744p-11", "-0x1.f57d7734d1664p-13",
    "0x1.967e18afcafadp-14", "-0x1.497d8eea25259p-15", "0x1.0b132d39a6050p-16",
)  # fmt: skip

#: The constants by dtype. float64: Taylor degree 13 (|r| <= ln2/2: truncation < 2**-57);
#: float32: degree 7 (< 2**-27), tanh to x**13, both rounded to float32.
CONSTANTS: dict[np.dtype[Any], ExpConstants] = {
    np.dtype(np.float64): _make(
        np.float64, np.int64, 52, 1023,
        "0x1.62e42fee00000p-1", "0x1.a39ef35793c76p-33",
        (-746.0, 710.0), 13, _TANH_POLY_64,
    ),
    np.dtype(np.float32): _make(
        np.float32, np.int32, 23, 127,
        "0x1.62e400p-1", "0x1.7f7d1cf79abcap-20",
        (-105.0, 89.0), 7, _TANH_POLY_64[:6],
    ),
}  # fmt: skip


def _power_of_two(k: FloatArray, c: ExpConstants) -> FloatArray:
    """``2**k`` for integer-valued ``k`` with ``k + bias`` a normal exponent: its bits."""
    bits = (k + c.bias_magic).view(c.int_type)
    result: FloatArray = ((bits & c.exponent_mask) << c.mantissa_bits).view(c.float_type)
    return result


def exp(x: FloatArray) -> FloatArray:
    """``exp`` of every element, in ``x``'s dtype (module docstring: the operations)."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        x = np.where(x < c.lo, c.lo, x)
        x = np.where(x > c.hi, c.hi, x)
        k = (x * c.inv_ln2 + c.round_magic) - c.round_magic
        r = (x - k * c.ln2_hi) - k * c.ln2_lo
        p = np.full_like(x, c.exp_poly[-1])
        for coefficient in reversed(c.exp_poly[:-1]):
            p = coefficient + r * p
        k1 = (k * c.half + c.round_magic) - c.round_magic
        k2 = k - k1
        result: FloatArray = (p * _power_of_two(k1, c)) * _power_of_two(k2, c)
    return result


def sigmoid(x: FloatArray) -> FloatArray:
    """``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``, ``e = exp(-|x|)``:
    ``e`` never overflows, and no branch subtracts, so the error stays a few ULPs."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        negative = x < 0
        e = exp(np.where(negative, x, -x))
        denominator = c.one + e
        result: FloatArray = np.where(negative, e / denominator, c.one / denominator)
    return result


def tanh(x: FloatArray) -> FloatArray:
    """``sign(x) * t(|x|)``: for ``|x| < tanh_small`` the odd Taylor polynomial
    ``a + a * (a² * Q(a²))`` (no cancellation near 0), else ``(1 - e) / (1 + e)`` with
    ``e = exp(-2|x|)``, which never overflows (``|x| = inf`` gives 1)."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        negative = x < 0
        a = np.where(negative, -x, x)
        square = a * a
        q = np.full_like(x, c.tanh_poly[-1])
        for coefficient in reversed(c.tanh_poly[:-1]):
            q = coefficient + square * q
        near_zero = a + a * (square * q)
        e = exp(a * -c.two)
        away = (c.one - e) / (c.one + e)
        t = np.where(a < c.tanh_small, near_zero, away)
        result: FloatArray = np.where(negative, -t, t)
    return result
