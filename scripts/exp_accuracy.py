"""Measure grokprop's exp, sigmoid and tanh against mpmath: the max error in ULPs.

    python scripts/exp_accuracy.py [--n 1000000]

For each function and dtype, ``n`` inputs (``grokprop._exp_accuracy.sample_inputs``: half
uniform where the function varies, half spread over every exponent down to the subnormals)
plus the edge values; prints the max ULP error, where it occurs and the mean. The figures
in README.md and docs/design.md come from this script (mpmath is slow: about two minutes
for the default 10^6 inputs per function and dtype).
"""

from __future__ import annotations

import argparse

import numpy as np

from grokprop import _exp_accuracy as accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**6, help="inputs per function and dtype")
    parser.add_argument("--seed", type=int, default=0)
    n, seed = parser.parse_args().n, parser.parse_args().seed
    print(f"{'function':8} {'dtype':8} {'inputs':>8} {'max ULP':>8} {'at x':>24} {'mean':>6}")
    for name in accuracy.FUNCTIONS:
        for dtype in ("float64", "float32"):
            finfo = np.finfo(dtype)
            edges = [0.0, -0.0, float(finfo.tiny), float(finfo.smallest_subnormal), 1.0, -1.0]
            edges += [float(finfo.max), -float(finfo.max), np.inf, -np.inf]
            x = np.concatenate(
                [accuracy.sample_inputs(name, dtype, n, seed), np.array(edges, dtype)]
            )
            errors = accuracy.ulp_errors(name, x)
            worst = int(np.argmax(errors))
            print(
                f"{name:8} {dtype:8} {x.size:8d} {errors[worst]:8.3f} {float(x[worst])!r:>24} "
                f"{errors.mean():6.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
