"""The experiments' text tables: fixed-width columns and the number formats they use."""

from __future__ import annotations

from collections.abc import Sequence

from numpy.typing import ArrayLike

from ._common import QUANTILES, order_statistics


def columns(
    rows: Sequence[Sequence[str]],
    left: int = 1,
    footer: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[str]:
    """Rows of cells as aligned text: the first ``left`` columns flush left, the rest right.

    A ``footer`` row is a label spanning the leading columns, then cells for the last ones.
    """
    n = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(n)]
    for _, cells in footer:  # widen the last columns for footer cells if needed
        for i, cell in zip(range(n - len(cells), n), cells):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str], first: int) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
            for i, cell in zip(range(first, n), cells)
        )

    lines = [line(row, 0).rstrip() for row in rows]
    for label, cells in footer:
        span = sum(widths[: n - len(cells)]) + 2 * (n - len(cells) - 1)
        lines.append(f"{label.ljust(span)}  {line(cells, n - len(cells))}".rstrip())
    return lines


def g(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits."""
    return f"{value:.{digits}g}"


def percent(fraction: float) -> str:
    """``0.3783`` as ``"37.83%"``."""
    return f"{100 * fraction:.2f}%"


def signed(count: int) -> str:
    """``+3``, ``-1``, or ``0`` without a sign."""
    return f"{count:+d}" if count else "0"


def quantile_cells(errors: ArrayLike) -> list[str]:
    """The :data:`QUANTILES` of final errors as cells (a diverged network shows as inf)."""
    return [g(q) for q in order_statistics(errors, QUANTILES)]


def seed_span(seeds: range) -> str:
    """``"seed 4"`` or ``"seeds 0..299"``."""
    return f"seed {seeds.start}" if len(seeds) == 1 else f"seeds {seeds.start}..{seeds[-1]}"
