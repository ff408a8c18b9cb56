"""Commands of the Observe pillar that code phases: ``code`` and ``decoupling`` (issue 3)."""

from __future__ import annotations
