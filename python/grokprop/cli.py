"""The ``grokprop`` command line (click)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np

from . import datasets, experiments
from ._version import __version__
from .backends import backend_status, get_backend, known_backends, use_backend
from .chapter6 import run_all
from .errors import BackendUnavailableError, DivergenceError
from .explain import CONVENTIONS, explanation
from .network import Network
from .specs import FLOAT_DTYPES, Activation
from .verify import verify

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Program5:
    """The chapter's program 5: what ``chapter6`` verifies and what ``verify`` trains by default."""

    sizes: tuple[int, ...] = (3, 4, 1)
    seed: int = 1
    alpha: float = 0.2
    epochs: int = 60
    batch_size: int = 1
    activation: Activation = Activation.RELU
    dtype: str = "float64"


_PROGRAM5 = _Program5()


#: ``grokprop verify`` exit statuses: a backend differs from the reference; the backends
#: agree but the training diverged (click itself exits 2 for a usage error).
EXIT_MISMATCH = 1
EXIT_DIVERGED = 3


def _default_first(choices: Sequence[str], default: str) -> list[str]:
    """The choices of an option with its default first, as ``--help`` lists them."""
    return [default, *(choice for choice in choices if choice != default)]


def _batch_size_text(batch_size: int | None) -> str:
    return "full" if batch_size is None else str(batch_size)


def _user_errors_as_click(command: F) -> F:
    """Bad values, unavailable backends and absurd sizes end in a one-line message."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (
            ValueError,
            TypeError,
            MemoryError,
            BackendUnavailableError,
            DivergenceError,
        ) as exc:
            # a bare MemoryError (a failed allocation) has no message of its own
            message = str(exc) or ("not enough memory" if isinstance(exc, MemoryError) else "")
            raise click.ClickException(message or type(exc).__name__) from exc

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


def _batch_size(value: str) -> int | None:
    if value == "full":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"expected a positive integer or 'full', got {value!r}") from None


def _parse_batch_size(_ctx: click.Context, _param: click.Parameter, value: str) -> int | None:
    return _batch_size(value)


def _parse_batch_sizes(
    _ctx: click.Context, _param: click.Parameter, value: str
) -> list[int | None]:
    return [_batch_size(part.strip()) for part in value.split(",")]


backend_option = click.option(
    "--backend",
    type=click.Choice(known_backends()),
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
        net = Network(list(_PROGRAM5.sizes), seed=_PROGRAM5.seed)
        report = verify(
            net,
            X,
            y,
            alpha=_PROGRAM5.alpha,
            epochs=_PROGRAM5.epochs,
            batch_size=_PROGRAM5.batch_size,
        )
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@main.command(name="verify")
@click.option(
    "--sizes",
    default=",".join(map(str, _PROGRAM5.sizes)),
    callback=_parse_sizes,
    show_default=True,
    help="Layer sizes, comma-separated.",
)
@click.option(
    "--seed", default=_PROGRAM5.seed, show_default=True, help="Seed of the book initialisation."
)
@click.option("--alpha", default=_PROGRAM5.alpha, show_default=True, help="Learning rate.")
@click.option("--epochs", default=_PROGRAM5.epochs, show_default=True, help="Passes over the data.")
@click.option(
    "--batch-size",
    default=_batch_size_text(_PROGRAM5.batch_size),
    callback=_parse_batch_size,
    show_default=True,
    help="1 = stochastic, N = mini-batch, 'full' = full batch.",
)
@click.option(
    "--dtype",
    type=click.Choice(_default_first(tuple(FLOAT_DTYPES), _PROGRAM5.dtype)),
    default=_PROGRAM5.dtype,
    show_default=True,
)
@click.option(
    "--activation",
    type=click.Choice(_default_first(Activation.labels(), _PROGRAM5.activation.label)),
    default=_PROGRAM5.activation.label,
    show_default=True,
)
@click.option(
    "--data",
    type=click.Choice(["auto", *experiments.DATA_KINDS, "random"]),
    default="auto",
    show_default=True,
    help="auto: the nonlinear streetlights for 3-...-1 nets, random one-hot otherwise.",
)
@click.option(
    "--weight-scale",
    default=1.0,
    show_default=True,
    help="Scale of the seeded initial weights (1 = the book; use ~0.1 for 784-wide nets).",
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
    type=click.Choice(known_backends()),
    help="Compare only these backends (repeatable; default: every available one).",
)
@click.option(
    "--allow-divergence",
    is_flag=True,
    help=f"Exit 0 for a training that diverged if the backends agree (else {EXIT_DIVERGED}).",
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
    weight_scale: float,
    rows: int,
    backends: tuple[str, ...],
    allow_divergence: bool,
) -> None:
    """Train one network on every backend; exit 1 unless all are bitwise equal, and 3 if
    they agree but the training diverged (unless --allow-divergence)."""
    if data == "auto":
        data = "nonlinear" if sizes[0] == 3 and sizes[-1] == 1 else "random"
    X: np.ndarray
    y: np.ndarray
    if data == "random":
        X, y = datasets.random_onehot(rows, sizes[0], sizes[-1], seed=seed)
    else:
        X, y = datasets.streetlights(data)  # type: ignore[arg-type]
    net = Network(sizes, seed=seed, activation=activation, dtype=dtype, weight_scale=weight_scale)
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
        sys.exit(EXIT_MISMATCH)
    if report.diverged and not allow_divergence:
        click.echo(
            f"the training diverged in epoch {report.diverged_in_epoch}: the backends agree, "
            "but on a diverged result (exit status "
            f"{EXIT_DIVERGED}; --allow-divergence accepts it)",
            err=True,
        )
        sys.exit(EXIT_DIVERGED)


@main.command()
@_user_errors_as_click
def backends() -> None:
    """List the backends, which one is selected, and why any is unavailable."""
    for name, reason in backend_status().items():
        click.echo(f"{name:<6} {'available' if reason is None else 'unavailable: ' + reason}")
    click.echo(f"selected: {get_backend()}")


# -- the chapter's experiments (grokprop.experiments) -------------------------------------------


def _check_plot_path(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse a figure path whose directory cannot take it before the experiment runs."""
    if value is None:
        return None
    directory = Path(value).parent
    if not directory.exists():
        raise click.BadParameter(f"cannot write {value}: there is no directory {directory}")
    if not directory.is_dir():
        raise click.BadParameter(f"cannot write {value}: {directory} is not a directory")
    if not os.access(directory, os.W_OK):
        raise click.BadParameter(f"cannot write {value}: the directory {directory} is read-only")
    return value


