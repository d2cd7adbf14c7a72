"""Open a database engine for a store URL and bring its schema up to date.

SQLite gets WAL, foreign keys, ``synchronous=NORMAL`` and a busy timeout on every connection.
Migrations are Alembic revisions in ``store/migrations/versions``; they are applied when a
store is opened and recorded in ``alembic_version``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from socialloop.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

ConnectHook = Callable[[Any], None]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _lower(value: Any) -> Any:
    """SQL ``lower()`` for SQLite connections: text lower-cased as Python does (every
    letter, not ASCII only); other values as SQLite's own lower() gives them."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").lower()
    return value


def make_engine(url: str, *, on_connect: list[ConnectHook] | None = None) -> Engine:
    """An engine for ``url``; ``on_connect`` hooks receive each new DBAPI connection."""
    try:
        engine = create_engine(
            url, json_serializer=_json_dumps, json_deserializer=orjson.loads, future=True
        )
    except (SQLAlchemyError, ValueError) as exc:
        raise StoreError(f"cannot open database {url!r}: {exc}") from exc
    hooks = list(on_connect or [])
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()
            # SQLite's own lower() folds ASCII letters only: "Éclair" stayed "Éclair", so a
            # brand named so was not found by name; Python's folds every letter, as
            # PostgreSQL's lower() does in a UTF-8 database
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
            for hook in hooks:
                hook(dbapi_conn)

    else:

        @event.listens_for(engine, "connect")
        def _hooks(dbapi_conn: Any, _record: Any) -> None:
            for hook in hooks:
                hook(dbapi_conn)

    return engine


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> list[str]:
    """Apply pending migrations; returns the revisions that were applied (empty if none)."""
    try:
        current = current_revision(engine)
        head = head_revision()
        if current == head:
            return []
        script = ScriptDirectory.from_config(alembic_config())
        pending = [rev.revision for rev in script.iterate_revisions(head, current)]
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return list(reversed(pending))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store: {exc}") from exc
