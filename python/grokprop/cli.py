"""The ``grokprop`` command line (click)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import numpy as np

from . import datasets
from ._version import __version__
from .backends import BACKEND_NAMES, backend_status, get_backend, use_backend
from .chapter6 import run_all
from .errors import BackendUnavailableError
from .network import Network
from .verify import verify

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors_as_click(command: F) -> F:
    """Bad values, unavailable backends and absurd sizes end in a one-line message."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ValueError, TypeError, MemoryError, BackendUnavailableError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _parse_sizes(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers like 3,4,1, got {value!r}"
        ) from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise click.BadParameter(f"expected at least two positive sizes like 3,4,1, got {value!r}")
    return sizes


def _parse_batch_size(_ctx: click.Context, _param: click.Parameter, value: str) -> int | None:
    if value == "full":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"expected a positive integer or 'full', got {value!r}") from None


backend_option = click.option(
    "--backend",
    type=click.Choice(BACKEND_NAMES),
    default=None,
    help="Backend to run on (default: GROKPROP_BACKEND, else the fastest available).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grokprop")
def main() -> None:
    """grokprop: chapter 6 of Grokking Deep Learning on numpy, numba and C++ backends."""


@main.command()
@backend_option
@_user_errors_as_click
def chapter6(backend: str | None) -> None:
    """Run the chapter's programs 1-5 and verify every backend against the reference."""
    chosen = backend or get_backend()
    with use_backend(chosen):
        click.echo(f"grokprop {__version__} — chapter 6 on the '{chosen}' backend\n")
        for line in run_all():
            click.echo(line)
        X, y = datasets.streetlights("nonlinear")
        report = verify(Network([3, 4, 1], seed=1), X, y, alpha=0.2, epochs=60)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@main.command(name="verify")
@click.option(
    "--sizes",
    default="3,4,1",
    callback=_parse_sizes,
    show_default=True,
    help="Layer sizes, comma-separated.",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the book initialisation.")
@click.option("--alpha", default=0.2, show_default=True, help="Learning rate.")
@click.option("--epochs", default=60, show_default=True, help="Passes over the data.")
@click.option(
    "--batch-size",
    default="1",
    callback=_parse_batch_size,
    show_default=True,
    help="1 = stochastic, N = mini-batch, 'full' = full batch.",
)
@click.option(
    "--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True
)
@click.option(
    "--activation", type=click.Choice(["relu", "linear"]), default="relu", show_default=True
)
@click.option(
    "--data",
    type=click.Choice(["auto", "linear", "nonlinear", "random"]),
    default="auto",
    show_default=True,
    help="auto: the nonlinear streetlights for 3-...-1 nets, random one-hot otherwise.",
)
@click.option(
    "--rows",
    default=100,
    type=click.IntRange(min=1),
    show_default=True,
    help="Rows of random data.",
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(BACKEND_NAMES),
    help="Compare only these backends (repeatable; default: every available one).",
)
@_user_errors_as_click
def verify_command(
    sizes: tuple[int, ...],
    seed: int,
    alpha: float,
    epochs: int,
    batch_size: int | None,
    dtype: str,
    activation: str,
    data: str,
    rows: int,
    backends: tuple[str, ...],
) -> None:
    """Train one network on every backend; exit 1 unless all are bitwise equal."""
    if data == "auto":
        data = "nonlinear" if sizes[0] == 3 and sizes[-1] == 1 else "random"
    X: np.ndarray
    y: np.ndarray
    if data == "random":
        X, y = datasets.random_onehot(rows, sizes[0], sizes[-1], seed=seed)
    else:
        X, y = datasets.streetlights(data)  # type: ignore[arg-type]
    net = Network(sizes, seed=seed, activation=activation, dtype=dtype)
    report = verify(
        net,
        X,
        y,
        alpha=alpha,
        epochs=epochs,
        batch_size=batch_size,
        backends=backends or None,
    )
    click.echo(report.table())
    if not report.ok:
        sys.exit(1)


@main.command()
def backends() -> None:
    """List the backends, which one is selected, and why any is unavailable."""
    for name, reason in backend_status().items():
        click.echo(f"{name:<6} {'available' if reason is None else 'unavailable: ' + reason}")
    click.echo(f"selected: {get_backend()}")
