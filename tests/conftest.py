"""Shared fixtures: every test that takes ``backend`` runs once per backend.

The suite requires all three backends: a missing one is a failure
(``test_every_backend_is_available``), never a silent skip or fallback.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

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


# Hypothesis profiles: "ci" (the default) runs 500 examples per property, the fuzz budget
# of every CI run; HYPOTHESIS_PROFILE=dev runs 50 while iterating, =thorough 5000. Tests
# that pin their own max_examples (test_bitwise.py) keep it. No deadline: the first
# example of a new shape may wait for numba to compile.
settings.register_profile("ci", max_examples=500, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
