"""The chapter's claims, measured: programs 6–8 and the chapter's overfitting remark.

Each experiment is a function returning a result object that holds the data and renders
it with ``table()`` (the CLI prints that) and, where it makes sense, ``plot(path)``:

* :func:`pressure` — which way each example pushes each weight of a linear network
  (the chapter's "up and down pressure" table) and where training takes the weights;
* :func:`linear_vs_nonlinear` — the deep network with and without relu, and a network
  without hidden layer, on the nonlinear streetlights, over many seeds;
* :func:`overfit` — networks trained on the first streetlights only (two by default),
  scored on the ones they never saw;
* :func:`modes` — stochastic, mini-batch and full gradient descent on the streetlights;
* :func:`boolean_functions` — every boolean function of three lights at hidden widths
  0-8: the fraction of seeds that learn it (a grid, :func:`grokprop.sweep_grid`).

One module per experiment holds its result classes and its function; its ``DEFAULTS``
(exported here as ``<EXPERIMENT>_DEFAULTS``) are the function's defaults and the
command line's. Sweeps over seeds run through :func:`grokprop.sweep` (all networks in
compiled code); held-out errors follow the evaluation order (docs/design.md, "Evaluation
order"), so they equal what ``Network(weights=...).predict`` gives, bit for bit.
"""

from __future__ import annotations

from ._common import CONVERGED, DATA_KINDS, FIRST_SEED, QUANTILES
from .boolean_functions import DEFAULTS as BOOLEAN_FUNCTIONS_DEFAULTS
from .boolean_functions import (
    BooleanFunctionsDefaults,
    BooleanFunctionsResult,
    boolean_functions,
    linearly_separable,
)
from .linear_vs_nonlinear import DEFAULTS as LINEAR_VS_NONLINEAR_DEFAULTS
from .linear_vs_nonlinear import (
    ConvergenceRow,
    LinearVsNonlinearDefaults,
    LinearVsNonlinearResult,
    linear_vs_nonlinear,
)
from .modes import DEFAULTS as MODES_DEFAULTS
from .modes import ModeRun, ModesDefaults, ModesResult, modes
from .overfit import DEFAULTS as OVERFIT_DEFAULTS
from .overfit import OverfitDefaults, OverfitResult, OverfitRow, held_out_errors, overfit
from .pressure import AT_CHOICES as PRESSURE_AT_CHOICES
from .pressure import DEFAULTS as PRESSURE_DEFAULTS
from .pressure import PressureDefaults, PressureResult, pressure

__all__ = [
    "BOOLEAN_FUNCTIONS_DEFAULTS",
    "CONVERGED",
    "DATA_KINDS",
    "FIRST_SEED",
    "LINEAR_VS_NONLINEAR_DEFAULTS",
    "MODES_DEFAULTS",
    "OVERFIT_DEFAULTS",
    "PRESSURE_AT_CHOICES",
    "PRESSURE_DEFAULTS",
    "QUANTILES",
    "BooleanFunctionsDefaults",
    "BooleanFunctionsResult",
    "ConvergenceRow",
    "LinearVsNonlinearDefaults",
    "LinearVsNonlinearResult",
    "ModeRun",
    "ModesDefaults",
    "ModesResult",
    "OverfitDefaults",
    "OverfitResult",
    "OverfitRow",
    "PressureDefaults",
    "PressureResult",
    "boolean_functions",
    "held_out_errors",
    "linear_vs_nonlinear",
    "linearly_separable",
    "modes",
    "overfit",
    "pressure",
]
