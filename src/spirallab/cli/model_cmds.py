"""Commands of the Simulate pillar: ``run``, ``schema``, ``scenarios``, ``explain``."""

from __future__ import annotations
