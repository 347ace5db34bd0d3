"""Backend registry and selection (SPEC §5).

Precedence, highest first: the ``backend=`` argument of a call, the innermost
:func:`use_backend` block (per thread / async task: a ``ContextVar``), the process-wide
:func:`set_backend`, the ``GROKPROP_BACKEND`` environment variable, then the fastest
available backend. Backends load lazily, so ``import grokprop`` never imports numba.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..errors import BackendUnavailableError
from ._protocol import Backend

__all__ = [
    "BACKEND_NAMES",
    "ENV_VAR",
    "Backend",
    "available_backends",
    "backend_status",
    "get_backend",
    "resolve",
    "set_backend",
    "use_backend",
]

ENV_VAR = "GROKPROP_BACKEND"
#: Every backend grokprop knows, fastest first (the default is the first available).
BACKEND_NAMES: tuple[str, ...] = ("cpp", "numba", "numpy")


def _load_cpp() -> Backend:
    try:
        from .cpp import CppBackend
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the 'cpp' backend is unavailable: the compiled extension grokprop._core could "
            f"not be imported ({exc}); reinstall grokprop so its C++ core is built"
        ) from exc
    return CppBackend()


def _load_numba() -> Backend:
    try:
        module = importlib.import_module(".numba_backend", __name__)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the 'numba' backend is unavailable: numba could not be imported ({exc}); "
            "install it with: pip install 'grokprop[numba]'"
        ) from exc
    backend: Backend = module.NumbaBackend()
    return backend


def _load_numpy() -> Backend:
    from .reference import ReferenceBackend

    return ReferenceBackend()


_LOADERS: dict[str, Callable[[], Backend]] = {
    "cpp": _load_cpp,
    "numba": _load_numba,
    "numpy": _load_numpy,
}
_loaded: dict[str, Backend | BackendUnavailableError] = {}
_load_lock = threading.Lock()
_global_choice: str | None = None
_context_choice: ContextVar[str | None] = ContextVar("grokprop_backend", default=None)


def _check_name(name: object, source: str = "backend") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{source} must be a backend name (str) from {BACKEND_NAMES}, got {name!r}")
    if name not in _LOADERS:
        raise ValueError(f"unknown {source} {name!r}; grokprop's backends are {BACKEND_NAMES}")
    return name


def _load(name: str) -> Backend | BackendUnavailableError:
    loaded = _loaded.get(name)  # once loaded, never replaced: no lock needed to read it
    if loaded is not None:
        return loaded
    with _load_lock:
        if name not in _loaded:
            try:
                _loaded[name] = _LOADERS[name]()
            except BackendUnavailableError as exc:
                _loaded[name] = exc
        return _loaded[name]


def _instance(name: str) -> Backend:
    backend = _load(name)
    if isinstance(backend, BackendUnavailableError):
        # a fresh exception each time: re-raising the cached one would grow its traceback
        raise BackendUnavailableError(str(backend)) from backend.__cause__
    return backend


def backend_status() -> dict[str, str | None]:
    """Every known backend mapped to ``None`` if usable, else the reason it is not."""
    return {
        name: str(result) if isinstance(result := _load(name), Exception) else None
        for name in BACKEND_NAMES
    }


def available_backends() -> tuple[str, ...]:
    """The backends usable in this installation, fastest first."""
    return tuple(name for name, reason in backend_status().items() if reason is None)


def set_backend(name: str | None) -> None:
    """Set the process-wide backend (``None`` returns to env var / fastest available)."""
    global _global_choice
    if name is not None:
        _instance(_check_name(name))
    _global_choice = name


@contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Use backend ``name`` inside a ``with`` block (this thread / async task only)."""
    _instance(_check_name(name))
    token = _context_choice.set(name)
    try:
        yield name
    finally:
        _context_choice.reset(token)


def _selected_name(name: str | None = None) -> str:
    if name is not None:
        return _check_name(name)
    for choice in (_context_choice.get(), _global_choice):
        if choice is not None:
            return choice
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _check_name(from_env, f"{ENV_VAR} environment variable value")
    for candidate in BACKEND_NAMES:
        if not isinstance(_load(candidate), BackendUnavailableError):
            return candidate
    raise AssertionError("the numpy reference backend is always available")  # pragma: no cover


def get_backend() -> str:
    """The name of the backend a call without ``backend=`` would use now."""
    return _selected_name()


def resolve(name: str | None = None) -> Backend:
    """The backend object for a call's ``backend=`` argument, by precedence."""
    return _instance(_selected_name(name))
