"""Without an optional backend, grokprop imports and works on the others, and says which
backend is unavailable and why.

numba is optional (``grokprop[numba]``); the compiled extension may be missing or broken
(a broken build). Each scenario runs in a fresh interpreter in which importing the hidden
modules fails as if they were not installed, or, for a broken build, as its extension
fails (see ``run_hiding`` in conftest.py).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

import grokprop as gp
from grokprop.backends import BACKEND_NAMES
from grokprop.chapter6 import fmt


class Scenario(NamedTuple):
    hidden: list[str]
    """The modules the fresh interpreter cannot import."""
    broken: bool
    """They fail as a broken build's extension does, rather than as missing."""
    quoted: dict[str, str]
    """Each unavailable backend, and what its reason must quote of the import error."""


SCENARIOS = {
    "numba missing": Scenario(["numba"], False, {"numba": "hidden by the test"}),
    "core missing": Scenario(["grokprop._core"], False, {"cpp": "cannot import name '_core'"}),
    "core broken": Scenario(["grokprop._core"], True, {"cpp": "undefined symbol _Zgrokprop"}),
    "core and numba missing": Scenario(
        ["grokprop._core", "numba"],
        False,
        {"cpp": "cannot import name '_core'", "numba": "hidden by the test"},
    ),
}

# what every reason says, besides the import error it quotes: what failed, what to do
REASONS = {
    "numba": ("numba could not be imported", "pip install 'grokprop[numba]'"),
    "cpp": ("the compiled extension grokprop._core could not be imported", "reinstall grokprop"),
}

PROBE = """
import json, sys
import grokprop as gp

GONE, HIDDEN = sys.argv[1].split(","), sys.argv[2].split(",")
X, y = gp.datasets.streetlights("nonlinear")
def book_fit(backend=None):
    return gp.Network([3, 4, 1], seed=1).fit(X, y, alpha=0.2, epochs=60, backend=backend)

refused = {}
for name in GONE:
    refused[name] = {}
    for how, call in {
        "set_backend": lambda: gp.set_backend(name),
        "use_backend": lambda: gp.use_backend(name).__enter__(),
        "fit": lambda: book_fit(name),
    }.items():
        try:
            call()
        except gp.BackendUnavailableError as exc:
            refused[name][how] = str(exc)
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
    "imported": [name for name in HIDDEN if name in sys.modules],
}))
"""


def expected_available(scenario: Scenario) -> list[str]:
    """The backends a fresh interpreter in ``scenario`` must still have, given this one."""
    return [
        name
        for name in BACKEND_NAMES
        if name not in scenario.quoted and gp.backend_status()[name] is None
    ]


Probed = tuple[Scenario, dict[str, Any]]


@pytest.fixture(scope="module", params=list(SCENARIOS))
def probed(request: pytest.FixtureRequest, run_hiding) -> Probed:
    scenario = SCENARIOS[request.param]
    gone = ",".join(scenario.quoted)
    process = run_hiding(
        scenario.hidden, PROBE, gone, ",".join(scenario.hidden), broken=scenario.broken
    )
    assert process.returncode == 0, process.stderr
    result: dict[str, Any] = json.loads(process.stdout)
    return scenario, result


def test_import_works_and_each_hidden_backend_is_unavailable_with_the_reason(
    probed: Probed,
) -> None:
    scenario, probe = probed
    for name, quoted in scenario.quoted.items():
        reason = probe["status"][name]
        what, fix = REASONS[name]
        assert what in reason
        assert quoted in reason  # the underlying import error is passed on
        assert fix in reason  # and how to fix it
    assert probe["imported"] == []  # nothing hidden was imported after all


def test_the_other_backends_are_available(probed: Probed) -> None:
    scenario, probe = probed
    expected = expected_available(scenario)
    assert probe["available"] == expected
    assert {name for name, why in probe["status"].items() if why is None} == set(expected)
    if "numba" in scenario.hidden and "grokprop._core" in scenario.hidden:
        assert probe["available"] == ["numpy"]


def test_default_is_the_fastest_available_backend(probed: Probed) -> None:
    scenario, probe = probed
    assert probe["default"] == probe["default_fit"] == expected_available(scenario)[0]


def test_asking_for_a_hidden_backend_raises_the_reason(probed: Probed) -> None:
    scenario, probe = probed
    assert set(probe["refused"]) == set(scenario.quoted)
    for name, refused in probe["refused"].items():
        assert set(refused) == {"set_backend", "use_backend", "fit"}
        assert all(message == probe["status"][name] for message in refused.values())


def test_every_available_backend_computes_the_book(
    probed: Probed, program5_errors: list[str]
) -> None:
    scenario, probe = probed
    assert set(probe["errors"]) == set(expected_available(scenario))
    assert "numpy" in probe["errors"]
    for errors in probe["errors"].values():
        assert [fmt(e) for e in errors] == program5_errors


def test_verify_compares_the_rest_and_names_the_unavailable(probed: Probed) -> None:
    scenario, probe = probed
    ok, backends, summary = probe["verify"]
    expected = expected_available(scenario)
    assert ok
    assert backends == ["numpy", *(n for n in expected if n != "numpy"), "numpy-blas"]
    # the hidden ones, and any this interpreter lacks too (numba in the sdist check's venv)
    unavailable = ", ".join(
        f"{n} unavailable" for n in BACKEND_NAMES if n != "numpy" and n not in expected
    )
    assert summary.endswith(f"{unavailable} -> OK")


FIT = "gp.Network([3, 1], seed=0).fit([[1, 0, 1]], [0], alpha=0.1, epochs=1)"
PREDICT = "gp.Network([3, 1], seed=0).predict([[1, 0, 1]])"


@pytest.mark.parametrize(
    ("hidden", "name", "call"), [("numba", "numba", FIT), ("grokprop._core", "cpp", PREDICT)]
)
def test_a_hidden_backend_from_the_environment_variable_raises(
    run_hiding, hidden: str, name: str, call: str
) -> None:
    process = run_hiding(
        [hidden], f"import grokprop as gp; {call}", env={gp.backends.ENV_VAR: name}
    )
    assert process.returncode != 0
    assert f"BackendUnavailableError: the '{name}' backend is unavailable" in process.stderr


def test_command_line_reports_numba_unavailable(run_hiding) -> None:
    available = expected_available(SCENARIOS["numba missing"])
    process = run_hiding(["numba"], "from grokprop.cli import main; main()", "backends")
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[BACKEND_NAMES.index("numba")].startswith("numba  unavailable: ")
    assert "numba could not be imported" in lines[BACKEND_NAMES.index("numba")]
    assert lines[-1] == f"selected: {available[0]}"


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
