"""Check a step worked by hand: which of a learner's numbers are right, the first wrong
one with the value it should have, and which common mistake explains it.

    >>> X, y = gp.datasets.streetlights("nonlinear")
    >>> net = gp.Network([3, 3, 1], seed=1)
    >>> print(gp.check_step(net, X[0:1], y[0:1], 0.2, deltas=[[0, 0.16505, 0], [-1.0213]]))

:func:`check_step` runs the step on a copy of the network (the network is not changed),
compares every term the learner passes (any subset of ``layers``, ``error``, ``deltas``,
``weight_deltas``, ``new_weights``) in the order the step computes them, and for a wrong
term tries the mistakes of :data:`MISTAKES`: each is the whole step recomputed with that
one mistake, so a mistake made early is recognised in any later term too.

Hand-worked numbers are rounded, so a term is right when it is within ``rtol`` /
``atol`` of the exact value (``numpy.isclose``); this is a check of arithmetic done on
paper, not of backends, which must agree bit for bit (see :func:`grokprop.verify`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _stepmath
from ._stepmath import Array
from .specs import Activation

__all__ = ["MISTAKES", "StepCheck", "TermCheck", "check_step"]

#: The mistakes :func:`check_step` recognises: key -> what went wrong and the right way
#: (the keys name relu, the chapter's activation; for sigmoid and tanh networks the texts
#: name theirs: ``{act}``, ``{deriv}``, ``{why}`` and ``{factor}`` are filled in from
#: :data:`_WORDS`).
MISTAKES: dict[str, str] = {
    "transposed": (
        "the weight delta is transposed: weight_delta_{l}_{n} = layer_{l}ᵀ · layer_{n}_delta has "
        "the shape of weights_{l}_{n}, one row per unit of layer_{l} "
        "(outer(layer_{l}, delta), not outer(delta, layer_{l}))"
    ),
    "wrong sign": (
        "the sign is flipped: with the book's convention layer_L_delta = layer_L - goal and "
        "weights -= alpha * weight_delta; with the other one (convention='other') "
        "delta = goal - layer_L and weights += alpha * weight_delta. Mixing them moves the "
        "weights uphill, so the error grows"
    ),
    "derivative before relu": (
        "{act}'s derivative was taken before the delta went back through the weights: "
        "layer_{l}_delta = (layer_{n}_delta · weights_{l}_{n}ᵀ) * {deriv}(layer_{l}) -- "
        "first back through weights_{l}_{n}, then {deriv} of layer_{l}, the layer whose "
        "{act} the delta passes (not of layer_{n})"
    ),
    "derivative missing": (
        "{deriv} is missing: layer_{l}_delta = layer_{n}_delta · weights_{l}_{n}ᵀ * "
        "{deriv}(layer_{l}); {why}"
    ),
    "relu instead of derivative": (
        "{act} was applied to the delta instead of multiplying by {deriv}(layer_{l}): the "
        "factor comes from the layer's values ({factor}), not from the delta"
    ),
    "updated weights": (
        "layer_{l}_delta used weights_{l}_{n} after their update: every delta of a step uses "
        "the weights from before the step (the book computes layer_1_delta with the old "
        "weights_1_2)"
    ),
    "missing alpha": (
        "alpha is missing from the update: weights -= alpha * weight_delta, not "
        "weights -= weight_delta"
    ),
    "not averaged": (
        "the weight delta of a mini-batch is the average over its rows: the sum divided by "
        "the number of rows"
    ),
}


_WORDS: dict[Activation, dict[str, str]] = {
    Activation.RELU: {
        "why": "a unit relu switched off (layer_{l} = 0) passes no delta back",
        "factor": "1 where layer_{l} > 0",
    },
    Activation.SIGMOID: {
        "why": "the delta is scaled by the slope of sigmoid at the layer's output",
        "factor": "layer_{l} * (1 - layer_{l})",
    },
    Activation.TANH: {
        "why": "the delta is scaled by the slope of tanh at the layer's output",
        "factor": "1 - layer_{l} * layer_{l}",
    },
}


@dataclass(frozen=True)
class TermCheck:
    """One term the learner gave, against the value the step computes."""

    name: str
    """The book's name: ``layer_1``, ``error``, ``layer_2_delta``, ``weight_delta_0_1``,
    ``weights_0_1`` (the new weights)."""
    ok: bool
    expected: Array = field(repr=False)
    given: Array = field(repr=False)
    mistake: str | None = None
    """The key in :data:`MISTAKES` that explains a wrong value, if one does."""
    hint: str | None = None
    """What the mistake is and how the term is computed."""

    def __repr__(self) -> str:
        return f"TermCheck({self.name!r}, ok={self.ok}, mistake={self.mistake!r})"


@dataclass(frozen=True)
class StepCheck:
    """The verdict on every term given, in the order the step computes them."""

    terms: tuple[TermCheck, ...]
    convention: str
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        """Every term given is right (and at least one was given)."""
        return bool(self.terms) and all(t.ok for t in self.terms)

    @property
    def first_wrong(self) -> TermCheck | None:
        return next((t for t in self.terms if not t.ok), None)

    @property
    def diagnosis(self) -> str | None:
        """The mistake (a key of :data:`MISTAKES`) behind the first wrong term, if known."""
        wrong = self.first_wrong
        return None if wrong is None else wrong.mistake

    @property
    def mistakes(self) -> tuple[str, ...]:
        """Every recognised mistake, in the order of the terms, each once."""
        return tuple(dict.fromkeys(t.mistake for t in self.terms if t.mistake))

    def __getitem__(self, name: str) -> TermCheck:
        for term in self.terms:
            if term.name == name:
                return term
        raise KeyError(f"no term {name!r} was checked; checked {[t.name for t in self.terms]}")

    def __str__(self) -> str:
        return _report(self)

    def __repr__(self) -> str:
        right = sum(t.ok for t in self.terms)
        return (
            f"StepCheck(ok={self.ok}, {right} of {len(self.terms)} terms right, "
            f"first_wrong={None if self.first_wrong is None else self.first_wrong.name!r}, "
            f"diagnosis={self.diagnosis!r}); print() it for the report"
        )

    def _repr_html_(self) -> str:
        from . import _display

        return _display.table_result_html(_Text(_report(self)), "check_step")


@dataclass(frozen=True)
class _Text:
    text: str

    def table(self) -> str:
        return self.text


def _fmt(values: Array) -> str:
    """A term for the report: its numbers (5 significant digits, at most 9), nested as the
    array is."""
    array = np.asarray(values, dtype=np.float64) + 0.0  # -0 shows as 0
    if array.size == 1:
        return f"{array.ravel()[0]:.5g}"
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    text = np.array2string(
        array,
        separator=", ",
        threshold=9,
        edgeitems=2,
        max_line_width=10_000,
        formatter={"float_kind": lambda v: f"{v:.5g}"},
    )
    return " ".join(text.split())


def _report(check: StepCheck) -> str:
    right = sum(t.ok for t in check.terms)
    lines = [
        f"check_step ({check.convention} sign convention): {right} of {len(check.terms)} "
        f"terms right" + ("" if check.terms else " -- no term given")
    ]
    width = max((len(t.name) for t in check.terms), default=0)
    for term in check.terms:
        if term.ok:
            lines.append(f"  ok     {term.name:<{width}}  {_fmt(term.given)}")
            continue
        lines.append(
            f"  WRONG  {term.name:<{width}}  expected {_fmt(term.expected)}, got {_fmt(term.given)}"
        )
        if term.hint:
            lines.append(f"         {' ' * width}  -> {term.hint}")
    wrong = check.first_wrong
    if wrong is not None:
        lines.append(
            f"first wrong: {wrong.name}"
            + (f" ({wrong.mistake})" if wrong.mistake else " (not one of the common mistakes)")
        )
    return "\n".join(lines)


# -- the step, and the step with each mistake ------------------------------------------------


def _terms(
    weights: Sequence[Array],
    X: Array,
    goal: Array,
    alpha: float,
    activation: Activation,
    sign: int,
    mistake: str | None,
) -> dict[str, Array]:
    """Every term of the step by name, computed with ``mistake`` (``None``: no mistake)."""
    dtype = weights[0].dtype
    rate = dtype.type(alpha)
    L = len(weights)
    m = X.shape[0]
    _, layers = _stepmath.forward(weights, X, activation)
    terms: dict[str, Array] = {f"layer_{l}": layers[l] for l in range(1, L + 1)}
    terms["error"] = np.asarray(_stepmath.errors(layers[L], goal).sum(dtype=dtype))
    flip = -1 if mistake == "wrong sign" else 1
    deltas: dict[int, Array] = {L: flip * sign * (layers[L] - goal)}

    def weight_delta(l: int) -> Array:
        G = _stepmath.weight_delta(layers[l], deltas[l + 1])
        if mistake == "not averaged" and m > 1:
            G = G * dtype.type(m)
        return G.T if mistake == "transposed" else G

    for l in range(L - 1, 0, -1):
        W, d = weights[l], deltas[l + 1]
        mask = _stepmath.derivative(layers[l], activation)
        if mistake == "derivative before relu":
            deltas[l] = _stepmath.dot_t(d * _stepmath.derivative(layers[l + 1], activation), W)
        elif mistake == "derivative missing":
            deltas[l] = _stepmath.dot_t(d, W)
        elif mistake == "relu instead of derivative":
            deltas[l] = _stepmath.activate(_stepmath.dot_t(d, W), activation)
        elif mistake == "updated weights":
            updated = W - sign * rate * _stepmath.weight_delta(layers[l], d)
            deltas[l] = _stepmath.dot_t(d, updated) * mask
        else:
            deltas[l] = _stepmath.dot_t(d, W) * mask
    for l in range(L, 0, -1):
        terms[f"layer_{l}_delta"] = deltas[l]
    for l in range(L - 1, -1, -1):
        terms[f"weight_delta_{l}_{l + 1}"] = weight_delta(l)
    for l in range(L - 1, -1, -1):
        W, G = weights[l], weight_delta(l)
        if G.shape != W.shape:
            continue  # a transposed non-square delta cannot update the weights
        # -= with the book's delta, += with the other's; with "wrong sign" the delta is
        # flipped and the operator kept, so the update adds what it should subtract
        step = (rate if mistake != "missing alpha" else dtype.type(1)) * G
        terms[f"weights_{l}_{l + 1}"] = W - sign * step
    return terms


def _as_array(value: Any, like: Array, name: str) -> Array:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {value!r}") from None
    if array.size == like.size and array.shape != like.shape and array.ndim <= 1:
        array = array.reshape(like.shape)  # a vector for a one-row layer, a bare number
    return array


def _given(value: Any, count: int, names: Sequence[str], what: str) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs from a list of ``count`` values (``None`` skips one), a
    mapping from names, or a single array when ``count`` is 1."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"{what}: unknown names {unknown}; the names are {list(names)}")
        return [(n, value[n]) for n in names if n in value and value[n] is not None]
    if count == 1 and not (isinstance(value, (list, tuple)) and len(value) == 1):
        return [(names[0], value)]
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise ValueError(
            f"{what} must be a list of {count} arrays ({', '.join(names)}; None skips one) "
            f"or a dict of some of them"
        )
    return [(n, v) for n, v in zip(names, value) if v is not None]


_IN_THE_DELTAS = ("derivative before relu", "derivative missing", "relu instead of derivative")


def _hint(mistake: str, name: str, n_layers: int, activation: Activation) -> str:
    """The mistake's text for the layer it concerns: a hidden delta's mistake starts at
    the last hidden layer (the first delta computed back), whatever term shows it."""
    if mistake in (*_IN_THE_DELTAS, "updated weights"):
        l = n_layers - 1
    else:
        digits = [int(p) for p in name.split("_") if p.isdigit()]
        l = digits[0] if digits else 0
    text = MISTAKES[mistake]
    words = {
        "act": activation.label,
        "deriv": _stepmath.DERIVATIVE_NAMES.get(activation, "1"),
        **_WORDS.get(activation, {"why": "", "factor": ""}),
    }
    for key, word in words.items():
        text = text.replace("{" + key + "}", word)
    return text.replace("{l}", str(l)).replace("{n}", str(l + 1))


def check_step(
    net: Any,
    X: ArrayLike,
    y: ArrayLike,
    alpha: float,
    *,
    layers: Sequence[ArrayLike | None] | Mapping[str, ArrayLike] | None = None,
    error: float | None = None,
    deltas: Sequence[ArrayLike | None] | Mapping[str, ArrayLike] | ArrayLike | None = None,
    weight_deltas: Sequence[ArrayLike | None] | Mapping[str, ArrayLike] | ArrayLike | None = None,
    new_weights: Sequence[ArrayLike | None] | Mapping[str, ArrayLike] | ArrayLike | None = None,
    convention: Literal["book", "other"] = "book",
    rtol: float = 1e-3,
    atol: float = 1e-4,
    backend: str | None = None,
) -> StepCheck:
    """Compare a step of ``net`` on the rows ``X`` (targets ``y``, learning rate ``alpha``)
    worked by hand with the step ``net`` computes; ``net`` is not changed.

    Give any of: ``layers`` (``[layer_1, ..., layer_L]``, or with ``layer_0`` first),
    ``error``, ``deltas`` (``[layer_1_delta, ..., layer_L_delta]``, as
    :attr:`grokprop.StepTrace.deltas`), ``weight_deltas`` (``[weight_delta_0_1, ...]``)
    and ``new_weights`` (``[weights_0_1, ...]`` after the update). Each is a list (``None``
    skips an entry), a dict by the book's names (``{"layer_2_delta": -1.0213}``), or for a
    network without hidden layer a single array. ``convention="other"`` checks deltas and
    weight deltas of ``goal - layer_L`` with ``+=``.

    Returns a :class:`StepCheck`: ``ok``, every term's verdict, ``first_wrong`` and its
    ``diagnosis`` (a key of :data:`MISTAKES`); ``print()`` it for the report.
    """
    if convention not in ("book", "other"):
        raise ValueError(f"convention must be 'book' or 'other', got {convention!r}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    sign = 1 if convention == "book" else -1
    model = net.copy()  # the step runs on a copy: net keeps its weights
    before = [np.array(w) for w in model.weights]
    trace = model.step(X, y, alpha=alpha, backend=backend)
    activation = _stepmath.activation_of(net.activation)
    rows = np.asarray(trace.layers[0])
    goal = np.asarray(y, dtype=rows.dtype).reshape(np.asarray(trace.layers[-1]).shape)
    L = len(before)

    expected: dict[str, Array] = {
        f"layer_{l}": np.asarray(trace.layers[l]) for l in range(1, L + 1)
    }
    expected["error"] = np.asarray(trace.error)
    for l in range(L, 0, -1):
        expected[f"layer_{l}_delta"] = sign * np.asarray(trace.deltas[l - 1])
    for l in range(L - 1, -1, -1):
        expected[f"weight_delta_{l}_{l + 1}"] = sign * np.asarray(trace.weight_deltas[l])
    for l in range(L - 1, -1, -1):
        expected[f"weights_{l}_{l + 1}"] = np.asarray(model.weights[l])

    layer_names = [f"layer_{l}" for l in range(1, L + 1)]
    if isinstance(layers, (list, tuple)) and len(layers) == L + 1:
        layers = layers[1:]  # layer_0 is the input: nothing to check
    given = dict(
        _given(layers, L, layer_names, "layers")
        + ([] if error is None else [("error", error)])
        + _given(deltas, L, [f"layer_{l}_delta" for l in range(1, L + 1)], "deltas")
        + _given(weight_deltas, L, [f"weight_delta_{l}_{l + 1}" for l in range(L)], "weight_deltas")
        + _given(new_weights, L, [f"weights_{l}_{l + 1}" for l in range(L)], "new_weights")
    )
    computed: dict[str, dict[str, Array]] = {}  # each mistake's step, made when first needed

    def with_mistake(mistake: str) -> dict[str, Array]:
        if mistake not in computed:
            computed[mistake] = _terms(before, rows, goal, alpha, activation, sign, mistake)
        return computed[mistake]

    def close(a: Array, b: Array) -> bool:
        return a.shape == b.shape and bool(
            np.all(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        )

    checks = []
    for name, want in expected.items():  # in the order the step computes them
        if name not in given:
            continue
        got = _as_array(given[name], want, name)
        if close(got, want):
            checks.append(TermCheck(name, True, want, got))
            continue
        found: str | None = None
        for mistake in MISTAKES:
            terms = with_mistake(mistake)
            if name in terms and not close(terms[name], want) and close(got, terms[name]):
                found = mistake
                break
        hint: str | None = None
        if found is not None:
            hint = _hint(found, name, L, activation)
        elif got.shape != want.shape:
            hint = f"expected shape {want.shape}, got {got.shape}"
        checks.append(TermCheck(name, False, want, got, found, hint))
    return StepCheck(tuple(checks), convention, float(rtol), float(atol))
