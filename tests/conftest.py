"""Shared fixtures: every test that takes ``backend`` runs once per backend.

A test run *requires* every backend unless ``GROKPROP_REQUIRE_BACKENDS`` names fewer
(comma-separated, e.g. ``cpp,numpy`` for a wheel tested where numba has no wheels; see
``[tool.cibuildwheel]`` in pyproject.toml). A required backend that cannot load fails
every test that needs it (``test_every_required_backend_is_available`` says why); a
backend that is not required and cannot load skips those tests with the reason, which
``-ra`` prints. Nothing falls back silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import grokprop as gp
from grokprop.backends import BACKEND_NAMES

#: The book's program 5: the error after every 10th of 60 epochs, as printed.
PROGRAM5_ERRORS = (
    "0.634231159844",
    "0.358384076763",
    "0.0830183113303",
    "0.0064670549571",
    "0.000329266900075",
    "1.50556226651e-05",
)


@pytest.fixture
def program5_errors() -> list[str]:
    """The book's program 5 errors (every 10th epoch), formatted as the book prints them."""
    return list(PROGRAM5_ERRORS)


REQUIRE_ENV_VAR = "GROKPROP_REQUIRE_BACKENDS"
# Test modules that exist only for one backend: they import it at module level, so when it
# cannot load they are skipped or failed as a whole, by the rule above.
MODULE_BACKENDS = {"test_numba_backend.py": "numba", "test_core_binding.py": "cpp"}


def _required_backends() -> tuple[str, ...]:
    value = os.environ.get(REQUIRE_ENV_VAR)
    if value is None:
        return BACKEND_NAMES
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(names) - set(BACKEND_NAMES))
    if unknown:
        raise pytest.UsageError(
            f"{REQUIRE_ENV_VAR}={value!r} names unknown backends {unknown}; "
            f"grokprop's backends are {BACKEND_NAMES}"
        )
    return names


REQUIRED = _required_backends()


def need_backend(name: str) -> None:
    """Return if backend ``name`` loads; else fail (required) or skip (optional here), saying why."""
    reason = gp.backend_status()[name]
    if reason is None:
        return
    setting = f"{REQUIRE_ENV_VAR}={os.environ.get(REQUIRE_ENV_VAR, '<unset: all>')}"
    if name in REQUIRED:
        pytest.fail(f"backend {name!r} is required ({setting}) but unavailable: {reason}")
    pytest.skip(f"backend {name!r} is not required ({setting}) and unavailable: {reason}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--only-backend",
        action="append",
        choices=BACKEND_NAMES,
        metavar="NAME",
        help="test this backend only (repeatable): the backend-parametrized tests of the "
        "others are deselected, and the cross-backend checks compare it alone with the "
        "reference; the sanitized run keeps cpp, the only instrumented one",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = config.getoption("--only-backend")
    if not only:
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("backend") if callspec is not None else None
        (dropped if param is not None and param not in only else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): the test needs these backends (see tests/conftest.py)"
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    status = ", ".join(
        f"{name} {'ok' if why is None else 'UNAVAILABLE'}"
        for name, why in gp.backend_status().items()
    )
    return [
        f"grokprop {gp.__version__} from {Path(gp.__file__).parent}",
        f"backends: {status}; required: {', '.join(REQUIRED)}",
    ]


class _BackendModule(pytest.Module):
    """A test module for one backend: collected only if that backend loads (see above)."""

    backend: str

    def collect(self):  # type: ignore[no-untyped-def]
        need_backend(self.backend)
        return super().collect()


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    backend = MODULE_BACKENDS.get(module_path.name)
    if backend is None:
        return None
    module = _BackendModule.from_parent(parent, path=module_path)
    module.backend = backend
    return module


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("backends"):
        for name in marker.args:
            need_backend(name)


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    need_backend(name)
    return name


@pytest.fixture(scope="session")
def required_backends() -> tuple[str, ...]:
    """The backends this run requires (``GROKPROP_REQUIRE_BACKENDS``, default: all)."""
    return REQUIRED


@pytest.fixture(scope="session")
def compiled_backends() -> tuple[str, ...]:
    """The compiled backends (not the numpy reference) that load; fails if a required one does not."""
    for name in REQUIRED:
        need_backend(name)
    return tuple(name for name in gp.available_backends() if name != "numpy")


@pytest.fixture(scope="session")
def checked_backends(
    compiled_backends: tuple[str, ...], pytestconfig: pytest.Config
) -> tuple[str, ...]:
    """The compiled backends the property tests compare with the reference: all, or
    ``--only-backend``'s."""
    only = pytestconfig.getoption("--only-backend") or BACKEND_NAMES
    return tuple(name for name in compiled_backends if name in only)


# Prepended to a subprocess's code: a meta-path finder that makes importing any of HIDDEN
# (or a submodule) fail before anything else is imported -- as if it were not installed
# (ModuleNotFoundError) or, with BROKEN, as a broken build's extension fails (ImportError).
_HIDE_PRELUDE = """
import importlib.abc, sys
HIDDEN, BROKEN = {hidden!r}, {broken!r}
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if not any(name == h or name.startswith(h + ".") for h in HIDDEN):
            return None
        if BROKEN:
            raise ImportError(f"{{name}}: undefined symbol _Zgrokprop (a broken build, simulated)")
        raise ModuleNotFoundError(f"No module named {{name!r}} (hidden by the test)", name=name)
sys.meta_path.insert(0, _Hide())
"""

RunHiding = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_hiding() -> RunHiding:
    """``run_hiding(hidden, code, *argv, env={}, broken=False)``: run ``code`` in a fresh
    interpreter in which the modules ``hidden`` cannot be imported (missing, or ``broken``);
    GROKPROP_BACKEND is unset unless ``env`` sets it."""

    def run(
        hidden: list[str],
        code: str,
        *argv: str,
        env: dict[str, str] | None = None,
        broken: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if k != gp.backends.ENV_VAR}
        return subprocess.run(
            [
                sys.executable,
                "-c",
                _HIDE_PRELUDE.format(hidden=hidden, broken=broken) + code,
                *argv,
            ],
            capture_output=True,
            text=True,
            check=False,  # the caller asserts on the outcome
            env=environ | (env or {}),
        )

    return run


@pytest.fixture
def book_net_data() -> tuple[np.ndarray, np.ndarray]:
    return gp.datasets.streetlights("nonlinear")


@pytest.fixture(autouse=True)
def _reset_global_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test leaks a global backend choice or GROKPROP_BACKEND into the next."""
    monkeypatch.delenv(gp.backends.ENV_VAR, raising=False)
    yield
    gp.set_backend(None)


# Hypothesis profiles: "ci" (the default) runs 500 examples per property, the fuzz budget
# of every CI run; HYPOTHESIS_PROFILE=dev runs 50 while iterating, =thorough 5000. Tests
# that pin their own max_examples (test_bitwise.py) keep it. No deadline: the first
# example of a new shape may wait for numba to compile.
settings.register_profile("ci", max_examples=500, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
