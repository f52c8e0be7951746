"""Natural sort order for speaker ids and file names: ``"2"`` before ``"10"``,
``"Actor_2"`` before ``"Actor_10"``."""

from __future__ import annotations

import re

__all__ = ["natural_key"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(value: object) -> tuple[str | int, ...]:
    """Sort key: digit runs compare as numbers, the rest case-insensitively."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in _DIGITS.split(str(value)))
