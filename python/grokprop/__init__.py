"""grokprop: chapter 6 of *Grokking Deep Learning*, exact and fast.

One network API over three backends that agree bit for bit: ``numpy`` (the
reference), ``numba`` (JIT) and ``cpp`` (pybind11). See :func:`set_backend`,
:func:`use_backend`, :func:`register_backend` and :func:`verify`; the design is in
docs/design.md.
"""

from . import datasets, experiments, figures
from ._version import __version__
from .backends import (
    available_backends,
    backend_status,
    get_backend,
    register_backend,
    set_backend,
    use_backend,
)
from .check import check_step
from .errors import BackendUnavailableError, DivergenceError
from .explain import explain_step
from .explorer import explore  # the widgets load when an explorer is made
from .grid import Grid, GridRun, read_grid, sweep_grid
from .network import History, Network, StepTrace
from .setups import Setup
from .specs import Activation, SweepSpec, TrainSpec
from .sweep import SweepResult, sweep
from .verify import VerifyReport, verify

__all__ = [
    "Activation",
    "BackendUnavailableError",
    "DivergenceError",
    "Grid",
    "GridRun",
    "History",
    "Network",
    "Setup",
    "StepTrace",
    "SweepResult",
    "SweepSpec",
    "TrainSpec",
    "VerifyReport",
    "__version__",
    "available_backends",
    "backend_status",
    "check_step",
    "datasets",
    "experiments",
    "explain_step",
    "explore",
    "figures",
    "get_backend",
    "read_grid",
    "register_backend",
    "set_backend",
    "sweep",
    "sweep_grid",
    "use_backend",
    "verify",
]
