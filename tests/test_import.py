"""``import grokprop`` stays light: the heavy optional pieces load only when used."""

from __future__ import annotations

import subprocess
import sys

# what a plain import (and choosing the default backend) must not load, and what needs it
HEAVY = {
    "numba": "the numba backend",
    "matplotlib": "figures (grokprop[plot])",
    "click": "the command line",
    "grokprop.cli": "the command line",
    "pyarrow": "grids (grokprop[parquet])",
    "dask": "grids on a cluster (grokprop[dask])",
    "distributed": "grids on a cluster (grokprop[dask])",
}


def test_import_and_backend_choice_load_nothing_heavy() -> None:
    code = (
        "import sys, grokprop, grokprop.plot; grokprop.get_backend(); "
        f"print(sorted(set({sorted(HEAVY)!r}) & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", (
        f"imported: {out.stdout.strip()} (see HEAVY for who needs them)"
    )
