"""The README's examples do what it says: the tour and the experiments' "From Python" block
run as written, and each sample output of a command is what the command prints today
(only the time a run took may differ)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grokprop.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def python_block(after: str) -> str:
    """The first ```python block after the heading or line ``after``."""
    start = README.index(after)
    match = re.search(r"```python\n(.*?)```", README[start:], re.DOTALL)
    assert match is not None, after
    return match.group(1)


def run_block(after: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The names the README's ``python_block(after)`` defines, run in ``directory``."""
    monkeypatch.chdir(directory)
    names: dict[str, object] = {}
    exec(python_block(after), names)  # noqa: S102 - the README's own code
    return names


def test_the_tour_runs_as_written_and_steps_an_untrained_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = run_block("## A short tour", tmp_path, monkeypatch)
    trace = names["trace"]
    assert round(trace.error, 5) == 1.04304  # type: ignore[attr-defined]  # the book's program 4
    # the step is the book's program 4 on an untrained network: not all zeros
    assert all(np.any(d != 0) for d in trace.weight_deltas)  # type: ignore[attr-defined]
    assert names["report"].ok  # type: ignore[attr-defined]


def test_the_experiments_from_python_block_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = run_block("From Python:", tmp_path, monkeypatch)
    relu = names["result"]["[3, 4, 1] relu"]  # type: ignore[index]
    assert relu.converged_fraction() == 0.3783  # the README's comment
    assert (tmp_path / "lvn.png").stat().st_size > 0
    assert (tmp_path / "errors.png").stat().st_size > 0


SAMPLES = re.findall(r"```text\n\$ (grokprop [^\n]*)\n(.*?)```", README, re.DOTALL)
TIMING = re.compile(r"trained in [0-9.]+ s")


def test_the_readme_has_the_experiments_samples() -> None:
    commands = [command.split()[1] for command, _ in SAMPLES]
    for name in ("pressure", "linear-vs-nonlinear", "overfit", "modes"):
        assert name in commands


@pytest.mark.parametrize(("command", "shown"), SAMPLES, ids=[c for c, _ in SAMPLES])
def test_a_sample_output_is_what_the_command_prints(
    tmp_path: Path, command: str, shown: str
) -> None:
    args = shlex.split(command)[1:]
    figure = "docs/linear_vs_nonlinear.png"
    result = CliRunner().invoke(
        main, [str(tmp_path / "figure.png") if a == figure else a for a in args]
    )
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(str(tmp_path / "figure.png"), figure)
    assert TIMING.sub("trained in T s", printed) == TIMING.sub("trained in T s", shown)


def test_the_lean_dask_exports_are_the_lean_settings() -> None:
    """ "Sweeps at scale" gives grokprop's lean Dask settings as environment variables."""
    from grokprop.grid_cli import lean_dask_environment

    exports = dict(re.findall(r"^export (DASK_\w+)=(\S+)$", README, re.MULTILINE))
    assert exports == lean_dask_environment()