plot_option = click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    callback=_check_plot_path,
    help="Also draw a figure to this file (e.g. out.png; needs grokprop[plot]).",
)


def seeds_option(default: int) -> Callable[[F], F]:
    """``--seeds`` with an experiment's default count."""
    return click.option(
        "--seeds",
        "n_seeds",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="How many seeds (networks of each kind).",
    )


first_seed_option = click.option(
    "--first-seed",
    default=experiments.FIRST_SEED,
    show_default=True,
    help="Seeds run from this one upwards.",
)
threshold_option = click.option(
    "--threshold",
    default=experiments.CONVERGED,
    show_default=True,
    help="Converged / memorized means an error below this.",
)


def data_option(default: str) -> Callable[[F], F]:
    """``--data`` with an experiment's default problem."""
    return click.option(
        "--data",
        type=click.Choice(experiments.DATA_KINDS),
        default=default,
        show_default=True,
        help="The six streetlights (linear) or the four nonlinear ones.",
    )


def _show(result: Any, plot_path: str | None) -> None:
    """Print a result's table; draw its figure when asked (a clear message without matplotlib)."""
    click.echo(result.table())
    if plot_path is not None:
        try:
            written = result.plot(plot_path)
        except ImportError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # e.g. the disk is full, or the directory went away
            raise click.ClickException(
                f"cannot write the figure to {plot_path}: {exc.strerror or exc}"
            ) from exc
        click.echo(f"\nfigure written to {written}")


_PRESSURE = experiments.PRESSURE_DEFAULTS
_LVN = experiments.LINEAR_VS_NONLINEAR_DEFAULTS
_OVERFIT = experiments.OVERFIT_DEFAULTS
_MODES = experiments.MODES_DEFAULTS


