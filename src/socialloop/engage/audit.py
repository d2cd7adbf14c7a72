"""The inbox audit log: every action (who, what, when, on which item, with details), written
in the same transaction as the change it describes, and read back per item or overall.

Also the clock helpers the inbox shares: an injectable ``Clock`` returning aware UTC, and the
conversion to and from the store's naive-UTC timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from socialloop.store import Store
from socialloop.store.schema import audit_log

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(dt: datetime | None) -> datetime | None:
    """An aware datetime as the store keeps it (naive UTC)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def from_db(dt: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware UTC datetime."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    item_id: int | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "item_id": self.item_id,
            "details": self.details,
        }


def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    item_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry (inside the caller's transaction)."""
    conn.execute(
        audit_log.insert().values(
            at=to_db(at), actor=actor, action=action, item_id=item_id, details=dict(details or {})
        )
    )


def entries(
    store: Store, *, item_id: int | None = None, limit: int | None = None
) -> list[AuditEntry]:
    """Entries oldest first (of one item, or all); with ``limit``, the newest ``limit``."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc())
    if item_id is not None:
        stmt = stmt.where(audit_log.c.item_id == item_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.begin() as conn:
        rows = conn.execute(stmt).all()[::-1]
    out = []
    for r in rows:
        at = from_db(r.at)
        assert at is not None
        out.append(AuditEntry(r.id, at, r.actor, r.action, r.item_id, dict(r.details or {})))
    return out
