"""Every exception and result type of grokprop survives pickle (and copy.deepcopy).

Scaling out sends networks, results and exceptions between processes: a type that does
not round-trip breaks a process pool (an exception that cannot be rebuilt in the parent
ends in ``BrokenProcessPool`` or a hang). Objects are made through the public API and
compared field by field, arrays bit for bit.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest

import grokprop as gp
from grokprop import experiments

X, Y = gp.datasets.streetlights("nonlinear")
BACKEND = "numpy"  # the reference: the point here is transport, not speed


def same(a: Any, b: Any, where: str = "") -> None:
    """``a`` and ``b`` are equal: same types, arrays of the same dtype, shape and bytes."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, gp.Network):
        assert (a.sizes, a.activation, a.dtype) == (b.sizes, b.activation, b.dtype), where
        same(a.weights, b.weights, f"{where}.weights")
    elif isinstance(a, BaseException):
        assert a.args == b.args and str(a) == str(b), where
        same(vars(a), vars(b), f"{where}.__dict__")
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, (where, a, b)


def round_trip(obj: Any) -> Any:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        same(obj, pickle.loads(pickle.dumps(obj, protocol)), f"protocol {protocol}")
    same(obj, copy.deepcopy(obj), "deepcopy")
    same(obj, copy.copy(obj), "copy")
    return pickle.loads(pickle.dumps(obj))


def diverging_fit() -> gp.DivergenceError:
    net = gp.Network([3, 4, 1], seed=1)
    with pytest.raises(gp.DivergenceError) as info:
        net.fit(X, Y, alpha=1e300, epochs=5, backend=BACKEND)
    return info.value


def test_a_divergence_error_round_trips_with_its_epoch_and_error() -> None:
    exc = diverging_fit()
    back = round_trip(exc)
    same((back.epoch, back.error), (exc.epoch, exc.error))
    assert isinstance(back, FloatingPointError)


def test_a_divergence_error_made_directly_round_trips_with_notes() -> None:
    exc = gp.DivergenceError(3, float("nan"))
    exc.add_note("while training seed 7")
    back = round_trip(exc)
    assert back.epoch == 3 and math.isnan(back.error)
    assert back.__notes__ == ["while training seed 7"]


def test_a_backend_unavailable_error_round_trips() -> None:
    exc = gp.BackendUnavailableError("the 'numba' backend is unavailable: numba is not installed")
    back = round_trip(exc)
    assert isinstance(back, ImportError) and str(back) == str(exc)


def test_a_network_round_trips_bit_for_bit_and_trains_on_identically() -> None:
    for net in [
        gp.Network([3, 4, 1], seed=3),
        gp.Network([3, 5, 2, 1], seed=4, activation="linear", dtype="float32"),
        gp.Network(weights=[0.5, 0.48, -0.7]),
    ]:
        back = round_trip(net)
        assert back is not net
        assert all(w.flags.c_contiguous and w.flags.writeable for w in back.weights)
        same(
            net.copy().fit(X, Y, alpha=0.05, epochs=4, backend=BACKEND),
            back.fit(X, Y, alpha=0.05, epochs=4, backend=BACKEND),
        )
        same(net.copy().fit(X, Y, alpha=0.05, epochs=4, backend=BACKEND).errors.dtype, net.dtype)


def test_a_copy_of_a_network_is_independent() -> None:
    net = gp.Network([3, 4, 1], seed=3)
    before = [w.copy() for w in net.weights]
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        clone.fit(X, Y, alpha=0.05, epochs=3, backend=BACKEND)
    same(list(net.weights), before)


def test_history_and_step_trace_round_trip() -> None:
    net = gp.Network([3, 4, 1], seed=3)
    round_trip(net.fit(X, Y, alpha=0.05, epochs=3, backend=BACKEND))
    round_trip(net.step(X[:2], Y[:2], alpha=0.05, backend=BACKEND))


