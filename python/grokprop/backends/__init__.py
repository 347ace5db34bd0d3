"""The backend registry and selection (docs/design.md, "The registry").

One table, :data:`REGISTRY`, says what grokprop knows of each backend: where its class
lives, what to install when it cannot load, what it can do (``bitwise``,
``parallel_sweep``) and a rough cost model for deciding whether a run is long enough
for a progress bar. Third parties add rows with :func:`register_backend`, in the spirit
of ``scipy.fft``'s backend registry; nothing else in grokprop keeps a list of names.

Selection precedence, highest first: the ``backend=`` argument of a call, the innermost
:func:`use_backend` block (per thread / async task: a ``ContextVar``), the process-wide
:func:`set_backend`, the ``GROKPROP_BACKEND`` environment variable, then the first
available backend of the table (the fastest). Backends load lazily, so
``import grokprop`` never imports numba or the C++ core.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import BackendUnavailableError
from ._protocol import Backend, Kernels

__all__ = [
    "BACKEND_NAMES",
    "ENV_VAR",
    "REGISTRY",
    "Backend",
    "BackendInfo",
    "CostModel",
    "Kernels",
    "available_backends",
    "backend_info",
    "backend_status",
    "get_backend",
    "known_backends",
    "register_backend",
    "resolve",
    "set_backend",
    "use_backend",
]

ENV_VAR = "GROKPROP_BACKEND"


@dataclass(frozen=True)
class CostModel:
    """A rough run-time model, only used to decide whether a run is "long" (progress bars).

    A training of ``epochs`` epochs over ``rows`` rows does about ``3 * weights`` multiply-
    adds per row and epoch (forward, back-propagation, update) and one update per batch.
    """

    seconds_per_madd: float
    seconds_per_update: float = 0.0

    def fit_seconds(self, n_weights: int, rows: int, epochs: int, batch_size: int) -> float:
        madds = 3 * epochs * rows * n_weights
        updates = epochs * -(-rows // batch_size)
        return madds * self.seconds_per_madd + updates * self.seconds_per_update


@dataclass(frozen=True)
class BackendInfo:
    """One row of the registry: a backend's name, where it lives and what it can do."""

    name: str
    loader: str | Callable[[], Backend]
    """``"package.module:Class"`` (imported on first use) or a callable making the backend."""
    requires: str = ""
    """What it needs, in words, for the message when it cannot be imported (e.g. "numba")."""
    install_hint: str = ""
    """What to do when it cannot be imported, e.g. ``pip install 'grokprop[numba]'``."""
    bitwise: bool = True
    """Under the bitwise contract: :func:`grokprop.verify` requires equality with the reference."""
    parallel_sweep: bool = False
    """Its ``sweep`` trains networks side by side on several threads."""
    polls_stop: bool = False
    """Its compiled ``train`` / ``sweep`` release the GIL and poll a stop flag, so a long run
    is started in a worker thread and answers Ctrl-C (docs/design.md, "Interrupts")."""
    cost: CostModel = CostModel(1.5e-9)
    reference: bool = False
    """The NumPy reference every other backend is compared with (exactly one)."""

    def load(self) -> Backend:
        """A new instance; :class:`BackendUnavailableError` (saying why) if it cannot load."""
        if callable(self.loader):
            backend = self.loader()
        else:
            module_name, _, attr = self.loader.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                needed = self.requires or exc.name or module_name
                raise BackendUnavailableError(
                    f"the {self.name!r} backend is unavailable: {needed} could not be "
                    f"imported ({exc})" + (f"; {self.install_hint}" if self.install_hint else "")
                ) from exc
            backend = getattr(module, attr)()
        if not isinstance(backend, Backend):
            raise BackendUnavailableError(
                f"backend {self.name!r} is not a grokprop.backends.Backend (a subclass "
                "supplying the kernels) "
                f"(got {type(backend).__name__})"
            )
        return backend


#: Every backend grokprop knows, fastest first (the default is the first available).
REGISTRY: dict[str, BackendInfo] = {}

_BUILTIN = (
    BackendInfo(
        "cpp",
        "grokprop.backends.cpp:CppBackend",
        requires="the compiled extension grokprop._core",
        install_hint="reinstall grokprop so its C++ core is built",
        parallel_sweep=True,
        polls_stop=True,
        cost=CostModel(seconds_per_madd=1.5e-9),
    ),
    BackendInfo(
        "numba",
        "grokprop.backends.numba_backend:NumbaBackend",
        requires="numba",
        install_hint="install it with: pip install 'grokprop[numba]'",
        parallel_sweep=True,
        polls_stop=True,
        cost=CostModel(seconds_per_madd=1.5e-9),
    ),
    BackendInfo(
        "numpy",
        "grokprop.backends.reference:ReferenceBackend",
        cost=CostModel(seconds_per_madd=30e-9, seconds_per_update=40e-6),
        reference=True,
    ),
)
REGISTRY.update((info.name, info) for info in _BUILTIN)
#: The built-in backends' names, fastest first.
BACKEND_NAMES: tuple[str, ...] = tuple(info.name for info in _BUILTIN)
#: The reference backend's name.
REFERENCE = next(info.name for info in _BUILTIN if info.reference)

