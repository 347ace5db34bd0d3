"""Type aliases shared by every module (no runtime cost: nothing here computes)."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = ["FloatArray", "FloatDType"]

FloatArray: TypeAlias = NDArray[np.floating]
"""A float32 or float64 array (the network's dtype)."""
FloatDType: TypeAlias = "np.dtype[np.floating]"
"""``np.dtype('float32')`` or ``np.dtype('float64')``."""
