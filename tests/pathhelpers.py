"""File-system helpers shared by the tests (importable: pytest's pythonpath has tests/)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a directory or file) not writable, even for root (chattr +i if root)."""
    mode = path.stat().st_mode
    path.chmod(stat.S_IMODE(mode) & ~0o222)
    immutable = False
    try:
        if os.access(path, os.W_OK):  # root ignores the mode
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", path], check=False).returncode:
                pytest.skip("cannot make a path read-only for this user")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", path], check=True)
        path.chmod(stat.S_IMODE(mode))
