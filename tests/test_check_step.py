"""check_step: right terms pass, and each common mistake -- made here the way a learner
makes it, with plain NumPy -- is recognised, with the expected value of the first wrong term."""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.check import MISTAKES


def relu(x: np.ndarray) -> np.ndarray:
    return (x > 0) * x


def relu2deriv(output: np.ndarray) -> np.ndarray:
    return (output > 0).astype(float)


class Learner:
    """The book's program 4, worked with np.dot as the chapter writes it."""

    def __init__(
        self, seed: int = 1, row: int = 0, rows: int = 1, sizes: tuple[int, ...] = (3, 3, 1)
    ) -> None:
        X, y = gp.datasets.streetlights("nonlinear")
        self.net = gp.Network(list(sizes), seed=seed)
        self.X, self.y = X[row : row + rows], y[row : row + rows]
        self.w01, self.w12 = (w.copy() for w in self.net.weights)
        self.layer_0 = self.X.astype(float)
        self.layer_1 = relu(self.layer_0.dot(self.w01))
        self.layer_2 = self.layer_1.dot(self.w12)
        self.layer_2_delta = self.layer_2 - self.y
        self.layer_1_delta = self.layer_2_delta.dot(self.w12.T) * relu2deriv(self.layer_1)
        m = len(self.X)
        self.wd12 = self.layer_1.T.dot(self.layer_2_delta) / m
        self.wd01 = self.layer_0.T.dot(self.layer_1_delta) / m

    def check(self, **terms: object) -> gp.check.StepCheck:
        return gp.check_step(self.net, self.X, self.y, 0.2, **terms)  # type: ignore[arg-type]


ALPHA = 0.2


def test_the_books_numbers_rounded_are_right() -> None:
    learner = Learner()
    before = [w.copy() for w in learner.net.weights]
    result = learner.check(
        layers=[[0, 0.13177, 0], -0.0213],
        error=1.04304,
        deltas=[[0, 0.16505, 0], [-1.0213]],
        weight_deltas=[[[0, 0.16505, 0], [0, 0, 0], [0, 0.16505, 0]], [[0], [-0.13458], [0]]],
    )
    assert result.ok and result.first_wrong is None and result.diagnosis is None
    assert [t.name for t in result.terms] == [
        "layer_1",
        "layer_2",
        "error",
        "layer_2_delta",
        "layer_1_delta",
        "weight_delta_1_2",
        "weight_delta_0_1",
    ]
    assert "7 of 7 terms right" in str(result)
    # the network is not changed, bit for bit
    assert all(np.array_equal(a, b) for a, b in zip(before, learner.net.weights))


def test_new_weights_worked_with_numpy_are_right() -> None:
    learner = Learner()
    new = [learner.w01 - ALPHA * learner.wd01, learner.w12 - ALPHA * learner.wd12]
    result = learner.check(new_weights=new)
    assert result.ok
    assert not learner.check(new_weights={"weights_1_2": learner.w12}).ok  # not updated


def test_the_first_wrong_term_has_the_expected_value() -> None:
    learner = Learner()
    result = learner.check(deltas=[[0.1, 0.2, 0.3], [-1.0213]])
    wrong = result.first_wrong
    assert wrong is not None and wrong.name == "layer_1_delta"
    trace = learner.net.copy().step(learner.X, learner.y, alpha=ALPHA)
    assert np.array_equal(wrong.expected, trace.deltas[0])
    assert result.diagnosis is None  # arbitrary numbers are not a known mistake
    assert "not one of the common mistakes" in str(result)
    assert result["layer_2_delta"].ok


def test_transposed_weight_deltas() -> None:
    learner = Learner()
    # outer(delta, layer) instead of layer.T.dot(delta)
    result = learner.check(weight_deltas=[learner.layer_1_delta.T.dot(learner.layer_0), None])
    assert result.diagnosis == "transposed"
    assert result.first_wrong is not None and result.first_wrong.name == "weight_delta_0_1"
    # a non-square one: (1, 3) where (3, 1) belongs
    result = learner.check(
        weight_deltas={"weight_delta_1_2": learner.layer_2_delta.T.dot(learner.layer_1)}
    )
    assert result.diagnosis == "transposed"
    assert "layer_1ᵀ · layer_2_delta" in str(result)
    # and the new weights of a transposed square weight delta
    result = learner.check(new_weights=[learner.w01 - ALPHA * learner.wd01.T, None])
    assert result.diagnosis == "transposed"


