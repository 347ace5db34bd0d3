"""truth_table: names, integers and callables agree; the book's xor is its nonlinear lights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import grokprop as gp
from grokprop.datasets import truth_table


def test_xor_with_the_always_on_light_is_the_books_nonlinear_streetlights() -> None:
    X, y = truth_table("xor")
    book_X, book_y = gp.datasets.streetlights("nonlinear")
    assert X.dtype == y.dtype == np.int64
    assert X.shape == (4, 3) and y.shape == (4, 1)
    assert sorted(zip(map(tuple, X), y[:, 0])) == sorted(zip(map(tuple, book_X), book_y[:, 0]))
    assert np.array_equal(X[:, 2], [1, 1, 1, 1])  # the third light is always on


def test_rows_count_in_binary_with_the_first_input_most_significant() -> None:
    X, _ = truth_table("and", 3, always_on=False)
    assert X.tolist() == [list(bits) for bits in itertools.product([0, 1], repeat=3)]
    assert [int("".join(map(str, row)), 2) for row in X] == list(range(8))


@pytest.mark.parametrize(
    ("name", "code", "outputs"),
    [
        ("and", 0b1000, [0, 0, 0, 1]),
        ("or", 0b1110, [0, 1, 1, 1]),
        ("xor", 0b0110, [0, 1, 1, 0]),
        ("nand", 0b0111, [1, 1, 1, 0]),
        ("nor", 0b0001, [1, 0, 0, 0]),
        ("xnor", 0b1001, [1, 0, 0, 1]),
    ],
)
def test_names_and_their_integers(name: str, code: int, outputs: list[int]) -> None:
    by_name = truth_table(name)
    by_code = truth_table(code, 2)
    assert by_name[1][:, 0].tolist() == outputs
    assert np.array_equal(by_name[0], by_code[0]) and np.array_equal(by_name[1], by_code[1])


def test_every_function_of_two_inputs_by_integer_matches_its_callable() -> None:
    for code in range(16):
        _, y = truth_table(code, 2)
        _, from_callable = truth_table(lambda a, b, c=code: (c >> (2 * a + b)) & 1)
        assert np.array_equal(y, from_callable), code


def test_k_input_names_generalise() -> None:
    X, y = truth_table("xor", 4, always_on=False)
    assert np.array_equal(y[:, 0], X.sum(axis=1) % 2)  # parity
    X, y = truth_table("majority", 3, always_on=False)
    assert np.array_equal(y[:, 0], (X.sum(axis=1) >= 2).astype(np.int64))
    X, y = truth_table("nand", 3)
    assert X.shape == (8, 4) and y[:, 0].tolist() == [1] * 7 + [0]


def test_a_callable_gives_its_input_count() -> None:
    X, y = truth_table(lambda a, b, c: a and not c)
    assert X.shape == (8, 4)
    assert y[:, 0].tolist() == [0, 0, 0, 0, 1, 0, 1, 0]


def test_a_truth_table_trains_like_the_book_data() -> None:
    X, y = truth_table("xor")
    history = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=200, backend="numpy")
    assert history.final_error < 1e-3


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("maybe",), ValueError, "function must be one of"),
        ((6,), TypeError, "inputs must be given"),
        ((16, 2), ValueError, r"integer in \[0, 2\*\*4 - 1\]"),
        ((-1, 2), ValueError, "integer in"),
        (("xor", 0), ValueError, "inputs must be an integer from 1 to 20"),
        (("xor", 21), ValueError, "inputs must be an integer from 1 to 20"),
        ((True,), TypeError, "function must be a name"),
        ((2.5,), TypeError, "function must be a name"),
        ((lambda *bits: 1,), TypeError, "no fixed arguments"),
    ],
)
def test_bad_arguments_are_clear_errors(args: tuple[object, ...], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        truth_table(*args)  # type: ignore[arg-type]
