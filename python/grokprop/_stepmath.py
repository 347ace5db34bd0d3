"""One step of the chapter's math written out term by term, for :mod:`grokprop.explain`
and :mod:`grokprop.check`: they print and compare the intermediate values a backend never
keeps (``layer_0 · weights_0_1`` before the activation, ``layer_2_delta · weights_1_2ᵀ`` before
``relu2deriv``), and the terms of the other sign convention and of the common mistakes.

Every sum runs in increasing index order with products and sums rounded separately
(docs/design.md, "Evaluation order"), so the terms that a backend also computes come out
with the backend's bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .backends.reference import ReferenceBackend
from .specs import Activation

Array = NDArray[np.floating]


def dot(a: Array, W: Array) -> Array:
    """``a · W`` for rows ``a`` of shape ``(m, k)``: ``z[:, j] = sum_k a[:, k] * W[k, j]``."""
    z = np.zeros((a.shape[0], W.shape[1]), dtype=W.dtype)
    for k in range(W.shape[0]):
        z += a[:, k : k + 1] * W[k]
    return z


def dot_t(d: Array, W: Array) -> Array:
    """``d · Wᵀ`` for rows ``d`` of shape ``(m, j)``: ``sum_j d[:, j] * W[:, j]``."""
    z = np.zeros((d.shape[0], W.shape[0]), dtype=W.dtype)
    for j in range(W.shape[1]):
        z += d[:, j : j + 1] * W[:, j]
    return z


_REFERENCE = ReferenceBackend()

DERIVATIVE_NAMES = {
    Activation.RELU: "relu2deriv",
    Activation.SIGMOID: "sigmoid2deriv",
    Activation.TANH: "tanh2deriv",
}
"""The book-style name of each nonlinear activation's derivative, taken from the layer's
output: ``relu2deriv = output > 0``, ``sigmoid2deriv = output * (1 - output)``,
``tanh2deriv = 1 - output * output``."""


def activate(z: Array, activation: Activation) -> Array:
    """The activation of ``z``, computed by the reference backend (the same bits as a
    backend's step; sigmoid and tanh from grokprop's own exp)."""
    return _REFERENCE.activate(z, activation)


def derivative(out: Array, activation: Activation) -> Array:
    """The activation's derivative from the layer's output ``out``, by the reference
    backend (``relu2deriv``, ``sigmoid2deriv`` or ``tanh2deriv``; all ones for linear)."""
    return _REFERENCE.activate_deriv(out, activation)


def weight_delta(a: Array, d: Array) -> Array:
    """``layer_lᵀ · delta``, averaged over the rows: the rows' outer products summed in row
    order, then divided once by the row count."""
    total = np.zeros((a.shape[1], d.shape[1]), dtype=a.dtype)
    for r in range(a.shape[0]):
        total += a[r][:, None] * d[r][None, :]
    if a.shape[0] > 1:
        total /= a.dtype.type(a.shape[0])
    return total


@dataclass(frozen=True)
class Step:
    """Every term of one step, ``layers[l]`` being ``layer_l``."""

    pre: list[Array]
    """``[None-free]`` ``layer_{l-1} · weights_{l-1}_l`` for ``l = 1..L`` (before the activation)."""
    layers: list[Array]
    deltas: list[Array]
    """``[layer_1_delta, ..., layer_L_delta]``."""
    backprop: list[Array]
    """``layer_{l+1}_delta · weights_l_{l+1}ᵀ`` for the hidden layers ``l = 1..L-1``
    (before the activation's derivative)."""
    weight_deltas: list[Array]
    new_weights: list[Array]


def forward(
    weights: Sequence[Array], X: Array, activation: Activation
) -> tuple[list[Array], list[Array]]:
    """The pre-activations and the layers: ``(pre, [layer_0, ..., layer_L])``."""
    layers, pre = [X], []
    for l, W in enumerate(weights):
        z = dot(layers[-1], W)
        pre.append(z)
        layers.append(activate(z, activation) if l < len(weights) - 1 else z)
    return pre, layers


def step(
    weights: Sequence[Array],
    X: Array,
    y: Array,
    alpha: float,
    activation: Activation,
    *,
    sign: int = 1,
) -> Step:
    """One step; ``sign=1`` is the book's convention (``delta = layer_L - goal``, weights
    ``-=``), ``sign=-1`` the other one (``delta = goal - layer_L``, weights ``+=``)."""
    dtype = weights[0].dtype
    pre, layers = forward(weights, X, activation)
    last = layers[-1]
    deltas: list[Array] = [last - y if sign > 0 else y - last]
    backprop: list[Array] = []
    for l in range(len(weights) - 1, 0, -1):
        back = dot_t(deltas[0], weights[l])
        backprop.insert(0, back)
        deltas.insert(0, back * derivative(layers[l], activation))  # linear: times 1
    weight_deltas = [weight_delta(layers[l], deltas[l]) for l in range(len(weights))]
    rate = dtype.type(alpha)
    new_weights = [
        W - rate * G if sign > 0 else W + rate * G for W, G in zip(weights, weight_deltas)
    ]
    return Step(pre, layers, deltas, backprop, weight_deltas, new_weights)


def errors(prediction: Array, y: Array) -> Array:
    """Per row ``sum_j (prediction - y)**2``, summed over the outputs in order."""
    diff = prediction - y
    total = np.zeros(prediction.shape[0], dtype=prediction.dtype)
    for j in range(prediction.shape[1]):
        total += diff[:, j] * diff[:, j]
    return total


def activation_of(activation: Any) -> Activation:
    """``activation`` (an :class:`Activation` or its name) as an :class:`Activation`."""
    return Activation.parse(getattr(activation, "label", activation))
