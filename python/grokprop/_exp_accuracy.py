"""How far grokprop's exp, sigmoid and tanh are from the exact values, in ULPs (mpmath).

Used by ``tests/test_expmath.py`` (a bound on a small sample) and
``scripts/exp_accuracy.py`` (the figures in README.md and docs/design.md, over 10^6 inputs
per function and dtype). Needs ``mpmath`` (the ``test`` extra), imported when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._typing import FloatArray
from .backends import _expmath

__all__ = ["FUNCTIONS", "sample_inputs", "ulp_errors"]


def _exact(name: str) -> Callable[[Any], Any]:
    import mpmath

    functions: dict[str, Callable[[Any], Any]] = {
        "exp": mpmath.exp,
        "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
        "tanh": mpmath.tanh,
    }
    return functions[name]


#: grokprop's functions by name (the reference's; every backend gives the same bits).
FUNCTIONS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "exp": _expmath.exp,
    "sigmoid": _expmath.sigmoid,
    "tanh": _expmath.tanh,
}

# where each function is neither constant nor overflowing, per dtype: the uniform half of
# a sample is drawn here
_SPANS = {
    ("exp", "float64"): (-746.0, 710.0),
    ("exp", "float32"): (-105.0, 89.0),
    ("sigmoid", "float64"): (-746.0, 40.0),
    ("sigmoid", "float32"): (-105.0, 20.0),
    ("tanh", "float64"): (-20.0, 20.0),
    ("tanh", "float32"): (-10.0, 10.0),
}


def sample_inputs(name: str, dtype: Any, n: int, seed: int = 0) -> FloatArray:
    """``n`` inputs of ``dtype`` for ``name``: half uniform over the interval where it varies,
    half of random sign with a magnitude uniform in its exponent (from the smallest subnormal
    to the interval's end), so tiny, subnormal and huge inputs are all drawn."""
    dt = np.dtype(dtype)
    lo, hi = _SPANS[name, dt.name]
    rng = np.random.default_rng(seed)
    uniform = rng.uniform(lo, hi, n - n // 2)
    smallest = np.log2(float(np.finfo(dt).smallest_subnormal))
    magnitude = 2.0 ** rng.uniform(smallest, np.log2(max(-lo, hi)), n // 2)
    signed = np.where(rng.random(n // 2) < 0.5, -magnitude, magnitude)
    return np.concatenate([uniform, signed]).astype(dt)


def ulp_errors(name: str, x: FloatArray) -> FloatArray:
    """``|f(x) - exact| / ulp`` for each element of ``x`` (float64 ULP counts), where ``ulp``
    is the spacing of ``x``'s dtype at the exact value (the smallest subnormal's below the
    normal range). A result that is inf or 0 counts as 0 ULPs if the exact value rounds to
    it and as inf otherwise."""
    import mpmath

    dt = x.dtype
    bits, min_exponent = (53, -1074) if dt == np.float64 else (24, -149)
    finite_max = float(np.finfo(dt).max)
    exact_of = _exact(name)
    got = FUNCTIONS[name](x)
    errors = np.empty(x.shape[0], dtype=np.float64)
    with mpmath.workprec(bits + 64), np.errstate(over="ignore"):
        for i, (xi, yi) in enumerate(zip(x.tolist(), got.astype(np.float64).tolist())):
            exact = exact_of(mpmath.mpf(xi))
            rounded = float(dt.type(float(exact))) if abs(exact) <= 2 * finite_max else np.inf
            if yi == 0 or np.isinf(yi) or exact == 0:
                errors[i] = 0.0 if yi == rounded else np.inf
                continue
            _, exponent = mpmath.frexp(exact)  # exact = m * 2**exponent, 0.5 <= |m| < 1
            ulp = mpmath.ldexp(1, max(int(exponent) - bits, min_exponent))
            errors[i] = float(abs(mpmath.mpf(yi) - exact) / ulp)
    return errors
