"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.audit.tables import AuditEntry

PAGE_SIZE = 50


async def write_audit(action: str, *, actor=None, target_type: str = "", target_id: Any = "", summary: str = "", ip: str = "", details: dict | None = None) -> None:
    await AuditEntry.insert(
        AuditEntry(
            action=action[:80],
            actor=actor.id if actor else None,
            actor_name=actor.username if actor else "system",
            target_type=target_type[:40],
            target_id=str(target_id)[:64],
            summary=summary[:300],
            ip=ip[:45],
            details=details or {},
        )
    )


async def search_audit(*, actor: str = "", action: str = "", since: datetime | None = None, until: datetime | None = None, page: int = 1) -> tuple[list[dict], int]:
    """Entries newest first, filtered; returns (rows, total count)."""
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor_name == actor.strip().lower())
    if action:
        conditions.append(AuditEntry.action.like(f"{action.strip()}%"))
    if since:
        conditions.append(AuditEntry.created_at >= since)
    if until:
        conditions.append(AuditEntry.created_at < until)
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    count = AuditEntry.count()
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    return await query, await count
