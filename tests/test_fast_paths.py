"""The fast paths of the validation boundary (compiled: ``_core.accept_matrix``,
``_core.accept_data``, ``_core.views_intact``; in Python: ``WeightBuffer.detached``'s test of
a view's base) take only inputs the Python rules accept, give the same bits, and do take the
common ones (docs/design.md, "Validation")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import grokprop as gp
from grokprop import _validation as check

core = pytest.importorskip("grokprop._core", reason="the fast paths are in the C++ core")

FLOATS = [np.dtype(np.float32), np.dtype(np.float64)]
# every dtype as_matrix meets: the ones it converts, the ones it refuses, a foreign byte order
DTYPES = [
    *(np.dtype(t) for t in "bBhHiIlLqQ"),
    *(np.dtype(t) for t in ("float16", "float32", "float64", "longdouble")),
    np.dtype(">f8"),
    np.dtype(">i4"),
    np.dtype(bool),
    np.dtype(complex),
]


def python_path(value: Any, dtype: np.dtype[np.floating], columns: int | None) -> Any:
    """as_matrix with the fast path switched off: its result, or the exception it raises."""
    return _without_fast_paths(lambda: check.as_matrix(value, "X", dtype, columns=columns))


def _without_fast_paths(call: Any) -> Any:
    """``call()`` with every compiled fast path switched off: its result, or the exception."""
    saved = {name: getattr(check, name) for name in check._FAST_PATHS}
    for name in saved:
        setattr(check, name, check._no_fast_path)
    try:
        return call()
    except (TypeError, ValueError) as exc:
        return exc
    finally:
        for name, fast_path in saved.items():
            setattr(check, name, fast_path)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    """Arrays of any of DTYPES, 0-3 dimensions, C- or Fortran-ordered or strided views,
    with edge values (nan, inf, huge integers) among them."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    array = draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype)))
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = array[::2]
    return array


@given(arrays(), st.sampled_from(FLOATS), st.sampled_from([None, 1, 2, 3, 4]))
def test_the_fast_path_takes_only_what_the_rules_accept_with_the_same_bits(
    value: np.ndarray, dtype: np.dtype[np.floating], columns: int | None
) -> None:
    fast = core.accept_matrix(value, dtype, columns or 0)
    slow = python_path(value, dtype, columns)
    if fast is None:
        return
    assert not isinstance(slow, Exception), f"fast path took what as_matrix refuses: {slow}"
    assert fast.dtype == slow.dtype == dtype and fast.shape == slow.shape
    assert fast.flags.c_contiguous and fast.flags.aligned
    assert fast.tobytes() == slow.tobytes()
    assert (fast is value) == (slow is value)


@st.composite
def data_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from :func:`arrays`, y often with X's rows (so both may be taken)."""
    X = draw(arrays())
    if X.ndim != 2 or not draw(st.booleans()):
        return X, draw(arrays())
    dtype = draw(st.sampled_from(DTYPES))
    shape = (X.shape[0], draw(st.integers(1, 2)))
    return X, draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype)))


@given(
    data_pairs(),
    st.sampled_from(FLOATS),
    st.sampled_from([None, 1, 2, 3]),
    st.sampled_from([None, 1, 2]),
)
def test_the_data_fast_path_takes_only_what_the_rules_accept_with_the_same_bits(
    data: tuple[np.ndarray, np.ndarray],
    dtype: np.dtype[np.floating],
    x_columns: int | None,
    y_columns: int | None,
) -> None:
    X, y = data
    fast = core.accept_data(X, y, dtype, x_columns or 0, y_columns or 0)
    slow = _without_fast_paths(
        lambda: check.as_data(X, y, dtype, x_columns=x_columns, y_columns=y_columns)
    )
    if fast is None:
        # it declines exactly when one matrix is declined, or the rows differ
        rows = core.accept_matrix(X, dtype, x_columns or 0)
        targets = core.accept_matrix(y, dtype, y_columns or 0)
        assert rows is None or targets is None or len(rows) != len(targets)
        return
    assert not isinstance(slow, Exception), f"fast path took what as_data refuses: {slow}"
    for taken, converted, value in zip(fast, slow, (X, y)):
        assert taken.dtype == converted.dtype == dtype and taken.shape == converted.shape
        assert taken.tobytes() == converted.tobytes()
        assert (taken is value) == (converted is value)


