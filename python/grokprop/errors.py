"""Exceptions grokprop raises beyond the built-in ``ValueError`` / ``TypeError``.

Both survive ``pickle``, so one raised in a worker process (a ``ProcessPoolExecutor``,
``multiprocessing``) reaches the parent intact.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BackendUnavailableError", "DivergenceError"]


class BackendUnavailableError(ImportError):
    """A known backend cannot be used here (numba not installed, extension not built)."""


class DivergenceError(FloatingPointError):
    """Training produced a non-finite error or weight; the network kept its old weights.

    ``epoch`` is the 0-based index of the epoch that diverged (the index its error would
    have in ``History.errors``; always 0 for ``Network.step``), ``error`` that epoch's error.
    """

    def __init__(self, epoch: int, error: float) -> None:
        self.epoch = epoch
        self.error = error
        super().__init__(
            f"training diverged in epoch {epoch} (epoch error {error!r}); the network keeps "
            "the weights it had before this call — try a smaller alpha"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle rebuilds an exception from its args, which hold the message here: rebuild
        # from (epoch, error) instead, and keep the rest of the state (e.g. __notes__)
        return (type(self), (self.epoch, self.error), self.__dict__)
