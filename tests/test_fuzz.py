"""Fuzzing: any finite input gives the same outcome on every backend, bit for bit, and no crash.

test_bitwise.py checks moderate values (weights from the book's initialisation, data in
[-1, 1], small alphas). These properties push to the edges: data and explicit weights
drawn from the whole finite range of the dtype -- 1e300, 1e-300, subnormals, -0.0, the
largest finite value -- and alphas from the smallest subnormal to 1e308. Many such
trainings overflow, so the outcome compared is the whole of it: the error history and
weights, or the DivergenceError's epoch and error (with the weights kept from before), or
the ValueError (an alpha a float32 network cannot represent), then what the network
predicts afterwards. numba and cpp must equal the numpy reference (``==``: -0.0 == 0.0,
and NaN matches NaN where a prediction overflows).

The number of examples comes from the hypothesis profile (tests/conftest.py): 500 per
property by default ("ci"); HYPOTHESIS_PROFILE=dev runs 50, =thorough 5000.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st
from strategies import Problem, problems

import grokprop as gp

# the whole finite range: data and explicit weights from the edges of the dtype, alphas
# from the smallest subnormal to 1e308
PROBLEMS = problems(
    width=6,
    data="finite",
    explicit_weights=True,
    alphas=st.one_of(
        st.sampled_from([1e-3, 0.01, 0.1, 0.5, 1.0, 4.0]),
        st.floats(min_value=5e-324, max_value=1e308),
    ),
)


def _fit_outcome(problem: Problem, backend: str) -> tuple[Any, ...]:
    net = problem.network()
    try:
        history = problem.fit(net, backend)
        assert history.backend == backend and history.errors.dtype == net.dtype
        outcome: tuple[Any, ...] = ("trained", history.errors)
    except gp.DivergenceError as exc:
        outcome = ("diverged", exc.epoch, np.float64(exc.error))
    except ValueError as exc:  # an alpha outside the float32 range; the same message anywhere
        outcome = ("rejected", str(exc))
    return (*outcome, net.weights, net.predict(problem.X, backend=backend))


def _same(a: object, b: object) -> bool:
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@given(PROBLEMS)
def test_fit_outcome_is_identical_on_every_backend(
    checked_backends: tuple[str, ...], problem: Problem
) -> None:
    expected = _fit_outcome(problem, "numpy")
    event(f"fit {expected[0]}")
    if expected[0] == "trained":  # a returned history is finite, and so are the weights
        assert np.isfinite(expected[1]).all()
        assert all(np.isfinite(w).all() for w in expected[-2])
    else:  # diverged or rejected: the weights from before the fit, exactly
        assert _same(expected[-2], problem.network().weights)
    for backend in checked_backends:
        got = _fit_outcome(problem, backend)
        assert len(got) == len(expected), (backend, got[0], expected[0])
        for part, (g, e) in enumerate(zip(got, expected)):
            assert _same(g, e), (backend, expected[0], part, g, e)


def _step_outcome(problem: Problem, backend: str) -> tuple[Any, ...]:
    net = problem.network()
    rows = slice(0, problem.batch_size or len(problem.X))
    try:
        trace = net.step(problem.X[rows], problem.y[rows], alpha=problem.alpha, backend=backend)
        parts = [trace.layers, trace.deltas, trace.weight_deltas, trace.errors]
        outcome: tuple[Any, ...] = ("stepped", *parts)
    except gp.DivergenceError as exc:
        outcome = ("diverged", exc.epoch, np.float64(exc.error))
    except ValueError as exc:
        outcome = ("rejected", str(exc))
    return (*outcome, net.weights)


@given(PROBLEMS)
def test_step_outcome_is_identical_on_every_backend(
    checked_backends: tuple[str, ...], problem: Problem
) -> None:
    expected = _step_outcome(problem, "numpy")
    event(f"step {expected[0]}")
    if expected[0] != "stepped":
        assert _same(expected[-1], problem.network().weights)
    for backend in checked_backends:
        got = _step_outcome(problem, backend)
        assert len(got) == len(expected), (backend, got[0], expected[0])
        for part, (g, e) in enumerate(zip(got, expected)):
            assert _same(g, e), (backend, expected[0], part, g, e)