def test_the_book_data_takes_the_fast_path_and_unequal_rows_are_refused_in_python() -> None:
    X, y = gp.datasets.streetlights("nonlinear")  # int arrays, y a column
    dtype = np.dtype(np.float64)
    rows, targets = core.accept_data(X, y, dtype, 3, 1)
    assert rows.tobytes() == X.astype(dtype).tobytes()
    assert targets.tobytes() == y.astype(dtype).tobytes()
    assert core.accept_data(X, y[:2], dtype, 3, 1) is None
    with pytest.raises(ValueError, match="same number of rows, got 4 and 2"):
        check.as_data(X, y[:2], dtype, x_columns=3, y_columns=1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["int8", "int64", "uint32", "uint64", "float"])
def test_the_common_inputs_take_the_fast_path(dtype: np.dtype, kind: str) -> None:
    # the book's int arrays, ints beyond float precision, and data already of the dtype
    values = np.array([[1, 0, 1], [2**53 + 1, 127, 2**24 + 1]]) if kind != "int8" else [[1, 0, 1]]
    value = np.asarray(values).astype(dtype if kind == "float" else kind)
    fast = core.accept_matrix(value, dtype, 3)
    assert fast is not None
    assert fast.tobytes() == value.astype(dtype).tobytes()
    assert (fast is value) == (kind == "float")
    if kind == "float":
        value[0, 0] = np.nan  # not finite: as_matrix says so, in Python
        assert core.accept_matrix(value, dtype, 3) is None


def test_subclasses_and_array_likes_take_the_python_path() -> None:
    class Subclass(np.ndarray):
        pass

    X = np.ones((2, 3))
    for value in (np.ma.array(X), X.view(Subclass), X.tolist(), memoryview(X)):
        assert core.accept_matrix(value, np.dtype(np.float64), 3) is None
    with pytest.raises(TypeError, match="must not be a masked array"):
        check.as_matrix(np.ma.array(X), "X", np.dtype(np.float64))


@pytest.mark.parametrize("dtype", FLOATS)
def test_views_intact_is_false_for_every_change_check_views_refuses(dtype: np.dtype) -> None:
    net = gp.Network([3, 4, 2, 1], seed=1, dtype=dtype)
    weights = net._weights
    assert check.views_intact(weights.views, weights.shapes, weights.dtype, True)

    def refused(change: Any, writeable: bool = True) -> None:
        fresh = gp.Network([3, 4, 2, 1], seed=1, dtype=dtype)
        change(fresh._weights.views)
        fresh_weights = fresh._weights
        assert not check.views_intact(
            fresh_weights.views, fresh_weights.shapes, fresh_weights.dtype, writeable
        )
        with pytest.raises(ValueError, match="weights\\[1\\]"):
            fresh_weights.check_views(writeable=writeable)

    def reshape(views: list[np.ndarray]) -> None:
        views[1].shape = (2, 4)

    def read_only(views: list[np.ndarray]) -> None:
        views[1].flags.writeable = False

    def swap(views: list[np.ndarray]) -> None:
        views[1] = np.ones((2, 4), dtype=dtype)[:, ::2]  # the right shape, not C-contiguous

    refused(reshape)
    refused(read_only)
    refused(swap)
    # a read-only view is fine where nothing is written (forward, predict)
    fresh = gp.Network([3, 4, 2, 1], seed=1, dtype=dtype)
    read_only(fresh._weights.views)
    fw = fresh._weights
    assert check.views_intact(fw.views, fw.shapes, fw.dtype, False)
    fresh.predict([[1, 0, 1]])


def test_detached_copies_every_way_to_reach_the_weights_memory() -> None:
    """The base test passes only arrays that live in another allocation; every other view
    goes to may_share_memory, so the answer is may_share_memory's."""
    net = gp.Network([3, 4, 1], seed=1)
    weights = net._weights
    buffer = weights.buffer
    inside = [
        weights.views[0],
        weights.views[1][:1],
        buffer[None, :],
        buffer[2:5].reshape(1, 3),
        buffer.base[None, :],  # the whole allocation, padding included
        np.frombuffer(buffer.base.data, dtype=buffer.dtype)[None, :8],
        np.asarray(memoryview(buffer))[None, :],
    ]
    X = np.ones((4, 3))
    outside = [X, X[:1], X[1:2].view(), np.ones(3)[None, :], np.frombuffer(X.tobytes())[None, :3]]
    for array in inside:
        assert np.may_share_memory(array, buffer)
        copied = weights.detached(array)
        assert copied is not array and np.array_equal(copied, array)
        assert not np.may_share_memory(copied, buffer)
    for array in outside:
        assert not np.may_share_memory(array, buffer)
        assert weights.detached(array) is array
