"""gp.sweep: every network equals Network(...).fit(...) bit for bit, on every backend.

The contract: for each network that did not diverge, the final error, the error curve
and the final weights are == to training that network alone with ``Network.fit`` on the
NumPy reference; a network diverges in the sweep exactly when ``fit`` raises.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Problem, problems

import grokprop as gp
from grokprop.backends import BACKEND_NAMES

# each compiled backend, marked so that conftest fails (required) or skips (optional) it
COMPILED = [
    pytest.param(name, marks=pytest.mark.backends(name))
    for name in BACKEND_NAMES
    if name != "numpy"
]
X_NL, Y_NL = gp.datasets.streetlights("nonlinear")


# the large rates make some networks diverge next to ones that do not
SWEEPS = problems(
    data="unit-or-binary", epochs=6, sweep_size=4, alphas=st.sampled_from([0.003, 0.05, 0.3, 4.0])
)


def _fit_alone(
    problem: Problem, seed: int, alpha: float
) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """The reference: this one network trained by ``Network.fit``; ``None`` if it diverges."""
    net = gp.Network(problem.sizes, seed=seed, activation=problem.activation, dtype=problem.dtype)
    try:
        history = net.fit(
            problem.X,
            problem.y,
            alpha=alpha,
            epochs=problem.epochs,
            batch_size=problem.batch_size,
            backend="numpy",
        )
    except gp.DivergenceError:
        return None
    return history.errors, net.weights


def _sweep(problem: Problem, backend: str, **kwargs: object) -> gp.SweepResult:
    return gp.sweep(
        problem.sizes,
        problem.X,
        problem.y,
        seeds=problem.seeds,
        alphas=problem.alphas,
        epochs=problem.epochs,
        activation=problem.activation,
        batch_size=problem.batch_size,
        dtype=problem.dtype,
        backend=backend,
        curves=True,
        weights=True,
        **kwargs,
    )


def _assert_same_result(a: gp.SweepResult, b: gp.SweepResult) -> None:
    """Equal bit for bit; NaN (after a divergence) counts as equal to NaN."""
    assert np.array_equal(a.seeds, b.seeds) and np.array_equal(a.alphas, b.alphas)
    assert np.array_equal(a.diverged, b.diverged)
    assert a.final_errors.dtype == b.final_errors.dtype
    assert np.array_equal(a.final_errors, b.final_errors, equal_nan=True)
    assert a.curves is not None and b.curves is not None
    assert np.array_equal(a.curves, b.curves, equal_nan=True)
    assert a.weights is not None and b.weights is not None
    for wa, wb in zip(a.weights, b.weights):
        assert wa.dtype == wb.dtype
        assert np.array_equal(wa, wb, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(SWEEPS)
def test_reference_sweep_equals_fit_network_by_network(problem: Problem) -> None:
    result = _sweep(problem, "numpy")
    n_alphas = len(problem.alphas)
    assert len(result) == len(problem.seeds) * n_alphas
    assert result.curves is not None and result.weights is not None
    for i in range(len(result)):
        seed, alpha = problem.seeds[i // n_alphas], problem.alphas[i % n_alphas]
        assert result.seeds[i] == seed and result.alphas[i] == alpha  # seeds outer, alphas inner
        alone = _fit_alone(problem, seed, alpha)
        assert result.diverged[i] == (alone is None)
        if alone is None:
            continue
        errors, weights = alone
        assert np.array_equal(result.curves[i], errors)
        if problem.epochs:
            assert result.final_errors[i] == errors[-1]
        else:
            assert np.isnan(result.final_errors[i])
        for stacked, w in zip(result.weights, weights):
            assert stacked.dtype == w.dtype
            assert np.array_equal(stacked[i], w)


@settings(max_examples=60, deadline=None)
@given(SWEEPS, st.integers(1, 3))
def test_compiled_sweeps_equal_the_reference_sweep(
    checked_backends: tuple[str, ...], problem: Problem, threads: int
) -> None:
    expected = _sweep(problem, "numpy")
    for name in checked_backends:
        result = _sweep(problem, name, threads=threads)
        assert result.backend == name
        _assert_same_result(result, expected)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("sizes", "kind", "alpha"),
    [([3, 4, 1], "nonlinear", 0.2), ([3, 1], "linear", 0.1)],
    ids=["first-deep-network", "single-layer"],
)
def test_chapter_networks_sweep_matches_fit(
    backend: str, dtype: str, sizes: list[int], kind: str, alpha: float
) -> None:
    """The chapter's networks (compiled with fixed sizes in C++) over many seeds: several
    lane blocks and a ragged last one."""
    X, y = gp.datasets.streetlights(kind)  # type: ignore[arg-type]
    seeds = list(range(37))
    result = gp.sweep(
        sizes, X, y, seeds=seeds, alphas=alpha, epochs=60, dtype=dtype,
        backend=backend, curves=True, weights=True,
    )  # fmt: skip
    assert result.curves is not None and result.weights is not None
    for i, seed in enumerate(seeds):
        net = gp.Network(sizes, seed=seed, dtype=dtype)
        history = net.fit(X, y, alpha=alpha, epochs=60, backend="numpy")
        assert not result.diverged[i]
        assert result.final_errors[i] == history.errors[-1]
        assert np.array_equal(result.curves[i], history.errors)
        assert all(np.array_equal(s[i], w) for s, w in zip(result.weights, net.weights))
    if dtype == "float64" and kind == "nonlinear":  # seed 1: the book's program 5
        assert f"{result.curves[1][59]:.12g}" == "1.50556226651e-05"


def test_diverged_networks_stop_and_others_go_on(backend: str) -> None:
    seeds, alphas = [0, 1, 2], [0.01, 0.5, 5.0]
    result = gp.sweep(
        [3, 4, 1], X_NL, Y_NL, seeds=seeds, alphas=alphas, epochs=60, activation="linear",
        backend=backend, curves=True, weights=True,
    )  # fmt: skip
    assert result.curves is not None
    assert result.diverged.tolist() == [False, False, True] * 3
    for i in np.flatnonzero(result.diverged):
        curve = result.curves[i]
        stop = int(np.flatnonzero(~np.isfinite(curve))[0])  # the epoch it diverged in
        assert np.isnan(curve[stop + 1 :]).all()
        assert np.array_equal(result.final_errors[i], curve[stop], equal_nan=True)
        with pytest.raises(gp.DivergenceError):
            gp.Network([3, 4, 1], seed=seeds[i // 3], activation="linear").fit(
                X_NL, Y_NL, alpha=alphas[i % 3], epochs=60, backend="numpy"
            )
    assert not result.converged(1e-3)[result.diverged].any()


def test_divergence_in_the_last_epoch_counts(backend: str) -> None:
    """The error becomes inf in the last epoch while the weights stay finite (found by
    hypothesis): the sweep marks the network diverged, and Network.fit raises."""
    X = np.array([[0, 1], [1, 0], [1, 1], [1, 1], [1, 1], [1, 0]])
    y = np.array([[0], [1], [0], [0], [0], [0]])
    args = {"activation": "linear", "dtype": "float32"}
    result = gp.sweep(
        [2, 3, 1], X, y, seeds=134, alphas=4.0, epochs=5, batch_size=None, backend=backend,
        curves=True, weights=True, **args,
    )  # fmt: skip
    assert result.curves is not None and result.weights is not None
    assert np.isfinite(result.curves[0, :4]).all() and np.isinf(result.curves[0, 4])
    assert all(np.isfinite(w).all() for w in result.weights)
    assert result.diverged.tolist() == [True]
    net = gp.Network([2, 3, 1], seed=134, **args)
    with pytest.raises(gp.DivergenceError, match="epoch 4"):
        net.fit(X, y, alpha=4.0, epochs=5, batch_size=None, backend=backend)


@pytest.mark.parametrize("backend_name", COMPILED)
def test_threads_do_not_change_results(backend_name: str) -> None:
    args = {"seeds": range(50), "alphas": [0.1, 0.2, 0.9], "epochs": 30, "curves": True}
    args["weights"] = True
    one = gp.sweep([3, 4, 1], X_NL, Y_NL, backend=backend_name, threads=1, **args)
    two = gp.sweep([3, 4, 1], X_NL, Y_NL, backend=backend_name, threads=2, **args)
    _assert_same_result(one, two)


def test_result_helpers() -> None:
    result = gp.sweep([3, 4, 1], X_NL, Y_NL, seeds=[1, 2], alphas=[0.2, 0.01], epochs=60)
    assert len(result) == 4
    assert result.seeds.tolist() == [1, 1, 2, 2] and result.alphas.tolist() == [0.2, 0.01] * 2
    assert result.curves is None and result.weights is None
    assert result.sizes == (3, 4, 1) and result.activation == "relu" and result.epochs == 60
    assert result.batch_size == 1 and result.dtype == np.float64
    table = result.to_dict()
    assert list(table) == ["seed", "alpha", "final_error", "diverged"]
    assert all(len(column) == 4 for column in table.values())
    assert np.array_equal(result.converged(1e-3), result.final_errors < 1e-3)
    full = gp.sweep([3, 4, 1], X_NL, Y_NL, seeds=1, epochs=2, batch_size=None)
    assert full.batch_size == 4 and full.alphas.tolist() == [0.1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seeds": -1}, ValueError, r"seeds must be integers in \[0, 2\*\*32 - 1\], got -1"),
        ({"seeds": [1, 2**32]}, ValueError, "seeds must be integers in"),
        ({"seeds": [1, 2**70]}, ValueError, "seeds must be integers in"),
        ({"seeds": []}, ValueError, "seeds must hold at least one seed"),
        ({"seeds": [1.0, 2.0]}, TypeError, "seeds must be integers"),
        ({"seeds": [True]}, TypeError, "seeds must be integers"),
        ({"seeds": "12"}, TypeError, "seeds must be an integer or an iterable"),
        ({"seeds": None}, TypeError, "seeds must be an integer or an iterable"),
        ({"seeds": [[1, 2]]}, ValueError, "seeds must be one integer or a 1-D sequence"),
        ({"alphas": 0}, ValueError, r"alphas\[0\]: alpha must be a finite number > 0"),
        ({"alphas": [0.1, float("nan")]}, ValueError, r"alphas\[1\]"),
        ({"alphas": ["0.1"]}, TypeError, r"alphas\[0\]: alpha must be a real number"),
        ({"alphas": []}, ValueError, "alphas must hold at least one"),
        ({"alphas": "0.1"}, TypeError, "alphas must be a real number > 0 or an iterable"),
        ({"alphas": 1e300, "dtype": "float32"}, ValueError, "must stay finite and > 0 as float32"),
        ({"alphas": 1e-300, "dtype": "float32"}, ValueError, "must stay finite and > 0 as float32"),
        ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an integer"),
        ({"batch_size": 5}, ValueError, "batch_size must be between 1 and the number of rows"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"threads": 0}, ValueError, "threads must be an integer >= 1"),
        ({"threads": 1.0}, TypeError, "threads must be an integer"),
        ({"curves": "yes"}, TypeError, "curves must be True or False"),
        ({"weights": 1}, TypeError, "weights must be True or False"),
        ({"activation": "softmax"}, ValueError, "activation must be one of"),
        ({"dtype": "float16"}, ValueError, "dtype must be 'float64' or 'float32'"),
        ({"sizes": [3, 0, 1]}, ValueError, r"sizes\[1\] must be an integer >= 1"),
        ({"sizes": [2, 4, 1]}, ValueError, "X must have 2 columns"),
        ({"y": Y_NL[:3]}, ValueError, "same number of rows"),
        ({"X": np.full((4, 3), np.nan)}, ValueError, "X must be finite"),
        ({"backend": "gpu"}, ValueError, "unknown backend 'gpu'"),
    ],
)
def test_sweep_rejects_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"sizes": [3, 4, 1], "X": X_NL, "y": Y_NL, "seeds": [0, 1], "epochs": 2, **kwargs}
    with pytest.raises(error, match=match):
        gp.sweep(args.pop("sizes"), args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seeds": range(10), "epochs": 10**9, "curves": True}, "curves of 10 networks"),
        ({"seeds": range(10), "epochs": 10**16, "curves": True}, "epochs=10000000000000000"),
        ({"seeds": range(10), "epochs": 2**63}, "epochs=9223372036854775808"),
        ({"sizes": [3, 10**9, 1], "seeds": range(4)}, r"networks of sizes \[3, 1000000000, 1\]"),
        ({"sizes": [3, 10**6, 1], "seeds": range(10**5), "weights": True}, "final weights"),
    ],
)
def test_sweep_refuses_what_cannot_fit_in_memory_up_front(
    backend: str, kwargs: dict, match: str
) -> None:
    args = {"sizes": [3, 4, 1], "X": X_NL, "y": Y_NL, "epochs": 2, **kwargs}
    with pytest.raises(MemoryError, match=match):
        gp.sweep(args.pop("sizes"), args.pop("X"), args.pop("y"), backend=backend, **args)


def test_sweep_takes_any_thread_count_as_a_hint(backend: str) -> None:
    args = {"seeds": [1, 2, 3], "alphas": [0.2, 0.1], "epochs": 5, "backend": backend}
    one = gp.sweep([3, 4, 1], X_NL, Y_NL, threads=1, curves=True, **args)
    huge = gp.sweep([3, 4, 1], X_NL, Y_NL, threads=2**63, curves=True, **args)
    assert np.array_equal(one.curves, huge.curves)


def test_sweep_takes_uint64_and_duplicate_seeds() -> None:
    seeds = np.array([5, 5, 2**32 - 1], dtype=np.uint64)
    result = gp.sweep([3, 4, 1], X_NL, Y_NL, seeds=seeds, epochs=3, weights=True)
    assert result.weights is not None
    assert np.array_equal(result.weights[0][0], result.weights[0][1])
    assert result.seeds.tolist() == [5, 5, 2**32 - 1]


def test_seed_forms() -> None:
    """An int, a range, a list and a uint array of the same seeds give one result."""
    results = [
        gp.sweep([3, 4, 1], X_NL, Y_NL, seeds=s, epochs=5, backend="numpy").final_errors
        for s in ([7], 7, range(7, 8), np.array([7], dtype=np.uint32))
    ]
    assert all(np.array_equal(r, results[0]) for r in results)
    top = gp.sweep([3, 4, 1], X_NL, Y_NL, seeds=[0, 2**32 - 1], epochs=0, weights=True)
    assert top.seeds.tolist() == [0, 2**32 - 1]
    assert top.weights is not None
    assert np.array_equal(top.weights[0][1], gp.Network([3, 4, 1], seed=2**32 - 1).weights[0])


MT_SEEDS = [0, 1, 2, 3, 42, 12345, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]


@pytest.mark.parametrize("count", [0, 1, 2, 16, 113, 114, 500, 700])
@pytest.mark.parametrize("implementation", COMPILED)
def test_mt19937_equals_numpy_random_state(implementation: str, count: int) -> None:
    """The compiled book initialisations draw RandomState(seed).random_sample() bit for
    bit, on the fast path (count <= 113: the first twist only) and the whole generator
    (more numbers, several twists for count > 312)."""
    if implementation == "cpp":
        from grokprop._core import book_uniforms
    else:
        from grokprop.backends.numba_sweep import book_uniforms

    seeds = np.array([*MT_SEEDS, *np.random.RandomState(0).randint(0, 2**32, 27)], np.uint32)
    got = book_uniforms(seeds, count)
    assert got.shape == (len(seeds), count)
    for row, seed in zip(got, seeds):
        assert np.array_equal(row, np.random.RandomState(int(seed)).random_sample(count))