@main.command()
@data_option(_PRESSURE.data)
@click.option(
    "--at",
    type=click.Choice(experiments.PRESSURE_AT_CHOICES),
    default=_PRESSURE.at,
    show_default=True,
    help="Predictions to evaluate the pressure at: halfway between the goals (the chapter's "
    "table), the starting weights, or the trained weights.",
)
@click.option(
    "--alpha", default=_PRESSURE.alpha, show_default=True, help="Learning rate of the training."
)
@click.option(
    "--epochs", default=_PRESSURE.epochs, show_default=True, help="Epochs of the training."
)
@backend_option
@plot_option
@_user_errors_as_click
def pressure(
    data: str, at: str, alpha: float, epochs: int, backend: str | None, plot_path: str | None
) -> None:
    """The weight-pressure table: which way each example pushes each weight (program 6)."""
    result = experiments.pressure(data, at=at, alpha=alpha, epochs=epochs, backend=backend)  # type: ignore[arg-type]
    _show(result, plot_path)


@main.command(name="linear-vs-nonlinear")
@seeds_option(_LVN.n_seeds)
@first_seed_option
@click.option("--alpha", default=_LVN.alpha, show_default=True, help="Learning rate.")
@click.option("--epochs", default=_LVN.epochs, show_default=True, help="Epochs per network.")
@click.option("--hidden", default=_LVN.hidden, show_default=True, help="Hidden layer size.")
@click.option(
    "--activations",
    default=",".join(a.label for a in _LVN.activations),
    show_default=True,
    help="The nonlinear rows, comma-separated, e.g. relu,sigmoid,tanh.",
)
@threshold_option
@backend_option
@plot_option
@_user_errors_as_click
def linear_vs_nonlinear(
    n_seeds: int,
    first_seed: int,
    alpha: float,
    epochs: int,
    hidden: int,
    activations: str,
    threshold: float,
    backend: str | None,
    plot_path: str | None,
) -> None:
    """[3,4,1] with and without relu, and [3,1], on the nonlinear streetlights (program 7)."""
    result = experiments.linear_vs_nonlinear(
        n_seeds,
        first_seed=first_seed,
        alpha=alpha,
        epochs=epochs,
        hidden=hidden,
        activations=[part.strip() for part in activations.split(",")],
        threshold=threshold,
        backend=backend,
    )
    _show(result, plot_path)


@main.command()
@seeds_option(_OVERFIT.n_seeds)
@first_seed_option
@click.option(
    "--train-rows",
    default=_OVERFIT.train_rows,
    show_default=True,
    help="Train on this many first streetlights.",
)
@click.option("--alpha", default=_OVERFIT.alpha, show_default=True, help="Learning rate.")
@click.option("--epochs", default=_OVERFIT.epochs, show_default=True, help="Epochs per network.")
@threshold_option
@backend_option
@plot_option
@_user_errors_as_click
def overfit(
    n_seeds: int,
    first_seed: int,
    train_rows: int,
    alpha: float,
    epochs: int,
    threshold: float,
    backend: str | None,
    plot_path: str | None,
) -> None:
    """Train on the first --train-rows streetlights only; score on the rest (memorize vs
    generalize)."""
    result = experiments.overfit(
        n_seeds,
        first_seed=first_seed,
        train_rows=train_rows,
        alpha=alpha,
        epochs=epochs,
        threshold=threshold,
        backend=backend,
    )
    _show(result, plot_path)


@main.command()
@data_option(_MODES.data)
@click.option(
    "--batch-sizes",
    default=",".join(_batch_size_text(size) for size in _MODES.batch_sizes),
    callback=_parse_batch_sizes,
    show_default=True,
    help="Comma-separated batch sizes; 1 = stochastic, 'full' = the whole dataset.",
)
@seeds_option(_MODES.n_seeds)
@first_seed_option
@click.option(
    "--alpha",
    type=float,
    default=None,
    help="Learning rate (default: "
    + ", ".join(f"{alpha:g} {data}" for data, alpha in _MODES.alphas.items())
    + ").",
)
@click.option("--epochs", default=_MODES.epochs, show_default=True, help="Epochs per run.")
@threshold_option
@backend_option
@plot_option
@_user_errors_as_click
def modes(
    data: str,
    batch_sizes: list[int | None],
    n_seeds: int,
    first_seed: int,
    alpha: float | None,
    epochs: int,
    threshold: float,
    backend: str | None,
    plot_path: str | None,
) -> None:
    """Stochastic vs mini-batch vs full gradient descent: epochs to converge (program 8)."""
    result = experiments.modes(
        data,  # type: ignore[arg-type]
        batch_sizes=batch_sizes,
        n_seeds=n_seeds,
        first_seed=first_seed,
        alpha=alpha,
        epochs=epochs,
        threshold=threshold,
        backend=backend,
    )
    _show(result, plot_path)


