"""PostgreSQL bulk upserts: COPY into a temporary staging table, then one INSERT ... SELECT.

Sending a batch as an executemany costs PostgreSQL one statement execution (and the client
one round trip in the pipeline) per row; an import writes ~7 rows per post that way. Here a
batch goes to the server in one ``COPY ... FROM STDIN`` into a session-local staging table
with the target's column types (no constraints, no defaults), and one ``INSERT INTO target
(...) SELECT ... FROM staging ORDER BY ...`` applies it with the caller's ``ON CONFLICT``
clause, so idempotence and "newer data wins" stay exactly as in the row-by-row statement.

Rows are tuples in ``keys`` order holding what the row-by-row path binds (naive UTC
datetimes, JSON columns as Python objects, which are serialised here). They are applied in
their order (``ORDER BY`` their position): new rows get their keys in that order, as on SQLite,
and a caller that sorts its rows (authors, by id) makes concurrent writers take row locks in
the same order, so they do not deadlock. :mod:`socialloop.store.rows` decides when a batch is
worth copying.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Connection, MetaData, Table, select
from sqlalchemy.dialects import postgresql

#: Batches smaller than this go through the ordinary executemany (COPY's fixed cost: a
#: staging table and two extra statements).
COPY_MIN_ROWS = 64

Conflict = Callable[[Any], Any]
"""Applies the ON CONFLICT clause to a ``postgresql.insert(table).from_select(...)``."""


def worth_copying(conn: Connection, rows: int) -> bool:
    """Whether a batch of ``rows`` rows should go through :func:`copy_upsert`: on PostgreSQL,
    from :data:`COPY_MIN_ROWS` rows."""
    return conn.dialect.name == "postgresql" and rows >= COPY_MIN_ROWS


def _staging(conn: Connection, table: Table, keys: Sequence[str]) -> Table:
    """The session's staging table for ``table`` and ``keys``: a temporary table with those
    columns and their types (no constraints, no defaults), created on first use, emptied at
    every commit (and after each use)."""
    name = f"_stage_{table.name}_{zlib.crc32(','.join(keys).encode()):08x}"  # one per key set
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(k) for k in keys)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ON COMMIT DELETE ROWS AS "
        f"SELECT {cols}, 0::bigint AS _ord FROM {quote(table.name)} WITH NO DATA"
    )
    columns = [Column(k, table.c[k].type) for k in keys]
    return Table(name, MetaData(), *columns, Column("_ord", BigInteger))


def copy_upsert(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    conflict: Conflict,
) -> None:
    """Write ``rows`` (tuples in ``keys`` order) to ``table`` through COPY and one
    ``INSERT ... SELECT`` with ``conflict`` applied, in the rows' order, in the caller's
    transaction."""
    from socialloop.store.rows import json_text  # (rows imports this module)

    if not rows:
        return
    json_cols = {i for i, k in enumerate(keys) if isinstance(table.c[k].type, JSON)}
    if json_cols:
        rows = [
            tuple(json_text(v) if i in json_cols else v for i, v in enumerate(row)) for row in rows
        ]
    stage = _staging(conn, table, keys)
    quote = conn.dialect.identifier_preparer.quote
    name = quote(stage.name)
    cols = ", ".join(quote(k) for k in keys)
    dbapi: Any = conn.connection.dbapi_connection
    with dbapi.cursor() as cur, cur.copy(f"COPY {name} ({cols}, _ord) FROM STDIN") as copy:
        for i, row in enumerate(rows):
            copy.write_row((*row, i))
    source = select(*(stage.c[k] for k in keys)).order_by(stage.c["_ord"])
    conn.execute(conflict(postgresql.insert(table).from_select(list(keys), source)))
    conn.exec_driver_sql(f"TRUNCATE {name}")