_loaded: dict[str, Backend | BackendUnavailableError] = {}
_load_lock = threading.Lock()
_global_choice: str | None = None
_context_choice: ContextVar[str | None] = ContextVar("grokprop_backend", default=None)


def register_backend(
    name: str,
    loader: str | Callable[[], Backend],
    *,
    requires: str = "",
    install_hint: str = "",
    bitwise: bool = True,
    parallel_sweep: bool = False,
    polls_stop: bool = False,
    cost: CostModel | None = None,
    fastest: bool = False,
) -> BackendInfo:
    """Add a backend to the registry (after the built-in ones unless ``fastest``).

    ``loader`` is ``"module:Class"`` or a zero-argument callable returning an object with
    the eight :class:`Kernels` methods: a subclass of :class:`Backend`, which composes them
    (forward, step, train, sweep). A ``bitwise`` backend
    is held to bit-for-bit equality with the reference by :func:`grokprop.verify`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if name in REGISTRY:
        raise ValueError(f"a backend named {name!r} is already registered")
    if not (callable(loader) or (isinstance(loader, str) and ":" in loader)):
        raise TypeError(f"loader must be 'module:Class' or a callable, got {loader!r}")
    info = BackendInfo(
        name,
        loader,
        requires=requires,
        install_hint=install_hint,
        bitwise=bitwise,
        parallel_sweep=parallel_sweep,
        polls_stop=polls_stop,
        cost=cost or CostModel(1.5e-9),
    )
    with _load_lock:
        rows = [info, *REGISTRY.values()] if fastest else [*REGISTRY.values(), info]
        REGISTRY.clear()
        REGISTRY.update((row.name, row) for row in rows)
    return info


def known_backends() -> tuple[str, ...]:
    """Every registered backend's name, fastest first (available or not)."""
    return tuple(REGISTRY)


def backend_info(name: str) -> BackendInfo:
    """The registry row of backend ``name``."""
    return REGISTRY[_check_name(name)]


def _check_name(name: object, source: str = "backend") -> str:
    if isinstance(name, str) and name in REGISTRY:
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"{source} must be a backend name (str) from {known_backends()}, got {name!r}"
        )
    raise ValueError(f"unknown {source} {name!r}; grokprop's backends are {known_backends()}")


def _load(name: str) -> Backend | BackendUnavailableError:
    loaded = _loaded.get(name)  # once loaded, never replaced: no lock needed to read it
    if loaded is not None:
        return loaded
    with _load_lock:
        if name not in _loaded:
            try:
                _loaded[name] = REGISTRY[name].load()
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
        for name in REGISTRY
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
    from_env = _environment_choice()
    if from_env:
        return _check_name(from_env, f"{ENV_VAR} environment variable value")
    for candidate in REGISTRY:
        if not isinstance(_load(candidate), BackendUnavailableError):
            return candidate
    raise AssertionError("the numpy reference backend is always available")  # pragma: no cover


def _environment_choice() -> str | None:
    """``os.environ.get(ENV_VAR)``, read on every call (a test or a notebook may set it).

    ``os.environ.get`` of a name that is not set raises and catches a ``KeyError`` inside,
    about 1 µs: a quarter of a step on the book network. The dict behind ``os.environ``
    (CPython's ``_data``, kept in step by every change made through ``os.environ``)
    answers in a twentieth of that; anything else takes ``get``.
    """
    environ = os.environ
    data = getattr(environ, "_data", None)
    if type(data) is not dict or _ENV_KEY is None:
        return environ.get(ENV_VAR)
    raw = data.get(_ENV_KEY)
    return None if raw is None else str(environ.decodevalue(raw))


def _encoded_env_var() -> object:
    """ENV_VAR as a key of ``os.environ._data`` (bytes on POSIX, upper case on Windows)."""
    try:
        return os.environ.encodekey(ENV_VAR)
    except AttributeError:  # not CPython's os._Environ
        return None


_ENV_KEY = _encoded_env_var()


def get_backend() -> str:
    """The name of the backend a call without ``backend=`` would use now."""
    return _selected_name()


def resolve(name: str | None = None) -> Backend:
    """The backend object for a call's ``backend=`` argument, by precedence."""
    if name is None:
        name = _selected_name()
    loaded = _loaded.get(name)  # the common case: a backend loaded before
    if loaded is not None and not isinstance(loaded, BackendUnavailableError):
        return loaded
    return _instance(_selected_name(name))
