"""The grokprop command line."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

import grokprop as gp
from grokprop import experiments
from grokprop.backends import known_backends
from grokprop.cli import EXIT_DIVERGED, main


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
        ["--activation", "sigmoid", "--epochs", "20", "--dtype", "float32"],
        ["--activation", "tanh", "--epochs", "20", "--batch-size", "2"],
    ],
)
def test_verify_command_passes(args: list[str]) -> None:
    code, out = run("verify", *args)
    assert code == 0, out
    assert out.splitlines()[-1].endswith("-> OK")


def test_verify_of_a_diverged_training_exits_with_its_own_status() -> None:
    args = ["--activation", "linear", "--alpha", "100", "--epochs", "5", "--data", "linear"]
    code, out = run("verify", *args)
    assert code == EXIT_DIVERGED == 3, out
    assert "-> OK; WARNING: the training diverged in epoch 0" in out
    assert "--allow-divergence" in out
    code, out = run("verify", *args, "--allow-divergence")
    assert code == 0, out
    assert "WARNING: the training diverged" in out


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


SMALL_GRID = str(Path(__file__).with_name("grid_small.toml"))
OUT_OF_RANGE = {
    "chapter6": [["--backend", "nope"]],
    "verify": [
        ["--epochs", "-1"],
        ["--alpha", "0"],
        ["--alpha", "nan"],
        ["--seed", "-1"],
        ["--seed", str(2**32)],
        ["--rows", "0"],
        ["--weight-scale", "-1"],
        ["--sizes", "0,1"],
        ["--batch-size", "0"],
        ["--epochs", str(10**23)],
        ["--sizes", "3,99999999999,1"],
        ["--dtype", "float16"],
        ["--activation", "softmax"],
    ],
    "pressure": [
        ["--epochs", "-1"],
        ["--alpha", "0"],
        ["--alpha", "inf"],
        ["--at", "later"],
        ["--data", "circular"],
        ["--plot", "/nonexistent-dir/p.png"],
    ],
    "linear-vs-nonlinear": [
        ["--seeds", "0"],
        ["--seeds", str(10**17)],
        ["--hidden", "0"],
        ["--hidden", "99999999999"],
        ["--epochs", "-1"],
        ["--alpha", "-1"],
        ["--threshold", "0"],
        ["--threshold", "nan"],
        ["--first-seed", "-1"],
        ["--first-seed", str(2**32 - 1)],
        ["--backend", "nope"],
        ["--activations", "relu,linear"],
        ["--activations", "relu,relu"],
        ["--activations", "softmax"],
    ],
    "overfit": [
        ["--train-rows", "6"],
        ["--train-rows", "0"],
        ["--threshold", "-1"],
        ["--alpha", "0"],
        ["--epochs", "-5"],
        ["--seeds", "0"],
    ],
    "explain": [
        ["--sizes", "3,0,1"],
        ["--sizes", "2,3,1"],
        ["--alpha", "0"],
        ["--seed", "-1"],
        ["--row", "9"],
        ["--row", "x"],
        ["--backend", "nope"],
    ],
    "modes": [
        ["--batch-sizes", "0"],
        ["--batch-sizes", "7"],
        ["--batch-sizes", ""],
        ["--batch-sizes", "1,x"],
        ["--epochs", "-1"],
        ["--epochs", str(10**10)],
        ["--threshold", "nan"],
        ["--alpha", "0"],
        ["--first-seed", "-2"],
        ["--data", "nonlinear", "--batch-sizes", "5"],
    ],
    "sweep": [
        [SMALL_GRID, "--workers", "0"],
        [SMALL_GRID, "--chunk-size", "0"],
        [SMALL_GRID, "--backend", "nope"],
        [SMALL_GRID, "--scheduler", "tcp://127.0.0.1:1", "--workers", "1"],
        ["no-such-grid.toml"],
    ],
    "boolean-functions": [
        ["--seeds", "0"],
        ["--max-width", "-1"],
        ["--max-width", str(10**9)],  # its grid cells would not fit in memory
        ["--alpha", "0"],
        ["--epochs", "-1"],
        ["--threshold", "0"],
        ["--workers", "0"],
        ["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"],
        ["--plot", "/nonexistent-dir/p.png"],
    ],
    "explore": [  # refused before Voilà starts
        ["--port", "70000"],
        ["--port", "-1"],
        ["--setup", "/nonexistent-dir/setup.json"],
    ],
}


@pytest.mark.parametrize(
    ("command", "args"),
    [(command, args) for command, cases in OUT_OF_RANGE.items() for args in cases],
    ids=[
        f"{command} {' '.join(args)}" for command, cases in OUT_OF_RANGE.items() for args in cases
    ],
)
def test_an_out_of_range_option_is_a_one_line_error(command: str, args: list[str]) -> None:
    result = CliRunner().invoke(main, [command, *args])
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), result.output
    assert len(errors[0]) > len("Error: ") + 10  # a message, not an empty one


def test_every_subcommand_is_covered_by_the_out_of_range_checks() -> None:
    assert set(OUT_OF_RANGE) | {"backends"} == set(main.commands)  # backends: no options


def test_a_failed_allocation_without_a_message_still_says_what_happened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def out_of_memory(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(experiments, "overfit", out_of_memory)
    code, out = run("overfit")
    assert code == 1 and out.strip() == "Error: not enough memory"