@main.command(name="explain")
@click.option(
    "--sizes", default="3,3,1", callback=_parse_sizes, show_default=True, help="Layer sizes."
)
@click.option("--seed", default=1, show_default=True, help="Seed of the book initialisation.")
@click.option("--alpha", default=0.2, show_default=True, help="Learning rate.")
@click.option(
    "--data",
    type=click.Choice(["nonlinear", "linear"]),
    default="nonlinear",
    show_default=True,
    help="The streetlights to take the row from.",
)
@click.option(
    "--row", default="0", show_default=True, help="Row(s): 0, or 0:2 for a mini-batch of two."
)
@click.option(
    "--activation",
    type=click.Choice(list(Activation.labels())),
    default=Activation.RELU.label,
    show_default=True,
)
@click.option(
    "--convention",
    type=click.Choice(list(CONVENTIONS)),
    default="book",
    show_default=True,
    help="book: delta = layer - goal, -=; other: goal - layer, +=; both: both, compared.",
)
@click.option("--digits", default=5, show_default=True, help="Decimals printed.")
@backend_option
@_user_errors_as_click
def explain_command(
    sizes: tuple[int, ...],
    seed: int,
    alpha: float,
    data: str,
    row: str,
    activation: str,
    convention: str,
    digits: int,
    backend: str | None,
) -> None:
    """Print one step of backpropagation with every number plugged in (default: the book's
    program 4, seed 1, [3, 3, 1], alpha 0.2, row 0 of the nonlinear streetlights)."""
    X, y = datasets.streetlights("linear" if data == "linear" else "nonlinear")
    if ":" in row:
        start, stop = (int(p) if p else None for p in row.split(":", 1))
        rows = slice(start, stop)
    else:
        index = int(row)
        rows = slice(index, index + 1 if index != -1 else None)
    picked_X, picked_y = X[rows], y[rows]
    if len(picked_X) == 0:
        raise ValueError(f"--row {row} selects no row of the {len(X)} streetlights")
    net = Network(sizes, seed=seed, activation=activation)
    click.echo(
        explanation(
            net,
            picked_X,
            picked_y,
            alpha=alpha,
            convention=convention,  # type: ignore[arg-type]
            digits=digits,
            backend=backend,
        )
    )


# grids (issue 11): grokprop sweep CONFIG.toml, grokprop boolean-functions
from .grid_cli import dask_executor, sweep_command  # after the group exists

main.add_command(sweep_command)
_BOOLEAN = experiments.BOOLEAN_FUNCTIONS_DEFAULTS


@main.command(name="boolean-functions")
@seeds_option(_BOOLEAN.n_seeds)
@first_seed_option
@click.option("--alpha", default=_BOOLEAN.alpha, show_default=True, help="Learning rate.")
@click.option("--epochs", default=_BOOLEAN.epochs, show_default=True, help="Epochs per network.")
@click.option("--max-width", default=_BOOLEAN.max_width, show_default=True, help="Widths 0..this.")
@threshold_option
@backend_option
@click.option("--workers", type=click.IntRange(min=1), default=None, help="A local Dask cluster.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler.")
@click.option("--out", type=click.Path(), default=None, help="Also stream the rows to Parquet.")
@plot_option
@_user_errors_as_click
def boolean_functions(
    n_seeds: int,
    first_seed: int,
    alpha: float,
    epochs: int,
    max_width: int,
    threshold: float,
    backend: str | None,
    workers: int | None,
    scheduler: str | None,
    out: str | None,
    plot_path: str | None,
) -> None:
    """Every boolean function of three lights at hidden widths 0..8: the fraction of seeds
    that learn it (the chapter's training), as a table and a heat map (--plot)."""
    with dask_executor(scheduler, workers) as executor:
        result = experiments.boolean_functions(
            n_seeds,
            first_seed=first_seed,
            alpha=alpha,
            epochs=epochs,
            max_width=max_width,
            threshold=threshold,
            backend=backend,
            executor=executor,
            out=out,
        )
    _show(result, plot_path)


# -- grokprop explore (issue 13): the explorer as a local web page ---------------------------
def _register_explore() -> None:
    from .explorer._serve import explore_command

    main.add_command(explore_command)


_register_explore()