def test_the_wrong_sign() -> None:
    learner = Learner()
    goal_minus = learner.y - learner.layer_2  # the other convention's delta ...
    result = learner.check(deltas=[None, goal_minus])
    assert result.diagnosis == "wrong sign"
    assert "convention='other'" in str(result)
    # ... is right with convention="other"
    assert gp.check_step(
        learner.net,
        learner.X,
        learner.y,
        ALPHA,
        deltas=[-learner.layer_1_delta, goal_minus],
        convention="other",
    ).ok
    # the update in the wrong direction: += with the book's delta
    uphill = [learner.w01 + ALPHA * learner.wd01, learner.w12 + ALPHA * learner.wd12]
    result = learner.check(new_weights=uphill)
    assert result.diagnosis == "wrong sign" and result.mistakes == ("wrong sign",)


def test_the_derivative_taken_before_relu() -> None:
    learner = Learner()
    # relu2deriv applied before going back through weights_1_2, to the wrong layer
    early = (learner.layer_2_delta * relu2deriv(learner.layer_2)).dot(learner.w12.T)
    result = learner.check(deltas=[early, learner.layer_2_delta])
    assert result.diagnosis == "derivative before relu"
    assert result.first_wrong is not None and result.first_wrong.name == "layer_1_delta"
    assert "relu2deriv of layer_1" in str(result)
    # seen downstream too: the weight delta made from that delta
    result = learner.check(weight_deltas=[learner.layer_0.T.dot(early), None])
    assert result.diagnosis == "derivative before relu"


def test_a_missing_alpha() -> None:
    learner = Learner()
    result = learner.check(new_weights=[learner.w01 - learner.wd01, learner.w12 - learner.wd12])
    assert result.diagnosis == "missing alpha"
    assert result.first_wrong is not None and result.first_wrong.name == "weights_1_2"
    assert "weights -= alpha * weight_delta" in str(result)


def test_a_missing_derivative() -> None:
    learner = Learner()
    result = learner.check(deltas=[learner.layer_2_delta.dot(learner.w12.T), None])
    assert result.diagnosis == "derivative missing"


def test_relu_instead_of_its_derivative() -> None:
    # seed 0, row 0: the back-propagated delta is positive at a unit relu switched off
    learner = Learner(seed=0)
    back = learner.layer_2_delta.dot(learner.w12.T)
    assert back[0, 0] > 0 and learner.layer_1[0, 0] == 0
    result = learner.check(deltas=[relu(back), None])
    assert result.diagnosis == "relu instead of derivative"


def test_deltas_from_the_updated_weights() -> None:
    learner = Learner(seed=0)
    w12_new = learner.w12 - ALPHA * learner.wd12  # updated first, then used: too late
    late = learner.layer_2_delta.dot(w12_new.T) * relu2deriv(learner.layer_1)
    result = learner.check(deltas=[late, None])
    assert result.diagnosis == "updated weights"


def test_a_mini_batch_weight_delta_summed_not_averaged() -> None:
    learner = Learner(rows=4, sizes=(3, 4, 1))
    summed = learner.layer_1.T.dot(learner.layer_2_delta)
    assert learner.check(weight_deltas=[None, learner.wd12]).ok
    result = learner.check(weight_deltas=[None, summed])
    assert result.diagnosis == "not averaged"


def test_every_mistake_has_a_test() -> None:
    tested = {
        "transposed",
        "wrong sign",
        "derivative before relu",
        "missing alpha",
        "derivative missing",
        "relu instead of derivative",
        "updated weights",
        "not averaged",
    }
    assert set(MISTAKES) == tested


def test_reports_and_display() -> None:
    learner = Learner()
    result = learner.check(deltas=[None, -learner.layer_2_delta])
    assert repr(result).startswith("StepCheck(ok=False, 0 of 1 terms right")
    assert "WRONG" in result._repr_html_()
    assert str(gp.check_step(learner.net, learner.X, learner.y, ALPHA)).endswith("no term given")


def test_bad_arguments() -> None:
    learner = Learner()
    with pytest.raises(ValueError, match="unknown names"):
        learner.check(deltas={"layer_9_delta": 1.0})
    with pytest.raises(ValueError, match="a list of 2 arrays"):
        learner.check(deltas=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="convention must be"):
        learner.check(convention="sideways")
    with pytest.raises(ValueError, match="rtol must be"):
        learner.check(rtol=-1)
    result = learner.check(weight_deltas=[np.zeros((2, 2)), None])
    assert not result.ok and "expected shape (3, 3), got (2, 2)" in str(result)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def sigmoid2deriv(output: np.ndarray) -> np.ndarray:
    return output * (1 - output)


