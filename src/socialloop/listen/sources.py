"""Sources: the named places posts come from (a connector and its config), their checkpoints
and the outcome of their last run, stored in the ``sources`` table.

File imports and the simulator register sources too (``store.ensure_source``); only sources
whose connector is a live one (``listen.connectors.CONNECTORS``) are polled by ``listen``.
The checkpoint is written by :func:`save_checkpoint` inside the transaction that stores the
page it follows (see ``listen.live``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from socialloop.errors import AlreadyExists, InvalidValue, NotFound
from socialloop.store import Store
from socialloop.store.schema import import_runs, posts, sources

__all__ = [
    "Source",
    "add_source",
    "get_source",
    "list_sources",
    "record_outcome",
    "remove_source",
    "reset_checkpoint",
    "save_checkpoint",
    "set_enabled",
]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class Source:
    """One row of ``sources``; ``posts`` is how many stored posts came from it (when asked)."""

    id: int
    name: str
    connector: str
    config: dict[str, Any]
    checkpoint: dict[str, Any] | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    posts: int | None = None

    @property
    def live(self) -> bool:
        """Whether a live connector polls this source (files and the simulator do not)."""
        from socialloop.listen.connectors import CONNECTORS

        return self.connector in CONNECTORS

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connector": self.connector,
            "config": self.config,
            "checkpoint": self.checkpoint,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "posts": self.posts,
        }


def _row(row: Any, count: int | None = None) -> Source:
    return Source(
        id=int(row.id),
        name=row.name,
        connector=row.connector,
        config=dict(row.config or {}),
        checkpoint=dict(row.checkpoint) if row.checkpoint else None,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_run_at=row.last_run_at,
        last_status=row.last_status,
        last_error=row.last_error,
        posts=count,
    )


def add_source(store: Store, name: str, connector: str, config: Mapping[str, Any]) -> Source:
    """Register a live source; its config is validated by the connector first."""
    from socialloop.listen.connectors import validate_config

    if not _NAME_RE.match(name):
        raise InvalidValue(
            f"source name {name!r} is not valid: use letters, digits and _ . : - "
            "(up to 64 characters, starting with a letter or digit)"
        )
    valid = validate_config(connector, config)
    now = _now()
    with store.begin() as conn:
        if conn.execute(select(sources.c.id).where(sources.c.name == name)).first():
            raise AlreadyExists(f"source {name!r} already exists")
        conn.execute(
            insert(sources).values(
                name=name,
                connector=connector,
                config=valid,
                checkpoint=None,
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        )
    return get_source(store, name)


def get_source(store: Store, name: str, *, count: bool = False) -> Source:
    with store.begin() as conn:
        row = conn.execute(select(sources).where(sources.c.name == name)).first()
        if row is None:
            raise NotFound(f"no source named {name!r}")
        n = None
        if count:
            n = int(
                conn.execute(
                    select(func.count()).select_from(posts).where(posts.c.source_id == row.id)
                ).scalar_one()
            )
        return _row(row, n)


def list_sources(store: Store, *, count: bool = False) -> list[Source]:
    with store.begin() as conn:
        counts: dict[int, int] = {}
        if count:
            stmt = select(posts.c.source_id, func.count()).group_by(posts.c.source_id)
            counts = {int(s): int(n) for s, n in conn.execute(stmt) if s is not None}
        rows = conn.execute(select(sources).order_by(sources.c.name))
        return [_row(r, counts.get(int(r.id), 0) if count else None) for r in rows]


def remove_source(store: Store, name: str) -> None:
    """Forget a source; the posts it brought stay (their ``source_id`` becomes empty)."""
    src = get_source(store, name)
    with store.begin() as conn:
        conn.execute(update(posts).where(posts.c.source_id == src.id).values(source_id=None))
        conn.execute(
            update(import_runs).where(import_runs.c.source_id == src.id).values(source_id=None)
        )
        conn.execute(delete(sources).where(sources.c.id == src.id))


def save_checkpoint(conn: Connection, source_id: int, checkpoint: Mapping[str, Any]) -> None:
    """Store a checkpoint inside the caller's transaction (the one storing its page)."""
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(checkpoint=dict(checkpoint), updated_at=_now())
    )


def reset_checkpoint(store: Store, name: str) -> None:
    """Forget where a source stopped: its next run starts over (stored posts are upserted)."""
    src = get_source(store, name)
    with store.begin() as conn:
        conn.execute(
            update(sources).where(sources.c.id == src.id).values(checkpoint=None, updated_at=_now())
        )


def set_enabled(store: Store, name: str, enabled: bool) -> None:
    src = get_source(store, name)
    with store.begin() as conn:
        conn.execute(update(sources).where(sources.c.id == src.id).values(enabled=enabled))


def record_outcome(store: Store, source_id: int, status: str, error: str | None = None) -> None:
    """The outcome of a run: ``ok``, ``error`` or ``interrupted``, and the error's message."""
    with store.begin() as conn:
        conn.execute(
            update(sources)
            .where(sources.c.id == source_id)
            .values(last_run_at=_now(), last_status=status, last_error=error)
        )
