"""Shared fixtures: where the real recordings live, and skipping when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
PROTOCOLS_JSON = SHARED / "benchmarks" / "protocols.json"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it are skipped when it is absent."""
    if not (DATA / "TESS").is_dir() or not (DATA / "RAVDESS").is_dir():  # both or skip
        pytest.skip("../shared/data (TESS and RAVDESS) is not present")
    return DATA
