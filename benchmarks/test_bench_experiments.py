"""E1: the linear-vs-nonlinear experiment at full size (10,000 seeds x 3 kinds of network).

The target: under a second on the cpp backend. Every backend's sweep is warmed up
(numba compiles) before timing; the result is checked before it counts.
"""

from __future__ import annotations

import pytest

from grokprop import experiments
from grokprop.chapter6 import fmt


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_linear_vs_nonlinear_10000_seeds(benchmark, backend: str) -> None:
    benchmark.group = "linear-vs-nonlinear"
    experiments.linear_vs_nonlinear(10, backend=backend)  # warm up
    result = benchmark.pedantic(
        experiments.linear_vs_nonlinear,
        args=(10_000,),
        kwargs={"backend": backend},
        rounds=3,
        iterations=1,
    )
    assert len(result["[3, 4, 1] relu"].result) == 10_000
    # seed 1 with relu is the chapter's program 5
    assert fmt(result["[3, 4, 1] relu"].result.final_errors[1]) == "1.50556226651e-05"
    assert result["[3, 4, 1] linear"].converged_fraction() == 0.0
