"""Backend selection: precedence, errors, and per-thread context (docs/design.md, "The registry")."""

from __future__ import annotations

import dataclasses
import os
import threading
from unittest import mock

import numpy as np
import pytest

import grokprop as gp
from grokprop import backends
from grokprop.backends import BACKEND_NAMES, resolve
from grokprop.backends.reference import ReferenceBackend


def test_every_required_backend_is_available(required_backends: tuple[str, ...]) -> None:
    # the test environment installs numba and builds the extension: a missing backend is
    # a broken install, and fails here (GROKPROP_REQUIRE_BACKENDS narrows what is required,
    # e.g. for a wheel tested where numba has no wheels; see tests/conftest.py)
    status = gp.backend_status()
    assert {name: status[name] for name in required_backends} == dict.fromkeys(required_backends)
    assert gp.available_backends() == tuple(name for name in BACKEND_NAMES if status[name] is None)


@pytest.mark.backends("cpp")
def test_default_is_the_fastest_available() -> None:
    assert gp.get_backend() == "cpp"


def test_resolved_backend_is_the_one_asked_for(backend: str) -> None:
    assert resolve(backend).name == backend
    X, y = gp.datasets.streetlights()
    assert gp.Network([3, 1], seed=0).fit(X, y, alpha=0.1, epochs=1, backend=backend).backend == (
        backend
    )


@pytest.mark.backends("cpp", "numba")
def test_precedence_call_over_context_over_global_over_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROKPROP_BACKEND", "numba")
    assert gp.get_backend() == "numba"
    gp.set_backend("numpy")
    assert gp.get_backend() == "numpy"
    with gp.use_backend("cpp"):
        assert gp.get_backend() == "cpp"
        assert resolve("numba").name == "numba"
        with gp.use_backend("numba"):
            assert gp.get_backend() == "numba"
        assert gp.get_backend() == "cpp"
    assert gp.get_backend() == "numpy"
    gp.set_backend(None)
    assert gp.get_backend() == "numba"


def test_the_environment_variable_is_read_on_every_call_however_it_is_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quick read of GROKPROP_BACKEND sees every change made through os.environ."""
    default = gp.get_backend()
    os.environ["GROKPROP_BACKEND"] = "numpy"
    try:
        assert gp.get_backend() == "numpy" and resolve().name == "numpy"
    finally:
        del os.environ["GROKPROP_BACKEND"]
    assert gp.get_backend() == default
    with mock.patch.dict(os.environ, {"GROKPROP_BACKEND": "numpy"}):
        assert resolve().name == "numpy"
    assert resolve().name == default
    monkeypatch.setenv("GROKPROP_BACKEND", "nope")
    with pytest.raises(ValueError, match="GROKPROP_BACKEND environment variable value 'nope'"):
        resolve()
    monkeypatch.setenv("GROKPROP_BACKEND", "")  # empty: as if not set
    assert resolve().name == default


@pytest.mark.backends("numba")
def test_fit_without_backend_uses_the_selected_one() -> None:
    X, y = gp.datasets.streetlights()
    with gp.use_backend("numba"):
        assert gp.Network([3, 1], seed=0).fit(X, y, alpha=0.1, epochs=1).backend == "numba"


@pytest.mark.parametrize(
    "call",
    [
        lambda: gp.set_backend("torch"),
        lambda: gp.use_backend("torch").__enter__(),
        lambda: resolve("torch"),
        lambda: gp.Network([3, 1], seed=0).predict([[1, 0, 1]], backend="torch"),
    ],
)
def test_unknown_backend_lists_the_known_ones(call) -> None:
    with pytest.raises(ValueError, match=r"unknown backend 'torch'.*'cpp', 'numba', 'numpy'"):
        call()


def test_unknown_backend_in_env_var_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPROP_BACKEND", "fortran")
    with pytest.raises(ValueError, match="GROKPROP_BACKEND"):
        gp.get_backend()


def test_non_string_backend_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="backend"):
        gp.set_backend(3)  # type: ignore[arg-type]


@pytest.mark.backends("cpp")
def test_unavailable_backend_raises_instead_of_falling_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise gp.BackendUnavailableError("the 'numba' backend is unavailable: test says so")

    monkeypatch.setitem(
        backends.REGISTRY, "numba", dataclasses.replace(backends.REGISTRY["numba"], loader=broken)
    )
    monkeypatch.setattr(backends, "_loaded", {})
    assert gp.backend_status()["numba"] == "the 'numba' backend is unavailable: test says so"
    assert gp.available_backends() == ("cpp", "numpy")
    for call in (lambda: gp.set_backend("numba"), lambda: resolve("numba")):
        with pytest.raises(gp.BackendUnavailableError, match="test says so"):
            call()
    assert gp.get_backend() == "cpp"


@pytest.mark.backends("cpp")
def test_context_choice_does_not_leak_into_other_threads() -> None:
    seen: dict[str, str] = {}
    inside, release = threading.Event(), threading.Event()

    def worker() -> None:
        inside.wait()
        seen["other thread"] = gp.get_backend()
        release.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with gp.use_backend("numpy"):
        inside.set()
        release.wait()
        seen["this thread"] = gp.get_backend()
    thread.join()
    assert seen == {"other thread": "cpp", "this thread": "numpy"}


@pytest.mark.backends("cpp", "numba")
def test_context_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), gp.use_backend("numba"):
        raise RuntimeError("boom")
    assert gp.get_backend() == "cpp"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The registry, restored after the test (register_backend changes it process-wide)."""
    monkeypatch.setattr(backends, "REGISTRY", dict(backends.REGISTRY))
    monkeypatch.setattr(backends, "_loaded", dict(backends._loaded))
    return backends.REGISTRY


