"""Shared fixtures: every test that takes ``backend`` runs once per backend.

The suite requires all three backends: a missing one is a failure
(``test_every_backend_is_available``), never a silent skip or fallback.
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends import BACKEND_NAMES

#: SPEC §4 program 5 (the book): the error after every 10th of 60 epochs, as printed.
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


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def book_net_data() -> tuple[np.ndarray, np.ndarray]:
    return gp.datasets.streetlights("nonlinear")


@pytest.fixture(autouse=True)
def _reset_global_backend(monkeypatch: pytest.MonkeyPatch):
    """No test leaks a global backend choice or GROKPROP_BACKEND into the next."""
    monkeypatch.delenv(gp.backends.ENV_VAR, raising=False)
    yield
    gp.set_backend(None)
