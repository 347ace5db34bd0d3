"""Shared fixtures: every test that takes ``backend`` runs once per backend.

The suite requires all three backends: a missing one is a failure
(``test_every_backend_is_available``), never a silent skip or fallback.
"""

from __future__ import annotations

import numpy as np
import pytest

import grokprop as gp
from grokprop.backends import BACKEND_NAMES


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
