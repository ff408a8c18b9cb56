"""Spiral Lab: the spiral model of human rights change, executable and testable against data."""

from __future__ import annotations

__version__ = "0.1.0"