class _Doubled(ReferenceBackend):
    """The reference with a wrong update (twice the step): not the reference's bits."""

    name = "doubled"

    def update_layer(self, W: np.ndarray, G: np.ndarray, alpha: float) -> None:
        super().update_layer(W, G, 2 * alpha)


def test_a_registered_backend_is_selectable_and_verified(registry: dict) -> None:
    class Mine(ReferenceBackend):
        name = "mine"

    gp.register_backend("mine", Mine)
    assert backends.known_backends()[-1] == "mine" and "mine" in gp.available_backends()
    X, y = gp.datasets.streetlights("nonlinear")
    history = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60, backend="mine")
    assert history.backend == "mine"
    expected = gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60, backend="numpy")
    assert np.array_equal(history.errors, expected.errors)
    report = gp.verify(gp.Network([3, 4, 1], seed=1), X, y, alpha=0.2, epochs=5)
    assert report["mine"].required and report["mine"].bitwise


def test_verify_holds_a_registered_backend_to_the_reference(registry: dict) -> None:
    gp.register_backend("doubled", _Doubled)
    gp.register_backend("doubled-drift", lambda: _Doubled(), bitwise=False)
    X, y = gp.datasets.streetlights("nonlinear")
    report = gp.verify(gp.Network([3, 4, 1], seed=1), X, y, alpha=0.2, epochs=5)
    assert not report.ok and not report["doubled"].bitwise and report["doubled"].required
    assert not report["doubled-drift"].required  # reported as drift, not a mismatch


def test_register_backend_refuses_bad_rows(registry: dict) -> None:
    with pytest.raises(ValueError, match="already registered"):
        gp.register_backend("numpy", ReferenceBackend)
    with pytest.raises(TypeError, match="loader"):
        gp.register_backend("nope", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name"):
        gp.register_backend("", ReferenceBackend)


def test_a_registered_backend_that_cannot_load_says_why(registry: dict) -> None:
    gp.register_backend(
        "missing", "grokprop_no_such_module:Backend", requires="grokprop_no_such_module",
        install_hint="pip install grokprop-no-such-module",
    )  # fmt: skip
    gp.register_backend("not-kernels", object)
    status = gp.backend_status()
    assert "grokprop_no_such_module could not be imported" in status["missing"]
    assert "pip install grokprop-no-such-module" in status["missing"]
    assert "is not a grokprop.backends.Backend" in status["not-kernels"]
    with pytest.raises(gp.BackendUnavailableError, match="could not be imported"):
        resolve("missing")


def test_a_backend_registered_as_fastest_becomes_the_default(registry: dict) -> None:
    class First(ReferenceBackend):
        name = "first"

    gp.register_backend("first", First, fastest=True)
    assert backends.known_backends()[0] == "first" and gp.get_backend() == "first"
