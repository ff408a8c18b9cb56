"""Commands of the Observe pillar: ``data check``, ``code``, ``decoupling`` (issue 3)."""

from __future__ import annotations
