"""Faults for tests/test_grid.py, importable by worker processes (tests/ is on sys.path,
which process pools and Dask's spawned workers inherit)."""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def die_once_on(marker: str, victim: int, fn: Callable[..., Any], task: Any) -> Any:
    """Run ``fn(task)``, except that the first worker to get chunk ``victim`` exits at once
    (``os._exit``: no cleanup, as a killed process), leaving ``marker`` behind."""
    if task.index == victim:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass  # the chunk's second attempt
        else:
            os._exit(17)
    return fn(task)


class KillingExecutor(cf.Executor):
    """Submits to ``inner``; the worker that takes chunk ``victim`` first dies."""

    def __init__(self, inner: cf.Executor, marker: str, victim: int) -> None:
        self.inner, self.marker, self.victim = inner, marker, victim

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        return self.inner.submit(die_once_on, self.marker, self.victim, fn, *args)


def interrupted_after(
    chunks: int,
) -> Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]:
    """A map-like executor that raises KeyboardInterrupt (a Ctrl-C) after ``chunks`` results."""

    def run(fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        for done, task in enumerate(tasks):
            if done == chunks:
                raise KeyboardInterrupt
            yield fn(task)

    return run
