"""grokprop's own ``exp``, and sigmoid and tanh from it (docs/design.md, "exp, sigmoid, tanh").

``np.exp``, numba's (LLVM/libm) ``exp`` and the C++ standard library's are different
implementations that disagree in the last bit, so every backend computes ``exp`` with this
one scheme instead, written three times in the same operation order: vectorised here (the
reference), scalar in :mod:`._numba_jit`, across SIMD lanes in
``cpp/include/grokprop/expmath.hpp``. Only ``+ - * /``, comparisons, selects and integer
bit operations are used; each is one correctly rounded (or exact) IEEE operation, so the
three give the same bits. A network's dtype is the dtype of every operation: float32
evaluates its own (shorter) polynomials in float32.

exp(x), x first clamped to ``[lo, hi]`` (below ``lo`` the result is +0, above ``hi`` it
is +inf; NaN passes through unchanged, since NaN compares false)::

    k  = (x * inv_ln2 + round_magic) - round_magic     # round(x / ln2), ties to even
    r  = (x - k * ln2_hi) - k * ln2_lo                 # Cody-Waite: k * ln2_hi is exact
    q  = c[n] ; q = c[i] + r * q  for i = n-1 .. 1     # minimax c[i] (Remez), Horner
    k1 = (k * 0.5 + round_magic) - round_magic ; k2 = k - k1
    exp = ((1 + r * q) * 2**k1) * 2**k2                # 2**k from its exponent bits

``2**k`` is split in two normal powers of two so that overflow (inf) and subnormal results
come out of the last multiplication, rounded once. ``q`` is kept apart because tanh needs
``exp(x) - 1`` without cancellation near 0: ``(2**k - 1) + 2**k * (r * q)``, exact in
``r * q`` when ``k = 0``. sigmoid and tanh only ever take exp of ``x <= 0``.
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
    exp_poly: tuple[Any, ...]  # c[0] = 1 (added apart), c[1] .. c[n]: q = sum c[i] r**(i-1)
    bias_magic: Any  # 2**mantissa_bits + exponent bias: k + it holds k + bias in its low bits
    exponent_mask: Any  # the biased exponent's bits, before the shift
    mantissa_bits: Any  # the shift that moves them into place
    half: Any
    one: Any
    two: Any
    tanh_lo: Any  # tanh takes expm1 of max(-2|x|, tanh_lo): tanh(-tanh_lo / 2) rounds to 1


def _make(
    dtype: type[np.floating[Any]],
    int_type: type[np.signedinteger[Any]],
    mantissa_bits: int,
    bias: int,
    ln2_hi: str,
    ln2_lo: str,
    bounds: tuple[float, float],
    exp_poly: tuple[str, ...],
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
        exp_poly=(f(1), *(f(float.fromhex(c)) for c in exp_poly)),
        bias_magic=f(2.0**mantissa_bits + bias),
        exponent_mask=int_type(2 * bias + 1),
        mantissa_bits=int_type(mantissa_bits),
        half=f(0.5),
        one=f(1),
        two=f(2),
        tanh_lo=f(-40.0),
    )


#: The constants by dtype. ``exp_poly``: ``q``, the minimax polynomial of ``(exp(r) - 1) / r``
#: for |r| <= ln2/2 (max relative error), from ``scripts/exp_minimax.py``, lowest power
#: first; float64 degree 10 (relative error 2**-55.4 with the rounded coefficients), float32
#: degree 5 (2**-25.4), each coefficient rounded to the dtype.
CONSTANTS: dict[np.dtype[Any], ExpConstants] = {
    np.dtype(np.float64): _make(
        np.float64, np.int64, 52, 1023,
        "0x1.62e42fee00000p-1", "0x1.a39ef35793c76p-33",
        (-746.0, 710.0),
        (
            "0x1.0000000000000p+0", "0x1.0000000000005p-1", "0x1.5555555555530p-3",
            "0x1.555555555211dp-5", "0x1.111111111a24fp-7", "0x1.6c16c17f29cffp-10",
            "0x1.a01a01710638ap-13", "0x1.a019a6b22f956p-16", "0x1.71de8e649bda4p-19",
            "0x1.28a27e48a4619p-22", "0x1.ae6449c0653cbp-26",
        ),
    ),
    np.dtype(np.float32): _make(
        np.float32, np.int32, 23, 127,
        "0x1.62e400p-1", "0x1.7f7d1cf79abcap-20",
        (-105.0, 89.0),
        (
            "0x1.000000p+0", "0x1.fffffep-2", "0x1.55547ep-3",
            "0x1.555652p-5", "0x1.123cd6p-7", "0x1.6c16a6p-10",
        ),
    ),
}  # fmt: skip


def _power_of_two(k: FloatArray, c: ExpConstants) -> FloatArray:
    """``2**k`` for integer-valued ``k`` with ``k + bias`` a normal exponent: its bits."""
    bits = (k + c.bias_magic).view(c.int_type)
    result: FloatArray = ((bits & c.exponent_mask) << c.mantissa_bits).view(c.float_type)
    return result


def _reduce(x: FloatArray, c: ExpConstants) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``k``, ``r`` and ``q`` of ``exp(x) = 2**k * (1 + r * q)`` (module docstring)."""
    x = np.where(x < c.lo, c.lo, x)
    x = np.where(x > c.hi, c.hi, x)
    k = (x * c.inv_ln2 + c.round_magic) - c.round_magic
    r = (x - k * c.ln2_hi) - k * c.ln2_lo
    q = np.full_like(x, c.exp_poly[-1])
    for coefficient in reversed(c.exp_poly[1:-1]):
        q = coefficient + r * q
    return k, r, q


def exp(x: FloatArray) -> FloatArray:
    """``exp`` of every element, in ``x``'s dtype (module docstring: the operations)."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        k, r, q = _reduce(x, c)
        k1 = (k * c.half + c.round_magic) - c.round_magic
        k2 = k - k1
        p = c.one + r * q
        result: FloatArray = (p * _power_of_two(k1, c)) * _power_of_two(k2, c)
    return result


def sigmoid(x: FloatArray) -> FloatArray:
    """``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``, ``e = exp(-|x|)``
    (one division of the selected numerator): ``e`` never overflows, and nothing cancels."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        negative = x < 0
        e = exp(np.where(negative, x, -x))
        result: FloatArray = np.where(negative, e, c.one) / (c.one + e)
    return result


def tanh(x: FloatArray) -> FloatArray:
    """``sign(x) * t``, ``t = -m / (2 + m)`` with ``m = expm1(-2|x|)`` computed as
    ``(s - 1) + s * (r * q)``, ``s = 2**k`` (no cancellation near 0; ``-2|x|`` clamped to
    ``tanh_lo``, so ``s`` is normal and ``|x| = inf`` gives 1); ``+ 0`` makes tanh(±0) +0."""
    c = CONSTANTS[x.dtype]
    with np.errstate(all="ignore"):
        negative = x < 0
        a = np.where(negative, -x, x)
        y = a * -c.two
        y = np.where(y < c.tanh_lo, c.tanh_lo, y)
        k, r, q = _reduce(y, c)
        s = _power_of_two(k, c)
        m = (s - c.one) + s * (r * q)
        t = -m / (c.two + m)
        result: FloatArray = np.where(negative, -t, t) + c.float_type(0)
    return result
