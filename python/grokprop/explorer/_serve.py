"""``grokprop explore``: the explorer as a local web page, served by Voilà (docs/design.md,
"The explorer").

Voilà runs the package's ``explorer.ipynb`` on a kernel per visitor and shows only its
widgets. It runs as a child process in a session of its own, so the terminal's Ctrl-C
reaches this command only; this command then stops Voilà with SIGTERM, which makes it shut
its kernels down and exit (killed if it has not after a while).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

import click

from . import MISSING_EXTRA, SETUP_ENV, notebook_path

#: How long Voilà may take to listen (it starts in a few seconds; a cold disk is slower).
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port(host: str) -> int:
    """A TCP port nothing listens on at ``host`` now (the kernel's choice)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def voila_command(notebook: Path, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",  # the port asked for, or a clear failure
        "--Voila.log_level=WARN",
        "--show_tracebacks=True",  # a local page for one user: errors help, nothing leaks
    ]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # Voilà shuts its kernels down, then exits
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@click.command(name="explore")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (the default is reachable from this machine only).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one)."
)
@click.option(
    "--setup",
    "setup_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Start from this setup document (JSON, as the explorer's 'export setup' writes).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def explore_command(host: str, port: int, setup_path: str | None, open_browser: bool) -> None:
    """Serve the interactive explorer as a local web page (Voilà; Ctrl-C stops it)."""
    import importlib.util

    for module in ("voila", "ipywidgets", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            raise click.ClickException(MISSING_EXTRA)
    env = os.environ.copy()
    if setup_path is not None:
        from ..setups import Setup

        try:
            env[SETUP_ENV] = Setup.load(setup_path).to_json()
        except (ValueError, TypeError) as exc:
            raise click.ClickException(f"{setup_path}: {exc}") from exc
    port = port or free_port(host)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops Voilà too, as Ctrl-C does
    process = subprocess.Popen(
        voila_command(notebook_path(), host, port),
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # the terminal's Ctrl-C is ours: we stop Voilà cleanly
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(host, port):
            if process.poll() is not None:
                raise click.ClickException(
                    f"Voilà exited with status {process.returncode} before serving on port "
                    f"{port} (see its messages above)"
                )
            if time.monotonic() > deadline:
                raise click.ClickException(f"Voilà did not listen on port {port} in time")
            time.sleep(0.1)
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        click.echo(f"grokprop explorer: {url}  (Ctrl-C stops it)")
        sys.stdout.flush()
        if open_browser:
            webbrowser.open(url)
        status = process.wait()
        if status:
            raise click.ClickException(f"Voilà exited with status {status}")
    except KeyboardInterrupt:
        click.echo("stopping the explorer ...")
    finally:
        _stop(process)
    click.echo("explorer stopped")
