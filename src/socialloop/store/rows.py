"""Batch row writes that work the same on SQLite and PostgreSQL, for every writer of the store.

Rows travel as tuples (or dicts) holding what the driver binds (:func:`row_codec`): on SQLite
they go straight to the driver's executemany with the statement compiled once (no per-row
parameter processing); on PostgreSQL a big batch goes through ``COPY``
(:mod:`socialloop.store.pg_copy`) and a small one through SQLAlchemy. A conflict rule is a
function applying the ON CONFLICT clause to an insert (:func:`do_nothing`, :func:`plain` or a
caller's own), so the same rule serves both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, DateTime, func, select
from sqlalchemy.dialects import postgresql, sqlite

from socialloop.store.pg_copy import Conflict, copy_upsert, worth_copying

CHUNK = 500  # ids per IN (...) lookup


def naive_utc(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def one_writer(conn: Connection, key: int) -> None:
    """Make the writers that call this with ``key`` run one at a time, as every writer does
    on SQLite: on PostgreSQL, wait for the transaction-level advisory lock ``key`` (held until
    ``conn``'s transaction ends). Nothing to do on SQLite, whose write lock already does it.
    Take it first in the transaction, and never while this thread holds another transaction
    that took the same key."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(key)))


def dialect_insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _sqlite_converters(table: Any, keys: Sequence[str]) -> list[Any]:
    """Per key, a function turning a Python value into what SQLAlchemy's SQLite types store
    (so Core reads it back), or None where the driver takes the value as it is."""

    def dt(value: Any) -> Any:
        return None if value is None else value.isoformat(" ", "microseconds")

    def js(value: Any) -> Any:
        return None if value is None else orjson.dumps(value).decode("utf-8")

    out: list[Any] = []
    for key in keys:
        col = table.c.get(key)
        if col is not None and isinstance(col.type, DateTime):
            out.append(dt)
        elif col is not None and isinstance(col.type, JSON):
            out.append(js)
        else:
            out.append(None)
    return out


def execute_many(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(stmt, rows)``, with a fast path on SQLite.

    On SQLite the statement is compiled once and the rows go to the driver's executemany as
    tuples, skipping SQLAlchemy's per-row parameter processing (~40 % of import time).
    Values are bound, never spliced into SQL.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, rows)
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    order = list(compiled.positiontup or [])
    convs = _sqlite_converters(stmt.table, order)
    pairs = list(zip(order, convs, strict=True))
    if all(c is None for c in convs):
        params = [tuple([row[k] for k in order]) for row in rows]
    else:
        params = [tuple([row[k] if c is None else c(row[k]) for k, c in pairs]) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Plain inserts of ``rows`` (dicts with the same keys, Python values) into ``table``:
    through COPY on PostgreSQL for a big batch, else :func:`execute_many`."""
    if not rows:
        return
    if worth_copying(conn, len(rows)):
        keys = list(rows[0])
        copy_upsert(conn, table, keys, [tuple([row[k] for k in keys]) for row in rows], plain)
    else:
        execute_many(conn, table.insert(), rows)


def _compiled_sql(conn: Connection, stmt: Any, keys: Sequence[str]) -> tuple[str, list[int] | None]:
    """SQLite: the SQL of ``stmt`` for parameters ``keys`` and, when the driver wants them in
    another order, the positions to take them in (None: as given)."""
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
    order = list(compiled.positiontup or [])
    if order == list(keys):
        return str(compiled), None
    index = {k: i for i, k in enumerate(keys)}
    return str(compiled), [index[k] for k in order]


def execute_rows(
    conn: Connection, stmt: Any, keys: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``conn.execute(stmt, rows)`` for rows given as tuples in ``keys`` order, holding values
    as the dialect stores them (see :func:`row_codec`). On SQLite they go straight to the
    driver's executemany: no per-row dict, no per-row parameter processing."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    sql, positions = _compiled_sql(conn, stmt, keys)
    if positions is not None:
        rows = [tuple([row[i] for i in positions]) for row in rows]
    conn.exec_driver_sql(sql, rows)


def dt_text(dt: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite ``DateTime`` stores it (naive UTC,
    ``YYYY-MM-DD HH:MM:SS.ffffff``), in one C call for the usual UTC or naive value."""
    tz = dt.tzinfo
    if tz is not None and tz is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(" ", "microseconds")[:26]


def json_text(value: Any) -> str | None:
    if value is None:
        return None
    if not value and type(value) is list:
        return "[]"
    return orjson.dumps(value).decode("utf-8")


def _identity(value: Any) -> Any:
    return value


def row_codec(conn: Connection) -> tuple[Any, Any]:
    """(datetime, JSON) converters to the values the driver binds: text on SQLite (what
    SQLAlchemy's types would store, so Core reads them back), Python objects elsewhere."""
    if conn.dialect.name == "sqlite":
        return dt_text, json_text
    return naive_utc, _identity


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def plain(ins: Any) -> Any:
    """The conflict rule of a plain insert (none)."""
    return ins


def do_nothing(ins: Any) -> Any:
    """The conflict rule that keeps the stored row."""
    return ins.on_conflict_do_nothing()


def upsert_rows(
    conn: Connection,
    table: Any,
    keys: Sequence[str],
    rows: list[tuple[Any, ...]],
    conflict: Conflict,
) -> None:
    """Insert ``rows`` (tuples in ``keys`` order, values as :func:`row_codec` makes them) into
    ``table`` with ``conflict`` applied, in the rows' order: through COPY on PostgreSQL for a
    big batch, else one executemany (:func:`execute_rows`)."""
    if worth_copying(conn, len(rows)):
        copy_upsert(conn, table, keys, rows, conflict)
    else:
        execute_rows(conn, conflict(dialect_insert(conn, table)), keys, rows)


def as_utc(dt: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (naive ones are UTC)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def utc_now() -> datetime:
    """Now in UTC, naive, as timestamps are stored."""
    return datetime.now(UTC).replace(tzinfo=None)
