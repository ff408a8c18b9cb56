"""The protection planner (issue 12): encrypted local case files, risk assessment, matcher.

A CLI (``spirallab protect ...``, docs/protect.md) over pure functions::

    from spirallab.act.protect import assess, load_catalogue, match, open_store

    store = open_store(path, passphrase, user="desk-1")   # decrypts in memory only
    case = store.vault.cases["case-1"]
    a = assess(case, on=datetime.date.today())            # qualitative risk with reasoning
    options = match(case, load_catalogue(), a, on=a.on)   # mechanisms that fit, with limits
"""

from __future__ import annotations

from spirallab.act.protect.catalogue import Catalogue, Mechanism, load_catalogue
from spirallab.act.protect.drafts import draft
from spirallab.act.protect.export import redacted_report
from spirallab.act.protect.matcher import Options, country_phase, match
from spirallab.act.protect.records import Case, CaseImport, Vault
from spirallab.act.protect.risk import Assessment, assess
from spirallab.act.protect.store import CaseStore, create, open_store, transact, wipe

__all__ = [
    "Assessment",
    "Case",
    "CaseImport",
    "CaseStore",
    "Catalogue",
    "Mechanism",
    "Options",
    "Vault",
    "assess",
    "country_phase",
    "create",
    "draft",
    "load_catalogue",
    "match",
    "open_store",
    "redacted_report",
    "transact",
    "wipe",
]
