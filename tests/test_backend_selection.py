"""Backend selection: precedence, errors, and per-thread context (SPEC §5)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import grokprop as gp
from grokprop import backends
from grokprop.backends import BACKEND_NAMES, resolve


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

    monkeypatch.setitem(backends._LOADERS, "numba", broken)
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


def test_import_does_not_import_numba() -> None:
    code = "import sys, grokprop; grokprop.get_backend(); print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
