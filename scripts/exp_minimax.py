"""Derive the coefficients of grokprop's exp polynomial: a minimax (Remez) fit, with mpmath.

    python scripts/exp_minimax.py [--degree64 10] [--degree32 5]

grokprop's exp writes ``exp(r) = 1 + r * q(r)`` on the reduced range ``|r| <= ln2 / 2``
(docs/design.md, "exp, sigmoid, tanh"), and tanh uses ``r * q(r)`` as ``expm1(r)``, so ``q``
approximates ``g(r) = (exp(r) - 1) / r`` with a small *relative* error everywhere, 0
included. This script finds the polynomial ``q`` of the given degree that minimises
``max |q(r) / g(r) - 1|`` on ``[-a, a]`` (Remez exchange at 100 digits, ``a`` slightly above
ln2 / 2 to cover the rounding of the reduction), rounds each coefficient to the dtype
(round to nearest) and prints them highest power first (the Horner order), as the hex
literals of ``cpp/include/grokprop/expmath.hpp`` and ``_expmath.CONSTANTS``, with the fit's
error and the error after rounding. Deterministic: the same output on every run.
"""

from __future__ import annotations

import argparse

import mpmath
import numpy as np

mpmath.mp.dps = 100
# |r| <= ln2/2 (1 + a few ULP) after the Cody-Waite reduction: a little margin
HALF_WIDTH = mpmath.log(2) / 2 * (1 + mpmath.mpf(2) ** -20)


def _g(r: mpmath.mpf) -> mpmath.mpf:
    return mpmath.expm1(r) / r if r != 0 else mpmath.mpf(1)


def _polyval(c: list[mpmath.mpf], r: mpmath.mpf) -> mpmath.mpf:
    """``c[0] + c[1] r + ...`` (lowest power first)."""
    total = mpmath.mpf(0)
    for coefficient in reversed(c):
        total = coefficient + r * total
    return total


def _relative_error(c: list[mpmath.mpf], r: mpmath.mpf) -> mpmath.mpf:
    return _polyval(c, r) / _g(r) - 1


def _extrema(c: list[mpmath.mpf], count: int) -> list[mpmath.mpf]:
    """``count`` points of alternating sign where the error peaks (a fine grid, then golden
    section on each peak)."""
    a = HALF_WIDTH
    grid = [-a + 2 * a * i / 4000 for i in range(4001)]
    values = [_relative_error(c, r) for r in grid]
    peaks: list[mpmath.mpf] = []
    i = 0
    while i < len(grid):
        # one run of equal sign: its largest |error|
        j = i
        best = i
        while j < len(grid) and mpmath.sign(values[j]) == mpmath.sign(values[i]):
            if abs(values[j]) > abs(values[best]):
                best = j
            j += 1
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        sign = mpmath.sign(values[best])
        peak = (
            mpmath.findroot(lambda r: mpmath.diff(lambda s: _relative_error(c, s), r), grid[best])
            if 0 < best < len(grid) - 1
            else grid[best]
        )
        if not lo <= peak <= hi or mpmath.sign(_relative_error(c, peak)) != sign:
            peak = grid[best]
        peaks.append(peak)
        i = j
    if len(peaks) < count:
        raise RuntimeError(f"{len(peaks)} alternations, {count} needed")
    # keep the `count` consecutive peaks with the largest smallest |error|
    starts = range(len(peaks) - count + 1)
    start = max(starts, key=lambda s: min(abs(_relative_error(c, p)) for p in peaks[s : s + count]))
    return peaks[start : start + count]


def remez(degree: int, iterations: int = 12) -> tuple[list[mpmath.mpf], mpmath.mpf]:
    """The minimax ``q`` of ``degree`` (lowest power first) and its max relative error."""
    n = degree + 2
    a = HALF_WIDTH
    points = [a * mpmath.cos(mpmath.pi * (n - 1 - i) / (n - 1)) for i in range(n)]
    c: list[mpmath.mpf] = []
    for _ in range(iterations):
        # q(x_i) - g(x_i) = (-1)^i E g(x_i): degree + 1 coefficients and E
        matrix = mpmath.matrix(n, n)
        rhs = mpmath.matrix(n, 1)
        for i, x in enumerate(points):
            for j in range(degree + 1):
                matrix[i, j] = x**j
            matrix[i, degree + 1] = -((-1) ** i) * _g(x)
            rhs[i] = _g(x)
        solution = mpmath.lu_solve(matrix, rhs)
        c = [solution[j] for j in range(degree + 1)]
        points = _extrema(c, n)
    error = max(abs(_relative_error(c, p)) for p in points)
    return c, error


def _rounded_error(coefficients: list[float], dtype: type[np.floating]) -> float:
    """Max relative error of ``q`` with the rounded coefficients, exactly evaluated."""
    c = [mpmath.mpf(float(dtype(x))) for x in coefficients]
    a = HALF_WIDTH
    return float(max(abs(_relative_error(c, -a + 2 * a * i / 4000)) for i in range(4001)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree64", type=int, default=10, help="degree of q, float64")
    parser.add_argument("--degree32", type=int, default=5, help="degree of q, float32")
    args = parser.parse_args()
    for dtype, degree in ((np.float64, args.degree64), (np.float32, args.degree32)):
        c, error = remez(degree)
        rounded = [dtype(float(x)) for x in c]
        print(f"{dtype.__name__}: q of degree {degree} (exp's polynomial 1 + r q: {degree + 1})")
        print(f"  minimax relative error  {float(error):.3e} (2^{float(mpmath.log(error, 2)):.2f})")
        after = _rounded_error([float(x) for x in rounded], dtype)
        print(f"  after rounding          {after:.3e} (2^{float(mpmath.log(after, 2)):.2f})")
        print("  coefficients, highest power first:")
        for x in reversed(rounded):
            text = float(x).hex() if dtype is np.float64 else _hex32(x)
            print(f"    {text}")


def _hex32(x: np.float32) -> str:
    """A float32's hex literal with 6 hex digits (24 bits), as C++ spells it."""
    mantissa, exponent = float(x).hex()[2:].split("p")
    whole, _, fraction = mantissa.partition(".")
    return f"0x{whole}.{(fraction + '000000')[:6]}p{exponent}"


if __name__ == "__main__":
    main()
