"""The compiled fast paths of the validation boundary (``_core.accept_matrix``,
``_core.views_intact``) take only inputs the Python rules accept, give the same bits, and do
take the common ones (docs/design.md, "Validation")."""

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
    saved = check.accept_matrix
    check.accept_matrix = check._no_fast_path
    try:
        return check.as_matrix(value, "X", dtype, columns=columns)
    except (TypeError, ValueError) as exc:
        return exc
    finally:
        check.accept_matrix = saved


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
