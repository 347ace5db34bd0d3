"""Ctrl-C during compiled training (docs/design.md, "Interrupts").

Python runs signal handlers in the main thread between bytecodes, so while the main thread
sits in a compiled loop a Ctrl-C waits for the loop to end. A long compiled run is
therefore started in a worker thread (the loops release the GIL) while the main thread
waits in short, interruptible joins. On ``KeyboardInterrupt`` (or any exception) the main
thread sets the run's *stop flag*, a one-byte array the compiled loops read once per row
(per block of networks in a sweep), waits for the worker to return, and re-raises; the
caller restores the weights it saved (the divergence transaction).

A short run (less than :data:`INLINE_SECONDS` by the backend's cost model) runs inline:
a thread would cost more than the run, and Ctrl-C then waits at most that long.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["INLINE_SECONDS", "StopFlag", "new_flag", "run"]

#: Runs expected to take less than this run on the calling thread.
INLINE_SECONDS = 0.05
#: How often the waiting main thread wakes (a join with a timeout is interruptible
#: everywhere; a plain join is not on every platform).
_POLL_SECONDS = 0.02

StopFlag = NDArray[np.uint8]
T = TypeVar("T")


def new_flag() -> StopFlag:
    """A fresh, cleared stop flag."""
    return np.zeros(1, dtype=np.uint8)


def run(work: Callable[[StopFlag], T], *, expected_seconds: float) -> T:
    """``work(flag)``, in a worker thread if it is long and this is the main thread."""
    flag = new_flag()
    if (
        expected_seconds < INLINE_SECONDS
        or threading.current_thread() is not threading.main_thread()
    ):
        return work(flag)
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()  # not Thread.join: an interrupted join can mark a thread stopped

    def target() -> None:
        try:
            outcome.append(work(flag))
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the main thread below
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="grokprop-train", daemon=True).start()
    try:
        while not done.wait(_POLL_SECONDS):
            pass
    except BaseException:
        flag[0] = 1  # the loop stops at its next row; wait for it to leave the weights
        _wait_through_interrupts(done)
        raise
    if failure:
        raise failure[0]
    return outcome[0]


def _wait_through_interrupts(done: threading.Event) -> None:
    """Wait for ``done`` even if more Ctrl-Cs come: the worker is about to stop."""
    while True:
        try:
            if done.wait(_POLL_SECONDS):
                return
        except KeyboardInterrupt:  # noqa: PERF203 -- each Ctrl-C must be caught, in the loop
            continue
