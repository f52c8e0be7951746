"""Option checks shared by the augmentation modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

from emoscope.audio._checks import check_number
from emoscope.errors import ConfigError

__all__ = ["check_count", "check_range", "check_rng"]


def check_rng(rng: Any) -> np.random.Generator:
    """Return ``rng`` if it is a :class:`numpy.random.Generator`; raise :class:`ConfigError`."""
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                          f"got {type(rng).__name__}")
    return rng


def check_count(name: str, value: Any, *, low: int = 0) -> int:
    """``value`` as an ``int >= low``; raise :class:`ConfigError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_range(
    name: str, value: Any, *, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """``value`` as a ``(lo, hi)`` pair of finite numbers with ``low <= lo <= hi <= high``."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ConfigError(f"{name} must be a (low, high) pair, got {value!r}")
    lo = check_number(f"{name}[0]", value[0], low=low, high=high)
    hi = check_number(f"{name}[1]", value[1], low=low, high=high)
    if lo > hi:
        raise ConfigError(f"{name} must have low <= high, got {value!r}")
    return lo, hi
