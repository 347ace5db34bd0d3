"""The one hypothesis strategy for random training problems, shared by the property tests.

``problems(...)`` draws a network shape, dtype, activation, data, learning rate(s), seed(s),
epochs and batch size; its keyword arguments set the ranges (each property test states
what it explores: moderate values for the bitwise checks, the whole finite range for the
fuzzing, several seeds and rates for the sweeps).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import grokprop as gp

Data = Literal["unit", "unit-or-binary", "finite"]
SMALL_RATES = st.sampled_from([0.001, 0.01, 0.03])


def edge_values(dtype: str) -> list[float]:
    """Values at the edges of ``dtype``'s finite range (both signs, -0.0 included)."""
    info = np.finfo(dtype)
    tiny, sub, big = float(info.tiny), float(info.smallest_subnormal), float(info.max)
    values = [0.0, 1.0, 1e-3, tiny, sub, 3 * sub, tiny / 3, big, big / 2, np.sqrt(big) * 2]
    values += [1e300, 1e-300, 1e150] if dtype == "float64" else [1e30, 1e-30, 1e19]
    exact = [float(np.dtype(dtype).type(v)) for v in values]  # representable in the dtype
    return [v for x in exact for v in (x, -x)]


def finite_values(dtype: str) -> st.SearchStrategy[float]:
    """Any finite value of ``dtype``, with the edges and [-1, 1] drawn often."""
    width = 32 if dtype == "float32" else 64
    return st.one_of(
        st.floats(-1, 1, width=width),
        st.sampled_from(edge_values(dtype)),
        st.floats(allow_nan=False, allow_infinity=False, width=width),
    )


@dataclass(frozen=True)
class Problem:
    sizes: list[int]
    dtype: str
    activation: str
    seed: int
    weights: list[np.ndarray] | None
    """Explicit starting weights, or ``None`` for the book initialisation of ``seed``."""
    X: np.ndarray
    y: np.ndarray
    alpha: float
    epochs: int
    batch_size: int | None
    seeds: list[int]
    """A sweep's seeds (``seed`` first)."""
    alphas: list[float]
    """A sweep's learning rates (``alpha`` first)."""

    def network(self) -> gp.Network:
        if self.weights is None:
            return gp.Network(
                self.sizes, seed=self.seed, activation=self.activation, dtype=self.dtype
            )
        return gp.Network(weights=self.weights, activation=self.activation, dtype=self.dtype)

    def fit(self, net: gp.Network, backend: str) -> gp.History:
        """``net.fit`` on this problem's data and settings (raises as fit raises)."""
        return net.fit(
            self.X,
            self.y,
            alpha=self.alpha,
            epochs=self.epochs,
            batch_size=self.batch_size,
            backend=backend,
        )


@st.composite
def problems(
    draw: st.DrawFn,
    *,
    inputs: int = 5,
    hidden_layers: tuple[int, int] = (0, 2),
    width: int = 9,
    outputs: int = 3,
    rows: int = 6,
    epochs: int = 4,
    data: Data = "unit",
    alphas: st.SearchStrategy[float] = SMALL_RATES,
    sweep_size: int = 1,
    explicit_weights: bool = False,
) -> Problem:
    """A random problem; ``sweep_size`` > 1 also draws up to that many seeds and rates."""
    dtype = draw(st.sampled_from(["float64", "float32"]))
    hidden = draw(
        st.lists(st.integers(1, width), min_size=hidden_layers[0], max_size=hidden_layers[1])
    )
    sizes = [draw(st.integers(1, inputs)), *hidden, draw(st.integers(1, outputs))]
    n_rows = draw(st.integers(1, rows))
    if data == "finite":
        values = finite_values(dtype)

        def matrix(shape: tuple[int, int]) -> np.ndarray:
            return draw(hnp.arrays(dtype, shape, elements=values))

        X, y = matrix((n_rows, sizes[0])), matrix((n_rows, sizes[-1]))
    else:
        rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
        if data == "unit-or-binary" and draw(st.booleans()):
            # 0/1 data like the streetlights: exact zeros, signed-zero products
            X, y = rng.randint(0, 2, (n_rows, sizes[0])), rng.randint(0, 2, (n_rows, sizes[-1]))
        else:
            X = rng.uniform(-1, 1, (n_rows, sizes[0]))
            y = rng.uniform(-1, 1, (n_rows, sizes[-1]))
        matrix = None
    weights = None
    if explicit_weights and draw(st.booleans()):
        weights = [matrix(s) for s in itertools.pairwise(sizes)] if matrix else None
    seeds = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=sweep_size))
    rates = draw(st.lists(alphas, min_size=1, max_size=sweep_size))
    return Problem(
        sizes=sizes,
        dtype=dtype,
        activation=draw(st.sampled_from(gp.Activation.labels())),
        seed=seeds[0],
        weights=weights,
        X=X,
        y=y,
        alpha=rates[0],
        epochs=draw(st.integers(0, epochs)),
        batch_size=draw(st.one_of(st.none(), st.integers(1, n_rows))),
        seeds=seeds,
        alphas=rates,
    )
