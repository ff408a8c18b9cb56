"""Real-data fixtures shared by the phase-coder tests (coded once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def real_panel(shared_data: Path) -> pd.DataFrame:
    from spirallab.data import DataSources, load_panel

    return load_panel(DataSources.from_dir(shared_data), cache_dir=None)


@pytest.fixture(scope="session")
def coded_v2(real_panel: pd.DataFrame) -> pd.DataFrame:
    from spirallab.observe.coder import code_phases

    return code_phases(real_panel)


@pytest.fixture(scope="session")
def coded_v1(real_panel: pd.DataFrame) -> pd.DataFrame:
    from spirallab.observe.coder import RULES_V1, code_phases

    return code_phases(real_panel, rules=RULES_V1)
