"""Without numba installed, grokprop imports and works, and says numba is unavailable and why.

numba is optional (``grokprop[numba]``). Each check runs in a fresh interpreter in which
importing numba fails as if it were not installed (see ``run_hiding`` in conftest.py).
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
def book_fit(backend=None):
    return gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60, backend=backend)

refused = {}
for how, call in {
    "set_backend": lambda: gp.set_backend("numba"),
    "use_backend": lambda: gp.use_backend("numba").__enter__(),
    "fit": lambda: book_fit("numba"),
}.items():
    try:
        call()
    except gp.BackendUnavailableError as exc:
        refused[how] = str(exc)
available = gp.available_backends()
report = gp.verify(gp.Network([3, 4, 1], seed=1), X, y, alpha=0.2, epochs=60)
print(json.dumps({
    "status": gp.backend_status(),
    "available": available,
    "default": gp.get_backend(),
    "default_fit": book_fit().backend,
    "refused": refused,
    "errors": {name: book_fit(name).errors[9::10].tolist() for name in available},
    "verify": [report.ok, report.backends, report.summary()],
    "numba_imported": "numba" in sys.modules,
}))
"""

# what a fresh interpreter without numba must report, given what this one has
EXPECTED_AVAILABLE = [
    name for name in BACKEND_NAMES if name != "numba" and gp.backend_status()[name] is None
]


@pytest.fixture(scope="module")
def probe(run_hiding) -> dict[str, Any]:
    process = run_hiding(["numba"], PROBE)
    assert process.returncode == 0, process.stderr
    result: dict[str, Any] = json.loads(process.stdout)
    return result


def test_import_works_and_numba_is_unavailable_with_the_reason(probe: dict[str, Any]) -> None:
    reason = probe["status"]["numba"]
    assert "numba could not be imported" in reason
    assert "hidden by the test" in reason  # the underlying ImportError is passed on
    assert "pip install 'grokprop[numba]'" in reason  # and how to fix it
    assert not probe["numba_imported"]


def test_the_other_backends_are_available(probe: dict[str, Any]) -> None:
    assert probe["available"] == EXPECTED_AVAILABLE
    assert {name for name, why in probe["status"].items() if why is None} == set(EXPECTED_AVAILABLE)


def test_default_is_the_fastest_available_backend(probe: dict[str, Any]) -> None:
    assert probe["default"] == probe["default_fit"] == EXPECTED_AVAILABLE[0]


def test_asking_for_numba_raises_the_reason(probe: dict[str, Any]) -> None:
    assert set(probe["refused"]) == {"set_backend", "use_backend", "fit"}
    assert all(message == probe["status"]["numba"] for message in probe["refused"].values())


def test_every_available_backend_computes_the_book(
    probe: dict[str, Any], program5_errors: list[str]
) -> None:
    assert set(probe["errors"]) == set(EXPECTED_AVAILABLE)
    for errors in probe["errors"].values():
        assert [fmt(e) for e in errors] == program5_errors


def test_verify_compares_the_rest_and_names_numba_unavailable(probe: dict[str, Any]) -> None:
    ok, backends, summary = probe["verify"]
    assert ok
    assert backends == ["numpy", *(n for n in EXPECTED_AVAILABLE if n != "numpy"), "numpy-blas"]
    assert summary.endswith("numba unavailable -> OK")


def test_numba_from_the_environment_variable_raises(run_hiding) -> None:
    code = "import grokprop as gp; gp.Network([3, 1], seed=0).fit([[1, 0, 1]], [0], alpha=0.1, epochs=1)"
    process = run_hiding(["numba"], code, env={gp.backends.ENV_VAR: "numba"})
    assert process.returncode != 0
    assert "BackendUnavailableError: the 'numba' backend is unavailable" in process.stderr


def test_command_line_reports_numba_unavailable(run_hiding) -> None:
    process = run_hiding(["numba"], "from grokprop.cli import main; main()", "backends")
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[BACKEND_NAMES.index("numba")].startswith("numba  unavailable: ")
    assert "numba could not be imported" in lines[BACKEND_NAMES.index("numba")]
    assert lines[-1] == f"selected: {EXPECTED_AVAILABLE[0]}"
