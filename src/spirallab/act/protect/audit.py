"""The audit log kept inside the encrypted case file: who read or changed which record, when.

Entries hold the local user label, the action (the command), the record id and the time in UTC;
never any content. They are added by :meth:`~spirallab.act.protect.store.CaseStore.log` as part
of the same encrypted write as the change, so a log entry exists exactly when the action did.
"""

from __future__ import annotations

from spirallab.act.protect.records import AuditEntry


def format_log(entries: list[AuditEntry]) -> list[str]:
    """One line per entry, oldest first: time, user, action, record."""
    return [f"{e.time.isoformat()}  {e.user}  {e.action}" + (f"  {e.record}" if e.record else "")
            for e in entries]
