"""Draw the README's figures into docs/ (SVG, matplotlib): the book's program-4 network and
its one iteration of backpropagation.

Usage: python scripts/make_figures.py [OUT_DIR]   (default: docs/ beside this script)

The SVGs are reproducible (no date, fixed ids), so re-running this leaves them unchanged
unless the figures' code or matplotlib changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grokprop as gp
from grokprop import figures


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = gp.datasets.streetlights("nonlinear")
    net = gp.Network([3, 3, 1], seed=1)  # the book's program 4
    written = {
        "network.svg": net.draw(numbers=True, title="Network([3, 3, 1], seed=1): the weights"),
        "backprop_step.svg": net.copy().step(X[0:1], y[0:1], alpha=0.2).draw(),
        "streetlights.svg": figures.streetlights_figure(*gp.datasets.streetlights()),
    }
    for name, fig in written.items():
        path = out / name
        path.write_text(figures.to_svg(fig) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs"
    )
