"""Fixtures for the data-layer tests: sources from the real folder, harmonised once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spirallab.data import DataSources
from spirallab.data.harmonise import SourceResult, harmonise_all
from spirallab.data.panel import build_panel


@pytest.fixture(scope="session")
def real_sources(shared_data: Path) -> DataSources:
    return DataSources.from_dir(shared_data)


@pytest.fixture(scope="session")
def harmonised(real_sources: DataSources) -> dict[str, SourceResult]:
    return harmonise_all(real_sources)


@pytest.fixture(scope="session")
def real_panel(real_sources: DataSources, harmonised: dict[str, SourceResult]) -> pd.DataFrame:
    return build_panel(real_sources, harmonised)
