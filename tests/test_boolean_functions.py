"""grokprop.experiments.boolean_functions against what can be derived without training.

* The two-layer network (width 0) is linear: it can reach an error below the threshold only
  where the least-squares fit of the truth table (numpy.linalg.lstsq, an independent
  computation) leaves less than that; the 8 affine functions (constants, a light, its
  negation) leave 0. Every other function — linearly separable or not — is never learned.
* One relu unit computes ``v * relu(w . x)``, above 1/2 on a half-space: it can only learn
  a linearly separable function.
* A relu network whose hidden units are all off for every row at the book initialisation
  gets no gradient at all (relu' is 0 everywhere), so it never changes: it predicts 0 and
  its final error is exactly the number of rows that are on. The fraction of such seeds is
  computed here from numpy.random.RandomState, and no function but the constant 0 is ever
  learned by more seeds than the others.
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.experiments import boolean_functions, linearly_separable
from grokprop.grid import Grid, sweep_grid

pytest.importorskip("pyarrow", reason="grids need pyarrow (the test extra has it)")

SEEDS = 60
FUNCTIONS = range(256)


@pytest.fixture(scope="module")
def study() -> gp.experiments.BooleanFunctionsResult:
    return boolean_functions(SEEDS, max_width=4)


def least_squares_error(function: int) -> float:
    X, y = gp.datasets.truth_table(function, 3)
    _, residual, _, _ = np.linalg.lstsq(X.astype(float), y.astype(float), rcond=None)
    return float(residual[0]) if residual.size else 0.0


def all_dead_at_init(seed: int, width: int) -> bool:
    """Every hidden unit's input is <= 0 on every row, summed in the contract's order."""
    X, _ = gp.datasets.truth_table(0, 3)
    W0 = 2 * np.random.RandomState(seed).random_sample((4, width)) - 1
    z = np.zeros((len(X), width))
    for k in range(4):  # sequential over the inputs, as every backend sums
        z = z + X[:, k : k + 1] * W0[k]
    return bool((z <= 0).all())


def test_the_three_input_threshold_functions_are_104() -> None:
    # a known count (the perceptron's functions of three inputs), checking the brute force
    assert sum(linearly_separable(f) for f in FUNCTIONS) == 104
    assert not linearly_separable(0b01101001)  # parity
    assert linearly_separable(0b10000000)  # and


def test_the_linear_network_learns_exactly_the_affine_functions(study) -> None:
    residuals = np.array([least_squares_error(f) for f in FUNCTIONS])
    width0 = study.learned[:, study.widths.index(0)]
    affine = residuals < 1e-20
    assert affine.sum() == 8
    assert (width0[affine] > 0).all()
    assert (width0[residuals > study.threshold] == 0).all()
    # the affine ones are separable; most separable ones are not affine, and never learned
    assert all(linearly_separable(f) for f in np.flatnonzero(affine))


def test_one_relu_unit_learns_only_separable_functions(study) -> None:
    # [4, 1, 1] computes v * relu(w . x): where it exceeds 1/2 is a half-space (or nothing),
    # so an error below the threshold (every row within 0.032 of its 0/1 target) separates
    learned = study.learned[:, study.widths.index(1)] > 0
    assert learned.any()
    assert all(linearly_separable(f) for f in np.flatnonzero(learned))


def test_networks_dead_at_init_never_change(study) -> None:
    functions = [0b01101001, 105, 23, 254, 1]
    widths = [1, 2, 3]
    grid = Grid.product(
        datasets=[{"function": f, "inputs": 3} for f in functions],
        hidden=widths,
        alphas=0.2,
        epochs=60,
        seeds=range(SEEDS),
    )
    table = sweep_grid(grid).to_arrow()
    seeds = table.column("seed").to_numpy()
    errors = table.column("final_error").to_numpy()
    cells = table.column("cell").to_numpy()
    dead_seen = 0
    for index, cell in enumerate(grid.cells):
        width = cell.hidden[0]
        ones = float(cell.y.sum())
        for seed, error in zip(seeds[cells == index], errors[cells == index]):
            if all_dead_at_init(int(seed), width):
                dead_seen += 1
                assert error == ones  # prediction 0 on every row, every epoch
    assert dead_seen > 0  # the check did check something
    # in the study: no function other than the constant 0 is learned from a dead start
    for k, width in enumerate(study.widths):
        if width == 0:
            continue
        dead = np.mean([all_dead_at_init(s, width) for s in study.seeds])
        assert (study.learned[1:, k] <= 1 - dead + 1e-12).all()


def test_the_table_and_the_heat_map(study, tmp_path) -> None:
    text = study.table()
    assert text.count("\n") > 256
    assert f"{256 * len(study.widths) * SEEDS} networks" in text
    written = study.plot(tmp_path / "heat")
    assert written.suffix == ".png" and written.stat().st_size > 1000


def test_bad_options_name_themselves() -> None:
    for kwargs, match in (
        ({"max_width": -1}, "max_width"),
        ({"alpha": 0.0}, "alpha"),
        ({"epochs": -1}, "epochs"),
        ({"threshold": 0.0}, "threshold"),
    ):
        with pytest.raises(ValueError, match=match):
            boolean_functions(2, **kwargs)
