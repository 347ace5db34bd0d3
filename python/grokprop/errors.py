"""Exceptions grokprop raises beyond the built-in ``ValueError`` / ``TypeError``."""

from __future__ import annotations

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
