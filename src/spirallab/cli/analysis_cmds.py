"""Commands that analyse a finished sweep: ``sensitivity`` and ``discover``."""

from __future__ import annotations
