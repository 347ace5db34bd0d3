"""explain: the book's program-4 numbers, both sign conventions giving the same weights, the
trace's own explanation, the command, and the written-out step math against the backends."""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import grokprop as gp
from grokprop import _stepmath
from grokprop.cli import explain_command
from grokprop.explain import _Fmt, explanation, trace_explanation


@pytest.fixture
def program4() -> tuple[gp.Network, np.ndarray, np.ndarray]:
    X, y = gp.datasets.streetlights("nonlinear")
    return gp.Network([3, 3, 1], seed=1), X[0:1], y[0:1]


def equation(text: str, name: str) -> list[str]:
    """The lines of the equation for ``name``: its first line and its continuations."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    return block


def test_program4_prints_the_books_values(
    program4: tuple[gp.Network, np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    net, X, y = program4
    gp.explain_step(net, X, y, alpha=0.2)
    text = capsys.readouterr().out
    # the book: hidden 0.13177, prediction -0.02130, error 1.04304
    assert equation(text, "layer_1") == [
        "layer_1 = relu(layer_0 · weights_0_1)",
        (
            "= relu([1, 0, 1] · [[-0.16596, 0.44065, -0.99977], [-0.39533, -0.70649, -0.81532], "
            "[-0.62748, -0.30888, -0.20647]])"
        ),
        "= relu([-0.79344, 0.13177, -1.20624])",
        "= [0, 0.13177, 0]",
    ]
    assert equation(text, "layer_2")[-1] == "= [-0.02130]"
    assert equation(text, "error")[-1] == "= 1.04304"
    assert equation(text, "layer_2_delta") == [
        "layer_2_delta = layer_2 - goal",
        "= [-0.02130] - [1]",
        "= [-1.02130]",
    ]
    delta = equation(text, "layer_1_delta")
    assert delta[0] == "layer_1_delta = layer_2_delta · weights_1_2ᵀ * relu2deriv(layer_1)"
    assert delta[-1] == "= [0, 0.16505, 0]"
    assert equation(text, "weight_delta_1_2")[-1] == "= [[0], [-0.13458], [0]]"
    assert equation(text, "weights_1_2")[0] == "weights_1_2 -= alpha * weight_delta_1_2"
    assert "These are the network's new weights, bit for bit: yes" in text


def test_explain_does_not_change_the_network(
    program4: tuple[gp.Network, np.ndarray, np.ndarray],
) -> None:
    net, X, y = program4
    before = [w.copy() for w in net.weights]
    explanation(net, X, y, alpha=0.2, convention="both")
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))


def test_both_conventions_give_the_same_weights(
    program4: tuple[gp.Network, np.ndarray, np.ndarray],
) -> None:
    net, X, y = program4
    text = explanation(net, X, y, alpha=0.2, convention="both")
    assert "Both conventions give the same new weights, bit for bit: yes" in text
    other = text[text.index("The other sign convention") :]
    assert equation(other, "layer_2_delta") == [
        "layer_2_delta = goal - layer_2",
        "= [1] - [-0.02130]",
        "= [1.02130]",
    ]
    assert equation(other, "layer_1_delta")[-1] == "= [0, -0.16505, 0]"
    assert equation(other, "weights_0_1")[0] == "weights_0_1 += alpha * weight_delta_0_1"
    book = text[: text.index("The other sign convention")]
    assert equation(other, "weights_0_1")[-1] == equation(book, "weights_0_1")[-1]
    only_other = explanation(net, X, y, alpha=0.2, convention="other")
    assert "goal - layer_2" in only_other and "layer_2 - goal\n" not in only_other


def test_the_other_convention_is_the_same_bits() -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    for dtype in ("float64", "float32"):
        net = gp.Network([3, 4, 1], seed=3, dtype=dtype)
        weights = [w.copy() for w in net.weights]
        rows, goal = X.astype(dtype), y.astype(dtype)
        book = _stepmath.step(weights, rows, goal, 0.2, True, sign=1)
        other = _stepmath.step(weights, rows, goal, 0.2, True, sign=-1)
        assert all(np.array_equal(a, -b) for a, b in zip(book.deltas, other.deltas))
        assert all(np.array_equal(a, b) for a, b in zip(book.new_weights, other.new_weights))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("sizes", "activation"),
    [
        ([3, 4, 1], "relu"),
        ([3, 5, 4, 2], "relu"),
        ([3, 4, 1], "linear"),
        ([3, 1], "linear"),
        ([3, 4, 1], "sigmoid"),
        ([3, 5, 4, 2], "sigmoid"),
        ([3, 4, 1], "tanh"),
        ([3, 5, 4, 2], "tanh"),
    ],
)
def test_the_written_out_step_is_the_backends_step(
    sizes: list[int], activation: str, dtype: str, backend: str
) -> None:
    X, _ = gp.datasets.streetlights("nonlinear")
    y = np.random.RandomState(0).random_sample((4, sizes[-1]))
    net = gp.Network(sizes, seed=2, activation=activation, dtype=dtype)
    weights = [w.copy() for w in net.weights]
    mine = _stepmath.step(
        weights, X.astype(dtype), y.astype(dtype), 0.2, gp.Activation.parse(activation)
    )
    trace = net.step(X, y, alpha=0.2, backend=backend)
    assert all(np.array_equal(a, b) for a, b in zip(mine.layers, trace.layers))
    assert all(np.array_equal(a, b) for a, b in zip(mine.deltas, trace.deltas))
    assert all(np.array_equal(a, b) for a, b in zip(mine.weight_deltas, trace.weight_deltas))
    assert all(np.array_equal(a, b) for a, b in zip(mine.new_weights, net.weights))
    errors = _stepmath.errors(mine.layers[-1], y.astype(dtype))
    assert np.array_equal(errors, trace.errors)


def test_trace_explain_prints_what_the_trace_holds(
    program4: tuple[gp.Network, np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    net, X, y = program4
    weights = [w.copy() for w in net.weights]
    trace = net.step(X, y, alpha=0.2)
    trace.explain()
    text = capsys.readouterr().out
    assert equation(text, "layer_1") == [
        "layer_1 = relu(layer_0 · weights_0_1)",
        "= [0, 0.13177, 0]",
    ]
    assert equation(text, "error")[-1] == "= 1.04304"
    assert equation(text, "layer_1_delta")[-1] == "= [0, 0.16505, 0]"
    assert "give the weights from before the step and alpha" in text
    full = trace_explanation(trace, weights=weights, alpha=0.2)
    whole = explanation(gp.Network([3, 3, 1], seed=1), X, y, alpha=0.2)
    body = full.splitlines()[1:]  # the titles differ: a trace does not know its network
    assert body == whole.splitlines()[1 : 1 + len(body)]
    assert equation(full, "weights_0_1")[-1] == equation(whole, "weights_0_1")[-1]
    out = io.StringIO()
    trace.explain(weights=weights, alpha=0.2, convention="both", file=out)
    assert "Both conventions give the same new weights, bit for bit: yes" in out.getvalue()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear", "relu"])
def test_a_trace_knows_its_activation(activation: str) -> None:
    """``trace.explain()`` names the network's activation without being told it: the trace
    records it (a sigmoid or tanh trace must not be explained as relu)."""
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 4, 1], seed=1, activation=activation)
    weights = [w.copy() for w in net.weights]
    trace = net.step(X[:1], y[:1], alpha=0.2)
    assert trace.activation is gp.Activation.parse(activation)
    told = trace_explanation(trace, weights=weights, alpha=0.2, activation=activation)
    assert trace_explanation(trace, weights=weights, alpha=0.2) == told
    assert pickle.loads(pickle.dumps(trace)).activation is trace.activation


def test_linear_and_mini_batch_steps() -> None:
    X, y = gp.datasets.streetlights("nonlinear")
    linear = explanation(gp.Network([3, 4, 1], seed=1, activation="linear"), X, y, alpha=0.01)
    assert "relu" not in linear
    assert equation(linear, "layer_1")[0] == "layer_1 = layer_0 · weights_0_1"
    batch = explanation(gp.Network([3, 4, 1], seed=1), X[0:2], y[0:2], alpha=0.2)
    assert (
        equation(batch, "weight_delta_1_2")[0] == "weight_delta_1_2 = layer_1ᵀ · layer_2_delta / 2"
    )
    assert "2 rows" in batch.splitlines()[0]
    assert equation(batch, "layer_0")[0] == "layer_0 = [[1, 0, 1], [0, 1, 1]]"


def test_a_wide_network_is_explained_in_short_lines() -> None:
    X, y = gp.datasets.random_onehot(1, 784, 10)
    text = explanation(gp.Network([784, 128, 10], seed=0, weight_scale=0.01), X, y, alpha=0.01)
    assert max(len(line) for line in text.splitlines()) < 1200
    assert "..." in text


def test_bad_options_are_clear_errors(program4: tuple[gp.Network, np.ndarray, np.ndarray]) -> None:
    net, X, y = program4
    with pytest.raises(ValueError, match="convention must be one of"):
        explanation(net, X, y, alpha=0.2, convention="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits must be an integer from 1 to 17"):
        explanation(net, X, y, alpha=0.2, digits=0)
    trace = net.copy().step(X, y, alpha=0.2)
    with pytest.raises(ValueError, match="weights must have the shapes"):
        trace_explanation(trace, weights=[np.zeros((3, 1))], alpha=0.2)


def test_the_command_prints_program_4() -> None:
    runner = CliRunner()
    done = runner.invoke(explain_command, [])
    assert done.exit_code == 0, done.output
    assert "= [0, 0.13177, 0]" in done.output and "= 1.04304" in done.output
    both = runner.invoke(explain_command, ["--convention", "both", "--digits", "3"])
    assert both.exit_code == 0 and "bit for bit: yes" in both.output
    assert "= [0, 0.132, 0]" in both.output
    batch = runner.invoke(explain_command, ["--row", "0:2", "--sizes", "3,4,1"])
    assert batch.exit_code == 0 and "/ 2" in batch.output
    bad = runner.invoke(explain_command, ["--row", "9"])
    assert bad.exit_code == 1 and "selects no row" in bad.output
    bad = runner.invoke(explain_command, ["--sizes", "3"])
    assert bad.exit_code == 2 and "at least two positive sizes" in bad.output


@pytest.mark.parametrize(
    ("activation", "deriv", "slope"),
    [
        ("sigmoid", "sigmoid2deriv", lambda out: out * (1 - out)),
        ("tanh", "tanh2deriv", lambda out: 1 - out * out),
    ],
)
def test_sigmoid_and_tanh_steps_show_the_network_steps_numbers(
    activation: str, deriv: str, slope: Any
) -> None:
    net = gp.Network([3, 4, 1], seed=1, activation=activation)
    X, y = gp.datasets.streetlights("nonlinear")
    text = explanation(net, X[:1], y[:1], alpha=0.2, digits=17)
    trace = net.copy().step(X[:1], y[:1], alpha=0.2)
    full = _Fmt(17)  # every number printed with 17 digits: the trace's doubles, shown whole
    layer_1 = equation(text, "layer_1")
    assert layer_1[0] == f"layer_1 = {activation}(layer_0 · weights_0_1)"
    assert layer_1[-1] == f"= {full.matrix(trace.layers[1])}"
    # the pre-activation, and the activation's own bits: the backend's layer_1 again
    pre = X[:1] @ net.weights[0]  # 3 terms of 0/1 inputs: exact in any order
    assert layer_1[-2] == f"= {activation}({full.matrix(pre)})"
    assert equation(text, "layer_2")[-1] == f"= {full.matrix(trace.layers[2])}"
    delta = equation(text, "layer_1_delta")
    assert delta[0] == f"layer_1_delta = layer_2_delta · weights_1_2ᵀ * {deriv}(layer_1)"
    factor = slope(np.asarray(trace.layers[1]))  # the book's formula, from the trace
    assert delta[-2].endswith(f" * {full.matrix(factor)}")
    assert delta[-1] == f"= {full.matrix(trace.deltas[0])}"
    stepped = net.copy()
    stepped.step(X[:1], y[:1], alpha=0.2)
    assert equation(text, "weights_0_1")[-1] == f"= {full.matrix(stepped.weights[0])}"
    assert "relu" not in text
    # a trace's explanation, told the activation, is the same step
    told = trace_explanation(trace, activation=activation, digits=17)
    assert f"{activation} hidden layers" in told.splitlines()[0]
    told_delta = equation(told, "layer_1_delta")
    assert told_delta[0] == delta[0] and told_delta[-1] == delta[-1]
    assert told_delta[-2].endswith(f" * {full.matrix(factor)}")
