"""The interactive explorer (the optional ``grokprop[explore]``): :func:`explore` in Jupyter,
``grokprop explore`` as a local web page (Voilà serving ``explorer.ipynb``).

ipywidgets is imported when an explorer is made, never by ``import grokprop``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..setups import Setup

if TYPE_CHECKING:
    from ._widgets import Explorer

__all__ = ["MISSING_EXTRA", "SETUP_ENV", "explore", "notebook_path"]

MISSING_EXTRA = (
    "the explorer needs ipywidgets (and matplotlib; Voilà for `grokprop explore`): "
    'pip install "grokprop[explore]"'
)
#: ``grokprop explore --setup FILE`` hands the served page its setup in this variable.
SETUP_ENV = "GROKPROP_EXPLORE_SETUP"


def explore(
    setup: Setup | dict[str, Any] | str | None = None, *, backend: str | None = None
) -> Explorer:
    """The explorer, for a notebook cell: ``gp.explore()`` (the book's program 5) or
    ``gp.explore(setup)`` with a :class:`~grokprop.setups.Setup`, its document or its JSON.

    Without a setup, the one in the environment variable ``GROKPROP_EXPLORE_SETUP`` (JSON)
    if set. ``backend`` is the one used first (switchable in the explorer).
    """
    import os

    try:
        from ._widgets import Explorer
    except ImportError as exc:
        raise ImportError(MISSING_EXTRA) from exc
    if setup is None and os.environ.get(SETUP_ENV):
        setup = os.environ[SETUP_ENV]
    return Explorer(None if setup is None else Setup.coerce(setup), backend=backend)


def notebook_path() -> Path:
    """The notebook ``grokprop explore`` serves (package data of grokprop)."""
    from importlib import resources

    return Path(str(resources.files(__package__) / "explorer.ipynb"))
