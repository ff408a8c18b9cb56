"""Fixtures of the protection planner's tests (helpers live in act_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from act_helpers import remember_keys, sandbox  # noqa: F401
