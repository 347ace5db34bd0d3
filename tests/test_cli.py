"""The grokprop command line."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

import grokprop as gp
from grokprop.backends import known_backends
from grokprop.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_chapter6_prints_the_book_and_the_verification(
    backend: str, program5_errors: list[str], compiled_backends: tuple[str, ...]
) -> None:
    code, out = run("chapter6", "--backend", backend)
    assert code == 0, out
    lines = out.splitlines()
    assert f"on the '{backend}' backend" in lines[0]
    assert "Error:0.04 Prediction:-0.2" in lines
    assert "Error:8.30767497366e-06 Prediction:-0.00288230376152" in lines
    assert "Error:0.000533736773285" in lines
    start = lines.index(f"Error:{program5_errors[0]}")
    assert lines[start : start + 6] == [f"Error:{e}" for e in program5_errors]
    missing = [f"{name} unavailable" for name, why in gp.backend_status().items() if why]
    compared = ", ".join([*(f"{name} yes" for name in compiled_backends), *missing])
    assert lines[-1] == f"verify vs numpy reference, bitwise: {compared} -> OK"


@pytest.mark.parametrize(
    "args",
    [
        [],
        [
            "--sizes",
            "784,128,10",
            "--rows",
            "50",
            "--alpha",
            "0.005",
            "--epochs",
            "1",
            "--weight-scale",
            "0.1",
        ],
        [
            "--sizes",
            "784,128,10",
            "--rows",
            "50",
            "--epochs",
            "1",
            "--dtype",
            "float32",
            "--batch-size",
            "10",
        ],
        ["--sizes", "3,8,8,1", "--batch-size", "full", "--activation", "linear", "--alpha", "0.05"],
    ],
)
def test_verify_command_passes(args: list[str]) -> None:
    code, out = run("verify", *args)
    assert code == 0, out
    assert out.splitlines()[-1].endswith("-> OK")


def test_verify_command_bad_input_is_a_clear_error() -> None:
    code, out = run("verify", "--sizes", "3,x,1")
    assert code == 2 and "comma-separated integers" in out
    code, out = run("verify", "--batch-size", "9")
    assert code == 1 and "batch_size must be between 1" in out


@pytest.mark.backends("cpp")
def test_version_and_backends() -> None:
    code, out = run("--version")
    assert code == 0 and gp.__version__ in out
    code, out = run("backends")
    assert code == 0 and "selected: cpp" in out


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "grokprop"], [str(Path(sysconfig.get_path("scripts")) / "grokprop")]],
    ids=["python -m grokprop", "console script"],
)
def test_installed_entry_points(command: list[str]) -> None:
    out = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True)
    assert gp.__version__ in out.stdout


def test_backends_with_a_nonsense_environment_variable_is_a_one_line_error() -> None:
    result = CliRunner().invoke(main, ["backends"], env={"GROKPROP_BACKEND": "nope"})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(gp.backend_status())
    assert lines[-1] == (
        "Error: unknown GROKPROP_BACKEND environment variable value 'nope'; "
        f"grokprop's backends are {known_backends()}"
    )


def test_overfit_help_names_the_option_not_a_fixed_count() -> None:
    code, out = run("overfit", "--help")
    assert code == 0
    assert "first two" not in out
    assert "Train on the first --train-rows streetlights only; score on the rest" in out
    code, out = run("--help")
    assert "Train on the first --train-rows streetlights only;" in " ".join(out.split())