def tanh2deriv(output: np.ndarray) -> np.ndarray:
    return 1 - output * output


CURVES = {"sigmoid": (sigmoid, sigmoid2deriv), "tanh": (np.tanh, tanh2deriv)}


class CurvedLearner:
    """A [3, 4, 1] sigmoid or tanh step worked with np.dot, np.exp and np.tanh (libm: not
    grokprop's exp, so the hand-worked numbers are close, not equal)."""

    def __init__(self, activation: str, rows: int = 1) -> None:
        act, deriv = CURVES[activation]
        self.deriv, self.act = deriv, act
        X, y = gp.datasets.streetlights("nonlinear")
        self.net = gp.Network([3, 4, 1], seed=1, activation=activation)
        self.X, self.y = X[:rows], y[:rows]
        self.w01, self.w12 = (w.copy() for w in self.net.weights)
        self.layer_0 = self.X.astype(float)
        self.layer_1 = act(self.layer_0.dot(self.w01))
        self.layer_2 = self.layer_1.dot(self.w12)
        self.layer_2_delta = self.layer_2 - self.y
        self.back = self.layer_2_delta.dot(self.w12.T)
        self.layer_1_delta = self.back * deriv(self.layer_1)
        m = len(self.X)
        self.wd12 = self.layer_1.T.dot(self.layer_2_delta) / m
        self.wd01 = self.layer_0.T.dot(self.layer_1_delta) / m

    def check(self, **terms: object) -> gp.check.StepCheck:
        return gp.check_step(self.net, self.X, self.y, ALPHA, **terms)  # type: ignore[arg-type]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_sigmoid_or_tanh_step_worked_right(activation: str) -> None:
    learner = CurvedLearner(activation, rows=2)
    result = learner.check(
        layers=[learner.layer_1, learner.layer_2],
        deltas=[learner.layer_1_delta, learner.layer_2_delta],
        weight_deltas=[learner.wd01, learner.wd12],
        new_weights=[learner.w01 - ALPHA * learner.wd01, learner.w12 - ALPHA * learner.wd12],
    )
    assert result.ok, str(result)
    # relu's step is not sigmoid's or tanh's: its layer_1 is refused
    relu_layer = relu(learner.layer_0.dot(learner.w01))
    assert not learner.check(layers=[relu_layer, None]).ok


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_derivative_mistakes(activation: str) -> None:
    learner = CurvedLearner(activation)
    deriv_name = f"{activation}2deriv"
    # the derivative taken before going back through weights_1_2, of the wrong layer
    early = (learner.layer_2_delta * learner.deriv(learner.layer_2)).dot(learner.w12.T)
    result = learner.check(deltas=[early, None])
    assert result.diagnosis == "derivative before relu", str(result)
    assert f"{deriv_name} of layer_1" in str(result) and "relu" not in str(result.first_wrong.hint)
    assert learner.check(weight_deltas=[learner.layer_0.T.dot(early), None]).diagnosis == (
        "derivative before relu"
    )
    result = learner.check(deltas=[learner.back, None])
    assert result.diagnosis == "derivative missing"
    assert f"{deriv_name} is missing" in str(result)
    result = learner.check(deltas=[learner.act(learner.back), None])
    assert result.diagnosis == "relu instead of derivative"
    assert f"{activation} was applied to the delta" in str(result)
    w12_new = learner.w12 - ALPHA * learner.wd12
    late = learner.layer_2_delta.dot(w12_new.T) * learner.deriv(learner.layer_1)
    assert learner.check(deltas=[late, None]).diagnosis == "updated weights"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_update_mistakes(activation: str) -> None:
    learner = CurvedLearner(activation, rows=4)
    summed = learner.layer_1.T.dot(learner.layer_2_delta)
    assert learner.check(weight_deltas=[None, summed]).diagnosis == "not averaged"
    assert learner.check(weight_deltas=[None, learner.wd12.T]).diagnosis == "transposed"
    uphill = [learner.w01 + ALPHA * learner.wd01, learner.w12 + ALPHA * learner.wd12]
    assert learner.check(new_weights=uphill).diagnosis == "wrong sign"
    no_alpha = [learner.w01 - learner.wd01, learner.w12 - learner.wd12]
    assert learner.check(new_weights=no_alpha).diagnosis == "missing alpha"
