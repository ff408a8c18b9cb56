"""Shared fixtures: where the real reference data lives, and skipping cleanly when it does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    env = os.environ.get("SPIRALLAB_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The published data sets (``../shared/data`` or ``$SPIRALLAB_DATA``); skip if absent."""
    path = _shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set SPIRALLAB_DATA to the data folder)")
    return path