def test_specs_round_trip() -> None:
    round_trip(gp.Activation.RELU)
    round_trip(gp.TrainSpec(alpha=0.1, epochs=3, batch_size=1))


def test_a_sweep_result_round_trips() -> None:
    result = gp.sweep(
        [3, 4, 1],
        X,
        Y,
        seeds=[1, 2],
        alphas=[0.1, 1e300],
        epochs=3,
        backend=BACKEND,
        curves=True,
        weights=True,
    )
    assert result.diverged.any()  # NaN in the curves must survive too
    round_trip(result)


def test_a_verify_report_and_its_comparisons_round_trip() -> None:
    report = gp.verify(
        gp.Network([3, 4, 1], seed=3), X, Y, alpha=0.05, epochs=3, backends=[BACKEND]
    )
    assert report.comparisons
    back = round_trip(report)
    assert back.ok == report.ok and back.table() == report.table()


@pytest.mark.parametrize(
    "run",
    [
        lambda: experiments.pressure(),
        lambda: experiments.linear_vs_nonlinear(5, epochs=5, backend=BACKEND),
        lambda: experiments.overfit(5, epochs=5, backend=BACKEND),
        lambda: experiments.modes(n_seeds=3, epochs=5, backend=BACKEND),
    ],
    ids=["pressure", "linear_vs_nonlinear", "overfit", "modes"],
)
def test_every_experiment_result_round_trips(run: Callable[[], Any]) -> None:
    result = run()
    back = round_trip(result)
    assert back.table() == result.table()


def test_the_rows_inside_experiment_results_round_trip() -> None:
    """ConvergenceRow, OverfitRow and ModeRun, each on its own."""
    rows = [
        *experiments.linear_vs_nonlinear(5, epochs=5, backend=BACKEND).rows,
        *experiments.overfit(5, epochs=5, backend=BACKEND).rows,
        *experiments.modes(n_seeds=3, epochs=5, backend=BACKEND).runs,
    ]
    kinds = {type(row).__name__ for row in rows}
    assert kinds == {"ConvergenceRow", "OverfitRow", "ModeRun"}
    for row in rows:
        round_trip(row)


def test_the_boolean_study_grids_step_checks_and_setups_round_trip() -> None:
    """The result types beyond the experiments' tables: each comes back with the same
    report (table, summary, JSON) it had."""
    study = experiments.boolean_functions(3, max_width=2, epochs=3, backend=BACKEND)
    back = round_trip(study)
    assert back.table() == study.table() and np.array_equal(back.learned, study.learned)
    grid = gp.Grid.product(datasets=["xor", "and"], hidden=[0, 4], epochs=3, seeds=range(5))
    run = gp.sweep_grid(grid, backend=BACKEND)
    assert round_trip(run).table() == run.table()
    assert repr(round_trip(grid)) == repr(grid)
    X, y = gp.datasets.streetlights("nonlinear")
    check = gp.check_step(gp.Network([3, 3, 1], seed=1), X[:1], y[:1], 0.2, deltas=[None, [-1]])
    assert str(round_trip(check)) == str(check)
    setup = gp.Setup(data="truth", function="xor", inputs=3, hidden=6)
    assert round_trip(setup).to_json() == setup.to_json()


def test_a_divergence_in_a_worker_process_reaches_the_parent_intact() -> None:
    net = gp.Network([3, 4, 1], seed=1)
    expected = diverging_fit()  # the same fit, here
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(net.fit, X, Y, alpha=1e300, epochs=5, backend=BACKEND)
        with pytest.raises(gp.DivergenceError) as info:
            future.result(timeout=120)
        # the pool still works after the worker raised
        prediction = pool.submit(net.predict, X, backend=BACKEND).result(timeout=120)
    exc = info.value
    same((exc.epoch, exc.error, str(exc)), (expected.epoch, expected.error, str(expected)))
    same(prediction, net.predict(X, backend=BACKEND))
