"""The chapter's experiments: the numbers they report, checked against the book and theory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from click.testing import CliRunner

import grokprop as gp
from grokprop import experiments
from grokprop.backends import resolve
from grokprop.chapter6 import BOOK_WEIGHTS, fmt
from grokprop.cli import main
from grokprop.specs import Activation

X6, Y6 = gp.datasets.streetlights("linear")
X4, Y4 = gp.datasets.streetlights("nonlinear")


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# -- pressure ------------------------------------------------------------------------------------

# The chapter's "up and down pressure" table for the six streetlights (+ up, - down, 0 none).
BOOK_PRESSURE = [
    [-1, 0, -1],
    [0, 1, 1],
    [0, 0, -1],
    [1, 1, 1],
    [0, 1, 1],
    [-1, 0, -1],
]


def test_the_book_pressure_table() -> None:
    result = experiments.pressure()
    assert result.pressure.tolist() == BOOK_PRESSURE
    assert result.net.tolist() == [-1, 3, 0]  # the middle weight wins, the right one balances
    # the trained weights are the chapter's program 2
    net = gp.Network(weights=BOOK_WEIGHTS)
    net.fit(X6, Y6, alpha=0.1, epochs=40)
    assert np.array_equal(result.trained, net.weights[0][:, 0])
    assert result.trained.round(4).tolist() == [0.0139, 1.0138, -0.016]  # the book's program 2


def test_pressure_at_the_starting_weights() -> None:
    # [0.5, 0.48, -0.7] predicts below every goal (e.g. -0.2 for goal 0 on row 0), so every
    # example pushes every weight of a lit input up
    result = experiments.pressure(at="start")
    assert (result.predictions < Y6[:, 0]).all()
    assert result.pressure.tolist() == X6.tolist()
    assert fmt(result.predictions[0]) == "-0.2"  # the book's program 1: its first prediction


def test_pressure_on_the_nonlinear_streetlights_cancels_out() -> None:
    # no input correlates with the goal: every weight is pushed up as often as down
    result = experiments.pressure("nonlinear")
    assert result.net.tolist() == [0, 0, 0]
    assert np.abs(result.pressure).sum() == 8  # yet the examples do push


def test_pressure_after_training_matches_the_remaining_error() -> None:
    result = experiments.pressure(at="trained", epochs=40)
    net = gp.Network(weights=result.trained)
    delta = net.predict(X6)[:, 0] - Y6[:, 0]
    assert np.array_equal(result.deltas, delta)
    assert result.pressure.tolist() == np.sign(-(X6 * delta[:, None])).astype(int).tolist()


def test_pressure_table_text() -> None:
    text = experiments.pressure().table()
    lines = text.splitlines()
    assert "evaluated at: a prediction of 0.5 for every example (the chapter's table)" in lines
    row0 = next(line for line in lines if line.startswith("0 "))
    assert row0.split() == ["0", "1", "0", "1", "0", "0.5", "0.5", "-", "0", "-"]
    net_line = next(line for line in lines if line.startswith("net pressure"))
    assert net_line.split()[-3:] == ["-1", "+3", "0"]
    trained = next(line for line in lines if line.startswith("trained"))
    assert trained.split()[-3:] == ["0.01389", "1.014", "-0.01599"]


def test_pressure_rejects_a_bad_choice() -> None:
    with pytest.raises(ValueError, match="at must be 'book', 'start' or 'trained'"):
        experiments.pressure(at="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind must be 'linear' or 'nonlinear'"):
        experiments.pressure("circular")  # type: ignore[arg-type]


# -- linear vs nonlinear ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lvn() -> experiments.LinearVsNonlinearResult:
    return experiments.linear_vs_nonlinear(300)


def test_linear_vs_nonlinear_rows_are_the_networks_trained_alone(
    lvn: experiments.LinearVsNonlinearResult,
) -> None:
    assert [row.label for row in lvn.rows] == [
        "[3, 4, 1] relu",
        "[3, 4, 1] linear",
        "[3, 1] no hidden layer",
    ]
    for row, (sizes, activation) in zip(
        lvn.rows, [([3, 4, 1], "relu"), ([3, 4, 1], "linear"), ([3, 1], "linear")]
    ):
        assert len(row.result) == 300
        for seed in (0, 1, 299):
            history = gp.Network(sizes, seed=seed, activation=activation).fit(
                X4, Y4, alpha=0.2, epochs=60
            )
            assert row.result.final_errors[seed] == history.final_error
    # seed 1 with relu is the chapter's program 5
    assert fmt(lvn["[3, 4, 1] relu"].result.final_errors[1]) == "1.50556226651e-05"


def test_without_relu_the_deep_network_is_no_better_than_least_squares(
    lvn: experiments.LinearVsNonlinearResult,
) -> None:
    # a linear [3, 4, 1] computes X @ W0 @ W1: one linear map, so with its final weights its
    # error can never be below the least-squares error of a linear map from inputs to goals
    _, residual, _, _ = np.linalg.lstsq(X4.astype(float), Y4.astype(float), rcond=None)
    floor = float(residual[0])
    assert floor > 0.9  # the nonlinear streetlights have no good linear fit
    for sizes in ([3, 4, 1], [3, 1]):
        swept = gp.sweep(
            sizes,
            X4,
            Y4,
            seeds=range(300),
            alphas=0.2,
            epochs=60,
            activation="linear",
            weights=True,
        )
        assert swept.weights is not None
        final = experiments.held_out_errors(swept.weights, X4, Y4, activation="linear")
        assert (final >= floor * (1 - 1e-9)).all(), sizes
    for label in ("[3, 4, 1] linear", "[3, 1] no hidden layer"):
        assert lvn[label].converged_fraction() == 0.0
    relu = lvn["[3, 4, 1] relu"]
    assert relu.converged_fraction() > 0.2
    assert relu.converged_fraction() == np.mean(relu.result.final_errors < 1e-3)


def test_linear_vs_nonlinear_table(lvn: experiments.LinearVsNonlinearResult) -> None:
    lines = lvn.table().splitlines()
    assert lines[0].startswith("Linear vs nonlinear: the nonlinear streetlights, 300 seeds")
    relu = next(line for line in lines if line.startswith("[3, 4, 1] relu"))
    cells = relu.split()
    assert cells[4] == f"{100 * lvn['[3, 4, 1] relu'].converged_fraction():.2f}%"
    errors = np.sort(lvn["[3, 4, 1] relu"].result.final_errors)
    order_statistics = [errors[0], errors[14], errors[149], errors[284], errors[299]]
    assert cells[6:] == [f"{q:.3g}" for q in order_statistics]
    assert "900 networks trained in" in lines[-1]


def test_linear_vs_nonlinear_with_sigmoid_and_tanh_rows() -> None:
    result = experiments.linear_vs_nonlinear(20, activations=("tanh", gp.Activation.SIGMOID))
    assert [row.label for row in result.rows] == [
        "[3, 4, 1] tanh",
        "[3, 4, 1] sigmoid",
        "[3, 4, 1] linear",
        "[3, 1] no hidden layer",
    ]
    for label, activation in (("[3, 4, 1] tanh", "tanh"), ("[3, 4, 1] sigmoid", "sigmoid")):
        for seed in (0, 19):
            history = gp.Network([3, 4, 1], seed=seed, activation=activation).fit(
                X4, Y4, alpha=0.2, epochs=60, backend="numpy"
            )
            assert result[label].result.final_errors[seed] == history.final_error
    for bad in ((), ("relu", "linear"), ("tanh", "tanh")):
        with pytest.raises(ValueError, match="activations must be distinct names"):
            experiments.linear_vs_nonlinear(3, activations=bad)
    with pytest.raises(ValueError, match="activation must be one of"):
        experiments.linear_vs_nonlinear(3, activations=("softmax",))


def test_cli_linear_vs_nonlinear_activations() -> None:
    out = run_cli("linear-vs-nonlinear", "--seeds", "10", "--activations", "relu, sigmoid,tanh")
    expected = experiments.linear_vs_nonlinear(10, activations=("relu", "sigmoid", "tanh"))
    assert out.splitlines()[:-1] == expected.table().splitlines()[:-1]


def test_linear_vs_nonlinear_counts_diverged_networks() -> None:
    result = experiments.linear_vs_nonlinear(20, alpha=0.7)  # too large for the linear nets
    linear = result["[3, 4, 1] linear"]
    assert linear.result.diverged.any()
    assert np.isinf(linear.quantiles()[-1])  # a diverged network counts as infinitely bad
    row = next(line for line in result.table().splitlines() if line.startswith("[3, 4, 1] linear"))
    assert row.split()[5] == str(int(linear.result.diverged.sum()))


# -- overfitting -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overfit_result() -> experiments.OverfitResult:
    return experiments.overfit(200)


def test_held_out_errors_equal_predicting_network_by_network(
    overfit_result: experiments.OverfitResult,
) -> None:
    reference = resolve("numpy")
    # the activation by enum or by name
    for row, activation in zip(overfit_result.rows, (Activation.LINEAR, "relu")):
        assert row.result.weights is not None
        for i in (0, 7, 199):
            net = gp.Network(weights=[w[i] for w in row.result.weights])
            per_row = reference.example_errors(net.predict(X6[2:], backend="numpy"), Y6[2:] * 1.0)
            total = 0.0
            for e in per_row:
                total += e
            assert row.held_out[i] == total
        recomputed = experiments.held_out_errors(row.result.weights, X6[2:], Y6[2:], activation)
        assert np.array_equal(recomputed, row.held_out)


def test_two_streetlights_are_memorized_without_learning_the_rule(
    overfit_result: experiments.OverfitResult,
) -> None:
    linear = overfit_result["[3, 1] no hidden layer"]
    assert linear.memorized_fraction() == 1.0
    assert linear.generalized_fraction() < 0.2
    # memorizing [1,0,1] -> 0 and [0,1,1] -> 1 only asks w0 + w2 = 0 and w1 + w2 = 1
    assert linear.result.weights is not None
    w = linear.result.weights[0][:, :, 0]
    assert np.abs(w[:, 0] + w[:, 2]).max() < 0.05
    assert np.abs(w[:, 1] + w[:, 2] - 1).max() < 0.05
    assert np.abs(w[:, 2]).max() > 0.1  # ... which many weights satisfy besides (0, 1, 0)
    assert np.median(linear.held_out) > 0.1
    deep = overfit_result["[3, 4, 1] relu"]
    assert deep.generalized_fraction() <= deep.memorized_fraction()


def test_overfit_table(overfit_result: experiments.OverfitResult) -> None:
    lines = overfit_result.table().splitlines()
    assert (
        lines[0] == "Overfitting: trained on the first 2 streetlights only, scored on the other 4."
    )
    row = next(line for line in lines if line.startswith("[3, 1] no hidden layer"))
    cells = row.split()
    assert cells[5:7] == ["100.00%", f"{100 * overfit_result.rows[0].generalized_fraction():.2f}%"]


def test_overfit_rejects_bad_train_rows() -> None:
    with pytest.raises(ValueError, match="train_rows must be between 1 and 5"):
        experiments.overfit(3, train_rows=6)
    with pytest.raises(TypeError, match="train_rows must be an integer"):
        experiments.overfit(3, train_rows=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_seeds must be an integer >= 1"):
        experiments.overfit(0)


# -- gradient descent modes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def modes_result() -> experiments.ModesResult:
    return experiments.modes(n_seeds=20, epochs=300)


def test_modes_book_start_is_the_chapter_network(modes_result: experiments.ModesResult) -> None:
    stochastic = modes_result.runs[0]
    # the chapter's program 2: its stochastic epoch errors
    assert [fmt(e) for e in stochastic.errors[:3]] == [
        "2.6561231104",
        "0.962870177672",
        "0.550916586684",
    ]
    assert [fmt(e) for e in stochastic.errors[38:40]] == ["0.000614343567483", "0.000533736773285"]
    for run, batch_size in zip(modes_result.runs, (1, 2, 3, 6)):
        assert run.batch_size == batch_size
        history = gp.Network(weights=BOOK_WEIGHTS).fit(
            X6, Y6, alpha=0.1, epochs=300, batch_size=batch_size
        )
        assert np.array_equal(run.errors, history.errors)
        below = np.flatnonzero(history.errors < 1e-3)
        assert run.epochs_to_converge() == below[0] + 1
    assert modes_result[6] is modes_result.runs[-1]
    with pytest.raises(KeyError, match="no run of batch size 4"):
        modes_result[4]
    assert [run.label for run in modes_result.runs] == [
        "stochastic",
        "mini-batch",
        "mini-batch",
        "full",
    ]


def test_modes_over_seeds(modes_result: experiments.ModesResult) -> None:
    full = modes_result.runs[-1]
    assert full.seeds.batch_size == 6 and full.seeds.curves is not None
    for i in (0, 19):
        history = gp.Network([3, 1], seed=i, activation="linear").fit(
            X6, Y6, alpha=0.1, epochs=300, batch_size=None
        )
        assert np.array_equal(full.seeds.curves[i], history.errors)
        below = np.flatnonzero(history.errors < 1e-3)
        assert full.seed_epochs_to_converge()[i] == (below[0] + 1 if below.size else 0)
    # larger batches make fewer updates per epoch, so they need more epochs
    firsts = [run.epochs_to_converge() for run in modes_result.runs]
    assert firsts == sorted(firsts) and firsts[0] < firsts[-1]


def test_modes_table(modes_result: experiments.ModesResult) -> None:
    lines = modes_result.table().splitlines()
    stochastic = next(line for line in lines if line.startswith("stochastic"))
    cells = stochastic.split()
    epochs = modes_result.runs[0].epochs_to_converge()
    assert cells[1:5] == ["1", "6", str(epochs), str(6 * epochs)]


def test_modes_on_the_nonlinear_streetlights() -> None:
    result = experiments.modes("nonlinear", batch_sizes=(1, None), n_seeds=3, epochs=60)
    assert result.network == "[3, 4, 1] relu" and result.alpha == 0.2
    # the stochastic run from seed 1 is the chapter's program 5
    assert fmt(result.runs[0].errors[59]) == "1.50556226651e-05"
    assert result.runs[1].batch_size == 4


# -- the command line -----------------------------------------------------------------------------


def test_cli_pressure() -> None:
    out = run_cli("pressure")
    assert "evaluated at: a prediction of 0.5 for every example (the chapter's table)" in out
    assert experiments.pressure().table() in out
    out = run_cli("pressure", "--data", "nonlinear", "--at", "start")
    assert "nonlinear streetlights" in out and "the starting weights [0.5, 0.48, -0.7]" in out


def test_cli_linear_vs_nonlinear(backend: str) -> None:
    out = run_cli("linear-vs-nonlinear", "--seeds", "30", "--backend", backend)
    assert "30 seeds (seeds 0..29), alpha 0.2, 60 epochs" in out
    assert "90 networks trained in" in out and f"on the {backend} backend" in out
    expected = experiments.linear_vs_nonlinear(30, backend=backend).table().splitlines()
    assert out.splitlines()[:-1] == expected[:-1]  # all but the timing line


def test_cli_overfit_and_modes() -> None:
    out = run_cli("overfit", "--seeds", "40", "--epochs", "50")
    assert out.strip() == experiments.overfit(40, epochs=50).table()
    out = run_cli("modes", "--seeds", "10", "--epochs", "200", "--batch-sizes", "1, full")
    assert out.strip() == experiments.modes(batch_sizes=(1, None), n_seeds=10, epochs=200).table()


def test_cli_rejects_bad_options() -> None:
    result = CliRunner().invoke(main, ["modes", "--batch-sizes", "1,x"])
    assert result.exit_code != 0 and "expected a positive integer or 'full'" in result.output
    result = CliRunner().invoke(main, ["linear-vs-nonlinear", "--seeds", "0"])
    assert result.exit_code != 0 and "--seeds" in result.output
    result = CliRunner().invoke(main, ["modes", "--batch-sizes", "9"])
    assert result.exit_code == 1 and "batch_size must be between 1 and" in result.output


def test_modes_without_epochs_is_a_table_of_nothing_reached() -> None:
    result = experiments.modes(batch_sizes=(1, None), n_seeds=2, epochs=0)
    assert [run.epochs_to_converge() for run in result.runs] == [0, 0]
    assert result.runs[0].seed_epochs_to_converge().tolist() == [0, 0]
    rows = [line.split() for line in result.table().splitlines()[-2:]]
    assert rows == [
        ["stochastic", "1", "6", "never", "-", "-", "0.00%", "-"],
        ["full", "6", "1", "never", "-", "-", "0.00%", "-"],
    ]
    out = run_cli("modes", "--epochs", "0", "--seeds", "2", "--batch-sizes", "1,full")
    assert out.strip() == result.table()


def test_sweeps_without_epochs_have_no_final_error_rather_than_an_infinite_one() -> None:
    lvn = experiments.linear_vs_nonlinear(3, epochs=0)
    row = next(line for line in lvn.table().splitlines() if line.startswith("[3, 4, 1] relu"))
    assert row.split()[4:] == ["0.00%", "0", "-", "-", "-", "-", "-"]
    result = experiments.overfit(3, epochs=0)
    row = next(line for line in result.table().splitlines() if line.startswith("[3, 1] no"))
    # on the unseen rows: the error of the starting weights (5% of three seeds: the lowest)
    start = [
        ((gp.Network([3, 1], seed=seed).predict(X6[2:]) - Y6[2:]) ** 2).sum() for seed in range(3)
    ]
    assert row.split()[5:9] == ["0.00%", "0.00%", "-", f"{min(start):.3g}"]


def test_overfit_with_a_diverging_alpha_warns_nothing() -> None:
    # the test run turns warnings into errors: an overflow warning would fail here
    result = experiments.overfit(3, alpha=1e300)
    for row in result.rows:
        assert row.result.diverged.all() and np.isinf(row.held_out).all()
    assert result.rows[0].memorized_fraction() == 0.0
    with np.errstate(all="raise"):  # nor does the caller's error state change anything
        again = experiments.overfit(3, alpha=1e300)
    assert np.array_equal(again.rows[1].held_out, result.rows[1].held_out)
    out = subprocess.run(
        [sys.executable, "-m", "grokprop", "overfit", "--seeds", "3", "--alpha", "1e300"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stderr == "" and "Overfitting: trained on the first 2" in out.stdout


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any training fail loudly: the checks below must come before the first one."""

    def trained(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a network trained before the arguments were checked")

    for name in ("linear_vs_nonlinear", "overfit", "modes"):
        monkeypatch.setattr(sys.modules[f"grokprop.experiments.{name}"], "sweep", trained)
    monkeypatch.setattr(gp.Network, "fit", trained)


@pytest.mark.usefixtures("no_training")
@pytest.mark.parametrize(
    ("run", "error", "message"),
    [
        (lambda: experiments.modes(batch_sizes=[]), ValueError, "batch_sizes must hold at least"),
        (lambda: experiments.modes(batch_sizes="12"), TypeError, "batch_sizes must be a sequence"),
        (lambda: experiments.modes(batch_sizes=(1, 9)), ValueError, "batch_size must be between"),
        (
            lambda: experiments.modes(batch_sizes=(1, 0)),
            ValueError,
            "batch_size must be an integer",
        ),
        (lambda: experiments.modes(threshold="x"), TypeError, "threshold must be a real number"),
        (lambda: experiments.modes(threshold=None), TypeError, "threshold must be a real number"),
        (lambda: experiments.modes(threshold=0.0), ValueError, "threshold must be a finite number"),
        (lambda: experiments.modes(alpha=-1.0), ValueError, "alpha must be a finite number > 0"),
        (lambda: experiments.modes(epochs=-1), ValueError, "epochs must be an integer >= 0"),
        (lambda: experiments.modes(n_seeds=0), ValueError, "n_seeds must be an integer >= 1"),
        (
            lambda: experiments.linear_vs_nonlinear(threshold=None),
            TypeError,
            "threshold must be a real number",
        ),
        (
            lambda: experiments.linear_vs_nonlinear(hidden=0),
            ValueError,
            "hidden must be an integer",
        ),
        (lambda: experiments.linear_vs_nonlinear(alpha=0), ValueError, "alpha must be a finite"),
        (
            lambda: experiments.linear_vs_nonlinear(epochs=1.5),
            TypeError,
            "epochs must be an integer",
        ),
        (lambda: experiments.overfit(threshold="x"), TypeError, "threshold must be a real number"),
        (lambda: experiments.overfit(threshold=np.nan), ValueError, "threshold must be a finite"),
        (lambda: experiments.overfit(alpha=np.inf), ValueError, "alpha must be a finite number"),
        (lambda: experiments.overfit(first_seed=-1), ValueError, "first_seed must be an integer"),
    ],
)
def test_experiment_arguments_are_checked_before_anything_trains(
    run: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        run()
