"""The run report: ``report.html``, one self-contained page of tables and figures.

:func:`build_report` returns the page; :func:`write_report` writes it atomically. The numbers
behind the figures come from small pure functions in :mod:`spirallab.report.stats`.
"""

from __future__ import annotations

from spirallab.report.html import build_report, write_report
from spirallab.report.stats import phase_shares

__all__ = ["build_report", "phase_shares", "write_report"]
