"""Without the compiled extension (a broken build), the numpy backend still works and ``cpp``
says why it is missing.

Each check runs in a fresh interpreter in which importing ``grokprop._core`` fails (see
``run_hiding`` in conftest.py); a second scenario hides numba as well, leaving the reference.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import grokprop as gp
from grokprop.backends import BACKEND_NAMES
from grokprop.chapter6 import fmt

PROBE = """
import json, sys
import grokprop as gp

X, y = gp.datasets.streetlights("nonlinear")
refused = {}
for how, call in {
    "set_backend": lambda: gp.set_backend("cpp"),
    "use_backend": lambda: gp.use_backend("cpp").__enter__(),
    "fit": lambda: gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=1, backend="cpp"),
}.items():
    try:
        call()
    except gp.BackendUnavailableError as exc:
        refused[how] = str(exc)
net = gp.Network([3, 4, 1], seed=1)
print(json.dumps({
    "status": gp.backend_status(),
    "available": gp.available_backends(),
    "default": gp.get_backend(),
    "refused": refused,
    "numpy_errors": net.fit(X, y, alpha=0.2, epochs=60, backend="numpy").errors[9::10].tolist(),
    "core_imported": "grokprop._core" in sys.modules,
}))
"""

# name -> (modules hidden, whether the extension is broken rather than missing, what the
# reason must quote of the import error)
SCENARIOS = {
    "core missing": (["grokprop._core"], False, "cannot import name '_core'"),
    "core broken": (["grokprop._core"], True, "undefined symbol _Zgrokprop"),
    "core and numba missing": (["grokprop._core", "numba"], False, "cannot import name '_core'"),
}


def expected_available(hidden: list[str]) -> list[str]:
    """The backends a fresh interpreter hiding ``hidden`` must still have, given this one."""
    gone = {"cpp"} | ({"numba"} if "numba" in hidden else set())
    return [
        name for name in BACKEND_NAMES if name not in gone and gp.backend_status()[name] is None
    ]


Scenario = tuple[list[str], str, dict[str, Any]]


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scenario(request: pytest.FixtureRequest, run_hiding) -> Scenario:
    hidden, broken, quoted = SCENARIOS[request.param]
    process = run_hiding(hidden, PROBE, broken=broken)
    assert process.returncode == 0, process.stderr
    return hidden, quoted, json.loads(process.stdout)


def test_cpp_is_unavailable_with_the_reason(scenario: Scenario) -> None:
    _, quoted, probe = scenario
    reason = probe["status"]["cpp"]
    assert "the compiled extension grokprop._core could not be imported" in reason
    assert quoted in reason  # the import error itself is passed on
    assert "reinstall grokprop" in reason  # and what to do about it
    assert not probe["core_imported"]


def test_default_is_the_fastest_backend_left(scenario: Scenario) -> None:
    hidden, _, probe = scenario
    assert probe["available"] == expected_available(hidden)
    assert probe["default"] == expected_available(hidden)[0]
    if "numba" in hidden:
        assert probe["available"] == ["numpy"]


def test_asking_for_cpp_raises_the_reason(scenario: Scenario) -> None:
    *_, probe = scenario
    assert set(probe["refused"]) == {"set_backend", "use_backend", "fit"}
    assert all(message == probe["status"]["cpp"] for message in probe["refused"].values())


def test_numpy_backend_computes_the_book(scenario: Scenario, program5_errors: list[str]) -> None:
    *_, probe = scenario
    assert [fmt(e) for e in probe["numpy_errors"]] == program5_errors


def test_command_line_runs_the_chapter_on_what_is_left(run_hiding) -> None:
    process = run_hiding(
        ["grokprop._core", "numba"], "from grokprop.cli import main; main()", "chapter6"
    )
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert "on the 'numpy' backend" in lines[0]
    assert "Error:1.50556226651e-05" in lines
    assert lines[-1] == (
        "verify vs numpy reference, bitwise: cpp unavailable, numba unavailable -> OK"
    )


def test_cpp_from_the_environment_variable_raises(run_hiding) -> None:
    code = "import grokprop as gp; gp.Network([3, 1], seed=0).predict([[1, 0, 1]])"
    process = run_hiding(["grokprop._core"], code, env={gp.backends.ENV_VAR: "cpp"})
    assert process.returncode != 0
    assert "BackendUnavailableError: the 'cpp' backend is unavailable" in process.stderr
